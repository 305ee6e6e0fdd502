"""P111-PAY-INIT: a dossier that must pay opens a correct, correctly signed transaction at the payment platform.

«Tỷ lệ TTHC có yêu cầu nghĩa vụ tài chính được triển khai thanh toán trực tuyến … đạt tối thiểu 80%»: online payment
starts with an INIT (domain.md section 4). Judged from what reached the platform counterpart, with the schema, the
checksum under the target's variant (payment.checksum), and the procedure's own fees as the oracle.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from conformance_tests.scenarios import CORE_PATH, PaymentScenario, ask_again, ask_for_payment, drive
from harness.core import schemas
from harness.core.verdicts import not_applicable
from harness.metrics.oracle import fee_bearing as bears_a_fee
from harness.sut import payment as protocol
from harness.sut.checking import blocked, expect
from harness.sut.drivers import Driver, Service
from harness.sut.observers import PaymentObserver, PortalObserver

pytestmark = [pytest.mark.requirement("P111-PAY-INIT"), pytest.mark.offered("payment")]


def the_init(platform: PaymentObserver, scenario: PaymentScenario) -> dict[str, Any]:
    """The INIT the platform received for the scenario's transaction, as recorded: body and the platform's reply."""
    code, reference = scenario.dossier.code, scenario.payment.reference
    received = platform.inits(code)
    inits = [m for m in received if m["body"].get("MaThamChieu") == reference]
    expect(
        inits,
        f"the SUT opened transaction {reference} for {code} but sent no INIT for it",
        expected="an INIT at the payment platform naming MaThamChieu and, in ThongTinBienLai, the dossier",
        received=f"INITs for {code}: {[m['body'].get('MaThamChieu') for m in received]}",
        evidence="payment /_p111/messages",
    )
    return dict(inits[-1])


def init_problems(init: dict[str, Any], service: Service, code: str, platform: PaymentObserver) -> list[str]:
    problems = []
    error = schemas.first_error(schemas.MESSAGE_KINDS["payment-init"], init)
    if error is not None:
        problems.append(f"not valid against schemas/payment/INIT.request: {schemas.describe(error)}")
    keys = platform.keys
    if not protocol.verify("INIT", init, keys.secret, keys.variant):
        problems.append(
            f"MaXacThuc is not the {keys.variant} checksum of "
            f"{'|'.join(protocol.signed_fields('INIT'))} (payment.checksum in the target)"
        )
    try:
        amount = int(float(init.get("SoTien")))  # a string or a number (domain.md section 8)
    except (TypeError, ValueError):
        amount = -1
    if amount != service.fee_total:
        problems.append(f"SoTien {init.get('SoTien')!r}, but the procedure's fees add up to {service.fee_total}")
    receipt = init.get("ThongTinBienLai") or {}
    if receipt.get("MaHoSo") != code or receipt.get("MaTTHC") != service.code:
        problems.append(
            f"the receipt names dossier {receipt.get('MaHoSo')!r} and procedure {receipt.get('MaTTHC')!r}, "
            f"not {code} and {service.code}"
        )
    return problems


def test_init_is_valid_signed_and_asks_the_procedures_fees(
    p111_driver: Driver, p111_payment: PaymentObserver, fee_bearing: list[Service]
):
    """For each fee-bearing service: the INIT is schema-valid, its checksum is right under the configured variant,
    its amount is the sum of the procedure's fees, its receipt block names the dossier and the procedure, the
    platform accepted it (MaLoi 00, with a payment page), and the dossier gives the citizen that page."""
    wrong = []
    for service in fee_bearing:
        scenario = ask_for_payment(p111_driver, service)
        recorded = the_init(p111_payment, scenario)
        problems = init_problems(recorded["body"], service, scenario.dossier.code, p111_payment)
        reply = recorded.get("reply") or {}
        if protocol.error_code(reply) != "00":
            problems.append(f"the platform refused it: MaLoi {reply.get('MaLoi')!r} {reply.get('MoTaLoi', '')}")
        elif scenario.payment.url != reply.get("UrlThanhToan"):  # the citizen must be sent to the platform's page
            problems.append(
                f"the dossier gives the citizen {scenario.payment.url!r} to pay, not the platform's payment page "
                f"{reply.get('UrlThanhToan')!r} (UrlThanhToan of the INIT's reply)"
            )
        wrong += [f"{scenario.dossier.code} ({service.code}): {p}" for p in problems]
    expect(
        not wrong,
        "the INIT sent to the payment platform is wrong",
        expected="a schema-valid, correctly signed INIT for the procedure's fees, accepted by the platform",
        received="; ".join(wrong),
        evidence="payment /_p111/messages",
    )


def test_each_transaction_has_its_own_reference(
    p111_driver: Driver, p111_payment: PaymentObserver, fee_bearing: list[Service]
):
    """MaThamChieu is unique per transaction: across dossiers, and when the same dossier pays again after a failed
    payment."""
    first = ask_for_payment(p111_driver, fee_bearing[0])
    if p111_payment.transaction(first.payment.reference) is not None:  # else the INIT was refused: judged above
        p111_payment.settle(first.payment.reference, "failed")
    again = ask_again(p111_driver, first)
    other = ask_for_payment(p111_driver, fee_bearing[-1])
    ours = {first.dossier.code, other.dossier.code}
    references = [
        str(m["body"].get("MaThamChieu"))
        for m in p111_payment.messages("INIT")
        if (m["body"].get("ThongTinBienLai") or {}).get("MaHoSo") in ours
    ]
    repeated = sorted(ref for ref, n in Counter(references).items() if n > 1)
    expect(
        not (repeated or len(references) < 3),
        "payment transactions share a MaThamChieu",
        expected=f"three INITs with three different MaThamChieu ({first.dossier.code} twice, "
        f"{other.dossier.code} once)",
        received=f"{len(references)} INITs; repeated: {repeated}; the retry's reference {again.payment.reference}",
        evidence="payment /_p111/messages",
    )


def test_a_dossier_never_asked_to_pay_opens_at_most_one_transaction(
    p111_driver: Driver, p111_payment: PaymentObserver, fee_bearing: list[Service]
):
    """A transaction is opened by the officer's payment request, or by the citizen's call after it (domain.md
    section 8); a system may also open one at submission. A fee-bearing dossier taken the whole core path without
    ever being asked to pay therefore has at most one transaction at the platform: an INIT at every step leaves the
    citizen several open transactions for the one obligation."""
    service = fee_bearing[0]
    code = drive(p111_driver, service.code, CORE_PATH).dossier.code
    references = sorted({str(m["body"].get("MaThamChieu")) for m in p111_payment.inits(code)})
    expect(
        len(references) <= 1,
        f"{code} opened {len(references)} payment transactions without ever being asked to pay",
        expected=f"at most one INIT transaction for {code} ({service.code}, taken {' → '.join(CORE_PATH)} with no "
        "payment request)",
        received=f"INITs with MaThamChieu {', '.join(references)}",
        evidence="payment /_p111/messages",
    )


def test_services_published_without_fees_charge_none(
    p111_driver: Driver, p111_portal: PortalObserver, services: list[Service]
):
    """A service the SUT publishes without fees charges none. The portal's catalog alone does not decide (a province
    may waive a fee the national catalog lists: domain.md section 6 leaves out of the payment ratio the dossiers of
    fee-bearing procedures whose fees are all Gia = 0): where it lists the procedure with fees (coPhiLePhi), a
    dossier is submitted and received, and the fees the SUT itself synced for it are read (DanhSachLePhi, domain.md
    section 3). A fee priced above 0 is a financial obligation (section 6 counts such a dossier as fee-bearing);
    hidden from the service list, it would leave every payment check without a service to pay for."""
    with_fees = {str(entry.get("maTTHC")) for entry in p111_portal.catalog() if entry.get("coPhiLePhi") is True}
    candidates = [s for s in services if not s.fee_bearing and s.code in with_fees]
    if not candidates:
        not_applicable(
            "no service is published without fees while the portal's catalog lists its procedure with fees: "
            "nothing to compare"
        )
    charged = []
    for service in candidates:
        code = drive(p111_driver, service.code, ("receive",)).dossier.code
        rows = p111_portal.wait(lambda code=code: p111_portal.dossiers(code), bool)
        if not rows:
            blocked(f"dossier {code} never reached the portal: its fees cannot be read", "P111-SYNC-DOSSIER")
        fees = sorted({f"{f.get('MaPhiLePhi')} Gia {f.get('Gia')}" for r in rows if bears_a_fee(r["item"])
                       for f in r["item"].get("DanhSachLePhi") or []})
        if fees:
            charged.append(f"{service.code} ({service.service_id}): {code} synced with {', '.join(fees)}")
    expect(
        not charged,
        "services the SUT publishes without fees are synced to the portal with fees",
        expected="a service whose dossiers carry a fee above 0 (DanhSachLePhi) published with fee_bearing and its "
        "fees, so that its online payment is tested",
        received="; ".join(charged),
        evidence="the SUT's service list; portal /_p111/catalog and /_p111/dossiers",
    )
