"""The demo system's API: a facade in front of the reference system (mocks/reference/app.py), so that it inherits
the reference system's lawful behaviour (portal sync, payment, sign-on, transfers) while speaking a different API.

Every request is translated and passed to the reference app in-process; every answer is translated back. The demo
authenticates by an `X-Phien` header, which the facade turns into the reference's session cookie; cookies and
Authorization headers sent to the demo are dropped, so the demo knows no other credential.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness.core.formats import VIETNAM_TIME
from mocks.demo import vocabulary as words

OPENAPI_FILE = Path(__file__).with_name("openapi.json")
SESSION_HEADER = "x-phien"
REFERENCE_COOKIE = "p111_session"
# The reference builds its OpenID redirect_uri from where it thinks it is mounted: under this prefix, its callback
# (/auth/callback) becomes the demo's LOGIN_PATH + /auth/callback.
LOGIN_PATH = "/v2/dang-nhap"
CALLBACK_PATH = LOGIN_PATH + "/auth/callback"
TIME_FORMAT = "%d/%m/%Y %H:%M:%S"  # local Vietnam time without an offset, as many .NET systems show it
STATUS_BACK, ACTION_BACK, CHANNEL_BACK = words.back(words.STATUS), words.back(words.ACTION), words.back(words.CHANNEL)
KIND_BACK = words.back(words.EXPORT_KIND)


@dataclass(frozen=True)
class DemoSettings:
    reference: Any  # the reference system's ASGI app
    reference_handoff_path: str = "/dvc/vnconnect"
    reference_confirm_path: str = "/api/payments/confirm"
    handoff_path: str = "/cong-dvc/tiep-nhan"  # where the portal hands citizens off to the demo
    confirm_path: str = "/v2/thanh-toan/xac-nhan"  # where the payment platform sends its confirm callback


def _time(value: str | None) -> str | None:
    return datetime.fromisoformat(value).astimezone(VIETNAM_TIME).strftime(TIME_FORMAT) if value else None


def _file(f: dict[str, Any]) -> dict[str, Any]:
    return {"ma_tep": f["id"], "ten_tep": f["name"], "bam_sha256": f["sha256"], "duong_dan": f"/v2/tep/{f['id']}"}


def dossier(d: dict[str, Any]) -> dict[str, Any]:
    """The reference's dossier in the demo's words."""
    return {
        "ma_ho_so": d["code"],
        "thu_tuc": {"ma": d["procedure_code"], "ten": d.get("procedure_name")},
        "co_quan": {"tiep_nhan": d["agency_code"], "dang_xu_ly": d.get("current_agency_code")},
        "kenh": words.CHANNEL.get(d["channel"], d["channel"]),
        "trang_thai": words.STATUS[str(d["status"])],
        "moc_thoi_gian": {
            "nop": _time(d.get("submitted_at")),
            "tiep_nhan": _time(d.get("received_at")),
            "hen_tra": _time(d.get("due_at")),
            "xu_ly_xong": _time(d.get("finished_at")),
            "tra_ket_qua": _time(d.get("returned_at")),
        },
        "tep_tin": [_file(f) for f in d.get("files", [])],
        "qua_trinh": [
            {
                "trang_thai": words.STATUS[str(s["status"])],
                "thao_tac": words.ACTION.get(s.get("action", ""), s.get("action")),
                "luc": _time(s.get("at")),
                "co_quan": s.get("agency_code"),
                "nguoi_thuc_hien": {"ma_dinh_danh": s.get("subject"), "muc_dam_bao": s.get("assurance")},
            }
            for s in d.get("history", [])
        ],
        "lien_thong": [{"tu": t["from"], "den": t["to"], "luc": _time(t.get("at"))} for t in d.get("transfers", [])],
        "thanh_toan": {
            "da_thanh_toan_truc_tuyen": "C" if d.get("paid_online") else "K",
            "giao_dich": [
                {
                    "ma_tham_chieu": p["reference"],
                    "so_tien": p["amount"],
                    "tinh_trang": words.PAYMENT_STATE[p["state"]],
                    "da_ghi_nhan": p["credited"],
                    "duong_dan_thanh_toan": p.get("url"),
                }
                for p in d.get("payments", [])
            ],
        },
    }


def service(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "ma_tthc": s["code"],
        "ma_tthc_dia_phuong": s["local_code"],
        "ma_dich_vu": s["service_id"],
        "ten_thu_tuc": s["name"],
        "co_quan_thuc_hien": s["agency_code"],
        "muc_do": words.LEVEL.get(s["level"], s["level"]),
        "thu_phi": "C" if s.get("fee_bearing") else "K",
        "co_quan_lien_thong": s.get("second_agency_code"),
        "phi_le_phi": [
            {"loai": f["LoaiPhiLePhi"], "ma": f["MaPhiLePhi"], "ten": f["TenPhiLePhi"], "so_tien": f["SoTien"]}
            for f in s.get("fees", [])
        ],
    }


def _body(request_body: bytes) -> dict[str, Any]:
    """The request's JSON object, or an empty one: the reference judges what is missing (after authentication)."""
    try:
        found = json.loads(request_body or b"{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


@dataclass(frozen=True)
class _Bridge:
    """How the facade reaches the reference app and turns its answers into the demo's."""

    forward: Callable[..., Awaitable[httpx.Response]]
    refused: Callable[[httpx.Response], JSONResponse]
    translated: Callable[..., JSONResponse]
    passed: Callable[[httpx.Response], Response]
    mounted: httpx.ASGITransport  # the reference as if mounted under LOGIN_PATH: its sign-on's addresses point here


def create_demo_app(settings: DemoSettings) -> Starlette:
    bridge = _bridge(settings)
    return Starlette(
        routes=[*_dossier_routes(bridge), *_agency_routes(bridge), *_account_routes(settings, bridge)]
    )


def _bridge(settings: DemoSettings) -> _Bridge:
    plain = httpx.ASGITransport(app=settings.reference)
    mounted = httpx.ASGITransport(app=settings.reference, root_path=LOGIN_PATH)

    async def forward(
        request: Request,
        method: str,
        path: str,
        *,
        transport: httpx.ASGITransport = plain,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """The request as the reference app hears it: the demo's host (its absolute URLs point back here) and the
        session header as the reference's cookie. Straight to the transport: no cookie jar keeps anything."""
        headers = dict(headers or {})
        token = request.headers.get(SESSION_HEADER)
        if token:
            headers["cookie"] = f"{REFERENCE_COOKIE}={token}"
        url = str(request.base_url).rstrip("/") + path
        sent = httpx.Request(method, url, headers=headers, **kwargs)
        answer = await transport.handle_async_request(sent)
        await answer.aread()
        return answer

    def refused(answer: httpx.Response) -> JSONResponse:
        """The reference's problem in the demo's words, same status."""
        try:
            problem = answer.json()
        except ValueError:
            problem = {}
        reply = JSONResponse(
            {"ma_loi": str(problem.get("error", "loi")).upper().replace("-", "_"), "thong_bao": problem.get("message")},
            status_code=answer.status_code,
        )
        if answer.status_code == 401:
            reply.headers["www-authenticate"] = 'Phien realm="p111-demo", header="X-Phien"'
        return reply

    def translated(answer: httpx.Response, build: Any, status: int | None = None) -> JSONResponse:
        if not answer.is_success:
            return refused(answer)
        return JSONResponse(build(answer.json()), status_code=status or answer.status_code)

    def passed(answer: httpx.Response) -> Response:
        """A page or a redirect as the reference gave it (the sign-on's address, the service page)."""
        kept = {k: v for k, v in answer.headers.items() if k.lower() in ("location", "content-type")}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    return _Bridge(forward, refused, translated, passed, mounted)


def _dossier_routes(b: _Bridge) -> list[Route]:
    forward, translated = b.forward, b.translated

    async def openapi(request: Request) -> Response:
        return Response(OPENAPI_FILE.read_bytes(), media_type="application/json")

    async def services(request: Request) -> JSONResponse:
        answer = await forward(request, "GET", "/api/procedures")
        return translated(answer, lambda rows: {"so_luong": len(rows), "danh_sach": [service(s) for s in rows]})

    async def submit(request: Request) -> JSONResponse:
        body = _body(await request.body())
        applicant: dict[str, Any] = body["nguoi_nop"] if isinstance(body.get("nguoi_nop"), dict) else {}
        files: list[Any] = body["tep_dinh_kem"] if isinstance(body.get("tep_dinh_kem"), list) else []
        sent = {
            "procedure_code": body.get("ma_thu_tuc"),
            "channel": CHANNEL_BACK.get(str(body.get("kenh")), str(body.get("kenh"))),
            "summary": body.get("trich_yeu", ""),
            "applicant": {"name": applicant.get("ho_ten"), "id_number": applicant.get("so_dinh_danh")},
            "files": [
                {"name": f.get("ten_tep"), "content_base64": f.get("noi_dung_base64")}
                for f in files
                if isinstance(f, dict)
            ],
        }
        answer = await forward(request, "POST", "/api/dossiers", json=sent)
        return translated(answer, lambda d: {"ho_so": dossier(d)})

    async def listing(request: Request) -> JSONResponse:
        query = {"page": request.query_params.get("trang", "1"), "size": request.query_params.get("kich_thuoc", "100")}
        answer = await forward(request, "GET", "/api/dossiers", params=query)
        return translated(
            answer,
            lambda d: {"trang": d["page"], "tong_so": d["total"], "danh_sach": [dossier(x) for x in d["items"]]},
        )

    async def show(request: Request) -> JSONResponse:
        answer = await forward(request, "GET", f"/api/dossiers/{request.path_params['code']}")
        return translated(answer, lambda d: {"ho_so": dossier(d)})

    async def act(request: Request) -> JSONResponse:
        body = _body(await request.body())
        action = ACTION_BACK.get(str(body.get("thao_tac")), words.UNKNOWN_ACTION)
        sent = {"actor": body.get("nguoi_thuc_hien")}
        if body.get("chuyen_den") is not None:
            sent["to_agency"] = body["chuyen_den"]
        path = f"/api/dossiers/{request.path_params['code']}/actions/{action}"
        answer = await forward(request, "POST", path, json=sent)
        return translated(answer, lambda d: {"ho_so": dossier(d)})

    return [
        Route("/v2/openapi.json", openapi),
        Route("/v2/thu-tuc", services),
        Route("/v2/ho-so", submit, methods=["POST"]),
        Route("/v2/ho-so", listing, methods=["GET"]),
        Route("/v2/ho-so/{code}", show),
        Route("/v2/ho-so/{code}/xu-ly", act, methods=["POST"]),
    ]


def _agency_routes(b: _Bridge) -> list[Route]:
    forward, refused, translated = b.forward, b.refused, b.translated

    async def inbox(request: Request) -> JSONResponse:
        answer = await forward(request, "GET", f"/api/agencies/{request.path_params['agency']}/inbox")
        return translated(
            answer,
            lambda rows: {
                "danh_sach": [
                    {
                        "ma_ho_so": r["code"],
                        "tu_co_quan": r["from"],
                        "luc": _time(r.get("at")),
                        "hinh_thuc": words.TRANSFER_METHOD.get(r["method"], r["method"]),
                        "tep_tin": [_file(f) for f in r.get("files", [])],
                    }
                    for r in rows
                ]
            },
        )

    async def download(request: Request) -> Response:
        answer = await forward(request, "GET", f"/api/files/{request.path_params['file_id']}")
        if not answer.is_success:
            return refused(answer)
        return Response(answer.content, media_type=answer.headers.get("content-type"))

    async def export(request: Request) -> JSONResponse:
        kind = KIND_BACK.get(request.path_params["loai"], request.path_params["loai"])
        query = {"page": request.query_params.get("trang", "1"), "size": request.query_params.get("kich_thuoc", "1000")}
        answer = await forward(request, "GET", f"/api/exports/{kind}", params=query)
        # The rows are the portal's own records (HoSoDongBoDVC …): an export carries them as they are.
        return translated(answer, lambda d: {"trang": d["page"], "tong_so": d["total"], "du_lieu": d["items"]})

    return [
        Route("/v2/co-quan/{agency}/ho-so-den", inbox),
        Route("/v2/tep/{file_id}", download),
        Route("/v2/bao-cao/{loai}", export),
    ]


def _account_routes(settings: DemoSettings, b: _Bridge) -> list[Route]:
    """Who is signed in, sign-on through the reference, the portal's hand-off and the payment platform's confirm."""
    forward, refused, translated, passed, mounted = b.forward, b.refused, b.translated, b.passed, b.mounted

    async def me(request: Request) -> JSONResponse:
        answer = await forward(request, "GET", "/api/me")
        return translated(
            answer,
            lambda who: {
                "tai_khoan": {
                    "ma_dinh_danh": who["subject"],
                    "muc_dam_bao": who["assurance"],
                    "ial": who.get("ial"),
                    "ho_ten": who.get("name"),
                    "vai_tro": "CAN_BO" if who.get("role") == "officer" else "CONG_DAN",
                }
            },
        )

    async def login(request: Request) -> Response:
        return passed(await forward(request, "GET", "/auth/login", transport=mounted))

    async def callback(request: Request) -> Response:
        """The sign-on's redirect back: a session, given in the body (not a cookie), or the refusal."""
        answer = await forward(request, "GET", "/auth/callback", params=dict(request.query_params))
        cookie: SimpleCookie = SimpleCookie()
        for header in answer.headers.get_list("set-cookie"):
            cookie.load(header)
        if answer.status_code >= 400 or REFERENCE_COOKIE not in cookie:
            return refused(answer)
        return JSONResponse({"ket_qua": {"ma_phien": cookie[REFERENCE_COOKIE].value, "tieu_de": "X-Phien"}})

    async def handoff(request: Request) -> Response:
        answer = await forward(
            request, "GET", settings.reference_handoff_path, params=dict(request.query_params), transport=mounted
        )
        return passed(answer)

    async def confirm(request: Request) -> Response:
        """The payment platform's confirm: its own protocol, passed on untouched both ways."""
        answer = await forward(
            request, "POST", settings.reference_confirm_path, content=await request.body(),
            headers={"content-type": "application/json"},
        )
        return passed(answer)

    return [
        Route("/v2/tai-khoan/hien-tai", me),
        Route(LOGIN_PATH, login),
        Route(CALLBACK_PATH, callback),
        Route(settings.handoff_path, handoff),
        Route(settings.confirm_path, confirm, methods=["POST"]),
    ]
