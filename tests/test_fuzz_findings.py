"""harness.fuzz, issue 20: undocumented statuses, a missing body, lawful callbacks, seeds, state, written-then-read,
a connection closed after a crash."""

from __future__ import annotations

import json
import unicodedata
from types import SimpleNamespace
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal
from jsonschema import Draft202012Validator
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from harness.config.target import embedded_target, load_target_text
from harness.core.lifecycle import load_lifecycle
from harness.fuzz import fuzzer as fuzz
from harness.fuzz.state import DossierPool
from tests.fuzz_support import FAST, TITLED, Clerk, document, dossier_app, operation, refusing, serve
from tests.fuzz_support import loop as _loop

loop = _loop  # the module's event loop fixture, found by pytest by its name


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
    (sent, past) = map(sum, zip(*alone.past_state.values(), strict=True))
    assert past < sent  # one dossier for every request: many inputs never got past the state check (409)
    pool = DossierPool(Clerk(client), load_lifecycle(), "code", "p", roles)
    pooled = fuzz.fuzz(
        client, ACTING, sessions=list(roles.values()), known={"code": one}, budget=budget, resources=pool
    )
    labels = {f"POST /dossiers/{{code}}/actions/{{action}} ({a})" for a in load_lifecycle().actions}
    assert set(pooled.past_state) == labels  # told per action: each has its own state check
    (sent, past) = map(sum, zip(*pooled.past_state.values(), strict=True))
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
    asked = {("path", "so"): "X", ("path", "buoc"): "yeu-cau-bo-sung"}
    assert pool._action(split[0], asked) == "request-supplement"
    assert pool._route(["5"]) == ["receive", "request-supplement"]  # not the optional supplement before receipt
