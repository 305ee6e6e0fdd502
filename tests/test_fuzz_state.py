"""harness.fuzz.state (issue 20, review finding 7): which operation is which is learnt from the driver's own calls,
the citizen's payment gets a dossier that waits for payment, and an operation none of whose inputs got past its state
check is never passed."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from harness.config.target import embedded_target, load_target
from harness.core.lifecycle import load_lifecycle
from harness.core.verdicts import NotTested
from harness.fuzz import fuzzer as fuzz
from harness.fuzz.state import PAY, Bound, DossierPool, bind, driver_routes
from harness.sut.drivers import ReferenceApiDriver
from tests.fuzz_support import Clerk, document, dossier_app, operation, robust_input
from tests.fuzz_support import loop as _loop

loop = _loop  # the module's event loop fixture, found by pytest by its name

ROLES = {"citizen": {"x-role": "citizen"}, "officer": {"x-role": "officer"}}
CODE = [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}]
PAYING = document(operation("/dossiers/{code}/pay", "post", parameters=CODE))  # no action word in its path
ROUTES = {"act": ("POST", "/dossiers/{{ code }}/actions/{{ action }}"), "pay": ("POST", "/dossiers/{{ code }}/pay")}
BUDGET = fuzz.Budget(max_examples=2, generated_examples=3, undocumented_status="off")


def test_the_drivers_own_calls_say_which_operation_acts_and_which_opens_the_payment():
    env = {"P111_DEMO3_PAYMENT_SECRET": "p", "P111_DEMO3_OFFICER_KEY": "k", "P111_DEMO3_SECOND_PASSWORD": "w"}
    demo3 = load_target(Path(__file__).parents[1] / "examples" / "demo3.target.yaml", env=env)
    routes = driver_routes(demo3, object())  # the http driver: its `actions` settings
    assert routes == {
        "act": ("POST", "/mc/ho-so/{{ code }}/{{ action }}"),
        "pay": ("POST", "/mc/ho-so/{{ code }}/nop-phi"),
    }
    # `nop-phi` fits the act call's `{{ action }}` too: the call that spells more of the path wins.
    assert bind(routes, "post", "/mc/ho-so/{so}/nop-phi") == Bound(PAY, "so")
    assert bind(routes, "POST", "/mc/ho-so/{so}/{buoc}") == Bound("act", "so", action="buoc")
    assert bind(routes, "POST", "/mc/ho-so/{so}/nhan") == Bound("act", "so", word="nhan")  # one path per action
    assert bind(routes, "GET", "/mc/ho-so/{so}/nop-phi") is None and bind(routes, "POST", "/mc/ho-so") is None
    reference = driver_routes(embedded_target(), ReferenceApiDriver.__new__(ReferenceApiDriver))
    assert bind(reference, "POST", "/api/dossiers/{code}/pay") == Bound(PAY, "code")
    assert bind(reference, "POST", "/api/dossiers/{code}/actions/{action}") == Bound("act", "code", action="action")
    assert driver_routes(embedded_target(), object()) == {}  # a driver that does not say its calls


def test_a_defect_behind_the_payment_state_check_is_found_once_the_payment_gets_a_dossier_waiting_for_it(loop):
    client = dossier_app(loop, pay_crashes=True)
    clerk = Clerk(client)
    one = clerk.submit("p").code  # the run's own dossier: newly submitted, nothing to pay
    given = {"sessions": list(ROLES.values()), "known": {"code": one}, "budget": BUDGET}
    pool = DossierPool(clerk, load_lifecycle(), "code", "p", ROLES, routes=ROUTES, paying="fee")
    result = fuzz.fuzz(client, PAYING, **given, resources=pool)
    (found,) = result.findings
    assert (found.problem, found.response.status_code, str(found.operation)) == (
        "server-error",
        500,
        "POST /dossiers/{code}/pay",
    )
    assert found.response.request.headers["x-role"] == "citizen"  # the applicant pays, not the officer
    assert not pool.failed and result.setup_requests == pool.requests > 0
    robust_input.require_past_state(result, pool)  # got past: no NOT-TESTED


def test_each_payment_gets_a_dossier_of_its_own_and_a_clean_payment_passes(loop):
    client = dossier_app(loop)
    clerk = Clerk(client)
    pool = DossierPool(clerk, load_lifecycle(), "code", "p", ROLES, routes=ROUTES)
    given = {"sessions": list(ROLES.values()), "known": {"code": clerk.submit("p").code}, "budget": BUDGET}
    result = fuzz.fuzz(client, PAYING, **given, resources=pool)
    assert result.findings == [] and result.operations == ["POST /dossiers/{code}/pay"]
    (sent, past) = result.past_state["POST /dossiers/{code}/pay"]
    assert sent == past > 0  # a dossier paid for once is let go: the next payment would be "nothing to pay"
    robust_input.require_past_state(result, pool)


@pytest.mark.parametrize("state_status", [409, 422])
def test_an_operation_no_input_got_past_the_state_check_of_is_not_tested_and_named(loop, state_status):
    """Whichever status the system refuses a wrong-status action with, as sut.refusals.state declares it (a 422 is
    also how it refuses a broken body: only the declaration tells the two apart)."""
    client = dossier_app(loop, pay_crashes=True, state_status=state_status)
    clerk = Clerk(client)
    # Without the driver's calls nothing in the path names an action: the payment keeps the run's own dossier.
    pool = DossierPool(clerk, load_lifecycle(), "code", "p", ROLES, state_refusals=(state_status,))
    given = {"sessions": list(ROLES.values()), "known": {"code": clerk.submit("p").code}, "budget": BUDGET}
    result = fuzz.fuzz(client, PAYING, **given, resources=pool, state_refusals=(state_status,))
    assert result.findings == [] and result.past_state["POST /dossiers/{code}/pay"][1] == 0
    with pytest.raises(NotTested, match=r"no \(valid\) input got past the state check.*POST /dossiers/\{code\}/pay"):
        robust_input.require_past_state(result, pool)


def test_only_the_valid_inputs_refused_by_state_is_not_tested_too():
    """A system that checks the body before the state refuses the broken inputs first (400): those say nothing of the
    state check; every valid one answered 409 does."""
    result = fuzz.FuzzResult(past_state={"POST /x (nhan)": [9, 6]}, valid_past_state={"POST /x (nhan)": [3, 0]})
    with pytest.raises(NotTested, match=r"POST /x \(nhan\)"):
        robust_input.require_past_state(result)
    robust_input.require_past_state(
        fuzz.FuzzResult(past_state={"POST /x": [9, 6]}, valid_past_state={"POST /x": [3, 1]})
    )


def test_an_action_is_fuzzed_from_where_it_is_core_not_from_where_a_system_may_lawfully_refuse_it():
    pool = DossierPool(object(), load_lifecycle(), "code", "p", ROLES)  # type: ignore[arg-type]
    assert pool._from("request-supplement") == ["2", "4"]  # asking a supplement before receipt is optional
    assert pool._from("transfer") == ["2", "4"]  # 6 → 4 is lawful (processing resumes), a transfer from 6 is not core
    assert pool._from("finish") == ["4"]  # finishing straight after receipt is optional
    assert pool._from(PAY) == [load_lifecycle().actions["request-payment"].to]


class _Counter:
    """A driver that makes dossiers and moves them as asked, counting what it was asked for."""

    def __init__(self) -> None:
        self.submitted: list[str] = []

    def submit(self, procedure: str):
        self.submitted.append(procedure)
        return SimpleNamespace(code=f"D{len(self.submitted)}")

    def act(self, code: str, action: str):
        return SimpleNamespace(accepted=True)


def _call(template: str):
    return SimpleNamespace(method="POST", template=template)


def test_a_payment_is_only_ever_made_for_a_dossier_with_a_fee():
    """A dossier of a procedure without fees that an officer was (wrongly, or lawfully) asked to charge waits in status
    6 too; the citizen's payment is never sent for it, but for one of the fee-bearing procedure."""
    driver = _Counter()
    pool = DossierPool(driver, load_lifecycle(), "code", "free", ROLES, routes=ROUTES, paying="fee")
    pool.by_status["6"] = ["FREE-1"]  # not one the pool made for paying
    params: dict = {}
    pool.prepare(_call("/dossiers/{code}/pay"), params)
    assert params[("path", "code")] != "FREE-1" and driver.submitted == ["fee"]
    assert params[("path", "code")] in pool.payable


@pytest.mark.parametrize("state_status", [409, 422])
def test_an_action_refused_from_one_lawful_status_is_tried_from_another(state_status):
    """The contract demands a transfer from 2 or 4: a system that offers it from 4 only refuses it from 2 (with the
    status sut.refusals.state declares), and the fuzzer then brings its inputs to a dossier in 4 rather than
    reporting that none got past the state check."""
    pool = DossierPool(_Counter(), load_lifecycle(), "code", "p", ROLES, routes=ROUTES, state_refusals=(state_status,))
    pool.by_status.update({"2": ["AT-2"], "4": ["AT-4"]})
    call, params = _call("/dossiers/{code}/actions/{action}"), {("path", "action"): "transfer"}
    pool.prepare(call, params)
    assert params[("path", "code")] == "AT-2"
    pool.settled(call, params, httpx.Response(state_status))
    again = {("path", "action"): "transfer"}
    pool.prepare(call, again)
    assert again[("path", "code")] == "AT-4"
