"""Every tally and per-agency count: a query over the group totals loading made."""

from __future__ import annotations

from typing import Any

import duckdb

from harness.core.catalog import LEVELS
from harness.metrics.engine_sql import DOSSIER_COUNTS
from harness.metrics.results import ALL, SAMPLE_SIZE, AgencyCounts, Measurements, Tally


def _tally(con: duckdb.DuckDBPyConnection, counts_sql: str, against_sql: str, params: list[Any]) -> Tally:
    row = con.execute(counts_sql, params).fetchone()
    sample = [str(code) for (code,) in con.execute(f"{against_sql} ORDER BY 1 LIMIT {SAMPLE_SIZE}", params).fetchall()]
    numerator, denominator = (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)
    return Tally(numerator=numerator, denominator=denominator, against=sample)


def dossier_tallies(con: duckdb.DuckDBPyConnection, result: Measurements, year: int, have_registry: bool) -> None:
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
    sums = ", ".join(f"sum({name}) AS {name}" for name in DOSSIER_COUNTS)
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


def transaction_tallies(con: duckdb.DuckDBPyConnection, result: Measurements, year: int, *, sources: int) -> None:
    con.execute(f"CREATE TEMP VIEW ty AS SELECT * FROM transactions WHERE good AND year = '{int(year):04d}'")
    result.tallies[("auth.authenticated-transactions", ALL)] = _tally(
        con, "SELECT sum(authenticated), sum(records) FROM ty", "SELECT unnest(sample_unauthenticated) FROM ty", []
    )
    # Per dossier moved this year: on paper if any of its transfers was. One source holds one group per dossier and
    # year already; the groups of several are merged (grouping again the 2.5 M dossiers of 10^7 rows costs 0.5 s).
    con.execute(
        "CREATE TEMP VIEW moved AS SELECT code, on_paper FROM ty WHERE code IS NOT NULL" if sources == 1 else
        "CREATE TEMP TABLE moved AS SELECT code, bool_or(on_paper) AS on_paper FROM ty WHERE code IS NOT NULL "
        "GROUP BY code"
    )
    result.tallies[("transfer.electronic-share", ALL)] = _tally(
        con, "SELECT count_if(NOT on_paper), count(*) FROM moved", "SELECT code FROM moved WHERE on_paper", []
    )
