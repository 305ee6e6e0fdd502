"""The engine's SQL for the portal's formats decides as harness.core.formats does, value for value: every day
of the year forms, impossible days, leap years, and what DuckDB's strptime would take but the formats refuse."""

from __future__ import annotations

import json
from itertools import product
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.formats import is_dossier_code, is_portal_datetime, is_procedure_code
from harness.metrics import load_datasets, measure
from harness.metrics.engine_sql import Sql

ODD = [
    "", " 2023010100000", "2023010100000 ", "  20230101000000  ", "\t2023010100000", "infinity", "epoch",
    "-infinity", "2023111100000", "202301010000000", "2023-01-01000000", "2023010100000a", "٢٠٢٣0101000000",
    "00000101000000", "00000229000000", "20230101000000\n",
]
YEARS = ["0000", "0001", "0004", "0100", "0400", "1600", "1700", "1900", "1999", "2000", "2023", "2024", "2100", "2400",
         "9996", "9999"]
TIMES = ["000000", "235959", "240000", "236000", "235960", "120000"]
MONTH_DAYS = [f"{month:02d}{day:02d}" for month, day in product(range(14), range(33))]


READINGS = {"json text": (Sql(json=True), "CAST(to_json(value) AS VARCHAR)"), "text": (Sql(json=False), "value")}


def _decided_by_sql(predicate: str, values: list[str]) -> list[bool]:
    with duckdb.connect() as con:
        found = con.execute(f"SELECT list_transform(?::VARCHAR[], lambda value: {predicate})", [values]).fetchone()
    assert found is not None
    return [bool(decided) for decided in found[0]]


@pytest.fixture(params=list(READINGS))
def reading(request):
    """A field read as its JSON text (NDJSON; DuckDB writes it so) or as text (a Parquet column of strings)."""
    return READINGS[request.param]


def test_the_datetime_sql_is_the_portal_datetime(reading):
    sql, value = reading
    values = [f"{y}{md}{t}" for y, md, t in product(YEARS, MONTH_DAYS, TIMES)] + ODD
    assert _decided_by_sql(sql.is_datetime(value), values) == [is_portal_datetime(v) for v in values]


def test_the_dossier_code_sql_is_the_dossier_code(reading):
    sql, value = reading
    days = [f"{yy:02d}{md}" for yy, md in product(range(100), MONTH_DAYS)]
    values = [f"000.00.06.H40-{day}-0001" for day in days] + [
        "000.00.06.H40-230101-00001", "000.00.06.H40-230101-001", "000.00.06.H40-230101-000001",
        "000.00.06.h40-230101-0001", "000.00.06.H40-230101-0001 ", " 000.00.06.H40-230101-0001",
        "000.00.06.H40- 30101-0001", "000.00.06.H40-2301010-0001", "000-00.06.H40-230101-0001",
        "000.00.06.Ă40-230101-0001", "000.00.06.H40-٢30101-0001", "",
    ]
    assert _decided_by_sql(sql.is_dossier_code(value), values) == [is_dossier_code(v) for v in values]


def test_the_procedure_code_sql_is_the_procedure_code(reading):
    sql, value = reading
    national = ["1.000001", "2.999999", "3.000001", "0.000001", "1.00001", "1.0000011", "1,000001", " 1.000001",
                "1.000001 ", "1.٠٠٠٠٠1", "1.000001\n", "", "1.000001.000.00.06.H40", "2.000123.000.00.06.Z99",
                "1.000001.000.00.06.h40", "1.000001.000.00.06.H4", "1.000001.000.00.06.H400", "1.000001.000-00.06.H40",
                "1.000001.000.00.06.Ă40", "1.000001.", "1x000001"]
    assert _decided_by_sql(sql.is_procedure_code(value), national) == [is_procedure_code(v) for v in national]


_NEAR_DATETIMES = st.one_of(
    st.from_regex(r"\A[0-2][0-9]{3}[01][0-9][0-3][0-9][0-2][0-9][0-6][0-9][0-6][0-9]\Z"),
    st.text(alphabet="0123456789 +-.:T\n٠", min_size=12, max_size=16),
)


@given(st.lists(_NEAR_DATETIMES, min_size=50, max_size=50))
@settings(max_examples=20, deadline=None, derandomize=True)
def test_any_near_datetime_is_decided_as_the_format_decides(values):
    for sql, value in READINGS.values():
        assert _decided_by_sql(sql.is_datetime(value), values) == [is_portal_datetime(v) for v in values]


@pytest.mark.parametrize("value", [" 2023010100000", "20230101000000 ", "epoch", "00000101000000", "2023111100000"])
def test_a_date_strptime_would_take_is_a_bad_row_for_the_engine_as_for_the_schema(tmp_path, value):
    good = {"MaHoSo": "000.00.06.H40-230101-0001", "MaTTHC": "1.000001", "TenTTHC": "T", "ChuHoSo": "An",
            "TrangThaiHoSo": "9", "NgayTiepNhan": "20230101080000"}
    rows = [good, good | {"NgayHenTra": value}, good | {"MaHoSo": "000.00.06.H40-230229-0001"}]
    transactions = [{"id": "t1", "at": "20230105080000", "action": "create", "MaHoSo": "000.00.06.H40-230101-0001"},
                    {"id": "t2", "at": value, "action": "create"},
                    {"id": "t3", "at": "20230105080000", "action": "create", "MaHoSo": "000.00.06.H40-231301-0001"}]
    files = {tmp_path / "d.ndjson": rows, tmp_path / "t.ndjson": transactions}
    for path, records in files.items():
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    kinds = {tmp_path / "d.ndjson": "dossiers", tmp_path / "t.ndjson": "transactions"}
    found = {}
    for eager in (True, False):  # the full schema row by row, or the engine's SQL
        datasets = load_datasets(list(kinds), kinds=kinds, eager=eager)
        measure(datasets, year=2023)
        found[eager] = sorted((bad.file, bad.line) for bad in datasets.bad_rows)
    assert found[False] == found[True] == sorted((str(path), line) for path in files for line in (2, 3))


GOOD_DOSSIER = {"MaHoSo": "000.00.06.H40-230101-0001", "MaTTHC": "1.000001", "TenTTHC": "T", "ChuHoSo": "An",
                "TrangThaiHoSo": "9", "NgayTiepNhan": "20230101080000"}
GOOD_TRANSACTION = {"id": "t1", "at": "20230105080000", "action": "transfer", "MaHoSo": "000.00.06.H40-230101-0001",
                    "transfer_method": "electronic", "subject": "s", "assurance": "LoA2"}


@pytest.mark.parametrize(("kind", "change"), [
    ("dossiers", {"KenhThucHien": 2}), ("dossiers", {"TrangThaiHoSo": 9}), ("dossiers", {"MaTTHC": 1.000001}),
    ("dossiers", {"NgayHenTra": 20230110080000}), ("dossiers", {"TenTTHC": 5}), ("dossiers", {"ChuHoSo": True}),
    ("dossiers", {"DuocThanhToanTrucTuyen": 1}), ("dossiers", {"HoSoCoThanhPhanSoHoa": 1}),
    ("dossiers", {"DanhSachGiayToKetQua": [{"DuongDanTepTinKetQua": 7}]}),
    ("dossiers", {"TaiLieuNop": [{"DuocTaiSuDung": True}]}), ("dossiers", {"MaHoSo": ["000.00.06.H40-230101-0001"]}),
    ("transactions", {"id": 17}), ("transactions", {"at": 20230105080000}), ("transactions", {"subject": 5}),
    ("transactions", {"assurance": {"level": 2}}), ("transactions", {"action": "create", "transfer_method": "fax"}),
    ("transactions", {"transfer_method": None}),
    # a list's items: objects, never null; a fee's Gia a string, a number or null
    ("dossiers", {"DanhSachHoSoBoSung": [1]}), ("dossiers", {"DSKetNoiCSDL": ["x"]}),
    ("dossiers", {"DSKetNoiCSDL": [{"MaCSDL": "x"}, None]}), ("dossiers", {"DanhSachLePhi": [None]}),
    ("dossiers", {"DanhSachGiayToKetQua": [None]}), ("dossiers", {"TaiLieuNop": [{"DuocTaiSuDung": "1"}, None]}),
    ("dossiers", {"DanhSachLePhi": [{"Gia": True}]}), ("dossiers", {"DanhSachLePhi": [{"Gia": "1"}, {"Gia": [1]}]}),
    ("dossiers", {"DanhSachLePhi": [{"Gia": {"a": 1}}]}),
    # a lone surrogate, in any field: no character (it made p111 kpi fail before)
    ("dossiers", {"Email": "\ud800"}), ("transactions", {"subject": "x\udfff"}),
])
def test_a_value_of_another_type_than_the_schemas_is_a_bad_row_for_the_engine_as_for_the_schema(tmp_path, kind, change):
    """The portal's values are all strings: a number, a boolean, an object where the schema wants a string breaks the
    row for the engine too, which reads each field's JSON text (it read the text such a value would print as)."""
    good = GOOD_DOSSIER if kind == "dossiers" else GOOD_TRANSACTION
    path = tmp_path / f"{kind}.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in (good, good | change)), encoding="utf-8")
    found = {}
    for eager in (True, False):  # the full schema row by row, or the engine's SQL
        datasets = load_datasets([path], kinds={path: kind}, eager=eager)
        measured = measure(datasets, year=2023)
        found[eager] = ([(bad.file, bad.line) for bad in datasets.bad_rows], measured.rows_read[kind])
    assert found[False] == found[True] == ([(str(path), 2)], 1)


def test_a_parquet_column_of_nulls_only_is_read_as_absent(tmp_path):
    """pandas and pyarrow write an all-null column with the type NULL: no fees, not a file DuckDB cannot bind."""
    path = tmp_path / "dossiers.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT '000.00.06.H40-230101-000' || i AS MaHoSo, '1.000001' AS MaTTHC, 'T' AS TenTTHC, "
                    f"'An' AS ChuHoSo, '9' AS TrangThaiHoSo, NULL AS DanhSachLePhi FROM range(1, 4) t(i)) "
                    f"TO '{path}' (FORMAT parquet)")
    datasets = load_datasets([path], kinds={path: "dossiers"})
    assert measure(datasets, year=2023).rows_read["dossiers"] == 3 and datasets.bad_rows == []


@pytest.mark.parametrize("numbers", [
    "9 AS TrangThaiHoSo",  # a column of numbers
    "'9' AS TrangThaiHoSo, [{'DuongDanTepTinKetQua': 7}] AS DanhSachGiayToKetQua",  # a field of a list's items
])
def test_a_parquet_file_with_numbers_where_the_schema_wants_strings_breaks_those_rows(tmp_path, numbers):
    """A Parquet file is read as text where every field read so is stored as text; one that is not is read as JSON
    text, as NDJSON is, so that its numbers break the rows as the schema says."""
    path = tmp_path / "dossiers.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT '000.00.06.H40-230101-000' || i AS MaHoSo, '1.000001' AS MaTTHC, 'T' AS TenTTHC, "
                    f"'An' AS ChuHoSo, {numbers} FROM range(1, 4) t(i)) TO '{path}' (FORMAT parquet)")
    datasets = load_datasets([path], kinds={path: "dossiers"})
    measured = measure(datasets, year=2023)
    assert measured.rows_read["dossiers"] == 0 and [bad.line for bad in datasets.bad_rows] == [1, 2, 3]


def _both_paths(path: Path, kind: str) -> dict[bool, tuple[list[int], int]]:
    """(bad lines, rows read) by the full schema row by row (True) and by the engine's SQL (False)."""
    found = {}
    for eager in (True, False):
        datasets = load_datasets([path], kinds={path: kind}, eager=eager)
        rows = measure(datasets, year=2023).rows_read[kind]
        found[eager] = ([bad.line for bad in datasets.bad_rows], rows)
    return found


def test_a_byte_order_mark_before_the_first_line_is_ignored_by_both_paths(tmp_path):
    path = tmp_path / "dossiers.ndjson"
    path.write_text("\ufeff" + json.dumps(GOOD_DOSSIER) + "\n" + json.dumps(GOOD_DOSSIER | {"TenTTHC": 5}) + "\n",
                    encoding="utf-8")
    found = _both_paths(path, "dossiers")
    assert found[True] == found[False] == ([2], 1)


@pytest.mark.parametrize(("column", "bad_lines"), [
    ("DATE '2023-01-01' AS DuocThanhToanTrucTuyen", [1, 2, 3]),  # a date is no string: it would pass as its text
    ("uuid()::VARCHAR::UUID AS DuocThanhToanTrucTuyen", [1, 2, 3]),
    ("(CASE WHEN i = 2 THEN '9' ELSE '\"9\"' END)::JSON AS TrangThaiHoSo", [2]),  # DuckDB's JSON type: its value
])
def test_a_parquet_column_of_another_type_is_judged_as_the_schema_judges_its_values(tmp_path, column, bad_lines):
    path = tmp_path / "dossiers.parquet"
    columns = {k: v for k, v in GOOD_DOSSIER.items() if k not in column}
    select = ", ".join(f"'{v}' AS {k}" for k, v in columns.items() if k != "MaHoSo")
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT '000.00.06.H40-230101-000' || i AS MaHoSo, {select}, {column} "
                    f"FROM range(1, 4) t(i)) TO '{path}' (FORMAT parquet)")
    found = _both_paths(path, "dossiers")
    assert found[True] == found[False] == (bad_lines, 3 - len(bad_lines))
