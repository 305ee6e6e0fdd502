"""Scenarios the checks share: dossiers driven through the SUT by lawful actions."""

from __future__ import annotations

from dataclasses import dataclass

from harness.core.lifecycle import Lifecycle, load_lifecycle
from harness.core.verdicts import Failure, not_applicable
from harness.sut import drivers
from harness.sut.drivers import ActionResult, DossierView, Driver, DriverError, PaymentView, Service
from harness.sut.drivers.base import opens_payment


@dataclass(frozen=True)
class Scenario:
    dossier: DossierView  # as the SUT shows it at the end of the scenario
    actions: tuple[str, ...]


# The documents a test citizen submits with a dossier (its components: a declaration and a birth certificate).
SUBMITTED_FILES = (
    ("to-khai.pdf", b"%PDF-1.4\n% P111 to khai kiem thu\n"),
    ("giay-chung-sinh.pdf", b"%PDF-1.4\n% P111 giay chung sinh kiem thu\n"),
)


# In operator mode the service list is the target's declaration: what the SUT shows is judged from a screenshot.
LIST_WHY = "the SUT has no API to list its services: they are the target's (sut.driver_options.procedures)"
LIST_ATTACH = (
    "ảnh chụp màn hình trang danh sách dịch vụ công trực tuyến của hệ thống, cho thấy mã thủ tục (MaTTHC) và mức độ "
    "của từng dịch vụ đã khai báo / a screenshot of the system's list of online services showing each declared "
    "service's procedure code (MaTTHC) and level"
)


def asks_a_person(driver: Driver) -> bool:
    """Operator mode: the driver asks a person (Driver.asks_a_person), and what only the SUT's screen shows ends
    REVIEW."""
    return drivers.asks_a_person(driver)


def person_judges(driver: Driver, *, why: str, attach: str) -> None:
    """Where what the harness observed does not decide a check, a driver that asks a person (operator mode) ends it
    REVIEW, naming what to attach; any other driver observed it already, and nothing happens."""
    if asks_a_person(driver):
        driver.review(why=why, attach=attach)  # type: ignore[attr-defined]


def current_status(driver: Driver, code: str) -> str:
    return driver.get(code).status


def _refused(action: str, code: str, status: str, result: ActionResult, lifecycle: Lifecycle) -> None:
    """A lawful action refused: the SUT's failure when every system must offer it, otherwise a lawful choice that
    leaves the check unable to reach what it judges (NOT-APPLICABLE, citing lifecycle.yaml)."""
    received = f"HTTP {result.http_status}: {result.message}"
    if lifecycle.demands(action, status):
        raise Failure(
            f"the SUT refused the lawful action {action!r} on {code} in {lifecycle.name(status)}",
            expected=f"{action} accepted — {lifecycle.core_rule(action)}",
            received=received,
        )
    not_applicable(
        f"hệ thống từ chối bước tùy chọn / the SUT lawfully refuses {action!r} from {lifecycle.name(status)} "
        f"({lifecycle.why_optional(action, status)}; {received}); this check needs that step"
    )


def drive_actions(
    driver: Driver,
    code: str,
    actions: tuple[str, ...],
    *,
    to_agency: str | None = None,
    status: str | None = None,
    lifecycle: Lifecycle | None = None,
) -> str:
    """Applies actions in order, each only if the lifecycle allows it from the dossier's current status (asked of
    the SUT unless `status` gives it): a core action refused is the SUT's failure, an optional one a lawful choice
    (NOT-APPLICABLE). Returns the status the dossier is in at the end."""
    lifecycle = lifecycle or load_lifecycle()
    status = status or current_status(driver, code)
    for action in actions:
        if status not in lifecycle.statuses:  # a status the SUT invented: its failure, not the scenario's
            raise Failure(
                f"dossier {code} is in a status the national lifecycle does not have",
                expected=f"one of the portal's status codes: {', '.join(lifecycle.statuses)} (lifecycle.yaml)",
                received=f"status {status!r}",
            )
        if lifecycle.leads_to(status, action, resume="2") is None:
            # The scenario's own mistake, never the SUT's: an ERROR naming the step.
            raise LookupError(f"scenario error: {action!r} is not lawful from {lifecycle.rule(status)}")
        result = driver.act(code, action, to_agency=to_agency)
        if not result.accepted:
            _refused(action, code, status, result, lifecycle)
        status = result.dossier.status if result.dossier is not None else current_status(driver, code)
    return status


def try_optional(
    driver: Driver, code: str, action: str, *, to_agency: str | None = None, lifecycle: Lifecycle | None = None
) -> bool:
    """One step a system may lawfully refuse (e.g. processing at the receiving agency after a transfer): True when
    accepted, False when lawfully refused; refusing it where every system must accept it is the SUT's failure."""
    lifecycle = lifecycle or load_lifecycle()
    status = current_status(driver, code)
    if lifecycle.leads_to(status, action, resume="2") is None:
        return False  # not lawful from here: the lifecycle says do not ask
    result = driver.act(code, action, to_agency=to_agency)
    if not result.accepted and lifecycle.demands(action, status):
        _refused(action, code, status, result, lifecycle)
    return result.accepted


# The core path a dossier follows when nothing else is asked of it (lifecycle.yaml `core`).
CORE_PATH = ("receive", "process", "finish", "return")


def act_where_offered(
    driver: Driver, code: str, action: str, *, to_agency: str | None = None, lifecycle: Lifecycle | None = None
) -> str:
    """An action every system offers from at least one status of the core path (a supplement request, a payment
    request: where is its choice, domain.md section 8), made at the first such point the SUT allows; returns the
    status it was made from. Refused from every one of them: the SUT's failure."""
    lifecycle = lifecycle or load_lifecycle()
    group = lifecycle.core[action]
    status = current_status(driver, code)
    tried = []
    for step in CORE_PATH:
        if status in group.any_of | group.every:
            result = driver.act(code, action, to_agency=to_agency)
            if result.accepted:
                return status
            tried.append(f"from {lifecycle.name(status)}: HTTP {result.http_status} {result.message}".strip())
        if lifecycle.leads_to(status, step) is None:
            continue
        status = drive_actions(driver, code, (step,), status=status, lifecycle=lifecycle)
    raise Failure(
        f"the SUT refused {action!r} on {code} at every point of the core path",
        expected=lifecycle.core_rule(action),
        received="; ".join(tried) or "no status of the core path allowed it",
    )


def drive(
    driver: Driver, procedure_code: str, actions: tuple[str, ...], *, files: tuple[tuple[str, bytes], ...] = ()
) -> Scenario:
    """Submits a dossier online (with `files`) and applies lawful actions."""
    dossier = driver.submit(procedure_code, files=files)
    drive_actions(driver, dossier.code, actions, status=dossier.status)
    return Scenario(driver.get(dossier.code), actions)


@dataclass(frozen=True)
class PaymentScenario:
    dossier: DossierView  # as the SUT shows it once payment was asked for
    payment: PaymentView  # the transaction the SUT opened
    service: Service


# Who opens a payment (target payment.opened_by): the officer's request (officer), or the citizen by a call of their
# own after it (citizen: the driver's `pay` step). Both follow the platform's contract (domain.md section 8). Set once
# per run from the target by conftest.py.
PAYMENT_OPENER = {"by": "officer"}


def open_payment(driver: Driver, code: str) -> None:
    """After the officer's request: where the citizen opens the payment, the citizen's `pay` step."""
    if PAYMENT_OPENER["by"] != "citizen":
        return
    pay = opens_payment(driver)
    if pay is None:
        raise DriverError("payment.opened_by is citizen, but the driver has no pay step")
    result = pay(code)
    if not result.accepted:
        raise Failure(
            f"the citizen could not open the payment asked for {code}",
            expected="the citizen's pay call accepted after the officer's payment request (payment.opened_by: citizen)",
            received=f"HTTP {result.http_status}: {result.message}",
        )


def ask_for_payment(driver: Driver, service: Service) -> PaymentScenario:
    """A fee-bearing dossier submitted online, received, and asked to pay (status 6): a transaction is opened, by
    the SUT on the request or by the citizen's own call after it."""
    dossier = driver.submit(service.code)
    act_where_offered(driver, dossier.code, "request-payment")
    open_payment(driver, dossier.code)
    return _opened(driver, dossier.code, service, 0)


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
    open_payment(driver, scenario.dossier.code)
    return _opened(driver, scenario.dossier.code, scenario.service, len(scenario.dossier.payments))
