"""The native approximate-search libraries (usearch, faiss), imported on first use.

A native library loaded next to torch can make C++ exception unwinding in the
same process pathologically slow: with usearch loaded, torch's TorchScript tracing
(the build's ONNX export, which throws and catches internally) went from 5 s to
over 5 minutes on a trivial function, all of it in loading TorchScript's builtin
functions, which happens once per process. So nothing imports these libraries
before the export is done (a build needs them only at the end, for the vector
index), and a process that already has torch (tests, a notebook) loads those
builtins first, while unwinding is still fast.
"""

from __future__ import annotations

import sys
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from usearch.index import Index

__all__ = ["faiss", "usearch_index"]

_TORCH_BUILTINS_LOADED = False


def usearch_index() -> type[Index]:
    """`usearch.index.Index`."""
    _before_native_import()
    from usearch.index import Index

    return Index


def faiss() -> Any:
    """The `faiss` module (faiss-cpu)."""
    _before_native_import()
    import faiss as library

    return library


def _before_native_import() -> None:
    if "torch" in sys.modules and not _TORCH_BUILTINS_LOADED:
        _load_torch_builtins()


def _load_torch_builtins() -> None:
    global _TORCH_BUILTINS_LOADED
    import torch

    def sliced(tensor: Any) -> Any:
        return tensor[:, :1] * 2

    with warnings.catch_warnings():  # torch 2.13 calls tracing deprecated; it works
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.trace(sliced, (torch.zeros(1, 2),))  # type: ignore[no-untyped-call]
    _TORCH_BUILTINS_LOADED = True
