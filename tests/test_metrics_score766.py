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
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "dvcqg-766" / NAME


def _check_every_row(path: Path) -> None:
    reply = score766.read_reply(json.loads(path.read_text(encoding="utf-8")))
    assert reply.group.key == "formality-online-payment-tree" and reply.shape == "parent-children"
    assert len(reply.rows) == 164
    for row in reply.rows:
        assert row.portal is not None and abs(row.computed - row.portal) <= Decimal("0.01"), row.department_code
    assert sum(1 for row in reply.rows if row.computed == row.portal) >= 160


def test_the_portal_payment_reply_is_reproduced_within_a_hundredth():
    _check_every_row(COPY)


@pytest.mark.skipif(not SHARED.is_file(), reason=f"{SHARED} is not present (a checkout without ../shared)")
def test_the_shared_copy_is_reproduced_too():
    _check_every_row(SHARED)


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
