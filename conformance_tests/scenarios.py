"""Scenarios the checks share: dossiers driven through the SUT by lawful actions."""

from __future__ import annotations

from dataclasses import dataclass

from harness.drivers import DossierView, Driver, PaymentView, Service
from harness.verdicts import Failure


@dataclass(frozen=True)
class Scenario:
    dossier: DossierView  # as the SUT shows it at the end of the scenario
    actions: tuple[str, ...]


# In operator mode the service list is the target's declaration: what the SUT shows is judged from a screenshot.
LIST_WHY = "the SUT has no API to list its services: they are the target's (sut.driver_options.procedures)"
LIST_ATTACH = (
    "ảnh chụp màn hình trang danh sách dịch vụ công trực tuyến của hệ thống, cho thấy mã thủ tục (MaTTHC) và mức độ "
    "của từng dịch vụ đã khai báo / a screenshot of the system's list of online services showing each declared "
    "service's procedure code (MaTTHC) and level"
)


def asks_a_person(driver: Driver) -> bool:
    """Operator mode: the driver asks a person, and what only the SUT's screen shows ends REVIEW."""
    return getattr(driver, "review", None) is not None


def person_judges(driver: Driver, *, why: str, attach: str) -> None:
    """Where what the harness observed does not decide a check, a driver that asks a person (operator mode) ends it
    REVIEW, naming what to attach; any other driver observed it already, and nothing happens."""
    if asks_a_person(driver):
        driver.review(why=why, attach=attach)  # type: ignore[attr-defined]


def drive_actions(driver: Driver, code: str, actions: tuple[str, ...], *, to_agency: str | None = None) -> None:
    """Applies lawful actions in order; a lawful action refused is the SUT's failure."""
    for action in actions:
        result = driver.act(code, action, to_agency=to_agency)
        if not result.accepted:
            raise Failure(
                f"the SUT refused the lawful action {action!r} on {code}",
                expected=f"{action} accepted (harness/data/lifecycle.yaml)",
                received=f"HTTP {result.http_status}: {result.message}",
            )


def drive(driver: Driver, procedure_code: str, actions: tuple[str, ...]) -> Scenario:
    """Submits a dossier online and applies lawful actions."""
    dossier = driver.submit(procedure_code)
    drive_actions(driver, dossier.code, actions)
    return Scenario(driver.get(dossier.code), actions)


@dataclass(frozen=True)
class PaymentScenario:
    dossier: DossierView  # as the SUT shows it once payment was asked for
    payment: PaymentView  # the transaction the SUT opened
    service: Service


def ask_for_payment(driver: Driver, service: Service) -> PaymentScenario:
    """A fee-bearing dossier submitted online, received, and asked to pay (status 6): the SUT opens a transaction."""
    scenario = drive(driver, service.code, ("receive", "request-payment"))
    citizen_pays(driver, scenario.dossier.code)
    return _opened(driver, scenario.dossier.code, service, 0)


def citizen_pays(driver: Driver, code: str) -> None:
    """Where the system waits for the citizen to open the payment after the request (a driver's `pay`; lawful under
    the platform's contract), the citizen does; a driver whose system opened it on the request returns None."""
    pay = getattr(driver, "pay", None)
    result = pay(code) if pay is not None else None
    if result is not None and not result.accepted:
        raise Failure(
            f"the SUT refused the citizen's payment of {code}",
            expected="the payment the officer asked for opened for the citizen",
            received=f"HTTP {result.http_status}: {result.message}",
        )


def _opened(driver: Driver, code: str, service: Service, known: int) -> PaymentScenario:
    """The transaction opened after the first `known` ones of the dossier."""
    dossier = driver.get(code)
    opened = dossier.payments[known:]
    if not opened:
        raise Failure(
            f"asking {code} to pay opened no payment transaction",
            expected=f"a payment of {service.fee_total} VND listed on the dossier (its MaThamChieu, amount and state)",
            received=f"payments: {[p.reference for p in dossier.payments]}",
        )
    return PaymentScenario(dossier, opened[-1], service)


def ask_again(driver: Driver, scenario: PaymentScenario) -> PaymentScenario:
    """The same dossier asked to pay a second time (after a failed payment): processing resumes, then payment is
    requested again, which opens a new transaction."""
    drive_actions(driver, scenario.dossier.code, ("process", "request-payment"))
    citizen_pays(driver, scenario.dossier.code)
    return _opened(driver, scenario.dossier.code, scenario.service, len(scenario.dossier.payments))
