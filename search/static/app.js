// Small enhancements; every page works without them.
// "/" focuses the search box, j/k (or arrows) move between results,
// changing mode, language or source re-runs the search at once (dates wait for
// Apply or Enter: a half-typed date is not a search).
(function () {
  "use strict";
  var box = document.getElementById("q");
  var form = box && box.form;
  if (form) {
    // Empty fields (no date, any source) stay out of the URL: it is the page's state.
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name && el.name !== "q" && el.value === "") el.disabled = true;
      });
    });
    window.addEventListener("pageshow", function () {  // back to a page left disabled
      Array.prototype.forEach.call(form.elements, function (el) { el.disabled = false; });
    });
    form.addEventListener("change", function (event) {
      var kind = event.target.type;
      if ((kind === "radio" || kind === "select-one") && box.value.trim()) {
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
