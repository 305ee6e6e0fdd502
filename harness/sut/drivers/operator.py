"""The operator driver: for a SUT with no API to automate, a person performs each step in its user interface.

Each action prints one numbered step, Vietnamese first, with a machine-readable `p111-step: {JSON}` line, then waits
(sut.driver_options.step_seconds) for the message the step must cause at a counterpart: a new HoSoDongBoDVC at the
portal for a submission, a record with the new status for an officer's action, an INIT at the payment platform when
payment is asked, an authorization request at the sign-on for a login. What the driver returns is built from what
arrived, never from the person's word. What only a person can see (who is signed in, a refusal on screen, an inbox)
ends REVIEW naming what to attach; what a person cannot provide at all (an export, a file download) ends NOT-TESTED.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from harness.core.formats import parse_dossier_code, parse_portal_datetime
from harness.core.lifecycle import Lifecycle, load_lifecycle
from harness.core.verdicts import NeedsReview, NotTested
from harness.sut.drivers.base import (
    ActionResult,
    DossierView,
    DriverError,
    Fee,
    InboxItem,
    Login,
    PaymentView,
    Service,
    Session,
)
from harness.sut.drivers.operator_prompt import ACTION_WORDS, CHANNEL_WORDS, STEP_LINE, OperatorOptions, Prompter
from harness.sut.observers import ObserverError, PaymentObserver, PortalObserver, SsoObserver, Waiter

PORTAL_LOGS = "portal counterpart (/_p111/dossiers, /_p111/progress)"
MODE = "chế độ người thao tác (sut.driver: operator) / operator mode"
CHANNELS = {"1": "counter", "2": "online", "3": "post"}


class StepTimedOut(DriverError):
    """The step's message never reached its counterpart: the person did not perform it, or the SUT did not act or
    sync. The harness cannot tell which, so the check is ERROR, not FAILED."""


@dataclass
class Tracked:
    """What the driver knows of a dossier a person submitted: the statuses the counterparts confirmed."""

    procedure: str
    channel: str
    owner: str  # the account that submitted it
    statuses: list[str] = field(default_factory=list)
    resume: str | None = None  # where a supplement resumes
    agency: str | None = None  # where it is now, after a transfer


def _check_name() -> str:
    """The check being run (pytest sets it), so that the person knows what a step is for."""
    return os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]


def _statuses(portal: PortalObserver, code: str) -> list[str]:
    """Every status the portal heard of for `code`, by dossier sync or progress record, in arrival order."""
    rows = [(0, r) for r in portal.dossiers(code)] + [(1, r) for r in portal.progress(code)]
    # Items are numbered per kind; the request that carried them is numbered across both.
    rows.sort(key=lambda pair: (int(pair[1].get("request_seq", 0)), pair[0], int(pair[1].get("seq", 0))))
    return [str(r["item"].get("TrangThai" if kind else "TrangThaiHoSo")) for kind, r in rows]


class OperatorDriver:
    """The Driver protocol, performed by a person and observed at the counterparts."""

    asks_a_person = True  # checks that need a person's judgement ask through `review`
    shows_steps = True

    @classmethod
    def build(cls, target: Any, system: Any) -> OperatorDriver:
        """The driver from the target's driver_options and the run's counterparts."""
        return cls(
            OperatorOptions.from_target(target.sut.driver_options),
            portal=system.portal,
            sign_on=system.sign_on,
            payment=system.payment,
            payment_offered=target.capabilities.offers("payment"),
            waiter=system.waiter,
        )

    @staticmethod
    def sensitive_names(options: dict[str, Any] | None) -> tuple[list[str], list[str]]:
        return [], []  # a person acts; only what reaches the counterparts is recorded

    def offered_exports(self) -> tuple[str, ...] | None:
        return None

    def __init__(
        self,
        options: OperatorOptions,
        *,
        portal: PortalObserver | None,
        sign_on: httpx.Client | None,
        payment: PaymentObserver | None,
        payment_offered: bool = True,
        lifecycle: Lifecycle | None = None,
        waiter: Waiter | None = None,
    ) -> None:
        self.options = options
        self._waiter = waiter or Waiter()  # the run's (harness.sut.observers.Waiter): timed, recorded, replayed
        self._portal = portal
        self._sso = SsoObserver(sign_on) if sign_on is not None else None
        self._payment = payment
        self._payment_offered = payment_offered
        self._lifecycle = lifecycle or load_lifecycle()
        self._prompter = Prompter(options)
        self._number = 0
        self._dossiers: dict[str, Tracked] = {}

    # ---- the steps ----

    def _step(self, tag: str, vi: str, en: str, waiting: tuple[str, str] | None, **data: Any) -> int:
        self._number += 1
        n, check = self._number, _check_name()
        lines = [f"BƯỚC {n} [{tag}]: {vi}", f"STEP {n} [{tag}]: {en}"]
        if check:
            lines.append(f"  phép kiểm tra / check: {check}")
        if waiting:
            lines.append(f"  chờ tối đa / waiting up to {self.options.step_seconds:g} s: {waiting[0]} / {waiting[1]}")
        record = {"step": n, "tag": tag, "check": check, **data}
        lines.append(STEP_LINE + json.dumps(record, ensure_ascii=False))
        self._prompter.write("\n".join(lines))
        return n

    def _done(self, n: int, vi: str, en: str) -> None:
        self._prompter.write(f"  ✓ BƯỚC {n}: {vi} / {en}")

    def _timed_out(self, n: int, tag: str, what: str, where: str) -> StepTimedOut:
        self._prompter.write(f"  ✗ BƯỚC {n}: hết thời gian chờ / timed out")
        return StepTimedOut(
            f"BƯỚC {n} [{tag}] — {MODE}: {what} did not reach the {where} within {self.options.step_seconds:g} s "
            "(sut.driver_options.step_seconds): the person did not perform the step, or the SUT did not act on it or "
            "did not send it"
        )

    def review(self, *, why: str, attach: str) -> None:
        """A step only a person can judge: printed with what to attach, then the check ends REVIEW."""
        n = self._step("review", f"Chụp và đính kèm vào hồ sơ nghiệm thu: {attach}",
                       "Take it and attach it to the acceptance file (above).", None, attach=attach)
        raise NeedsReview(what_to_attach=f"(BƯỚC / STEP {n}) {attach}", why=f"{MODE}: {why}")

    def close(self) -> None:
        self._prompter.close()

    # ---- observers ----

    def _need_portal(self) -> PortalObserver:
        if self._portal is None:
            raise DriverError(
                f"{MODE}: the harness sees what a person did only at the counterparts, and the target names no portal "
                "counterpart (counterparts.portal.url)"
            )
        return self._portal

    def _wait(self, fetch: Any, until: Any) -> Any:
        return self._waiter.poll(fetch, until, self.options.step_seconds)

    # ---- the Driver protocol ----

    def services(self) -> list[Service]:
        """The procedures the target lists for the person (the SUT has no API to list them), completed from the
        portal's national catalog. Checks of the list itself ask for a screenshot of it (REVIEW)."""
        national: dict[str, dict[str, Any]] = {}
        if self._portal is not None:
            try:
                national = {str(e.get("maTTHC")): e for e in self._portal.catalog()}
            except ObserverError:
                national = {}
        found = []
        for p in self.options.procedures:
            entry = national.get(p["code"], {})
            fees = tuple(
                Fee(str(f.get("LoaiPhiLePhi", "1")), str(f["MaPhiLePhi"]), str(f.get("TenPhiLePhi", "")),
                    int(f["SoTien"]))
                for f in p.get("fees") or ()
            )
            found.append(
                Service(
                    code=p["code"],
                    local_code=p.get("local_code", p["code"]),
                    service_id=p.get("service_id", p["code"]),
                    name=p.get("name", str(entry.get("tenTTHC", p["code"]))),
                    agency_code=p["agency_code"],
                    level=p.get("level", str(entry.get("mucDo", ""))),
                    fee_bearing=bool(fees),
                    second_agency_code=p.get("second_agency_code"),
                    fees=fees,
                )
            )
        return found

    def _service(self, code: str) -> Service | None:
        return next((s for s in self.services() if s.code == code), None)

    def login(self, account: str) -> Login:
        if self._sso is None:
            raise DriverError(f"{MODE}: no sign-on counterpart in the target (counterparts.sso.url): no one signs on")
        sso = self._sso
        known = len(sso.authorizations())
        n = self._step(
            "login",
            f"Mở hệ thống và đăng nhập qua Cổng Dịch vụ công quốc gia (đăng nhập một lần) bằng tài khoản {account}.",
            f"Open the system and sign on through the National Portal's single sign-on as {account}.",
            ("một yêu cầu xác thực mới tại hệ thống đăng nhập một lần", "a new authorization request at the sign-on"),
            account=account,
        )
        rows = self._wait(lambda: sso.authorizations()[known:], bool)
        if not rows:
            where = f"sign-on counterpart ({sso.client.base_url}/_p111/authorizations)"
            raise self._timed_out(n, "login", "an authorization request", where)
        self._done(n, "đã nhận yêu cầu xác thực", "authorization request received")
        query = rows[0].get("query") or {}
        authorize = f"{str(sso.client.base_url).rstrip('/')}/authorize?{httpx.QueryParams(query)}"
        # The session lives in the person's browser: the harness holds only whose it is.
        return Login(authorize, 0, Session(account, {}), f"{MODE}: the session is the person's, in the browser")

    def session(self, role: str) -> Session:
        return Session(self.options.officer if role == "officer" else self.options.citizen, {})

    def whoami(self, session: Session) -> dict[str, Any] | None:
        self.review(
            why="whom the SUT's session belongs to shows only on its screen",
            attach="ảnh chụp màn hình trang của hệ thống ngay sau lần đăng nhập gần nhất bằng tài khoản "
            f"{session.account}: tên và mã định danh (TechID) của tài khoản đang đăng nhập, hoặc thông báo từ chối "
            f"đăng nhập / a screenshot of the system right after the last sign-on as {session.account}: the "
            "signed-on account's name and TechID, or the refusal",
        )
        return None  # not reached: review raises

    def _write_files(self, n: int, files: tuple[tuple[str, bytes], ...]) -> list[str]:
        folder = self.options.files_dir / f"buoc-{n:03d}"
        paths = []
        for name, content in files:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
            paths.append(str((folder / name).resolve()))  # absolute: the person may work from another folder
        return paths

    def submit(
        self,
        procedure_code: str,
        *,
        channel: str = "online",
        files: tuple[tuple[str, bytes], ...] = (),
        session: Session | None = None,
    ) -> DossierView:
        portal = self._need_portal()
        # Online a citizen submits; at the counter or by post an officer registers the dossier.
        by_role = self.options.citizen if channel == "online" else self.options.officer
        account = session.account if session else by_role
        known = {r["MaHoSo"] for r in portal.dossiers()}
        service = self._service(procedure_code)
        name = f" ({service.name})" if service else ""
        paths = self._write_files(self._number + 1, files)
        attach_vi = f", đính kèm các tệp: {', '.join(paths)}" if paths else ", không kèm tệp"
        attach_en = f", attaching: {', '.join(paths)}" if paths else ", no files"
        how_vi, how_en = CHANNEL_WORDS.get(channel, (channel, channel))
        n = self._step(
            "submit",
            f"Đăng nhập bằng tài khoản {account} và nộp một hồ sơ thủ tục {procedure_code}{name}, {how_vi}{attach_vi}.",
            f"Sign on as {account} and submit a dossier of procedure {procedure_code}{name}, {how_en}{attach_en}.",
            (f"một HoSoDongBoDVC mới (MaTTHC {procedure_code}) tại Cổng",
             f"a new HoSoDongBoDVC (MaTTHC {procedure_code}) at the portal"),
            account=account, procedure=procedure_code, channel=channel, files=paths,
        )

        def new() -> list[dict[str, Any]]:
            rows = portal.dossiers()
            return [r for r in rows if r["MaHoSo"] not in known and r["item"].get("MaTTHC") == procedure_code]

        rows = self._wait(new, bool)
        if not rows:
            raise self._timed_out(n, "submit", f"a new HoSoDongBoDVC of procedure {procedure_code}",
                                  "portal counterpart (/_p111/dossiers)")
        code = str(rows[0]["MaHoSo"])
        self._done(n, f"Cổng đã nhận hồ sơ {code}", f"the portal received {code}")
        self._dossiers[code] = Tracked(procedure_code, channel, account, _statuses(portal, code)[:1] or ["1"])
        return self.get(code)

    def act(
        self, code: str, action: str, *, to_agency: str | None = None, session: Session | None = None
    ) -> ActionResult:
        portal = self._need_portal()
        tracked = self._track(code)
        current = tracked.statuses[-1]
        rule = self._lifecycle.actions[action]
        new = (tracked.resume or "2") if rule.to == "resume" else rule.to
        lawful = self._lifecycle.allows(current, new)
        account = session.account if session else (tracked.owner if rule.actor == "citizen" else self.options.officer)
        seen = len(_statuses(portal, code))
        inits = len(self._payment.inits(code)) if self._payment is not None else 0
        words_vi, words_en = ACTION_WORDS.get(action, (action, action))
        where_vi = f" tới cơ quan {to_agency}" if to_agency else ""
        where_en = f" to agency {to_agency}" if to_agency else ""
        try_vi, try_en = ("", "") if lawful else (" (thử: hệ thống phải từ chối)", " (try it: the system must refuse)")
        n = self._step(
            "act",
            f"Đăng nhập bằng tài khoản {account}, mở hồ sơ {code} và thực hiện «{words_vi}»{where_vi}{try_vi}.",
            f"Sign on as {account}, open dossier {code} and {words_en}{where_en}{try_en}.",
            (f"bản ghi trạng thái {self._lifecycle.name(new)} của {code} tại Cổng",
             f"a record with status {new} for {code} at the portal"),
            account=account, code=code, action=action, to_agency=to_agency, lawful=lawful,
        )
        told = self._wait(lambda: _statuses(portal, code)[seen:], (lambda got: new in got) if lawful else bool)
        if not lawful:
            if not told:
                self.review(
                    why=f"a refused {action!r} leaves nothing at the counterparts; only the screen shows the refusal",
                    attach=f"ảnh chụp màn hình khi thử «{words_vi}» trên hồ sơ {code}: thông báo từ chối của hệ thống "
                    f"(hoặc nút không có), và trang hồ sơ vẫn ở trạng thái {self._lifecycle.name(current)} / a "
                    f"screenshot of trying to {words_en} on {code}: the system's refusal (or no such button), and the "
                    f"dossier still in status {current}",
                )
            tracked.statuses.append(told[-1])  # the SUT accepted an unlawful move: the portal heard of it
            return ActionResult(True, 0, self.get(code), f"{MODE}: the portal heard status {told[-1]}")
        if new not in told:
            raise self._timed_out(n, "act", f"a record with status {new} of {code} after {action!r}",
                                  PORTAL_LOGS)
        self._done(n, f"Cổng đã nhận trạng thái {new}", f"the portal received status {new}")
        if new == "5":
            tracked.resume = current if current in ("2", "4", "6") else "2"
        if action == "transfer" and to_agency:
            tracked.agency = to_agency
        tracked.statuses.append(new)
        if action == "request-payment":
            self._await_init(code, inits)
        return ActionResult(True, 0, self.get(code), "")

    def _await_init(self, code: str, known: int) -> None:
        """A payment asked of a fee-bearing dossier opens a transaction: its INIT is awaited at the platform. None
        arriving is for the payment checks to judge (the status change itself was observed)."""
        service = self._service(self._track(code).procedure)
        payment = self._payment
        if payment is None or not self._payment_offered or service is None or not service.fee_bearing:
            return
        if len(self._wait(lambda: payment.inits(code), lambda rows: len(rows) > known)) > known:
            self._prompter.write(f"  ✓ nền tảng thanh toán đã nhận INIT của {code} / the payment platform got its INIT")

    def _track(self, code: str) -> Tracked:
        if code not in self._dossiers:
            # Submitted elsewhere: known only from what the portal holds.
            portal = self._need_portal()
            rows = portal.dossiers(code)
            if not rows:
                raise DriverError(f"{MODE}: {code} is not at the portal counterpart; the harness sees dossiers only "
                                  "through what the SUT synced")
            item = rows[-1]["item"]
            statuses = _statuses(portal, code)
            channel = CHANNELS.get(str(item.get("KenhThucHien")), "online")
            first = statuses[-1:] or ["1"]
            self._dossiers[code] = Tracked(str(item.get("MaTTHC")), channel, self.options.citizen, first)
        return self._dossiers[code]

    def get(self, code: str, *, session: Session | None = None) -> DossierView:
        """The dossier as the SUT told the portal (its latest accepted HoSoDongBoDVC), with the statuses the
        counterparts confirmed after each step and the transactions opened at the payment platform."""
        portal = self._need_portal()
        tracked = self._track(code)
        rows = portal.dossiers(code)
        taken = [r for r in rows if r.get("accepted")] or rows
        item = taken[-1]["item"] if taken else {}
        parsed = parse_dossier_code(code)
        service = self._service(tracked.procedure)
        agency = service.agency_code if service else (parsed.agency if parsed else "")

        def moment(name: str) -> datetime | None:
            value = item.get(name)
            return parse_portal_datetime(str(value)) if value else None

        submitted = moment("NgayNopHoSo") or moment("NgayTiepNhan")
        if submitted is None:
            raise DriverError(f"{MODE}: the portal's copy of {code} has no NgayNopHoSo or NgayTiepNhan to read")
        payments = tuple(
            PaymentView(str(m["body"].get("MaThamChieu")), int(float(m["body"].get("SoTien") or 0)),
                        "unknown", 0, (m.get("reply") or {}).get("UrlThanhToan"))
            for m in (self._payment.inits(code) if self._payment is not None else [])
        )
        return DossierView(
            code=code,
            procedure_code=str(item.get("MaTTHC", tracked.procedure)),
            agency_code=agency,
            current_agency_code=tracked.agency or agency,
            channel=CHANNELS.get(str(item.get("KenhThucHien")), tracked.channel),
            status=tracked.statuses[-1],
            submitted_at=submitted,
            received_at=moment("NgayTiepNhan"),
            due_at=moment("NgayHenTra"),
            statuses=tuple(tracked.statuses),
            files=(),
            steps=(),  # who made each step shows only on the SUT's screen: the checks that need it ask (REVIEW)
            paid_online=str(item.get("DuocThanhToanTrucTuyen")) == "1",
            payments=payments,
        )

    def inbox(self, agency_code: str) -> list[InboxItem]:
        moved = sorted(c for c, t in self._dossiers.items() if agency_code in (t.agency, None))
        self.review(
            why="what a receiving agency holds shows only in its inbox on the SUT's screen",
            attach=f"ảnh chụp màn hình hộp hồ sơ đến của cơ quan {agency_code} (đăng nhập bằng tài khoản cán bộ của cơ "
            f"quan đó) cho thấy hồ sơ {', '.join(moved) or 'được chuyển tới'} đến bằng phương thức điện tử, cùng danh "
            f"sách tệp đính kèm / a screenshot of agency {agency_code}'s inbox showing the moved dossier(s) arrived "
            "electronically, with their attached files",
        )
        return []  # not reached: review raises

    def download(self, url: str) -> bytes:
        raise NotTested(f"{MODE}: a file cannot be fetched from the SUT's user interface by the harness ({url})")

    def export(self, kind: str) -> list[dict[str, Any]]:
        raise NotTested(
            f"{MODE}: a person cannot hand over an export of every {kind} row of the year; measure the targets with "
            "`p111 kpi --data FILE... --year Y` on the SUT's export files"
        )


__all__ = ["STEP_LINE", "OperatorDriver", "OperatorOptions", "StepTimedOut"]
