"""`dataclasses.asdict` for the JSON bodies, without its deep copies.

`asdict` deep-copies every leaf (each string, number and None of a search body,
thousands of them) so that the caller may mutate the result; a response body is
built, serialised and dropped, and its leaves are immutable anyway. The output is
the same: dataclasses become dicts, lists and tuples keep their type, dict keys
and values are converted. On search bodies of the seeds index it took 0.27-0.41
ms where `asdict` took 0.84-1.04 ms (same process, alternating).
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["plain_data"]

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}  # a memo of immutable class facts


def plain_data(value: Any) -> Any:
    """`value` with every dataclass instance in it turned into a dict, recursively."""
    kind = type(value)
    if kind in (str, int, float, bool) or value is None:
        return value
    names = _FIELD_NAMES.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES.setdefault(kind, tuple(f.name for f in dataclasses.fields(value)))
    if names is not None:
        return {name: plain_data(getattr(value, name)) for name in names}
    if kind is list or kind is tuple:
        return kind(plain_data(item) for item in value)
    if kind is dict:
        return {plain_data(key): plain_data(item) for key, item in value.items()}
    return value
