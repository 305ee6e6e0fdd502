"""Demo 3's services and dossiers: a citizen submits one (its files fetched by link), anyone allowed reads it."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from harness.core.formats import format_dossier_code, vietnam_now
from mocks.demo3 import openapi
from mocks.demo3.model import CHANNELS, SERVICES, Dossier, Step
from mocks.demo3.shared import Shared


def submission_routes(s: Shared) -> list[Route]:
    defects, services, dossiers, files = s.defects, s.services, s.dossiers, s.files
    error, who, view, tell_portal = s.error, s.who, s.view, s.tell_portal
    sequence: dict[tuple[str, str], int] = {}

    def next_code(agency: str, day: datetime) -> str:
        number = sequence[(agency, day.strftime("%y%m%d"))] = sequence.get((agency, day.strftime("%y%m%d")), 0) + 1
        if "demo3-code-without-date" in defects:
            return f"{agency}-{number:06d}"
        return format_dossier_code(agency, day.date(), number)

    async def fetch(link: str) -> bytes:
        async with httpx.AsyncClient(timeout=10.0) as client:
            answer = await client.get(link)
        answer.raise_for_status()
        if len(answer.content) > 20 * 1024 * 1024:
            raise ValueError("file too large")
        return answer.content

    async def submit(request: Request) -> JSONResponse:
        person = who(request)
        if person is None:
            return error(401, "Chưa đăng nhập")
        if person.officer:
            return error(403, "Cán bộ không nộp hồ sơ thay công dân qua kênh này")
        try:
            body = json.loads(await request.body())
            problem = openapi.invalid("dossier", body)  # its own document's schema
            if problem is None and "demo3-fuzz-surrogate-summary" not in defects and openapi.unencodable(body):
                problem = "lone surrogate"
            if problem is not None:
                raise ValueError(problem)
            service = services[str(body["thu_tuc"])]
            channel = CHANNELS[str(body.get("kenh", "truc-tuyen"))]
            applicant = dict(body["nguoi_nop"])
            number = str(applicant["so_giay_to"])
            if not (number.isascii() and number.isdigit() and len(number) in (9, 12)):
                raise ValueError("so_giay_to")
            links = [(str(f["ten"]), str(f["lien_ket"])) for f in body.get("giay_to") or []]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return error(422, f"Yêu cầu không hợp lệ: {type(exc).__name__} {exc}")
        stored = []
        for name, link in links:
            try:
                content = await fetch(link)
            except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # a link that is no URL: refused too
                return error(422, f"Không tải được giấy tờ {name}: {type(exc).__name__}")
            stored.append({"ma": secrets.token_hex(8), "ten": name, "noi_dung": content})
        now = vietnam_now()
        agency = dict(service["don_vi"])
        d = Dossier(next_code(agency["ma"], now), service, channel, person, str(applicant.get("ho_ten", "")), number,
                    str(body.get("trich_yeu", "")), now, now + timedelta(days=int(service["han_ngay"])), agency, stored)
        d.steps.append(Step("moi", "nop", now, person.tech_id, person.assurance, agency, d.name))
        dossiers[d.code] = d
        files.update({f["ma"]: f for f in stored})
        await tell_portal(d)
        return JSONResponse({"ho_so": view(d)}, status_code=201)

    return [Route("/mc/ho-so", submit, methods=["POST"])]


def reading_routes(s: Shared) -> list[Route]:
    visible, view = s.visible, s.view

    async def services_list(request: Request) -> JSONResponse:
        return JSONResponse({"dich_vu": [
            {"ma": s["ma_quoc_gia"], "ma_dia_phuong": f"{s['ma_quoc_gia']}.{s['don_vi']['ma']}",
             "ma_dich_vu": s["ma_dich_vu"], "ten": s["ten"], "don_vi": s["don_vi"]["ma"], "muc": s["muc"],
             "phi": [{"loai": f["loai"], "ma": f["ma"], "ten": f["ten"], "tien": f["tien"]} for f in s.get("phi", [])],
             "lien_thong": (s.get("lien_thong") or {}).get("ma")}
            for s in SERVICES
        ]})

    async def show(request: Request) -> JSONResponse:
        found = visible(request)
        if isinstance(found, JSONResponse):
            return found
        person, d = found
        return JSONResponse({"ho_so": view(d)})

    return [Route("/mc/dich-vu", services_list), Route("/mc/ho-so/{so}", show)]
