"""HTML pages (being built): the search page at / renders the same data as the API."""

from __future__ import annotations

from fastapi import FastAPI

__all__ = ["register_pages"]


def register_pages(app: FastAPI) -> None:
    """Adds the HTML routes to `app`."""
