"""P111-AUTH-SSO: citizens sign on through the portal's single sign-on (and VNeID), and the SUT trusts only what the
provider really said.

«100% giao dịch trên Hệ thống thông tin giải quyết TTHC cấp tỉnh được xác thực điện tử»
The flow and claims: domain.md section 5. The provider is the harness's sign-on counterpart; it can turn hostile.
At least as strict as the OpenID Foundation's relying-party certification (Basic plan, and the Config plan's key
rotation and issuer mismatch): the mapping of each check to the OIDF test is in the acceptance guides.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from harness.config.target import Target
from harness.core.verdicts import NotTested, not_applicable
from harness.sut.checking import expect
from harness.sut.drivers import Driver, DriverError, Login

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
    "missing-sub": "an ID token without sub",
    "missing-iat": "an ID token without iat",
    "missing-aud": "an ID token without aud",
    "extra-audience": "an ID token whose aud also names an untrusted other party, without azp",
    "hs256-client-secret": "an ID token signed HS256 with the client secret, where RS256/ES256 are the provider's",
    "hs256-public-key": "an ID token signed HS256 keyed with the provider's RSA public key (RS-to-HS confusion)",
    "bad-at-hash": "an ID token whose at_hash does not match the access token",
    "userinfo-other-sub": "a userinfo answer about another account (its sub differs from the ID token's)",
    "discovery-issuer-mismatch": "a discovery document whose issuer is not the issuer the SUT was configured with",
}
LOWEST_LOA = "LoA1"  # what the counterpart's `low-loa` login carries (acr and loAs)


def authorization_of(login: Login, p111_sso) -> dict[str, Any] | None:
    """The authorization request the sign-on counterpart received for this login (found by its state)."""
    state = query_of(login).get("state")
    return next((a for a in p111_sso.authorizations() if state and a["query"].get("state") == state), None)


def token_request_of(login: Login, p111_sso) -> dict[str, Any] | None:
    """The token request that redeemed this login's code, as the counterpart recorded it."""
    authorization = authorization_of(login, p111_sso)
    if authorization is None:
        return None
    return next((t for t in p111_sso.token_requests() if t["authorization"] == authorization["seq"]), None)


def armed_login(p111_sso, p111_driver: Driver, variant: str | None, account: str = CITIZEN) -> Login:
    """One login with the counterpart armed; disarmed afterwards whatever happens (its JWKS and discovery too)."""
    p111_sso.arm(variant)
    try:
        return p111_driver.login(account)
    finally:
        p111_sso.arm(None)


def query_of(login: Login) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(login.authorize_url).query).items()}


def test_authorization_request_is_well_formed(p111_driver: Driver, p111_sso):
    """The SUT's authorization request: code flow, scope openid, its registered client and redirect_uri, a fresh
    state for every login, and acr_values. A nonce is the SUT's choice (domain.md section 5 lists none; OIDC Core
    3.1.2.1 makes it optional in the code flow), but one it sends must be fresh for every login."""
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
    for name in ("state", "acr_values"):
        if not first.get(name):
            problems.append(f"no {name}")
    for name in ("state", "nonce"):  # a nonce sent in only one of the two logins is fresh: nothing to compare
        if first.get(name) and first.get(name) == second.get(name):
            problems.append(f"the same {name} in two logins")
    expect(
        not problems,
        "the SUT's authorization request is not a well-formed OpenID Connect code-flow request",
        expected="response_type=code, scope openid, a registered client_id and redirect_uri, a fresh state per "
        "login (and a fresh nonce, where one is sent), acr_values (domain.md section 5)",
        received="; ".join(problems),
        evidence="sign-on counterpart /_p111/authorizations",
    )


@pytest.mark.parametrize(
    ("account", "variant", "rotate"),
    [
        (CITIZEN, "rs256", False),
        pytest.param(VNEID_CITIZEN, "es256", False, marks=pytest.mark.offered("vneid")),
        (CITIZEN, "rs256", True),
        (CITIZEN, "kid-absent-single", False),
    ],
    ids=["portal-rs256", "vneid-es256", "after-key-rotation", "kid-absent-single-jwks"],
)
def test_valid_login_binds_the_session_to_the_account(account, variant, rotate, p111_driver: Driver, p111_sso):
    """A valid login (RS256 or ES256; signed by a key rotated in just before it, found only in the refreshed JWKS;
    without kid while the JWKS holds a single key) opens a session bound to the account's TechID."""
    if rotate:
        p111_sso.rotate_keys()
    try:
        login = armed_login(p111_sso, p111_driver, variant, account)
    finally:
        if rotate:  # back to the previous key, so later checks do not depend on how the SUT caches keys
            p111_sso.rotate_keys(undo=True)
    who = p111_driver.whoami(login.session) if login.session else None
    expected = p111_sso.tech_id(account)
    expect(
        who is not None and who.get("subject") == expected,
        f"a valid {variant.upper()} login of {account} did not give a session bound to its TechID",
        expected=f"a session whose subject is the account's TechID {expected}",
        received=f"HTTP {login.http_status} {login.message}".strip() if who is None else f"subject {who}",
    )


@pytest.fixture(scope="module")
def earlier_login(p111_driver: Driver) -> Login:
    """A plain login first, so that a replayed nonce (where the SUT sends one) has something to replay."""
    return p111_driver.login(CITIZEN)


@pytest.mark.parametrize("variant", HOSTILE)
def test_hostile_answer_is_refused(variant, earlier_login, p111_driver: Driver, p111_sso):
    """Every forged or stale answer of the provider is refused, and no session comes of it."""
    discoveries = p111_sso.fetches()["discovery"]
    login = armed_login(p111_sso, p111_driver, variant)
    if variant == "replayed-nonce" and not query_of(login).get("nonce"):
        not_applicable(
            "hệ thống không gửi nonce trong yêu cầu ủy quyền (Cổng không bắt buộc): không có nonce nào để phát lại "
            "/ the SUT sent no nonce in this login's authorization request (the portal's contract does not demand "
            "one; OIDC Core 3.1.3.7 checks the nonce only when one was sent), so there is no nonce to replay"
        )
    who = p111_driver.whoami(login.session) if login.session else None
    if variant == "discovery-issuer-mismatch" and who is not None and p111_sso.fetches()["discovery"] == discoveries:
        raise NotTested(
            "hệ thống không đọc lại tài liệu discovery trong lần đăng nhập này (đã lưu đệm): không thể thấy issuer sai "
            "/ the SUT did not read the discovery document during this login (it keeps a cached copy), so it never "
            "saw the mismatched issuer; restart it against the armed counterpart to judge by hand"
        )
    expect(
        who is None,
        f"the SUT accepted {HOSTILE[variant]}",
        expected="the login refused and no session created (signature via JWKS, iss, aud, exp/nbf, nonce, state)",
        received=lambda: f"HTTP {login.http_status}; a session for subject {who.get('subject')!r}",
        evidence=lambda: f"sign-on counterpart armed with {variant!r}",
    )


def test_kid_absent_with_several_keys_is_tried_or_refused(p111_driver: Driver, p111_sso):
    """An ID token without kid while the JWKS holds several keys: accepting it (by trying each key) and refusing it
    are both lawful (OIDF rp-id_token-kid-absent-multiple-jwks). Either way the signature must be checked: the same
    kid-less token with a broken signature is refused, and an accepted one is bound to the right account."""
    accepted = armed_login(p111_sso, p111_driver, "kid-absent-multiple")
    who = p111_driver.whoami(accepted.session) if accepted.session else None
    expected = p111_sso.tech_id(CITIZEN)
    expect(
        who is None or who.get("subject") == expected,
        "the SUT accepted a kid-less ID token but bound the session to another subject",
        expected=lambda: f"refused, or a session whose subject is {expected}",
        received=lambda: f"subject {who.get('subject')!r}",
        evidence="sign-on counterpart armed with 'kid-absent-multiple'",
    )
    forged = armed_login(p111_sso, p111_driver, "kid-absent-bad-signature")
    intruder = p111_driver.whoami(forged.session) if forged.session else None
    expect(
        intruder is None,
        "the SUT accepted a kid-less ID token whose signature no key of the JWKS verifies",
        expected="the login refused: without kid every key may be tried, but one of them must verify",
        received=lambda: f"HTTP {forged.http_status}; a session for subject {intruder.get('subject')!r}",
        evidence="sign-on counterpart armed with 'kid-absent-bad-signature' (the JWKS: several keys, no kid)",
    )


def test_token_endpoint_uses_the_registered_client_authentication(p111_driver: Driver, p111_sso, p111_target: Target):
    """The SUT authenticates at the token endpoint with the method it registered (the target's
    sign_on.token_endpoint_auth_method), and with that one only (RFC 6749 section 2.3)."""
    registered = p111_target.sign_on_rules.token_endpoint_auth_method
    login = p111_driver.login(CITIZEN)
    exchange = token_request_of(login, p111_sso)
    expect(
        exchange is not None,
        "the SUT never redeemed the login's authorization code at the token endpoint",
        expected=lambda: f"a token request authenticated with {registered}",
        received=lambda: f"no token request for this login (HTTP {login.http_status} at the callback)",
        evidence="sign-on counterpart /_p111/token-requests",
    )
    expect(
        exchange["auth_method"] == registered,
        "the SUT authenticated at the token endpoint with a method other than the one it registered",
        expected=lambda: f"{registered} (sign_on.token_endpoint_auth_method in the target), one method per request",
        received=lambda: str(exchange["auth_method"]),
        evidence="sign-on counterpart /_p111/token-requests",
    )


def test_pkce_is_s256_and_its_verifier_redeems_the_code(p111_driver: Driver, p111_sso):
    """Where the SUT sends a PKCE code_challenge, it is S256 (never plain: the verifier must not travel in the
    browser), and the code is redeemed with the verifier that answers it; the counterpart refuses a code exchanged
    without it, so no one is signed on by a stolen code."""
    login = p111_driver.login(CITIZEN)
    query = query_of(login)
    if not query.get("code_challenge"):
        not_applicable(
            "hệ thống không gửi code_challenge PKCE (hợp đồng của Cổng không bắt buộc PKCE) / the SUT sends no PKCE "
            "code_challenge (the portal's contract does not demand PKCE)"
        )
    exchange = token_request_of(login, p111_sso)
    method = query.get("code_challenge_method", "plain")  # RFC 7636 4.3: absent means plain
    problems = []
    if method != "S256":
        problems.append(f"code_challenge_method={method}")
    if exchange is not None and exchange["pkce"] != "verified":
        problems.append(f"the token request's code_verifier: {exchange['pkce']}")
    if exchange is None and login.session is not None:
        problems.append("a session was opened without redeeming the code")
    expect(
        not problems,
        "the SUT's PKCE is not S256 with a matching verifier",
        expected="code_challenge_method=S256 and a code_verifier that answers the challenge (RFC 7636)",
        received=lambda: "; ".join(problems),
        evidence="sign-on counterpart /_p111/authorizations and /_p111/token-requests",
    )


def test_a_lower_level_of_assurance_does_not_reach_the_service(p111_driver: Driver, p111_sso, p111_target: Target):
    """A login whose level of assurance (acr, loAs) is lower than a procedure requires (the target's
    sign_on.required_loa) must not reach that procedure: no dossier is accepted from it. The same submission with
    the citizen's own session shows the procedure is open at its level."""
    required = {code: loa for code, loa in p111_target.sign_on_rules.required_loa if loa != LOWEST_LOA}
    if not required:
        not_applicable(
            "target không nêu thủ tục nào đòi mức độ bảo đảm cao hơn LoA1 / the target names no procedure requiring "
            "more than LoA1 (sign_on.required_loa)"
        )
    offered = {s.code for s in p111_driver.services()}
    unknown = sorted(set(required) - offered)
    if unknown:
        raise NotTested(
            f"sign_on.required_loa nêu thủ tục hệ thống không công bố / names procedures the SUT does not publish: "
            f"{', '.join(unknown)}"
        )
    login = armed_login(p111_sso, p111_driver, "low-loa")
    for code, loa in sorted(required.items()):
        try:
            p111_driver.submit(code)  # the citizen's own session: the procedure is open at its level
        except DriverError as exc:
            raise NotTested(
                f"nộp hồ sơ {code} bằng phiên của chính công dân cũng bị từ chối / a submission to {code} with the "
                f"citizen's own session was refused too: {exc}"
            ) from exc
        dossier = None
        if login.session is not None:  # else refused at sign-on already (lawful): a lower level reaches no service
            try:
                dossier = p111_driver.submit(code, session=login.session)
            except DriverError as exc:
                if exc.refused_with is None or not 400 <= exc.refused_with < 500:
                    raise  # no answer, a crash or an unexpected success: ERROR naming it, never taken for a refusal
                dossier = None  # refused: what the check demands
        expect(
            dossier is None,
            f"a sign-on at {LOWEST_LOA} reached procedure {code}, which requires {loa}",
            expected=f"the submission refused: {code} requires {loa} (sign_on.required_loa)",
            received=lambda found=dossier: f"dossier {found.code} accepted from a session signed on at {LOWEST_LOA}",
            evidence="sign-on counterpart armed with 'low-loa' (acr and loAs LoA1)",
        )
