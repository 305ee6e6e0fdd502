"""What the fuzz tests share: small in-process Starlette apps to fuzz, their OpenAPI documents, a quick budget."""

from __future__ import annotations

import importlib
import json
import warnings
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from jsonschema import Draft202012Validator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from harness.core.lifecycle import load_lifecycle
from harness.fuzz import fuzzer as fuzz
from harness.http.inprocess import BlockingASGITransport

with warnings.catch_warnings():  # its marks are registered by the suite's own pytest.ini
    warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
    robust_input = importlib.import_module("conformance_tests.test_robust_input")


TITLED = {"type": "object", "required": ["title"], "properties": {"title": {"type": "string", "maxLength": 10}}}
PROBLEM = {"description": "problem", "content": {"application/json": {"schema": {"type": "object"}}}}

ITEM = {
    "type": "object",
    "required": ["title"],
    "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "maxLength": 10},
        "code": {"type": "string", "pattern": "^[0-9]{3}$"},
        "kind": {"enum": ["a", "b"]},
        "tags": {
            "type": "array",
            "items": {"type": "object", "required": ["k"], "properties": {"k": {"type": "string"}}},
        },
    },
    "examples": [{"title": "ok", "code": "123", "kind": "a", "tags": [{"k": "t"}]}],
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {
        "/items": {
            "post": {
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
                "responses": {"201": {"description": "ok"}, "422": PROBLEM},
            },
            "get": {
                "parameters": [{"name": "page", "in": "query", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "ok"}, "422": PROBLEM},
            },
        },
        "/items/{id}": {
            "get": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}, "404": PROBLEM},
            }
        },
        "/callback": {"post": {"x-p111-authenticated-by": "checksum", "responses": {"200": {"description": "ok"}}}},
        "/health": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
    "components": {"schemas": {"Item": ITEM}},
}

ITEM_VALIDATOR = Draft202012Validator(ITEM)

FAST = fuzz.Budget(max_examples=2, generated_examples=3, undocumented_status="off")  # every rule reached, quickly


@pytest.fixture(scope="module")
def loop() -> Iterator[BlockingPortal]:
    """The event loop thread the in-process systems run on (harness.http.inprocess, as in the embedded run)."""
    with start_blocking_portal() as portal:
        yield portal


def serve(loop: BlockingPortal, *routes: Route) -> httpx.Client:
    return httpx.Client(
        base_url="http://sut.test", transport=BlockingASGITransport(loop, Starlette(routes=list(routes)))
    )


def app(
    loop: BlockingPortal,
    *,
    on_valid: Any = None,
    strict: bool = True,
    text_errors: bool = False,
    error_status: int = 422,
) -> httpx.Client:
    """A system that refuses what breaks ITEM (unless not `strict`) with `error_status`; `on_valid` may answer a
    valid item instead."""

    def refuse(message: str) -> Response:
        if text_errors:
            return PlainTextResponse(message, status_code=error_status)
        return JSONResponse({"error": "invalid", "message": message}, status_code=error_status)

    async def create(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return refuse("not JSON")
        if strict and not ITEM_VALIDATOR.is_valid(body):
            return refuse("breaks Item")
        answer = on_valid(body) if on_valid else None
        return answer or JSONResponse({"id": "1"}, status_code=201)

    async def listing(request: Request) -> Response:
        page = request.query_params.get("page")
        if strict and (page is None or not fuzz.INTEGER.fullmatch(page)):
            return refuse("page")
        return JSONResponse([])

    async def one(request: Request) -> Response:
        return JSONResponse({"error": "not-found", "message": "no such item"}, status_code=404)

    return serve(
        loop,
        Route("/items", create, methods=["POST"]),
        Route("/items", listing, methods=["GET"]),
        Route("/items/{id}", one),
    )


OK = {"description": "ok"}

ANSWERS = {"200": OK, "404": PROBLEM, "422": PROBLEM}


def operation(path: str, method: str = "get", *, parameters: Any = (), body: Any = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"parameters": list(parameters), "responses": ANSWERS}
    if body is not None:
        spec["requestBody"] = {"content": {"application/json": {"schema": body}}}
    return {path: {method: spec}}


def document(*operations: dict[str, Any], version: str = "3.1.0") -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for op in operations:
        for path, item in op.items():
            paths.setdefault(path, {}).update(item)
    return {"openapi": version, "paths": paths}


def refusing(request: Request) -> Response:
    return JSONResponse({"error": "invalid"}, status_code=422)


def checking(schema: dict[str, Any]) -> Any:
    """An endpoint that takes a JSON body valid against `schema` (JSON Schema 2020-12) and refuses the rest."""
    validator = Draft202012Validator(schema)

    async def endpoint(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return refusing(request)
        return JSONResponse({}, status_code=201) if validator.is_valid(body) else refusing(request)

    return endpoint


class Clerk:
    """A driver of the dossier app below: submits and acts as the officer would."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def submit(self, procedure: str) -> Any:
        return SimpleNamespace(code=self.client.post("/dossiers", headers={"x-role": "citizen"}).json()["code"])

    def act(self, code: str, action: str) -> Any:
        actor = load_lifecycle().actions[action].actor
        answer = self.client.post(f"/dossiers/{code}/actions/{action}", json={"actor": "A"}, headers={"x-role": actor})
        return SimpleNamespace(accepted=answer.status_code == 200)


def dossier_app(loop: BlockingPortal, pay_crashes: bool = False, state_status: int = 409) -> httpx.Client:
    """Dossiers that follow lifecycle.yaml; an action checks the state first (`state_status`, 409 by default), then
    the actor's role (403), then its body, whose actor's maxLength it forgets: a 500 behind the state check. The
    citizen pays once for a dossier that waits for payment (`state_status` else); `pay_crashes`: that payment is a
    500, only past the state check."""
    lifecycle = load_lifecycle()
    status: dict[str, list[str]] = {}
    paid: set[str] = set()

    async def submit(request: Request) -> Response:
        code = f"D{len(status) + 1}"
        status[code] = ["1"]
        return JSONResponse({"code": code}, status_code=201)

    async def act(request: Request) -> Response:
        code, name = request.path_params["code"], request.path_params["action"]
        if code not in status or name not in lifecycle.actions:
            return JSONResponse({"error": "not-found"}, status_code=404)
        action, now = lifecycle.actions[name], status[code][-1]
        to = status[code][-2] if action.to == "resume" and len(status[code]) > 1 else action.to
        if (action.to == "resume" and now != "5") or (action.to != "resume" and not lifecycle.allows(now, to)):
            return JSONResponse({"error": "illegal-transition"}, status_code=state_status)
        if request.headers.get("x-role") != action.actor:
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return refusing(request)
        if not isinstance(body, dict) or not isinstance(body.get("actor"), str) or not body["actor"]:
            return refusing(request)
        if len(body["actor"]) > 10:
            return PlainTextResponse("Data too long for column 'NguoiXuLy'", status_code=500)
        status[code].append(to)
        return JSONResponse({"code": code, "status": to})

    async def pay(request: Request) -> Response:
        code = request.path_params["code"]
        if code not in status:
            return JSONResponse({"error": "not-found"}, status_code=404)
        if status[code][-1] != lifecycle.actions["request-payment"].to or code in paid:
            return JSONResponse({"error": "nothing-to-pay"}, status_code=state_status)
        if request.headers.get("x-role") != "citizen":
            return JSONResponse({"error": "forbidden"}, status_code=403)
        paid.add(code)
        if pay_crashes:
            return PlainTextResponse("KeyError: 'bank'", status_code=500)
        return JSONResponse({"code": code}, status_code=201)

    return serve(
        loop,
        Route("/dossiers", submit, methods=["POST"]),
        Route("/dossiers/{code}/actions/{action}", act, methods=["POST"]),
        Route("/dossiers/{code}/pay", pay, methods=["POST"]),
    )
