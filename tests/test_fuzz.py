"""harness.fuzz against small in-process Starlette apps: the kinds of input it makes, how it judges, how it
shrinks (helpers in tests/fuzz_support.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.responses import JSONResponse, PlainTextResponse, Response

from harness.fuzz import fuzzer as fuzz
from tests.fuzz_support import DOCUMENT, FAST, ITEM, app
from tests.fuzz_support import loop as _loop

loop = _loop  # the module's event loop fixture, found by pytest by its name


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
