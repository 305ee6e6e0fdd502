"""report.html: structure, escaping of what the SUT sent, languages, charts only when there is data."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest

from harness.core.i18n import LANGUAGES, labels
from harness.reporting.html import SCRIPT
from tests.reports_support import HOSTILE, SECRET, write_synthetic
from tests.support import plan_requirement_count

METRICS = [
    {"requirement": "P111-KPI-DIGITISATION", "level": "province", "year": 2025, "ratio": 72.5, "threshold": 70,
     "verdict": "PASSED"},
    {"requirement": "P111-KPI-DIGITISATION", "level": "commune", "year": 2025, "ratio": 40.0, "threshold": 55,
     "verdict": "FAILED"},
]
SCORE766 = {"total": 61.5, "groups": [{"key": "transparency", "vi": "Công khai, minh bạch", "points": 12, "max": 18},
                                      {"key": "dvc-progress-tree", "vi": "Tiến độ", "points": None, "max": 20}]}


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    directory = tmp_path_factory.mktemp("html")
    write_synthetic(directory)
    return (directory / "report.html").read_text(encoding="utf-8")


def test_the_page_has_identity_summary_table_and_details_in_vietnamese(page: str):
    assert page.startswith("<!DOCTYPE html>") and '<html lang="vi">' in page
    for section in ("identity", "summary", "verdicts", "details", "outputs"):
        assert f'id="{section}"' in page
    assert "Báo cáo kiểm tra tuân thủ Kế hoạch 111/KH-UBND" in page and "Kết luận chung" in page
    assert page.count('<tr data-verdict="') == plan_requirement_count(), "one row per requirement of the catalog"
    assert 'id="req-P111-SYNC-DOSSIER" data-verdict="FAILED"' in page
    assert "KHÔNG ĐẠT" in page and "Mong đợi" in page and "Nhận được" in page
    # The plan's clause, quoted.
    assert "ngay khi có quyết định công bố" in page


def test_what_the_sut_sent_is_escaped_and_only_the_pages_script_runs(page: str):
    assert HOSTILE not in page and "onerror=alert(2)>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a DongBoHoSoMC &lt;b&gt;within&lt;/b&gt; 1 s" in page
    assert page.count("<script>") == 1
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page and f"<script>{SCRIPT}</script>" in page
    assert SECRET not in page and "001099012345" not in page and "citizen@example.vn" not in page


def test_the_page_needs_no_network(page: str):
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "default-src 'none'" in page


def test_long_bodies_are_folded(page: str):
    assert page.count('<details class="body">') >= 1


def test_english_with_lang_en(tmp_path: Path):
    report = write_synthetic(tmp_path, lang="en")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert report["lang"] == "en" and '<html lang="en">' in page
    assert "Plan 111/KH-UBND conformance report" in page and "Overall verdict" in page and "Expected" in page
    assert "Dossiers synchronised to the National Public Service Portal" in page
    assert "Kết luận chung" not in page


def test_every_label_exists_in_both_languages():
    keys = [set(labels(lang)) for lang in LANGUAGES]
    assert keys[0] == keys[1]


def test_no_charts_without_metrics(page: str):
    assert 'id="metrics"' not in page and "<svg" not in page


def test_metric_and_766_charts_are_inline_svg(tmp_path: Path):
    write_synthetic(tmp_path, extra={"metrics": METRICS, "score766": SCORE766})
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="metrics"' in page and page.count("<svg") == 2
    assert page.count('class="bar v-') == 2 and "72.5%" in page and "≥ 70%" in page and "cấp xã · 2025" in page
    assert "Công khai, minh bạch" in page and "12 / 18" in page and "— / 20" in page
