"""What a receiving agency's officers see: the dossiers transferred to it, and the files a reader may download."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mocks.demo3.shared import Shared


def routes(s: Shared) -> list[Route]:
    defects, dossiers, files, error, who, may_see = s.defects, s.dossiers, s.files, s.error, s.who, s.may_see

    async def received(request: Request) -> JSONResponse:
        """What an agency received from others (every transfer to it), for its officers."""
        person = who(request)
        if person is None or not person.officer:
            return error(401 if person is None else 403, "Chỉ cán bộ")
        agency = request.path_params["don_vi"]
        rows = []
        for d in dossiers.values():
            for move in d.moves:
                if move["den"] == agency:
                    sent = [] if "demo3-transfer-drops-files" in defects else move["giay_to"]
                    rows.append({"ho_so": d.code, "tu_don_vi": move["tu"], "cach": "dien-tu",
                                 "giay_to": [{"ma": f["ma"], "ten": f["ten"], "tai": f"/mc/giay-to/{f['ma']}"}
                                             for f in sent]})
        return JSONResponse({"ho_so_den": rows})

    async def file(request: Request) -> Response:
        person = who(request)
        if person is None:
            return error(401, "Chưa đăng nhập")
        found = files.get(request.path_params["ma"])
        holders = [d for d in dossiers.values() if found is not None and any(f is found for f in d.files)]
        if found is None or not any(may_see(person, d) for d in holders):
            return error(404, "Không có giấy tờ này")
        return Response(found["noi_dung"], media_type="application/octet-stream")

    return [Route("/mc/don-vi/{don_vi}/ho-so-den", received), Route("/mc/giay-to/{ma}", file)]
