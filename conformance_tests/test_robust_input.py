"""P111-ROBUST-INPUT (outside Plan 111): the SUT withstands unusual input on every documented input operation.

Not a target of Plan 111/KH-UBND, so no clause is quoted: an engineering check of the integration surface the plan's
targets rest on, run only by `p111 fuzz`. harness.fuzz.fuzzer reads the SUT's OpenAPI document (sut.openapi_path), sends
valid and one-rule-broken input through the recorded client with the citizen's and the officer's sessions, and
reports the shrunk counterexample of each kind of input that broke the SUT. An operation the target declares called
by another party (`payment.confirm_path`, `sut.public_operations`, or marked `x-p111-authenticated-by` in the
document) may refuse a bad message with HTTP 200 and its own error code (MaLoi), as the payment platform's contract
says. An operation every session is refused on (401, 403) was not fuzzed beyond the authentication layer: it is
skipped, not passed, and when no operation was fuzzed at all the check is NOT-TESTED. The path parameter that carries
a dossier's code (`sut.dossier_parameter`) is given a real dossier's code, a lifecycle action a dossier in a status
from which it is lawful, and the citizen's payment a dossier that waits for payment (harness.fuzz.state); an
operation (or one action of it) none of whose inputs, or none of whose valid inputs, got past its state check (409)
is NOT-TESTED, named: what lies behind the state check was never reached. Fields named for a procedure, an agency or
a dossier take the values the target and the SUT gave (harness.fuzz.seeds).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from harness.config.target import Target
from harness.core.lifecycle import Lifecycle
from harness.core.limits import QuotedEach, quoted, quoted_each
from harness.core.results import RunRecord
from harness.core.verdicts import NotTested
from harness.fuzz import fuzzer as fuzz
from harness.fuzz.state import DossierPool, footing
from harness.sut.checking import expect
from harness.sut.drivers import Driver, Service

pytestmark = pytest.mark.requirement("P111-ROBUST-INPUT")

SHOWN_CHARS = 100  # a string longer than this is shown cut, with its length: the full one is in the evidence


def _document(client: httpx.Client, target: Target) -> dict[str, Any]:
    path = target.sut.openapi_path
    if not path:
        raise NotTested("không có tài liệu OpenAPI / the target sets sut.openapi_path: null: nothing to fuzz")
    answer = client.get(path)
    try:
        document = answer.json() if answer.status_code == 200 else None
    except ValueError:
        document = None
    if not isinstance(document, dict) or not document.get("paths"):
        pytest.fail(f"{path} answered HTTP {answer.status_code} without an OpenAPI document to fuzz")
    return document


def _shown(value: Any) -> Any:
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        return f"{value[:SHOWN_CHARS]}… [{len(value)} ký tự / characters]"
    if isinstance(value, dict):
        return {k: _shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shown(v) for v in value]
    return value


def _exchange_text(exchange: dict[str, Any]) -> str:
    """The recorded (redacted) exchange, short: method, URL, request body → status, response body."""
    body = exchange["request"]["body"]
    sent = "" if body is None else " " + json.dumps(_shown(body), ensure_ascii=False)
    answer = json.dumps(_shown(exchange["response"]["body"]), ensure_ascii=False)
    where = f"{exchange['method']} {exchange['url']}"
    return f"evidence #{exchange['seq']}: {where}{sent} → HTTP {exchange['status']} {answer}"


def summary(result: fuzz.FuzzResult, pool: DossierPool | None = None) -> str:
    """What was sent, how long it took, how many inputs got past state checks, what was skipped and why."""
    lines = [
        f"p111 fuzz: {result.requests} yêu cầu / requests ({result.cases} loại dữ liệu vào / kinds of input) tới "
        f"{len(result.operations)} thao tác / operations trong / in {result.seconds:.1f} s; "
        f"{result.setup_requests} yêu cầu chuẩn bị hồ sơ / requests preparing dossiers; "
        f"{len(result.findings)} phát hiện / findings"
    ]
    for operation, (sent, past) in result.past_state.items():
        answered = ", ".join(f"{status}×{n}" for status, n in sorted(result.statuses.get(operation, {}).items()))
        lines.append(
            f"  {operation}: {sent} gửi / sent, {past} qua kiểm tra trạng thái / past state checks [{answered}]"
        )
    for operation, why in result.skipped:
        lines.append(f"  bỏ qua / skipped {operation}: {why}")
    for why in (pool.failed if pool is not None else [])[:5]:
        lines.append(f"  không chuẩn bị được hồ sơ / could not prepare a dossier: {why}")
    return "\n".join(lines)


def tell(config: pytest.Config, text: str) -> None:
    """On the terminal of whoever runs `p111 fuzz` (without one, a worker's: in the check's captured output)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print(text)
        return
    with capture.global_and_fixture_disabled():  # past pytest's capture of the check's output
        reporter.write_line("")
        for line in text.splitlines():
            reporter.write_line(line)


def require_past_state(result: fuzz.FuzzResult, pool: DossierPool | None = None) -> None:
    """NOT-TESTED when an operation (an action of it) had no input past its state check (every one refused with a status
    of sut.refusals.state, 409 by default), or no valid one (a system may refuse a broken body before it looks at the
    state): what lies behind the state check was never reached, so it has not passed; named, with what kept the
    dossiers from where they were needed."""
    blocked = [
        operation
        for past_state in (result.past_state, result.valid_past_state)
        for operation, (sent, past) in past_state.items()
        if sent and not past
    ]
    if not blocked:
        return
    why = "; ".join((pool.failed if pool is not None else [])[:3])
    raise NotTested(
        "không dữ liệu vào (hợp lệ) nào qua được kiểm tra trạng thái, phần xử lý phía sau chưa được thử / no (valid) "
        "input got past the state check (every one refused as sut.refusals.state says), what lies behind it was never "
        f"reached: {', '.join(dict.fromkeys(blocked))}"
        + (f" — không chuẩn bị được hồ sơ / could not prepare a dossier: {why}" if why else "")
    )


def require_fuzzed(result: fuzz.FuzzResult) -> None:
    """NOT-TESTED when no operation was fuzzed (every one skipped: refused by every session, or its input could not
    be built): a check that sent nothing past the authentication layer has not passed."""
    if result.operations:
        return
    if not result.skipped:
        pytest.fail("the OpenAPI document has no operation with parameters or a JSON body to fuzz")
    reasons = "; ".join(f"{operation}: {why}" for operation, why in result.skipped[:5])
    more = f" (+{len(result.skipped) - 5})" if len(result.skipped) > 5 else ""
    raise NotTested(
        "không thao tác nào được thử, mọi thao tác đều bị bỏ qua / no operation was fuzzed, every one was skipped: "
        f"{reasons}{more}"
    )


@pytest.mark.needs_automation("hundreds of generated and mutated requests per operation cannot be sent by hand")
def test_documented_inputs_never_crash_and_invalid_ones_are_refused(
    p111_client: httpx.Client,
    p111_target: Target,
    p111_driver: Driver,
    p111_run: RunRecord,
    p111_lifecycle: Lifecycle,
    procedure_codes: list[str],
    services: list[Service],
    request: pytest.FixtureRequest,
):
    """Valid input to every documented operation never gets a 5xx; input breaking one rule of the document gets a
    4xx, with a JSON error where the document describes that status as JSON."""
    if p111_target.safety_mode == "read-only":
        raise NotTested("chế độ chỉ đọc: không gửi dữ liệu thử / read-only safety mode: fuzzing writes, nothing sent")
    document = _document(p111_client, p111_target)
    paying = next((s.code for s in services if s.fee_bearing), None)  # a payment can be asked only for a fee
    given = footing(p111_target, p111_driver, p111_lifecycle, procedure_codes, paying)
    recorder = p111_run.recorder
    seqs: dict[int, int] = {}  # id(response) → the seq of its recorded exchange

    def send(*args: Any, **kwargs: Any) -> httpx.Response:
        response = p111_client.request(*args, **kwargs)
        seqs[id(response)] = len(recorder.exchanges)
        return response

    proxy = _Proxy(p111_client, send)
    result = fuzz.fuzz(proxy, document, **given)  # type: ignore[arg-type]
    tell(request.config, summary(result, given["resources"]))
    found = result.findings

    def counterexamples() -> str:
        exchanges = {e["seq"]: e for e in recorder.exchanges}

        def shown(f: fuzz.Finding) -> str:  # a read-back problem: the write, then the read
            answers = [r for r in (f.written, f.response) if r is not None and id(r) in seqs]
            return "\n".join(f"  {quoted(_exchange_text(exchanges[seqs[id(r)]]))}" for r in answers)

        listed = quoted_each((f"{f.describe()}\n{shown(f)}" for f in found), "\n")
        return QuotedEach("phản ví dụ đã rút gọn / shrunk counterexamples:\n" + listed)

    if found or result.operations:
        expect(
            not found,
            f"{len(found)} loại dữ liệu vào làm hệ thống lỗi hoặc được chấp nhận sai / kind(s) of input broke the "
            f"SUT, in {result.requests} requests to {len(result.operations)} operations",
            expected="dữ liệu hợp lệ không bao giờ nhận 5xx và đọc lại được như đã gửi; dữ liệu phá một quy tắc (kể cả "
            "thiếu thân bắt buộc) bị từ chối bằng 4xx, kèm lỗi JSON khi tài liệu mô tả mã đó là JSON; mọi mã trạng "
            "thái đều có trong tài liệu / valid input never gets a 5xx and reads back as sent; input breaking one "
            "rule of the document (a missing required body too) gets a 4xx, with a JSON error where the document "
            "describes that status as JSON; every status answered is one the document lists",
            received=quoted_each((f.describe() for f in found), "; "),  # every finding (up to 50), each bounded
            evidence=counterexamples,
        )
    require_fuzzed(result)  # a finding on an operation refused by every session is still one; else nothing passed
    require_past_state(result, given["resources"])


class _Proxy:
    """The SUT client with its `request` wrapped: everything still goes through it, recorded and redacted."""

    def __init__(self, client: httpx.Client, request: Any) -> None:
        self._client = client
        self.request = request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
