"""harness.fuzz.fuzzer against small in-process Starlette apps: the kinds of input it makes, how it judges, how it shrinks."""

from __future__ import annotations

import importlib
import json
import re
import unicodedata
import warnings
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import find, settings
from hypothesis.errors import NoSuchExample
from jsonschema import Draft202012Validator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from harness.config.target import embedded_target, load_target_text
from harness.core.lifecycle import load_lifecycle
from harness.core.verdicts import NotTested
from harness.fuzz import fuzzer as fuzz
from harness.fuzz.state import DossierPool
from harness.http.inprocess import BlockingASGITransport

with warnings.catch_warnings():  # its marks are registered by the suite's own pytest.ini
    warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
    robust_input = importlib.import_module("conformance_tests.test_robust_input")

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


def test_input_operations_resolve_references_and_leave_out_what_takes_no_input():
    operations, skipped = fuzz.input_operations(DOCUMENT)
    assert [str(o) for o in operations] == ["GET /items", "POST /items", "GET /items/{id}"]
    assert operations[1].body == ITEM and operations[1].examples == tuple(ITEM["examples"])
    assert skipped == []  # /health and the bodiless /callback take no input at all


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
    result = fuzz.fuzz(app(loop, text_errors=True), DOCUMENT, budget=FAST)  # 422: documented as JSON
    assert result.findings and {f.problem for f in result.findings} == {"not-json-error"}
    assert all(f.response.status_code == 422 for f in result.findings)


def test_a_text_refusal_with_a_status_the_document_does_not_describe_is_no_finding(loop):
    # Only 422 (and 404) are documented as JSON: a text 400 promised nothing.
    result = fuzz.fuzz(app(loop, text_errors=True, error_status=400), DOCUMENT, budget=FAST)
    assert result.findings == []


def test_a_server_error_on_valid_input_is_shrunk_to_the_smallest_counterexample(loop):
    def crash_beyond_the_basic_plane(body: dict[str, Any]) -> Response | None:
        if any(ord(c) > 0xFFFF for c in body["title"]):
            return PlainTextResponse("Incorrect string value", status_code=500)
        return None

    result = fuzz.fuzz(app(loop, on_valid=crash_beyond_the_basic_plane), DOCUMENT, budget=FAST)
    assert {f.problem for f in result.findings} == {"server-error"}
    (finding,) = [f for f in result.findings if (f.case.rule, f.case.at) == ("astral-text", "body.title")]
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
    assert result.cases == cases and result.requests <= 2 * cases  # an accepted valid write is read back once


# --- what cannot be judged is left out, never judged falsely -------------------------------------------------------

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


def test_a_path_parameter_is_never_empty_nor_a_dot_segment_nor_holds_a_slash_whatever_the_kind(loop):
    def param(name: str, schema: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"name": name, "in": "path", "required": True, "schema": schema}]

    doc = document(
        operation("/things/{id}", parameters=param("id", {"type": "integer"})),  # type
        operation("/kinds/{kind}", parameters=param("kind", {"enum": ["a", "b"]})),  # enum
        operation("/codes/{code}", parameters=param("code", {"type": "string", "pattern": "^[0-9]{3}$"})),
        operation("/names/{name}", parameters=param("name", {"type": "string", "maxLength": 3})),  # valid, astral
    )
    strays: list[str] = []

    async def stray(request: Request) -> Response:  # another route: a text 404, once judged a finding
        strays.append(request.url.path)
        return PlainTextResponse("Not Found", status_code=404)

    async def routed(request: Request) -> Response:
        return refusing(request)

    client = serve(
        loop,
        *(Route(p, routed) for p in ("/things/{id}", "/kinds/{kind}", "/codes/{code}", "/names/{name}")),
        Route("/{rest:path}", stray),
    )
    result = fuzz.fuzz(client, doc, budget=fuzz.Budget(max_examples=12, generated_examples=12))
    assert strays == [] and result.findings == []
    assert {c.rule for o in fuzz.input_operations(doc)[0] for c in fuzz.cases_for(o, {})} >= {
        "type",
        "enum",
        "pattern",
        "maxLength",
        "astral-text",
    }
    lawful = fuzz._fits("path")
    assert not any(lawful(v) for v in ("", ".", "..", "a/b", "/")) and lawful("a.b") and lawful(7)


def test_a_json_error_is_required_only_where_the_status_answered_is_documented_as_json():
    def op(*responses: tuple[str, bool]) -> fuzz.Operation:
        return fuzz.Operation("post", "/x", (), {"type": "object"}, responses=responses)

    broken = fuzz.Case("type", ("body", "a"))

    def text(status: int) -> httpx.Response:
        return httpx.Response(status, text="<html>no</html>", headers={"content-type": "text/html"})

    only_422 = op(("201", False), ("422", True))
    assert fuzz.judge(only_422, broken, text(405)) is None  # a server's HTML 405: nothing promised
    assert fuzz.judge(only_422, broken, text(413)) is None
    assert fuzz.judge(only_422, broken, text(422)) == "not-json-error"
    assert fuzz.judge(only_422, broken, httpx.Response(422, json={"error": "x"})) is None
    assert fuzz.judge(op(("4XX", True)), broken, text(415)) == "not-json-error"  # the range
    fallback = op(("404", False), ("default", True))
    assert fuzz.judge(fallback, broken, text(404)) is None  # its own code says text
    assert fuzz.judge(fallback, broken, text(415)) == "not-json-error"  # else `default`
    assert fuzz.input_operations(DOCUMENT)[0][1].responses == (("201", False), ("422", True))


NULLABLE = {
    "type": "object",
    "required": ["note", "count"],
    "properties": {"note": {"type": "string", "nullable": True}, "count": {"type": "integer", "nullable": True}},
}


def test_openapi_30_nullable_allows_null_in_valid_input_and_never_makes_it_the_wrong_type(loop):
    doc = document(operation("/notes", "post", body=NULLABLE), version="3.0.3")
    (op,), _ = fuzz.input_operations(doc)
    assert op.body["properties"]["note"]["type"] == ["string", "null"]
    client = serve(loop, Route("/notes", checking(op.body), methods=["POST"]))  # null allowed, as 3.1 writes it
    result = fuzz.fuzz(client, doc, budget=FAST)
    assert result.findings == []  # a null once drawn as "the wrong type" was accepted, lawfully
    note = op.body["properties"]["note"]
    assert find(fuzz.values(note), lambda v: v is None) is None
    with pytest.raises(NoSuchExample):
        find(fuzz._breaking("type", note, None, "body"), lambda v: v is None, settings=settings(database=None))


def test_a_header_the_session_always_sends_is_never_varied_and_the_skip_says_so(loop):
    def header(name: str) -> dict[str, Any]:
        return {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}

    doc = document(operation("/me", parameters=[header("X-Phien"), header("X-Trace")]))
    sessions_seen: set[str | None] = set()

    async def me(request: Request) -> Response:
        sessions_seen.add(request.headers.get("x-phien"))
        if request.headers.get("x-phien") != "s-1":
            return JSONResponse({"error": "unauthenticated"}, status_code=401)
        return JSONResponse({}) if "x-trace" in request.headers else refusing(request)

    result = fuzz.fuzz(serve(loop, Route("/me", me)), doc, sessions=[{"x-phien": "s-1"}], budget=FAST)
    assert result.findings == [] and result.operations == ["GET /me"]
    assert sessions_seen == {"s-1"}  # the session went with every request, as the session's
    assert ("GET /me [header.X-Phien]", fuzz.SKIPPED["carried"]) in result.skipped
    (op,), _ = fuzz.input_operations(doc)
    rules = {(c.rule, c.at) for c in fuzz.cases_for(op, {}, {"x-phien"})}
    assert ("required", "header.X-Trace") in rules and ("required", "header.X-Phien") not in rules


def test_header_values_are_printable_ascii_and_never_text_beyond_the_basic_plane(loop):
    doc = document(
        operation(
            "/hello",
            parameters=[
                {"name": "X-Name", "in": "header", "required": True, "schema": {"type": "string"}},
                {"name": "X-Code", "in": "header", "schema": {"type": "string", "pattern": "^[A-Z]{2}$"}},
                {"name": "q", "in": "query", "schema": {"type": "string"}},
            ],
        )
    )
    seen: list[str] = []

    async def hello(request: Request) -> Response:
        seen.extend(v for k, v in request.headers.items() if k.startswith("x-"))
        code = request.headers.get("x-code")
        valid = "x-name" in request.headers and (code is None or re.search("^[A-Z]{2}$", code))
        return JSONResponse({}) if valid else refusing(request)

    result = fuzz.fuzz(
        serve(loop, Route("/hello", hello)), doc, budget=fuzz.Budget(max_examples=4, generated_examples=20)
    )
    assert result.findings == [] and result.operations == ["GET /hello"]  # no UnicodeEncodeError on the way
    assert seen and all(" " <= c <= "~" for value in seen for c in value)
    rules = {(c.rule, c.at) for c in fuzz.cases_for(fuzz.input_operations(doc)[0][0], {})}
    assert ("astral-text", "query.q") in rules and ("astral-text", "header.X-Name") not in rules


TITLED = {"type": "object", "required": ["title"], "properties": {"title": {"type": "string", "maxLength": 10}}}
COMPOSED = {
    "/parts": {
        "allOf": [TITLED, {"type": "object", "required": ["size"], "properties": {"size": {"type": "integer"}}}]
    },
    "/either": {
        "oneOf": [
            {
                "type": "object",
                "required": ["a"],
                "properties": {"a": {"type": "integer"}},
                "additionalProperties": False,
            },
            {
                "type": "object",
                "required": ["b"],
                "properties": {"b": {"type": "string"}},
                "additionalProperties": False,
            },
        ]
    },
    "/maybe": {"type": "object", "properties": {"owner": {"anyOf": [{"type": "null"}, TITLED]}}},
}


def test_allof_is_merged_and_oneof_anyof_give_valid_input_without_untargetable_mutations(loop):
    doc = document(*(operation(path, "post", body=schema) for path, schema in COMPOSED.items()))
    client = serve(loop, *(Route(path, checking(schema), methods=["POST"]) for path, schema in COMPOSED.items()))
    result = fuzz.fuzz(client, doc, budget=FAST)
    assert result.findings == [] and len(result.operations) == 3  # every mutation broke the real schema
    assert not [why for _, why in result.skipped if "failed on" in why]
    parts = fuzz.input_operations(doc)[0][0]
    assert {("required", "body.size"), ("maxLength", "body.title")} <= {
        (c.rule, c.at) for c in fuzz.cases_for(parts, {})
    }
    assert ("POST /either [body]", fuzz.SKIPPED["branches"]) in result.skipped
    assert ("POST /maybe [body.owner]", fuzz.SKIPPED["branches"]) in result.skipped


def test_text_beyond_the_basic_plane_respects_a_min_length_over_eight(loop):
    body = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 10}}}

    async def names(request: Request) -> Response:
        name = json.loads(await request.body()).get("name")
        if isinstance(name, str) and any(ord(c) > 0xFFFF for c in name):
            return PlainTextResponse("Incorrect string value", status_code=500)
        return JSONResponse({}, status_code=201)

    doc = document(operation("/names", "post", body=body))
    result = fuzz.fuzz(serve(loop, Route("/names", names, methods=["POST"])), doc, budget=FAST)
    (finding,) = [f for f in result.findings if f.case.rule == "astral-text"]
    assert len(json.loads(finding.response.request.content)["name"]) == 10


def test_a_kind_of_input_the_fuzzer_cannot_build_is_skipped_and_the_others_go_on(loop, monkeypatch):
    breaking = fuzz._breaking

    def broken(rule: str, *args: Any) -> Any:
        if rule == "maxLength":
            raise RuntimeError("no strategy")
        return breaking(rule, *args)

    monkeypatch.setattr(fuzz, "_breaking", broken)
    result = fuzz.fuzz(app(loop), DOCUMENT, budget=FAST)
    ((where, why),) = [(o, w) for o, w in result.skipped if "RuntimeError" in w]
    assert where == "POST /items [maxLength body.title]" and "POST /items" in why
    assert result.operations == ["GET /items", "POST /items", "GET /items/{id}"] and result.findings == []


def test_the_sut_out_of_reach_still_ends_the_run():
    answered: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if answered:
            raise httpx.ConnectError("connection refused", request=request)
        answered.append(1)
        return httpx.Response(200, json={})

    client = httpx.Client(base_url="http://sut.test", transport=httpx.MockTransport(handler))
    with pytest.raises(httpx.ConnectError):
        fuzz.fuzz(client, DOCUMENT, budget=FAST)


def test_an_operation_every_session_is_refused_on_is_skipped_and_then_the_check_is_not_tested(loop):
    async def sign_in_first(request: Request) -> Response:
        if request.headers.get("x-role") != "officer":
            return PlainTextResponse("Forbidden", status_code=403)
        return refusing(request)

    refused = serve(loop, Route("/{rest:path}", sign_in_first, methods=["GET", "POST"]))
    result = fuzz.fuzz(refused, DOCUMENT, sessions=[{"x-role": "citizen"}], budget=FAST)
    assert result.operations == [] and result.requests == 0 and result.findings == []
    assert {o for o, why in result.skipped if why == fuzz.SKIPPED["refused"]} == {
        "GET /items",
        "POST /items",
        "GET /items/{id}",
    }
    with pytest.raises(NotTested, match="^không thao tác nào được thử.* / no operation was fuzzed"):
        robust_input.require_fuzzed(result)
    # The second session gets past the authentication layer: the operations are fuzzed with it.
    roles = [{"x-role": "citizen"}, {"x-role": "officer"}]
    assert len(fuzz.fuzz(refused, DOCUMENT, sessions=roles, budget=FAST).operations) == 3


def test_the_robustness_check_is_never_asked_of_a_person_and_names_the_dossier_parameter_from_the_target():
    check = robust_input.test_documented_inputs_never_crash_and_invalid_ones_are_refused
    assert [m.args[0] for m in check.pytestmark if m.name == "needs_automation"]
    assert embedded_target().sut.dossier_parameter == "code"
    text = "name: T\nsut: {base_url: 'https://sut.example.vn', dossier_parameter: ma_ho_so}\n"
    assert load_target_text(text.encode(), "t", {}).sut.dossier_parameter == "ma_ho_so"


# --- issue 20: undocumented statuses, a missing body, lawful callbacks, seeds, state, written-then-read -----------


def test_a_status_the_document_does_not_describe_is_its_own_finding_as_strict_as_the_target_says():
    op = fuzz.Operation("get", "/x", (), None, responses=(("200", True), ("422", True)))
    valid, broken = fuzz.Case("valid"), fuzz.Case("type", ("query", "page"))

    def answer(status: int) -> httpx.Response:
        return httpx.Response(status, json={"error": "x"})

    assert fuzz.judge(op, broken, answer(400), "lenient") == "undocumented-status"  # 422 is what it documents
    assert fuzz.judge(op, valid, answer(201), "lenient") == "undocumented-status"  # 200 is
    assert fuzz.judge(op, broken, answer(403), "lenient") is None  # the authentication layer's
    assert fuzz.judge(op, broken, answer(403), "strict") == "undocumented-status"
    assert fuzz.judge(op, broken, answer(400), "off") is None
    assert fuzz.judge(op, broken, answer(422), "strict") is None
    ranged = fuzz.Operation("get", "/x", (), None, responses=(("200", True), ("4XX", True)))
    assert fuzz.judge(ranged, broken, answer(400), "strict") is None
    assert fuzz.Budget().undocumented_status == "lenient"  # the target's default
    text = "name: T\nsut: {base_url: 'https://sut.example.vn'}\nfuzz: {undocumented_status: strict}\n"
    assert load_target_text(text.encode(), "t", {}).fuzz.undocumented_status == "strict"


def test_an_undocumented_status_is_found_by_a_run_and_the_lenient_setting_spares_the_layers(loop):
    async def listing(request: Request) -> Response:
        page = request.query_params.get("page")
        if page is not None and not fuzz.INTEGER.fullmatch(page):
            return JSONResponse({"error": "bad"}, status_code=400)  # the document lists 422
        return JSONResponse([])

    client = serve(loop, Route("/items", listing))
    doc = document(operation("/items", parameters=[{"name": "page", "in": "query", "schema": {"type": "integer"}}]))
    found = fuzz.fuzz(client, doc, budget=fuzz.Budget(max_examples=2, generated_examples=3)).findings
    assert {(f.case.rule, f.problem, f.response.status_code) for f in found} == {("type", "undocumented-status", 400)}


def optional_body(path: str) -> dict[str, Any]:
    doc = document(operation(path, "post", body={"type": "object", "properties": {"note": {"enum": ["a"]}}}))
    doc["paths"][path]["post"]["requestBody"]["required"] = True
    return doc


def test_a_missing_required_body_accepted_is_a_finding(loop):
    validator = Draft202012Validator({"type": "object", "properties": {"note": {"enum": ["a"]}}})

    def endpoint(empty_is_an_object: bool) -> Any:
        async def create(request: Request) -> Response:
            raw = await request.body()
            try:
                body = json.loads(raw or (b"{}" if empty_is_an_object else b""))
            except ValueError:
                return refusing(request)
            return JSONResponse({}, status_code=201) if validator.is_valid(body) else refusing(request)

        return create

    doc = optional_body("/things")
    (op,), _ = fuzz.input_operations(doc)
    assert op.body_required and ("body-absent", "body") in {(c.rule, c.at) for c in fuzz.cases_for(op, {})}
    lax = serve(loop, Route("/things", endpoint(True), methods=["POST"]))
    found = fuzz.fuzz(lax, doc, budget=FAST).findings
    assert [(f.case.rule, f.problem) for f in found] == [("body-absent", "accepted")]
    assert found[0].response.request.content == b""
    strict = serve(loop, Route("/things", endpoint(False), methods=["POST"]))
    assert fuzz.fuzz(strict, doc, budget=FAST).findings == []


CALLBACK = {
    "type": "object",
    "required": ["MaThamChieu"],
    "additionalProperties": False,
    "properties": {"MaThamChieu": {"type": "string", "maxLength": 20}},
}


def test_a_declared_callback_refusing_with_http_200_and_its_own_error_code_is_no_finding(loop):
    validator = Draft202012Validator(CALLBACK)

    async def confirm(request: Request) -> Response:
        try:
            valid = validator.is_valid(json.loads(await request.body()))
        except ValueError:
            valid = False
        return JSONResponse({"MaLoi": "00" if valid else "99"})  # the platform's contract: always HTTP 200

    client = serve(loop, Route("/pay/confirm", confirm, methods=["POST"]))
    doc = document(operation("/pay/confirm", "post", body=CALLBACK))
    undeclared = fuzz.fuzz(client, doc, budget=FAST).findings
    assert undeclared and {f.problem for f in undeclared} == {"accepted"}
    assert fuzz.fuzz(client, doc, budget=FAST, public=[("POST", "/pay/confirm")]).findings == []
    doc["paths"]["/pay/confirm"]["post"]["x-p111-authenticated-by"] = "MaXacThuc"  # p111's own extension
    marked = fuzz.fuzz(client, doc, budget=FAST)
    assert marked.findings == [] and marked.operations == ["POST /pay/confirm"]


def test_seeds_go_only_where_the_name_says_their_kind_and_the_schema_allows_them():
    seeds = fuzz.Seeds({"procedure": ["1.000001", "x"], "agency": ["000.00.06.H40"]})
    coded = {"type": "string", "pattern": r"^[0-9]\.[0-9]{6}$"}
    assert seeds.for_field("procedure_code", coded) == ("1.000001",)
    assert seeds.for_field("MaTTHC", {"type": "string"}) == ("1.000001", "x")
    assert seeds.for_field("ma_co_quan", {"type": "string"}) == ("000.00.06.H40",)
    assert seeds.for_field("summary", {"type": "string"}) == ()
    assert seeds.for_field("procedure_code", {"enum": ["a"]}) == ()


def test_a_defect_behind_a_real_procedure_code_is_found_only_with_seeds(loop):
    body = {
        "type": "object",
        "required": ["procedure_code"],
        "properties": {
            "procedure_code": {"type": "string", "pattern": r"^[0-9]\.[0-9]{6}$"},
            "summary": {"type": "string", "maxLength": 20},
        },
        "examples": [{"procedure_code": "9.999999", "summary": "x"}],
    }
    validator = Draft202012Validator(body)

    async def submit(request: Request) -> Response:
        try:
            data = json.loads(await request.body())
        except ValueError:
            return refusing(request)
        if not validator.is_valid(data) or data["procedure_code"] not in ("1.000001", "2.000002"):
            return JSONResponse({"error": "no such procedure"}, status_code=422)
        if data["procedure_code"] == "2.000002":
            return PlainTextResponse("unhashable type: 'list'", status_code=500)
        return JSONResponse({}, status_code=201)

    client = serve(loop, Route("/dossiers", submit, methods=["POST"]))
    doc = document(operation("/dossiers", "post", body=body))
    assert fuzz.fuzz(client, doc, budget=FAST).findings == []  # the pattern never names a real procedure
    seeds = fuzz.Seeds({"procedure": ["1.000001", "2.000002"]})
    (found,) = fuzz.fuzz(client, doc, budget=FAST, seeds=seeds).findings
    assert found.problem == "server-error" and found.case.rule == "valid"
    assert json.loads(found.response.request.content) == {"procedure_code": "2.000002", "summary": "x"}


NOTE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "maxLength": 8}}}


def notes(loop: BlockingPortal, shown: Any) -> httpx.Client:
    """POST /notes stores a note; GET /notes/{id} answers `shown(text)` (None: a 500)."""
    stored: dict[str, str] = {}

    async def create(request: Request) -> Response:
        try:
            data = json.loads(await request.body())
        except ValueError:
            return refusing(request)
        if not Draft202012Validator(NOTE).is_valid(data):
            return refusing(request)
        stored[str(len(stored) + 1)] = data["text"]
        return Response(json.dumps({"id": str(len(stored))}), status_code=201, media_type="application/json")

    async def read(request: Request) -> Response:
        if request.path_params["id"] not in stored:
            return JSONResponse({"error": "not-found"}, status_code=404)
        text = shown(stored[request.path_params["id"]])
        if text is None:
            return PlainTextResponse("Internal Server Error", status_code=500)
        return Response(json.dumps({"text": text}), media_type="application/json")

    return serve(loop, Route("/notes", create, methods=["POST"]), Route("/notes/{id}", read))


NOTES = document(
    operation("/notes", "post", body=NOTE),
    operation("/notes/{id}", parameters=[{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]),
)


def test_what_was_accepted_is_read_back_as_sent_or_lawfully_normalised(loop):
    def lone(text: str) -> bool:
        return any(0xD800 <= ord(c) <= 0xDFFF for c in text)

    broken = fuzz.fuzz(notes(loop, lambda t: None if lone(t) else t), NOTES, budget=FAST).findings
    (finding,) = [f for f in broken if f.problem == "read-back-error"]
    assert finding.case.rule == "lone-surrogate" and finding.written.status_code == 201
    assert finding.response.request.method == "GET" and "→ HTTP 201, GET /notes/" in finding.describe()
    changed = fuzz.fuzz(notes(loop, lambda t: t + "!"), NOTES, budget=FAST).findings
    assert changed and {f.problem for f in changed} == {"read-back-differs"}
    normalised = fuzz.fuzz(notes(loop, lambda t: unicodedata.normalize("NFC", t).strip()), NOTES, budget=FAST)
    assert normalised.findings == [] and normalised.requests > normalised.cases  # reads were made


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


def dossier_app(loop: BlockingPortal) -> httpx.Client:
    """Dossiers that follow lifecycle.yaml; an action checks the state first (409), then the actor's role (403),
    then its body, whose actor's maxLength it forgets: a 500 behind the state check."""
    lifecycle = load_lifecycle()
    status: dict[str, list[str]] = {}

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
            return JSONResponse({"error": "illegal-transition"}, status_code=409)
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

    return serve(
        loop,
        Route("/dossiers", submit, methods=["POST"]),
        Route("/dossiers/{code}/actions/{action}", act, methods=["POST"]),
    )


ACTING = document(
    operation(
        "/dossiers/{code}/actions/{action}",
        "post",
        parameters=[
            {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "action", "in": "path", "required": True, "schema": {"enum": sorted(load_lifecycle().actions)}},
        ],
        body={
            "type": "object",
            "required": ["actor"],
            "properties": {"actor": {"type": "string", "minLength": 1, "maxLength": 10}},
            "examples": [{"actor": "A"}],
        },
    )
)


def test_each_action_gets_a_dossier_in_a_state_where_it_can_act_so_state_never_masks_input_checks(loop):
    client = dossier_app(loop)
    roles = {"citizen": {"x-role": "citizen"}, "officer": {"x-role": "officer"}}
    budget = fuzz.Budget(max_examples=4, generated_examples=6, undocumented_status="off")
    one = Clerk(client).submit("p").code
    alone = fuzz.fuzz(client, ACTING, sessions=list(roles.values()), known={"code": one}, budget=budget)
    (sent, past) = alone.past_state["POST /dossiers/{code}/actions/{action}"]
    assert past < sent  # one dossier for every request: many inputs never got past the state check (409)
    pool = DossierPool(Clerk(client), load_lifecycle(), "code", "p", roles)
    pooled = fuzz.fuzz(
        client, ACTING, sessions=list(roles.values()), known={"code": one}, budget=budget, resources=pool
    )
    (sent, past) = pooled.past_state["POST /dossiers/{code}/actions/{action}"]
    assert past == sent and pooled.setup_requests == pool.requests > 0 and not pool.failed
    assert {(f.case.rule, f.problem) for f in pooled.findings} == {("maxLength", "server-error")}
    assert not any(f.response.status_code == 403 for f in pooled.findings)  # each action with its actor's session


def test_a_connection_the_server_closed_after_a_crash_is_tried_once_more_and_the_crash_is_the_finding():
    dropped: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"null")
        if isinstance(body, dict) and isinstance(body.get("title"), str) and len(body["title"]) > 10:
            if not dropped:  # the crash's connection is closed: the next request on it fails unsent
                dropped.append(1)
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
            return httpx.Response(500, text="Internal Server Error")
        valid = isinstance(body, dict) and isinstance(body.get("title"), str)
        return httpx.Response(201 if valid else 422, json={})

    client = httpx.Client(base_url="http://sut.test", transport=httpx.MockTransport(handler))
    doc = document(operation("/items", "post", body=TITLED))
    found = fuzz.fuzz(client, doc, budget=FAST).findings
    assert dropped and {(f.case.rule, f.problem) for f in found} == {("maxLength", "server-error")}


def test_a_path_naming_the_action_in_the_systems_own_words_is_fuzzed_once_per_action():
    """Demo 3's `/mc/ho-so/{so}/{buoc}` names lifecycle actions in its own words (the http driver's
    vocabulary.action): the pool knows them, each action is an operation of its own (a transfer's rules are not a
    finish's), and a dossier is brought along the core path, not by an optional move a system may refuse."""
    from pathlib import Path

    from harness.config.target import load_target
    from harness.fuzz.state import action_words

    env = {"P111_DEMO3_PAYMENT_SECRET": "p", "P111_DEMO3_OFFICER_KEY": "k", "P111_DEMO3_SECOND_PASSWORD": "w"}
    target = load_target(Path(__file__).parents[1] / "examples" / "demo3.target.yaml", env=env)
    words = action_words(target)
    assert words["nhan"] == "receive" and words["chuyen"] == "transfer"
    steps_words = sorted(w for w, action in words.items() if action != "submit")  # what /{buoc} takes
    assert action_words(embedded_target()) == {}  # the reference API names actions as the lifecycle does
    steps = document(
        operation(
            "/mc/ho-so/{so}/{buoc}",
            "post",
            parameters=[
                {"name": "so", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "buoc", "in": "path", "required": True, "schema": {"enum": steps_words}},
            ],
            body={"type": "object", "properties": {"nguoi": {"type": "string"}}},
        )
    )
    operations, _ = fuzz.input_operations(steps)
    pool = DossierPool(SimpleNamespace(), load_lifecycle(), "so", "p", {}, words)
    split = pool.split(operations)
    assert sorted(p.schema["enum"][0] for o in split for p in o.parameters if p.name == "buoc") == steps_words
    assert pool._action({("path", "so"): "X", ("path", "buoc"): "yeu-cau-bo-sung"}) == "request-supplement"
    assert pool._route(["5"]) == ["receive", "request-supplement"]  # not the optional supplement before receipt
