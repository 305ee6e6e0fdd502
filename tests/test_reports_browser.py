"""report.html in a real headless browser (Debian's chromium driven by playwright): loads from disk without console
errors, shows the verdict table, and opening a failed requirement shows its evidence."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.reports_support import HOSTILE, write_synthetic
from tests.support import plan_requirement_count

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Never `playwright install`: it downloads a browser; Debian's chromium is installed by .ci/run instead.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install '.[test]')")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run does)")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def test_the_report_opens_from_disk_and_shows_a_failed_requirements_evidence(browser, tmp_path: Path):
    write_synthetic(tmp_path / "out")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"request {request.url}"))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto((tmp_path / "out" / "report.html").as_uri())

    assert page.locator("#verdict-table").is_visible()
    assert page.locator("#verdict-table tbody tr").count() == plan_requirement_count()
    assert page.locator("#overall-verdict").inner_text() == "KHÔNG ĐẠT"
    page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
    assert (tmp_path / "report.png").stat().st_size > 10_000

    failed = page.locator('details.req[data-verdict="FAILED"]').first
    evidence = failed.locator(".exchange").first
    assert not evidence.is_visible(), "requirements start folded"
    failed.locator("summary").first.click()
    assert evidence.is_visible()
    assert "POST http://sut.test/api/dossiers" in evidence.inner_text()
    assert HOSTILE in failed.inner_text(), "the SUT's script is shown as text"

    page.click("#collapse-all")
    assert not evidence.is_visible()
    page.click("#expand-all")
    assert evidence.is_visible()
    assert problems == [] and dialogs == []
