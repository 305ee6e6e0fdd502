"""Counterparts a vendor can point a real system at (issue 14, section 3): the sign-on registers the callback the
target gives, `p111 mocks serve --target T` hands out the target's own URLs, and the portal's national catalog takes
the target's entries."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml
from starlette.testclient import TestClient

from harness.config.target import TargetError, load_target
from mocks import wiring
from mocks.portal import create_portal_app
from mocks.sso import create_sso_app
from tests.support import vendor_target_file

VENDOR = "http://127.0.0.1:9931"  # the vendor's system: nothing needs to listen there for these tests


def vendor_target(tmp_path: Path, **counterparts: dict) -> Path:
    return vendor_target_file(tmp_path / "vendor.target.yaml", VENDOR, {
        "portal": {"url": "http://127.0.0.1:9932", "serve": True, **counterparts.get("portal", {})},
        "payment": {"url": "http://127.0.0.1:9933", "serve": True},
        "sso": {"url": "http://127.0.0.1:9934", "serve": True, **counterparts.get("sso", {})},
    })


def authorize(sso: TestClient, redirect_uri: str) -> int:
    query = {"response_type": "code", "client_id": "p111-reference", "redirect_uri": redirect_uri, "scope": "openid",
             "state": "s" * 16, "nonce": "n" * 16, "login_hint": "citizen-1"}
    return sso.get(f"/oauth2/authorize?{urlencode(query)}", follow_redirects=False).status_code


def test_the_sign_on_registers_the_callback_the_target_gives(tmp_path):
    target = load_target(vendor_target(tmp_path, sso={"redirect_uris": ["/dang-nhap/ket-qua", "https://x.vn/cb"]}))
    settings, _ = wiring.sign_on_pair(
        "http://127.0.0.1:9934", VENDOR, "p111-reference", "s3cret-s3cret", None, callbacks=target.sso.redirect_uris
    )
    with TestClient(create_sso_app(settings)) as sso:
        assert authorize(sso, f"{VENDOR}/dang-nhap/ket-qua") == 302
        assert authorize(sso, "https://x.vn/cb") == 302
        # Only what the target registered: the reference system's own callback is not one of them.
        assert authorize(sso, f"{VENDOR}/auth/callback") == 400


def test_without_a_setting_the_reference_callback_is_registered():
    assert wiring.redirect_uris(VENDOR + "/") == (f"{VENDOR}/auth/callback",)


def test_a_redirect_uri_must_be_a_url_or_a_path(tmp_path):
    with pytest.raises(TargetError, match="redirect_uris"):
        load_target(vendor_target(tmp_path, sso={"redirect_uris": ["dang-nhap"]}))


def test_mocks_serve_hands_out_the_targets_own_urls(tmp_path, monkeypatch):
    """Without --reference, the payment confirm callback and the sign-on redirect point at sut.base_url."""
    target = load_target(vendor_target(tmp_path, sso={"redirect_uris": ["/sso/callback"]}))
    built = {}
    monkeypatch.setattr(wiring, "create_payment_app", lambda settings: built.setdefault("payment", settings))
    monkeypatch.setattr(wiring, "create_sso_app", lambda settings: built.setdefault("sso", settings))
    monkeypatch.setattr(wiring, "create_portal_app", lambda settings: built.setdefault("portal", settings))
    monkeypatch.setattr(wiring, "serve_in_thread", lambda name, app, host, port: name)
    served = wiring.serve_counterparts(target, host="127.0.0.1", portal_port=1, reference_port=None)
    assert served == ["portal", "sso", "payment"]
    assert built["payment"].confirm_url == f"{VENDOR}/api/payments/confirm"
    assert built["sso"].clients[0].redirect_prefixes == (f"{VENDOR}/sso/callback",)


def test_the_portal_catalog_takes_the_targets_entries_and_a_file(tmp_path):
    extra = {"maTTHC": "1.009999", "tenTTHC": "Thủ tục riêng của tỉnh", "mucDo": "toàn trình", "coPhiLePhi": False,
             "ngayQuyetDinhCongBo": "2024-01-02", "ngayCongKhai": "2024-01-05"}
    replaced = {**extra, "maTTHC": "1.001193", "tenTTHC": "Tên mới", "mucDo": "một phần"}
    from_file = {**extra, "maTTHC": "2.002222", "tenTTHC": "Từ tệp xuất danh mục"}
    (tmp_path / "danh-muc.yaml").write_text(yaml.safe_dump([from_file], allow_unicode=True), encoding="utf-8")
    extended = {"catalog": [extra, replaced], "catalog_file": "danh-muc.yaml"}
    target = load_target(vendor_target(tmp_path, portal=extended))
    with TestClient(create_portal_app(wiring.portal_settings(target, "p111", None))) as portal:
        catalog = {e["maTTHC"]: e for e in portal.get("/_p111/catalog").json()}
    assert catalog["1.009999"]["tenTTHC"] == "Thủ tục riêng của tỉnh"
    assert catalog["2.002222"]["tenTTHC"] == "Từ tệp xuất danh mục"
    assert catalog["1.001193"]["mucDo"] == "một phần"  # the same maTTHC replaces the built-in entry
    assert "1.001022" in catalog  # the built-in catalog stays


def test_a_catalog_file_not_in_the_portals_shape_is_refused_naming_the_field(tmp_path):
    (tmp_path / "bad.yaml").write_text("- {maTTHC: '1.009999'}\n", encoding="utf-8")
    with pytest.raises(TargetError, match=r"counterparts\.portal\.catalog_file"):
        load_target(vendor_target(tmp_path, portal={"catalog_file": "bad.yaml"}))
    with pytest.raises(TargetError, match="counterparts.portal.catalog_file"):
        load_target(vendor_target(tmp_path, portal={"catalog_file": "missing.yaml"}))
