"""Trust: manifest.json hashes, Ed25519 signatures, `p111 verify`, `p111 diff`, summary.md."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.cli import main
from harness.reporting import diff as diffs
from harness.reporting import manifest
from tests.reports_support import HOSTILE, write_synthetic


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> tuple[Path, Path]:
    return manifest.generate_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def signed(tmp_path_factory, keys) -> Path:
    directory = tmp_path_factory.mktemp("signed")
    # pytest's junitxml writes junit.xml before the report; here a stand-in is already in the folder.
    (directory / "junit.xml").write_text('<?xml version="1.0"?><testsuites/>\n', encoding="utf-8")
    write_synthetic(directory, sign_key=keys[0])
    return directory


def _copy(signed: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(signed, tmp_path / "copy"))


def test_manifest_lists_every_output_with_versions_and_target_digest(signed: Path):
    data = json.loads((signed / "manifest.json").read_text(encoding="utf-8"))
    report = json.loads((signed / "report.json").read_text(encoding="utf-8"))
    assert set(data["files"]) == {
        "report.json", "report.html", "summary.md", "evidence.ndjson", "evidence.har", "redactions.json", "junit.xml"
    }
    assert data["harness"] == report["harness"] and data["catalog"] == report["catalog"]
    assert data["target_digest"] == report["target"]["digest"]
    assert data["signature"]["algorithm"] == "Ed25519"
    assert (signed / "manifest.json").stat().st_mode & 0o777 == 0o644


def test_verify_accepts_the_untouched_folder(signed: Path, keys, capsys):
    assert main(["verify", str(signed), "--key", str(keys[1])]) == 0
    assert "signature valid for the given key" in capsys.readouterr().out


@pytest.mark.parametrize(
    "name", ["report.json", "report.html", "summary.md", "evidence.ndjson", "evidence.har", "redactions.json",
             "junit.xml", "manifest.json", "manifest.json.sig"]
)
def test_verify_catches_one_changed_byte_in_any_file(signed: Path, keys, tmp_path: Path, capsys, name: str):
    copy = _copy(signed, tmp_path)
    data = bytearray((copy / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    (copy / name).write_bytes(bytes(data))
    assert main(["verify", str(copy), "--key", str(keys[1])]) == 1
    out = capsys.readouterr().out
    expected = "manifest.json" if name.startswith("manifest") else name
    assert f"TAMPERED: {expected}" in out, out


def test_a_rewritten_manifest_without_the_key_is_caught(signed: Path, keys, tmp_path: Path, capsys):
    copy = _copy(signed, tmp_path)
    (copy / "summary.md").write_text("all good\n", encoding="utf-8")
    other = manifest.generate_keys(tmp_path / "other")
    report = json.loads((copy / "report.json").read_text(encoding="utf-8"))
    files = [n for n in json.loads((copy / "manifest.json").read_text())["files"]]
    manifest.write_manifest(copy, files, report, other[0])  # re-signed by someone else
    assert main(["verify", str(copy)]) == 0, "self-consistent: only a pinned key tells the signer"
    assert main(["verify", str(copy), "--key", str(keys[1])]) == 1
    assert "signed with another key" in capsys.readouterr().out


def test_an_unsigned_folder_fails_when_a_key_is_demanded(tmp_path: Path, keys, capsys):
    write_synthetic(tmp_path)
    assert not (tmp_path / "manifest.json.sig").exists()
    assert main(["verify", str(tmp_path)]) == 0
    assert main(["verify", str(tmp_path), "--key", str(keys[1])]) == 1
    assert "missing or unreadable signature" in capsys.readouterr().out


def test_verify_usage_errors(tmp_path: Path, capsys):
    assert main(["verify", str(tmp_path)]) == 2
    (tmp_path / "k.pub").write_text("not a key", encoding="utf-8")
    write_synthetic(tmp_path)
    assert main(["verify", str(tmp_path), "--key", str(tmp_path / "k.pub")]) == 2


def test_a_bad_signing_key_is_refused_before_writing(tmp_path: Path):
    (tmp_path / "bad.key").write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(manifest.KeyFileError):
        write_synthetic(tmp_path / "out", sign_key=tmp_path / "bad.key")
    assert not (tmp_path / "out" / "report.json").exists()
    with pytest.raises(SystemExit):
        main(["run", "--sign", str(tmp_path / "bad.key")])


@pytest.mark.parametrize(
    ("old", "new", "status"),
    [
        ("PASSED", "FAILED", "regressed"),
        ("PASSED", "ERROR", "regressed"),
        ("NOT-TESTED", "FAILED", "regressed"),
        ("PASSED", "NOT-TESTED", "regressed"),
        ("FAILED", "PASSED", "fixed"),
        ("NOT-TESTED", "PASSED", "fixed"),
        ("FAILED", "ERROR", "unchanged"),
        ("PASSED", "PASSED", "unchanged"),
        (None, "PASSED", "new"),
        ("PASSED", None, "removed"),
    ],
)
def test_diff_classification(old, new, status):
    assert diffs.classify(old, new) == status


def test_diff_command_exit_codes(tmp_path: Path, capsys):
    write_synthetic(tmp_path / "clean", defect=False)
    write_synthetic(tmp_path / "broken", defect=True)
    assert main(["diff", str(tmp_path / "clean"), str(tmp_path / "broken")]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "P111-SYNC-DOSSIER xấu đi (regressed) ĐẠT → KHÔNG ĐẠT" in out
    assert main(["diff", str(tmp_path / "broken"), str(tmp_path / "clean" / "report.json"), "--lang", "en"]) == 0
    assert "P111-SYNC-DOSSIER fixed (fixed) FAILED → PASSED" in " ".join(capsys.readouterr().out.split())
    assert main(["diff", str(tmp_path / "nowhere"), str(tmp_path / "clean")]) == 2


def test_summary_markdown(tmp_path: Path):
    write_synthetic(tmp_path / "vi")
    text = (tmp_path / "vi" / "summary.md").read_text(encoding="utf-8")
    assert text.startswith("## Báo cáo kiểm tra tuân thủ Kế hoạch 111/KH-UBND")
    assert "**Kết luận chung: KHÔNG ĐẠT** (FAILED)" in text
    assert "| `P111-SYNC-DOSSIER` | Đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia | KHÔNG ĐẠT |" in text
    assert "### Yêu cầu không đạt hoặc lỗi" in text and "Mong đợi: `a DongBoHoSoMC <b>within</b> 1 s`" in text
    assert f"`{HOSTILE}`" in text, "what the SUT wrote is shown in a code span: no renderer makes it HTML"
    write_synthetic(tmp_path / "en", lang="en", defect=False)
    english = (tmp_path / "en" / "summary.md").read_text(encoding="utf-8")
    assert "**Overall verdict: PASSED** (PASSED)" in english and "###" not in english


def test_keygen(tmp_path: Path, capsys):
    assert main(["keygen", str(tmp_path)]) == 0
    assert (tmp_path / manifest.PRIVATE_KEY_FILE).stat().st_mode & 0o777 == 0o600
    manifest.load_public_key(tmp_path / manifest.PUBLIC_KEY_FILE)
