"""Metric data loaders: kinds, formats, bad rows with line numbers, refusal of a file that is not what it claims."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.metrics import DatasetError, load_datasets, load_rows, measure

DATA = Path(__file__).parent / "data" / "metrics"


@pytest.mark.parametrize("eager", [True, False])
def test_bad_dossier_rows_are_reported_with_their_lines_and_counted(eager):
    path = DATA / "bad-dossiers.ndjson"
    datasets = load_datasets([path], kinds={path: "dossiers"}, eager=eager)
    measurements = measure(datasets, year=2023)  # the engine reads a deferred file and adds its bad rows
    lines = sorted(bad.line for bad in datasets.bad_rows)
    assert lines == [2, 4, 5, 6]  # line 3 is blank, not a record
    reasons = {bad.line: bad.reason for bad in datasets.bad_rows}
    assert "TrangThaiHoSo" in reasons[2] and "MaHoSo" in reasons[4] and "NgayTiepNhan" in reasons[6]
    assert "JSON" in reasons[5]
    assert datasets.bad_row_counts() == {str(path): 4}
    assert measurements.rows_read["dossiers"] == 1


def test_csv_procedures_convert_booleans_and_report_a_bad_cell():
    datasets = load_datasets([DATA / "procedures.csv"])
    rows = list(datasets.rows("procedures"))
    assert [r["MaTTHC"] for r in rows] == ["1.000001", "1.000002"]
    assert rows[0]["fee_bearing"] is True and rows[1]["portal_listed_on"] is None
    assert [(b.line, "eligible_online" in b.reason) for b in datasets.bad_rows] == [(4, True)]


def test_a_file_that_is_not_what_it_claims_is_refused(tmp_path):
    agencies = tmp_path / "agencies.json"
    agencies.write_text(json.dumps([{"code": "000.00.06.H40", "level": "province"}]), encoding="utf-8")
    with pytest.raises(DatasetError, match="not a dossiers file.*looks like agencies"):
        load_datasets([agencies], kinds={agencies: "dossiers"})
    scalar = tmp_path / "x.json"
    scalar.write_text('{"a": 1}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match="cannot tell what data"):
        load_datasets([scalar])
    obj = tmp_path / "agency-registry.json"
    obj.write_text('"just a string"', encoding="utf-8")
    with pytest.raises(DatasetError):
        load_datasets([obj])


def test_json_array_rows_are_numbered_by_element(tmp_path):
    path = tmp_path / "co-quan.json"
    path.write_text(json.dumps([
        {"code": "000.00.06.H40", "level": "province"},
        {"code": "000.00.07.H40", "level": "ward"},
    ]), encoding="utf-8")
    datasets = load_datasets([path])
    assert len(list(datasets.rows("agencies"))) == 1
    assert [(b.line, "level" in b.reason) for b in datasets.bad_rows] == [(2, True)]


def test_transaction_rows_need_a_method_for_a_transfer():
    datasets = load_rows(transactions=[
        {"id": "1", "at": "20230101080000", "action": "transfer", "MaHoSo": "000.00.06.H40-230101-0001"},
        {"id": "2", "at": "20230101080000", "action": "update"},
    ])
    assert [b.line for b in datasets.bad_rows] == [1]
    assert "transfer_method" in datasets.bad_rows[0].reason
