"""The target's run settings: sync paths, payment and sign-on rules, safety, timeouts, politeness, the fuzz budget
and extra redaction. Each field once: its type, default, limits and words (the schema is generated from them)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass
from pydantic.json_schema import SkipJsonSchema

from harness.config.fields import CONFIG, Path, RequiredLoa, section, words


@dataclass(frozen=True, config=CONFIG)
class SyncAdapter:
    auth_path: Path = Field("/api/adapter/auth", description=words("Đường dẫn đăng nhập.", "Login path."))
    integration_path: Path = Field(
        "/api/adapter/integration", description=words("Đường dẫn dịch vụ tích hợp.", "Integration service path.")
    )


@dataclass(frozen=True, config=CONFIG)
class SyncDirect:
    insert_path: Path = Field("/api/dossier/insert", description=words("Thêm hồ sơ.", "Insert dossiers."))
    update_path: Path = Field(
        "/api/dossier/update", description=words("Cập nhật hồ sơ đã tồn tại.", "Update existing dossiers.")
    )
    progress_path: Path = Field(
        "/api/dossier/progress", description=words("Cập nhật tiến độ xử lý.", "Push progress records.")
    )


@dataclass(frozen=True, config=CONFIG)
class SyncConfig:
    transport: Literal["adapter", "direct"] = Field("adapter", description=words(
        "adapter: đăng nhập rồi gọi dịch vụ tích hợp (kiểu OpenCPS); direct: gửi thẳng tới các URL "
        "thêm/cập nhật/tiến độ.",
        "adapter: log in, then call the integration service (OpenCPS style); direct: post to "
        "insert/update/progress URLs.",
    ))
    adapter: SyncAdapter = section(SyncAdapter, words("Đường dẫn kiểu adapter.", "Adapter-style paths."))
    direct: SyncDirect = section(SyncDirect, words("Đường dẫn kiểu gửi trực tiếp.", "Direct-style paths."))

    @property
    def auth_path(self) -> str:
        return self.adapter.auth_path

    @property
    def integration_path(self) -> str:
        return self.adapter.integration_path

    @property
    def insert_path(self) -> str:
        return self.direct.insert_path

    @property
    def update_path(self) -> str:
        return self.direct.update_path

    @property
    def progress_path(self) -> str:
        return self.direct.progress_path


@dataclass(frozen=True, config=CONFIG)
class PaymentRules:
    checksum: Literal["sha256-pipe", "hmac-sha256"] = Field("sha256-pipe", description=words(
        "Cách tính MaXacThuc: sha256-pipe (các trường nối bằng | kèm khóa ở cuối) hoặc hmac-sha256.",
        "How MaXacThuc is computed: sha256-pipe (fields joined by | with the key last) or hmac-sha256.",
    ))
    confirm_path: Path = Field("/api/payments/confirm", description=words(
        "Đường dẫn trên SUT nhận bản tin xác nhận thanh toán, đã đăng ký với Nền tảng thanh toán [suy luận].",
        "The SUT's path that receives the payment confirm callback, registered with the payment platform "
        "[inferred].",
    ))
    opened_by: Literal["officer", "citizen"] = Field("officer", description=words(
        "Ai mở giao dịch thanh toán: officer (yêu cầu thanh toán của cán bộ làm hệ thống gửi INIT) hoặc citizen "
        "(công dân tự mở bằng một lời gọi sau yêu cầu; trình điều khiển dùng bước pay).",
        "Who opens a payment: officer (the officer's payment request makes the system send INIT) or citizen (the "
        "citizen opens it by a call of their own after the request; the driver's pay step).",
    ))
    reconcile_seconds: float = Field(60.0, gt=0, le=86400, description=words(
        "Thời hạn để SUT tự đối soát (QUERY) một giao dịch còn treo; quá hạn thì P111-PAY-RECONCILE không đạt.",
        "How long the SUT may take to reconcile (QUERY) a pending transaction before P111-PAY-RECONCILE fails.",
    ))


@dataclass(frozen=True, config=CONFIG)
class SignOnRules:
    """How the SUT signs on (target section `sign_on`)."""

    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post"] = Field(
        "client_secret_basic", description=words(
            "Cách SUT xác thực tại token endpoint, như đã đăng ký với dịch vụ đăng nhập (mặc định của OpenID "
            "Connect: client_secret_basic).",
            "How the SUT authenticates at the token endpoint, as registered at the sign-on (OpenID Connect's "
            "default: client_secret_basic).",
        )
    )
    # (procedure code, the lowest loA it requires), sorted, where given
    required_loa: RequiredLoa = Field((), json_schema_extra={"default": {}}, description=words(
        "Mức độ bảo đảm (loAs) tối thiểu mà từng thủ tục yêu cầu, theo mã TTHC; đăng nhập thấp hơn không được "
        "nộp hồ sơ.",
        "The lowest level of assurance (loAs) each procedure requires, by national procedure code; a lower "
        "sign-on must not reach the service.",
    ))


@dataclass(frozen=True, config=CONFIG)
class Safety:
    mode: Literal["read-only", "full"] = Field("read-only", description=words(
        "read-only: chỉ đọc, không tạo hay sửa hồ sơ; full: được tạo và xử lý hồ sơ thử.",
        "read-only: never create or change dossiers; full: may create and handle test dossiers.",
    ))
    environment: Literal["test", "staging", "production"] = Field("staging", description=words(
        "Môi trường của hệ thống, in trên báo cáo.", "The system's environment, printed on reports."
    ))


@dataclass(frozen=True, config=CONFIG)
class Timeouts:
    connect: float = Field(5.0, alias="connect_seconds", gt=0, description=words("Chờ kết nối.", "Connecting."))
    request: float = Field(15.0, alias="request_seconds", gt=0, description=words(
        "Chờ một phản hồi.", "Waiting for one response."
    ))
    sync: float = Field(10.0, alias="sync_seconds", gt=0, description=words(
        "Chờ SUT đồng bộ một thay đổi lên Cổng.", "Waiting for the SUT to sync a change to the portal."
    ))


Rate = Annotated[float, Field(gt=0)]  # requests per second


@dataclass(frozen=True, config=CONFIG)
class Politeness:
    """How gently the harness treats a real system (target section `politeness`)."""

    requests_per_second: Rate | SkipJsonSchema[None] = Field(None, description=words(
        "Số yêu cầu tối đa mỗi giây, tổng cộng; không khai báo: không giới hạn.",
        "Maximum requests per second overall; absent: unlimited.",
    ))
    per_host_requests_per_second: Rate | SkipJsonSchema[None] = Field(None, description=words(
        "Số yêu cầu tối đa mỗi giây tới mỗi máy chủ.", "Maximum requests per second to each host."
    ))
    max_concurrency: int = Field(4, ge=1, le=64, description=words(
        "Số yêu cầu đồng thời tối đa.", "Maximum requests in flight at once."
    ))
    max_retries: int = Field(2, ge=0, le=10, description=words(
        "Số lần thử lại tối đa, chỉ cho yêu cầu idempotent (GET, HEAD) gặp lỗi kết nối, 429 hoặc 503.",
        "Retries, for idempotent requests (GET, HEAD) only, after a connection error, 429 or 503.",
    ))
    retry_after_max_seconds: float = Field(30.0, ge=0, le=600, description=words(
        "Thời gian chờ tối đa theo Retry-After.", "The longest Retry-After honoured."
    ))
    circuit_breaker_failures: int = Field(5, ge=1, le=1000, description=words(
        "Sau chừng ấy lỗi kết nối liên tiếp, lần chạy dừng với kết quả LỖI nêu nguyên nhân.",
        "After this many consecutive connection failures the run stops, with ERROR verdicts naming the cause.",
    ))
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024, description=words(
        "Kích thước tối đa của một phản hồi; lớn hơn là LỖI.",
        "The largest response body read; a bigger one is an ERROR.",
    ))


@dataclass(frozen=True, config=CONFIG)
class FuzzBudget:
    """How hard `p111 fuzz` looks (target section `fuzz`): hypothesis examples per kind of input and operation."""

    max_examples: int = Field(3, ge=1, le=1000, description=words(
        "Số ví dụ hypothesis cho mỗi loại dữ liệu vào (hợp lệ hoặc phá một quy tắc) của mỗi thao tác.",
        "Hypothesis examples per kind of input (valid, or breaking one rule) of each operation.",
    ))
    generated_examples: int = Field(8, ge=1, le=1000, description=words(
        "Số ví dụ sinh tự do theo lược đồ cho mỗi thao tác.",
        "Free examples generated from the schema for each operation.",
    ))
    undocumented_status: Literal["strict", "lenient", "off"] = Field("lenient", description=words(
        "Mã trạng thái mà tài liệu không mô tả cho thao tác: strict — mọi mã như vậy là một phát hiện; lenient — "
        "trừ các mã lớp xác thực và giao thức trả trước khi thao tác chạy (401, 403, 405, 406, 408, 411, 413, 414, "
        "415, 429, 431); off — không xét.",
        "A status the document does not describe for the operation: strict — every one is a finding; lenient — "
        "except those the authentication and protocol layers answer before the operation runs (401, 403, 405, "
        "406, 408, 411, 413, 414, 415, 429, 431); off — not judged.",
    ))


@dataclass(frozen=True, config=CONFIG)
class Redaction:
    """Additions to the default redaction; the redactor reads them as the document has them."""

    fields: tuple[Annotated[str, Field(min_length=1)], ...] | SkipJsonSchema[None] = Field(
        None, description="Tên trường cần che / field names to remove"
    )
    headers: tuple[Annotated[str, Field(min_length=1)], ...] | SkipJsonSchema[None] = Field(
        None, description="Tên tiêu đề HTTP cần che / HTTP headers to remove"
    )
    patterns: dict[str, str | None] | SkipJsonSchema[None] = Field(None, description=(
        "Biểu thức chính quy theo tên; null tắt một mẫu mặc định / named regular expressions; null switches a "
        "default pattern off"
    ))

