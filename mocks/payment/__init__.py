"""The National Portal's payment platform, as a counterpart: INIT, QUERY and GET_BILL, a payment page, and the
confirm callback to the provincial system (domain.md section 4).

Every message is checked against its schema and its checksum (MaXacThuc, harness.sut.payment) and recorded, refused or
not: the checks judge the records under /_p111/. The harness settles a transaction through the payment page or
/_p111/settle, with or without the confirm callback (a lost callback is how the checks make a system reconcile with
QUERY).
"""

from __future__ import annotations

from starlette.applications import Starlette

from mocks.payment import admin, answers, settling
from mocks.payment.model import PaymentSettings, PaymentState, Transaction, receipt_pdf
from mocks.payment.shared import share

__all__ = ["PaymentSettings", "PaymentState", "Transaction", "create_payment_app", "receipt_pdf"]


def create_payment_app(settings: PaymentSettings) -> Starlette:
    shared = share(settings)
    return Starlette(routes=[*answers.routes(shared), *settling.routes(shared), *admin.routes(shared)])
