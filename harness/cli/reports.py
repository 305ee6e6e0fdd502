"""The report commands of `p111`: `verify` (hashes and signature of a report folder), `diff` (two runs), `keygen`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.core.i18n import labels, verdict_label
from harness.reporting import diff as diffs
from harness.reporting import manifest

OK, FAILED, USAGE = 0, 1, 2


def signing_key(value: str) -> str:
    """argparse type of `p111 run --sign`: a bad key is refused before the suite runs, not after."""
    try:
        manifest.load_private_key(Path(value))
    except manifest.KeyFileError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def add_commands(subparsers: Any) -> None:
    verify = subparsers.add_parser(
        "verify", help="kiểm tra mã băm và chữ ký của thư mục báo cáo / check a report folder's hashes and signature"
    )
    verify.add_argument("directory", type=Path, help="thư mục báo cáo / the report folder")
    verify.add_argument("--key", type=Path, help="khóa công khai Ed25519 (PEM) phải đã ký / the public key that signed")
    verify.set_defaults(handler=cmd_verify)

    diff = subparsers.add_parser("diff", help="so sánh hai lần chạy / compare two runs (exit 1 on a regression)")
    diff.add_argument("old", type=Path, help="report.json hoặc thư mục của lần trước / the earlier run")
    diff.add_argument("new", type=Path, help="report.json hoặc thư mục của lần này / the later run")
    diff.add_argument("--lang", choices=("vi", "en"), default="vi")
    diff.set_defaults(handler=cmd_diff)

    keygen = subparsers.add_parser("keygen", help="tạo cặp khóa ký Ed25519 / make an Ed25519 signing key pair")
    keygen.add_argument("directory", type=Path, nargs="?")
    keygen.add_argument(
        "--recording", action="store_true",
        help="in khóa mã hóa bản ghi (Fernet) / print a recording encryption key for P111_RECORDING_KEY",
    )
    keygen.set_defaults(handler=cmd_keygen)


def cmd_verify(args: argparse.Namespace) -> int:
    if not (args.directory / manifest.MANIFEST_FILE).is_file():
        print(f"Không có / no {manifest.MANIFEST_FILE} in {args.directory}", file=sys.stderr)
        return USAGE
    try:
        result = manifest.verify(args.directory, args.key)
    except manifest.KeyFileError as exc:
        print(f"Khóa không dùng được / unusable key: {exc}", file=sys.stderr)
        return USAGE
    if not result.ok:
        print(f"KHÔNG HỢP LỆ / TAMPERED: {result.problem}")
        return FAILED
    if result.key_pinned:
        signed = "chữ ký hợp lệ với khóa đã cho / signature valid for the given key"
    elif result.signed:
        signed = (
            "chữ ký hợp lệ với khóa ghi trong manifest — dùng --key để xác nhận người ký / "
            "signature valid for the key named in the manifest; pass --key to pin the signer"
        )
    else:
        signed = "không có chữ ký / not signed"
    print(f"Hợp lệ / intact: {len(result.checked)} tệp / files; {signed}")
    for name in result.unlisted:
        print(f"Cảnh báo / warning: {name} không có trong manifest / not covered by the manifest")
    return OK


def cmd_diff(args: argparse.Namespace) -> int:
    try:
        old, new = diffs.load(args.old), diffs.load(args.new)
        changes = diffs.compare(old, new)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"Không đọc được báo cáo / cannot read a report: {type(exc).__name__}: {exc}", file=sys.stderr)
        return USAGE
    t = labels(args.lang)
    print(f"{t['diff_title']}: {t['diff_old']} {old.get('finished_at', '?')} → {t['diff_new_run']} "
          f"{new.get('finished_at', '?')}")
    width = max((len(c.requirement) for c in changes), default=10)
    for status in diffs.ORDER:
        for c in (c for c in changes if c.status == status):
            before = verdict_label(c.old, args.lang) if c.old else "—"
            after = verdict_label(c.new, args.lang) if c.new else "—"
            print(f"{c.requirement:<{width}}  {t['diff_' + status]:<10} ({status}) {before} → {after}")
    counts = {s: sum(1 for c in changes if c.status == s) for s in diffs.ORDER}
    print(", ".join(f"{t['diff_' + s]} ({s}) {n}" for s, n in counts.items() if n))
    return diffs.exit_code(changes)


def cmd_keygen(args: argparse.Namespace) -> int:
    if args.recording:  # the key alone on stdout: `export P111_RECORDING_KEY=$(p111 keygen --recording)`
        from harness.http.recording import KEY_VARIABLE, new_key

        print(new_key())
        print(f"Đặt vào biến môi trường / set it as {KEY_VARIABLE}; giữ kín / keep it secret", file=sys.stderr)
        return OK
    if args.directory is None:
        print("Cần thư mục hoặc --recording / a directory or --recording is needed", file=sys.stderr)
        return USAGE
    private, public = manifest.generate_keys(args.directory)
    print(f"Khóa bí mật / private key: {private} (giữ kín / keep it secret)")
    print(f"Khóa công khai / public key: {public} (gửi cho người kiểm tra / give it to verifiers)")
    return OK
