"""P111-CATALOG: every online service is on the portal's national catalog, at the same level, and the portal's
hand-off link lands on it.

«100% TTHC có đủ điều kiện, được cung cấp trực tuyến mức độ 3 và 4, và được tích hợp, cung cấp trên Cổng Dịch vụ công
quốc gia»
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from conformance_tests.scenarios import LIST_ATTACH, LIST_WHY, person_judges
from harness.core.formats import service_level
from harness.http.client import lies_under, to_own_page
from harness.sut.checking import expect
from harness.sut.drivers import Driver

pytestmark = pytest.mark.requirement("P111-CATALOG")


@pytest.fixture(scope="module")
def national(p111_portal) -> dict[str, dict[str, Any]]:
    """The portal's catalog, by national procedure code."""
    return {entry["maTTHC"]: entry for entry in p111_portal.catalog()}


def test_every_service_maps_to_a_national_procedure(services, national, p111_driver):
    """Each online service the SUT publishes maps to a procedure code that exists in the portal's catalog."""
    missing = [f"{s.service_id} → {s.code}" for s in services if s.code not in national]
    expect(
        not missing,
        "online services mapped to procedures the National Portal does not list",
        expected="every MaTTHC present in the portal's national catalog (LayDanhSachTTHC)",
        received="not in the catalog: " + ", ".join(missing),
        evidence="portal /_p111/catalog",
    )
    person_judges(p111_driver, why=LIST_WHY, attach=LIST_ATTACH)


def test_service_level_equals_the_portals(services, national, p111_driver):
    """A service's level on the SUT equals its level on the portal (levels 4/3 read as toàn trình/một phần)."""
    differing = []
    for s in services:
        entry = national.get(s.code)
        if entry is None:
            continue  # judged by the check above
        if service_level(s.level) is None or service_level(s.level) != service_level(entry["mucDo"]):
            differing.append(f"{s.service_id} ({s.code}): SUT {s.level!r}, portal {entry['mucDo']!r}")
    expect(
        not differing,
        "service levels differ between the SUT and the portal",
        expected="the same level (toàn trình ≈ 4, một phần ≈ 3, Decree 42/2022 replacing Decree 43/2011)",
        received="; ".join(differing),
        evidence="portal /_p111/catalog and the SUT's service list",
    )
    person_judges(p111_driver, why=LIST_WHY, attach=LIST_ATTACH)


def handoff_query(service) -> str:
    """The link the portal gives a citizen for a provincial service (domain.md section 3)."""
    return urlencode(
        {
            "vnconnect": "1",
            "MaTTHCDP": service.local_code,
            "MaCoQuanThucHien": service.agency_code,
            "MaDVC": service.service_id,
        }
    )


def test_portal_handoff_lands_on_the_service_or_sign_on(services, p111_client: httpx.Client, p111_target, p111_system):
    """The portal's hand-off link opens the service page, or sends a citizen without a session to sign on: to the
    portal's sign-on, or to the system's own login page where the target declares one (sut.refusals.login_redirect)."""
    login = p111_target.sut.refusals.login_redirect
    for s in services:
        url = f"{p111_target.sut.handoff_path}?{handoff_query(s)}"
        try:
            answer = p111_client.get(url)
        except httpx.HTTPError as exc:
            expect(
                False,
                f"the hand-off link of {s.service_id} got no answer",
                expected="a page or a redirect",
                received=f"{type(exc).__name__}: {exc}",
            )
            raise  # not reached: expect(False) fails
        location = answer.headers.get("location", "")
        to_sign_on = answer.is_redirect and any(lies_under(location, u) for u in p111_system.sign_on_urls)
        to_login = login is not None and to_own_page(answer, login)  # the system's own login page, declared
        expect(
            answer.status_code == 200 or to_sign_on or to_login,
            f"the portal's hand-off link to {s.service_id} ({s.code}) does not land on the service",
            expected=f"HTTP 200 (the service page) or a redirect to sign-on at "
            f"{' or '.join(p111_system.sign_on_urls) or 'the configured sign-on'}"
            + (f" or to the system's own login page {login} (sut.refusals.login_redirect)" if login else "")
            + f" (sut.handoff_path {p111_target.sut.handoff_path!r} is a target setting)",
            received=f"HTTP {answer.status_code}" + (f" → {location}" if location else ""),
            evidence=f"GET {url}",
        )


@pytest.mark.needs_automation("the citizen's session presented on the hand-off link, as a browser that signed on would")
def test_portal_handoff_opens_the_service_for_a_signed_in_citizen(services, p111_client: httpx.Client, p111_target,
                                                                  p111_driver: Driver):
    """A citizen who has signed on follows the portal's hand-off link straight to the service page (HTTP 200), not to
    sign-on again. Where the target declares the system's own login page (sut.refusals.login_redirect), a redirect to
    another page of the system's own origin is the service page too (Post/Redirect/Get style); never one to the login
    page, back to the hand-off link, nor off the origin (never followed)."""
    login = p111_target.sut.refusals.login_redirect
    session = p111_driver.session("citizen")
    for s in services:
        url = f"{p111_target.sut.handoff_path}?{handoff_query(s)}"
        answer = p111_client.get(url, headers=session.headers)
        handoff = p111_target.sut.handoff_path
        # A page of its own, but neither its login page nor the hand-off link again (a loop serves nobody).
        to_service = (login is not None and to_own_page(answer)
                      and not to_own_page(answer, login) and not to_own_page(answer, handoff))
        expect(
            answer.status_code == 200 or to_service,
            f"the hand-off link to {s.service_id} ({s.code}) does not open the service for a signed-in citizen",
            expected="HTTP 200: the service page, the citizen's session recognised"
            + (f"; or a redirect to a page of the system's own origin other than its login page {login}" if login
               else ""),
            received=f"HTTP {answer.status_code}" + (f" → {answer.headers['location']}" if answer.is_redirect else ""),
            evidence=f"GET {url}",
        )
