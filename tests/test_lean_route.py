"""`RequestOnlyRoute`: the endpoint runs on a worker thread, errors map through the
app's handlers, the operation is documented, and other endpoints are refused."""

from __future__ import annotations

import threading

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient

from search.lean_route import RequestOnlyRoute

pytestmark = pytest.mark.fast


class _Refused(Exception):
    pass


def _app(endpoint, **options) -> FastAPI:  # type: ignore[no-untyped-def]
    app = FastAPI()
    router = APIRouter(prefix="/api")
    router.add_api_route("/x", endpoint, route_class_override=RequestOnlyRoute, **options)
    app.include_router(router)

    @app.exception_handler(_Refused)
    async def refused(request: Request, error: _Refused) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=400)

    return app


def test_runs_on_a_worker_thread_and_documents_the_operation() -> None:
    loop_thread: list[int] = []

    def endpoint(request: Request) -> Response:
        loop_thread.append(threading.get_ident())
        return Response(request.query_params["q"].encode(), media_type="text/plain")

    app = _app(endpoint, summary="Echo", methods=["GET"])
    with TestClient(app) as client:
        response = client.get("/api/x", params={"q": "hola"})
        assert (response.status_code, response.text) == (200, "hola")
        operation = client.get("/openapi.json").json()["paths"]["/api/x"]["get"]
    assert operation["summary"] == "Echo"
    assert loop_thread and loop_thread[0] != threading.get_ident()


def test_errors_reach_the_apps_handlers() -> None:
    def endpoint(request: Request) -> Response:
        raise _Refused("no q")

    with TestClient(_app(endpoint, methods=["GET"])) as client:
        response = client.get("/api/x")
    assert (response.status_code, response.json()) == (400, {"error": "no q"})


async def _coroutine(request: Request) -> Response:
    return Response()


def _two_parameters(request: Request, q: str) -> Response:
    return Response()


def _no_request(q: str) -> Response:
    return Response()


@pytest.mark.parametrize("endpoint", [_coroutine, _two_parameters, _no_request])
def test_other_endpoints_are_refused_at_start_up(endpoint) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match="RequestOnlyRoute serves"):
        _app(endpoint, methods=["GET"])
