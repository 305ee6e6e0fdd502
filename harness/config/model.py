"""The typed target, each field defined once: its Python type, its name in the document (an alias where the two
differ), default, limits and words; the sections live in `system`, `counterparts` and `settings`.
schemas/target.schema.json is generated from these classes (`python -m harness.config.schema`), and
tests/test_target_model.py fails when the committed file differs."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic.dataclasses import dataclass
from pydantic.json_schema import SkipJsonSchema

from harness.config.counterparts import Counterparts, PaymentCounterpart, PortalCounterpart, SsoCounterpart
from harness.config.errors import Problem, TargetError
from harness.config.fields import CONFIG, Text, section, words
from harness.config.secret import Secret
from harness.config.settings import (
    FuzzBudget,
    PaymentRules,
    Politeness,
    Redaction,
    Safety,
    SignOnRules,
    SyncConfig,
    Timeouts,
)
from harness.config.system import Agency, Capabilities, Province, SutConfig
from harness.core.formats import vietnam_now

DEFECTS_NEED_EMBEDDED = "defects apply only to the embedded reference system (sut.embedded: true)"
VARIATIONS_NEED_EMBEDDED = "variations apply only to the embedded reference system (sut.embedded: true)"


@dataclass(frozen=True, kw_only=True, config=CONFIG)
class Target:
    name: Text = Field(description=words(
        "Tên hệ thống được kiểm thử, in trên báo cáo.", "Name of the system under test, printed on reports."
    ))
    operator: Text | SkipJsonSchema[None] = Field(None, description=words(
        "Đơn vị chạy bộ kiểm thử, in trên báo cáo.", "Who runs the harness, printed on reports."
    ))
    year: int = Field(
        default_factory=lambda: vietnam_now().year, alias="evaluation_year", ge=2021, le=2100, description=words(
            "Năm đánh giá, quyết định ngưỡng chỉ tiêu của Kế hoạch 111; mặc định: năm hiện tại.",
            "Evaluation year, which selects the Plan 111 thresholds; default: the current year.",
        )
    )
    province: Province = section(Province, words(
        "Tỉnh sở hữu hệ thống (mã trên Cổng DVCQG).",
        "The province that owns the system (its code on the National Portal).",
    ), default={"code": "H40", "name": "Nam Định"})
    agencies: tuple[Agency, ...] = Field((), json_schema_extra={"default": []}, description=words(
        "Danh bạ cơ quan: mã định danh và cấp hành chính (mã không cho biết cấp).",
        "Agency registry: identifier and administrative level (the code alone does not tell the level).",
    ))
    sut: SutConfig = Field(description=words("Hệ thống được kiểm thử.", "The system under test."))
    capabilities: Capabilities = section(Capabilities, words(
        "Những gì hệ thống cung cấp, do tỉnh/nhà cung cấp khai báo. Kiểm tra cho thứ không cung cấp là KHÔNG ÁP "
        "DỤNG (nêu lời khai); lời khai trái với điều quan sát được là KHÔNG ĐẠT.",
        "What the system offers, as declared. Checks of what is not offered are NOT-APPLICABLE (citing the "
        "declaration); a declaration that contradicts what is observed is FAILED.",
    ))
    counterparts: Counterparts = section(Counterparts, words(
        "Các hệ thống mà SUT gửi yêu cầu tới: Cổng DVCQG, nền tảng thanh toán, đăng nhập một lần.",
        "Where the SUT sends its portal, payment and sign-on traffic.",
    ))
    sync: SyncConfig = section(SyncConfig, words(
        "Cách SUT đồng bộ hồ sơ với Cổng; đường dẫn là thiết lập triển khai.",
        "How the SUT syncs dossiers to the portal; the paths are deployment settings.",
    ))
    payment_rules: PaymentRules = Field(
        default_factory=PaymentRules, alias="payment", json_schema_extra={"default": {}},
        description=words("Thiết lập thanh toán trực tuyến.", "Online payment settings."),
    )
    sign_on_rules: SignOnRules = Field(
        default_factory=SignOnRules, alias="sign_on", json_schema_extra={"default": {}}, description=words(
            "Cách SUT đăng nhập qua dịch vụ đăng nhập một lần.", "How the SUT signs on through the single sign-on."
        )
    )
    safety: Safety = section(Safety, words(
        "Giới hạn những gì bộ kiểm thử được phép làm trên hệ thống.", "Limits on what the harness may do to the system."
    ))
    timeouts: Timeouts = section(Timeouts, words("Thời gian chờ, tính bằng giây.", "Timeouts, in seconds."))
    politeness: Politeness = section(Politeness, words(
        "Cách bộ kiểm thử đối xử với hệ thống thật: tốc độ, số yêu cầu đồng thời, thử lại, ngắt mạch, kích thước "
        "tối đa.",
        "How gently the harness treats a real system: rate, concurrency, retries, circuit breaker, body cap.",
    ))
    fuzz: FuzzBudget = section(FuzzBudget, words(
        "Ngân sách của p111 fuzz (P111-ROBUST-INPUT): số ví dụ mỗi loại dữ liệu vào.",
        "The budget of p111 fuzz (P111-ROBUST-INPUT): examples per kind of input.",
    ))
    redaction_settings: Redaction | SkipJsonSchema[None] = Field(None, alias="redaction", description=words(
        "Che thêm thông tin ngoài mặc định (mã định danh, điện thoại, e-mail, bí mật, Authorization, cookie luôn "
        "được che).",
        "Redaction beyond the defaults (citizen ids, phones, e-mails, secrets, Authorization and cookies are always "
        "removed).",
    ))
    # Not in the document: the file it came from, its digest, and the validated document with defaults, secrets as
    # references, which public_dict() hands out (a copy of).
    source: SkipJsonSchema[Path | None] = None
    digest: SkipJsonSchema[str] = ""
    document: SkipJsonSchema[dict[str, Any]] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    # --- the names the rest of the harness reads -----------------------------------------------------------------

    @property
    def province_code(self) -> str:
        return self.province.code

    @property
    def province_name(self) -> str:
        return self.province.name

    @property
    def portal(self) -> PortalCounterpart:
        return self.counterparts.portal

    @property
    def payment(self) -> PaymentCounterpart:
        return self.counterparts.payment

    @property
    def sso(self) -> SsoCounterpart:
        return self.counterparts.sso

    @property
    def safety_mode(self) -> str:
        return self.safety.mode

    @property
    def environment(self) -> str:
        return self.safety.environment

    @property
    def redaction(self) -> dict[str, Any]:
        """The target's additions to the default redaction (extra fields, headers, named patterns)."""
        return dict(self.document.get("redaction") or {})

    def agency_level(self, code: str) -> str | None:
        return next((a.level for a in self.agencies if a.code == code), None)

    def public_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.document)

    def secrets(self) -> tuple[Secret, ...]:
        found = [self.sut.api_key, *self.sut.driver_secrets.values()]
        for counterpart in (self.portal, self.payment, self.sso):
            found += counterpart.secrets()
        return tuple(s for s in found if s is not None and s.reveal())

    def secret_values(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.reveal() for s in self.secrets()))

    @property
    def _label(self) -> str:
        return str(self.source) if self.source else "embedded target"

    def with_changes(self, *, year: int | None = None, defects: Sequence[str] | None = None) -> Target:
        """The command line's overrides; None leaves a setting as the file has it, defects replace the file's."""
        document = self.public_dict()
        changes: dict[str, Any] = {}
        if year is not None:
            if isinstance(year, bool) or not isinstance(year, int) or not 2021 <= year <= 2100:
                raise TargetError([Problem("evaluation_year", "expected a year from 2021 to 2100")], self._label)
            changes["year"] = document["evaluation_year"] = year
        if defects is not None:
            if defects and not self.sut.embedded:
                raise TargetError([Problem("sut.defects", DEFECTS_NEED_EMBEDDED)], self._label)
            changes["sut"] = dataclasses.replace(self.sut, defects=tuple(defects))
            document["sut"]["defects"] = list(defects)
        return dataclasses.replace(self, **changes, document=document)

    def with_variations(self, names: Sequence[str], settings: Mapping[str, Any]) -> Target:
        """The embedded system with lawful variations switched on, and the target `settings` that express them
        (merged into the document and validated again, as if the file had said so)."""
        from harness.config.loading import reload  # lazily: loading builds this class

        if names and not self.sut.embedded:
            raise TargetError([Problem("sut.variations", VARIATIONS_NEED_EMBEDDED)], self._label)
        document = _merged(self.public_dict(), settings)
        document["sut"]["variations"] = list(names)
        return dataclasses.replace(reload(document, self._label, self.source), source=self.source)


def _merged(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """`overlay` merged into `base`: mappings key by key, anything else replaced."""
    result = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = _merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result
