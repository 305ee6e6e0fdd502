"""The rules of data/metrics.yaml written in SQL for DuckDB: the columns read, what breaks the schema, each
row's facts, and how rows group (the same rules harness.metrics.oracle writes in Python).

The portal's values are all strings: a number, a boolean or an object where the schema wants a string breaks the row.
NDJSON is therefore read field by field as JSON text (`"2"` for the string, `2` for the number), and every pattern
and literal is written with the quotes in it (`Sql(json=True)`): comparing JSON texts costs what comparing the values
did. A Parquet file whose columns are stored as text cannot hold such a value, and is read as the text itself
(`Sql(json=False)`), which keeps DuckDB's dictionary encoding (a function runs once per distinct value); one with a
column stored otherwise is read as JSON text too. Only a value the SQL hands on (a key, a sample) loses its quotes.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.metrics.results import SAMPLE_SIZE

_DOSSIER_TEXTS = ("MaHoSo", "MaTTHC", "TenTTHC", "ChuHoSo", "KenhThucHien", "TrangThaiHoSo", "NgayTiepNhan",
                  "NgayHenTra", "NgayKetThucXuLy", "DuocThanhToanTrucTuyen", "HoSoCoThanhPhanSoHoa")
_TRANSACTION_TEXTS = ("id", "at", "action", "MaHoSo", "subject", "assurance", "transfer_method")

_DIGITS_14 = "[0-9]" * 14
_MONTH_DAY = (r"(?:(?:0[13578]|1[02])(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)(?:0[1-9]|[12][0-9]|30)"
              r"|02(?:0[1-9]|1[0-9]|2[0-8]))")
# %y%m%d: 00–68 are 20xx and 69–99 19xx, so a year is leap exactly when its two digits divide by 4.
_YYMMDD = rf"(?:[0-9]{{2}}{_MONTH_DAY}|(?:[02468][048]|[13579][26])0229)"
_DOSSIER_CODE = rf"[0-9]{{3}}\.[0-9]{{2}}\.[0-9]{{2}}\.[A-Z][0-9]{{2}}-{_YYMMDD}-[0-9]{{4,5}}"
_PLAIN_NUMBER = r"[+-]?[0-9]+(\.[0-9]+)?"


class Sql:
    """The SQL of one way of reading a text field: as its JSON text (`json`) or as the text itself."""

    def __init__(self, *, json: bool) -> None:
        self.json = json
        self.quote = '"' if json else ""

    def columns(self, texts: tuple[str, ...], lists: Mapping[str, str]) -> dict[str, str]:
        """The reader's declared types: each text field, then the lists (`{text}`: where an item field is text)."""
        kind = "JSON" if self.json else "VARCHAR"
        return {**dict.fromkeys(texts, kind), **{name: shape.format(text=kind) for name, shape in lists.items()}}

    def literals(self, *values: str) -> str:
        """`literals('1', '2')` → `'"1"', '"2"'` (plain ASCII values only)."""
        return ", ".join(f"'{self.quote}{value}{self.quote}'" for value in values)

    def at(self, column: str, start: int, length: int) -> str:
        """`length` characters of the text from its `start`-th (1-based, after the quote)."""
        return f"substr({column}, {start + len(self.quote)}, {length})"

    def length(self, characters: int) -> int:
        return characters + 2 * len(self.quote)

    def unquoted(self, column: str) -> str:
        """The text without its quotes: only for what the SQL hands on (a key, a sample), never per row in the facts
        (slicing costs more than all of a row's comparisons together)."""
        return f"{column}[2:-2]" if self.json else column

    def decoded(self, column: str) -> str:
        """Any text (escapes and all) as the text it stands for."""
        return f"json_extract_string(CAST({column} AS JSON), '$')" if self.json else column

    def not_text(self, column: str) -> str:
        """Present (not null) and not a string: a number, a boolean, an object or a list where the schema wants text."""
        return f"({column} IS NOT NULL AND NOT starts_with({column}, '\"'))" if self.json else "false"

    def bad_texts(self, items: str, field: str) -> str:
        """A list whose items hold something other than text (or null) in `field`."""
        if not self.json:
            return "false"
        return f"coalesce(list_bool_or(list_transform({items}, lambda i: {self.not_text(f'i.{field}')})), false)"

    # The portal's formats (harness.core.formats), deciding value for value what the formats decide
    # (tests/test_metrics_sql_formats.py holds them to it). A date is fourteen digits (GLOB: no sign, space or other
    # digit script, which strptime would skip or take) that strptime reads as a day that exists, year 0000 excepted
    # (DuckDB takes it as 1 BC): a third of the cost of one RE2 match with the calendar written out. A dossier code
    # keeps RE2, its date part being two-digit years.

    def is_datetime(self, column: str) -> str:
        q = self.quote
        return (f"({column} GLOB '{q}{_DIGITS_14}{q}' AND NOT starts_with({column}, '{q}0000') "
                f"AND try_strptime({column}, '{q}%Y%m%d%H%M%S{q}') IS NOT NULL)")

    def is_procedure_code(self, column: str) -> str:
        q, national = self.quote, "[12]." + "[0-9]" * 6
        local = f"{national}.[0-9][0-9][0-9].[0-9][0-9].[0-9][0-9].[A-Z][0-9][0-9]"
        return f"({column} GLOB '{q}{national}{q}' OR {column} GLOB '{q}{local}{q}')"

    def is_dossier_code(self, column: str) -> str:
        return f"regexp_full_match({column}, '{self.quote}{_DOSSIER_CODE}{self.quote}')"

    def empty(self) -> str:
        return self.literals("")

    def t(self, expression: str) -> str:
        """text(): the string with spaces trimmed, empty for null (oracle.text). Trimming costs more than all the
        rest of a row's facts together, so it runs only on a value that starts or ends with a space (hardly any)."""
        q = self.quote
        trimmed = f"'{q}' || trim({self.unquoted(expression)}, ' ') || '{q}'" if q else f"trim({expression}, ' ')"
        return (f"coalesce(CASE WHEN starts_with({expression}, '{q} ') OR ends_with({expression}, ' {q}') "
                f"THEN {trimmed} ELSE {expression} END, {self.empty()})")

    def checked(self, column: str) -> str:
        """text() of a field the schema check holds to a code or a date: in a row that keeps the schema it has no
        space to trim, so empty for null is all that is left (a bad row's facts are never counted)."""
        return f"coalesce({column}, {self.empty()})"

    def bad_date(self, column: str) -> str:
        return f"({column} IS NOT NULL AND {column} <> {self.empty()} AND NOT {self.is_datetime(column)})"


def _fee_positive(gia: str) -> str:
    """oracle.fee_positive on a JSON value (read as JSON however the row's texts are): DuckDB holds it as its JSON
    text, re-serialised (escapes decoded where they need not be escaped, numbers normalised). A string holding a plain
    number counts when above 0 (any escape left in it is a character no plain number has, so the pattern runs on the
    text, quotes and all); any other value counts when it is a number above 0 ('true', '{…}', '[…]' cast to none)."""
    text = f"CAST({gia} AS VARCHAR)"
    return (f"CASE WHEN starts_with({text}, '\"') "
            f"THEN coalesce(regexp_full_match({text}, '\" *{_PLAIN_NUMBER} *\"') "
            f"AND try_cast(trim({text}[2:-2], ' ') AS DOUBLE) > 0, false) "
            f"ELSE coalesce(try_cast({text} AS DOUBLE) > 0, false) END")


def _any_fee(fees: str) -> str:
    """Whether any fee of the list counts, false for an empty or null list. Most lists hold one fee: it is tested
    directly, the lambda (which costs more than the test) only runs for longer lists."""
    return (f"CASE coalesce(len({fees}), 0) WHEN 0 THEN false WHEN 1 THEN {_fee_positive(f'{fees}[1].Gia')} "
            f"ELSE coalesce(list_bool_or(list_transform({fees}, lambda f: {_fee_positive('f.Gia')})), false) END")


def _not_objects(items: str) -> str:
    """A list (read as JSON texts) with an item that is not an object: null, a number, a string, a list."""
    return (f"coalesce(list_bool_or(list_transform({items}, "
            f"lambda i: i IS NULL OR NOT starts_with(CAST(i AS VARCHAR), '{{'))), false)")


def _bad_amount(gia: str) -> str:
    """A fee's Gia that is neither a string, a number nor null (the schema's types): a boolean, an object, a list."""
    text = f"CAST({gia} AS VARCHAR)"
    return f"({text} IN ('true', 'false') OR starts_with({text}, '{{') OR starts_with({text}, '['))"


def _bad_amounts(fees: str) -> str:
    """As _any_fee: the one fee of most lists tested directly, a lambda only for longer lists."""
    return (f"CASE coalesce(len({fees}), 0) WHEN 0 THEN false WHEN 1 THEN coalesce({_bad_amount(f'{fees}[1].Gia')}, "
            f"false) ELSE coalesce(list_bool_or(list_transform({fees}, lambda f: {_bad_amount('f.Gia')})), false) END")


def _dossier_bad(s: Sql) -> str:
    """The schema's constraints on the fields the metrics read, and on the required fields; first broken one wins."""
    return f"""CASE
  WHEN MaHoSo IS NULL THEN '$: ''MaHoSo'' is a required property'
  WHEN NOT {s.is_dossier_code('MaHoSo')} THEN '$.MaHoSo: not a p111-dossier-code'
  WHEN MaTTHC IS NULL THEN '$: ''MaTTHC'' is a required property'
  WHEN NOT {s.is_procedure_code('MaTTHC')} THEN '$.MaTTHC: not a p111-procedure-code'
  WHEN TenTTHC IS NULL THEN '$: ''TenTTHC'' is a required property'
  WHEN {s.not_text('TenTTHC')} THEN '$.TenTTHC: not a string'
  WHEN TenTTHC = {s.empty()} THEN '$.TenTTHC: should be non-empty'
  WHEN ChuHoSo IS NULL THEN '$: ''ChuHoSo'' is a required property'
  WHEN {s.not_text('ChuHoSo')} THEN '$.ChuHoSo: not a string'
  WHEN ChuHoSo = {s.empty()} THEN '$.ChuHoSo: should be non-empty'
  WHEN TrangThaiHoSo IS NULL THEN '$: ''TrangThaiHoSo'' is a required property'
  WHEN TrangThaiHoSo NOT IN ({s.literals(*map(str, range(1, 11)))}) THEN '$.TrangThaiHoSo: not a status 1–10'
  WHEN KenhThucHien NOT IN ({s.literals('1', '2', '3', '')}) THEN '$.KenhThucHien: not one of 1, 2, 3'
  WHEN {s.bad_date('NgayTiepNhan')} THEN '$.NgayTiepNhan: not a p111-datetime'
  WHEN {s.bad_date('NgayHenTra')} THEN '$.NgayHenTra: not a p111-datetime'
  WHEN {s.bad_date('NgayKetThucXuLy')} THEN '$.NgayKetThucXuLy: not a p111-datetime'
  WHEN HoSoCoThanhPhanSoHoa NOT IN ({s.literals('0', '1', '')}) THEN '$.HoSoCoThanhPhanSoHoa: not one of 0, 1'
  WHEN {s.not_text('DuocThanhToanTrucTuyen')} THEN '$.DuocThanhToanTrucTuyen: not a string'
  WHEN {s.bad_texts('DanhSachGiayToKetQua', 'DuongDanTepTinKetQua')}
       THEN '$.DanhSachGiayToKetQua: a DuongDanTepTinKetQua not a string'
  WHEN {s.bad_texts('TaiLieuNop', 'DuocTaiSuDung')} THEN '$.TaiLieuNop: a DuocTaiSuDung not a string'
  WHEN list_position(DanhSachLePhi, NULL) IS NOT NULL OR list_position(DanhSachGiayToKetQua, NULL) IS NOT NULL
       OR list_position(TaiLieuNop, NULL) IS NOT NULL THEN '$: an item of a list is null, not an object'
  WHEN {_not_objects('DanhSachHoSoBoSung')} THEN '$.DanhSachHoSoBoSung: an item not an object'
  WHEN {_not_objects('DSKetNoiCSDL')} THEN '$.DSKetNoiCSDL: an item not an object'
  WHEN {_bad_amounts('DanhSachLePhi')} THEN '$.DanhSachLePhi: a Gia neither a string, a number nor null'
END"""


def _dossier_facts(s: Sql) -> str:
    """Per-row facts of a dossier (oracle: dossier_year, agency_of, national_code, fee_bearing, paid_online, …). Only
    rows that keep the schema are counted (a bad row's keys are NULL and its group is never read), and their MaHoSo
    matches _DOSSIER_CODE: the agency is its first 13 characters and the date part starts at the 15th."""
    return f"""
  MaHoSo AS code,
  {s.at('MaHoSo', 1, 13)} AS agency,
  {s.at('MaTTHC', 1, 8)} AS proc,
  CASE WHEN length(NgayTiepNhan) = {s.length(14)} THEN try_cast({s.at('NgayTiepNhan', 1, 4)} AS INTEGER)
       ELSE 2000 + try_cast({s.at('MaHoSo', 15, 2)} AS INTEGER) END AS year,
  {s.checked('KenhThucHien')} = {s.literals('2')} AS online,
  {_any_fee('DanhSachLePhi')} AS fee,
  {s.t('DuocThanhToanTrucTuyen')} IN ({s.literals('1', '2')}) AS paid,
  TrangThaiHoSo IN ({s.literals('9', '10')}) AND coalesce(len(DanhSachGiayToKetQua), 0) > 0 AS fwr,
  coalesce(list_bool_and(list_transform(DanhSachGiayToKetQua,
           lambda r: {s.t('r.DuongDanTepTinKetQua')} <> {s.empty()})), true) AS digitised,
  TrangThaiHoSo IN ({s.literals('9', '10')}) AND length({s.checked('NgayKetThucXuLy')}) = {s.length(14)}
      AND length({s.checked('NgayHenTra')}) = {s.length(14)} AS dated,
  {s.checked('NgayKetThucXuLy')} <= {s.checked('NgayHenTra')} AND coalesce(len(DanhSachHoSoBoSung), 0) <= 1 AS timely,
  {s.checked('HoSoCoThanhPhanSoHoa')} = {s.literals('1')} AS component,
  coalesce(list_bool_or(list_transform(TaiLieuNop,
           lambda d: {s.t('d.DuocTaiSuDung')} IN ({s.literals('1', 'true', 'True')}))), false) AS reused,
  coalesce(len(DSKetNoiCSDL), 0) > 0 AS population
"""


def _transaction_bad(s: Sql) -> str:
    return f"""CASE
  WHEN id IS NULL THEN '$: ''id'' is a required property'
  WHEN {s.not_text('id')} THEN '$.id: not a string'
  WHEN id = {s.empty()} THEN '$.id: should be non-empty'
  WHEN "at" IS NULL THEN '$: ''at'' is a required property'
  WHEN NOT {s.is_datetime('"at"')} THEN '$.at: not a p111-datetime'
  WHEN action IS NULL THEN '$: ''action'' is a required property'
  WHEN action NOT IN ({s.literals('create', 'update', 'status', 'transfer', 'payment', 'result')})
       THEN '$.action: not a known action'
  WHEN MaHoSo IS NOT NULL AND NOT {s.is_dossier_code('MaHoSo')} THEN '$.MaHoSo: not a p111-dossier-code'
  WHEN action = {s.literals('transfer')} AND MaHoSo IS NULL THEN '$: ''MaHoSo'' is a required property'
  WHEN transfer_method NOT IN ({s.literals('electronic', 'paper')})
       THEN '$.transfer_method: expected electronic or paper'
  WHEN action = {s.literals('transfer')} AND transfer_method IS NULL
       THEN '$: ''transfer_method'' is a required property'
  WHEN {s.not_text('subject')} THEN '$.subject: not a string'
  WHEN {s.not_text('assurance')} THEN '$.assurance: not a string'
END"""


def _transaction_facts(s: Sql) -> str:
    """Per-row facts of a transaction (oracle._transactions)."""
    transfer = f"action = {s.literals('transfer')}"
    return f"""
  {s.at('"at"', 1, 4)} AS year,
  ({s.t('subject')} <> {s.empty()} AND {s.t('assurance')} <> {s.empty()}) AS authenticated,
  id,
  CASE WHEN {transfer} THEN {s.unquoted('MaHoSo')} END AS code,
  {transfer} AND transfer_method <> {s.literals('electronic')} AS on_paper
"""


@dataclass(frozen=True)
class Grouping:
    """How one kind's rows, read as `columns`, fold into group totals: each row's facts, what breaks the schema,
    the group keys and the aggregates kept per group."""

    columns: Mapping[str, str]  # field → the type the reader declares
    facts: str
    bad: str
    keys: tuple[str, ...]
    aggregates: Mapping[str, str]  # column -> SQL aggregate over the facts


def _counts(predicates: Mapping[str, str]) -> dict[str, str]:
    return {name: f"count_if({predicate})" for name, predicate in predicates.items()}


def _samples(s: Sql, predicates: Mapping[str, str]) -> dict[str, str]:
    """The SAMPLE_SIZE smallest codes of the group's rows matching each predicate (NULL when none): merged across
    groups and sources, they still hold the SAMPLE_SIZE smallest codes counting against a figure. A code held to the
    pattern sorts the same with its quotes as without, which it loses per group."""
    return {
        name: f"list_transform(min(code, {SAMPLE_SIZE}) FILTER (WHERE {predicate}), lambda c: {s.unquoted('c')})"
        for name, predicate in predicates.items()
    }


# The per-agency counts (AgencyCounts) of a group; their names are AgencyCounts' own.
DOSSIER_COUNTS = {
    "received": "true", "online": "online", "finished_dated": "dated", "on_time": "dated AND timely",
    "fee_dossiers": "fee", "fee_paid_online": "fee AND paid", "finished_with_result": "fwr",
    "digitised_results": "fwr AND digitised", "digitised_components": "component", "reused": "reused",
    "population_data": "population",
}


@functools.cache
def grouping(kind: str, *, json: bool) -> Grouping:
    """The grouping of `kind` ("dossiers" or "transactions"), its fields read as JSON text or as text."""
    s = Sql(json=json)
    if kind == "dossiers":
        return Grouping(
            columns=s.columns(_DOSSIER_TEXTS, {
                "DanhSachLePhi": "STRUCT(Gia JSON)[]",
                "DanhSachGiayToKetQua": "STRUCT(DuongDanTepTinKetQua {text})[]",
                "TaiLieuNop": "STRUCT(DuocTaiSuDung {text})[]",
                "DanhSachHoSoBoSung": "JSON[]",
                "DSKetNoiCSDL": "JSON[]",
            }),
            facts=_dossier_facts(s), bad=_dossier_bad(s), keys=("agency", "proc", "year"),
            aggregates={
                **_counts(DOSSIER_COUNTS),
                # Against the online share: every dossier of a procedure the catalog lists as not online, else the
                # offline ones.
                **_samples(s, {"sample_all": "true", "sample_offline": "NOT online",
                               "sample_unpaid": "fee AND NOT paid", "sample_undigitised": "fwr AND NOT digitised"}),
            },
        )
    # Transactions group by year and transferred dossier (NULL for the other actions): the transfer share counts
    # dossiers.
    return Grouping(
        columns=s.columns(_TRANSACTION_TEXTS, {}),
        facts=_transaction_facts(s), bad=_transaction_bad(s), keys=("year", "code"),
        aggregates={
            "records": "count(*)", "authenticated": "count_if(authenticated)", "on_paper": "bool_or(on_paper)",
            # Any text may be an id: decoded for the few rows that count against the figure only.
            "sample_unauthenticated": f"min(CASE WHEN NOT authenticated THEN {s.decoded('id')} END, {SAMPLE_SIZE})",
        },
    )


# The rows counted (valid, of every year) per kind: a column of its group totals.
RECORDS = {"dossiers": "received", "transactions": "records"}


def struct_type(columns: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"


def quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
