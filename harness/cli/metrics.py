"""The metric commands of `p111`: `kpi` (Plan 111 targets from data), `score766` (the portal's scoring), `synth`."""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.core import limits
from harness.core.precedence import Verdict

OK, FAILED, USAGE = 0, 1, 2
COMMANDS = ("kpi", "score766", "synth")  # the commands added here (harness.cli.entry starts them on their own)
_LEVEL = {"all": ("toàn tỉnh", "all"), "province": ("tỉnh", "province"), "district": ("huyện", "district"),
          "commune": ("xã", "commune")}


def add_commands(subparsers: Any) -> None:
    kpi = subparsers.add_parser(
        "kpi", help="đo các chỉ tiêu của Kế hoạch 111 từ dữ liệu / measure the Plan 111 targets"
    )
    kpi.add_argument("--data", nargs="+", required=True, type=Path, metavar="FILE",
                     help="hồ sơ, danh mục TTHC, cơ quan, giao dịch (NDJSON, JSON, CSV, Parquet); thư mục hoặc mẫu "
                          "glob như 'year=2025/*/*.parquet' / data files, directories or glob patterns")
    kpi.add_argument("--year", type=int, required=True, help="năm đánh giá / evaluation year")
    kpi.add_argument("--lang", choices=("vi", "en"), default="vi")
    kpi.add_argument("--json", action="store_true", help="kết quả dạng JSON / machine output")
    kpi.add_argument("--output", type=Path, help="ghi kết quả (JSON) vào tệp / write the results to a JSON file")
    kpi.add_argument("--engine", choices=("duckdb", "oracle"), default="duckdb", help=argparse.SUPPRESS)
    kpi.set_defaults(handler=_quiet_when_the_reader_leaves(cmd_kpi))

    score = subparsers.add_parser("score766", help="tính lại điểm QĐ 766 từ phản hồi của Cổng / recompute 766 points")
    score.add_argument("file", type=Path, help="phản hồi JSON của Cổng / a reply of the portal's reporting API")
    score.add_argument("--group", help="nhóm chỉ số nếu không tự nhận ra / the 766 group, when it cannot be guessed")
    score.add_argument("--json", action="store_true")
    score.set_defaults(handler=_quiet_when_the_reader_leaves(cmd_score766))

    synth = subparsers.add_parser("synth", help="sinh lịch sử hồ sơ tổng hợp / write a synthetic dossier history")
    synth.add_argument("--dossiers", type=int, required=True)
    synth.add_argument("--year", type=int, required=True)
    synth.add_argument("--seed", type=int, default=111)
    synth.add_argument("--output", type=Path, default=Path("history"),
                       help="tệp hồ sơ; không có đuôi thì thêm đuôi của --format (mặc định history.ndjson) / the "
                            "dossier file; without an extension, --format's is added (default history.ndjson)")
    synth.add_argument("--format", choices=("ndjson", "parquet"), default="ndjson",
                       help="hồ sơ và giao dịch dạng NDJSON hay Parquet / dossiers and transactions as NDJSON or "
                            "Parquet")
    synth.add_argument("--set", action="append", default=[], metavar="KEY=PERCENT",
                       help="đặt tỷ lệ đúng, ví dụ digitisation@commune=54 / set an exact target ratio")
    synth.set_defaults(handler=cmd_synth)


def _quiet_when_the_reader_leaves(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """`p111 score766 … | head`: the reader closing the pipe ends the command quietly, not in a traceback."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            code = handler(args)
            sys.stdout.flush()
            return code
        except BrokenPipeError:
            # Python flushes stdout again at exit; point it at devnull so that flush cannot fail too.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return OK

    return run


def _error(message: str) -> int:
    print(message, file=sys.stderr)
    return USAGE


def cmd_kpi(args: argparse.Namespace) -> int:
    from harness.metrics import DatasetError, load_datasets, measure, requirement_verdicts, score766
    from harness.metrics.definitions import load_definitions
    from harness.metrics.results import build_results

    try:
        datasets = load_datasets(args.data)
        measurements = measure(datasets, year=args.year, engine=args.engine)
    except DatasetError as exc:
        return _error(f"Dữ liệu không hợp lệ / bad input: {exc}")
    results = build_results(measurements)
    en = args.lang == "en"
    document = {
        "year": args.year,
        "results": [r.as_dict() for r in results],
        "bad_rows": [{"file": b.file, "line": b.line, "reason": b.reason} for b in datasets.bad_rows],
        "bad_row_counts": datasets.bad_row_counts(),
        "unread_files": [str(path) for path in datasets.unread],
        # QĐ 766 from the same tallies (per department, level and the province; partial: dossier data only)
        "score766": [score.as_dict() for score in score766.score_dossiers(measurements)],
    }
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        definitions = load_definitions()
        header = ("requirement", "level", "reading", "num", "den", "ratio", "threshold", "verdict") if en else (
            "yêu cầu", "cấp", "cách hiểu", "tử số", "mẫu số", "tỷ lệ", "ngưỡng", "kết quả")
        print(f"{header[0]:<26} {header[1]:<10} {header[2]:<14} {header[3]:>9} {header[4]:>9} {header[5]:>8} "
              f"{header[6]:>7}  {header[7]}")
        for r in results:
            level = _LEVEL[r.level][1 if en else 0]
            ratio = "—" if r.ratio is None else f"{r.ratio:.2f}%"
            threshold = "—" if r.threshold is None else f"{r.threshold:g}%"
            verdict = str(r.verdict) if en else r.verdict.vi
            mark = "" if r.decides else (" (reported only)" if en else " (chỉ báo cáo)")
            print(f"{r.requirement:<26} {level:<10} {r.reading or '':<14} {r.numerator:>9} {r.denominator:>9} "
                  f"{ratio:>8} {threshold:>7}  {verdict}{mark}")
            if r.sample and r.verdict == Verdict.FAILED:
                words = definitions[r.definition].against.text(args.lang)
                print(f"{'':<26} {words}: {', '.join(r.sample)}")
        if datasets.bad_rows:
            print(f"\n{'Bad rows' if en else 'Dòng không hợp lệ'}: {len(datasets.bad_rows)}")
            for bad in datasets.bad_rows[:20]:
                print(f"  {bad}")
    if datasets.unread:  # on stderr too under --json: the figures leave these files out
        print(f"\nTệp không được đọc (không phải .ndjson, .jsonl, .json, .csv, .parquet) / files not read "
              f"(not a data file by name): {len(datasets.unread)}", file=sys.stderr)
        for path in datasets.unread[:20]:
            print(f"  {path}", file=sys.stderr)  # made inert by the command's output streams (cli.guard)
    verdicts = requirement_verdicts(results)
    return FAILED if Verdict.FAILED in verdicts.values() else OK


def cmd_score766(args: argparse.Namespace) -> int:
    from harness.metrics import score766

    try:
        document = limits.load_json(args.file, "reply")
        reply = score766.read_reply(document, group=args.group)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return _error(f"Không đọc được / cannot read {args.file}: {exc}")
    except (score766.ReplyError, KeyError) as exc:
        return _error(f"Không phải phản hồi 766 / not a 766 reply: {args.file}: {exc}")
    rows = reply.rows
    if args.json:
        print(json.dumps({"group": reply.group.key, "shape": reply.shape, "rows": [r.as_dict() for r in rows]},
                         ensure_ascii=False, indent=2))
        return OK
    print(f"{reply.group.vi} ({reply.group.key}), tối đa / max {reply.group.max}")
    # Some groups give a row only its departmentId: both columns, so every row can be joined back.
    print(f"{'mã / code':<12} {'departmentId':<36} {'tính / computed':>15} {'Cổng / portal':>14} {'lệch / delta':>12}"
          "  đơn vị / department")
    for r in rows:
        portal = "—" if r.portal is None else f"{r.portal:.2f}"
        delta = "—" if r.delta is None else f"{r.delta:+.2f}"
        print(f"{r.department_code or '—':<12} {r.department_id or '—':<36} {r.computed:>15.2f} {portal:>14} "
              f"{delta:>12}  {r.department_name or ''}")
    worst = max((abs(r.delta) for r in rows if r.delta is not None), default=None)
    exact = sum(1 for r in rows if r.delta == 0)
    print(f"\n{len(rows)} dòng / rows; khớp đúng / exact: {exact}; lệch lớn nhất / largest difference: {worst}")
    return OK


def cmd_synth(args: argparse.Namespace) -> int:
    from harness.metrics import synth

    overrides: dict[str, float] = {}
    for item in args.set:
        key, _, value = item.partition("=")
        try:
            overrides[key] = float(value)
        except ValueError:
            return _error(f"--set expects KEY=PERCENT, got {item!r}")
    if args.dossiers < 1:
        return _error("--dossiers must be at least 1")
    try:
        output = synth.history_path(args.output, args.format)
        if args.format == "parquet":  # written as NDJSON first, then rewritten beside it
            output = output.with_suffix(".ndjson")
        summary = synth.write_history(output, dossiers=args.dossiers, year=args.year, seed=args.seed,
                                      overrides=overrides, progress=args.dossiers >= 100_000)
        if args.format == "parquet":
            summary = synth.to_parquet(summary)
    except synth.SynthError as exc:
        return _error(f"Không tạo được / cannot synthesise: {exc}")
    print("Đã ghi / written: " + ", ".join(str(p) for p in summary.paths()))
    for (definition, level), ratio in sorted(summary.ratios.items()):
        n, d = summary.counts[(definition, level)]
        shown = "—" if ratio is None else f"{float(ratio):.2f}%"
        print(f"  {definition:<36} {level:<9} {n:>9}/{d:<9} {shown}")
    return OK
