"""The payment platform's checksums (harness.sut.payment) and message schemas (schemas/payment/)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness import cli
from harness.core import schemas
from harness.core.formats import is_portal_datetime
from harness.core.resources import schema_dir
from harness.sut import payment

SECRET = "k3y-shared-with-the-province"
MERCHANT = "P111-NAMDINH"


def good_init(reference: str = "REF-0001", amount: Any = "50000") -> dict[str, Any]:
    """An INIT as a provincial system sends it, without its checksum."""
    return {
        "LoaiBanTin": "INIT",
        "PhienBan": "1.0.6",
        "MaDoiTac": MERCHANT,
        "MaThamChieu": reference,
        "SoTien": amount,
        "LoaiHinhThanhToan": "PAY",
        "MaKenhThanhToan": "1",
        "MaThietBi": "1",
        "NgonNgu": "vi-VN",
        "MaTienTe": "VND",
        "MaNganHang": "",
        "ThongTinGiaoDich": "Nộp lệ phí hồ sơ 000.00.06.H40-261127-0001",
        "ThoiGianGD": "20261127083000",
        "Ip": "203.0.113.7",
        "ThongTinBienLai": {
            "MaHoSo": "000.00.06.H40-261127-0001",
            "MaTTHC": "2.000477",
            "MaDonVi": "000.00.06.H40",
            "MaDVC": "2.000477.000.00.06.H40",
            "PhiLePhi": [
                {"LoaiPhiLePhi": "2", "MaPhiLePhi": "LP01", "TenPhiLePhi": "Lệ phí cấp giấy", "SoTien": "30000"},
                {"LoaiPhiLePhi": "1", "MaPhiLePhi": "P01", "TenPhiLePhi": "Phí thẩm định", "SoTien": 20000},
            ],
        },
    }


def good_query(kind: str = "QUERY", reference: str = "REF-0001") -> dict[str, Any]:
    return {
        "LoaiBanTin": kind,
        "PhienBan": "1.0.6",
        "MaDoiTac": MERCHANT,
        "MaThamChieu": reference,
        "ThoiGianGD": "20261127083500",
    }


def good_confirm() -> dict[str, Any]:
    return {
        "LoaiBanTin": "CONFIRM",
        "MaLoi": "00",
        "MaDoiTac": MERCHANT,
        "MaThamChieu": "REF-0001",
        "SoTien": "50000",
        "MaTienTe": "VND",
        "MaGiaoDich": "20261127083100123456",
        "MaNganHang": "NCB",
        "ThoiGianGD": "20261127083100",
        "ThongTinGiaoDich": "Nộp lệ phí hồ sơ 000.00.06.H40-261127-0001",
    }


def good_query_reply() -> dict[str, Any]:
    return {**good_confirm(), "LoaiBanTin": "QUERY", "MoTaLoi": "Thành công", "TrangThaiGD": "1"}


def good_confirm_reply() -> dict[str, Any]:
    return {
        "MaLoi": "00",
        "MoTaLoi": "Xác nhận thành công",
        "MaDoiTac": MERCHANT,
        "MaThamChieu": "REF-0001",
        "ThoiGianGD": "20261127083101",
    }


EXAMPLES = {  # kind of payment.py -> an unsigned example
    "INIT": good_init,
    "QUERY": good_query,
    "GET_BILL": lambda: good_query("GET_BILL"),
    "confirm": good_confirm,
    "query-reply": good_query_reply,
    "confirm-reply": good_confirm_reply,
}

# The joined texts, written out by hand: a wrong order or a wrong field text fails these.
JOINED = {
    "INIT": "INIT|1.0.6|P111-NAMDINH|REF-0001|50000|PAY|1|1|vi-VN|VND||Nộp lệ phí hồ sơ 000.00.06.H40-261127-0001"
    "|20261127083000|203.0.113.7",
    "QUERY": "QUERY|1.0.6|P111-NAMDINH|REF-0001|20261127083500",
    "GET_BILL": "GET_BILL|1.0.6|P111-NAMDINH|REF-0001|20261127083500",
    "confirm": "CONFIRM|00|P111-NAMDINH|REF-0001|50000|VND|20261127083100123456|NCB|20261127083100"
    "|Nộp lệ phí hồ sơ 000.00.06.H40-261127-0001",
    "query-reply": "QUERY|00|P111-NAMDINH|REF-0001|50000|VND|20261127083100123456|NCB|20261127083100"
    "|Nộp lệ phí hồ sơ 000.00.06.H40-261127-0001|1",
    "confirm-reply": "00|P111-NAMDINH|REF-0001|20261127083101",
}


# --- checksums ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", payment.KINDS)
def test_known_answer_sha256_pipe(kind):
    expected = hashlib.sha256(f"{JOINED[kind]}|{SECRET}".encode()).hexdigest()
    assert payment.checksum(kind, EXAMPLES[kind](), SECRET, "sha256-pipe") == expected


@pytest.mark.parametrize("kind", payment.KINDS)
def test_known_answer_hmac_sha256(kind):
    expected = hmac.new(SECRET.encode(), JOINED[kind].encode(), hashlib.sha256).hexdigest()
    assert payment.checksum(kind, EXAMPLES[kind](), SECRET, "hmac-sha256") == expected


def test_a_fixed_vector_for_each_variant():
    # Independent of this file's own joining: the digests of one literal text, computed once and written down.
    message = {"LoaiBanTin": "QUERY", "PhienBan": "1.0.6", "MaDoiTac": "M", "MaThamChieu": "R", "ThoiGianGD": "T"}
    assert payment.checksum("QUERY", message, "s", "sha256-pipe") == hashlib.sha256(b"QUERY|1.0.6|M|R|T|s").hexdigest()
    assert payment.checksum("QUERY", message, "s", "hmac-sha256") == (
        hmac.new(b"s", b"QUERY|1.0.6|M|R|T", hashlib.sha256).hexdigest()
    )


def test_signed_field_orders_are_the_contracts():
    assert "|".join(payment.signed_fields("INIT")) == (
        "LoaiBanTin|PhienBan|MaDoiTac|MaThamChieu|SoTien|LoaiHinhThanhToan|MaKenhThanhToan|MaThietBi|NgonNgu"
        "|MaTienTe|MaNganHang|ThongTinGiaoDich|ThoiGianGD|Ip"
    )
    assert payment.signed_fields("QUERY") == payment.signed_fields("GET_BILL") == (
        "LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "ThoiGianGD",
    )
    assert "|".join(payment.signed_fields("confirm")) == (
        "LoaiBanTin|MaLoi|MaDoiTac|MaThamChieu|SoTien|MaTienTe|MaGiaoDich|MaNganHang|ThoiGianGD|ThongTinGiaoDich"
    )
    assert payment.signed_fields("query-reply") == (*payment.signed_fields("confirm"), "TrangThaiGD")
    assert payment.signed_fields("confirm-reply") == ("MaLoi", "MaDoiTac", "MaThamChieu", "ThoiGianGD")
    assert set(payment.INFERRED_ORDERS) == {"query-reply", "confirm-reply"}
    assert payment.PROTOCOL_VERSION == "1.0.6"


def test_a_given_order_replaces_the_kinds():
    message = good_query()
    order = ["MaThamChieu", "LoaiBanTin", "PhienBan", "MaDoiTac", "ThoiGianGD"]
    expected = hashlib.sha256(f"REF-0001|QUERY|1.0.6|{MERCHANT}|20261127083500|{SECRET}".encode()).hexdigest()
    assert payment.checksum("QUERY", message, SECRET, "sha256-pipe", order=order) == expected
    signed = payment.sign("QUERY", message, SECRET, "sha256-pipe", order=order)
    assert not payment.verify("QUERY", signed, SECRET, "sha256-pipe")


@pytest.mark.parametrize("variant", payment.VARIANTS)
def test_amount_signs_alike_as_string_integer_or_integral_float(variant):
    texts = {payment.field_text(v) for v in ("50000", 50000, 50000.0)}
    assert texts == {"50000"}
    digests = {payment.checksum("INIT", good_init(amount=v), SECRET, variant) for v in ("50000", 50000, 50000.0)}
    assert len(digests) == 1
    signed = payment.sign("INIT", good_init(amount=50000), SECRET, variant)
    assert payment.verify("INIT", {**signed, "SoTien": "50000"}, SECRET, variant)
    assert payment.verify("INIT", {**signed, "SoTien": 50000.0}, SECRET, variant)


def test_field_text():
    assert payment.field_text(None) == ""
    assert payment.field_text("") == ""
    assert payment.field_text(0) == "0"
    assert payment.field_text(50000.5) == "50000.5"
    assert payment.field_text("Nộp") == "Nộp"


def one_character_off(value: Any) -> Any:
    text = payment.field_text(value)
    if not text:
        return "X"
    last = "1" if text[-1] != "1" else "2"
    return text[:-1] + last


@pytest.mark.parametrize("variant", payment.VARIANTS)
@pytest.mark.parametrize("kind", payment.KINDS)
def test_verify_rejects_any_signed_field_changed_and_ignores_the_others(kind, variant):
    signed = payment.sign(kind, EXAMPLES[kind](), SECRET, variant)
    assert payment.verify(kind, signed, SECRET, variant)
    for name in payment.signed_fields(kind):
        tampered = {**signed, name: one_character_off(signed.get(name))}
        assert not payment.verify(kind, tampered, SECRET, variant), name
    # Fields outside the order (the receipt block, a field the platform adds) do not enter the checksum.
    assert payment.verify(kind, {**signed, "ThongTinBienLai": {"MaHoSo": "x"}, "TruongMoi": "1"}, SECRET, variant)
    assert not payment.verify(kind, signed, SECRET + "x", variant)
    other = next(v for v in payment.VARIANTS if v != variant)
    assert not payment.verify(kind, signed, SECRET, other)


@pytest.mark.parametrize("given", [None, 123, ["a"], "", "A" * 64])
def test_verify_refuses_a_missing_or_malformed_checksum(given):
    message = {**good_query(), "MaXacThuc": given}
    assert not payment.verify("QUERY", message, SECRET, "sha256-pipe")
    del message["MaXacThuc"]
    assert not payment.verify("QUERY", message, SECRET, "sha256-pipe")


def test_verify_copes_with_non_ascii_in_the_checksum():
    assert not payment.verify("QUERY", {**good_query(), "MaXacThuc": "ả" * 64}, SECRET, "hmac-sha256")


def test_sign_returns_a_copy():
    message = good_query()
    signed = payment.sign("QUERY", message, SECRET, "hmac-sha256")
    assert "MaXacThuc" not in message
    assert signed == {**message, "MaXacThuc": payment.checksum("QUERY", message, SECRET, "hmac-sha256")}


def test_unknown_variant_or_kind_is_named():
    with pytest.raises(ValueError, match="sha256-pipe, hmac-sha256"):
        payment.checksum("QUERY", good_query(), SECRET, "md5")
    with pytest.raises(ValueError, match="known: INIT, QUERY"):
        payment.signed_fields("REFUND")


def test_codes_states_and_time():
    assert {k: v["en"] for k, v in payment.CONFIRM_CODES.items()} == {
        "00": "confirmed",
        "01": "order not found",
        "02": "already confirmed",
        "04": "invalid amount",
        "97": "bad checksum",
        "99": "other",
    }
    assert all(v["vi"] for v in payment.CONFIRM_CODES.values())
    assert payment.STATES == {"1": "paid", "3": "pending", "4": "failed"}
    assert {"00", "01", "03", "24", "97", "99"} <= set(payment.PLATFORM_CODES)
    stamp = payment.transaction_time()
    assert len(stamp) == 14 and is_portal_datetime(stamp)


# --- schemas --------------------------------------------------------------------------------------------------

KIND_EXAMPLES = {  # MESSAGE_KINDS name -> (payment.py kind used to sign, signed example)
    "payment-init": ("INIT", good_init),
    "payment-query": ("QUERY", good_query),
    "payment-confirm": ("confirm", good_confirm),
    "payment-query-reply": ("query-reply", good_query_reply),
    "payment-confirm-reply": ("confirm-reply", good_confirm_reply),
}


def signed_example(kind: str) -> dict[str, Any]:
    if kind == "payment-init-reply":
        reply = {**good_confirm_reply(), "MoTaLoi": "Thành công", "UrlThanhToan": "https://pay.example/pay/REF-0001"}
        return payment.sign("confirm-reply", reply, SECRET, "sha256-pipe")
    sign_as, build = KIND_EXAMPLES[kind]
    return payment.sign(sign_as, build(), SECRET, "sha256-pipe")


PAYMENT_KINDS = [
    "payment-init",
    "payment-init-reply",
    "payment-query",
    "payment-query-reply",
    "payment-confirm",
    "payment-confirm-reply",
]


@pytest.mark.parametrize("kind", PAYMENT_KINDS)
def test_payment_schemas_are_well_formed(kind):
    name = schemas.MESSAGE_KINDS[kind]
    schema = json.loads((schema_dir() / f"{name}.schema.json").read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == schemas.schema_id(name)
    assert " / " in schema["title"] and " / " in schema["description"]  # Vietnamese, then English
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("kind", PAYMENT_KINDS)
def test_good_examples_validate_with_no_unknown_fields(kind):
    assert schemas.validate_message(kind, signed_example(kind)) == (None, [])


def test_get_bill_and_number_forms_validate():
    bill = payment.sign("GET_BILL", good_query("GET_BILL"), SECRET, "hmac-sha256")
    assert schemas.validate_message("payment-query", bill) == (None, [])
    init = payment.sign("INIT", good_init(amount=50000), SECRET, "hmac-sha256")
    assert schemas.validate_message("payment-init", init)[0] is None
    assert schemas.validate_message("payment-init", {**init, "SoTien": 50000.0})[0] is None
    for code in ("97", 97, "00", 0):  # a system's MaLoi as a string or a number (domain.md section 8)
        assert schemas.validate_message("payment-confirm-reply", {**signed_example("payment-confirm-reply"),
                                                                  "MaLoi": code})[0] is None
    refusal = {"MaLoi": "97", "MoTaLoi": "Sai mã xác thực"}
    assert schemas.validate_message("payment-init-reply", refusal)[0] is None
    assert schemas.validate_message("payment-query-reply", refusal)[0] is None


def test_extra_fields_are_warnings():
    init = signed_example("payment-init")
    init["ThongTinBienLai"]["GhiChu"] = "x"
    init["MaKhuyenMai"] = ""
    assert schemas.validate_message("payment-init", init) == (
        None,
        ["$.ThongTinBienLai.GhiChu", "$.MaKhuyenMai"],
    )


def without(message: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != name}


def changed(kind: str, path: list[str | int], value: Any) -> dict[str, Any]:
    message = copy.deepcopy(signed_example(kind))
    at: Any = message
    for part in path[:-1]:
        at = at[part]
    at[path[-1]] = value
    return message


BROKEN = [
    ("payment-init", without(signed_example("payment-init"), "MaXacThuc"), "$", "'MaXacThuc' is a required"),
    ("payment-init", changed("payment-init", ["LoaiHinhThanhToan"], "REFUND"), "$.LoaiHinhThanhToan", "'PAY' was"),
    ("payment-init", changed("payment-init", ["MaTienTe"], "USD"), "$.MaTienTe", "'VND' was expected"),
    ("payment-init", changed("payment-init", ["LoaiBanTin"], "QUERY"), "$.LoaiBanTin", "'INIT' was expected"),
    ("payment-init", changed("payment-init", ["SoTien"], "0"), "$.SoTien", "does not match"),
    ("payment-init", changed("payment-init", ["SoTien"], "50.000"), "$.SoTien", "does not match"),
    ("payment-init", changed("payment-init", ["SoTien"], -5), "$.SoTien", "less than the minimum"),
    ("payment-init", changed("payment-init", ["ThoiGianGD"], "27/11/2026"), "$.ThoiGianGD", "p111-datetime"),
    ("payment-init", changed("payment-init", ["MaXacThuc"], "A" * 64), "$.MaXacThuc", "does not match"),
    ("payment-init", changed("payment-init", ["ThongTinBienLai", "PhiLePhi"], []), "$.ThongTinBienLai.PhiLePhi",
     "should be non-empty"),
    ("payment-init", changed("payment-init", ["ThongTinBienLai", "MaHoSo"], "HS-1"), "$.ThongTinBienLai.MaHoSo",
     "p111-dossier-code"),
    ("payment-init", changed("payment-init", ["ThongTinBienLai", "MaDonVi"], "H40"), "$.ThongTinBienLai.MaDonVi",
     "p111-agency-code"),
    ("payment-init", without(signed_example("payment-init"), "ThongTinBienLai"), "$", "'ThongTinBienLai' is a"),
    ("payment-init-reply", without(signed_example("payment-init-reply"), "UrlThanhToan"), "$", "'UrlThanhToan'"),
    ("payment-query", without(signed_example("payment-query"), "MaXacThuc"), "$", "'MaXacThuc' is a required"),
    ("payment-query", changed("payment-query", ["LoaiBanTin"], "INIT"), "$.LoaiBanTin", "is not one of"),
    ("payment-query-reply", changed("payment-query-reply", ["TrangThaiGD"], "2"), "$.TrangThaiGD", "is not one of"),
    ("payment-query-reply", without(signed_example("payment-query-reply"), "TrangThaiGD"), "$", "'TrangThaiGD'"),
    ("payment-query-reply", changed("payment-query-reply", ["MaTienTe"], "USD"), "$.MaTienTe", "'VND' was"),
    ("payment-confirm", without(signed_example("payment-confirm"), "MaXacThuc"), "$", "'MaXacThuc' is a required"),
    ("payment-confirm", changed("payment-confirm", ["MaTienTe"], "USD"), "$.MaTienTe", "'VND' was expected"),
    ("payment-confirm", changed("payment-confirm", ["SoTien"], "abc"), "$.SoTien", "does not match"),
    ("payment-confirm-reply", without(signed_example("payment-confirm-reply"), "MaXacThuc"), "$", "'MaXacThuc'"),
    ("payment-confirm-reply", changed("payment-confirm-reply", ["MaLoi"], None), "$.MaLoi", "is not of type"),
]


@pytest.mark.parametrize(("kind", "message", "path", "expected"), BROKEN)
def test_broken_messages_are_refused_where_they_are_wrong(kind, message, path, expected):
    error, _ = schemas.validate_message(kind, message)
    assert error is not None
    assert schemas.json_path(error) == path
    assert expected in error.message


def test_validate_message_cli_knows_the_payment_kinds(tmp_path, capsys):
    good, bad = tmp_path / "init.json", tmp_path / "bad.json"
    good.write_text(json.dumps(signed_example("payment-init"), ensure_ascii=False), encoding="utf-8")
    bad.write_text(json.dumps(without(signed_example("payment-confirm"), "MaXacThuc")), encoding="utf-8")
    assert cli.main(["validate-message", "payment-init", str(good)]) == 0
    assert cli.main(["validate-message", "payment-confirm", str(bad)]) == 1
    assert "payment/confirm.request" in capsys.readouterr().out
