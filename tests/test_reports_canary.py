"""Canary secrets planted in the target's secrets and in a hostile SUT's answers never appear in any file written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from harness.config.target import embedded_target, load_target
from mocks.serve import free_port, serve_in_thread
from tests.support import run_p111

SECRETS = {
    "P111_CANARY_API_KEY": "CANARY-apikey-5b2e91",
    "P111_CANARY_PORTAL": "CANARY-portal-a71c04",
    "P111_CANARY_PAYMENT": "CANARY-checksum-3d9f",
    "P111_CANARY_SSO": "CANARY-sso-c55e17",
}
CITIZEN = {"SoDinhDanh": "036199007771", "SoGiayToChuHoSo": "036199007772", "SoCMND": "163776655",
           "SoDienThoai": "0912777555", "Email": "canary.citizen@example.vn"}
IN_TEXT = ("0987111222", "canary.inline@example.vn")  # personal data in free text, found by its shape
CANARIES = (*SECRETS.values(), *CITIZEN.values(), *IN_TEXT, "CANARY-cookie-e0f2")


def _hostile_app() -> Starlette:
    async def anything(request: Request) -> JSONResponse:
        echoed = dict(request.headers)  # the API key comes back in a body: the redactor knows it as a target secret
        body = {
            "total": 1,
            "items": [{"code": "000.00.06.H40-261127-0001", **CITIZEN, "note": f"gọi {IN_TEXT[0]}, {IN_TEXT[1]}"}],
            "applicant": {"name": "Nguyễn Văn Canary", "id_number": CITIZEN["SoDinhDanh"],
                          "phone": CITIZEN["SoDienThoai"]},
            "echo": echoed,
            **CITIZEN,
        }
        return JSONResponse(body, headers={"set-cookie": "session=CANARY-cookie-e0f2; HttpOnly"})

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", anything, methods=methods)])



def test_no_canary_in_any_file_written(tmp_path: Path):
    sut = serve_in_thread("hostile", _hostile_app())
    try:
        target = tmp_path / "canary.target.yaml"
        target.write_text(
            json.dumps(
                {
                    "name": "Hệ thống thù địch (canary)",
                    "agencies": embedded_target().public_dict()["agencies"],
                    "sut": {"embedded": False, "base_url": sut.url, "api_key": "${P111_CANARY_API_KEY}"},
                    "counterparts": {
                        "portal": {"url": f"http://127.0.0.1:{free_port()}", "serve": True, "username": "p111",
                                   "password": "${P111_CANARY_PORTAL}"},
                        "payment": {"url": "http://127.0.0.1:9", "merchant_code": "P111",
                                    "secret": "${P111_CANARY_PAYMENT}"},
                        "sso": {"url": "http://127.0.0.1:9", "client_id": "p111",
                                "client_secret": "${P111_CANARY_SSO}"},
                    },
                    "safety": {"mode": "full", "environment": "staging"},
                    "timeouts": {"connect_seconds": 1, "request_seconds": 3, "sync_seconds": 0.2},
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        out = tmp_path / "out"
        result = run_p111("run", "--target", str(target), "--report", str(out), cwd=tmp_path, env=SECRETS)
    finally:
        sut.stop()
    assert (out / "manifest.json").is_file(), result.stdout[-3000:] + result.stderr[-3000:]
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != target]
    assert {"report.json", "report.html", "evidence.har", "evidence.ndjson", "junit.xml", "summary.md",
            "redactions.json", "manifest.json"} <= {p.name for p in written}
    ndjson = (out / "evidence.ndjson").read_text(encoding="utf-8")
    assert "Nguyễn Văn Canary" in ndjson, "the hostile SUT was reached and recorded"
    for path in written:
        text = path.read_bytes().decode("utf-8", errors="replace")
        found = [c for c in CANARIES if c in text]
        assert not found, f"{path.name} holds {found}"
    log = json.loads((out / "redactions.json").read_text(encoding="utf-8"))["entries"]
    whats = {e["what"] for e in log}
    assert {"header x-api-key", "header set-cookie", "field SoDinhDanh", "pattern phone", "pattern email"} <= whats


def test_no_token_payment_key_or_citizen_id_in_any_file_written(tmp_path: Path):
    """The reference system on the network, signing citizens in through a provider whose every code and access token
    carries a canary; the SUT's client secret and its payment key are canaries too. The suite signs in, presents
    bearer tokens, follows callbacks and signs payment confirms with the key, and none of it reaches a file."""
    from mocks.sso import load_accounts
    from mocks.wiring import serve_counterparts

    token_canary = "CANARYTOKENf41b"
    ports = {name: free_port() for name in ("portal", "reference", "sso", "payment")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    target = tmp_path / "tokens.target.yaml"
    target.write_text(
        json.dumps(
            {
                "name": "Hệ thống tham chiếu (canary đăng nhập)",
                "agencies": embedded_target().public_dict()["agencies"],
                "sut": {"embedded": False, "base_url": urls["reference"]},
                "counterparts": {
                    "portal": {"url": urls["portal"], "serve": False},
                    "sso": {"url": urls["sso"], "serve": False, "client_id": "p111-reference",
                            "client_secret": "${P111_CANARY_SSO}"},
                    "payment": {"url": urls["payment"], "serve": False, "merchant_code": "P111",
                                "secret": "${P111_CANARY_PAYMENT}"},
                },
                "safety": {"mode": "full", "environment": "staging"},
                "timeouts": {"connect_seconds": 2, "request_seconds": 5, "sync_seconds": 3},
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    served = serve_counterparts(
        load_target(target, SECRETS), host="127.0.0.1", portal_port=ports["portal"],
        reference_port=ports["reference"], sso_port=ports["sso"], payment_port=ports["payment"],
        token_prefix=token_canary,
    )
    try:
        out = tmp_path / "out"
        # The checks through which tokens and the payment key flow: signing on, transactions, payment.
        args = ("run", "--target", str(target), "--report", str(out), "--", "-k", "auth or pay or capabilities")
        result = run_p111(*args, cwd=tmp_path, env=SECRETS)
    finally:
        for app in served:
            app.stop()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    got = {r["id"]: r["verdict"] for r in report["requirements"]}
    signed = ("P111-AUTH-SSO", "P111-AUTH-TXN", "P111-PAY-INIT", "P111-PAY-CONFIRM", "P111-PAY-RECONCILE")
    assert {got[r] for r in signed} == {"PASSED"}, result.stdout[-3000:]
    citizen_ids = [a["claims"]["SoDinhDanh"] for a in load_accounts() if a["claims"].get("SoDinhDanh")]
    assert citizen_ids
    canaries = (token_canary, SECRETS["P111_CANARY_SSO"], SECRETS["P111_CANARY_PAYMENT"], *citizen_ids)
    for path in (p for p in tmp_path.rglob("*") if p.is_file() and p != target):
        text = path.read_bytes().decode("utf-8", errors="replace")
        found = [c for c in canaries if c in text]
        assert not found, f"{path.name} holds {found}"


# A key with every character markup or a string literal escapes: found only as plain text, it would pass into
# junit.xml as `&amp;`, `&quot;`… and into report.html as `&#34;`, `&#39;`.
MARKUP_KEY = "Kh0a&Can\"Bo<Mot>Cua'77"


def _forms(secret: str) -> dict[str, str]:
    """The secret as each output format or encoding could show it."""
    import base64
    import html
    from urllib.parse import quote
    from xml.sax.saxutils import escape, quoteattr

    from jinja2 import Environment

    page = Environment(autoescape=True).from_string("{{ s }}")
    return {"plain": secret, "html": html.escape(secret), "xml": escape(secret), "xml-attribute": quoteattr(secret),
            "autoescape": page.render(s=secret), "json": json.dumps(secret)[1:-1], "repr": repr(secret)[1:-1],
            "url": quote(secret, safe=""), "base64": base64.b64encode(secret.encode()).decode()}


@pytest.mark.parametrize("padded", [False, True], ids=["whole", "cut-through"])
def test_a_secret_with_markup_characters_echoed_into_a_failure_is_in_no_output_in_any_form(tmp_path: Path,
                                                                                          monkeypatch, padded):
    """Demo 3 refusing a core step with a message that echoes the officer's key (a debugging message some systems
    send): the lifecycle check FAILS quoting that message, and the key — with & < > " ' in it — is in no file and
    not on the terminal, neither plain nor escaped (pytest escapes junit.xml's text itself). Padded, the message is
    long enough that the bound on quoted text (limits.quoted) cuts through the key: nothing of it is left either."""
    from harness.core import limits

    said = "Khóa cán bộ không hợp lệ: "
    # The failure quotes "HTTP 409: " and the message: the key then stands 10 characters before the failure's cut.
    pad = "x" * (limits.MAX_QUOTED_CHARS - len(said) - 20) if padded else ""
    from starlette.responses import JSONResponse as Answer

    import mocks.demo3.steps as steps
    from mocks.demo3.wiring import serve_example_on_free_ports

    original = steps.routes

    def echoing(shared):  # noqa: ANN001, ANN202 - demo 3's route table with one route replaced
        def echo(inner):  # noqa: ANN001, ANN202
            async def answer(request):  # noqa: ANN001, ANN202
                if request.path_params.get("buoc") == "giai-quyet":
                    key = request.headers.get("x-mc-khoa", "")
                    return Answer({"loi": f"{said}{pad}{key}"}, status_code=409)
                return await inner(request)
            return answer

        return [Route(r.path, echo(r.endpoint), methods=list(r.methods)) if r.path == "/mc/ho-so/{so}/{buoc}" else r
                for r in original(shared)]

    monkeypatch.setattr(steps, "routes", echoing)
    env = {"P111_DEMO3_PAYMENT_SECRET": "demo3-payment-key-41ab", "P111_DEMO3_OFFICER_KEY": MARKUP_KEY,
           "P111_DEMO3_SECOND_PASSWORD": "demo3-second-pw-66e2f0"}
    example = Path(__file__).resolve().parents[1] / "examples" / "demo3.target.yaml"
    served = serve_example_on_free_ports(example, tmp_path, env)
    try:
        args = ("--", "-k", "test_lawful_path_is_accepted and straight", "--tb=long", "-rA")
        result = run_p111("run", "--target", str(served.target_file), "--report", "out", "--allow-not-tested", *args,
                          cwd=tmp_path, env=env)
    finally:
        served.stop()
    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    (check,) = [c for r in report["requirements"] for c in r["checks"] if "straight" in c["nodeid"]]
    assert check["outcome"] == "FAILED" and f"{said}{pad}[REDACTED]" in check["message"], check["message"][-300:]
    assert "[REDACTED]" in (out / "junit.xml").read_text(encoding="utf-8")
    forms = _forms(MARKUP_KEY)
    shown = {"stdout": result.stdout, "stderr": result.stderr}
    shown |= {p.name: p.read_bytes().decode("utf-8", errors="replace") for p in out.iterdir() if p.is_file()}
    leaks = [(name, form) for name, text in shown.items() for form, value in forms.items() if value in text]
    assert not leaks, leaks
    starts = {(n, form): value for n in range(4, len(MARKUP_KEY)) for form, value in _forms(MARKUP_KEY[:n]).items()}
    cut_short = [(name, start) for name, text in shown.items() for start, value in starts.items() if value in text]
    assert not cut_short, cut_short
