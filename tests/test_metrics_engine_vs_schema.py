"""The KPI engine (DuckDB reads the files) against the full-schema path (eager=True), on random rows: equal
Measurements, rows read and bad rows (file, line), for NDJSON and for the same rows as Parquet.

Rows are close to the schema: each field the engine reads is usually valid and sometimes broken (another type,
spaces, NBSP, escapes, empty vs null vs missing, duplicate keys); every string is written with random JSON escapes
(\\uXXXX, \\/), so the engine's JSON-text reading must decode as json.loads does. Written by a reviewer of the
engine's JSON-text reading; more examples: P111_EXAMPLES=500 pytest -n 0 tests/test_metrics_engine_vs_schema.py.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.metrics import load_datasets, measure

EXAMPLES = int(os.environ.get("P111_EXAMPLES", "40"))
# The kinds of value of the gaps below (test_known_gaps) are drawn only when asked, so that the search finds new ones.
KNOWN = os.environ.get("P111_KNOWN") == "1"
MISSING = object()

# ------------------------------------------------------------------------------------------------ value strategies

CODES = [f"000.00.{a}.H40-{d}-{n}" for a in ("06", "07") for d in ("230101", "221231", "240229")
         for n in ("0001", "0002", "00010")]
BAD_CODES = ["000.00.06.H40-230230-0001", " 000.00.06.H40-230101-0001", "000.00.06.h40-230101-0001", "", "x"]
DATES = ["20230101080000", "20231231235959", "20220615120000", "20240229000000", "20230110080000", "20230105000000"]
BAD_DATES = ["2023010108000", " 20230101080000", "20230230080000", "00000101000000", "2023-01-01", "epoch", "x"]
TEXTS = ["T", "a\"b", "\\", "/", "á", "\u00a0", " ", "  x  ", "\u0000", "\t", "\n", "\u2028", "😀", "x" * 300, "null",
         "true", "1", "{}"]


def odd(draw: Any) -> Any:
    """A value of another type than a string."""
    return draw(st.sampled_from([0, 1, 2, 9, -0.0, 1.5, True, False, {}, {"a": "1"}, [], ["1"], [1]]))


ANY_TEXT = TEXTS + ["", "x"]


class Field:
    """One field: its valid values (`optional`: also null and missing) and its broken ones (besides other types)."""

    def __init__(self, good: list[Any], bad: list[Any] = (), optional: bool = True, any_text: bool = False) -> None:
        self.good = list(good) + ([None, MISSING] if optional else [])
        self.any_text = any_text
        self.bad = list(bad) + ([] if optional else [None, MISSING])

    def value(self, draw: Any, broken: bool) -> Any:
        if broken:
            if self.bad and draw(st.booleans()):
                return draw(st.sampled_from(self.bad))
            return odd(draw)
        if self.any_text and draw(st.integers(0, 2)) == 0:
            return draw(st.sampled_from(ANY_TEXT))
        return draw(st.sampled_from(self.good))


def gia(draw: Any, broken: bool) -> Any:
    if broken and KNOWN:
        return draw(st.sampled_from([True, False, {"a": 1}, [1], ["1"]]))
    return draw(st.sampled_from(["150000", "0", " 12.5 ", "-1", "1e3", "+5", "5.", ".5", "", " ", "0.0", "-0", "00",
                                 "1,5", "\u00a05", "1\u00a0", 150000, 0, -0.0, 0.0, 12.5, -1, 1e3, 1e-300, None,
                                 MISSING]))


def items(draw: Any, field: str, values: Any, broken: bool) -> Any:
    if broken and KNOWN and draw(st.booleans()):
        return [draw(st.sampled_from([None, 1, "x", [], True]))]
    if broken and draw(st.booleans()):
        return draw(st.sampled_from([0, 1, 1.5, True, {}, {"a": "1"}, "x", "[]", ""]))
    shape = draw(st.integers(0, 5))
    if shape < 3:
        return [MISSING, None, []][shape]
    out = []
    which = draw(st.integers(0, 2))
    for index in range(draw(st.integers(1, 3))):
        item: dict[str, Any] = {}
        item[field] = values(draw, broken and index == which)
        if draw(st.booleans()):
            item["TenGiayTo"] = "x"
        out.append(item)
    return out


def text_item(field: Field) -> Any:
    return lambda draw, broken: field.value(draw, broken)


DOSSIER_FIELDS = {
    "MaHoSo": Field(CODES, BAD_CODES, optional=False),
    "MaTTHC": Field(["1.000001", "2.000123", "1.000001.000.00.06.H40"], ["1.00001", "3.000001", ""], optional=False),
    "TenTTHC": Field(["T", "Cấp giấy", " x "], [""], optional=False, any_text=True),
    "ChuHoSo": Field(["An", "Nguyễn Văn A"], [""], optional=False, any_text=True),
    "KenhThucHien": Field(["1", "2", "3", ""], [" 2", "2 ", "4", "02", "\u00a02"]),
    "TrangThaiHoSo": Field([str(n) for n in range(1, 11)], ["11", "0", " 9", "09", ""], optional=False),
    "NgayTiepNhan": Field(DATES + [""], BAD_DATES),
    "NgayHenTra": Field(DATES + [""], BAD_DATES),
    "NgayKetThucXuLy": Field(DATES + [""], BAD_DATES),
    "DuocThanhToanTrucTuyen": Field(["1", "2", "0", "", " 1 ", "1 ", "\u00a01", "3"], any_text=True),
    "HoSoCoThanhPhanSoHoa": Field(["0", "1", ""], [" 1", "2", "true"]),
}
RESULT_LINK = Field(["https://x/1.pdf", "", " ", "\u00a0"], any_text=True)
REUSED = Field(["1", "true", "True", "0", "", " true ", "TRUE", " 1", "1 "], any_text=True)
LISTS = {
    "DanhSachLePhi": ("Gia", gia),
    "DanhSachGiayToKetQua": ("DuongDanTepTinKetQua", text_item(RESULT_LINK)),
    "TaiLieuNop": ("DuocTaiSuDung", text_item(REUSED)),
    "DanhSachHoSoBoSung": ("NoiDungBoSung", lambda d, b: d(st.sampled_from(["x", 1, None, True]))),
    "DSKetNoiCSDL": ("MaCSDL", lambda d, b: d(st.sampled_from(["CSDLQGDC", "", None]))),
}
TRANSACTION_FIELDS = {
    "id": Field(["t1", "t2", "t\"3", "t\\4", "tá5", "t/6", "T7", " t8"], [""], optional=False, any_text=True),
    "at": Field(DATES, BAD_DATES, optional=False),
    "action": Field(["create", "update", "status", "transfer", "payment", "result", "transfer"],
                    ["Transfer", " transfer", ""], optional=False),
    "MaHoSo": Field(CODES, BAD_CODES),
    "subject": Field(["s", "", "sub-1", " ", "\u00a0"], any_text=True),
    "assurance": Field(["LoA2", "", "IAL2", " ", "\u00a0"], any_text=True),
    "transfer_method": Field(["electronic", "paper"], [" paper", "Paper", ""]),
}


def broken_fields(draw: Any, names: list[str]) -> set[str]:
    """Most rows keep the schema; some break one or two fields."""
    count = draw(st.sampled_from([0, 0, 0, 1, 1, 2]))
    return set(draw(st.lists(st.sampled_from(names), min_size=count, max_size=count)))


@st.composite
def dossiers(draw: Any) -> dict[str, Any]:
    broken = broken_fields(draw, [*DOSSIER_FIELDS, *LISTS])
    row = {name: field.value(draw, name in broken) for name, field in DOSSIER_FIELDS.items()}
    for name, (member, values) in LISTS.items():
        row[name] = items(draw, member, values, name in broken)
    if draw(st.integers(0, 9)) == 0:
        row["Email"] = "a@b"  # a field the engine does not read, valid
    return row


@st.composite
def transactions(draw: Any) -> dict[str, Any]:
    broken = broken_fields(draw, list(TRANSACTION_FIELDS))
    row = {name: field.value(draw, name in broken) for name, field in TRANSACTION_FIELDS.items()}
    if row["action"] == "transfer" and "transfer_method" not in broken and row["transfer_method"] in (None, MISSING):
        row["transfer_method"] = "paper"
    if row["action"] == "transfer" and "MaHoSo" not in broken and row["MaHoSo"] in (None, MISSING):
        row["MaHoSo"] = CODES[0]
    return row


# --------------------------------------------------------------------------------------------- writing JSON oddly


def write_string(value: str, rng: random.Random) -> str:
    """A JSON string, each character written raw or escaped at random (json.loads reads every choice the same)."""
    out = ['"']
    for char in value:
        code = ord(char)
        choice = rng.random()
        if char == '"' or char == "\\" or code < 0x20 or 0x7F <= code <= 0x9F or char in "\u2028\u2029":
            out.append(json.dumps(char)[1:-1] if choice < 0.5 else f"\\u{code:04x}")
        elif choice < 0.15:
            if code > 0xFFFF:
                high, low = divmod(code - 0x10000, 0x400)
                out.append(f"\\u{0xD800 + high:04X}\\u{0xDC00 + low:04x}")
            else:
                out.append(f"\\u{code:04X}" if choice < 0.07 else f"\\u{code:04x}")
        elif char == "/" and choice < 0.5:
            out.append("\\/")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def write(value: Any, rng: random.Random) -> str:
    if isinstance(value, str):
        return write_string(value, rng)
    if isinstance(value, dict):
        members = [(k, v) for k, v in value.items() if v is not MISSING]
        rng.shuffle(members)
        sep = rng.choice([",", ", ", " , "])
        return "{" + sep.join(f"{write_string(k, rng)}{rng.choice([':', ': ', ' :'])}{write(v, rng)}"
                              for k, v in members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(write(v, rng) for v in value) + "]"
    return json.dumps(value)


def line(row: dict[str, Any], rng: random.Random, duplicate: bool) -> str:
    text = write(row, rng)
    if duplicate:  # a duplicate key: json.loads keeps the last, which is the row's own value
        present = [k for k, v in row.items() if v is not MISSING]
        if present:
            key = rng.choice(present)
            text = "{" + write_string(key, rng) + ':"dup",' + text[1:]
    assert json.loads(text) == clean(row)
    return text


def clean(value: Any) -> Any:
    """The value json.loads reads back (MISSING members left out)."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if v is not MISSING}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


# ------------------------------------------------------------------------------------------------------ comparing


def outcome(files: dict[Path, str], eager: bool, year: int) -> Any:
    try:
        datasets = load_datasets(list(files), kinds=files, eager=eager)
        measured = measure(datasets, year=year)
    except Exception as exc:  # both paths must refuse alike (a DatasetError says the same of a file)
        return ("raised", type(exc).__name__)
    return (measured.comparable(), measured.rows_read, sorted((bad.file, bad.line) for bad in datasets.bad_rows))


def to_parquet(path: Path) -> Path | None:
    target = path.with_suffix(".parquet")
    try:
        with duckdb.connect() as con:
            con.execute(f"COPY (SELECT * FROM read_json('{path}', format='newline_delimited')) TO '{target}' "
                        "(FORMAT parquet)")
            types = {str(row[0]): str(row[1])
                     for row in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{target}')").fetchall()}
    except duckdb.Error:
        return None
    # A column DuckDB typed JSON (mixed types in the NDJSON): the engine reads its JSON values, the full-schema path
    # its JSON text (known disagreement 5).
    if not KNOWN and any("JSON" in kind for kind in types.values()):
        return None
    # An all-null DanhSachLePhi (type NULL): the engine refuses the file (known disagreement 6).
    if not KNOWN and types.get("DanhSachLePhi") == '"NULL"':
        return None
    # A list field stored as something else than a list (a number, a string): the engine reads it as no list, the
    # full schema breaks the row (known disagreement 4).
    if not KNOWN and any(not types[name].endswith("]") and types[name] != '"NULL"' for name in LISTS if name in types):
        return None
    return target


def check(dossier_rows: list, transaction_rows: list, seed: int, split: int, year: int, parquet: bool) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(dir="/tmp/review2") as directory:
        root = Path(directory)
        files: dict[Path, str] = {}
        for kind, rows in (("dossiers", dossier_rows), ("transactions", transaction_rows)):
            cut = min(split, len(rows))  # two files of one kind when split > 0
            for part, chunk in enumerate((rows[:cut], rows[cut:]) if cut else (rows,)):
                path = root / f"{kind}-{part}.ndjson"
                path.write_text("".join(line(r, rng, rng.random() < 0.05) + "\n" for r in chunk), encoding="utf-8")
                if parquet:
                    converted = to_parquet(path)
                    if converted is None:
                        continue
                    path = converted
                files[path] = kind
        if not files:
            return
        engine, eager = outcome(files, False, year), outcome(files, True, year)
        if engine != eager:
            texts = {p.name: p.read_text(encoding="utf-8") for p in root.glob("*.ndjson")}
            raise AssertionError(f"engine != eager\nfiles: {texts}\nengine: {engine}\neager:  {eager}")


COMMON = dict(deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@given(st.lists(dossiers(), min_size=1, max_size=12), st.lists(transactions(), max_size=10),
       st.integers(0, 2**32), st.integers(0, 4), st.sampled_from([2023, 2022]))
@settings(max_examples=EXAMPLES, **COMMON)
def test_ndjson_engine_equals_the_full_schema(dossier_rows, transaction_rows, seed, split, year):
    check(dossier_rows, transaction_rows, seed, split, year, parquet=False)


@given(st.lists(dossiers(), min_size=1, max_size=12), st.lists(transactions(), max_size=10),
       st.integers(0, 2**32), st.integers(0, 4), st.sampled_from([2023, 2022]))
@settings(max_examples=EXAMPLES // 2, **COMMON)
def test_parquet_engine_equals_the_full_schema(dossier_rows, transaction_rows, seed, split, year):
    check(dossier_rows, transaction_rows, seed, split, year, parquet=True)


def _compare_files(files: dict[Path, str], year: int = 2023) -> None:
    engine, eager = outcome(files, False, year), outcome(files, True, year)
    assert engine == eager, f"engine: {engine}\neager:  {eager}"
    assert engine[0] != "raised", engine


GOOD_LINE = ('{"MaHoSo": "000.00.06.H40-230101-0001", "MaTTHC": "1.000001", "TenTTHC": "T", "ChuHoSo": "An", '
             '"TrangThaiHoSo": "9", "NgayTiepNhan": "20230101080000"')
LENIENT = "DuckDB reads JSON that Python's json refuses (the full-schema path's reader): a known gap"
NOT_A_LIST = "a Parquet list field stored as text or a struct reads as no list (NULL) to the engine: a known gap"


@pytest.mark.parametrize("text", [
    pytest.param(GOOD_LINE + ",}\n", marks=pytest.mark.xfail(strict=True, reason=LENIENT)),  # a trailing comma
    pytest.param(GOOD_LINE + ', "X": [1,]}\n', marks=pytest.mark.xfail(strict=True, reason=LENIENT)),
    pytest.param(GOOD_LINE + ', "DanhSachLePhi": [{"Gia": nan}]}\n', marks=pytest.mark.xfail(strict=True,
                                                                                          reason=LENIENT)),
    "\ufeff" + GOOD_LINE + "}\n",  # a byte-order mark: both paths ignore it
    GOOD_LINE + ', "Email": "\\ud800"}\n',  # a lone surrogate: a bad row to both (p111 kpi failed on it)
])
def test_known_gaps_json_text(tmp_path, text):
    path = tmp_path / "dossiers.ndjson"
    path.write_text(text, encoding="utf-8")
    _compare_files({path: "dossiers"})


@pytest.mark.parametrize("columns", [
    "DATE '2023-01-01' AS DuocThanhToanTrucTuyen", "[{'Gia': true}] AS DanhSachLePhi",
    "[1] AS DanhSachHoSoBoSung", "['x'] AS DSKetNoiCSDL", "[NULL]::STRUCT(Gia VARCHAR)[] AS DanhSachLePhi",
    pytest.param("'[{\"MaCSDL\": \"x\"}]' AS DSKetNoiCSDL", marks=pytest.mark.xfail(strict=True, reason=NOT_A_LIST)),
    pytest.param("{'a': 1} AS DanhSachLePhi", marks=pytest.mark.xfail(strict=True, reason=NOT_A_LIST)),
    "NULL AS DanhSachLePhi",  # a column of nulls only (type NULL)
    "CASE WHEN i = 1 THEN '\"9\"' ELSE '9' END::JSON AS TrangThaiHoSo",  # DuckDB's JSON type: its values
])
def test_known_gaps_parquet(tmp_path, columns):
    path = tmp_path / "dossiers.parquet"
    base = ("'000.00.06.H40-230101-000' || i AS MaHoSo, '1.000001' AS MaTTHC, 'T' AS TenTTHC, 'An' AS ChuHoSo, "
            "'9' AS TrangThaiHoSo, '20230101080000' AS NgayTiepNhan")
    if "AS TrangThaiHoSo" in columns:
        base = base.replace(", '9' AS TrangThaiHoSo", "")
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT {base}, {columns} FROM range(1, 3) t(i)) TO '{path}' (FORMAT parquet)")
    _compare_files({path: "dossiers"})
