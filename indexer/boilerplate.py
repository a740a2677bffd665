"""Boilerplate in news articles: text that is about the page, not the story.

Photo credits and captions, bylines, author bios, "follow us" and subscribe lines,
bare links, "read also" links, "developing story" notices and embedded tweets are
indexed like everything else, so they compete with the story for a query: on the
seeds an author bio was the best passage of its article for "cartel", and a quoted
tweet ranked above the passage that answered. Nothing here removes text. Each
paragraph is matched against a small table of named rules (English and Spanish);
a passage gets a label when at least half of its letters lie in boilerplate
paragraphs, and the ranking decides what a label costs (demote or drop).

The unit is the paragraph (a line of the article), not the passage: a passage
often starts mid-paragraph (chunk overlap), and the paragraph is what reads as a
bio or a credit. Every rule also has a length cap: boilerplate is short, and a
long paragraph that happens to match ("... a photo published by ...") is a story.

Rules are deliberately narrow (tested on negatives: news sentences that mention a
photo, a column, Twitter, a journalist). `carries_content` separates credits and
navigation (nothing a reader searched for) from embedded tweets, which quote
someone and usually repeat what the story reports in its own words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BOILERPLATE_RULES",
    "DEFAULT_THRESHOLD",
    "BoilerplateRule",
    "BoilerplateSpan",
    "PassageBoilerplate",
    "find_boilerplate",
    "is_content_free",
    "label_passages",
    "passage_boilerplate",
]

DEFAULT_THRESHOLD = 0.5  # share of a passage's letters in boilerplate paragraphs

# A person's or an outlet's name: capitalised words, Spanish particles allowed. The
# rules are case-insensitive; `(?-i:...)` keeps the capitals meaningful here.
_NAME = (
    r"(?-i:[A-ZÁÉÍÓÚÑ“\"])[\w'’.“”\"-]*"
    r"(?:\s+(?:(?:de|del|de la|van|von|y)\s+)?(?-i:[A-ZÁÉÍÓÚÑ])[\w'’.-]*){0,4}"
)
_JOB = (
    r"(?:journalist|reporter|correspondent|editor|columnist|writer|contributor|"
    r"periodista|report[ea]r[oa]|corresponsal|editora?|columnista|escritora?|colaborador[a]?)"
)
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|"
    r"octubre|noviembre|diciembre)"
)
_TWEET_FOOTER = re.compile(
    rf"[—–-]\s*[^\n()]{{1,60}}\(@\w{{1,15}}\)\s*"
    rf"(?:{_MONTH}\s+\d{{1,2}},\s*\d{{4}}|\d{{1,2}}\s+de\s+{_MONTH}(?:\s+de)?\s+\d{{4}})",
    re.IGNORECASE,
)
# A bio opener that is really news: "X is a journalist who was kidnapped ..."
_NEWS_EVENT = re.compile(
    r"\b(?:killed|murdered|shot|kidnapped|abducted|arrested|detained|missing|threatened|"
    r"attacked|asesinad[oa]|secuestrad[oa]|desaparecid[oa]|amenazad[oa]|detenid[oa]|"
    r"atacad[oa]|baleado|herid[oa])\b",
    re.IGNORECASE,
)
_BIO_MARKER = re.compile(
    r"\b(?:has covered|covers|covering|ha cubierto|cubre|award-winning|premiad[oa]|"
    r"specializ|especializad|co-?founded|cofund|previously|anteriormente|since \d{4}|"
    r"desde \d{4}|follow (?:him|her|them)|síguel[oa]|contact|escríbel)",
    re.IGNORECASE,
)
_RELATIVE_CLAUSE = re.compile(r"\b(?:who|which|whose|que|quien|cuyo|cuya)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class BoilerplateRule:
    """One named pattern, searched in each paragraph no longer than `max_chars`."""

    name: str
    pattern: re.Pattern[str]
    max_chars: int
    carries_content: bool = False  # True: quotes someone (a tweet), not just a credit


def _rule(name: str, pattern: str, max_chars: int, *, content: bool = False) -> BoilerplateRule:
    return BoilerplateRule(name, re.compile(pattern, re.IGNORECASE), max_chars, content)


BOILERPLATE_RULES: tuple[BoilerplateRule, ...] = (
    _rule(
        "photo_credit",
        r"^\W{0,3}(?:photo(?:graph)?s?|fotos?|fotografías?|imagen(?:es)?|images?|pictures?)"
        r"\s*(?::|/|courtesy\b|cortesía\b|credit\b|crédito\b|de archivo\b|caption\b)"
        r"|^\W{0,3}(?:pie de foto|photo by|foto de|fotos de)\s+" + _NAME + r"\s*(?:[/|,].{0,60})?$"
        r"|editorial use only|\bno sales\b|uso editorial|prohibida su venta"
        r"|\((?:AP|AFP|EFE|Reuters|Getty Images|Cuartoscuro)?\s*(?:photo|foto)\b[^)]{0,80}\)\s*$"
        r"|^\W{0,2}📸",
        300,
    ),
    _rule(
        "byline",
        r"^(?:by|por)\s+" + _NAME + r"(?:\s+(?:and|y|&)\s+" + _NAME + r")?"
        r"(?:\s*[|/,–—-]\s*[^.!?\n]{0,60})?\s*$"
        r"|^[—–]\s*" + _NAME + r"\s*,\s*[^.!?\n]{1,60}$",
        120,
    ),
    _rule("author_bio", r"^" + _NAME + r"\s+(?:is|es)\s+(?:[\w'’-]+\s+){0,6}?" + _JOB + r"\b", 600),
    _rule(
        "author_contact",
        r"\b(?:can be (?:contacted|reached)|(?:reach|contact|email|write to) (?:him|her|them|me)"
        r"|escríbel[ea]|escríbal[ea]|puede contactarl[oa]|se le puede (?:contactar|escribir))"
        r"\b[^@\n]{0,30}[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
        600,
    ),
    _rule(
        "report_credit",
        r"\bcontributed (?:to this report|reporting)\b|\bwith reporting (?:by|from)\b"
        r"|\bcolaboró en (?:esta|la) (?:nota|información)\b|^con información de\b|^fuente:",
        200,
    ),
    _rule(
        "follow_us",
        r"^(?:you can\s+)?(?:follow|síguenos|síguel[oa]|sígueme|sigue a)\b.{0,60}"
        r"\b(?:twitter|x|facebook|instagram|tiktok|linkedin|whatsapp|youtube|threads|"
        r"redes sociales|social media)\b"
        r"|^(?:subscribe|suscríbete|sign up|regístrate)\b.{0,80}"
        r"\b(?:newsletter|boletín|inbox|alerts|alertas)\b"
        r"|\b(?:download|descarga)\s+(?:our|the|nuestra|la)\b[^.]{0,40}\bapp\b",
        200,
    ),
    _rule("bare_url", r"^\s*(?:https?://|www\.)\S+\s*$|^.{0,100}\bhttps?://\S+\s*$", 160),
    _rule(
        "related_link",
        r"^(?:read (?:also|more)|related|see also|lee también|lea también|"
        r"(?:también )?te puede interesar|más información|ver también)\s*:",
        200,
    ),
    _rule(
        "update_notice",
        r"^(?:information in development|información en desarrollo|developing story|"
        r"noticia en desarrollo|this story (?:will be|is being) updated|"
        r"esta (?:nota|información) (?:se actualizará|está en desarrollo))\W*$",
        120,
    ),
    _rule("tweet_embed", _TWEET_FOOTER.pattern + r"|pic\.twitter\.com/\w+", 600, content=True),
)

_RULES_BY_NAME = {rule.name: rule for rule in BOILERPLATE_RULES}


@dataclass(frozen=True, slots=True)
class BoilerplateSpan:
    """A boilerplate paragraph: `text[start:end]`, the rule and the text that matched."""

    start: int
    end: int
    rule: str
    evidence: str

    @property
    def carries_content(self) -> bool:
        return _RULES_BY_NAME[self.rule].carries_content


@dataclass(frozen=True, slots=True)
class PassageBoilerplate:
    """How much of one passage is boilerplate.

    `share` is the fraction (0..1) of the passage's letters inside boilerplate
    paragraphs; `label` is the rule covering most of them when `share` reaches the
    threshold, else None; `reasons` are the boilerplate paragraphs it overlaps.
    """

    share: float
    label: str | None
    reasons: tuple[BoilerplateSpan, ...]


def is_content_free(label: str | None) -> bool:
    """True for a passage labelled by a rule that carries no content (a credit, a
    byline, a bio; not a quoted tweet). None and unknown labels are content."""
    rule = _RULES_BY_NAME.get(label) if label else None
    return rule is not None and not rule.carries_content


def find_boilerplate(text: str) -> list[BoilerplateSpan]:
    """The boilerplate paragraphs of an article, in order (first matching rule wins).

    A tweet pasted over several lines is flagged on its footer line only: the lines
    above it cannot be told from the story's own without knowing their language,
    and the footer line alone is usually most of the passage the chunker cuts
    around a quoted tweet (it starts a passage when the tweet's language differs).
    """
    found: list[BoilerplateSpan] = []
    for start, end in _paragraphs(text):
        span = _classify(text[start:end], start, end)
        if span is not None:
            found.append(span)
    return found


def passage_boilerplate(
    spans: Sequence[BoilerplateSpan],
    text: str,
    start: int,
    end: int,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> PassageBoilerplate:
    """The verdict for the passage `text[start:end]` given the article's `spans`."""
    letters = _letters(text, start, end)
    if letters == 0:
        return PassageBoilerplate(0.0, None, ())
    by_rule: dict[str, int] = {}
    reasons: list[BoilerplateSpan] = []
    for span in spans:
        low, high = max(start, span.start), min(end, span.end)
        if low >= high:
            continue
        reasons.append(span)
        by_rule[span.rule] = by_rule.get(span.rule, 0) + _letters(text, low, high)
    share = sum(by_rule.values()) / letters
    label = None
    if reasons and share >= threshold:
        label = max(by_rule, key=lambda name: (by_rule[name], name))
    return PassageBoilerplate(round(share, 3), label, tuple(reasons))


def label_passages(
    text: str, passages: Sequence[tuple[int, int]], *, threshold: float = DEFAULT_THRESHOLD
) -> list[str | None]:
    """One label (rule name) or None per `(start, end)` passage of the article `text`."""
    spans = find_boilerplate(text)
    return [
        passage_boilerplate(spans, text, start, end, threshold=threshold).label
        for start, end in passages
    ]


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of every non-blank line, whitespace trimmed."""
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        raw = match.group()
        stripped = raw.strip()
        if stripped:
            start = match.start() + (len(raw) - len(raw.lstrip()))
            spans.append((start, start + len(stripped)))
    return spans


def _classify(paragraph: str, start: int, end: int) -> BoilerplateSpan | None:
    for rule in BOILERPLATE_RULES:
        if len(paragraph) > rule.max_chars:
            continue
        match = rule.pattern.search(paragraph)
        if match is None:
            continue
        if rule.name == "author_bio" and not _is_bio(paragraph):
            continue
        return BoilerplateSpan(start, end, rule.name, match.group().strip())
    return None


def _is_bio(paragraph: str) -> bool:
    """ "X is a reporter with Y." is a bio; "X is a reporter who was kidnapped" is news."""
    if _NEWS_EVENT.search(paragraph):
        return False
    first_sentence = re.split(r"(?<=[.!?])\s", paragraph, maxsplit=1)[0]
    return not _RELATIVE_CLAUSE.search(first_sentence) or bool(_BIO_MARKER.search(paragraph))


def _letters(text: str, start: int, end: int) -> int:
    return sum(1 for character in text[start:end] if character.isalpha())
