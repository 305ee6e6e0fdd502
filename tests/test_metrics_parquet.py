"""Parquet input, directories of partitioned files and glob patterns: the same figures as NDJSON, bad rows named."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from harness.metrics import DatasetError, load_datasets, measure, synth
from harness.metrics.files import expand_paths


def _history(folder: Path, dossiers: int = 1500) -> synth.SynthSummary:
    return synth.write_history(folder / "history.ndjson", dossiers=dossiers, year=2023, seed=7)


def _parquet(source: Path, target: Path, select: str = "*") -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT {select} FROM read_json('{source}', format='newline_delimited', sample_size=-1)) "
                    f"TO '{target}' (FORMAT parquet)")
    return target


def test_synth_parquet_gives_the_same_figures_as_ndjson(tmp_path):
    ndjson = _history(tmp_path / "nd")
    parquet = synth.to_parquet(_history(tmp_path / "pq"))
    assert parquet.dossiers.suffix == ".parquet" and parquet.transactions.name == "history.transactions.parquet"
    assert not (tmp_path / "pq" / "history.ndjson").exists()
    from_ndjson = measure(load_datasets(ndjson.paths()), year=2023)
    datasets = load_datasets(parquet.paths())
    assert [s.format for s in datasets.dossiers + datasets.transactions] == ["parquet", "parquet"]
    from_parquet = measure(datasets, year=2023)
    assert from_parquet.comparable() == from_ndjson.comparable() and datasets.bad_rows == []
    assert from_parquet.rows_read == from_ndjson.rows_read
    # The readable oracle reads the Parquet rows too, and agrees.
    assert measure(load_datasets(parquet.paths()), year=2023, engine="oracle").comparable() == (
        from_parquet.comparable())


def test_parquet_with_other_column_types_and_a_missing_column(tmp_path):
    rows = [
        {"MaHoSo": f"000.00.06.H40-230301-{i:04d}", "MaTTHC": "1.000001", "TenTTHC": "T", "ChuHoSo": "A",
         "TrangThaiHoSo": "11" if i == 2 else "10", "KenhThucHien": "2", "NgayTiepNhan": "20230301080000",
         "NgayHenTra": "20230310170000", "NgayKetThucXuLy": "20230305100000", "DuocThanhToanTrucTuyen": "1",
         "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí", "Gia": 15000 if i % 2 else 0}],
         "DanhSachGiayToKetQua": [{"DuongDanTepTinKetQua": "https://x/kq.pdf" if i else ""}]}
        for i in range(5)
    ]
    source = tmp_path / "rows.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    path = _parquet(source, tmp_path / "dossiers.parquet")  # Gia stored as BIGINT; no DSKetNoiCSDL, no TaiLieuNop
    with duckdb.connect() as con:
        kinds = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '{path}')").fetchall())
    assert "BIGINT" in kinds["DanhSachLePhi"] and "DSKetNoiCSDL" not in kinds
    datasets = load_datasets([path])
    measured = measure(datasets, year=2023)
    assert [(b.line, b.reason) for b in datasets.bad_rows] == [(3, "$.TrangThaiHoSo: not a status 1–10")]
    fee = measured.tally("payment.per-dossier")
    assert (fee.numerator, fee.denominator) == (2, 2)  # rows 1 and 3 bear a fee of 15000; row 2 is bad
    counts = measured.agencies["000.00.06.H40"]
    assert counts.received == 4 and counts.population_data == 0 and counts.digitised_results == 3
    oracle = load_datasets([path])
    assert measure(oracle, year=2023, engine="oracle").comparable() == measured.comparable()
    assert [b.line for b in oracle.bad_rows] == [3]


def test_a_directory_of_partitioned_files_and_a_glob_read_as_one(tmp_path):
    whole = _history(tmp_path / "whole")
    expected = measure(load_datasets(whole.paths()), year=2023).comparable()
    root = tmp_path / "export"
    # Two partitions holding the dossiers split in halves, transactions beside them, sidecars at the top.
    with duckdb.connect() as con:
        for province, parity in (("H40", 0), ("H41", 1)):
            folder = root / "year=2023" / f"province={province}"
            folder.mkdir(parents=True)
            con.execute(
                "COPY (SELECT * EXCLUDE (n) FROM (SELECT *, row_number() OVER () AS n FROM "
                f"read_json('{whole.dossiers}', format='newline_delimited', sample_size=-1)) WHERE n % 2 = {parity}) "
                f"TO '{folder / 'dossiers-0.parquet'}' (FORMAT parquet)")
    _parquet(whole.transactions, root / "year=2023" / "transactions" / "part-0.parquet")
    for sidecar in (whole.agencies, whole.procedures):
        (root / sidecar.name).write_text(sidecar.read_text("utf-8"), encoding="utf-8")
    (root / "_SUCCESS").write_text("", encoding="utf-8")  # markers and hidden files are not data
    (root / ".done").write_text("", encoding="utf-8")

    found = expand_paths([root])
    assert len(found) == 5 and all(p.suffix in (".parquet", ".json") for p in found)
    assert measure(load_datasets([root]), year=2023).comparable() == expected
    pattern = str(root / "year=2023" / "*" / "*.parquet")
    assert measure(load_datasets([pattern, root / whole.agencies.name, root / whole.procedures.name]),
                   year=2023).tally("online-dossiers.online-share").denominator == (
        measure(load_datasets(whole.paths()), year=2023).tally("online-dossiers.online-share").denominator)


def test_a_directory_or_glob_without_data_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no data file"):
        load_datasets([tmp_path / "empty"])
    with pytest.raises(DatasetError, match="no file matches"):
        load_datasets([str(tmp_path / "year=2099" / "*.parquet")])
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    with pytest.raises(DatasetError, match="Parquet"):
        load_datasets([broken], kinds={broken: "dossiers"})


def test_a_parquet_file_of_another_kind_is_refused_naming_its_columns(tmp_path):
    path = tmp_path / "export.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT 'x' AS id, '20230101000000' AS at, 'create' AS action) TO '{path}' (FORMAT parquet)")
    with pytest.raises(DatasetError, match=r"not a dossiers file: its columns are \['action', 'at', 'id'\].*"
                                           r"it looks like transactions"):
        load_datasets([path], kinds={path: "dossiers"})


def test_a_parquet_file_with_damaged_pages_is_a_clear_error(tmp_path):
    """Its kind is told from its footer, so the damage surfaces only when the engine reads the pages."""
    path = tmp_path / "dossiers.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT '000.00.06.H40-230101-' || lpad(i::VARCHAR, 4, '0') AS MaHoSo, "
                    "'1.000001' AS MaTTHC, 'T' AS TenTTHC, 'An' AS ChuHoSo, '9' AS TrangThaiHoSo "
                    f"FROM range(1, 3000) t(i)) TO '{path}' "
                    "(FORMAT parquet, COMPRESSION uncompressed)")
    damaged = bytearray(path.read_bytes())
    damaged[4] ^= 0x80  # the first page's header
    path.write_bytes(bytes(damaged))
    datasets = load_datasets([path], kinds={path: "dossiers"})
    with pytest.raises(DatasetError, match="cannot read this Parquet file"):
        measure(datasets, year=2023)


def test_the_commands_write_and_read_parquet(tmp_path, capsys):
    import argparse

    from harness.cli.metrics import add_commands

    def run(*argv: str) -> int:
        parser = argparse.ArgumentParser(prog="p111")
        add_commands(parser.add_subparsers(required=True))
        args = parser.parse_args(list(argv))
        return int(args.handler(args))

    out = tmp_path / "year=2023" / "province=H40" / "history.parquet"
    assert run("synth", "--dossiers", "800", "--year", "2023", "--format", "parquet", "--output", str(out)) == 0
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "history.agencies.json", "history.parquet", "history.procedures.json", "history.transactions.parquet"]
    capsys.readouterr()
    assert run("kpi", "--data", str(tmp_path / "year=*" / "**" / "*"), "--year", "2023", "--json") in (0, 1)
    document = json.loads(capsys.readouterr().out)
    online = next(r for r in document["results"] if r["requirement"] == "P111-KPI-ONLINE-DOSSIERS")
    assert online["denominator"] == 800 and document["bad_rows"] == []
