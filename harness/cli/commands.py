"""The `p111` command: run the suite, list requirements and defects, validate files, serve the counterparts."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from harness.cli.guard import guarded, inert_output, print_problems
from harness.cli.metrics import add_commands as add_metric_commands
from harness.cli.reports import add_commands as add_report_commands
from harness.cli.reports import signing_key
from harness.cli.serving import add_commands as add_serving_commands
from harness.config.target import TargetError, embedded_target, load_target
from harness.core import interrupts, lasting, limits, resources, schemas
from harness.core.catalog import format_threshold, load_catalog
from harness.pytest import options

USAGE_ERROR = 2


def _unknown_switches(args: argparse.Namespace) -> str | None:
    """What is wrong with the run's --defect and --variation names, or None: each must be the reference system's."""
    if args.defect:
        from mocks.reference.defects import registry  # lazily: only the embedded default has defects

        unknown = sorted(set(args.defect) - set(registry()))
        if unknown:
            return f"Không có lỗi cố ý / unknown defect: {', '.join(unknown)} (xem / see `p111 defects`)"
    if args.variation:
        from mocks.reference.variations import registry as variations  # lazily, as for defects

        unknown = sorted(set(args.variation) - set(variations()))
        if unknown:
            return f"Không có biến thể / unknown variation: {', '.join(unknown)} (xem / see `p111 variations`)"
    return None


def _import_the_suites_modules(*, fuzzing: bool) -> None:
    """What the suite needs, imported before pytest starts, as the rest of the harness is: pytest rewrites the asserts
    of every module of a package with a pytest plugin imported after it starts (hypothesis, anyio, the harness), which
    where bytecode is not cached (PYTHONDONTWRITEBYTECODE) cost a second of every run's CPU; only the suite's own
    modules need their asserts rewritten. Here, not at the top: `p111 kpi` and the other light commands start
    without pytest (~0.3 s)."""
    import anyio.from_thread  # noqa: F401
    import hypothesis.stateful  # noqa: F401
    from hypothesis import configuration

    # hypothesis keeps caches in `.hypothesis/` of the current folder, which for `p111 run` is the user's own folder:
    # kept in the user's cache instead (the suite's settings keep no example database: runs are derandomised).
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    configuration.set_hypothesis_home_dir(cache / "p111" / "hypothesis")

    import harness.fuzz.fuzzer  # noqa: F401

    if fuzzing:  # its values come from hypothesis-jsonschema, which only `p111 fuzz` needs (harness.fuzz.generation)
        import hypothesis_jsonschema  # noqa: F401
    import harness.http.inprocess  # noqa: F401
    import harness.metrics.engine  # noqa: F401
    import harness.pytest.plugin  # noqa: F401

    # Importing hypothesis-jsonschema reads hypothesis's character map from its cache once, before pytest loads
    # hypothesis's plugin, which would then warn of "slow code in plugin" in every run's summary: it is on purpose.
    getattr(configuration, "notice_initialization_restarted", lambda **_: None)(warn=False)


def cmd_run(args: argparse.Namespace) -> int:
    with lasting.built_to_last():
        _import_the_suites_modules(fuzzing=getattr(args, "scope", None) == "robustness")
    import pytest

    from harness.http import recording
    from harness.reporting import report as reports

    if args.record or args.replay:
        try:  # before the run, not after it: a recording nobody can read is worth nothing
            recording.key_from_environment()
        except recording.RecordingError as exc:
            print(exc, file=sys.stderr)
            return USAGE_ERROR
    # The same validation as validate-config, before anything is sent. A replay sends nothing and uses the recorded
    # target; the plugin checks that a target file given as well is the recorded one.
    try:
        target = load_target(args.target) if args.target else embedded_target(year=args.year)
        target.with_changes(year=args.year, defects=args.defect or None)
    except TargetError as exc:
        if not args.replay:
            return print_problems(exc)
    unknown = _unknown_switches(args)
    if unknown:
        print(unknown, file=sys.stderr)
        return USAGE_ERROR
    directory = Path(args.report)
    suite = resources.suite_dir()
    pytest_args = [
        str(suite),
        "-c",
        str(suite / "pytest.ini"),
        "--rootdir",
        str(suite.parent),
        "-q",
        "--no-header",
        # No traceback reaches the user (they show the harness's source and fixture values): each check's Expected /
        # Received / Evidence is in the table and the reports. `p111 run -- --tb=long` brings them back for debugging.
        "--tb=no",
        "-p",
        "no:randomly",
        *options.pytest_arguments(args),  # each option of the table, as the plugin's (harness.pytest.options)
    ]
    pytest_args += args.pytest_args
    # SIGTERM (a cancelled CI job, a stopped container) ends the run as Ctrl-C does: pytest stops at the check it is
    # in, and the plugin still writes every report, marked incomplete. Only the first interrupt stops anything; any
    # more are counted (harness.core.interrupts), so that they cannot cut the report short.
    interrupts.reset()
    with interrupts.counting(raise_first=True):
        status = pytest.main(pytest_args)
    if status == pytest.ExitCode.INTERRUPTED or interrupts.count():
        print(f"Lần chạy bị ngắt; báo cáo chưa đầy đủ / interrupted; partial report in {directory}", file=sys.stderr)
        return USAGE_ERROR
    if status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return USAGE_ERROR
    report = json.loads((directory / reports.REPORT_FILE).read_text(encoding="utf-8"))
    return reports.exit_code(report)


def cmd_fuzz(args: argparse.Namespace) -> int:
    """`p111 run` for the robustness checks outside the plan (P111-ROBUST-INPUT): the same options and outputs."""
    args.scope = "robustness"
    return cmd_run(args)


def cmd_requirements(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    year = args.year or embedded_target().year
    print(f"Danh mục yêu cầu Kế hoạch 111/KH-UBND (phiên bản {catalog.version}) — năm {year}")
    for r in catalog:
        print(f"{r.id:<26} {r.kind:<9} {format_threshold(r.thresholds_for_year(year)):<34} {r.title_vi}")
    return 0


class _EveryVariableSet(Mapping[str, str]):
    """An environment in which every variable is set: for checking a target file where its secrets are not (a CI job
    that lints the file without them)."""

    def __getitem__(self, name: str) -> str:
        return "p111-not-checked"

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def cmd_validate_config(args: argparse.Namespace) -> int:
    try:
        target = load_target(args.file, _EveryVariableSet() if args.without_secrets else None)
    except TargetError as exc:
        return print_problems(exc)
    if args.without_secrets:
        print("Chưa kiểm tra các biến môi trường chứa bí mật / the secrets' environment variables were not checked")
    where = "embedded" if target.sut.embedded else target.sut.base_url
    print(
        f"Hợp lệ / valid: {target.name} — SUT {where}, năm / year {target.year}, "
        f"đồng bộ / sync {target.sync.transport}, chế độ / mode {target.safety_mode}"
    )
    return 0


def cmd_validate_message(args: argparse.Namespace) -> int:
    if args.kind not in schemas.MESSAGE_KINDS:
        print(
            f"Loại thông điệp không hỗ trợ / unknown kind {args.kind!r}; known: {', '.join(schemas.MESSAGE_KINDS)}",
            file=sys.stderr,
        )
        return USAGE_ERROR
    try:
        message = limits.load_json(args.file, "message")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"Không đọc được tệp / cannot read {args.file}: {exc}", file=sys.stderr)
        return USAGE_ERROR
    error, extra = schemas.validate_message(args.kind, message)
    for path in extra:
        print(f"Cảnh báo / warning: {path}: trường Cổng bỏ qua / field the portal ignores")
    if error is not None:
        print(f"Không hợp lệ / invalid ({schemas.MESSAGE_KINDS[args.kind]}): {schemas.describe(error)}")
        return 1
    print(f"Hợp lệ / valid: {schemas.MESSAGE_KINDS[args.kind]}")
    return 0


def cmd_defects(args: argparse.Namespace) -> int:
    from mocks.reference.defects import registry

    for defect in registry().values():
        print(f"{defect.name:<28} {', '.join(defect.requirements):<52} {defect.vi}")
    return 0


def cmd_variations(args: argparse.Namespace) -> int:
    """Each lawful variation, and the target settings that express it (what a vendor with that behaviour writes)."""
    from mocks.reference.variations import registry

    for variation in registry().values():
        print(f"{variation.name:<30} {variation.vi}")
        print(f"{'':<30} {variation.en}")
        setting = json.dumps(variation.target, ensure_ascii=False) if variation.target else "—"
        print(f"{'':<30} target: {setting}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="p111",
        description="Kiểm tra tuân thủ tích hợp theo Kế hoạch 111/KH-UBND / Plan 111 integration conformance harness",
    )
    sub = top.add_subparsers(dest="command", required=True)

    suites = (
        ("run", "chạy bộ kiểm tra / run the conformance suite", cmd_run, "p111-report"),
        (
            "fuzz",
            "kiểm tra độ bền đầu vào, ngoài Kế hoạch / schema-driven fuzzing of the SUT's inputs (outside the plan)",
            cmd_fuzz,
            "p111-fuzz-report",
        ),
    )
    for name, description, handler, default_report in suites:  # `fuzz` takes exactly the options of `run`
        run = sub.add_parser(name, help=description)
        options.add_command_options(run, defaults={"report": default_report}, types={"sign": signing_key})
        run.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: extra pytest arguments")
        run.set_defaults(handler=handler)

    requirements = sub.add_parser("requirements", help="danh mục yêu cầu / list the requirements")
    requirements.add_argument("--year", type=int)
    requirements.set_defaults(handler=cmd_requirements)

    config = sub.add_parser("validate-config", help="kiểm tra target.yaml / validate a target file")
    config.add_argument("file")
    config.add_argument(
        "--without-secrets", action="store_true",
        help="không đòi các biến môi trường chứa bí mật / do not require the secrets' environment variables",
    )
    config.set_defaults(handler=cmd_validate_config)

    message = sub.add_parser("validate-message", help="kiểm tra một thông điệp / validate a captured message")
    message.add_argument("kind", help="one of: " + ", ".join(schemas.MESSAGE_KINDS))
    message.add_argument("file")
    message.set_defaults(handler=cmd_validate_message)

    sub.add_parser("defects", help="danh sách lỗi cố ý / list reference defects").set_defaults(handler=cmd_defects)
    sub.add_parser(
        "variations", help="danh sách biến thể hợp lệ / list the reference system's lawful variations"
    ).set_defaults(handler=cmd_variations)

    add_serving_commands(sub)
    add_metric_commands(sub)
    add_report_commands(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:  # the `p111` process itself (not a caller in Python): its run's objects last as long as it
        lasting.own_the_process()
    # One handler for every command (harness.cli.guard): bad input and internal errors are one line and exit 2.
    return guarded(lambda: _dispatch(argv))


def _dispatch(argv: Sequence[str] | None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "pytest_args", None) and args.pytest_args[0] == "--":
        args.pytest_args = args.pytest_args[1:]
    if args.command in ("run", "fuzz"):  # pytest owns the terminal there; the plugin makes what it quotes inert
        try:
            return int(args.handler(args))
        finally:
            if argv is None:  # the `p111` process itself (not a caller in Python): it exits with the run's code
                interrupts.hold()
    with inert_output():
        return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
