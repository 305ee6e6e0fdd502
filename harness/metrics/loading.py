"""Loading the dossier and transaction files into group totals (NDJSON or Parquet read by DuckDB, a file it
cannot parse by the row-by-row loader), naming the lines of rows that break the schema; the catalog and the agency
levels registered beside them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from harness.metrics import oracle
from harness.metrics.datasets import BadRow, DatasetError, Datasets, Source, _load_rows, to_ndjson
from harness.metrics.engine_sql import RECORDS, Grouping, grouping, quoted, struct_type


def load_kind(con: duckdb.DuckDBPyConnection, scratch: Path, datasets: Datasets, kind: str) -> int | None:
    """Fold every source of `kind` into table `kind` of group totals, one scan each (column `good`: false for the
    one group of the source's bad rows); the valid rows read, or None when there is no source. Line numbers are looked
    up only when a source has bad rows."""
    sources = datasets.sources(kind)
    if not sources:
        return None
    for index, source in enumerate(sources):
        path, checked = _path_of(scratch, source, index)
        try:
            rules = _grouping_for(con, kind, path)
            _aggregate(con, kind, path, rules, index)
        except duckdb.Error as exc:
            if _is_parquet(path):  # damaged pages surface only now: the kind was told from the footer alone
                raise DatasetError(f"{path}: cannot read this Parquet file: {str(exc).splitlines()[0]}") from exc
            if not isinstance(exc, (duckdb.InvalidInputException, duckdb.ConversionException)):
                raise
            # DuckDB cannot parse the file (a broken line, a wrong type): the row-by-row loader names each bad line.
            rows = _load_rows(path, kind, "ndjson", datasets.bad_rows)
            path = scratch / f"{kind}-{index}-checked.ndjson"
            path.write_text(to_ndjson(rows), encoding="utf-8")
            checked = True
            rules = grouping(kind, json=True)
            _aggregate(con, kind, path, rules, index)
        if not checked and _has_bad_rows(con, kind, index):
            _report_bad_rows(con, path, rules, source, datasets.bad_rows)
    count = con.execute(f"SELECT sum({RECORDS[kind]}) FROM {kind} WHERE good").fetchone()
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


def _grouping_for(con: duckdb.DuckDBPyConnection, kind: str, path: Path) -> Grouping:
    """NDJSON is read as JSON text, which tells a string from a number; a Parquet file as text, unless a column
    read as text is stored as something else (engine_sql says why)."""
    if not _is_parquet(path):
        return grouping(kind, json=True)
    as_text = grouping(kind, json=False)
    return grouping(kind, json=_not_all_text(_stored(con, path), as_text.columns))


def _stored(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, str]:
    return {str(name): str(kind) for name, kind, *_ in
            con.execute(f"DESCRIBE SELECT * FROM read_parquet({quoted(path)})").fetchall()}


def _not_all_text(stored: Mapping[str, str], columns: Mapping[str, str]) -> bool:
    """Whether a field read as text (a column, or a field of a list's items) is stored as something else."""
    for name, declared in columns.items():
        kind = stored.get(name)
        if kind in (None, *_ALL_NULL, declared):
            continue
        if declared == "VARCHAR":
            return True
        wanted, have = _STRUCT_LIST.fullmatch(declared), _STRUCT_LIST.fullmatch(kind)
        if wanted and have:
            present = _fields(have.group(1))
            if any(present.get(field) not in (None, "VARCHAR")
                   for field, text in _fields(wanted.group(1)).items() if text == "VARCHAR"):
                return True
    return False


def _fields(members: str) -> dict[str, str]:
    """`TenGiayTo VARCHAR, "Gia" JSON` → {name: type}."""
    return {field.split(" ", 1)[0].strip('"'): field.split(" ", 1)[1] for field in members.split(", ")}


def _read(con: duckdb.DuckDBPyConnection, path: Path, columns: Mapping[str, str]) -> str:
    """The file as a table of `columns`; a field read as JSON text is plain text (VARCHAR) to the SQL, so that it
    compares as text, never as JSON values."""
    if _is_parquet(path):
        return f"(SELECT {_parquet_columns(con, path, columns)} FROM read_parquet({quoted(path)}))"
    read = f"read_json({quoted(path)}, format='newline_delimited', columns={struct_type(columns)})"
    texts = [name for name, kind in columns.items() if kind == "JSON"]
    if not texts:
        return read
    return f"(SELECT * REPLACE ({', '.join(f'CAST({_name(n)} AS VARCHAR) AS {_name(n)}' for n in texts)}) FROM {read})"


def _name(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


_STRUCT_LIST = re.compile(r"STRUCT\((.*)\)\[\]")
# Stored types whose JSON text is the value's: any other (a DATE, a UUID, a BLOB) would be written as a JSON string and
# pass for text, so it is read as a marker that is no string, and breaks its row as the schema says.
_JSON_NATIVE = re.compile(r"VARCHAR|BOOLEAN|U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|FLOAT|DOUBLE|DECIMAL\(.*\)|JSON")
_ALL_NULL = ("NULL", '"NULL"')  # a column's type when it holds nulls only (as pandas and pyarrow write it): absent


def _parquet_columns(con: duckdb.DuckDBPyConnection, path: Path, columns: Mapping[str, str]) -> str:
    """Each column the metrics read, of the type the reading declares: as stored when the file's type is that type,
    NULL when the file lacks it, else converted (a value to its JSON text, lists field by field, anything else
    through JSON), so a vendor's Parquet export is read by the same rules as its NDJSON."""
    stored = _stored(con, path)
    parts = []
    for name, declared in columns.items():
        column = f'"{name}"'
        kind = stored.get(name)
        if kind in (None, *_ALL_NULL):
            parts.append(f"CAST(NULL AS {declared}) AS {column}")
        elif kind == declared and declared != "JSON":  # a JSON column too is read as the text of its JSON
            parts.append(column)
        elif declared == "JSON":  # a Parquet string becomes its JSON text, a number stays a number: a bad row
            parts.append(f"CAST(to_json({column}) AS VARCHAR) AS {column}" if _JSON_NATIVE.fullmatch(kind) else
                         f"CASE WHEN {column} IS NOT NULL THEN '<{kind}>' END AS {column}")
        elif not declared.endswith("[]"):
            parts.append(f"CAST({column} AS {declared}) AS {column}")
        else:
            parts.append(f"{_parquet_list(column, declared, kind)} AS {column}")
    return ", ".join(parts)


def _parquet_list(column: str, declared: str, stored: str) -> str:
    wanted = _STRUCT_LIST.fullmatch(declared)
    have = _STRUCT_LIST.fullmatch(stored)
    if declared == "JSON[]" and stored.endswith("[]"):
        return f"list_transform({column}, lambda x: to_json(x))"
    if wanted and have:
        fields, present = _fields(wanted.group(1)), _fields(have.group(1))
        if all(name in present for name in fields):
            members = ", ".join(
                f"'{name}': " + (f"x.\"{name}\"" if present[name] == kind else
                                 f"to_json(x.\"{name}\")" if kind == "JSON" else f"CAST(x.\"{name}\" AS {kind})")
                for name, kind in fields.items()
            )
            return f"list_transform({column}, lambda x: CASE WHEN x IS NOT NULL THEN {{{members}}} END)"
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


def _aggregate(con: duckdb.DuckDBPyConnection, table: str, path: Path, rules: Grouping, source: int) -> None:
    """Add the group totals of one source to `table` (created by the first source), streaming from the file: the
    bad rows fold into one group with NULL keys, so that garbage in their fields makes no groups of its own."""
    keys = ", ".join(f"CASE WHEN bad IS NULL THEN {key} END AS {key}" for key in rules.keys)
    aggregates = ", ".join(f"{sql} AS {name}" for name, sql in rules.aggregates.items())
    select = (
        f"SELECT {source} AS source, bad IS NULL AS good, {keys}, {aggregates} "
        f"FROM (SELECT {rules.bad} AS bad, {rules.facts} FROM {_read(con, path, rules.columns)}) GROUP BY ALL"
    )
    con.execute(f"CREATE OR REPLACE TABLE {table} AS {select}" if source == 0 else f"INSERT INTO {table} {select}")


def _has_bad_rows(con: duckdb.DuckDBPyConnection, table: str, source: int) -> bool:
    found = con.execute(f"SELECT count(*) FROM {table} WHERE source = ? AND NOT good", [source]).fetchone()
    return bool(found and found[0])


def _report_bad_rows(
    con: duckdb.DuckDBPyConnection, path: Path, rules: Grouping, source: Source, bad_rows: list[BadRow]
) -> None:
    # A second scan, only now: the records' ordinals (DuckDB skips blank lines), then their lines in the file (a
    # Parquet file's row number is its "line"). Numbering follows the file's order only with insertion order kept.
    con.execute("SET preserve_insertion_order = true")
    found = con.execute(
        f"SELECT ordinal, bad FROM (SELECT row_number() OVER () AS ordinal, {rules.bad} AS bad "
        f"FROM {_read(con, path, rules.columns)}) WHERE bad IS NOT NULL ORDER BY ordinal"
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


def register_catalog(con: duckdb.DuckDBPyConnection, procedures: list[dict[str, Any]]) -> None:
    online: dict[str, bool] = {}
    for procedure in procedures:
        code = oracle.national_code(procedure["MaTTHC"])
        online[code] = online.get(code, False) or oracle.online_level(procedure) is not None
    con.execute("CREATE TABLE catalog (proc VARCHAR, online BOOLEAN)")
    if online:
        con.executemany("INSERT INTO catalog VALUES (?, ?)", list(online.items()))


def register_levels(con: duckdb.DuckDBPyConnection, registry: Mapping[str, str]) -> None:
    con.execute("CREATE TABLE registry (agency VARCHAR, level VARCHAR)")
    if registry:
        con.executemany("INSERT INTO registry VALUES (?, ?)", list(registry.items()))
