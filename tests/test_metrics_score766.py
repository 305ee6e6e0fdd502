"""QĐ 766 scoring: the portal's own reply reproduced row by row, both reply shapes, and scoring from dossier data."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from harness.metrics import measure, score766
from harness.metrics.datasets import load_rows

NAME = "formality-online-payment-tree.year-all.json"
COPY = Path(__file__).parent / "data" / "metrics" / NAME
# ../shared beside the checkout (main) or beside the worktrees' folder (a worktree under wt/)
SHARED_DIRS = [parent / "shared" / "data" / "dvcqg-766" for parent in Path(__file__).resolve().parents[2:4]]
SHARED_DIR = next((path for path in SHARED_DIRS if path.is_dir()), SHARED_DIRS[0])
SHARED = SHARED_DIR / NAME


def _check_every_row(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    reply = score766.read_reply(document)
    assert reply.group.key == "formality-online-payment-tree" and reply.shape == "parent-children"
    assert len(reply.rows) == 164
    for row in reply.rows:
        assert row.portal is not None and row.computed == row.portal, (row.department_code, row.computed, row.portal)
    source = [document["data"]["parent"], *document["data"]["children"]]
    assert [row.department_id for row in reply.rows] == [r["departmentId"] for r in source]
    assert [row.department_code for row in reply.rows] == [r["departmentCode"] for r in source]


def test_the_portal_payment_reply_is_reproduced_to_the_last_row():
    _check_every_row(COPY)


def test_the_rows_where_rounding_the_double_matters():
    # 1437/1541 = 93.25 %; 6 × 0.9325 is the double 5.59499…: the portal shows 5.59 (H44.125 7.22, H44.158 7.01),
    # where rounding the decimal 5.595 half-up would give 5.60.
    rows = {row.department_code: row for row in score766.read_reply(json.loads(COPY.read_text("utf-8"))).rows}
    for code, total in (("H44.125", Decimal("7.22")), ("H44.158", Decimal("7.01"))):
        assert rows[code].components[0].ratio == Decimal("93.25")
        assert rows[code].components[0].points == Decimal("5.59")
        assert rows[code].computed == total == rows[code].portal


@pytest.mark.skipif(not SHARED.is_file(), reason=f"{SHARED} is not present (a checkout without ../shared)")
def test_the_shared_copy_is_reproduced_too():
    _check_every_row(SHARED)


@pytest.mark.skipif(not SHARED_DIR.is_dir(), reason=f"{SHARED_DIR} is not present (a checkout without ../shared)")
def test_every_row_of_every_real_reply_is_reproduced_and_identified():
    files = sorted(SHARED_DIR.glob("*.json"))
    assert files
    for path in files:
        document = json.loads(path.read_text(encoding="utf-8"))
        reply = score766.read_reply(document)
        for row in reply.rows:
            assert row.department_id or row.department_code, path.name
            assert row.computed == row.portal, (path.name, row.department_id, row.computed, row.portal)


def test_overview_evaluation_shape_with_metrics():
    reply = {"data": {
        "overview": {"departmentCode": "H40", "totalScore": 14.5, "metrics": [
            {"code": "ORIGINAL_RESULT_AVAILABLE", "numerator": 50, "denominator": 100, "ratio": 50, "score": 3,
             "maxScore": 6},
            {"code": "REUSED_DIGITIZED_DATA", "numerator": 40, "denominator": 100, "ratio": 40, "score": 1,
             "maxScore": 2},
            {"code": "ELECTRONIC_CERTIFIED_COPY", "numerator": None, "denominator": None, "ratio": 100, "score": 2,
             "maxScore": 2},
            {"code": "SO_HOA_GIAY_TO_GIAI_QUYET", "numerator": 3, "denominator": 2, "score": 4, "maxScore": 4},
        ]},
        "evaluation": [{"departmentCode": "H40.01", "totalScore": 6, "metrics": [
            {"code": "PETITION_PROCESSING_ON_TIME", "numerator": 0, "denominator": 0, "score": 6, "maxScore": 6},
            {"code": "PETITION_CLASSIFICATION_STAFF", "numerator": 3, "denominator": 4, "score": None,
             "maxScore": 0},
            {"code": "DOSSIER_RECEIVING_SATISFACTION", "numerator": 0, "denominator": 0, "score": 0, "maxScore": 6},
        ]}],
    }}
    parsed = score766.read_reply(reply)
    overview, child = parsed.rows
    assert parsed.shape == "overview-evaluation" and parsed.group.key == "dossier-digitized"
    assert [c.points for c in overview.components] == [Decimal("3.00"), Decimal("1.00"), Decimal(2), Decimal("4.00")]
    assert overview.computed == Decimal("10.00")
    assert [c.points for c in child.components] == [Decimal(6), None, Decimal(0)]
    assert child.computed == child.portal


def test_a_metric_with_numerator_and_denominator_is_scored_from_the_exact_fraction():
    # A real digitisation row (domain.md section 6): 2653/3306 at weight 6. The shown ratio 80.25 % would give
    # 6 × 0.8025 = 4.815 → 4.82; the portal computes 6 × 2653/3306 = 4.8149… → 4.81.
    metric = {"code": "ORIGINAL_RESULT_AVAILABLE", "numerator": 2653, "denominator": 3306, "ratio": 80.25,
              "score": 4.81, "maxScore": 6}
    reply = score766.read_reply({"data": {"overview": {"departmentId": "d-1", "totalScore": 4.81,
                                                       "metrics": [metric]}, "evaluation": []}})
    (row,) = reply.rows
    (component,) = row.components
    assert component.ratio == Decimal("80.25") and component.points == Decimal("4.81") == component.portal
    assert row.computed == row.portal == Decimal("4.81")
    assert score766.points("capped", 6, Decimal("80.25")) == Decimal("4.82")  # what rounding twice would give
    # Rounded once and exactly: 6 × 1/1200 = 0.005 is a tie, half-up gives 0.01 (28-digit decimals would give 0.00).
    assert score766.points_from_counts("linear", 6, 1, 1200) == Decimal("0.01")
    assert score766.points_from_counts("reuse", 2, 1, 0) == Decimal("0.00")
    assert score766.points_from_counts("complaint", 6, 0, 0) == Decimal(6)


def test_rows_the_portal_identifies_only_by_department_id_keep_it():
    # The satisfaction and transparency groups give a row only its departmentId.
    reply = score766.read_reply({"data": {
        "overview": {"departmentId": "019d-parent", "departmentName": "UBND tỉnh", "totalScore": 6, "metrics": [
            {"code": "PETITION_PROCESSING_ON_TIME", "numerator": 0, "denominator": 0, "score": 6, "maxScore": 6}]},
        "evaluation": [
            {"departmentId": f"019d-{i}", "departmentName": f"Sở {i}", "totalScore": 3, "metrics": [
                {"code": "PETITION_HANDLING_SATISFACTION", "numerator": 1, "denominator": 2, "score": 3,
                 "maxScore": 6}]} for i in range(3)
        ],
    }})
    assert reply.group.key == "handling-satisfaction"
    assert [row.department_id for row in reply.rows] == ["019d-parent", "019d-0", "019d-1", "019d-2"]
    assert all(row.department_code is None and row.computed == row.portal for row in reply.rows)
    assert [row.as_dict()["departmentId"] for row in reply.rows][1:] == ["019d-0", "019d-1", "019d-2"]
    assert set(score766.combine_replies([reply])) == {"019d-parent", "019d-0", "019d-1", "019d-2"}


def test_the_real_reply_without_its_codes_still_joins_every_row_by_id():
    # The real reply with departmentCode taken away, as an id-only group gives it: every row keeps its identity.
    document = json.loads(COPY.read_text("utf-8"))
    source = [document["data"]["parent"], *document["data"]["children"]]
    for row in source:
        del row["departmentCode"]
    reply = score766.read_reply(document)
    ids = [row.as_dict()["departmentId"] for row in reply.rows]
    assert ids == [r["departmentId"] for r in source] and len(set(ids)) == 164
    assert len(score766.combine_replies([reply])) == 164


def test_rounding_half_up_at_every_step_and_bands():
    assert score766.ratio_percent(1, 8) == Decimal("12.50") and score766.ratio_percent(2, 3) == Decimal("66.67")
    assert score766.points("linear", 6, Decimal("93.25")) == Decimal("5.60")  # 5.595 rounds half up
    assert score766.points("payment-b", 2, Decimal("90")) == Decimal("2.00")
    assert score766.band(Decimal(90)) == ("Xuất sắc", "excellent") and score766.band(Decimal("49.99"))[1] == "weak"


def test_not_a_reply_is_refused():
    with pytest.raises(score766.ReplyError):
        score766.read_reply({"data": {"rows": []}})
    with pytest.raises(score766.ReplyError):
        score766.read_reply([1, 2])


def test_scoring_from_dossier_data_per_department_level_and_province():
    rows = [{"MaHoSo": f"000.00.06.H40-230301-{i:04d}", "MaTTHC": "1.000001", "TenTTHC": "T", "ChuHoSo": "A",
             "TrangThaiHoSo": "10", "KenhThucHien": "2" if i < 3 else "1", "NgayTiepNhan": "20230301080000",
             "NgayHenTra": "20230310170000", "NgayKetThucXuLy": "20230305100000",
             "DanhSachLePhi": [{"Gia": "1000"}], "DuocThanhToanTrucTuyen": "1" if i < 2 else "0",
             "DanhSachGiayToKetQua": [{"DuongDanTepTinKetQua": "https://x" if i else ""}]} for i in range(4)]
    measurements = measure(load_rows(dossiers=rows, agencies=[{"code": "000.00.06.H40", "level": "province"}]),
                           year=2023)
    scores = {(s.scope, s.code): s for s in score766.score_dossiers(measurements)}
    assert set(scores) == {("department", "000.00.06.H40"), ("level", "province"), ("province", "province")}
    province = scores[("province", "province")]
    assert province.groups["dvc-progress-tree"]["ON_TIME"] == Decimal("20.00")
    assert province.groups["provide-online-tree"]["ONLINE_DOSSIERS"] == Decimal("9.00")  # 12 × 3/4
    # payment: 6 × 50% + min(2, 2.5 × 100%) + 2.5 × 100%
    assert sum(province.groups["formality-online-payment-tree"].values()) == Decimal("7.50")
    assert province.groups["dossier-digitized"]["ORIGINAL_RESULT_AVAILABLE"] == Decimal("4.50")
    assert province.groups["transparency"]["PUBLISH_ON_TIME"] is None
    assert province.as_dict()["partial"] is True
