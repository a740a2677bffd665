"""The engine configurations an evaluation compares, by name.

`lexical`, `semantic` and `hybrid` are the engine's three modes as the service runs
them (hybrid = Reciprocal Rank Fusion with the engine's k, 10 by default, of the
two legs and the feedback leg, `search.feedback`). `hybrid-rrfK` is RRF with
k = K (Cormack, Clarke and Büttcher, SIGIR 2009: a smaller k gives the top ranks
of each leg more weight); `-nofeedback` after either fuses the two legs alone
(`hybrid-rrf20-nofeedback` is the engine before the feedback leg); `hybrid-wA` is
weighted fusion of min-max normalised scores with semantic weight alpha = A
(0 = lexical only, 1 = semantic only); see `search.fusion`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from search.models import MODES, Fusion, Mode, SearchRequest

__all__ = ["DEFAULT_VARIANTS", "Variant", "parse_variant", "parse_variants"]

_RRF_NAME = re.compile(r"^hybrid(-rrf(?P<k>\d+))?(?P<plain>-nofeedback)?$")
_WEIGHTED_NAME = re.compile(r"^hybrid-w(?P<alpha>\d*\.?\d+)$")


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    mode: Mode
    fusion: Fusion = "rrf"  # only hybrid fuses
    alpha: float | None = None  # semantic weight of weighted fusion
    rrf_k: int | None = None  # None: the engine's default
    feedback: bool = True  # the third fused leg of hybrid with rrf (`search.feedback`)

    def request(self, query: str, *, limit: int, translate: bool) -> SearchRequest:
        """One result per article (the documents being judged), `limit` of them."""
        return SearchRequest(
            query=query,
            mode=self.mode,
            limit=limit,
            per_article=1,
            fusion=self.fusion,
            alpha=self.alpha,
            rrf_k=self.rrf_k,
            feedback=self.feedback,
            translate=translate,
            highlight=False,  # highlighting is for people; it would double the run
            relevance_floor=False,  # the ranking is judged, not where the page cuts it
        )

    def settings(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "fusion": self.fusion if self.mode == "hybrid" else None,
            "alpha": self.alpha,
            "rrf_k": self.rrf_k,
            "feedback": self.feedback if self.mode == "hybrid" and self.fusion == "rrf" else None,
        }


DEFAULT_VARIANTS: tuple[Variant, ...] = (
    Variant("lexical", "lexical"),
    Variant("semantic", "semantic"),
    Variant("hybrid", "hybrid"),
    Variant("hybrid-nofeedback", "hybrid", feedback=False),
    Variant("hybrid-rrf20-nofeedback", "hybrid", rrf_k=20, feedback=False),  # before (d)
    Variant("hybrid-w0.3", "hybrid", fusion="weighted", alpha=0.3),
    Variant("hybrid-w0.5", "hybrid", fusion="weighted", alpha=0.5),
    Variant("hybrid-w0.7", "hybrid", fusion="weighted", alpha=0.7),
)


def parse_variant(name: str) -> Variant:
    """`lexical`, `semantic`, `hybrid`, `hybrid-rrf<K>` or `hybrid-w<alpha>`, else ValueError.
    `-nofeedback` after `hybrid` or `hybrid-rrf<K>` fuses the two legs alone."""
    name = name.strip()
    for mode in MODES:
        if name == mode:
            return Variant(name, mode)
    if match := _RRF_NAME.match(name):
        k = None if match.group("k") is None else int(match.group("k"))
        if k is None or k >= 1:
            return Variant(name, "hybrid", rrf_k=k, feedback=not match.group("plain"))
    if match := _WEIGHTED_NAME.match(name):
        alpha = float(match.group("alpha"))
        if math.isfinite(alpha) and 0.0 <= alpha <= 1.0:
            return Variant(name, "hybrid", fusion="weighted", alpha=alpha)
    raise ValueError(
        f"Unknown mode {name!r}: use lexical, semantic, hybrid, hybrid-rrf<K> (K >= 1, "
        "e.g. hybrid-rrf20), either with -nofeedback (e.g. hybrid-nofeedback), or "
        "hybrid-w<alpha> (0..1, e.g. hybrid-w0.3)."
    )


def parse_variants(text: str) -> tuple[Variant, ...]:
    """A comma-separated list, e.g. "lexical,hybrid-w0.3"; "all" is `DEFAULT_VARIANTS`."""
    if text.strip() == "all":
        return DEFAULT_VARIANTS
    names = [part for part in (p.strip() for p in text.split(",")) if part]
    if not names:
        raise ValueError("--modes is empty; name at least one mode, e.g. --modes hybrid.")
    variants = tuple(parse_variant(name) for name in names)
    duplicates = sorted({v.name for v in variants if [w.name for w in variants].count(v.name) > 1})
    if duplicates:
        raise ValueError(f"--modes names {', '.join(duplicates)} more than once.")
    return variants
