"""Judging an answer: valid input never gets a 5xx; invalid input is refused with a 4xx, with a JSON body where the
document describes the status as JSON; a status the document omits, as the target's `fuzz.undocumented_status` says."""

from __future__ import annotations

import httpx

from harness.fuzz.kinds import Case
from harness.fuzz.openapi import Operation

PROBLEMS = {
    "server-error": "lỗi máy chủ (5xx) / a server error (5xx)",
    "accepted": "dữ liệu không hợp lệ không bị từ chối bằng 4xx / invalid input not refused with a 4xx",
    "not-json-error": "bị từ chối nhưng lỗi không phải JSON / refused, but the error is not JSON",
    "undocumented-status": "mã trạng thái tài liệu không mô tả cho thao tác / a status the document does not describe "
    "for the operation",
    "read-back-error": "đã chấp nhận nhưng đọc lại bị lỗi máy chủ (5xx) / accepted, then reading it back got a 5xx",
    "read-back-differs": "đã chấp nhận nhưng đọc lại khác giá trị đã gửi / accepted, then read back with another value",
}

# Answered by the authentication and protocol layers before the operation runs: a document rarely lists them, so the
# lenient setting (fuzz.undocumented_status) does not hold them against it.
LAYER_STATUSES = frozenset({401, 403, 405, 406, 408, 411, 413, 414, 415, 429, 431})

STATE_CONFLICT = 409  # how HTTP says "not in this state": an input answered so never reached the input checks


def judge(operation: Operation, case: Case, response: httpx.Response, undocumented: str = "off") -> str | None:
    """None when the answer is lawful for this kind of input, else the key of the problem. `undocumented`: how a
    status the document omits is judged (strict, lenient, off: target setting fuzz.undocumented_status). An
    operation that `answers_200` may refuse invalid input with a 2xx carrying its own error code (MaLoi)."""
    status = response.status_code
    if status >= 500:
        return "server-error"
    refused = 400 <= status < 500 or (operation.answers_200 and 200 <= status < 300)
    if not case.valid and not refused:
        return "accepted"
    lenient = undocumented == "lenient" and status in LAYER_STATUSES
    if undocumented != "off" and not lenient and not operation.documents(status):
        return "undocumented-status"
    if not case.valid and status >= 400 and operation.promises_json(status) and not _is_json(response):
        return "not-json-error"
    return None


def _is_json(response: httpx.Response) -> bool:
    if "json" not in response.headers.get("content-type", ""):
        return False
    try:
        response.json()
    except ValueError:
        return False
    return True
