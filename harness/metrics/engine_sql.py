"""The rules of data/metrics.yaml written in SQL for DuckDB: the columns read, what breaks the schema, each
row's facts, and how rows group (the same rules harness.metrics.oracle writes in Python)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.metrics.results import SAMPLE_SIZE

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

# The portal's formats (harness.core.formats) in SQL, deciding value for value what the formats decide
# (tests/test_metrics_sql_formats.py holds them to it). A date is fourteen digits (GLOB: no sign, space or other digit
# script, which strptime would skip or take) that strptime reads as a day that exists, year 0000 excepted (DuckDB
# takes it as 1 BC): that is a third of the cost of one RE2 match with the calendar written out. A dossier code keeps
# RE2, its date part being two-digit years.
_DIGITS_14 = "[0-9]" * 14


def _is_datetime(column: str) -> str:
    return (f"({column} GLOB '{_DIGITS_14}' AND NOT starts_with({column}, '0000') "
            f"AND try_strptime({column}, '%Y%m%d%H%M%S') IS NOT NULL)")


def _is_procedure_code(column: str) -> str:
    national = "[12]." + "[0-9]" * 6
    local = f"{national}.[0-9][0-9][0-9].[0-9][0-9].[0-9][0-9].[A-Z][0-9][0-9]"
    return f"({column} GLOB '{national}' OR {column} GLOB '{local}')"


_MONTH_DAY = (r"(?:(?:0[13578]|1[02])(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)(?:0[1-9]|[12][0-9]|30)"
              r"|02(?:0[1-9]|1[0-9]|2[0-8]))")
# %y%m%d: 00–68 are 20xx and 69–99 19xx, so a year is leap exactly when its two digits divide by 4.
_YYMMDD = rf"(?:[0-9]{{2}}{_MONTH_DAY}|(?:[02468][048]|[13579][26])0229)"
_DOSSIER_CODE = rf"[0-9]{{3}}\.[0-9]{{2}}\.[0-9]{{2}}\.[A-Z][0-9]{{2}}-{_YYMMDD}-[0-9]{{4,5}}"


def _is_dossier_code(column: str) -> str:
    return f"regexp_full_match({column}, '{_DOSSIER_CODE}')"


_PLAIN_NUMBER = r"[+-]?[0-9]+(\.[0-9]+)?"


def _t(expression: str) -> str:
    """text(): the field with spaces trimmed, '' for null (oracle.text). trim(x, ' ') costs more than all the rest
    of a row's facts together, so it runs only on a value that starts or ends with a space (hardly any)."""
    return (f"coalesce(CASE WHEN starts_with({expression}, ' ') OR ends_with({expression}, ' ') "
            f"THEN trim({expression}, ' ') ELSE {expression} END, '')")


def _bad_date(column: str) -> str:
    return f"({column} <> '' AND NOT {_is_datetime(column)})"


# The schema's constraints on the fields the metrics read, and on the required fields; first broken one wins.
_DOSSIER_BAD = f"""CASE
  WHEN MaHoSo IS NULL THEN '$: ''MaHoSo'' is a required property'
  WHEN NOT {_is_dossier_code('MaHoSo')} THEN '$.MaHoSo: not a p111-dossier-code'
  WHEN MaTTHC IS NULL THEN '$: ''MaTTHC'' is a required property'
  WHEN NOT {_is_procedure_code('MaTTHC')} THEN '$.MaTTHC: not a p111-procedure-code'
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

def _fee_positive(gia: str) -> str:
    """oracle.fee_positive on a JSON value: DuckDB holds it as its JSON text, re-serialised (escapes decoded where
    they need not be escaped, numbers normalised). A string holding a plain number counts when above 0 (any escape
    left in it is a character no plain number has, so the pattern runs on the text, quotes and all); any other value
    counts when it is a number above 0 ('true', '{…}', '[…]' cast to no number)."""
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


def _checked(column: str) -> str:
    """text() of a field _DOSSIER_BAD holds to a code or a date: in a row that keeps the schema it has no space to
    trim, so '' for null is all that is left (a bad row's facts are never counted)."""
    return f"coalesce({column}, '')"


# Per-row facts of a dossier (oracle: dossier_year, agency_of, national_code, fee_bearing, paid_online, …). Only rows
# that keep the schema are counted (a bad row's keys are NULL and its group is never read), and their MaHoSo matches
# _DOSSIER_CODE: the agency is its first 13 characters and the date part starts at the 15th (no split_part per row).
_DOSSIER_FACTS = f"""
  MaHoSo AS code,
  left(MaHoSo, 13) AS agency,
  left(MaTTHC, 8) AS proc,
  CASE WHEN length(NgayTiepNhan) = 14 THEN try_cast(left(NgayTiepNhan, 4) AS INTEGER)
       ELSE 2000 + try_cast(substr(MaHoSo, 15, 2) AS INTEGER) END AS year,
  {_checked('KenhThucHien')} = '2' AS online,
  {_any_fee('DanhSachLePhi')} AS fee,
  {_t('DuocThanhToanTrucTuyen')} IN ('1', '2') AS paid,
  TrangThaiHoSo IN ('9', '10') AND coalesce(len(DanhSachGiayToKetQua), 0) > 0 AS fwr,
  coalesce(list_bool_and(list_transform(DanhSachGiayToKetQua,
           lambda r: {_t('r.DuongDanTepTinKetQua')} <> '')), true) AS digitised,
  TrangThaiHoSo IN ('9', '10') AND length({_checked('NgayKetThucXuLy')}) = 14
      AND length({_checked('NgayHenTra')}) = 14 AS dated,
  {_checked('NgayKetThucXuLy')} <= {_checked('NgayHenTra')} AND coalesce(len(DanhSachHoSoBoSung), 0) <= 1 AS timely,
  {_checked('HoSoCoThanhPhanSoHoa')} = '1' AS component,
  coalesce(list_bool_or(list_transform(TaiLieuNop,
           lambda s: {_t('s.DuocTaiSuDung')} IN ('1', 'true', 'True'))), false) AS reused,
  coalesce(len(DSKetNoiCSDL), 0) > 0 AS population
"""

_TRANSACTION_BAD = f"""CASE
  WHEN id IS NULL THEN '$: ''id'' is a required property'
  WHEN id = '' THEN '$.id: should be non-empty'
  WHEN "at" IS NULL THEN '$: ''at'' is a required property'
  WHEN NOT {_is_datetime('"at"')} THEN '$.at: not a p111-datetime'
  WHEN action IS NULL THEN '$: ''action'' is a required property'
  WHEN action NOT IN ('create','update','status','transfer','payment','result') THEN '$.action: not a known action'
  WHEN MaHoSo IS NOT NULL AND NOT {_is_dossier_code('MaHoSo')}
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
DOSSIER_COUNTS = {
    "received": "true", "online": "online", "finished_dated": "dated", "on_time": "dated AND timely",
    "fee_dossiers": "fee", "fee_paid_online": "fee AND paid", "finished_with_result": "fwr",
    "digitised_results": "fwr AND digitised", "digitised_components": "component", "reused": "reused",
    "population_data": "population",
}

DOSSIERS = Grouping(
    facts=_DOSSIER_FACTS, bad=_DOSSIER_BAD, keys=("agency", "proc", "year"),
    aggregates={
        **_counts(DOSSIER_COUNTS),
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
RECORDS = {"dossiers": "received", "transactions": "records"}


def struct_type(columns: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"


def quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
