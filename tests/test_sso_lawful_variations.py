"""P111-AUTH-SSO allows what the OpenID Foundation's RP tests allow: a system doing the other lawful thing passes too.

- An ID token without kid while the JWKS holds several keys (rp-id_token-kid-absent-multiple-jwks): the reference
  system refuses it by default; with the lawful variation `sso-kid-absent-try-each` (target `sut.variations`) it
  tries each key and accepts it. Both pass.
- The client authentication at the token endpoint: client_secret_basic (the default) or client_secret_post, whichever
  the target's `sign_on.token_endpoint_auth_method` says the system registered. Both pass.
- PKCE: S256 (the default) or none at all (`sso-no-pkce`; the portal's contract does not demand it): the PKCE check is
  NOT-APPLICABLE then, and the requirement still passes.
- nonce: a fresh one per login (the default) or none at all (`sso-no-nonce`; domain.md section 5 lists none, OIDC Core
  makes it optional in the code flow): the `replayed-nonce` case is NOT-APPLICABLE then, every other hostile answer is
  still refused, and the requirement still passes.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from harness.config.target import embedded_target, load_target
from harness.sut.drivers.reference_api import ReferenceApiDriver
from mocks.wiring import start_embedded
from tests.support import read_report, run_p111

OTHER_WAY = {
    "variations": ["sso-kid-absent-try-each", "sso-no-pkce", "sso-no-nonce"],
    "auth_method": "client_secret_post",
}


def target_file(path: Path, *, variations: list[str], auth_method: str) -> Path:
    document = embedded_target().public_dict()
    document["sut"]["variations"] = variations
    document["sign_on"] = {**document.get("sign_on", {}), "token_endpoint_auth_method": auth_method}
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("variations", "auth_method", "kid_less_accepted"),
    [([], "client_secret_basic", False), (OTHER_WAY["variations"], OTHER_WAY["auth_method"], True)],
    ids=["default", "other-lawful-way"],
)
def test_the_reference_system_really_does_it_the_other_way(
    tmp_path: Path, variations: list[str], auth_method: str, kid_less_accepted: bool
):
    """The switches do what they say, so that the run below proves something."""
    target = load_target(target_file(tmp_path / "t.yaml", variations=variations, auth_method=auth_method))
    embedded = start_embedded(target)
    try:
        sut = httpx.Client(base_url=embedded.sut_url, transport=embedded.sut_transport)
        sso = httpx.Client(base_url=embedded.sign_on_url, transport=embedded.sign_on_transport)
        driver = ReferenceApiDriver(sut, sso)
        assert driver.login("citizen-1").session is not None  # the JWKS cached, with its kids
        assert sso.post("/_p111/next-login", json={"variant": "kid-absent-multiple"}).status_code == 200
        login = driver.login("citizen-1")
        assert (login.session is not None) is kid_less_accepted, login.message
        exchanges = sso.get("/_p111/token-requests").json()
        assert {t["auth_method"] for t in exchanges} == {auth_method}
        assert {t["pkce"] for t in exchanges} == ({"absent"} if variations else {"verified"})
        nonces = [a["query"].get("nonce") for a in sso.get("/_p111/authorizations").json()]
        assert all(n is None for n in nonces) if variations else all(nonces), nonces
        assert sso.post("/_p111/next-login", json={"variant": "wrong-audience"}).status_code == 200
        assert driver.login("citizen-1").session is None  # without a nonce, a forged answer is still refused
    finally:
        embedded.close()


def test_the_other_lawful_way_passes_auth_sso(tmp_path: Path):
    target = target_file(tmp_path / "other-way.target.yaml", **OTHER_WAY)
    # Only AUTH-SSO's checks (test_capabilities holds its contradiction check): the matrix runs the whole default.
    selection = "test_auth_sso or test_nobody_signs_on_where_no_sign_on_is_declared"
    result = run_p111("run", "--target", str(target), "--report", str(tmp_path / "out"), "--", "-k", selection,
                      cwd=tmp_path)
    report = read_report(tmp_path / "out")
    sso = next(r for r in report["requirements"] if r["id"] == "P111-AUTH-SSO")
    assert sso["verdict"] == "PASSED", result.stdout[-3000:] + result.stderr[-2000:]
    outcomes = {c["nodeid"]: c["outcome"] for c in sso["checks"]}
    kid_less = "conformance_tests/test_auth_sso.py::test_kid_absent_with_several_keys_is_tried_or_refused"
    assert outcomes[kid_less] == "PASSED"
    pkce = "conformance_tests/test_auth_sso.py::test_pkce_is_s256_and_its_verifier_redeems_the_code"
    assert outcomes[pkce] == "NOT-APPLICABLE"
    hostile = "conformance_tests/test_auth_sso.py::test_hostile_answer_is_refused"
    assert outcomes[f"{hostile}[replayed-nonce]"] == "NOT-APPLICABLE"
    others = {o for n, o in outcomes.items() if n.startswith(hostile) and not n.endswith("[replayed-nonce]")}
    assert others == {"PASSED"}, outcomes  # every other forged answer still judged, and refused
    assert set(outcomes.values()) <= {"PASSED", "NOT-APPLICABLE"}, outcomes
