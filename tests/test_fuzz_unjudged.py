"""harness.fuzz: what cannot be judged is left out, never judged falsely; what the document allows is what is
sent (path segments, headers, nullable, allOf/oneOf)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from hypothesis import find, settings
from hypothesis.errors import NoSuchExample
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from harness.config.target import embedded_target, load_target_text
from harness.core.verdicts import NotTested
from harness.fuzz import fuzzer as fuzz
from harness.fuzz import generation
from tests.fuzz_support import DOCUMENT, FAST, TITLED, app, checking, document, operation, refusing, robust_input, serve
from tests.fuzz_support import loop as _loop

loop = _loop  # the module's event loop fixture, found by pytest by its name


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
    lawful = fuzz.fits("path")
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
        find(fuzz.breaking_values("type", note, None, "body"), lambda v: v is None, settings=settings(database=None))


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
    breaking = generation.breaking_values

    def broken(rule: str, *args: Any) -> Any:
        if rule == "maxLength":
            raise RuntimeError("no strategy")
        return breaking(rule, *args)

    monkeypatch.setattr(generation, "breaking_values", broken)  # where the mutation looks it up
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
