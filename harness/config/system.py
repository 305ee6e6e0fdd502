"""What the system under test is, as a target declares it: its province and agencies, how it is reached and driven
(`sut`), and what it offers (`capabilities`). Each field once; the schema is generated from these classes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass
from pydantic.json_schema import SkipJsonSchema

from harness.config.fields import (
    CONFIG,
    DRIVER,
    EXTERNAL_REF,
    PROVINCE_CODE,
    SECRET_AS,
    HttpUrl,
    KebabName,
    Path,
    ProcedureCode,
    SecretRef,
    Text,
    operations,
    section,
    with_schema,
    words,
)
from harness.core.formats import AGENCY_CODE


@dataclass(frozen=True, config=CONFIG)
class Province:
    code: str = Field(pattern=PROVINCE_CODE, description=words(
        "Mã tỉnh trên Cổng DVCQG, ví dụ H40 (Nam Định trước 1/7/2025), H42 (Ninh Bình mới).",
        "Province code on the portal, e.g. H40 (Nam Định before 1/7/2025), H42 (the new Ninh Bình).",
    ))
    name: Text = Field(description=words("Tên tỉnh.", "Province name."))


@dataclass(frozen=True, config=CONFIG)
class Agency:
    code: str = Field(pattern=AGENCY_CODE.pattern, description=words(
        "Mã định danh cơ quan (QCVN 102:2016/BTTTT), ví dụ 000.00.00.H40.", "Agency identifier, e.g. 000.00.00.H40."
    ))
    name: Text = Field(description=words("Tên cơ quan.", "Agency name."))
    level: Literal["province", "district", "commune"] = Field(description=words(
        "Cấp hành chính: tỉnh, huyện, xã.", "Administrative level: province, district, commune."
    ))


def _driver_options_by_driver() -> list[dict[str, Any]]:
    """sut.driver_options is checked against the schema of the driver named (schemas/drivers/<name>.schema.json)."""
    rules = []
    for driver in ("reference-api", "http", "operator"):
        when: dict[str, Any] = {"properties": {"driver": {"const": driver}}}
        if driver != "reference-api":  # the default driver: its options are checked when it is not named too
            when["required"] = ["driver"]
        options = {EXTERNAL_REF: f"drivers/{driver}.schema.json"}
        rules.append({"if": when, "then": {"properties": {"driver_options": options}}})
    return rules


@dataclass(frozen=True, config=CONFIG)
class Refusals:
    statuses: tuple[Annotated[int, Field(ge=400, le=599)], ...] = Field(
        (401, 403), min_length=1, json_schema_extra={"default": [401, 403], "uniqueItems": True}, description=words(
            "Các mã HTTP mà hệ thống dùng để từ chối một yêu cầu không có hoặc có thông tin xác thực giả.",
            "The HTTP statuses by which the system refuses a request with no or forged credentials.",
        ))
    state: tuple[Annotated[int, Field(ge=400, le=499)], ...] = Field(
        (409,), min_length=1, json_schema_extra={"default": [409], "uniqueItems": True}, description=words(
            "Các mã HTTP mà hệ thống dùng để từ chối một thao tác trên hồ sơ không ở trạng thái cho phép thao tác đó "
            "(409, 422 hay 400 đều hợp lệ): `p111 fuzz` nhờ đó biết dữ liệu vào nào chưa qua kiểm tra trạng thái.",
            "The HTTP statuses by which the system refuses an action on a dossier whose status does not allow it "
            "(409, 422 or 400 are all lawful): how `p111 fuzz` tells an input that never got past the state check.",
        ))
    login_redirect: Path | SkipJsonSchema[None] = Field(None, description=words(
        "Đường dẫn trang đăng nhập của chính hệ thống, nếu hệ thống từ chối bằng cách chuyển hướng (302/303) tới "
        "đó: một chuyển hướng tới đường dẫn này, cùng nguồn với hệ thống, được coi là «đăng nhập trước» (P111-AUTH-"
        "TXN, và lời chuyển tiếp từ Cổng của P111-CATALOG); khi đã khai báo, một chuyển hướng cùng nguồn tới trang "
        "khác cho công dân đã đăng nhập được coi là mở dịch vụ. Không khai báo thì mọi chuyển hướng sau một thao tác "
        "ghi đều không phải lời từ chối (có thể là chấp nhận kiểu Post/Redirect/Get).",
        "The path of the system's own login page, if the system refuses by redirecting (302/303) there: a redirect "
        "under this path, at the system's own origin, counts as \"sign in first\" (P111-AUTH-TXN, and the portal's "
        "hand-off in P111-CATALOG); once declared, a same-origin redirect elsewhere for a signed-in citizen counts "
        "as serving the service. Undeclared, no redirect after a write is a refusal (it may be an acceptance, "
        "Post/Redirect/Get).",
    ))


_EMBEDDED_OR_NOT = {
    "if": {"required": ["embedded"], "properties": {"embedded": {"const": True}}},
    "then": {"properties": {"base_url": {"not": {}}}},
    "else": {"required": ["base_url"], "properties": {"defects": {"maxItems": 0}, "variations": {"maxItems": 0}}},
}


@dataclass(frozen=True, kw_only=True, config=with_schema(**_EMBEDDED_OR_NOT, allOf=_driver_options_by_driver()))
class SutConfig:
    embedded: bool = Field(False, description=words(
        "true: dùng hệ thống tham chiếu nhúng của bộ kiểm thử, chạy trong tiến trình (khi đó không được có "
        "base_url).",
        "true: the harness's embedded reference system, in-process (base_url is then forbidden).",
    ))
    base_url: HttpUrl | SkipJsonSchema[None] = Field(None, description=words(
        "Địa chỉ gốc của hệ thống (http hoặc https); bắt buộc khi không dùng hệ thống nhúng.",
        "Base URL of the system (http or https); required when not embedded.",
    ))
    trusted_origins: tuple[HttpUrl, ...] = Field((), json_schema_extra={"uniqueItems": True}, description=words(
        "Các nguồn (scheme, máy, cổng) khác của chính hệ thống, ví dụ kho tệp, mà bộ kiểm thử được gửi thông tin "
        "xác thực tới. Mọi địa chỉ khác do hệ thống đưa ra (trong OpenAPI, liên kết tệp, hộp thư, trang thanh "
        "toán, chuyển hướng) đều bị từ chối trước khi gửi.",
        "Other origins (scheme, host, port) of the system itself, e.g. its file store, that the harness may send "
        "its credentials to. Any other URL the system hands out (in its OpenAPI document, file links, inbox items, "
        "payment pages, redirects) is refused before sending.",
    ))
    driver: str = Field("reference-api", pattern=DRIVER, description=words(
        "Trình điều khiển thao tác trên hệ thống: reference-api (API trong schemas/reference-api.openapi.json); "
        "http (trình điều khiển khai báo, cấu hình trong driver_options, không cần mã Python); operator (một người "
        "thao tác theo từng bước in ra); hoặc một lớp Python 'mô_đun:Lớp' nhận (client, sign_on) và cài giao thức "
        "Driver (harness/sut/drivers/base.py).",
        "The driver that operates the system: reference-api; http (a declarative driver configured in "
        "driver_options, no Python); operator (a person performs each printed step); or a Python class "
        "'module:Class' taking (client, sign_on) and implementing the Driver protocol (harness/sut/drivers/base.py).",
    ))
    driver_options: dict[str, Any] = Field(default_factory=dict, json_schema_extra={"default": {}}, description=words(
        "Thiết lập của trình điều khiển http hoặc operator (schemas/drivers/<tên>.schema.json).",
        "Settings of the http or operator driver (schemas/drivers/<name>.schema.json).",
    ))
    handoff_path: Path = Field("/dvc/vnconnect", description=words(
        "Đường dẫn trên hệ thống mà Cổng DVC quốc gia chuyển công dân tới (kèm vnconnect=1&MaTTHCDP=…"
        "&MaCoQuanThucHien=…&MaDVC=…); do tỉnh đăng ký với Cổng [suy luận].",
        "The path on the system the National Portal hands citizens off to (with vnconnect=1&MaTTHCDP=…"
        "&MaCoQuanThucHien=…&MaDVC=…); registered by the province with the portal [inferred].",
    ))
    openapi_path: Path | None = Field("/openapi.json", description=words(
        "Đường dẫn tài liệu OpenAPI của hệ thống; null nếu hệ thống không công bố. Các điểm giao dịch được lấy từ "
        "tài liệu này và từ transactions.",
        "Path of the system's OpenAPI document; null if it publishes none. Transaction endpoints are taken from it "
        "and from transactions.",
    ))
    transactions: operations(
        words("Mẫu đường dẫn; {code} là mã hồ sơ.", "Path template; {code} is the dossier code.")
    ) = Field((), json_schema_extra={"default": []}, description=words(
        "Các điểm giao dịch (tạo hoặc thay đổi hồ sơ, thanh toán) do tỉnh khai báo, bổ sung cho tài liệu OpenAPI; "
        "{tham_so} trong đường dẫn, {code} là mã hồ sơ.",
        "Transaction endpoints declared by the province, in addition to the OpenAPI document; {name} marks a path "
        "parameter, {code} is the dossier code.",
    ))
    dossier_parameter: Text = Field("code", description=words(
        "Tên tham số đường dẫn mang mã hồ sơ trong tài liệu OpenAPI của hệ thống (P111-AUTH-TXN và p111 fuzz điền "
        "mã của một hồ sơ thật).",
        "The name of the path parameter that carries a dossier's code in the SUT's OpenAPI document (P111-AUTH-TXN "
        "and p111 fuzz fill in a real dossier's code).",
    ))
    public_operations: operations(words(
        "Mẫu đường dẫn như trong tài liệu OpenAPI.", "The path template as the OpenAPI document writes it."
    )) = Field((), json_schema_extra={"default": []}, description=words(
        "Các thao tác không do người dùng đã đăng nhập gọi (công khai, hoặc xác thực bằng mã kiểm tra/chữ ký của "
        "bên gọi, như lời gọi của nền tảng thanh toán); P111-AUTH-TXN không đòi phiên đăng nhập ở đó, và p111 fuzz "
        "chấp nhận việc chúng từ chối bản tin sai bằng HTTP 200 kèm mã lỗi riêng (MaLoi). payment.confirm_path "
        "luôn được coi là một thao tác như vậy.",
        "Operations not called by a signed-on user (public, or authenticated by the caller's checksum or "
        "signature, like the payment platform's callback); P111-AUTH-TXN does not demand a session there, and "
        "p111 fuzz accepts their refusing a bad message with HTTP 200 and an error code of their own (MaLoi). "
        "payment.confirm_path is always one.",
    ))
    refusals: Refusals = section(Refusals, words(
        "Cách hệ thống từ chối người chưa đăng nhập (mặc định HTTP 401 hoặc 403).",
        "How the system refuses a caller who has not signed on (by default HTTP 401 or 403).",
    ))
    api_key: SecretRef | SkipJsonSchema[None] = Field(None, description=words(
        "Khóa API của trình điều khiển" + SECRET_AS[0], "The driver's API key" + SECRET_AS[1]
    ))
    defects: tuple[KebabName, ...] = Field((), json_schema_extra={"uniqueItems": True}, description=words(
        "Các lỗi cố ý bật trên hệ thống tham chiếu nhúng (chỉ khi embedded: true).",
        "Deliberate defects switched on in the embedded reference system (only when embedded: true).",
    ))
    variations: tuple[KebabName, ...] = Field((), json_schema_extra={"uniqueItems": True}, description=words(
        "Các biến thể hợp lệ bật trên hệ thống tham chiếu nhúng (chỉ khi embedded: true; xem p111 variations), "
        "ví dụ sso-kid-absent-try-each.",
        "Lawful variations switched on in the embedded reference system (only when embedded: true; see p111 "
        "variations), e.g. sso-kid-absent-try-each.",
    ))
    # The driver's own secrets (a key header, a basic-auth password …), each `${ENV}` in driver_options, resolved,
    # by dotted path inside driver_options (credentials.officer.secret): the loader finds them, not the document.
    driver_secrets: SkipJsonSchema[dict[str, Any]] = Field(default_factory=dict, exclude=True)


@dataclass(frozen=True, config=CONFIG)
class ProcedureLevel:
    code: ProcedureCode = Field(description=words("Mã TTHC quốc gia.", "The national procedure code."))
    level: Literal["toàn trình", "một phần", 4, 3, "4", "3"] = Field(description=words(
        "Mức độ cung cấp: toàn trình (≈ 4) hoặc một phần (≈ 3).",
        "The service level: toàn trình (≈ 4) or một phần (≈ 3).",
    ))


@dataclass(frozen=True, kw_only=True, config=CONFIG)
class Capabilities:
    """What the SUT offers, as the target declares it (section `capabilities`)."""

    payment: bool = Field(True, description=words(
        "Thanh toán trực tuyến qua Nền tảng thanh toán của Cổng (biến thể MaXacThuc: payment.checksum).",
        "Online payment through the portal's payment platform (checksum variant: payment.checksum).",
    ))
    transfer: bool = Field(True, description=words(
        "Luân chuyển hồ sơ liên thông điện tử giữa các cơ quan.", "Electronic transfer of dossiers between agencies."
    ))
    sign_on: tuple[Literal["portal", "vneid"], ...] = Field(
        ("portal", "vneid"), json_schema_extra={"uniqueItems": True}, description=words(
            "Nhà cung cấp đăng nhập một lần: portal (Cổng DVCQG), vneid. [] = không có.",
            "Sign-on providers: portal, vneid; [] = none.",
        )
    )
    declared: tuple[ProcedureCode | ProcedureLevel, ...] | SkipJsonSchema[None] = Field(
        None, alias="procedures", description=words(
            "Thủ tục mà hệ thống cung cấp trực tuyến: mã TTHC, hoặc {code, level} để khai báo cả mức độ; khai báo "
            "thì danh mục công bố phải khớp (và mức độ, nếu có).",
            "The procedures offered online: a national procedure code, or {code, level} to declare its level too; "
            "when declared, the published catalog must match (and the levels, where given).",
        )
    )

    @property
    def procedures(self) -> tuple[str, ...] | None:
        """The codes declared; None: not declared."""
        if self.declared is None:
            return None
        return tuple(p.code if isinstance(p, ProcedureLevel) else p for p in self.declared)

    @property
    def levels(self) -> tuple[tuple[str, str], ...]:
        """(procedure code, declared level) where the target gives one."""
        return tuple((p.code, str(p.level)) for p in self.declared or () if isinstance(p, ProcedureLevel))

    def offers(self, capability: str) -> bool:
        """`payment`, `transfer`, `sign-on` (any provider) or `vneid`."""
        if capability == "sign-on":
            return bool(self.sign_on)
        if capability == "vneid":
            return "vneid" in self.sign_on
        return bool(getattr(self, capability))

    def declaration(self, capability: str) -> str:
        """The declaration, as a failure or a NOT-APPLICABLE reason cites it."""
        if capability in ("sign-on", "vneid"):
            return f"capabilities.sign_on: {list(self.sign_on)}"
        return f"capabilities.{capability}: {str(getattr(self, capability)).lower()}"
