"""The fast path: DuckDB reads the dossier and transaction files (NDJSON or Parquet) directly and aggregates every tally
in one pass each.

Each NDJSON file is read once, straight into a small table of group totals (per agency × procedure × year for the
dossiers, per year × transferred dossier for the transactions), by the rules of data/metrics.yaml written in SQL (the
same rules harness.metrics.oracle writes in Python). No per-row table exists, so memory stays nearly flat as the files
grow; each group also keeps the few smallest codes counting against a figure, enough for every sample. Every tally and
per-agency count is then a query over those totals. Rows that break the schema on a field the metrics read (or a
required field) land in one group of their own; only when it is not empty does a second, narrow scan name their lines.
A file DuckDB cannot parse falls back to the row-by-row loader, which names each bad line. A Parquet file brings its
own column types: each column the metrics read is brought to the type the NDJSON reader declares (`_parquet_columns`),
so both formats go through the same SQL.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from harness.core.catalog import LEVELS
from harness.metrics import oracle
from harness.metrics.datasets import BadRow, DatasetError, Datasets, Source, _load_rows, to_ndjson
from harness.metrics.results import ALL, SAMPLE_SIZE, AgencyCounts, Measurements, Tally, level_map

DOSSIER_COLUMNS = {
    "MaHoSo": "VARCHAR", "MaTTHC": "VARCHAR", "TenTTHC": "VARCHAR", "ChuHoSo": "VARCHAR",
    "KenhThucHien": "VARCHAR", "TrangThaiHoSo": "VARCHAR", "NgayTiepNhan": "VARCHAR", "NgayHenTra": "VARCHAR",
    "NgayKetThucXuLy": "VARCHAR", "DuocThanhToanTrucTuyen": "VARCHAR", "HoSoCoThanhPhanSoHoa": "VARCHAR",
    "DanhSachLePhi": "STRUCT(Gia JSON)[]",
    "DanhSachGiayToKetQua": "STRUCT(DuongDanTepTinKetQua VARCHAR)[]",
    "TaiLieuNop": "STRUCT(DuocTaiSuDung VARCHAR)[]",
    "DanhSachHoSoBoSung": "JSON[]",
    "DSKetNoiCSDL": "JSON[]",
}
TRANSACTION_COLUMNS = {
    "id": "VARCHAR", "at": "VARCHAR", "action": "VARCHAR", "MaHoSo": "VARCHAR", "subject": "VARCHAR",
    "assurance": "VARCHAR", "transfer_method": "VARCHAR",
}
_DOSSIER_CODE = r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}-[0-9]{6}-[0-9]{4,5}"
_PROCEDURE_CODE = r"[12]\.[0-9]{6}(\.[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2})?"
_PLAIN_NUMBER = r"[+-]?[0-9]+(\.[0-9]+)?"


def _t(expression: str) -> str:
    """text(): the field with spaces trimmed, '' for null (oracle.text). trim(x, ' ') costs more than all the rest
    of a row's facts together, so it runs only on a value that starts or ends with a space (hardly any)."""
    return (f"coalesce(CASE WHEN starts_with({expression}, ' ') OR ends_with({expression}, ' ') "
            f"THEN trim({expression}, ' ') ELSE {expression} END, '')")


def _bad_date(column: str) -> str:
    return f"({column} <> '' AND try_strptime({column}, '%Y%m%d%H%M%S') IS NULL)"


# The schema's constraints on the fields the metrics read, and on the required fields; first broken one wins.
_DOSSIER_BAD = f"""CASE
  WHEN MaHoSo IS NULL THEN '$: ''MaHoSo'' is a required property'
  WHEN NOT regexp_full_match(MaHoSo, '{_DOSSIER_CODE}')
       OR try_strptime(split_part(MaHoSo, '-', 2), '%y%m%d') IS NULL THEN '$.MaHoSo: not a p111-dossier-code'
  WHEN MaTTHC IS NULL THEN '$: ''MaTTHC'' is a required property'
  WHEN NOT regexp_full_match(MaTTHC, '{_PROCEDURE_CODE}') THEN '$.MaTTHC: not a p111-procedure-code'
  WHEN TenTTHC IS NULL THEN '$: ''TenTTHC'' is a required property'
  WHEN TenTTHC = '' THEN '$.TenTTHC: should be non-empty'
  WHEN ChuHoSo IS NULL THEN '$: ''ChuHoSo'' is a required property'
  WHEN ChuHoSo = '' THEN '$.ChuHoSo: should be non-empty'
  WHEN TrangThaiHoSo IS NULL THEN '$: ''TrangThaiHoSo'' is a required property'
  WHEN TrangThaiHoSo NOT IN ('1','2','3','4','5','6','7','8','9','10') THEN '$.TrangThaiHoSo: not a status 1–10'
  WHEN KenhThucHien NOT IN ('1','2','3','') THEN '$.KenhThucHien: not one of 1, 2, 3'
  WHEN {_bad_date('NgayTiepNhan')} THEN '$.NgayTiepNhan: not a p111-datetime'
  WHEN {_bad_date('NgayHenTra')} THEN '$.NgayHenTra: not a p111-datetime'
  WHEN {_bad_date('NgayKetThucXuLy')} THEN '$.NgayKetThucXuLy: not a p111-datetime'
  WHEN HoSoCoThanhPhanSoHoa NOT IN ('0','1','') THEN '$.HoSoCoThanhPhanSoHoa: not one of 0, 1'
END"""

_FEE_POSITIVE = f"""CASE json_type(f.Gia)
  WHEN 'VARCHAR' THEN coalesce(regexp_full_match({_t("(f.Gia->>'$')")}, '{_PLAIN_NUMBER}')
                               AND try_cast({_t("(f.Gia->>'$')")} AS DOUBLE) > 0, false)
  WHEN 'BIGINT' THEN CAST(f.Gia AS DOUBLE) > 0
  WHEN 'UBIGINT' THEN CAST(f.Gia AS DOUBLE) > 0
  WHEN 'DOUBLE' THEN CAST(f.Gia AS DOUBLE) > 0
  ELSE false END"""

# Per-row facts of a dossier (oracle: dossier_year, agency_of, national_code, fee_bearing, paid_online, …).
_DOSSIER_FACTS = f"""
  MaHoSo AS code,
  split_part(MaHoSo, '-', 1) AS agency,
  left(MaTTHC, 8) AS proc,
  CASE WHEN length(NgayTiepNhan) = 14 THEN try_cast(left(NgayTiepNhan, 4) AS INTEGER)
       ELSE 2000 + try_cast(left(split_part(MaHoSo, '-', 2), 2) AS INTEGER) END AS year,
  {_t('KenhThucHien')} = '2' AS online,
  coalesce(list_bool_or(list_transform(DanhSachLePhi, lambda f: {_FEE_POSITIVE})), false) AS fee,
  {_t('DuocThanhToanTrucTuyen')} IN ('1', '2') AS paid,
  {_t('TrangThaiHoSo')} IN ('9', '10') AND coalesce(len(DanhSachGiayToKetQua), 0) > 0 AS fwr,
  coalesce(list_bool_and(list_transform(DanhSachGiayToKetQua,
           lambda r: {_t('r.DuongDanTepTinKetQua')} <> '')), true) AS digitised,
  {_t('TrangThaiHoSo')} IN ('9', '10') AND length({_t('NgayKetThucXuLy')}) = 14
      AND length({_t('NgayHenTra')}) = 14 AS dated,
  {_t('NgayKetThucXuLy')} <= {_t('NgayHenTra')} AND coalesce(len(DanhSachHoSoBoSung), 0) <= 1 AS timely,
  {_t('HoSoCoThanhPhanSoHoa')} = '1' AS component,
  coalesce(list_bool_or(list_transform(TaiLieuNop,
           lambda s: {_t('s.DuocTaiSuDung')} IN ('1', 'true', 'True'))), false) AS reused,
  coalesce(len(DSKetNoiCSDL), 0) > 0 AS population
"""

_TRANSACTION_BAD = f"""CASE
  WHEN id IS NULL THEN '$: ''id'' is a required property'
  WHEN id = '' THEN '$.id: should be non-empty'
  WHEN "at" IS NULL THEN '$: ''at'' is a required property'
  WHEN NOT regexp_full_match("at", '[0-9]{{14}}') OR try_strptime("at", '%Y%m%d%H%M%S') IS NULL
       THEN '$.at: not a p111-datetime'
  WHEN action IS NULL THEN '$: ''action'' is a required property'
  WHEN action NOT IN ('create','update','status','transfer','payment','result') THEN '$.action: not a known action'
  WHEN MaHoSo IS NOT NULL AND NOT regexp_full_match(MaHoSo, '{_DOSSIER_CODE}')
       THEN '$.MaHoSo: not a p111-dossier-code'
  WHEN action = 'transfer' AND MaHoSo IS NULL THEN '$: ''MaHoSo'' is a required property'
  WHEN action = 'transfer' AND coalesce(transfer_method, '') NOT IN ('electronic', 'paper')
       THEN '$.transfer_method: expected electronic or paper'
END"""


_AUTHENTICATED = f"({_t('subject')} <> '' AND {_t('assurance')} <> '')"
# Per-row facts of a transaction (oracle._transactions).
_TRANSACTION_FACTS = f"""
  left("at", 4) AS year,
  id,
  {_AUTHENTICATED} AS authenticated,
  CASE WHEN action = 'transfer' THEN MaHoSo END AS code,
  action = 'transfer' AND transfer_method <> 'electronic' AS on_paper
"""


@dataclass(frozen=True)
class Grouping:
    """How one kind's per-row facts fold into group totals: the group keys and the aggregates kept per group."""

    facts: str
    bad: str
    keys: tuple[str, ...]
    aggregates: Mapping[str, str]  # column -> SQL aggregate over the facts


def _counts(predicates: Mapping[str, str]) -> dict[str, str]:
    return {name: f"count_if({predicate})" for name, predicate in predicates.items()}


def _samples(predicates: Mapping[str, str]) -> dict[str, str]:
    """The SAMPLE_SIZE smallest codes of the group's rows matching each predicate (NULL when none): merged across
    groups and sources, they still hold the SAMPLE_SIZE smallest codes counting against a figure."""
    return {name: f"min(code, {SAMPLE_SIZE}) FILTER (WHERE {predicate})" for name, predicate in predicates.items()}


# The per-agency counts (AgencyCounts) of a group; their names are AgencyCounts' own.
_DOSSIER_COUNTS = {
    "received": "true", "online": "online", "finished_dated": "dated", "on_time": "dated AND timely",
    "fee_dossiers": "fee", "fee_paid_online": "fee AND paid", "finished_with_result": "fwr",
    "digitised_results": "fwr AND digitised", "digitised_components": "component", "reused": "reused",
    "population_data": "population",
}
DOSSIERS = Grouping(
    facts=_DOSSIER_FACTS, bad=_DOSSIER_BAD, keys=("agency", "proc", "year"),
    aggregates={
        **_counts(_DOSSIER_COUNTS),
        # Against the online share: every dossier of a procedure the catalog lists as not online, else the offline ones.
        **_samples({"sample_all": "true", "sample_offline": "NOT online", "sample_unpaid": "fee AND NOT paid",
                    "sample_undigitised": "fwr AND NOT digitised"}),
    },
)
# Transactions group by year and transferred dossier (NULL for the other actions): the transfer share counts dossiers.
TRANSACTIONS = Grouping(
    facts=_TRANSACTION_FACTS, bad=_TRANSACTION_BAD, keys=("year", "code"),
    aggregates={
        "records": "count(*)", "authenticated": "count_if(authenticated)", "on_paper": "bool_or(on_paper)",
        "sample_unauthenticated": f"min(id, {SAMPLE_SIZE}) FILTER (WHERE NOT authenticated)",
    },
)
# The rows counted (valid, of every year) per kind: a column of its group totals.
_RECORDS = {"dossiers": "received", "transactions": "records"}
# DuckDB may use this much memory and spills to the scratch directory beyond it: the groups of transferred dossiers
# grow with the log (about 500 MB for 10^7 dossiers), everything else stays small; under 1 GiB in all.
MEMORY_LIMIT = "512MB"


def _struct(columns: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


@contextmanager
def _workspace() -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    with tempfile.TemporaryDirectory(prefix="p111-metrics-") as directory:
        con = duckdb.connect(config={
            "threads": max(1, os.cpu_count() or 1),
            # Aggregating needs no order (keeping it costs time and memory); the bad-row scan turns it on for itself.
            "preserve_insertion_order": False,
            "memory_limit": MEMORY_LIMIT,
            "temp_directory": str(Path(directory) / "spill"),
        })
        try:
            yield con, Path(directory)
        finally:
            con.close()


def measure(datasets: Datasets, *, year: int, levels: Mapping[str, str] | None = None) -> Measurements:
    """Every tally of `year` (see oracle.measure, which must give equal Measurements)."""
    registry = dict(levels) if levels is not None else level_map(datasets.rows("agencies"))
    have_registry = levels is not None or datasets.has("agencies")
    procedures = list(datasets.rows("procedures"))
    result = Measurements(year=year, levels=registry)
    oracle._missing(result, datasets, have_registry)
    with _workspace() as (con, scratch):
        dossier_rows = _load_kind(con, scratch, datasets, "dossiers", DOSSIER_COLUMNS, DOSSIERS)
        transaction_rows = _load_kind(con, scratch, datasets, "transactions", TRANSACTION_COLUMNS, TRANSACTIONS)
        result.rows_read = {"dossiers": dossier_rows or 0, "procedures": len(procedures),
                            "transactions": transaction_rows or 0, "agencies": len(registry)}
        _register_catalog(con, procedures)
        _register_levels(con, registry)
        if dossier_rows is not None:
            _dossier_tallies(con, result, year, have_registry)
        if transaction_rows is not None:
            _transaction_tallies(con, result, year)
    oracle._procedures(result, procedures, year)  # the catalog is small: the oracle's loop is the engine's too
    oracle.tallies_for_all_levels(result)
    return result


# -------------------------------------------------------------------------------------------------------- loading


def _load_kind(
    con: duckdb.DuckDBPyConnection, scratch: Path, datasets: Datasets, kind: str, columns: Mapping[str, str],
    grouping: Grouping,
) -> int | None:
    """Fold every source of `kind` into table `kind` of group totals, one scan each (column `good`: false for the
    one group of the source's bad rows); the valid rows read, or None when there is no source. Line numbers are looked
    up only when a source has bad rows."""
    sources = datasets.sources(kind)
    if not sources:
        return None
    for index, source in enumerate(sources):
        path, checked = _path_of(scratch, source, index)
        try:
            _aggregate(con, kind, path, columns, grouping, index)
        except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
            if _is_parquet(path):
                raise DatasetError(f"{path}: cannot read this Parquet file: {str(exc).splitlines()[0]}") from exc
            # DuckDB cannot parse the file (a broken line, a wrong type): the row-by-row loader names each bad line.
            rows = _load_rows(path, kind, "ndjson", datasets.bad_rows)
            path = scratch / f"{kind}-{index}-checked.ndjson"
            path.write_text(to_ndjson(rows), encoding="utf-8")
            checked = True
            _aggregate(con, kind, path, columns, grouping, index)
        if not checked and _has_bad_rows(con, kind, index):
            _report_bad_rows(con, path, columns, grouping.bad, source, datasets.bad_rows)
    count = con.execute(f"SELECT sum({_RECORDS[kind]}) FROM {kind} WHERE good").fetchone()
    return int(count[0] or 0) if count else 0


def _path_of(scratch: Path, source: Source, index: int) -> tuple[Path, bool]:
    """The file to read, and whether its rows were already validated (rows in memory are written out)."""
    if source.rows is not None:
        path = scratch / f"{source.kind}-{index}.ndjson"
        path.write_text(to_ndjson(source.rows), encoding="utf-8")
        return path, True
    if source.format not in ("ndjson", "parquet") or source.path is None:
        raise ValueError(f"{source.name}: only NDJSON and Parquet files are read by the engine directly")
    return source.path, False


def _is_parquet(path: Path) -> bool:
    return path.name.lower().endswith(".parquet")


def _read(path: Path, columns: Mapping[str, str]) -> str:
    if _is_parquet(path):
        return f"(SELECT {_parquet_columns(path, columns)} FROM read_parquet({_quote(path)}))"
    return f"read_json({_quote(path)}, format='newline_delimited', columns={_struct(columns)})"


_STRUCT_LIST = re.compile(r"STRUCT\((.*)\)\[\]")


def _parquet_columns(path: Path, columns: Mapping[str, str]) -> str:
    """Each column the metrics read, of the type the NDJSON reader declares: as stored when the file's type is that
    type, NULL when the file lacks it, else converted (scalars to text, lists field by field, anything else through
    JSON), so a vendor's Parquet export is read by the same SQL as its NDJSON."""
    with duckdb.connect() as con:
        stored = {str(name): str(kind) for name, kind, *_ in
                  con.execute(f"DESCRIBE SELECT * FROM read_parquet({_quote(path)})").fetchall()}
    parts = []
    for name, declared in columns.items():
        column = f'"{name}"'
        kind = stored.get(name)
        if kind is None:
            parts.append(f"CAST(NULL AS {declared}) AS {column}")
        elif kind == declared:
            parts.append(column)
        elif not declared.endswith("[]"):
            parts.append(f"CAST({column} AS VARCHAR) AS {column}")
        else:
            parts.append(f"{_parquet_list(column, declared, kind)} AS {column}")
    return ", ".join(parts)


def _parquet_list(column: str, declared: str, stored: str) -> str:
    wanted = _STRUCT_LIST.fullmatch(declared)
    have = _STRUCT_LIST.fullmatch(stored)
    if declared == "JSON[]" and stored.endswith("[]"):
        return f"list_transform({column}, lambda x: to_json(x))"
    if wanted and have:
        fields = dict(field.split(" ", 1) for field in wanted.group(1).split(", "))
        present = {field.split(" ", 1)[0].strip('"'): field.split(" ", 1)[1] for field in have.group(1).split(", ")}
        if all(name in present for name in fields):
            members = ", ".join(
                f"'{name}': " + (f"x.\"{name}\"" if present[name] == kind else
                                 f"to_json(x.\"{name}\")" if kind == "JSON" else f"CAST(x.\"{name}\" AS {kind})")
                for name, kind in fields.items()
            )
            return f"list_transform({column}, lambda x: {{{members}}})"
    # Anything else (a list stored as text, fields missing or nested differently): read through JSON, keys as named.
    structure = json.dumps(_structure(declared)).replace("'", "''")
    return f"json_transform(to_json({column}), '{structure}')"


def _structure(declared: str) -> Any:
    """The json_transform structure of a declared type: 'STRUCT(Gia JSON)[]' → [{"Gia": "JSON"}]."""
    if declared.endswith("[]"):
        return [_structure(declared[:-2])]
    wanted = re.fullmatch(r"STRUCT\((.*)\)", declared)
    if wanted:
        return {name: _structure(kind) for name, kind in (f.split(" ", 1) for f in wanted.group(1).split(", "))}
    return declared


def _aggregate(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, columns: Mapping[str, str], grouping: Grouping,
    source: int,
) -> None:
    """Add the group totals of one source to `table` (created by the first source), streaming from the file: the
    bad rows fold into one group with NULL keys, so that garbage in their fields makes no groups of its own."""
    keys = ", ".join(f"CASE WHEN bad IS NULL THEN {key} END AS {key}" for key in grouping.keys)
    aggregates = ", ".join(f"{sql} AS {name}" for name, sql in grouping.aggregates.items())
    select = (
        f"SELECT {source} AS source, bad IS NULL AS good, {keys}, {aggregates} "
        f"FROM (SELECT {grouping.bad} AS bad, {grouping.facts} FROM {_read(path, columns)}) GROUP BY ALL"
    )
    con.execute(f"CREATE OR REPLACE TABLE {table} AS {select}" if source == 0 else f"INSERT INTO {table} {select}")


def _has_bad_rows(con: duckdb.DuckDBPyConnection, table: str, source: int) -> bool:
    found = con.execute(f"SELECT count(*) FROM {table} WHERE source = ? AND NOT good", [source]).fetchone()
    return bool(found and found[0])


def _report_bad_rows(
    con: duckdb.DuckDBPyConnection, path: Path, columns: Mapping[str, str], bad: str, source: Source,
    bad_rows: list[BadRow],
) -> None:
    # A second scan, only now: the records' ordinals (DuckDB skips blank lines), then their lines in the file (a
    # Parquet file's row number is its "line"). Numbering follows the file's order only with insertion order kept.
    con.execute("SET preserve_insertion_order = true")
    found = con.execute(
        f"SELECT ordinal, bad FROM (SELECT row_number() OVER () AS ordinal, {bad} AS bad FROM {_read(path, columns)})"
        " WHERE bad IS NOT NULL ORDER BY ordinal"
    ).fetchall()
    con.execute("SET preserve_insertion_order = false")
    ordinals = {int(ordinal) for ordinal, _ in found}
    lines = {ordinal: ordinal for ordinal in ordinals} if _is_parquet(path) else _line_numbers(path, ordinals)
    for ordinal, reason in found:
        bad_rows.append(BadRow(source.name, lines.get(int(ordinal), int(ordinal)), str(reason)))


def _line_numbers(path: Path, ordinals: set[int]) -> dict[int, int]:
    """Record ordinal (1-based, blank lines skipped, as DuckDB counts) → line number in the file."""
    found: dict[int, int] = {}
    ordinal = 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                ordinal += 1
                if ordinal in ordinals:
                    found[ordinal] = number
                    if len(found) == len(ordinals):
                        break
    return found


def _register_catalog(con: duckdb.DuckDBPyConnection, procedures: list[dict[str, Any]]) -> None:
    online: dict[str, bool] = {}
    for procedure in procedures:
        code = oracle.national_code(procedure["MaTTHC"])
        online[code] = online.get(code, False) or oracle.online_level(procedure) is not None
    con.execute("CREATE TABLE catalog (proc VARCHAR, online BOOLEAN)")
    if online:
        con.executemany("INSERT INTO catalog VALUES (?, ?)", list(online.items()))


def _register_levels(con: duckdb.DuckDBPyConnection, registry: Mapping[str, str]) -> None:
    con.execute("CREATE TABLE registry (agency VARCHAR, level VARCHAR)")
    if registry:
        con.executemany("INSERT INTO registry VALUES (?, ?)", list(registry.items()))


# ------------------------------------------------------------------------------------------------------- tallying


def _tally(con: duckdb.DuckDBPyConnection, counts_sql: str, against_sql: str, params: list[Any]) -> Tally:
    row = con.execute(counts_sql, params).fetchone()
    sample = [str(code) for (code,) in con.execute(f"{against_sql} ORDER BY 1 LIMIT {SAMPLE_SIZE}", params).fetchall()]
    numerator, denominator = (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)
    return Tally(numerator=numerator, denominator=denominator, against=sample)


def _dossier_tallies(con: duckdb.DuckDBPyConnection, result: Measurements, year: int, have_registry: bool) -> None:
    # g: the year's group totals (over every source), with each procedure's catalog listing and each agency's level.
    con.execute(
        "CREATE TEMP VIEW g AS SELECT d.*, coalesce(c.online, true) AS catalog_online, r.level "
        "FROM dossiers d LEFT JOIN catalog c USING (proc) LEFT JOIN registry r USING (agency) "
        f"WHERE d.good AND d.year = {int(year)}"
    )
    result.tallies[("online-dossiers.online-share", ALL)] = _tally(
        con, "SELECT sum(CASE WHEN catalog_online THEN online ELSE 0 END), sum(received) FROM g",
        "SELECT unnest(CASE WHEN catalog_online THEN sample_offline ELSE sample_all END) FROM g", [],
    )
    result.tallies[("payment.per-dossier", ALL)] = _tally(
        con, "SELECT sum(fee_paid_online), sum(fee_dossiers) FROM g", "SELECT unnest(sample_unpaid) FROM g", []
    )
    con.execute(
        "CREATE TEMP TABLE fee_proc AS SELECT proc, sum(fee_paid_online) > 0 AS paid FROM g "
        "GROUP BY proc HAVING sum(fee_dossiers) > 0"
    )
    result.tallies[("payment.per-procedure", ALL)] = _tally(
        con, "SELECT count_if(paid), count(*) FROM fee_proc", "SELECT proc FROM fee_proc WHERE NOT paid", []
    )
    unclassified = con.execute("SELECT sum(finished_with_result) FROM g WHERE level IS NULL").fetchone()
    if unclassified and unclassified[0]:
        result.unclassified["digitisation.results-by-level"] = int(unclassified[0])
    if have_registry:
        for level in LEVELS:
            result.tallies[("digitisation.results-by-level", level)] = _tally(
                con, "SELECT sum(digitised_results), sum(finished_with_result) FROM g WHERE level = ?",
                "SELECT unnest(sample_undigitised) FROM g WHERE level = ?", [level],
            )
    _agency_counts(con, result)


def _agency_counts(con: duckdb.DuckDBPyConnection, result: Measurements) -> None:
    sums = ", ".join(f"sum({name}) AS {name}" for name in _DOSSIER_COUNTS)
    rows = con.execute(
        f"""
        WITH per_proc AS (SELECT agency, proc, {sums} FROM g GROUP BY agency, proc)
        SELECT agency, {sums},
               count_if(fee_dossiers > 0) AS fee_procedures, count_if(fee_paid_online > 0) AS fee_procedures_paid,
               count(*) AS procedures, count_if(population_data > 0) AS procedures_population
        FROM per_proc GROUP BY agency ORDER BY agency
        """
    )
    names = [column[0] for column in rows.description]
    for values in rows.fetchall():
        record = dict(zip(names, values, strict=True))
        agency = str(record.pop("agency"))
        result.agencies[agency] = AgencyCounts(agency=agency, **{k: int(v) for k, v in record.items()})


def _transaction_tallies(con: duckdb.DuckDBPyConnection, result: Measurements, year: int) -> None:
    con.execute(f"CREATE TEMP VIEW ty AS SELECT * FROM transactions WHERE good AND year = '{int(year):04d}'")
    result.tallies[("auth.authenticated-transactions", ALL)] = _tally(
        con, "SELECT sum(authenticated), sum(records) FROM ty", "SELECT unnest(sample_unauthenticated) FROM ty", []
    )
    # Per dossier moved this year (merging sources): on paper if any of its transfers was.
    con.execute(
        "CREATE TEMP TABLE moved AS SELECT code, bool_or(on_paper) AS on_paper FROM ty WHERE code IS NOT NULL "
        "GROUP BY code"
    )
    result.tallies[("transfer.electronic-share", ALL)] = _tally(
        con, "SELECT count_if(NOT on_paper), count(*) FROM moved", "SELECT code FROM moved WHERE on_paper", []
    )
