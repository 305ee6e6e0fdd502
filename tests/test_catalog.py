"""The requirements catalog: its data against the plan, the computed thresholds, and refusal of broken catalogs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from harness.core import resources
from harness.core.catalog import Catalog, CatalogError, Note, format_threshold, load_catalog

PLAN_TEXT = resources.data_file("plan111-article.vi.txt")
# CI runs a fresh clone with `shared/` beside the repository; a developer's checkout has it at the same place.
SEED_PLAN_TEXT = Path(__file__).resolve().parents[2] / "shared" / "seed" / "plan111-article.vi.txt"

# The requirements released so far, in order: none may be lost or moved. A new one needs no line here (the catalog is
# the one list; tests that need every requirement read it).
RELEASED_BEHAVIOURS = (
    "P111-SYNC-DOSSIER",
    "P111-SYNC-PROGRESS",
    "P111-CODES",
    "P111-LIFECYCLE",
    "P111-CATALOG",
    "P111-TRANSFER",
    "P111-AUTH-SSO",
    "P111-AUTH-TXN",
    "P111-PAY-INIT",
    "P111-PAY-CONFIRM",
    "P111-PAY-RECONCILE",
)
RELEASED_METRICS = (
    "P111-KPI-TRANSFER",
    "P111-KPI-PAYMENT",
    "P111-KPI-DIGITISATION",
    "P111-KPI-PORTAL",
    "P111-KPI-AUTH",
    "P111-KPI-ONLINE-SERVICES",
    "P111-KPI-ONLINE-DOSSIERS",
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def document() -> dict[str, Any]:
    """The shipped catalog as plain data, to break on purpose."""
    return yaml.safe_load(resources.data_file("catalog.yaml").read_text(encoding="utf-8"))


def at(document: dict[str, Any], requirement_id: str) -> int:
    """The index of a requirement in the catalog document: the tests break a named one, wherever it stands."""
    return next(i for i, r in enumerate(document["requirements"]) if r["id"] == requirement_id)


def write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------- the shipped data


def test_schema_is_a_valid_2020_12_schema() -> None:
    schema = json.loads((resources.schema_dir() / "catalog.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "https://p111.example/schemas/catalog.schema.json"


def test_shipped_catalog_validates_against_its_schema(document: dict[str, Any]) -> None:
    schema = json.loads((resources.schema_dir() / "catalog.schema.json").read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema).iter_errors(document)) == []


def test_catalog_keeps_every_released_requirement_in_order(catalog: Catalog) -> None:
    behaviours = tuple(r.id for r in catalog if r.kind == "behaviour")
    metrics = tuple(r.id for r in catalog if r.kind == "metric")
    assert catalog.ids == behaviours + metrics, "the behaviours come first, then the ratio targets"
    assert [i for i in behaviours if i in RELEASED_BEHAVIOURS] == list(RELEASED_BEHAVIOURS)
    assert [i for i in metrics if i in RELEASED_METRICS] == list(RELEASED_METRICS)
    assert all(r.family == "kpi" for r in catalog if r.kind == "metric")
    assert catalog.version == "2021.1"
    assert catalog.source is not None and "111/KH-UBND" in catalog.source.title_vi


def test_default_catalog_is_cached(catalog: Catalog) -> None:
    assert load_catalog() is catalog


@pytest.mark.parametrize(
    ("requirement_id", "family"),
    [
        ("P111-SYNC-DOSSIER", "sync"),
        ("P111-CODES", "sync"),
        ("P111-LIFECYCLE", "lifecycle"),
        ("P111-CATALOG", "catalog"),
        ("P111-TRANSFER", "transfer"),
        ("P111-AUTH-TXN", "auth"),
        ("P111-PAY-RECONCILE", "payment"),
    ],
)
def test_behaviour_families(catalog: Catalog, requirement_id: str, family: str) -> None:
    assert catalog[requirement_id].family == family


def test_every_quote_is_verbatim_from_the_shipped_plan_text(catalog: Catalog) -> None:
    plan_text = PLAN_TEXT.read_text(encoding="utf-8")
    misquoted = [r.id for r in catalog if r.quote_vi not in plan_text]
    assert misquoted == []


def test_quotes_cite_the_target_each_requirement_serves(catalog: Catalog) -> None:
    integration = "100% dịch vụ công trực tuyến của tỉnh được tích hợp với cổng Dịch vụ công quốc gia"
    for requirement_id in ("P111-SYNC-DOSSIER", "P111-SYNC-PROGRESS", "P111-CODES", "P111-KPI-PORTAL"):
        assert catalog[requirement_id].quote_vi.startswith(integration)
    assert "một cửa liên thông" in catalog["P111-LIFECYCLE"].quote_vi
    assert "xác thực điện tử" in catalog["P111-AUTH-TXN"].quote_vi
    assert "thanh toán trực tuyến" in catalog["P111-PAY-CONFIRM"].quote_vi
    assert "30%, 20%, 15%" in catalog["P111-KPI-DIGITISATION"].quote_vi


def test_shipped_plan_text_is_a_byte_copy_of_the_seed() -> None:
    if not SEED_PLAN_TEXT.is_file():
        pytest.skip(f"the seed plan text is not beside the repository ({SEED_PLAN_TEXT})")
    assert PLAN_TEXT.read_bytes() == SEED_PLAN_TEXT.read_bytes()


# -------------------------------------------------------------------------------------------------------- thresholds


@pytest.mark.parametrize(
    ("year", "province", "district", "commune"),
    [
        (2021, 30, 20, 15),
        (2022, 50, 40, 35),
        (2023, 70, 60, 55),
        (2024, 90, 80, 75),
        (2025, 100, 100, 95),  # the strict reading: the commune level reaches 100 only in 2026
        (2026, 100, 100, 100),
    ],
)
def test_digitisation_schedule_is_computed_by_year_and_level(
    catalog: Catalog, year: int, province: int, district: int, commune: int
) -> None:
    digitisation = catalog["P111-KPI-DIGITISATION"]
    expected = {"province": province, "district": district, "commune": commune}
    assert digitisation.thresholds_for_year(year) == expected
    for level, percent in expected.items():
        assert digitisation.threshold(year, level) == percent
    assert digitisation.threshold(year) is None  # per-level rules: no single figure without a level


def test_digitisation_has_no_threshold_before_2021(catalog: Catalog) -> None:
    digitisation = catalog["P111-KPI-DIGITISATION"]
    assert digitisation.threshold(2020, "province") is None
    assert digitisation.thresholds_for_year(2020) == {}
    assert digitisation.levels == ("province", "district", "commune")


def test_digitisation_notes_state_the_strict_2025_commune_reading(catalog: Catalog) -> None:
    notes = catalog["P111-KPI-DIGITISATION"].notes
    assert any("95" in note.vi and "95" in note.en for note in notes)
    assert any("H42" in note.en and "district" in note.en for note in notes)


@pytest.mark.parametrize(
    ("requirement_id", "year", "expected"),
    [
        ("P111-KPI-TRANSFER", 2023, None),  # "by 2025": earlier years are reported, not judged
        ("P111-KPI-TRANSFER", 2025, 80),
        ("P111-KPI-TRANSFER", 2026, 80),
        ("P111-KPI-PAYMENT", 2025, 80),
        ("P111-KPI-PORTAL", 2025, 100),
        ("P111-KPI-AUTH", 2025, 100),
        ("P111-KPI-ONLINE-SERVICES", 2025, 100),
        ("P111-KPI-ONLINE-DOSSIERS", 2024, None),
        ("P111-KPI-ONLINE-DOSSIERS", 2025, 60),
    ],
)
def test_fixed_thresholds_apply_from_2025(
    catalog: Catalog, requirement_id: str, year: int, expected: int | None
) -> None:
    requirement = catalog[requirement_id]
    assert requirement.threshold(year) == expected
    assert requirement.threshold(year, "commune") == expected  # a level-less rule holds at every level
    assert requirement.thresholds_for_year(year) == ({} if expected is None else {"all": expected})


def test_threshold_refuses_an_unknown_level(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="ward"):
        catalog["P111-KPI-DIGITISATION"].threshold(2025, "ward")


@pytest.mark.parametrize("requirement_id", [r.id for r in load_catalog() if r.kind == "behaviour"])
def test_behaviours_have_no_thresholds(catalog: Catalog, requirement_id: str) -> None:
    requirement = catalog[requirement_id]
    assert requirement.rules == ()
    assert requirement.threshold(2025) is None
    assert requirement.thresholds_for_year(2025) == {}
    assert requirement.decides is None


def test_payment_kpi_is_decided_per_procedure(catalog: Catalog) -> None:
    payment = catalog["P111-KPI-PAYMENT"]
    assert payment.decides == "per-procedure"
    assert payment.also_reported == ("per-dossier",)
    assert any("per dossier" in note.en for note in payment.notes)
    assert all(r.decides is None for r in catalog if r.id != "P111-KPI-PAYMENT")


def test_level_notes_map_decree_43_levels_to_decree_42(catalog: Catalog) -> None:
    for requirement_id in ("P111-CATALOG", "P111-KPI-ONLINE-SERVICES", "P111-KPI-ONLINE-DOSSIERS"):
        assert any("toàn trình" in note.vi and "42/2022" in note.vi for note in catalog[requirement_id].notes)


def test_every_note_is_bilingual(catalog: Catalog) -> None:
    notes = [note for requirement in catalog for note in requirement.notes]
    assert notes and all(isinstance(note, Note) and note.vi and note.en for note in notes)


# ------------------------------------------------------------------------------------------------------- lookup


def test_lookup_by_id(catalog: Catalog) -> None:
    assert catalog["P111-CODES"].title_en.startswith("Dossier, agency and procedure codes")
    assert "P111-CODES" in catalog
    assert "P111-NOPE" not in catalog
    assert 42 not in catalog
    assert [r.id for r in catalog] == list(catalog.ids)


def test_unknown_id_raises_a_helpful_key_error(catalog: Catalog) -> None:
    with pytest.raises(KeyError, match="P111-KPI-TRANSFR.*did you mean P111-KPI-TRANSFER"):
        catalog["P111-KPI-TRANSFR"]


# ------------------------------------------------------------------------------------------------- broken catalogs


def test_missing_title_vi_is_refused_naming_the_field(tmp_path: Path, document: dict[str, Any]) -> None:
    lifecycle = at(document, "P111-LIFECYCLE")
    del document["requirements"][lifecycle]["title_vi"]
    expected = rf"\$\.requirements\[{lifecycle}\] \(P111-LIFECYCLE\): 'title_vi' is a required"
    with pytest.raises(CatalogError, match=expected):
        load_catalog(write(tmp_path, document))


def test_wrong_kind_is_refused_naming_the_field(tmp_path: Path, document: dict[str, Any]) -> None:
    document["requirements"][0]["kind"] = "behavior"
    with pytest.raises(CatalogError, match=r"\$\.requirements\[0\]\.kind .*'behavior' is not one of"):
        load_catalog(write(tmp_path, document))


def test_an_unquoted_yaml_date_is_refused_naming_the_field(tmp_path: Path, document: dict[str, Any]) -> None:
    """YAML reads `2021-09-29` as a date, which the fast validator cannot hold: jsonschema still explains it."""
    path = write(tmp_path, document)
    text = path.read_text(encoding="utf-8")
    assert "date: '2021-09-29'" in text
    path.write_text(text.replace("date: '2021-09-29'", "date: 2021-09-29", 1), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"datetime.date\(2021, 9, 29\) is not of type 'string'"):
        load_catalog(path)


def test_duplicate_id_is_refused(tmp_path: Path, document: dict[str, Any]) -> None:
    codes = at(document, "P111-CODES")
    document["requirements"].append(copy.deepcopy(document["requirements"][codes]))
    last = len(document["requirements"]) - 1
    expected = rf"\$\.requirements\[{last}\]\.id .*unique id.*already at \$\.requirements\[{codes}\]"
    with pytest.raises(CatalogError, match=expected):
        load_catalog(write(tmp_path, document))


def test_the_robustness_check_is_outside_the_plan_and_asked_for_by_scope(catalog: Catalog) -> None:
    robust = load_catalog(scope="robustness")
    assert robust.ids == ("P111-ROBUST-INPUT",) and "P111-ROBUST-INPUT" not in catalog
    requirement = robust["P111-ROBUST-INPUT"]
    assert (requirement.scope, requirement.family, requirement.quote_vi) == ("robustness", "robustness", "")
    assert "không phải mục tiêu" in requirement.measured_vi and "Not a target" in requirement.measured_en
    assert load_catalog(scope=None).ids == (*catalog.ids, "P111-ROBUST-INPUT")
    assert all(r.scope == "plan" for r in catalog)


def test_a_robustness_check_with_a_plan_quote_is_refused(tmp_path: Path, document: dict[str, Any]) -> None:
    document["requirements"][at(document, "P111-ROBUST-INPUT")]["quote_vi"] = document["requirements"][0]["quote_vi"]
    with pytest.raises(CatalogError, match=r"\(P111-ROBUST-INPUT\)"):
        load_catalog(write(tmp_path, document))


def test_a_plan_requirement_without_a_quote_is_refused(tmp_path: Path, document: dict[str, Any]) -> None:
    del document["requirements"][0]["quote_vi"]
    with pytest.raises(CatalogError, match=r"'quote_vi' is a required property"):
        load_catalog(write(tmp_path, document))


def test_misquote_is_refused(tmp_path: Path, document: dict[str, Any]) -> None:
    transfer = at(document, "P111-KPI-TRANSFER")
    document["requirements"][transfer]["quote_vi"] = "Tối thiểu 80% hồ sơ giải quyết TTHC được luân chuyển bằng điện tử"
    with pytest.raises(CatalogError, match=rf"\$\.requirements\[{transfer}\]\.quote_vi .*verbatim substring"):
        load_catalog(write(tmp_path, document))


def test_behaviour_with_a_threshold_is_refused(tmp_path: Path, document: dict[str, Any]) -> None:
    sync = at(document, "P111-SYNC-DOSSIER")
    document["requirements"][sync]["thresholds"] = [{"from_year": 2025, "min_percent": 100}]
    expected = rf"\$\.requirements\[{sync}\]\.thresholds \(P111-SYNC-DOSSIER\): .*not be valid"
    with pytest.raises(CatalogError, match=expected):
        load_catalog(write(tmp_path, document))


def test_metric_without_thresholds_is_refused(tmp_path: Path, document: dict[str, Any]) -> None:
    del document["requirements"][at(document, "P111-KPI-TRANSFER")]["thresholds"]
    with pytest.raises(CatalogError, match=r"'thresholds' is a required property"):
        load_catalog(write(tmp_path, document))


def test_threshold_for_an_undeclared_level_is_refused(tmp_path: Path, document: dict[str, Any]) -> None:
    transfer = at(document, "P111-KPI-TRANSFER")
    document["requirements"][transfer]["thresholds"].append({"from_year": 2026, "min_percent": 90, "level": "commune"})
    with pytest.raises(CatalogError, match=rf"\$\.requirements\[{transfer}\]\.thresholds\[1\].*'commune'"):
        load_catalog(write(tmp_path, document))


def test_unknown_field_is_refused(tmp_path: Path, document: dict[str, Any]) -> None:
    document["requirements"][5]["owner"] = "someone"
    with pytest.raises(CatalogError, match=r"Additional properties are not allowed \('owner'"):
        load_catalog(write(tmp_path, document))


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    text = resources.data_file("catalog.yaml").read_text(encoding="utf-8")
    broken = text.replace("    title_vi: Mã hồ sơ", "    title_vi: Trùng khóa\n    title_vi: Mã hồ sơ", 1)
    assert broken != text
    path = tmp_path / "catalog.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(CatalogError, match="duplicate key 'title_vi'"):
        load_catalog(path)


def test_a_later_fixed_rule_overrides_an_earlier_one(tmp_path: Path, document: dict[str, Any]) -> None:
    rules = document["requirements"][at(document, "P111-KPI-TRANSFER")]["thresholds"]
    rules.insert(0, {"from_year": 2027, "min_percent": 90})
    transfer = load_catalog(write(tmp_path, document))["P111-KPI-TRANSFER"]
    assert [transfer.threshold(year) for year in (2024, 2025, 2026, 2027, 2030)] == [None, 80, 80, 90, 90]


# ------------------------------------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("thresholds", "expected"),
    [
        ({"all": 80.0}, "≥ 80%"),
        ({"province": 90.0, "district": 80.0, "commune": 75.0}, "tỉnh ≥ 90% · huyện ≥ 80% · xã ≥ 75%"),
        ({"commune": 75.0, "province": 90.0}, "tỉnh ≥ 90% · xã ≥ 75%"),
        ({"all": 62.5}, "≥ 62.5%"),
        ({}, "—"),
    ],
)
def test_format_threshold(thresholds: dict[str, float], expected: str) -> None:
    assert format_threshold(thresholds) == expected


def test_format_threshold_of_the_2025_digitisation_schedule(catalog: Catalog) -> None:
    schedule = catalog["P111-KPI-DIGITISATION"].thresholds_for_year(2025)
    assert format_threshold(schedule) == "tỉnh ≥ 100% · huyện ≥ 100% · xã ≥ 95%"
