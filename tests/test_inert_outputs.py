"""What a hostile SUT writes ends up inert in every output: summary.md renders nothing active (as GitHub's renderer
would show it: GFM tables, raw HTML, autolinks), the terminal gets no escape sequence or control character,
evidence.ndjson splits into exactly its records whatever line separators the SUT sent, and an encoded secret is
redacted like a plain one."""

from __future__ import annotations

import base64
import html
import json
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from html.entities import codepoint2name
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import httpx
import pytest
from jinja2 import Environment
from markdown_it import MarkdownIt

from harness.core import inert
from harness.http.evidence import EvidenceRecorder
from harness.http.redaction import REDACTED, Redactor
from harness.reporting import report as reports
from harness.reporting.summary_md import render_summary
from tests.reports_support import synthetic_run

# What a SUT may put in a failure's text to make a CI page or a pull request act for it.
PAYLOADS = (
    "![pixel](http://evil.example/track.png)",
    "[Phê duyệt / Approve](http://evil.example/approve)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    "<a href='http://evil.example'>click</a>",
    "http://evil.example/autolink",
    "www.evil.example",
    "phish@evil.example",
    "``` fence ```",
    "| cell | injection |",
    "**bold** _it_ ~~strike~~",
    "[ref]: http://evil.example\n[ref]",
    "<http://evil.example/angle>",
    "line\n\n# heading\n- item",
)


def _tags(html: str) -> Counter[str]:
    return Counter(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html))


def _hostile_report(payload: str) -> dict:
    run = synthetic_run()
    record = next(r for rs in run.checks.values() for r in rs if r.outcome is not None and r.outcome.value == "FAILED")
    record.failure = {"summary": payload, "expected": payload, "received": payload, "evidence": payload}
    record.message = payload
    report = reports.build_report(run)
    report["target"]["document"]["name"] = payload
    report["operator"] = payload
    return report


@pytest.mark.parametrize("payload", PAYLOADS)
def test_summary_md_renders_nothing_the_sut_wrote(payload):
    """Rendered as GitHub renders it, the summary with the payload has exactly the elements of the summary with a
    harmless text in its place: the payload added no link, image, HTML, heading, list or emphasis."""
    render = MarkdownIt("gfm-like").render
    html = render(render_summary(_hostile_report(payload), "en"))
    baseline = render(render_summary(_hostile_report("harmless"), "en"))
    assert _tags(html) == _tags(baseline), (payload, _tags(html) - _tags(baseline))
    assert not re.search(r"<[^>]*\s(href|src|on\w+)=", html)
    # and the text is still there to read, as text
    assert "evil" not in payload or "evil.example" in html


def test_summary_md_table_keeps_its_columns():
    markdown = render_summary(_hostile_report("a | b | c"), "en")
    html = MarkdownIt("gfm-like").render(markdown)
    rows = [row for row in html.split("<tr>")[1:]]
    assert rows and all(row.count("<td>") in (0, 3) for row in rows)


def test_code_span_holds_any_backticks():
    for text in ("`", "a``b", "```", "`edge`", " x "):
        html = MarkdownIt("gfm-like").render(inert.code_span(text))
        assert "<code>" in html, (text, html)


def test_terminal_text_moves_nothing():
    hostile = ("ok\x1b[2J\x1b[31mred\x1b]0;title\x07\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\"
               "\x9b31m\r\b\x07\u202egnp.exe\u2028")
    shown = inert.terminal(hostile)
    assert not any(ord(c) < 32 and c not in "\n\t" or 0x7F <= ord(c) <= 0x9F for c in shown), repr(shown)
    assert "\u202e" not in shown and "\u2028" not in shown
    assert shown.startswith("okredlink")
    json.loads(inert.terminal(json.dumps({"a": "\x85\u2028\u202e"}, ensure_ascii=False)))  # JSON stays JSON


def test_p111_diff_prints_a_hostile_report_inert(tmp_path: Path):
    def report(verdict: str) -> Path:
        path = tmp_path / f"{verdict}.json"
        path.write_text(json.dumps({"finished_at": "\x1b]0;pwned\x07now", "requirements": [
            {"id": "P111-X\x1b[2J\x1b[31m", "verdict": verdict}]}), encoding="utf-8")
        return path

    done = subprocess.run([sys.executable, "-m", "harness.cli", "diff", str(report("PASSED")), str(report("FAILED"))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout
    assert "P111-X" in done.stdout


def test_evidence_ndjson_splits_into_its_records_only():
    recorder = EvidenceRecorder(Redactor())
    body = "a\u2028b\u2029c\u0085d\r\ne"
    client = httpx.Client(
        base_url="http://sut.test", transport=httpx.MockTransport(lambda r: httpx.Response(200, text=body)),
        event_hooks={"response": [recorder.record]},
    )
    client.get("/one")
    client.post("/two", content=body)
    text = recorder.ndjson()
    assert len(text.splitlines()) == 2  # Python's splitlines splits on U+2028, U+2029, U+0085 too
    assert [json.loads(line)["response"]["body"] for line in text.splitlines()] == [body, body]
    assert not any(c in text for c in "\u2028\u2029\u0085")


@pytest.mark.parametrize("encode", [
    lambda s: base64.b64encode(s.encode()).decode(),
    lambda s: base64.urlsafe_b64encode(s.encode()).decode(),
    lambda s: "Basic " + base64.b64encode(f"officer:{s}".encode()).decode(),
    lambda s: base64.b64encode(f"xy{s}!".encode()).decode(),
    lambda s: quote(s, safe=""),
    lambda s: s.encode().hex(),
    lambda s: s.encode().hex().upper(),
], ids=["base64", "base64url", "basic", "base64-shifted", "url", "hex", "HEX"])
def test_an_echoed_secret_is_redacted_in_any_encoding(encode):
    secret = "k3y/with+odd=chars-77"
    redactor = Redactor([secret])
    echoed = f"debug: {encode(secret)} end"
    shown = redactor.text(echoed, "test")
    assert REDACTED in shown
    assert secret not in shown and encode(secret) not in shown


@pytest.mark.parametrize("escape", [
    lambda s: html.escape(s),
    lambda s: Environment(autoescape=True).from_string("{{ s }}").render(s=s),
    lambda s: xml_escape(s),
    lambda s: quoteattr(s)[1:-1],
    lambda s: "".join(f"&#{ord(c)};" if c in "&<>\"'" else c for c in s),
    lambda s: "".join(f"&#X{ord(c):02X};" if c in "&<>\"'" else c for c in s),
    lambda s: json.dumps(s)[1:-1].replace("&", "\\u0026").replace("<", "\\u003C"),
    lambda s: repr(s)[1:-1],
], ids=["html", "autoescape", "xml", "xml-attribute", "decimal", "HEX", "json-u", "repr"])
def test_a_secret_written_as_entities_or_escapes_is_redacted(escape):
    """junit.xml, report.html and a SUT's error page write a secret's `&`, `<`, `>`, `"` and `'` as entities; JSON and
    a Python repr escape quotes with a backslash: each form is found."""
    secret = "Kh0a&Can\"Bo<Mot>Cua'77"
    redactor = Redactor([secret])
    shown = redactor.text(f"<failure message=\"Received: {escape(secret)} end\">", "junit.xml")
    assert shown == '<failure message="Received: [REDACTED] end">'
    assert redactor.entries() == [{"where": "junit.xml", "what": "secret (escaped)", "count": 1}]


@pytest.mark.parametrize("escape", [
    lambda s: json.dumps(s)[1:-1],
    lambda s: s.encode("ascii", "xmlcharrefreplace").decode(),
    lambda s: "".join(f"&#x{ord(c):x};" if not c.isascii() else c for c in s),
    lambda s: s.encode("unicode_escape").decode(),
    lambda s: "".join(f"&{codepoint2name[ord(c)]};" if ord(c) in codepoint2name else c for c in s),
    lambda s: unicodedata.normalize("NFD", s),
    lambda s: s,
], ids=["json-ascii", "decimal", "hex", "unicode-escape", "named-entity", "decomposed", "plain"])
def test_a_secret_outside_ascii_is_redacted_however_it_is_written(escape):
    """A Vietnamese password, and one beyond the BMP: JSON written with ensure_ascii holds each such character as
    `\\u1ead` (a surrogate pair beyond the BMP), an HTML page may hold it as an entity, and a system may hand back
    what it got in Unicode's other normal form (tone marks as combining characters)."""
    for secret in ("Mật-khẩu-Cán-bộ-77", "khóa😀bí-mật"):
        redactor = Redactor([secret])
        shown = redactor.text(f"Received: {escape(secret)} end", "report.json")
        assert shown == "Received: [REDACTED] end", (secret, shown)


def test_a_secret_cut_inside_one_of_its_escapes_leaves_nothing_of_itself():
    """An excerpt of a body (limits.excerpt) may end half-way through `\\u1ead`: what stands before it is removed."""
    from harness.core import limits

    secret = "Mật-khẩu-Cán-bộ-77"
    for pad in range(100, 200):
        body = json.dumps({"error": "x" * pad, "password": secret})
        shown = Redactor([secret]).text(limits.excerpt(body), "report.json")
        assert "M\\u1eadt-" not in shown, shown[-70:]


def test_a_large_body_teaches_a_sensitive_value_written_with_escapes():
    """A body too large to keep is read as text for its sensitive fields: a value with `\\u` escapes is learnt as the
    text it stands for, and found however it is written elsewhere."""
    secret = "Mật-khẩu-Cán-bộ-77"
    redactor = Redactor([])
    redactor.learn_from_json_text(json.dumps({"data": "x", "password": secret}))
    assert secret in redactor.known()
    assert redactor.text(f"echo {secret} and {json.dumps(secret)}") == f"echo {REDACTED} and \"{REDACTED}\""


@pytest.mark.parametrize("before_cut", [0, 3, 4, 12, 21, 22])
def test_a_secret_the_bound_on_quoted_text_cuts_through_leaves_nothing_of_itself(before_cut: int):
    """limits.quoted cuts the SUT's text before the reports redact it: a secret the cut goes through would leave its
    start, which no search for the whole secret finds; the redactor removes a start of 4 characters or more."""
    from harness.core import limits

    secret = "Kh0a&Can\"Bo<Mot>Cua'77"
    text = "x" * (limits.MAX_QUOTED_CHARS - before_cut) + secret + "tail" * 50
    shown = Redactor([secret, "another-secret-value"]).text(limits.quoted(text), "report.json")
    assert limits.CUT_NOTE.search(shown)
    assert not any(secret[:n] in shown for n in range(4, len(secret) + 1)), shown[-80:]
    assert (REDACTED in shown) == (before_cut >= 4)
    assert Redactor([secret]).text("Kh0a… plain text") == "Kh0a… plain text"  # no cut, nothing removed


@pytest.mark.parametrize(("secret", "written"), [
    ("k3y+with/odd`chars-77", "k3y\\u002Bwith\\/odd\\u0060chars-77"),  # .NET's JSON writer, PHP's json_encode
    ("plain-secret-value-1", "plain&#45;secret-value-1"),  # any character may be an entity on an error page
    ("plain-secret-value-1", "plain&#45;secret&#x2d;value&#x2D;1"),
    ("Mật+khẩu/Cán-bộ", "M\\u1EADt\\u002Bkh&#7849;u\\/C&aacute;n-b\\u1ed9"),  # mixed, as writers mix them
])
def test_a_secret_with_any_character_escaped_in_any_way_is_redacted(secret, written):
    """A writer may escape any character, not only markup: .NET's JSON writer writes `+` as `\\u002B`, PHP's `/` as
    `\\/`, an error page any character as an entity; the text is also read with its escapes decoded."""
    redactor = Redactor([secret])
    assert redactor.text(f"a &amp; b \\ c {written} end", "evidence") == f"a &amp; b \\ c {REDACTED} end"


def test_an_escaped_lone_surrogate_is_read_as_written():
    """A hostile system's `\\ud800` (valid JSON text, no character) must not break the redactor, nor hide a secret."""
    secret = "khóa-bí-mật-9"
    text = f"\\ud800 &#xD800; \\udfff\\U0000d800 {json.dumps(secret)[1:-1]} \\ud83d"
    assert Redactor([secret]).text(text, "evidence") == f"\\ud800 &#xD800; \\udfff\\U0000d800 {REDACTED} \\ud83d"


def test_a_sensitive_value_holding_a_lone_surrogate_is_learnt_as_outputs_write_it():
    """A body too large to keep may carry `"password": "abc\\ud800defgh"`: learnt as the escape's text (as evidence
    writes it), so that neither the search of every secret nor an output breaks on it."""
    learnt = Redactor([])
    learnt.learn_from_json_text('{"password": "abc\\ud800defgh"}')
    learnt.data({"token": "xyz\udfffuvw12"}, "body")
    assert set(learnt.known()) == {"abc\\ud800defgh", "xyz\\udfffuvw12"}
    given = Redactor(["abc\ud800defgh", "xyz\udfffuvw12"])  # every secret searched at once, by one automaton
    assert given.text("abc\\ud800defgh and xyz\\udfffuvw12", "evidence") == f"{REDACTED} and {REDACTED}"


def test_an_escape_that_makes_no_secret_is_left_as_it_was():
    text = "a &amp; b \\ c plain&#45;other-value-1 \\u002B &unknown; \\x"
    assert Redactor(["plain-secret-value-1"]).text(text) == text


def test_encoded_text_without_a_secret_is_left_alone():
    redactor = Redactor(["session-value-123"])
    plain = "conformance_tests 0123456789abcdef dGhpcyBpcyBoYXJtbGVzcw== a%20b"
    assert redactor.text(plain) == plain
    assert list(redactor.known()) == ["session-value-123"]  # nothing new learnt: the encodings are read, not stored


def test_report_html_shows_control_characters_and_bidi_overrides_as_text():
    """report.html escapes markup (autoescape) and shows every control character, escape sequence and bidirectional
    override the SUT sent as `\\u….` text: nothing reorders, hides or titles what a person reads."""
    from harness.reporting.html import render_html

    hostile = "status\x1b]0;owned\x07\x00\u202edesrever<b>x</b>"
    html = render_html(_hostile_report(hostile), [], "en")
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]", html)
    assert "\\u202e" in html and "\\u001b" in html and "&lt;b&gt;x&lt;/b&gt;" in html
