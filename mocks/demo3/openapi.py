"""Demo 3's own OpenAPI document (GET /mc/openapi.json), written as its vendor would: its paths and words, its error
shape `{"loi": …}`, no p111 extension. The request schemas are also what the system validates its input with (one
source), so the clean system answers what its document says; a robustness defect (robustness.yaml) breaks that."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mocks.demo3.shared import Shared

ACTIONS = [
    "nhan", "khong-nhan", "giai-quyet", "yeu-cau-bo-sung", "bo-sung", "yeu-cau-nop-phi", "rut", "dung",
    "hoan-thanh", "tra", "chuyen",
]  # fmt: skip

DOSSIER_IN: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["thu_tuc", "nguoi_nop"],
    "properties": {
        # A pattern, no examples and no list: the national procedure codes the province offers are in /mc/dich-vu.
        "thu_tuc": {"type": "string", "pattern": "^[0-9]\\.[0-9]{6}$", "description": "Mã thủ tục quốc gia"},
        "kenh": {"type": "string", "enum": ["truc-tuyen", "truc-tiep", "buu-chinh"]},
        "trich_yeu": {"type": "string", "maxLength": 500},
        "nguoi_nop": {
            "type": "object",
            "additionalProperties": False,
            "required": ["ho_ten", "so_giay_to"],
            "properties": {
                "ho_ten": {"type": "string", "minLength": 1, "maxLength": 200},
                "so_giay_to": {"type": "string", "pattern": "^([0-9]{9}|[0-9]{12})$"},
            },
        },
        "giay_to": {
            "type": "array",
            "maxItems": 10,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["ten", "lien_ket"],
                "properties": {
                    "ten": {"type": "string", "minLength": 1, "maxLength": 255},
                    "lien_ket": {"type": "string", "format": "uri", "maxLength": 2000},
                },
            },
        },
    },
}
STEP_IN: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["nguoi"],
    "properties": {
        "nguoi": {"type": "string", "minLength": 1, "maxLength": 200, "description": "Người thực hiện"},
        "den": {"type": ["string", "null"], "maxLength": 64, "description": "Đơn vị nhận (bước chuyen)"},
    },
}
VALIDATORS = {"dossier": Draft202012Validator(DOSSIER_IN), "step": Draft202012Validator(STEP_IN)}


def invalid(kind: str, body: Any) -> str | None:
    """Why `body` breaks the request schema of `kind` (None: it fits)."""
    error = next(iter(VALIDATORS[kind].iter_errors(body)), None)
    return None if error is None else f"{'/'.join(map(str, error.absolute_path)) or 'body'}: {error.message[:200]}"


def _error(text: str) -> dict[str, Any]:
    return {"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Loi"}}}}


def _ok(text: str) -> dict[str, Any]:
    return {"description": text, "content": {"application/json": {"schema": {"type": "object"}}}}


SO = {"name": "so", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}


def document(export_statuses: tuple[str, ...] = ("200", "400", "401", "403", "404")) -> dict[str, Any]:
    """The document; `export_statuses`: what it says the export answers (a defect leaves 400 out)."""
    unsigned, forbidden, missing = _error("Chưa đăng nhập"), _error("Không có quyền"), _error("Không có")
    return {
        "openapi": "3.1.0",
        "info": {"title": "Một cửa Nam Định — API", "version": "3"},
        "paths": {
            "/mc/dich-vu": {"get": {"summary": "Dịch vụ công trực tuyến", "responses": {"200": _ok("Danh sách")}}},
            "/mc/ho-so": {"post": {
                "summary": "Công dân nộp hồ sơ",
                "requestBody": {"required": True, "content": {"application/json": {"schema": DOSSIER_IN}}},
                "responses": {"201": _ok("Đã nộp"), "401": unsigned, "403": forbidden,
                              "422": _error("Yêu cầu không hợp lệ")},
            }},
            "/mc/ho-so/{so}": {"get": {
                "summary": "Xem hồ sơ", "parameters": [SO],
                "responses": {"200": _ok("Hồ sơ"), "401": unsigned, "404": missing},
            }},
            "/mc/ho-so/{so}/nop-phi": {"post": {
                "summary": "Công dân mở giao dịch nộp phí", "parameters": [SO],
                "responses": {"201": _ok("Đã mở"), "401": unsigned, "403": forbidden, "404": missing,
                              "409": _error("Hồ sơ không chờ nộp phí")},
            }},
            "/mc/ho-so/{so}/{buoc}": {"post": {
                "summary": "Một bước xử lý hồ sơ",
                "parameters": [SO, {"name": "buoc", "in": "path", "required": True,
                                    "schema": {"type": "string", "enum": ACTIONS}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": STEP_IN}}},
                "responses": {"200": _ok("Đã thực hiện"), "400": _error("Yêu cầu không hợp lệ"), "401": unsigned,
                              "403": forbidden, "404": missing, "409": _error("Không được ở trạng thái này")},
            }},
            "/mc/thanh-toan/ket-qua": {"post": {
                "summary": "Nền tảng thanh toán báo kết quả (từ chối bằng MaLoi, HTTP 200)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"200": _ok("MaLoi")},
            }},
            "/mc/don-vi/{don_vi}/ho-so-den": {"get": {
                "summary": "Hồ sơ liên thông đến đơn vị",
                "parameters": [{"name": "don_vi", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _ok("Danh sách"), "401": unsigned, "403": forbidden},
            }},
            "/mc/ket-xuat/{loai}": {"get": {
                "summary": "Kết xuất dữ liệu năm",
                "parameters": [
                    {"name": "loai", "in": "path", "required": True,
                     "schema": {"type": "string", "enum": ["dossiers", "procedures", "agencies"]}},
                    {"name": "tu", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                    {"name": "so", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 5000}},
                ],
                "responses": {
                    code: answer
                    for code, answer in {"200": _ok("Trang"), "400": _error("Tham số không hợp lệ"),
                                         "401": unsigned, "403": forbidden, "404": missing}.items()
                    if code in export_statuses
                },
            }},
        },
        "components": {"schemas": {"Loi": {"type": "object", "required": ["loi"],
                                           "properties": {"loi": {"type": "string"}}}}},
    }


def unencodable(value: Any) -> bool:
    """Whether any text in `value` holds a lone surrogate (valid JSON, as a \\uD800 escape, but no Unicode)."""
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, dict):
        return any(unencodable(k) or unencodable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(unencodable(v) for v in value)
    return False


def routes(s: Shared) -> list[Route]:
    """GET /mc/openapi.json: the system's own document (with the robustness defect that leaves its 400 out)."""
    undocumented = "demo3-fuzz-undocumented-status" in s.defects

    async def described(request: Request) -> JSONResponse:
        statuses = ("200", "401", "403", "404") if undocumented else ("200", "400", "401", "403", "404")
        return JSONResponse(document(statuses))

    return [Route("/mc/openapi.json", described)]

