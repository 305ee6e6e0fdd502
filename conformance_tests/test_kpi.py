"""The plan's ratio targets (P111-KPI-*), measured over the SUT's whole year of dossiers, not a sample, per level
where the plan distinguishes levels, against the catalog's thresholds for the evaluation year.

Definitions: harness/data/metrics.yaml (each cites the plan's sentence through its requirement id).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pytest

from harness.config.target import Target
from harness.core.catalog import load_catalog
from harness.core.results import RunRecord
from harness.core.verdicts import ConformanceWarning, NotTested, Verdict, not_applicable
from harness.metrics import MetricResult, load_rows, measure, score766
from harness.metrics.definitions import load_definitions
from harness.metrics.results import build_results
from harness.pytest import barrier
from harness.sut import drivers
from harness.sut.checking import expect
from harness.sut.drivers import Driver, DriverError

# Every metric requirement of the catalog: a metric added there is measured here without editing the suite.
METRICS = tuple(r.id for r in load_catalog() if r.kind == "metric")
EXPORTS = ("dossiers", "procedures", "agencies", "transactions")


@pytest.fixture(scope="session")
def metric_results(
    p111_driver: Driver, p111_target: Target, p111_run: RunRecord, pytestconfig: pytest.Config
) -> list[MetricResult | ExportRefused]:
    """Every figure of the evaluation year, from the SUT's export, read after every other check of the run (on
    every pytest-xdist worker) made its transactions; recorded in the report."""
    late = barrier.wait(pytestconfig)
    if late:
        raise NotTested(
            f"các tiến trình {', '.join(late)} chưa chạy xong các phép kiểm tra khác sau {barrier.WAIT_SECONDS:.0f} s "
            f"/ workers {', '.join(late)} did not finish the other checks within {barrier.WAIT_SECONDS:.0f} s: the "
            "export would be a snapshot taken before this run's own transactions"
        )
    offered = offered_exports(p111_driver)
    try:
        # An export the system declares it does not offer is not asked for: None, never a fake empty source.
        data = {kind: p111_driver.export(kind) if offered is None or kind in offered else None for kind in EXPORTS}
    except DriverError as exc:
        if exc.refused_with is None:
            raise  # no answer, or not the rows the driver expects: ERROR, naming it
        # The SUT refused its export: every figure measured from it fails (test_target_is_met).
        return [ExportRefused(str(exc))]
    datasets = load_rows(**data)
    if datasets.bad_rows:
        counts = ", ".join(f"{kind}: {n}" for kind, n in datasets.bad_row_counts().items())
        first = datasets.bad_rows[0]
        warnings.warn(
            ConformanceWarning(
                f"{len(datasets.bad_rows)} bad export row(s) not counted ({counts}); first: {first.file} line "
                f"{first.line}: {first.reason}"
            ),
            stacklevel=1,
        )
    # The levels of the agencies in the data come from the SUT's own registry export when it has one.
    registry = None if data["agencies"] else (p111_target.agencies or None)
    measurements = measure(datasets, year=p111_target.year, agencies=registry)
    results = build_results(measurements)
    p111_run.metrics.extend(r.as_dict() for r in results)
    # The portal's own QĐ 766 scoring of the same year, as far as dossier data can compute it.
    province = next(s for s in score766.score_dossiers(measurements) if s.scope == "province")
    p111_run.score766 = score766.report_block(province)
    return results


@dataclass(frozen=True)
class ExportRefused:
    """The SUT refused the export of the year's data (answered with another HTTP status than the data)."""

    reason: str


def offered_exports(driver: Driver) -> tuple[str, ...] | None:
    """The exports the system declares (Driver.offered_exports: the http driver's `sut.driver_options.exports`);
    None: not declared."""
    return drivers.offered_exports(driver)


def _not_offered(requirement: str, driver: Driver) -> str | None:
    """Why a requirement cannot be measured on this system: data its definitions need that it declares it does not
    export (None: nothing declared missing)."""
    offered = offered_exports(driver)
    if offered is None:
        return None
    needs = {kind for d in load_definitions().items if d.requirement == requirement for kind in d.needs}
    missing = sorted(needs - set(offered))
    if not missing:
        return None
    return (
        f"hệ thống khai báo không cung cấp kết xuất {', '.join(missing)} (sut.driver_options.exports: "
        f"{', '.join(offered) or '—'}) / the system declares no {', '.join(missing)} export"
    )


def _figure(r: MetricResult) -> str:
    where = r.level if r.level != "all" else "toàn tỉnh / province-wide"
    reading = f", {r.reading}" if r.reading else ""
    return f"{where}{reading}: {r.numerator}/{r.denominator} = {r.ratio}% (ngưỡng / threshold {r.threshold}%)"


@pytest.mark.parametrize("requirement", [pytest.param(r, marks=pytest.mark.requirement(r)) for r in METRICS])
def test_target_is_met(
    requirement: str, metric_results: list[MetricResult], p111_target: Target, p111_driver: Driver
) -> None:
    """The year's figure reaches the plan's threshold at every level the plan names (the deciding reading)."""
    why = _not_offered(requirement, p111_driver)
    if why is not None:
        not_applicable(why)
    refused = [r for r in metric_results if isinstance(r, ExportRefused)]
    expect(
        not refused,
        f"the SUT did not deliver the year's data {requirement} is measured from",
        expected=f"the exports of {', '.join(EXPORTS)} for the evaluation year, to the officer's session "
        "(harness/data/metrics.yaml defines the figure over them)",
        received=lambda: refused[0].reason,
    )
    deciding = [r for r in metric_results if r.requirement == requirement and r.decides]
    if not deciding:
        raise NotTested(f"no figure for {requirement}: the export lacks the data it needs")
    missing = [r for r in deciding if r.verdict is Verdict.NOT_TESTED]
    if missing:
        raise NotTested("; ".join(r.reason for r in missing))
    failed = [r for r in deciding if r.verdict is Verdict.FAILED]
    expect(
        not failed,
        f"{requirement} is below the plan's threshold for {p111_target.year}",
        expected="; ".join(f"{r.level}: ≥ {r.threshold}%" for r in failed),
        received="; ".join(_figure(r) for r in failed),
        evidence="counting against it: " + "; ".join(f"{r.level}: {', '.join(r.sample) or '—'}" for r in failed),
    )
    if all(r.verdict is Verdict.NOT_APPLICABLE for r in deciding):
        not_applicable("; ".join(sorted({r.reason for r in deciding})))
