"""The evidence's last redaction pass: what was learnt late is removed everywhere; an exchange redacted when nothing
more was to be learnt is not passed again (it cost most of writing the report)."""

from __future__ import annotations

import base64

import httpx

from harness.http.evidence import EvidenceRecorder
from harness.http.redaction import Redactor

TOKEN = "late-token-0123456789abcdef"


def _answer(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/login":
        return httpx.Response(200, json={"access_token": TOKEN})
    return httpx.Response(200, json={"echo": f"seen {TOKEN}" if request.url.path == "/before" else "nothing"})


def test_a_value_learnt_late_is_removed_from_earlier_exchanges_and_later_ones_are_kept_as_they_are():
    recorder = EvidenceRecorder(Redactor([]))
    client = httpx.Client(base_url="http://sut.test", transport=httpx.MockTransport(_answer),
                          event_hooks={"response": [recorder.record]})
    client.get("/before")  # the token shows up before anything says it is secret
    client.get("/login")  # its field name makes it secret from here on
    client.get("/after")
    assert TOKEN in str(recorder.exchanges[0])
    final = recorder.final()
    assert TOKEN not in str(final) and "[REDACTED]" in str(final[0]["response"]["body"])
    assert final[2] is recorder.exchanges[2]  # nothing was learnt after it: kept, not passed again
    assert final[0] is not recorder.exchanges[0]
    # The login's own answer was redacted as the token was learnt: nothing in it is left to remove, so it is kept.
    assert final[1] is recorder.exchanges[1]


def test_a_value_learnt_late_is_removed_where_an_earlier_exchange_holds_it_encoded():
    encoded = base64.b64encode(TOKEN.encode()).decode()

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/login":
            return httpx.Response(200, json={"access_token": TOKEN})
        return httpx.Response(200, json={"echo": f"seen {encoded}", "other": "nothing secret here"})

    recorder = EvidenceRecorder(Redactor([]))
    client = httpx.Client(base_url="http://sut.test", transport=httpx.MockTransport(answer),
                          event_hooks={"response": [recorder.record]})
    client.get("/before")
    client.get("/login")
    final = recorder.final()
    assert encoded not in str(final) and final[0] is not recorder.exchanges[0]


def test_exchanges_merged_from_elsewhere_are_always_passed_again():
    recorder = EvidenceRecorder(Redactor([TOKEN]))
    merged = {"seq": 1, "check": None, "method": "GET", "url": f"http://sut.test/?t={TOKEN}", "status": 200,
              "request": {"headers": {}, "body": None}, "response": {"headers": {}, "body": None}}
    recorder.exchanges.append(merged)
    assert TOKEN not in str(recorder.final())


def test_a_lone_surrogate_escape_is_kept_visible_and_plain_bodies_are_kept_as_parsed():
    """Only JSON text with a \\u escape of the surrogate range is walked for lone surrogates (no UTF-8 report can hold
    one): the escape stays visible as text; any other body is kept as it was parsed."""
    bodies = {"/lone": b'{"name": "a\\ud800b", "ok": ["\\u00e9"]}', "/plain": '{"name": "Nguyễn"}'.encode()}
    recorder = EvidenceRecorder(Redactor([]))
    client = httpx.Client(base_url="http://sut.test", event_hooks={"response": [recorder.record]},
                          transport=httpx.MockTransport(lambda r: httpx.Response(200, content=bodies[r.url.path])))
    client.get("/lone")
    client.get("/plain")
    assert recorder.exchanges[0]["response"]["body"] == {"name": "a\\ud800b", "ok": ["é"]}
    assert recorder.exchanges[1]["response"]["body"] == {"name": "Nguyễn"}


def test_a_text_remembered_clean_is_searched_again_once_a_secret_is_learnt():
    """The redactor remembers texts that held nothing to remove, only while it searches for the same secrets."""
    redactor = Redactor([])
    text = f"the SUT said {TOKEN}"
    assert redactor.text(text) == text and redactor.text(text) == text  # searched, then remembered clean
    redactor.add(TOKEN)
    assert redactor.text(text) == "the SUT said [REDACTED]"
    redactor.add("another-secret-value")  # learnt while the token waits to be built into the automaton
    assert redactor.text(text) == "the SUT said [REDACTED]"
    assert redactor.text("plain words, nothing secret") == "plain words, nothing secret"


def test_sensitive_fields_of_a_body_too_large_to_keep_are_learnt_in_any_case():
    """A body too large to keep is searched for the sensitive fields' values without parsing it: the fields' names in
    any case, also where a character folds to an ASCII letter only case-insensitively (ſ, K), and a target's own
    non-ASCII field names."""
    redactor = Redactor([])
    redactor.learn_from_json_text('[{"MaHoSo": "x"}, {"sodienthoai": "0912345678", "PASSWORD": "hunter22"}]')
    redactor.learn_from_json_text('{"pa\u017f\u017fword": "long-s-secret", "to\u212aen": "kelvin-secret"}')
    redactor.learn_from_json_text('{"MaHoSo": "000.00.06.H40-261207-0001", "note": "password token"}')  # no field
    assert set(redactor.known()) == {"0912345678", "hunter22", "long-s-secret", "kelvin-secret"}
    own = Redactor([], fields=["SốCCCD"])
    own.learn_from_json_text('{"sốcccd": "0123456789", "MaHoSo": "x"}')
    assert set(own.known()) == {"0123456789"}


def test_a_secret_learnt_later_and_cut_short_in_a_long_body_is_removed():
    """A long non-JSON body is cut with the one cut note; a secret learnt after it was recorded, straddling the cut,
    leaves no start of itself behind once the final pass looks again."""
    from harness.http import evidence
    from harness.http.redaction import REDACTED, Redactor

    secret = "Kh0a-Bi-Mat-Cua-He-Thong-2026"
    text = "x" * (evidence.MAX_BODY_CHARS - 10) + secret + "y" * 5000
    redactor = Redactor()
    count = redactor.known_count()
    kept = evidence._body(text.encode(), redactor, "evidence #1 response")
    assert secret[:10] in kept and secret not in kept  # cut through the secret, not yet known
    redactor.add(secret, label="officer key")
    assert redactor.holds_secret_learnt_after(kept, count)
    final = redactor.data(kept, "evidence #1 response")
    assert secret[:4] not in final and REDACTED in final
