"""harness.fuzz against small in-process Starlette apps: the kinds of input it makes, how it judges, how it shrinks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from jsonschema import Draft202012Validator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from harness import fuzz
from harness.inprocess import BlockingASGITransport

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
FAST = fuzz.Budget(max_examples=2, generated_examples=3)  # enough to reach every rule; the tests stay quick


@pytest.fixture(scope="module")
def loop() -> Iterator[BlockingPortal]:
    """The event loop thread the in-process systems run on (harness.inprocess, as in the embedded run)."""
    with start_blocking_portal() as portal:
        yield portal


def app(loop: BlockingPortal, *, on_valid: Any = None, strict: bool = True, text_errors: bool = False) -> httpx.Client:
    """A system that refuses what breaks ITEM (unless not `strict`); `on_valid` may answer a valid item instead."""

    def refuse(message: str) -> Response:
        if text_errors:
            return PlainTextResponse(message, status_code=400)
        return JSONResponse({"error": "invalid", "message": message}, status_code=422)

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

    routes = [
        Route("/items", create, methods=["POST"]),
        Route("/items", listing, methods=["GET"]),
        Route("/items/{id}", one),
    ]
    return httpx.Client(base_url="http://sut.test", transport=BlockingASGITransport(loop, Starlette(routes=routes)))


def test_input_operations_resolve_references_and_leave_out_the_checksum_callback():
    operations, skipped = fuzz.input_operations(DOCUMENT)
    assert [str(o) for o in operations] == ["GET /items", "POST /items", "GET /items/{id}"]
    assert operations[1].body == ITEM and operations[1].examples == tuple(ITEM["examples"])
    assert [name for name, _ in skipped] == ["POST /callback"]  # /health takes no input at all


def test_every_rule_of_the_schema_becomes_one_kind_of_input():
    listing, post, one = fuzz.input_operations(DOCUMENT)[0]
    rules = {(c.rule, c.at) for c in fuzz.cases_for(post, {})}
    assert {
        ("valid", "body"),
        ("not-json", "body"),
        ("not-an-object", "body"),
        ("required", "body.title"),
        ("type", "body.title"),
        ("maxLength", "body.title"),
        ("astral-text", "body.title"),
        ("pattern", "body.code"),
        ("enum", "body.kind"),
        ("optional-absent", "body.tags"),
        ("required", "body.tags.[].k"),
        ("additionalProperties", "body"),
    } <= rules
    assert {(c.rule, c.at) for c in fuzz.cases_for(listing, {})} == {
        ("valid", "body"),
        ("required", "query.page"),
        ("type", "query.page"),
    }
    assert {c.rule for c in fuzz.cases_for(one, {"id": "real-1"})} == {"valid"}  # a known value is never varied


def test_a_strict_system_passes_so_every_invalid_input_really_breaks_its_rule(loop):
    # Were one "invalid" input valid after all, the strict system would accept it and the fuzzer would say so.
    result = fuzz.fuzz(app(loop), DOCUMENT, budget=FAST)
    assert result.findings == []
    assert result.requests >= result.cases > 20


def test_invalid_input_accepted_is_a_finding_naming_the_rule(loop):
    result = fuzz.fuzz(app(loop, strict=False), DOCUMENT, budget=FAST)
    found = {(f.case.rule, f.case.at, f.problem) for f in result.findings}
    assert ("maxLength", "body.title", "accepted") in found
    assert ("additionalProperties", "body", "accepted") in found
    assert ("type", "query.page", "accepted") in found
    assert all(not f.case.valid for f in result.findings)


def test_a_refusal_without_a_json_error_is_a_finding(loop):
    result = fuzz.fuzz(app(loop, text_errors=True), DOCUMENT, budget=FAST)
    assert result.findings and {f.problem for f in result.findings} == {"not-json-error"}
    assert all(f.response.status_code == 400 for f in result.findings)


def test_a_server_error_on_valid_input_is_shrunk_to_the_smallest_counterexample(loop):
    def crash_beyond_the_basic_plane(body: dict[str, Any]) -> Response | None:
        if any(ord(c) > 0xFFFF for c in body["title"]):
            return PlainTextResponse("Incorrect string value", status_code=500)
        return None

    result = fuzz.fuzz(app(loop, on_valid=crash_beyond_the_basic_plane), DOCUMENT, budget=FAST)
    assert {f.problem for f in result.findings} == {"server-error"}
    (finding,) = [f for f in result.findings if f.case.rule == "astral-text"]
    assert finding.case.at == "body.title"
    sent = json.loads(finding.response.request.content)
    # The document's example, with the smallest text beyond the basic plane in place of its title.
    assert sent == {**ITEM["examples"][0], "title": "\U00010000"}
    assert "HTTP 500" in finding.describe() and "body.title" in finding.describe()


def test_a_runs_counterexample_is_the_same_every_time(loop):
    def crash_without_tags(body: dict[str, Any]) -> Response | None:
        return JSONResponse({}, status_code=503) if "tags" not in body else None

    bodies = []
    for _ in range(2):
        findings = fuzz.fuzz(app(loop, on_valid=crash_without_tags), DOCUMENT, budget=FAST).findings
        (finding,) = [f for f in findings if (f.case.rule, f.case.at) == ("optional-absent", "body.tags")]
        bodies.append(finding.response.request.content)
    assert bodies[0] == bodies[1]
    assert json.loads(bodies[0]) == {k: v for k, v in ITEM["examples"][0].items() if k != "tags"}


@pytest.mark.parametrize("budget", [fuzz.Budget(max_examples=1, generated_examples=1)])
def test_the_budget_bounds_the_requests(loop, budget):
    operations, _ = fuzz.input_operations(DOCUMENT)
    cases = sum(len(fuzz.cases_for(o, {})) for o in operations)
    result = fuzz.fuzz(app(loop), DOCUMENT, budget=budget)
    assert result.cases == cases and result.requests <= cases
