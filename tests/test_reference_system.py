"""The reference system and the portal counterpart on their own: documented API, codes, both sync transports."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from starlette.routing import Route

from harness.config.target import embedded_target
from harness.core import resources
from harness.core.formats import is_dossier_code
from harness.http.inprocess import BlockingASGITransport
from mocks.portal import PortalSettings, create_portal_app
from mocks.reference.app import ReferenceSettings, create_reference_app
from mocks.reference.portal_sync import PortalLink
from mocks.wiring import start_embedded
from tests.support import sign_in

OPENAPI = json.loads((resources.schema_dir() / "reference-api.openapi.json").read_text(encoding="utf-8"))


def test_every_route_of_the_reference_api_is_documented():
    app = create_reference_app(ReferenceSettings(PortalLink("http://portal.test", embedded_target().sync, "u", "p")))
    documented = {re.sub(r"{[^}]+}", "{}", path): set(ops) for path, ops in OPENAPI["paths"].items()}
    for route in app.routes:
        assert isinstance(route, Route)
        if route.path.startswith("/api/"):
            path = re.sub(r"{[^}]+}", "{}", route.path)
            methods = {m.lower() for m in route.methods or ()} - {"head"}
            assert methods <= documented.get(path, set()), f"{route.path} {methods} is not in the OpenAPI document"


@pytest.fixture
def system():
    target = embedded_target()
    embedded = start_embedded(target)
    sut = httpx.Client(base_url=embedded.sut_url, transport=embedded.sut_transport)
    portal = httpx.Client(base_url=embedded.portal_url, transport=embedded.portal_transport)
    sso = httpx.Client(base_url=embedded.sign_on_url, transport=embedded.sign_on_transport)
    sut.headers.update(sign_in(sut, sso))  # an officer: allowed to submit at the counter and to act
    yield sut, portal
    embedded.close()


def submit(sut: httpx.Client, procedure: str = "1.001193") -> dict:
    answer = sut.post(
        "/api/dossiers", json={"procedure_code": procedure, "applicant": {"name": "A", "id_number": "000000000001"}}
    )
    assert answer.status_code == 201
    return answer.json()


def test_codes_follow_a_daily_sequence_per_agency(system):
    sut, _ = system
    codes = [submit(sut)["code"] for _ in range(3)] + [submit(sut, "1.001022")["code"]]
    assert all(is_dossier_code(c) for c in codes)
    assert [c[-4:] for c in codes[:3]] == ["0001", "0002", "0003"]
    assert codes[3].startswith("000.21.40.H40-") and codes[3].endswith("-0001")


def test_every_change_reaches_the_portal_through_the_adapter(system):
    sut, portal = system
    code = submit(sut)["code"]
    for action in ("receive", "process", "finish"):
        assert sut.post(f"/api/dossiers/{code}/actions/{action}", json={"actor": "cán bộ"}).status_code == 200
    services = [r["service"] for r in portal.get("/_p111/requests").json()]
    assert services[0] == "auth" and services.count("auth") == 1, "one login, then the session is reused"
    assert services.count("DongBoHoSoMC") == 4 and services.count("CapNhatTienDoHoSoMC") == 4
    dossiers = portal.get("/_p111/dossiers", params={"MaHoSo": code}).json()
    assert [d["operation"] for d in dossiers] == ["insert", "update", "update", "update"]
    assert all(d["valid"] and d["accepted"] for d in dossiers)
    assert [p["item"]["TrangThai"] for p in portal.get("/_p111/progress", params={"MaHoSo": code}).json()] == [
        "1",
        "2",
        "4",
        "9",
    ]


def test_an_unlawful_action_is_refused_with_the_rule(system):
    sut, _ = system
    code = submit(sut)["code"]
    answer = sut.post(f"/api/dossiers/{code}/actions/finish", json={"actor": "cán bộ"})
    assert answer.status_code == 409
    assert "from 1 (Mới đăng ký)" in answer.json()["message"]
    assert sut.get(f"/api/dossiers/{code}").json()["status"] == "1"


def test_an_action_needs_an_actor(system):
    sut, _ = system
    code = submit(sut)["code"]
    assert sut.post(f"/api/dossiers/{code}/actions/receive", json={}).status_code == 422


def test_portal_refuses_bad_logins_sessions_and_agencies():
    app = create_portal_app(PortalSettings("H40", "u", "secret-pw"))
    with start_blocking_portal() as loop:
        portal = httpx.Client(base_url="http://portal.test", transport=BlockingASGITransport(loop, app))
        assert portal.post("/api/adapter/auth", json={"username": "u", "password": "wrong"}).json()["error_code"] != 0
        reply = portal.post(
            "/api/adapter/integration",
            json={"session": "forged", "madonvi": "000.00.00.H40", "service": "LayDanhSachTTHC"},
        ).json()
        assert reply["error_code"] != 0 and "Phiên" in reply["message"]
        session = portal.post("/api/adapter/auth", json={"username": "u", "password": "secret-pw"}).json()["session"]
        reply = portal.post(
            "/api/adapter/integration",
            json={"session": session, "madonvi": "000.00.00.H56", "service": "LayDanhSachTTHC"},
        ).json()
        assert reply["error_code"] != 0 and "H40" in reply["message"]
        logged = portal.get("/_p111/requests").json()
        assert "secret-pw" not in json.dumps(logged) and "wrong" not in json.dumps(logged)
