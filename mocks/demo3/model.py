"""Demo 3's settings, its services, rules and planted defects (YAML beside it), and its dossiers as it keeps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.core.formats import format_portal_datetime
from harness.core.resources import read_yaml
from mocks.demo3.cashier import Merchant
from mocks.demo3.portal import PortalClient
from mocks.demo3.signon import Person, SignOn

HERE = Path(__file__).parent
SERVICES = read_yaml(HERE / "services.yaml")
RULES = read_yaml(HERE / "rules.yaml")
DEFECTS = {d["name"]: d for d in read_yaml(HERE / "defects.yaml")}
ROBUSTNESS = {d["name"]: d for d in read_yaml(HERE / "robustness.yaml")}
TIME = "%Y-%m-%d %H:%M:%S"  # its API's times: Vietnam time, no offset
LOGIN_PATH, CALLBACK_PATH, CONFIRM_PATH, HANDOFF_PATH = (
    "/mc/dang-nhap", "/mc/dang-nhap/xong", "/mc/thanh-toan/ket-qua", "/mc/lien-ket-cong",
)
KEY_HEADER = "x-mc-khoa"
CHANNELS = {"truc-tuyen": "2", "truc-tiep": "1", "buu-chinh": "3"}
EXPORTS = ("dossiers", "procedures", "agencies")  # no transaction log: it keeps none it could export


@dataclass(frozen=True)
class Demo3Settings:
    portal: PortalClient
    sign_on: SignOn
    merchant: Merchant
    officer_key: str  # the one-stop desk's static key; it stands for `officer`
    officer: Person
    second_officer: tuple[str, str]  # the receiving agency's basic-auth user and password
    second_person: Person
    year: int
    defects: frozenset[str] = frozenset()
    optional_supplement: bool = False  # also ask for a supplement before receipt (a lawful option it does not take)


@dataclass
class Step:
    status: str  # its own word
    step: str
    at: datetime
    by: str  # TechID, or "" (the planted defect)
    level: str
    agency: dict[str, str]
    actor: str


@dataclass
class Dossier:
    code: str
    service: dict[str, Any]
    channel: str
    owner: Person
    name: str
    id_number: str
    summary: str
    at: datetime
    due: datetime
    agency: dict[str, str]
    files: list[dict[str, Any]]
    status: str = "moi"
    back_to: str = "da-nhan"
    received: datetime | None = None
    finished: datetime | None = None
    returned: datetime | None = None
    refused: datetime | None = None
    steps: list[Step] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)  # transfers: {tu, den, giay_to}
    payments: list[str] = field(default_factory=list)  # references


def _time(moment: datetime | None) -> str | None:
    return moment.strftime(TIME) if moment else None


def _portal_time(moment: datetime | None) -> str:
    return format_portal_datetime(moment) if moment else ""

