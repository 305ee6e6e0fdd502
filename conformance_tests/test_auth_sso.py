"""P111-AUTH-SSO: citizens sign on through the portal's single sign-on (and VNeID), and the SUT trusts only what the
provider really said.

«100% giao dịch trên Hệ thống thông tin giải quyết TTHC cấp tỉnh được xác thực điện tử»
The flow and claims: domain.md section 5. The provider is the harness's sign-on counterpart; it can turn hostile.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from harness.checking import expect
from harness.drivers import Driver, Login

pytestmark = [pytest.mark.requirement("P111-AUTH-SSO"), pytest.mark.offered("sign-on")]

CITIZEN, VNEID_CITIZEN = "citizen-1", "citizen-vneid"
# What the sign-on counterpart can be told to answer with (POST /_p111/next-login); each must be refused.
HOSTILE = {
    "alg-none": "an unsigned ID token (alg: none)",
    "bad-signature": "an ID token whose payload was changed after signing",
    "unknown-key": "an ID token signed with a key that is not in the provider's JWKS",
    "expired": "an ID token that expired an hour ago",
    "not-yet-valid": "an ID token valid only from an hour from now",
    "wrong-audience": "an ID token issued to another client (aud)",
    "wrong-issuer": "an ID token from another issuer (iss)",
    "replayed-nonce": "an ID token carrying the nonce of an earlier login",
    "state-mismatch": "a redirect back whose state the SUT never sent",
}


def query_of(login: Login) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(login.authorize_url).query).items()}


def test_authorization_request_is_well_formed(p111_driver: Driver, p111_sso):
    """The SUT's authorization request: code flow, scope openid, its registered client and redirect_uri, a fresh
    state and nonce for every login, and acr_values."""
    first, second = (query_of(p111_driver.login(CITIZEN)) for _ in range(2))
    clients = {c["client_id"]: c for c in p111_sso.clients()}
    problems = []
    if first.get("response_type") != "code":
        problems.append(f"response_type={first.get('response_type')!r}")
    if "openid" not in first.get("scope", "").split():
        problems.append(f"scope={first.get('scope')!r} lacks openid")
    client = clients.get(first.get("client_id", ""))
    if client is None:
        problems.append(f"client_id={first.get('client_id')!r} is not registered")
    elif not any(first.get("redirect_uri", "").startswith(p) for p in client["redirect_prefixes"]):
        problems.append(f"redirect_uri={first.get('redirect_uri')!r} is not registered")
    for name in ("state", "nonce", "acr_values"):
        if not first.get(name):
            problems.append(f"no {name}")
    for name in ("state", "nonce"):
        if first.get(name) and first.get(name) == second.get(name):
            problems.append(f"the same {name} in two logins")
    expect(
        not problems,
        "the SUT's authorization request is not a well-formed OpenID Connect code-flow request",
        expected="response_type=code, scope openid, a registered client_id and redirect_uri, a fresh state and "
        "nonce per login, acr_values (domain.md section 5)",
        received="; ".join(problems),
        evidence="sign-on counterpart /_p111/authorizations",
    )


@pytest.mark.parametrize(
    ("account", "variant", "rotate"),
    [
        (CITIZEN, "rs256", False),
        pytest.param(VNEID_CITIZEN, "es256", False, marks=pytest.mark.offered("vneid")),
        (CITIZEN, "rs256", True),
    ],
    ids=["portal-rs256", "vneid-es256", "after-key-rotation"],
)
def test_valid_login_binds_the_session_to_the_account(account, variant, rotate, p111_driver: Driver, p111_sso):
    """A valid login (RS256 or ES256, before and after the provider rotates its keys) opens a session bound to the
    account's TechID."""
    if rotate:
        p111_sso.rotate_keys()
    p111_sso.arm(variant)
    login = p111_driver.login(account)
    who = p111_driver.whoami(login.session) if login.session else None
    expected = p111_sso.tech_id(account)
    expect(
        not (who is None or who.get("subject") != expected),
        f"a valid {variant.upper()} login of {account} did not give a session bound to its TechID",
        expected=f"a session whose subject is the account's TechID {expected}",
        received=f"HTTP {login.http_status} {login.message}".strip() if who is None else f"subject {who}",
    )


@pytest.fixture(scope="module")
def earlier_login(p111_driver: Driver) -> Login:
    """A plain login first, so that a replayed nonce has something to replay."""
    return p111_driver.login(CITIZEN)


@pytest.mark.parametrize("variant", HOSTILE)
def test_hostile_answer_is_refused(variant, earlier_login, p111_driver: Driver, p111_sso):
    """Every forged or stale answer of the provider is refused, and no session comes of it."""
    p111_sso.arm(variant)
    try:
        login = p111_driver.login(CITIZEN)
    finally:
        p111_sso.arm(None)
    who = p111_driver.whoami(login.session) if login.session else None
    expect(
        who is None,
        f"the SUT accepted {HOSTILE[variant]}",
        expected="the login refused and no session created (signature via JWKS, iss, aud, exp/nbf, nonce, state)",
        received=lambda: f"HTTP {login.http_status}; a session for subject {who.get('subject')!r}",
        evidence=f"sign-on counterpart armed with {variant!r}",
    )
