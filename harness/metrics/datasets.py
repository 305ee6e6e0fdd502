"""Loading the metric data (synced dossiers, procedure catalog, agency registry, transaction log) with per-row checks.

Every file is NDJSON, a JSON array, CSV or Parquet; a path may also be a directory (every data file under it, e.g. a
partitioned export year=2025/province=H40/*.parquet) or a glob (harness.metrics.files). A row that breaks its kind's
schema becomes a BadRow (file, line, reason): counted and reported, never dropped silently. A file that is not what
it claims to be is refused with DatasetError. JSON arrays, CSV files and rows in memory are read and validated here,
row by row, against the full JSON Schema. NDJSON and Parquet files of dossiers or transactions (the large ones) are
left to the engine (harness.metrics.engine), which reads them directly and checks in SQL the fields the metrics read
and the required ones; it appends the bad rows it finds to the same list (`eager=True` validates them here in full
instead, slowly).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core import limits, schemas
from harness.core.inert import json_line
from harness.metrics.files import DatasetError, expand_paths

KINDS: dict[str, str] = {
    "dossiers": "portal/HoSoDongBoDVC",
    "procedures": "metrics/procedure",
    "agencies": "metrics/agency",
    "transactions": "metrics/transaction",
}
# The fields whose presence says what a record is; the first record of a file must carry its kind's.
_SIGNATURE: dict[str, frozenset[str]] = {
    "dossiers": frozenset({"MaHoSo", "TrangThaiHoSo"}),
    "procedures": frozenset({"MaTTHC"}),
    "agencies": frozenset({"code", "level"}),
    "transactions": frozenset({"id", "at", "action"}),
}
_NAME_HINTS: tuple[tuple[str, str], ...] = (
    ("transaction", "transactions"), ("giaodich", "transactions"), ("agenc", "agencies"), ("coquan", "agencies"),
    ("procedure", "procedures"), ("thutuc", "procedures"), ("dossier", "dossiers"), ("hoso", "dossiers"),
)
# List fields of a dossier arrive in CSV as JSON text in their cell.
_LIST_FIELDS = frozenset({
    "TaiLieuNop", "DanhSachLePhi", "DanhSachTepDinhKemKhac", "DanhSachHoSoBoSung", "DanhSachGiayToKetQua",
    "DinhDanhCHS", "DSKetNoiCSDL",
})
_BOOLEAN_FIELDS = frozenset({"fee_bearing", "eligible_online"})
MAX_REASON = 200


@dataclass(frozen=True)
class BadRow:
    file: str
    line: int  # 1-based line of the file (NDJSON, CSV) or 1-based element of a JSON array
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class Source:
    """One input of one kind: a file (format ndjson/json/csv/parquet) or rows given in memory (format rows)."""

    kind: str
    format: str
    path: Path | None = None
    rows: list[dict[str, Any]] | None = None  # the valid rows, when loaded; None: the engine reads `path` itself

    @property
    def name(self) -> str:
        return str(self.path) if self.path is not None else f"<{self.kind} rows>"

    @property
    def loaded(self) -> bool:
        return self.rows is not None


@dataclass
class Datasets:
    dossiers: list[Source] = field(default_factory=list)
    procedures: list[Source] = field(default_factory=list)
    agencies: list[Source] = field(default_factory=list)
    transactions: list[Source] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    unread: list[Path] = field(default_factory=list)  # files in a directory given that are no data file (named so)

    def sources(self, kind: str) -> list[Source]:
        if kind not in KINDS:
            raise KeyError(f"unknown data kind {kind!r}; known: {', '.join(KINDS)}")
        sources: list[Source] = getattr(self, kind)
        return sources

    def has(self, kind: str) -> bool:
        return bool(self.sources(kind))

    def rows(self, kind: str) -> Iterator[dict[str, Any]]:
        """Every valid row of a kind, loading (and validating) deferred files on the way; for small data and tests."""
        for source in self.sources(kind):
            if source.rows is None:
                assert source.path is not None
                source.rows = _load_rows(source.path, kind, source.format, self.bad_rows)
            yield from source.rows

    def bad_row_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for bad in self.bad_rows:
            counts[bad.file] = counts.get(bad.file, 0) + 1
        return counts


# ----------------------------------------------------------------------------------------------------------- public


def load_rows(
    *,
    dossiers: Sequence[Mapping[str, Any]] | None = None,
    procedures: Sequence[Mapping[str, Any]] | None = None,
    agencies: Sequence[Mapping[str, Any]] | None = None,
    transactions: Sequence[Mapping[str, Any]] | None = None,
    label: str = "rows",
) -> Datasets:
    """Datasets from rows in memory (what the SUT's export or the portal counterpart returned), validated alike.

    None: that kind of data is not given (its metrics are NOT-TESTED); an empty list: given, and empty."""
    datasets = Datasets()
    for kind, rows in (
        ("dossiers", dossiers), ("procedures", procedures), ("agencies", agencies), ("transactions", transactions)
    ):
        if rows is None:
            continue
        name = f"<{label}:{kind}>"
        valid = [row for row in (_check(kind, row, name, index, datasets.bad_rows)
                                 for index, row in enumerate(rows, start=1)) if row is not None]
        datasets.sources(kind).append(Source(kind=kind, format="rows", rows=valid))
    return datasets


def load_datasets(
    paths: Sequence[Path], *, kinds: Mapping[Path, str] | None = None, eager: bool | None = None
) -> Datasets:
    """Read each file as its kind (given in `kinds`, else guessed from its name, else from its first record).

    `eager`: True loads and validates every row now against the full schema; otherwise (default) NDJSON dossiers
    and transactions are left to the engine, which reads them directly and checks the fields the metrics read.
    """
    datasets = Datasets()
    given = {Path(p): k for p, k in (kinds or {}).items()}
    for path in expand_paths(paths, datasets.unread):
        if not path.is_file():
            raise DatasetError(f"{path}: không có tệp / no such file")
        limits.check_size(path, "export")
        file_format = detect_format(path)
        claimed = given.get(path)
        if claimed is not None and claimed not in KINDS:
            raise DatasetError(f"{path}: unknown data kind {claimed!r}; known: {', '.join(KINDS)}")
        first = _first_record(path, file_format)
        kind = claimed or _kind_from_name(path) or _kind_from_record(first)
        if kind is None:
            raise DatasetError(
                f"{path}: không nhận ra loại dữ liệu / cannot tell what data this is; name the kind "
                f"({', '.join(KINDS)}) explicitly"
            )
        _check_claim(path, kind, first)
        source = Source(kind=kind, format=file_format, path=path)
        deferrable = kind in ("dossiers", "transactions") and file_format in ("ndjson", "parquet")
        if eager or not deferrable:
            source.rows = _load_rows(path, kind, file_format, datasets.bad_rows)
        datasets.sources(kind).append(source)
    return datasets


def detect_format(path: Path) -> str:
    suffixes = "".join(path.suffixes).lower()
    if suffixes.endswith((".ndjson", ".jsonl")):
        return "ndjson"
    if suffixes.endswith(".csv"):
        return "csv"
    if suffixes.endswith(".parquet"):
        return "parquet"
    if suffixes.endswith(".json"):
        head = _head(path)
        return "json" if head.lstrip().startswith("[") else "ndjson"
    raise DatasetError(f"{path}: expected a .ndjson/.jsonl, .json (array), .csv or .parquet file")


# ---------------------------------------------------------------------------------------------------------- reading


def _head(path: Path, size: int = 4096) -> str:
    with path.open("rb") as handle:
        return handle.read(size).decode("utf-8", errors="replace")


def _first_record(path: Path, file_format: str) -> Any:
    """The first record, to tell (or confirm) the kind; None when the file holds no record. Of a Parquet file, its
    columns: they name the fields of every record, and reading them costs only the file's footer."""
    try:
        if file_format == "ndjson":
            with path.open(encoding="utf-8-sig") as handle:  # a byte-order mark is ignored, as DuckDB ignores it
                for line in handle:
                    if line.strip():
                        try:
                            return json.loads(line)
                        except ValueError:
                            return None  # a bad first line is a bad row, reported by the loader
            return None
        if file_format == "csv":
            with path.open(encoding="utf-8-sig", newline="") as handle:
                return next(csv.DictReader(handle), None)
        if file_format == "parquet":
            return dict.fromkeys(_parquet_column_names(path))
        document = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text: {exc}") from exc
    except ValueError as exc:
        raise DatasetError(f"{path}: expected a JSON array of records: not valid JSON: {exc}") from exc
    if not isinstance(document, list):
        raise DatasetError(f"{path}: expected a JSON array of records, found a JSON {type(document).__name__}")
    return document[0] if document else None


def _kind_from_name(path: Path) -> str | None:
    name = path.name.lower().replace("_", "").replace("-", "")
    return next((kind for hint, kind in _NAME_HINTS if hint in name), None)


def _kind_from_record(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    for kind in ("dossiers", "transactions", "agencies", "procedures"):  # dossiers carry MaTTHC too: test them first
        if _SIGNATURE[kind] <= record.keys():
            return kind
    return None


def _check_claim(path: Path, kind: str, first: Any) -> None:
    if first is None:
        return
    if not isinstance(first, dict) or not _SIGNATURE[kind] <= first.keys():
        found = sorted(first)[:8] if isinstance(first, dict) else type(first).__name__
        actual = _kind_from_record(first)
        also = f"; it looks like {actual}" if actual and actual != kind else ""
        raise DatasetError(
            f"{path}: không phải dữ liệu {kind} / not a {kind} file: its "
            f"{'columns are' if detect_format(path) == 'parquet' else 'first record has'} {found}, expected the "
            f"fields {sorted(_SIGNATURE[kind])} ({KINDS[kind]}){also}"
        )


def _load_rows(path: Path, kind: str, file_format: str, bad_rows: list[BadRow]) -> list[dict[str, Any]]:
    name = str(path)
    valid: list[dict[str, Any]] = []
    for line, record, problem in _records(path, file_format, kind):
        if problem is not None:
            bad_rows.append(BadRow(name, line, problem))
            continue
        checked = _check(kind, record, name, line, bad_rows)
        if checked is not None:
            valid.append(checked)
    return valid


def _records(path: Path, file_format: str, kind: str) -> Iterator[tuple[int, Any, str | None]]:
    try:
        if file_format == "ndjson":
            with path.open(encoding="utf-8-sig") as handle:  # a byte-order mark is ignored, as DuckDB ignores it
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue  # blank lines are not records
                    try:
                        record = json.loads(line)
                        if _SURROGATE_ESCAPE.search(line) and _holds_lone_surrogate(record):
                            yield number, None, "a \\ud800–\\udfff escape standing alone: no character, no UTF-8 text"
                        else:
                            yield number, record, None
                    except RecursionError:
                        yield number, None, "not valid JSON: nested too deeply"
                    except ValueError as exc:
                        yield number, None, f"not valid JSON: {exc}"
        elif file_format == "json":
            document = json.loads(path.read_text(encoding="utf-8"))
            for number, record in enumerate(document, start=1):
                yield number, record, None
        elif file_format == "parquet":
            for number, record in enumerate(_parquet_records(path), start=1):
                yield number, record, None  # a Parquet file's "line" is its row number
        else:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                for record in reader:
                    # The header is line 1; a record's line is where it ends (quoted cells may span lines).
                    converted, problem = _from_csv(kind, record)
                    yield reader.line_num, converted, problem
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text: {exc}") from exc
    except (OSError, ValueError, csv.Error) as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from exc


# JSON text may escape a lone surrogate (`\ud800`), which decodes to no character: a row holding one is bad, since
# neither DuckDB nor any UTF-8 output can take it.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _holds_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, list):
        return any(_holds_lone_surrogate(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_lone_surrogate(k) or _holds_lone_surrogate(v) for k, v in value.items())
    return False


def _parquet_column_names(path: Path) -> list[str]:
    import duckdb

    with duckdb.connect() as con:
        try:
            described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
        except duckdb.Error as exc:
            raise DatasetError(f"{path}: not a readable Parquet file: {str(exc).splitlines()[0]}") from exc
    return [str(column[0]) for column in described]


def _parquet_records(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of a Parquet file as dicts (nested lists and structs as lists and dicts), in batches, read by DuckDB."""
    import duckdb

    con = duckdb.connect()
    try:
        try:
            cursor = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
        except duckdb.Error as exc:
            raise DatasetError(f"{path}: not a readable Parquet file: {str(exc).splitlines()[0]}") from exc
        names = [column[0] for column in cursor.description]
        # A column of DuckDB's JSON type holds JSON text: its value is what the text says, as the engine reads it.
        texts = {column[0] for column in cursor.description if str(column[1]) == "JSON"}
        while batch := cursor.fetchmany(10_000):
            for values in batch:
                yield {name: json.loads(value) if name in texts and isinstance(value, str) else value
                       for name, value in zip(names, values, strict=True) if value is not None}
    finally:
        con.close()


def _from_csv(kind: str, record: dict[str | None, Any]) -> tuple[dict[str, Any] | None, str | None]:
    if None in record:
        return None, "more cells than the header has columns"
    out: dict[str, Any] = {}
    for key, value in record.items():
        assert key is not None
        if value is None:
            return None, "fewer cells than the header has columns"
        if value == "":
            out[key] = None
        elif kind == "dossiers" and key in _LIST_FIELDS:
            try:
                out[key] = json.loads(value)
            except ValueError:
                return None, f"$.{key}: expected a JSON list in the cell, got {value[:40]!r}"
        elif kind == "procedures" and key in _BOOLEAN_FIELDS:
            lowered = value.strip().lower()
            if lowered not in ("true", "false", "1", "0"):
                return None, f"$.{key}: expected true/false (or 1/0), got {value[:40]!r}"
            out[key] = lowered in ("true", "1")
        else:
            out[key] = value
    return out, None


def _check(kind: str, record: Any, name: str, line: int, bad_rows: list[BadRow]) -> dict[str, Any] | None:
    error = schemas.first_error(KINDS[kind], record)
    if error is None:
        return dict(record)
    reason = schemas.describe(error)
    bad_rows.append(BadRow(name, line, reason[:MAX_REASON]))
    return None


def to_ndjson(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as NDJSON text, one compact record a line (what the engine reads for rows held in memory)."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write(json_line(row, separators=(",", ":")))  # U+2028 & co escaped: a line reader splits it right
        buffer.write("\n")
    return buffer.getvalue()
