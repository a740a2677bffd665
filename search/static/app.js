// Small enhancements; every page works without them.
// "/" focuses the search box, j/k (or arrows) move between results,
// changing mode or language re-runs the search at once.
(function () {
  "use strict";
  var box = document.getElementById("q");
  var form = box && box.form;
  if (form) {
    form.addEventListener("change", function (event) {
      if (event.target.type === "radio" && box.value.trim()) {
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }
    });
  }
  function typing(el) {
    return el && (el.isContentEditable || el.tagName === "TEXTAREA" ||
      (el.tagName === "INPUT" && el.type !== "radio"));
  }
  function move(step, event) {
    var links = Array.prototype.slice.call(document.querySelectorAll(".result h2 a"));
    var next = links.indexOf(document.activeElement) + step;
    if (document.activeElement === box) next = 0;
    if (!links.length || next < 0 || next >= links.length) return;
    event.preventDefault();
    links[next].focus();
    links[next].closest(".result").scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (typing(target)) {
      if (event.key === "Escape") {
        event.preventDefault(); // a search input would clear itself
        target.blur();
      }
      else if (event.key === "ArrowDown" && target === box) move(1, event);
      return;
    }
    var onResult = target && target.closest && target.closest(".result");
    if (event.key === "/" && box) {
      event.preventDefault();
      box.focus();
      box.select();
    } else if (event.key === "j" || (event.key === "ArrowDown" && onResult)) {
      move(1, event);
    } else if (event.key === "k" || (event.key === "ArrowUp" && onResult)) {
      move(-1, event);
    }
  });
  var passage = document.getElementById("passage");
  if (passage) {
    passage.scrollIntoView({ block: "center" });
    passage.focus({ preventScroll: true });
  }
})();
