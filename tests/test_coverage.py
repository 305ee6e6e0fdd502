"""Catalog coverage: every requirement of the catalog has at least one check in the suite."""

from __future__ import annotations

import pytest

from harness.core import resources
from harness.core.catalog import load_catalog

NOT_YET_CHECKED: set[str] = set()


class Collector:
    def __init__(self) -> None:
        self.requirements: set[str] = set()

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            for marker in item.iter_markers("requirement"):
                self.requirements.update(marker.args)


def test_coverage_list_is_exact():
    suite = resources.suite_dir()
    collector = Collector()
    status = pytest.main([str(suite), "-c", str(suite / "pytest.ini"), "--collect-only", "-q"], plugins=[collector])
    assert status == pytest.ExitCode.OK
    checked = collector.requirements
    assert checked, "the suite has no requirement-marked check at all"
    assert set(load_catalog().ids) - checked == NOT_YET_CHECKED
