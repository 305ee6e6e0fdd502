"""The counterparts a target names: the national portal, its payment platform and its single sign-on — where each
is, whether the harness runs it, and the SUT's account and secrets there. Each field once (the schema is generated)."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic.dataclasses import dataclass
from pydantic.json_schema import SkipJsonSchema

from harness.config.fields import (
    CONFIG,
    SECRET_AS,
    CallbackUrl,
    CounterpartUrl,
    SecretRef,
    Text,
    with_schema,
    words,
)
from harness.config.secret import Secret

# A counterpart the harness serves itself needs the address it listens on.
_URL_WHEN_SERVED = {
    "if": {"required": ["serve"], "properties": {"serve": {"const": True}}},
    "then": {"required": ["url"]},
}


@dataclass(frozen=True, kw_only=True, config=with_schema(**_URL_WHEN_SERVED))
class CounterpartConfig:
    """What every counterpart has: where it is, and whether the harness runs it."""

    url: CounterpartUrl | SkipJsonSchema[None] = Field(None, description=words(
        "Địa chỉ của hệ thống đối tác; khi serve: true chỉ được là địa chỉ loopback. embedded:// chỉ dành cho hệ "
        "thống nhúng.",
        "The counterpart's URL; with serve: true only a loopback host. embedded:// only for the embedded system.",
    ))
    serve: bool = Field(False, description=words(
        "true: bộ kiểm thử tự chạy hệ thống đối tác giả lập tại url; false: dùng hệ thống thật/bên ngoài.",
        "true: the harness starts its own counterpart at url; false: a real or external one.",
    ))

    def secrets(self) -> tuple[Secret, ...]:
        return tuple(v for v in vars(self).values() if isinstance(v, Secret))


@dataclass(frozen=True, kw_only=True, config=with_schema(**_URL_WHEN_SERVED))
class PortalCounterpart(CounterpartConfig):
    username: Text | SkipJsonSchema[None] = Field(None, description=words(
        "Tài khoản SUT dùng để đăng nhập Cổng.", "The account the SUT logs in to the portal with."
    ))
    password: SecretRef | SkipJsonSchema[None] = Field(None, description=words(
        "Mật khẩu tài khoản Cổng" + SECRET_AS[0], "The portal account's password" + SECRET_AS[1]
    ))
    # Entries added to the national procedure catalog: those written here, then the file's (the loader adds them).
    catalog: tuple[dict[str, Any], ...] = Field((), json_schema_extra={"default": None}, description=words(
        "Thủ tục bổ sung vào danh mục TTHC quốc gia của Cổng đối ứng, theo dạng xuất danh mục của Cổng (maTTHC, "
        "tenTTHC, mucDo, coPhiLePhi, ngayQuyetDinhCongBo, ngayCongKhai); trùng maTTHC thì thay thế.",
        "Procedures added to the portal counterpart's national catalog, in the portal's catalog export shape; an "
        "entry with the same maTTHC replaces the built-in one.",
    ))
    catalog_file: Text | SkipJsonSchema[None] = Field(None, description=words(
        "Tệp YAML/JSON (đường dẫn tương đối so với target.yaml) theo dạng xuất danh mục của Cổng, bổ sung vào danh "
        "mục.",
        "A YAML/JSON file (relative to the target file) in the portal's catalog export shape, added to the catalog.",
    ))


@dataclass(frozen=True, kw_only=True, config=with_schema(**_URL_WHEN_SERVED))
class PaymentCounterpart(CounterpartConfig):
    merchant_code: Text | SkipJsonSchema[None] = Field(None, description=words(
        "Mã đối tác (MaDoiTac).", "Merchant code (MaDoiTac)."
    ))
    secret: SecretRef | SkipJsonSchema[None] = Field(None, description=words(
        "Khóa bí mật tính MaXacThuc" + SECRET_AS[0], "The key of the MaXacThuc checksum" + SECRET_AS[1]
    ))


@dataclass(frozen=True, kw_only=True, config=with_schema(**_URL_WHEN_SERVED))
class SsoCounterpart(CounterpartConfig):
    client_id: Text | SkipJsonSchema[None] = Field(None, description=words(
        "Mã ứng dụng của SUT tại dịch vụ đăng nhập.", "The SUT's client id at the sign-on."
    ))
    client_secret: SecretRef | SkipJsonSchema[None] = Field(None, description=words(
        "Khóa bí mật của ứng dụng" + SECRET_AS[0], "The client secret" + SECRET_AS[1]
    ))
    redirect_uris: tuple[CallbackUrl, ...] = Field(
        (), min_length=1, json_schema_extra={"uniqueItems": True, "default": None}, description=words(
            "Địa chỉ callback của SUT đăng ký tại dịch vụ đăng nhập đối ứng: URL đầy đủ, hoặc đường dẫn tính từ "
            "sut.base_url; mặc định <sut.base_url>/auth/callback.",
            "The SUT's callback addresses registered at the sign-on counterpart: a full URL, or a path from "
            "sut.base_url; default <sut.base_url>/auth/callback.",
        )
    )


@dataclass(frozen=True, kw_only=True, config=CONFIG)
class Counterparts:
    portal: PortalCounterpart = Field(default_factory=PortalCounterpart, description=words(
        "Cổng Dịch vụ công quốc gia (đồng bộ hồ sơ).", "The National Public Service Portal (dossier sync)."
    ))
    payment: PaymentCounterpart = Field(default_factory=PaymentCounterpart, description=words(
        "Nền tảng thanh toán của Cổng DVCQG.", "The portal's payment platform."
    ))
    sso: SsoCounterpart = Field(default_factory=SsoCounterpart, description=words(
        "Dịch vụ đăng nhập một lần của Cổng DVCQG.", "The portal's single sign-on."
    ))
