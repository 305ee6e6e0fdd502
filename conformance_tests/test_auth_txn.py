"""P111-AUTH-TXN: every transaction is electronically authenticated and names who made it.

«100% giao dịch trên Hệ thống thông tin giải quyết TTHC cấp tỉnh được xác thực điện tử»
The endpoints come from the SUT's own OpenAPI document (sut.openapi_path) and from the target's declaration
(sut.transactions), so an endpoint added later is covered unchanged. Calls that are public or authenticated by
other means (the payment confirm callback, authenticated by its checksum: domain.md section 8; whatever the target
lists under sut.public_operations; an operation marked `x-p111-authenticated-by`) are not users' transactions and
are not counted.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from conformance_tests.scenarios import SUBMITTED_FILES, act_where_offered, drive_actions, person_judges
from harness.config.system import Refusals
from harness.core import limits
from harness.core.lifecycle import Lifecycle
from harness.fuzz.openapi import read_operations
from harness.http.client import refused
from harness.sut.checking import blocked, expect
from harness.sut.drivers import DossierView, Driver, Session, StepView

pytestmark = pytest.mark.requirement("P111-AUTH-TXN")

WRITES = ("post", "put", "patch", "delete")
NOT_FOUND = 404  # another citizen's dossier may be refused or simply not found
NEWLY_REGISTERED = "1"  # the status a submission opens a dossier's history with (lifecycle.yaml)
OTHER_CITIZEN = "citizen-2"
OTHER_CITIZENS_FILES = (("to-khai-rieng.pdf", b"%PDF-1.4\n% P111 to khai cua cong dan khac\n"),)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # with the path parameters filled in
    template: str

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def operations(document: dict[str, Any], code: str, parameter: str = "code") -> list[Operation]:
    """Every operation of the document (read by the fuzzer's OpenAPI reader), path parameters filled in: the
    dossier-code parameter (`sut.dossier_parameter`) with the given code, an enum with each of its values, anything
    else with a placeholder."""
    read, unreadable = read_operations(document, ("get", *WRITES))
    if unreadable:  # an operation left out would be a write never probed
        raise ValueError("the OpenAPI document cannot be read: " + "; ".join(f"{n}: {why}" for n, why in unreadable))
    result = []
    for op in read:
        if op.operation.get("x-p111-authenticated-by"):
            continue
        choices = []
        for p in (p for p in op.parameters if p.get("in") == "path"):
            values = [code] if p["name"] == parameter else p.get("schema", {}).get("enum") or ["p111-probe"]
            choices.append([(p["name"], str(v)) for v in values])
        for filled in itertools.product(*choices):
            path = op.template
            for name, value in filled:
                path = path.replace("{" + name + "}", value)
            result.append(Operation(op.method, path, op.template))
    return result


def declared(transactions: tuple[tuple[str, str], ...], parameter: str = "code") -> dict[str, Any]:
    """The target's declared transaction endpoints (where `{code}` stands for the dossier code), shaped as an OpenAPI
    document's paths with the SUT's own name for that parameter."""
    paths: dict[str, Any] = {}
    for method, template in transactions:
        template = template.replace("{code}", "{" + parameter + "}")
        names = re.findall(r"\{(\w+)\}", template)
        paths.setdefault(template, {})[method.lower()] = {"parameters": [{"name": n, "in": "path"} for n in names]}
    return {"paths": paths}


@pytest.fixture(scope="module")
def api(p111_client: httpx.Client, p111_target) -> dict[str, Any]:
    """The transaction endpoints: the SUT's OpenAPI document (sut.openapi_path) merged with the target's
    declaration (sut.transactions)."""
    sut = p111_target.sut
    document: dict[str, Any] = {"paths": {}}
    problem = "the target sets sut.openapi_path: null"
    if sut.openapi_path:
        answer = p111_client.get(sut.openapi_path)
        try:
            document = dict(limits.json_of(answer.content)) if answer.status_code == 200 else document
            document.setdefault("paths", {})
            problem = f"{sut.openapi_path} answered HTTP {answer.status_code} with no operations"
        except ValueError:
            problem = f"{sut.openapi_path} is not JSON"
    for template, item in declared(sut.transactions, sut.dossier_parameter)["paths"].items():
        for method, operation in item.items():
            document["paths"].setdefault(template, {}).setdefault(method, operation)
    # Calls that are public or authenticated by other means are no user's transaction: the target lists them
    # (sut.public_operations), and the payment confirm callback is one by the platform's contract (domain.md
    # section 8). A vendor's document need not carry p111's own `x-p111-authenticated-by` to say so.
    public = {*sut.public_operations, ("POST", p111_target.payment_rules.confirm_path)}
    for method, template in public:
        template = template.replace("{code}", "{" + sut.dossier_parameter + "}")
        document["paths"].get(template, {}).pop(method.lower(), None)
        if template in document["paths"] and not document["paths"][template]:
            del document["paths"][template]
    if not document["paths"]:
        pytest.fail(
            f"no transaction endpoints to probe: {problem}, and the target declares no sut.transactions. "
            "Publish an OpenAPI document or list the endpoints under sut.transactions in the target file."
        )
    return document


@pytest.fixture(scope="module")
def owned(p111_driver: Driver, procedure_codes: list[str]) -> DossierView:
    """A dossier of the default test citizen, just submitted with documents."""
    return p111_driver.submit(procedure_codes[0], files=SUBMITTED_FILES)


def probe(client: httpx.Client, operation: Operation, headers: dict[str, str]) -> httpx.Response:
    body = {"actor": "P111"} if operation.method in WRITES else None
    return client.request(operation.method, operation.path, json=body, headers=headers)


def refusals_text(refusals: Refusals) -> str:
    statuses = " or ".join(str(s) for s in refusals.statuses)
    login = refusals.login_redirect
    sent = f", or a redirect to the system's own login page {login}" if login else ""
    return f"HTTP {statuses}{sent} (sut.refusals)"


def answered(answer: httpx.Response) -> str:
    return f"HTTP {answer.status_code}" + (f" → {answer.headers['location']}" if answer.is_redirect else "")


# A credential's secret part, after a cookie's name (`name=`) or an authorization scheme (`Bearer `) if any.
_CREDENTIAL = re.compile(r"^((?:[\w.-]+=)|(?:[A-Za-z]+ ))?(.+)$", re.DOTALL)


def forged(headers: dict[str, str]) -> dict[str, str]:
    """The SUT's own session credential, in its own headers and shape, with the secret part replaced: whatever the
    vendor's scheme (a cookie, a bearer token, a header of its own), a made-up value must be refused."""
    result = {}
    for name, value in headers.items():
        found = _CREDENTIAL.match(value)
        prefix, secret = (found.group(1) or "", found.group(2)) if found else ("", value)
        result[name] = prefix + ("p111forged" + "0" * len(secret))[: max(len(secret), 10)]
    return result


def test_every_write_refuses_missing_or_forged_credentials(
    api, owned, p111_client: httpx.Client, p111_sso, p111_driver: Driver, p111_target
):
    """Every endpoint that creates or changes something refuses (sut.refusals: 401/403 by default) a request with no
    credentials, a forged bearer token, an expired one, a forged session cookie, or a forged credential in the form of
    the SUT's own sessions (the headers the driver presents, whatever they are)."""
    credentials = {
        "no credentials": {},
        "a forged bearer token": {"authorization": "Bearer p111-forged-token-0000000000"},
        "an expired bearer token": {"authorization": f"Bearer {p111_sso.mint(OTHER_CITIZEN, expired=True)}"},
        "a forged session cookie": {"cookie": "p111_session=p111-forged-session-0000"},
    }
    own_form = forged(p111_driver.session("citizen").headers)
    if own_form and not any(own_form.keys() == probe.keys() for probe in credentials.values()):  # a new form
        credentials[f"a forged credential in the SUT's own form ({', '.join(own_form)})"] = own_form
    writes = [op for op in operations(api, owned.code, p111_target.sut.dossier_parameter) if op.method in WRITES]
    refusals = p111_target.sut.refusals
    accepted = []
    for op in writes:
        for what, headers in credentials.items():
            answer = probe(p111_client, op, headers)
            if not refused(answer, refusals):
                accepted.append(f"{op} with {what} → {answered(answer)}")
    expect(
        not accepted,
        "endpoints that change dossiers do not refuse unauthenticated requests",
        expected=f"{refusals_text(refusals)} from each of the {len(writes)} write operations (OpenAPI document and "
        "target)",
        received="; ".join(accepted),
    )


@pytest.mark.needs_automation("another citizen's session credentials, replayed against every endpoint")
def test_no_cross_account_reading_or_writing(
    api, owned, p111_driver: Driver, p111_client: httpx.Client, p111_target
):
    """Another citizen's valid session neither reads nor changes a dossier that is not theirs: no write to it is
    accepted, and no read (a listing included) shows it, nor downloads one of its documents (at the address the SUT
    gives for it), also when that citizen has dossiers of their own."""
    other = p111_driver.login(OTHER_CITIZEN).session
    if other is None:
        pytest.fail(f"the SUT refused the sign-on of the test account {OTHER_CITIZEN}")
    # The other citizen has a dossier of their own: a system that asks only "may this account read some dossier"
    # instead of "this one" shows itself only then.
    # Its document differs in content from the owner's, so that a system storing files by content is not mistaken.
    p111_driver.submit(owned.procedure_code, files=OTHER_CITIZENS_FILES, session=other)
    parameter = p111_target.sut.dossier_parameter
    hidden = (*p111_target.sut.refusals.statuses, NOT_FOUND)
    leaks = []
    for op in operations(api, owned.code, parameter):
        if op.method in WRITES and "{" + parameter + "}" not in op.template:
            continue  # creating one's own dossier is no cross-account write
        answer = p111_client.request(op.method, op.path, json={"actor": "P111"} if op.method in WRITES else None,
                                     headers=other.headers)
        if op.method in WRITES and answer.status_code not in hidden:
            leaks.append(f"{op} → HTTP {answer.status_code}")
        elif op.method == "get" and answer.is_success and owned.code in answer.text:
            leaks.append(f"{op} → HTTP {answer.status_code} shows {owned.code}")
    contents = [content for _, content in SUBMITTED_FILES]
    for document in owned.files:
        address = p111_client.base_url.join(document.url)
        if (address.scheme, address.host, address.port) != (
            p111_client.base_url.scheme, p111_client.base_url.host, p111_client.base_url.port
        ):
            continue  # a link to elsewhere (files sent by link): not the SUT's to guard
        answer = p111_client.get(address, headers=other.headers)
        if answer.is_success and any(content in answer.content for content in contents):
            leaks.append(f"GET {document.url} → HTTP {answer.status_code}: {document.name}, a document of {owned.code}")
    expect(
        not leaks,
        f"another citizen's session reaches {owned.code}, which is not theirs",
        expected=f"HTTP {', '.join(str(s) for s in hidden)}, and no answer that shows the dossier",
        received="; ".join(leaks),
    )


def same_level(recorded: str | None, claimed: str) -> bool:
    """The level of assurance a step records is the one the sign-on claimed (loAs), written "LoA2" or "2"."""
    def level(value: str) -> str:
        return value.strip().lower().removeprefix("loa")

    return bool(recorded) and bool(claimed) and level(str(recorded)) == level(claimed)


def actor_of_step(lifecycle: Lifecycle, step: StepView, previous: str | None) -> str | None:
    """Who made a step of a dossier this check drove: the actor lifecycle.yaml gives its action ('submit', the
    dossier's creation, is the applicant's: the check submits with the citizen's session). A step naming no action
    (the http driver's `views.step.action` is optional) is known by its move: the history's opening step at status 1
    is the submission; a later one, the one role whose action leads from the previous step's status to its own.
    None when the move does not tell (more than one role can make it, or the history opens elsewhere)."""
    if step.action == "submit":
        return "citizen"
    if step.action in lifecycle.actions:
        return lifecycle.actions[step.action].actor
    if previous is None:
        return "citizen" if step.status == NEWLY_REGISTERED else None
    roles = lifecycle.actors_of(previous, step.status)
    return next(iter(roles)) if len(roles) == 1 else None


def test_every_transaction_names_its_subject(
    p111_driver: Driver, p111_sso, p111_lifecycle: Lifecycle, procedure_codes: list[str]
):
    """Every stored transaction on a dossier, as the SUT shows it, names the authenticated account (TechID) that
    made it and its level of assurance. Who made a step is its action's actor, or, where the SUT names no action,
    the role whose action makes the step's move (actor_of_step); where the move does not tell, the step must name
    one of the two accounts that acted, with that account's level."""
    dossier = p111_driver.submit(procedure_codes[0])
    act_where_offered(p111_driver, dossier.code, "request-supplement")  # where on the core path: the SUT's choice
    drive_actions(p111_driver, dossier.code, ("supplement",), status="5")
    citizen, officer = p111_sso.tech_id("citizen-1"), p111_sso.tech_id("officer-1")
    person_judges(
        p111_driver,
        why="who made each step of a dossier shows only in its history on the SUT's screen",
        attach=f"ảnh chụp màn hình lịch sử xử lý hồ sơ {dossier.code}: mỗi bước ghi tài khoản (TechID công dân "
        f"{citizen}, cán bộ {officer}) và mức độ xác thực / a screenshot of {dossier.code}'s history: each step "
        "naming its account's TechID and level of assurance",
    )
    steps = p111_driver.get(dossier.code).steps
    expect(
        len(steps) >= 3,  # at least the three this check made: submit, request-supplement, supplement
        f"the SUT shows no history of the transactions on {dossier.code}",
        expected="one step per transaction (submit, request-supplement, supplement and any step between), each "
        "naming its account and level of assurance",
        received=f"{len(steps)} step(s): {[s.action or s.status for s in steps]}",
    )
    accounts = p111_sso.accounts()
    levels = {
        who: str(accounts[login]["claims"].get("loAs", ""))
        for who, login in ((citizen, "citizen-1"), (officer, "officer-1"))
    }
    accounts_of = {"citizen": citizen, "officer": officer}
    wrong, untold = [], []
    for step, previous in zip(steps, (None, *(s.status for s in steps)), strict=False):
        role = actor_of_step(p111_lifecycle, step, previous)
        may_be = [accounts_of[role]] if role else [citizen, officer]
        label = step.action or f"status {step.status} (no action named)"
        if role is None:
            untold.append(label)
        if not any(step.subject == who and same_level(step.assurance, levels[who]) for who in may_be):
            wrong.append(f"{label}: subject {step.subject!r}, assurance {step.assurance!r}")
    either = (
        f"; steps that name no action and whose move more than one role may make (lifecycle.yaml), so who made them "
        f"is not known: {', '.join(untold)} — each need only name one of the two accounts, with its level"
        if untold
        else ""
    )
    expect(
        not wrong,
        f"transactions on {dossier.code} do not name who made them",
        expected=f"each step names its account's TechID and the level of assurance its sign-on carried (loAs): "
        f"citizen {citizen} {levels[citizen]}, officer {officer} {levels[officer]}{either}",
        received="; ".join(wrong),
    )


@pytest.mark.needs_automation("the applicant's own session presented for an officer's action")
def test_officer_actions_refuse_a_citizen_session(p111_driver: Driver, p111_lifecycle, procedure_codes):
    """An officer's action (receiving a dossier) presented with the applicant's own citizen session is refused and
    changes nothing: a transaction is authenticated as someone who may make it, not merely as someone."""
    dossier = p111_driver.submit(procedure_codes[0])
    result = p111_driver.act(dossier.code, "receive", session=p111_driver.session("citizen"))
    after = p111_driver.get(dossier.code)
    expect(
        not result.accepted and after.status == dossier.status,
        f"the applicant's citizen session made an officer's action on {dossier.code}",
        expected=f"'receive' (an officer's action, harness/data/lifecycle.yaml) refused with HTTP 401/403 and the "
        f"status left at {p111_lifecycle.name(dossier.status)}",
        received=f"HTTP {result.http_status}, status now {p111_lifecycle.name(after.status)}",
    )


@pytest.mark.offered("vneid")
def test_synced_dossier_names_the_vneid_account(p111_driver: Driver, p111_sso, p111_portal, procedure_codes):
    """A dossier submitted online after a VNeID sign-on reaches the portal with MaDoiTuong = the account's TechID and
    TaiKhoanDuocXacThucVoiVNeID = 1."""
    session: Session | None = p111_driver.login("citizen-vneid").session
    if session is None:
        pytest.fail("the SUT refused the sign-on of the VNeID test account")
    dossier = p111_driver.submit(procedure_codes[0], session=session)
    rows = p111_portal.wait(lambda: p111_portal.dossiers(dossier.code), bool)
    if not rows:
        blocked(f"dossier {dossier.code} never reached the portal", "P111-SYNC-DOSSIER")
    expected = {"MaDoiTuong": p111_sso.tech_id("citizen-vneid"), "TaiKhoanDuocXacThucVoiVNeID": "1"}
    got = {k: rows[-1]["item"].get(k) for k in expected}
    expect(
        got == expected,
        f"{dossier.code} reached the portal without naming the VNeID-verified account",
        expected=", ".join(f"{k} = {v}" for k, v in expected.items()) + " (domain.md section 3)",
        received=str(got),
        evidence="portal /_p111/dossiers",
    )
