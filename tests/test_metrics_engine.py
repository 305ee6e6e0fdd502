"""Differential test: the DuckDB engine agrees with the readable oracle on generated dossier sets."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.metrics import load_datasets, measure
from harness.metrics.datasets import load_rows

AGENCY_CODES = ["000.00.06.H40", "000.20.40.H40", "000.21.40.H40", "000.30.30.H40"]  # the last is not registered
REGISTRY = [{"code": c, "level": level} for c, level in zip(AGENCY_CODES[:3], ["province", "district", "commune"],
                                                             strict=True)]
texts = st.sampled_from(["", " ", "1", "2", "0", None])
fees = st.sampled_from(["0", "50000", " 12.5 ", "abc", "", None, 0, 15000, "-3"])
links = st.sampled_from(["", " ", "https://x/kq.pdf", None])


@st.composite
def dossiers(draw):
    year = draw(st.sampled_from(["2023", "2022"]))
    return {
        "MaHoSo": f"{draw(st.sampled_from(AGENCY_CODES))}-{year[2:]}0{draw(st.integers(1, 9))}15-"
                  f"{draw(st.integers(0, 9999)):04d}",
        "MaTTHC": draw(st.sampled_from(["1.000001", "1.000002", "2.000003", "1.000001.000.00.06.H40"])),
        "TenTTHC": "Thủ tục", "ChuHoSo": "An",
        "TrangThaiHoSo": draw(st.sampled_from(["1", "4", "9", "10"])),
        "KenhThucHien": draw(st.sampled_from(["1", "2", "3", "", None])),
        "NgayTiepNhan": draw(st.sampled_from([f"{year}0301080000", "", None])),
        "NgayHenTra": draw(st.sampled_from(["20230310170000", "", None])),
        "NgayKetThucXuLy": draw(st.sampled_from(["20230305100000", "20230320100000", ""])),
        "DuocThanhToanTrucTuyen": draw(texts),
        "HoSoCoThanhPhanSoHoa": draw(st.sampled_from(["0", "1", "", None])),
        "DanhSachLePhi": draw(st.one_of(st.none(), st.lists(st.fixed_dictionaries({"Gia": fees}), max_size=2))),
        "DanhSachGiayToKetQua": draw(st.one_of(
            st.none(), st.lists(st.fixed_dictionaries({"DuongDanTepTinKetQua": links}), max_size=2))),
        "TaiLieuNop": draw(st.lists(st.fixed_dictionaries({"DuocTaiSuDung": texts}), max_size=2)),
        "DanhSachHoSoBoSung": draw(st.lists(st.fixed_dictionaries({"NoiDungBoSung": st.just("x")}), max_size=2)),
        "DSKetNoiCSDL": draw(st.lists(st.fixed_dictionaries({"MaCSDL": st.just("DC")}), max_size=1)),
    }


@st.composite
def transactions(draw):
    action = draw(st.sampled_from(["create", "update", "transfer", "payment"]))
    row = {"id": f"t{draw(st.integers(0, 999))}", "at": draw(st.sampled_from(["20230105080000", "20220105080000"])),
           "action": action, "subject": draw(texts), "assurance": draw(st.sampled_from(["LoA2", "", None]))}
    if action == "transfer":
        row["MaHoSo"] = f"{AGENCY_CODES[0]}-230101-{draw(st.integers(0, 5)):04d}"
        row["transfer_method"] = draw(st.sampled_from(["electronic", "paper"]))
    return row


PROCEDURES = [{"MaTTHC": "1.000001", "online_level": "2"}, {"MaTTHC": "2.000003", "online_level": "một phần"}]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(dossiers(), max_size=40), st.lists(transactions(), max_size=15))
def test_engine_equals_oracle(dossier_rows, transaction_rows):
    expected = measure(load_rows(dossiers=dossier_rows, transactions=transaction_rows, agencies=REGISTRY,
                                 procedures=PROCEDURES), year=2023, engine="oracle")
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        files = {folder / "d.ndjson": dossier_rows, folder / "t.ndjson": transaction_rows}
        for path, rows in files.items():
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        (folder / "a.json").write_text(json.dumps(REGISTRY), encoding="utf-8")
        (folder / "p.json").write_text(json.dumps(PROCEDURES), encoding="utf-8")
        kinds = {folder / "d.ndjson": "dossiers", folder / "t.ndjson": "transactions", folder / "a.json": "agencies",
                 folder / "p.json": "procedures"}
        datasets = load_datasets(list(kinds), kinds=kinds, eager=False)  # the engine reads the NDJSON files itself
        actual = measure(datasets, year=2023)
    assert datasets.bad_rows == []
    assert actual.comparable() == expected.comparable()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(dossiers(), max_size=40), st.lists(transactions(), max_size=15), st.integers(0, 40), st.integers(0, 15))
def test_engine_merges_sources_as_the_oracle_does(dossier_rows, transaction_rows, dossier_split, transaction_split):
    """Each file is folded into group totals of its own; the tallies and samples merge them across files."""
    expected = measure(load_rows(dossiers=dossier_rows, transactions=transaction_rows, agencies=REGISTRY,
                                 procedures=PROCEDURES), year=2023, engine="oracle")
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        parts = {
            folder / "d1.ndjson": ("dossiers", dossier_rows[:dossier_split]),
            folder / "d2.ndjson": ("dossiers", dossier_rows[dossier_split:]),
            folder / "t1.ndjson": ("transactions", transaction_rows[:transaction_split]),
            folder / "t2.ndjson": ("transactions", transaction_rows[transaction_split:]),
        }
        for path, (_, rows) in parts.items():
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        (folder / "a.json").write_text(json.dumps(REGISTRY), encoding="utf-8")
        (folder / "p.json").write_text(json.dumps(PROCEDURES), encoding="utf-8")
        kinds = {path: kind for path, (kind, _) in parts.items()} | {folder / "a.json": "agencies",
                                                                      folder / "p.json": "procedures"}
        datasets = load_datasets(list(kinds), kinds=kinds, eager=False)
        actual = measure(datasets, year=2023)
    assert datasets.bad_rows == []
    assert actual.comparable() == expected.comparable()
    assert actual.rows_read == expected.rows_read


def test_a_dossier_moved_in_two_sources_is_one_dossier_moved_on_paper(tmp_path):
    """A log split in two files (say, by month): each file has its own groups, the tally merges them by dossier."""
    code = f"{AGENCY_CODES[0]}-230101-0001"
    parts = {
        tmp_path / "t1.ndjson": [{"id": "t1", "at": "20230105080000", "action": "transfer", "MaHoSo": code,
                                  "transfer_method": "electronic", "subject": "u", "assurance": "LoA2"}],
        tmp_path / "t2.ndjson": [{"id": "t2", "at": "20230205080000", "action": "transfer", "MaHoSo": code,
                                  "transfer_method": "paper", "subject": "u", "assurance": "LoA2"}],
    }
    for path, rows in parts.items():
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    datasets = load_datasets(list(parts), kinds=dict.fromkeys(parts, "transactions"))
    tally = measure(datasets, year=2023).tallies[("transfer.electronic-share", "all")]
    assert (tally.numerator, tally.denominator, tally.against) == (0, 1, [code])
