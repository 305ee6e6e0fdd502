"""What an agency received from others (liên thông), and the files a reader may download."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mocks.reference.shared import Shared, forbidden, problem, unauthenticated


def routes(s: Shared) -> list[Route]:
    defects, variations, store = s.defects, s.variations, s.store
    files, principal, may_read = s.files, s.principal, s.may_read

    async def inbox(request: Request) -> JSONResponse:
        """What an agency received from others: each transfer with the files as electronic documents."""
        who = await principal(request)
        if who is None:
            return unauthenticated()
        if not who.officer:
            return forbidden("officers only")
        agency = request.path_params["agency"]
        received = []
        for dossier in store.values():
            # inbox-now-only: a dossier is listed only while it is at the agency, with its latest transfer there.
            here = dossier.transfers[-1:] if dossier.agency.code == agency else []
            for transfer in here if "inbox-now-only" in variations else dossier.transfers:
                # The defect: every agency's inbox lists every transfer, wherever it was addressed.
                if transfer.destination.code == agency or "transfer-inbox-unfiltered" in defects:
                    sent = () if "transfer-drops-files" in defects else transfer.files
                    received.append(
                        {
                            "code": dossier.code,
                            "from": transfer.source.code,
                            "at": transfer.at.isoformat(),
                            "method": "electronic",
                            "files": [f.public() for f in sent],
                        }
                    )
        return JSONResponse(received)

    async def download(request: Request) -> Response:
        who = await principal(request)
        if who is None:
            return unauthenticated()
        stored = files.get(request.path_params["file_id"])
        holders = [d for d in store.values() if stored is not None and stored in d.files]
        if "txn-cross-account-file-read" in defects:  # the defect: any signed-in account may read any file
            holders = list(store.values())
        if stored is None or not any(may_read(who, d) for d in holders):
            return problem(404, "not-found", "Không tìm thấy tệp / file not found")
        return Response(stored.content, media_type="application/octet-stream")

    return [Route("/api/agencies/{agency}/inbox", inbox), Route("/api/files/{file_id}", download)]
