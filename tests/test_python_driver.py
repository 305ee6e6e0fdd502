"""A vendor's Python driver, named `module:Class` in the target, operates the SUT in place of the built-in one."""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.core.resources import data_file
from tests.support import read_report, run_p111

VENDOR_DRIVER = '''
from pathlib import Path

from harness.sut.drivers import ReferenceApiDriver


class VendorDriver(ReferenceApiDriver):
    """Stands for a vendor's own driver: it notes each dossier it submits, so the test sees that it was used."""

    def submit(self, procedure_code, **kwargs):
        dossier = super().submit(procedure_code, **kwargs)
        with Path("submitted.txt").open("a", encoding="utf-8") as out:
            out.write(dossier.code + "\\n")
        return dossier
'''


def run_with_driver(tmp_path: Path, driver: str) -> dict[str, str]:
    (tmp_path / "vendor_driver.py").write_text(VENDOR_DRIVER, encoding="utf-8")
    document = yaml.safe_load(data_file("embedded.target.yaml").read_text(encoding="utf-8"))
    document["sut"]["driver"] = driver
    target = tmp_path / "vendor.target.yaml"
    target.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    run_p111("run", "--target", str(target), "--report", "out", "--", "-k", "codes", cwd=tmp_path)
    report = read_report(tmp_path / "out")
    return {r["id"]: r for r in report["requirements"]}


def test_a_python_driver_named_in_the_target_operates_the_sut(tmp_path: Path):
    got = run_with_driver(tmp_path, "vendor_driver:VendorDriver")
    assert got["P111-CODES"]["verdict"] == "PASSED", got["P111-CODES"]
    submitted = (tmp_path / "submitted.txt").read_text(encoding="utf-8").split()
    assert submitted and all(code.startswith("000.") for code in submitted)


def test_a_driver_that_cannot_be_loaded_is_an_error_naming_it(tmp_path: Path):
    got = run_with_driver(tmp_path, "vendor_driver:NoSuchDriver")
    assert got["P111-CODES"]["verdict"] == "ERROR"
    messages = [c["message"] for c in got["P111-CODES"]["checks"]]
    assert any("vendor_driver:NoSuchDriver" in m and "cannot load" in m for m in messages), messages
