"""Evidence: HAR 1.2 valid against its schema, NDJSON, links from report.json, and the redaction log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from harness.core import schemas
from harness.core.resources import schema_dir
from harness.http.redaction import REDACTED, Redactor
from tests.reports_support import SECRET, write_synthetic


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("evidence")
    write_synthetic(directory)
    return directory


def test_har_validates_against_the_har_schema(written: Path):
    archive = json.loads((written / "evidence.har").read_text(encoding="utf-8"))
    schema = json.loads((schema_dir() / "har.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schemas.first_error("har", archive) is None
    entries = archive["log"]["entries"]
    assert archive["log"]["version"] == "1.2" and len(entries) == 4
    first = entries[0]
    assert first["request"]["method"] == "POST" and first["response"]["status"] == 200
    assert {"name": "authorization", "value": REDACTED} in first["request"]["headers"]
    assert json.loads(first["request"]["postData"]["text"])["password"] == REDACTED
    assert schemas.first_error("har", {"log": {"version": "1.1", "creator": {}, "entries": []}}) is not None


def test_ndjson_and_har_are_linked_from_report_json(written: Path):
    report = json.loads((written / "report.json").read_text(encoding="utf-8"))
    assert report["outputs"]["evidence_har"] == "evidence.har"
    assert report["outputs"]["evidence_ndjson"] == report["evidence_file"] == "evidence.ndjson"
    for name in report["outputs"].values():
        assert (written / name).is_file(), name
    rows = [json.loads(line) for line in (written / "evidence.ndjson").read_text(encoding="utf-8").splitlines()]
    assert [r["seq"] for r in rows] == [1, 2, 3, 4]
    failed = next(r for r in report["requirements"] if r["id"] == "P111-SYNC-DOSSIER")
    assert failed["checks"][0]["evidence"] == [1, 2]


def test_the_redaction_log_says_what_and_where_never_the_value(written: Path):
    log = json.loads((written / "redactions.json").read_text(encoding="utf-8"))["entries"]
    report = json.loads((written / "report.json").read_text(encoding="utf-8"))
    assert report["redactions"] == sum(e["count"] for e in log) > 0
    whats = {e["what"] for e in log}
    assert {"header authorization", "header set-cookie", "field SoDinhDanh", "field Email", "field password"} <= whats
    assert any(e["where"] == "evidence #1 request.headers.authorization" for e in log)
    text = json.dumps(log)
    for value in (SECRET, "001099012345", "citizen@example.vn"):
        assert value not in text


class TestRedactor:
    def test_patterns_for_email_and_phone_in_free_text(self):
        redactor = Redactor()
        clean = redactor.text("gọi 0912345678 hoặc +84987654321, thư a.b@so.gov.vn; mã 000.00.06.H40-261127-0001",
                              "msg")
        assert clean == f"gọi {REDACTED} hoặc {REDACTED}, thư {REDACTED}; mã 000.00.06.H40-261127-0001"
        assert redactor.entries() == [
            {"where": "msg", "what": "pattern email", "count": 1},
            {"where": "msg", "what": "pattern phone", "count": 2},
        ]

    def test_values_learnt_one_by_one_are_removed_whole_even_when_they_overlap(self):
        redactor = Redactor(["base-secret-1"])
        assert redactor.text("base-secret-1") == REDACTED  # compiled
        redactor.add("pending-value-7", label="late")  # replaced one by one until the next compile
        redactor.add("xx-base-secret-1-yy", label="longer")  # contains a known secret: compiled again, longest first
        redactor.add(*(f"many-{i:03d}-values" for i in range(40)))  # more than a batch: compiled again
        text = "pending-value-7 / xx-base-secret-1-yy / many-039-values / base-secret-1"
        assert redactor.text(text, "t") == f"{REDACTED} / {REDACTED} / {REDACTED} / {REDACTED}"
        assert {"where": "t", "what": "late", "count": 1} in redactor.entries()

    def test_credentials_in_a_url_are_removed_and_learnt(self):
        redactor = Redactor()
        url = "https://sut.vn/auth/callback?state=s-123&code=auth-code-9f31#access_token=at-77aa&x=1"
        assert redactor.text(url, "url") == (
            f"https://sut.vn/auth/callback?state=s-123&code={REDACTED}#access_token={REDACTED}&x=1"
        )
        assert redactor.text("the code auth-code-9f31 was spent") == f"the code {REDACTED} was spent"
        assert {"where": "url", "what": "URL parameter code", "count": 1} in redactor.entries()

    def test_a_value_seen_in_a_sensitive_field_is_removed_from_later_text(self):
        redactor = Redactor()
        redactor.data({"SoGiayToChuHoSo": "036099001234", "SoCMND": "12"})
        assert redactor.text("chủ hồ sơ 036099001234") == f"chủ hồ sơ {REDACTED}"

    def test_settings_add_fields_headers_and_patterns_and_switch_one_off(self):
        redactor = Redactor.from_settings(
            [("${P111_X}", "s3cret-value")],
            {"fields": ["MaSoThue"], "headers": ["X-Session"], "patterns": {"phone": None, "plate": r"18A-\d{5}"}},
        )
        assert redactor.data({"MaSoThue": "0101", "n": "0912345678 18A-12345 s3cret-value"}) == {
            "MaSoThue": REDACTED,
            "n": f"0912345678 {REDACTED} {REDACTED}",
        }
        assert redactor.headers([("X-Session", "abc")]) == {"X-Session": REDACTED}
        assert {"what": "${P111_X}", "where": "n", "count": 1} in redactor.entries()


def test_header_values_are_learnt_and_removed_from_bodies_that_echo_them():
    redactor = Redactor()
    redactor.headers([("Set-Cookie", "sid=cookie-value-1234; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly"),
                      ("Authorization", "Bearer token-abcdef")], "evidence #1 response")
    echoed = redactor.data({"debug": "sid=cookie-value-1234 token-abcdef HttpOnly", "Cookie": "x"})
    assert echoed == {"debug": f"sid={REDACTED} {REDACTED} HttpOnly", "Cookie": REDACTED}
    assert redactor.text("Wed, 21 Oct 2026 07:28:00 GMT") == "Wed, 21 Oct 2026 07:28:00 GMT"


def test_a_body_too_large_to_keep_is_summarised_and_its_secrets_still_learnt():
    from harness.http.evidence import MAX_JSON_BYTES, _body

    rows = [{"MaHoSo": f"000.00.06.H40-261127-{i:04d}", "SoDinhDanh": f"0361990{i:05d}"} for i in range(6000)]
    content = json.dumps({"items": rows}).encode()
    assert len(content) > MAX_JSON_BYTES
    redactor = Redactor()
    kept = _body(content, redactor, "evidence #1 response.body")
    assert isinstance(kept, str) and "too large to keep in evidence" in kept and "036199000042" not in kept
    assert redactor.text("chủ hồ sơ 036199000042") == f"chủ hồ sơ {REDACTED}"


@pytest.mark.parametrize("depth", [101, 100_000])
def test_a_body_nested_too_deeply_is_kept_as_an_exchange_with_its_size_and_digest(depth: int):
    """A hostile SUT's answer nested past limits.MAX_DEPTH (deep enough that parsing it would recurse out of Python's
    stack, or only deeper than any message of the contract): the exchange is recorded, its body named by size and
    digest, never a RecursionError in the recorder; its secrets are still learnt."""
    import hashlib

    import httpx

    from harness.core import limits
    from harness.http.evidence import EvidenceRecorder

    content = ('{"token": "deep-secret-token-77", "a": ' + "[" * depth + "]" * depth + "}").encode()
    recorder = EvidenceRecorder(Redactor())
    answer = httpx.MockTransport(lambda request: httpx.Response(200, content=content,
                                                                headers={"content-type": "application/json"}))
    with httpx.Client(base_url="http://sut.test", transport=answer, event_hooks={"response": [recorder.record]}) as c:
        c.get("/api/procedures")
    (exchange,) = recorder.exchanges
    digest = hashlib.sha256(content).hexdigest()
    assert exchange["status"] == 200
    assert exchange["response"]["body"] == (f"[{len(content)} bytes, sha256 {digest}: JSON nested more than "
                                            f"{limits.MAX_DEPTH} levels deep]")
    assert json.loads(recorder.ndjson().splitlines()[0])["url"] == "http://sut.test/api/procedures"
    assert recorder.redactor.text("echo deep-secret-token-77") == f"echo {REDACTED}"
