"""`/docs` (Swagger UI 5) and `/redoc` (ReDoc) from bundled assets: no CDN, no network.

FastAPI's own docs pages load Swagger UI and ReDoc from a CDN, so they are blank
on a machine without network. The `fastapi-offline` package vendors both; its
static folder is served at `/static-docs/`. Its page builders are not used: they
start Swagger UI with an inline script, which our Content-Security-Policy
forbids. Here the pages are templates whose only scripts are files from 'self'
(`/static/docs.js` starts Swagger UI). ReDoc and Swagger UI write their styles at
run time (`<style>` elements and style attributes), so the docs pages alone allow
inline *styles*; scripts stay 'self' only. ReDoc always draws a small "by Redocly"
logo from its CDN: the policy blocks it (the browser logs the violation) and the
image hides itself, so nothing leaves the machine.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader

from search.web import asset_urls

__all__ = ["DOCS_CONTENT_SECURITY_POLICY", "register_docs"]

DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": DOCS_CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_HERE = Path(__file__).resolve().parent


def register_docs(app: FastAPI) -> None:
    """Adds `/docs`, `/redoc` and `/static-docs/` to `app`."""
    vendored = Path(str(files("fastapi_offline") / "static"))
    app.mount("/static-docs", StaticFiles(directory=vendored), name="static-docs")
    templates = Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=True)
    context = {"asset": asset_urls(), "title": app.title, "openapi_url": app.openapi_url}

    def page(template: str) -> HTMLResponse:
        html = templates.get_template(template).render(**context)
        return HTMLResponse(html, headers=_HEADERS)

    @app.api_route("/docs", methods=["GET", "HEAD"], include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        return page("docs_swagger.html")

    @app.api_route("/redoc", methods=["GET", "HEAD"], include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        return page("docs_redoc.html")
