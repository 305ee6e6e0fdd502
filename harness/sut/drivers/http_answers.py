"""How the `http` driver reads a system's answers into the Driver protocol's views: each field where the target's
views say it is (JMESPath, JSONata or a function: harness.sut.drivers.http_config), each of the system's words
translated through its vocabulary tables, each time in its datetime_format (Vietnam time when it carries no offset)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from harness.core.formats import VIETNAM_TIME
from harness.sut.drivers.base import DossierView, DriverError, Fee, FileView, PaymentView, Service, StepView
from harness.sut.drivers.http_config import OPTIONS, View, Vocabulary


class AnswerReader:
    """The views the target describes, read from one answer; `download` fetches a file whose view has no checksum."""

    def __init__(
        self,
        views: Mapping[str, View],
        vocabulary: Mapping[str, Vocabulary],
        datetime_format: str | None,
        download: Callable[[str], bytes],
    ) -> None:
        self._views = views
        self._vocabulary = vocabulary
        self._datetime_format = datetime_format
        self._download = download

    def moment(self, view: View, field: str, data: Any, where: str, *, required: bool) -> datetime | None:
        found = view.value(field, data, where, required=required)
        if found is None or found == "":
            return None
        try:
            if self._datetime_format:
                moment = datetime.strptime(str(found), self._datetime_format)
            else:
                moment = datetime.fromisoformat(str(found))
        except ValueError as exc:
            form = f"datetime_format {self._datetime_format!r}" if self._datetime_format else "ISO 8601"
            raise DriverError(
                f"{where}: {OPTIONS}.views.{view.name}.{field}: not a time in the {form} ({OPTIONS}.datetime_format)"
            ) from exc
        # A time without an offset is Vietnam time: the portal's own convention (domain.md section 2).
        return moment if moment.tzinfo else moment.replace(tzinfo=VIETNAM_TIME)

    def file(self, data: Any, where: str) -> FileView:
        v = self._views["file"]
        url = v.text("url", data, where)
        # A system without a checksum field: integrity is judged by downloading the file and hashing it.
        if "sha256" in v.fields:
            digest = v.text("sha256", data, where)
        else:
            digest = hashlib.sha256(self._download(url)).hexdigest()
        return FileView(v.text("id", data, where), v.text("name", data, where), digest, url)

    def step(self, data: Any, where: str, root: Any) -> StepView:
        v, words = self._views["step"], self._vocabulary
        action = v.value("action", data, where, required=False, root=root)
        return StepView(
            words["status"].from_sut(v.value("status", data, where, root=root), where),
            words["action"].from_sut(action, where) if action not in (None, "") else "",
            v.optional_text("subject", data, where, root),
            v.optional_text("assurance", data, where, root),
        )

    def payment(self, data: Any, where: str, root: Any) -> PaymentView:
        v = self._views["payment"]
        return PaymentView(
            v.text("reference", data, where, root),
            v.number("amount", data, where, root=root),
            self._vocabulary["payment_state"].from_sut(v.value("state", data, where, root=root), where),
            v.number("credited", data, where, default=0, root=root),
            v.optional_text("url", data, where, root),
        )

    def dossier(self, data: Any, where: str) -> DossierView:
        v, words = self._views["dossier"], self._vocabulary
        steps = tuple(self.step(s, where, data) for s in v.items("steps", data, where))
        if "statuses" in v.fields:
            statuses = tuple(words["status"].from_sut(s, where) for s in v.items("statuses", data, where))
        else:
            statuses = tuple(s.status for s in steps)
        agency = v.text("agency_code", data, where)
        submitted = self.moment(v, "submitted_at", data, where, required=True)
        assert submitted is not None  # required above
        return DossierView(
            code=v.text("code", data, where),
            procedure_code=v.text("procedure_code", data, where),
            agency_code=agency,
            current_agency_code=v.optional_text("current_agency_code", data, where) or agency,
            channel=words["channel"].from_sut(v.value("channel", data, where), where),
            status=words["status"].from_sut(v.value("status", data, where), where),
            submitted_at=submitted,
            received_at=self.moment(v, "received_at", data, where, required=False),
            due_at=self.moment(v, "due_at", data, where, required=False),
            statuses=statuses,
            files=tuple(self.file(f, where) for f in v.items("files", data, where)),
            steps=steps,
            paid_online=bool(v.value("paid_online", data, where, required=False)),
            payments=tuple(self.payment(p, where, data) for p in v.items("payments", data, where)),
        )

    def service(self, data: Any, where: str) -> Service:
        v = self._views["service"]
        fees = tuple(
            Fee(
                self._views["fee"].text("kind", f, where),
                self._views["fee"].text("code", f, where),
                self._views["fee"].text("name", f, where),
                self._views["fee"].number("amount", f, where),
            )
            for f in v.items("fees", data, where)
        )
        return Service(
            code=v.text("code", data, where),
            local_code=v.text("local_code", data, where),
            service_id=v.text("service_id", data, where),
            name=v.text("name", data, where),
            agency_code=v.text("agency_code", data, where),
            level=self._vocabulary["level"].from_sut(v.value("level", data, where), where),
            fee_bearing=bool(v.value("fee_bearing", data, where, required=False)),
            second_agency_code=v.optional_text("second_agency_code", data, where),
            fees=fees,
        )
