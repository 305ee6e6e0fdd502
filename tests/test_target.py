"""The target configuration: schema, loader, embedded default, and that secrets never leak."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from harness.config.target import Problem, Secret, Target, TargetError, embedded_target, load_target
from harness.core import schemas
from harness.core.formats import AGENCY_CODE, vietnam_now
from harness.core.resources import data_file, schema_dir

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "staging.target.yaml"
EXAMPLE_ENV = {
    "P111_SUT_API_KEY": "sut-key-5f2a",
    "P111_PORTAL_PASSWORD": "portal-pw-9c1e",
    "P111_PAYMENT_SECRET": "pay-secret-77b0",
    "P111_SSO_CLIENT_SECRET": "sso-secret-3d4d",
}
CANARY = "CANARY-literal-s3cr3t-8f41"
MINIMAL = "name: Minimal\nsut: {base_url: 'https://sut.example.vn'}\n"


def write(tmp_path: Path, text: str, name: str = "target.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, env: dict[str, str] | None = None) -> TargetError:
    with pytest.raises(TargetError) as caught:
        load_target(path, env={} if env is None else env)
    return caught.value


def paths(error: TargetError) -> dict[str, str]:
    return {p.path: p.message for p in error.problems}


def with_counterpart(counterpart: str, embedded: bool = False) -> str:
    sut = "{embedded: true}" if embedded else "{base_url: 'https://sut.example.vn'}"
    return f"name: T\nsut: {sut}\ncounterparts:\n  portal: {counterpart}\n"


# --- the embedded default and the example ------------------------------------------------------------------------


def test_embedded_target_is_the_in_process_reference_system() -> None:
    target = embedded_target()
    assert target.sut.embedded and target.sut.base_url is None and target.sut.defects == ()
    assert (target.province_code, target.province_name) == ("H40", "Nam Định")
    assert target.year == vietnam_now().year
    assert target.safety_mode == "full" and target.environment == "staging"
    assert target.timeouts.sync == 0.1  # the embedded system tells the portal before it answers
    assert {a.level for a in target.agencies} == {"province", "district", "commune"}
    assert all(AGENCY_CODE.match(a.code) for a in target.agencies)
    for counterpart in (target.portal, target.payment, target.sso):
        assert counterpart.serve and counterpart.url is not None and counterpart.url.startswith("embedded://")
    assert target.secret_values() == ()
    assert target.source is None
    assert target.digest == hashlib.sha256(data_file("embedded.target.yaml").read_bytes()).hexdigest()


def test_embedded_target_takes_year_and_defects() -> None:
    target = embedded_target(year=2023, defects=["sync-never-sent"])
    assert target.year == 2023 and target.public_dict()["evaluation_year"] == 2023
    assert target.sut.defects == ("sync-never-sent",)
    assert target.public_dict()["sut"]["defects"] == ["sync-never-sent"]


def test_example_staging_target_loads_with_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in EXAMPLE_ENV.items():
        monkeypatch.setenv(name, value)
    target = load_target(EXAMPLE)  # env defaults to os.environ
    assert target.name == "Hệ thống một cửa điện tử tỉnh Nam Định (staging)"
    assert target.operator == "Văn phòng UBND tỉnh Nam Định"
    assert target.year == 2025
    assert not target.sut.embedded and target.sut.base_url == "https://motcua-staging.example.vn"
    assert target.sut.api_key is not None and target.sut.api_key.reveal() == EXAMPLE_ENV["P111_SUT_API_KEY"]
    assert target.sut.api_key.reference == "${P111_SUT_API_KEY}"
    assert target.portal.password is not None and target.portal.password.reveal() == "portal-pw-9c1e"
    assert target.payment.merchant_code == "P111" and target.sso.client_id == "p111-sut"
    assert sorted(target.secret_values()) == sorted(EXAMPLE_ENV.values())
    assert target.politeness.requests_per_second == 10.0 and target.payment_rules.checksum == "sha256-pipe"
    assert target.source == EXAMPLE and target.digest == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()


def test_defaults_fill_a_minimal_file(tmp_path: Path) -> None:
    target = load_target(write(tmp_path, MINIMAL), env={})
    assert (target.province_code, target.agencies, target.operator) == ("H40", (), None)
    assert target.sut.driver == "reference-api" and target.sut.api_key is None
    assert target.sync.transport == "adapter"
    assert target.sync.auth_path == "/api/adapter/auth" and target.sync.progress_path == "/api/dossier/progress"
    assert (target.safety_mode, target.environment) == ("read-only", "staging")
    assert target.payment_rules.checksum == "sha256-pipe"
    assert (target.timeouts.connect, target.timeouts.request, target.timeouts.sync) == (5.0, 15.0, 10.0)
    assert target.politeness.requests_per_second is None and target.politeness.max_body_bytes == 10 * 1024 * 1024
    # Counterparts that are not configured: all fields None, nothing served.
    assert target.portal.url is None and target.portal.serve is False and target.sso.client_secret is None
    document = target.public_dict()
    assert document["sync"]["direct"]["update_path"] == "/api/dossier/update"
    assert document["evaluation_year"] == target.year
    # The defaults are themselves valid (with the one registry: a driver's options refer to its own schema).
    assert Draft202012Validator(schema(), registry=schemas.registry()).is_valid(document)


# --- every fault at once, and no secret in any message ------------------------------------------------------------

BROKEN = f"""\
name: Broken staging
foo: 1
agencies:
  - {{code: "000.00.00.H40", name: UBND tỉnh, level: province}}
  - {{code: "000.20.40.H40", name: UBND huyện, level: huyen}}
  - {{code: "000.00.00.H40", name: Again, level: province}}
  - {{code: "H40.001", name: Bad code, level: commune}}
sut:
  embedded: false
  defects: [sync-never-sent]
counterparts:
  portal:
    url: http://127.0.0.1:8701
    serve: true
    username: p111
    password: {CANARY}
  payment:
    url: http://127.0.0.1:8702
    serve: false
    secret: ${{P111_UNSET_SECRET}}
sync: {{transport: carrier-pigeon}}
"""


def test_a_broken_file_reports_every_fault_in_one_error(tmp_path: Path) -> None:
    error = problems_of(write(tmp_path, BROKEN))
    found = paths(error)
    assert found["foo"] == "unknown field 'foo'"
    assert found["sync.transport"] == "expected one of: adapter, direct"
    assert found["sut.base_url"] == "required field missing: base_url"
    assert found["agencies[1].level"] == "expected one of: province, district, commune"
    assert found["agencies[2].code"] == "duplicate agency code 000.00.00.H40 (already at agencies[0])"
    assert "valid agency code" in found["agencies[3].code"]
    assert found["counterparts.portal.password"] == (
        "must be an environment-variable reference such as ${P111_PORTAL_PASSWORD}, not a literal secret"
    )
    assert found["counterparts.payment.secret"] == "environment variable P111_UNSET_SECRET is not set"
    assert "embedded" in found["sut.defects"]
    assert len(error.problems) == len(found) == 9
    text = str(error)
    assert text.splitlines()[0] == f"{tmp_path / 'target.yaml'}:"
    assert "  sync.transport: expected one of: adapter, direct" in text.splitlines()


def test_a_literal_secret_appears_in_no_message(tmp_path: Path) -> None:
    error = problems_of(write(tmp_path, BROKEN))
    for shown in (str(error), repr(error), repr(error.problems), *(p.message for p in error.problems), *error.args):
        assert CANARY not in shown
    # Even a secret of the wrong type is refused without being quoted.
    error = problems_of(write(tmp_path, MINIMAL + f"counterparts: {{sso: {{client_secret: [{CANARY}]}}}}\n"))
    assert CANARY not in str(error) and CANARY not in repr(error)
    assert paths(error)["counterparts.sso.client_secret"].startswith("must be an environment-variable reference")


# Wrapped in '~', which no message contains, so that a literal cannot match our own wording by chance.
_LITERALS = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters='~"\\'), min_size=1, max_size=40
).map(lambda s: f"~{s}~")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(literal=_LITERALS, field=st.sampled_from(["sut.api_key", "portal.password", "sso.client_secret"]))
def test_no_literal_secret_leaks_whatever_it_is(tmp_path: Path, literal: str, field: str) -> None:
    owner, name = field.split(".")
    quoted = json.dumps(literal)  # a JSON string is a YAML double-quoted scalar
    if owner == "sut":
        text = f"name: T\nsut: {{base_url: 'https://sut.example.vn', api_key: {quoted}}}\n"
    else:
        text = f"{MINIMAL}counterparts:\n  {owner}: {{{name}: {quoted}}}\n"
    error = problems_of(write(tmp_path, text))
    assert literal not in str(error) and literal not in repr(error)
    assert all(literal not in p.path and literal not in p.message for p in error.problems)


def test_an_empty_environment_variable_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: T\nsut:\n  base_url: https://sut.example.vn\n  api_key: ${P111_SUT_API_KEY}\n")
    assert (
        paths(problems_of(path, {"P111_SUT_API_KEY": ""}))["sut.api_key"]
        == "environment variable P111_SUT_API_KEY is empty"
    )
    assert load_target(path, env={"P111_SUT_API_KEY": "k"}).sut.api_key is not None


# --- the file itself ---------------------------------------------------------------------------------------------


def test_invalid_yaml_reports_line_and_column(tmp_path: Path) -> None:
    error = problems_of(write(tmp_path, "name: T\nsut:\n  base_url: [unclosed\n  driver: x\n"))
    (problem,) = error.problems
    assert problem.path == "(file)"
    assert "YAML syntax error at line 4, column" in problem.message


def test_a_yaml_syntax_error_does_not_quote_the_line(tmp_path: Path) -> None:
    error = problems_of(write(tmp_path, f"name: T\nsut:\n  api_key: {CANARY}: oops\n"))
    assert "line 3" in str(error) and CANARY not in str(error)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- name: T\n- sut: {}\n", "expected a mapping of settings at the top level, found a list"),
        ("just a string\n", "expected a mapping of settings at the top level, found a string"),
        ("# nothing but a comment\n", "the file is empty; expected a mapping of settings"),
    ],
)
def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str, expected: str) -> None:
    assert problems_of(write(tmp_path, text)).problems == (Problem("(file)", expected),)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    error = problems_of(tmp_path / "absent.yaml")
    assert error.problems == (Problem("(file)", "file not found"),)
    assert str(error).startswith(str(tmp_path / "absent.yaml"))


def test_a_duplicate_key_is_refused(tmp_path: Path) -> None:
    error = problems_of(write(tmp_path, MINIMAL + "name: Again\n"))
    assert error.problems == (Problem("(file)", "line 3, column 1: duplicate key 'name'"),)


# --- rules across fields -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["portal.example.vn", "10.0.0.5", "0.0.0.0", "[2001:db8::1]"])
def test_serving_a_counterpart_on_a_non_loopback_host_is_refused(tmp_path: Path, host: str) -> None:
    error = problems_of(write(tmp_path, with_counterpart(f"{{url: 'http://{host}:8701', serve: true}}")))
    message = paths(error)["counterparts.portal.url"]
    assert "loopback" in message and host.strip("[]") in message


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "[::1]"])
def test_serving_on_a_loopback_host_is_allowed(tmp_path: Path, host: str) -> None:
    target = load_target(write(tmp_path, with_counterpart(f"{{url: 'http://{host}:8701', serve: true}}")), env={})
    assert target.portal.serve and target.portal.url == f"http://{host}:8701"


def test_an_external_counterpart_may_be_anywhere(tmp_path: Path) -> None:
    target = load_target(
        write(tmp_path, with_counterpart("{url: 'https://dichvucong.example.vn', serve: false}")), env={}
    )
    assert target.portal.url == "https://dichvucong.example.vn" and not target.portal.serve


def test_serving_needs_a_url(tmp_path: Path) -> None:
    error = problems_of(write(tmp_path, with_counterpart("{serve: true}")))
    assert paths(error) == {"counterparts.portal.url": "required field missing: url"}


def test_the_embedded_scheme_needs_the_embedded_system(tmp_path: Path) -> None:
    error = problems_of(write(tmp_path, with_counterpart("{url: 'embedded://portal', serve: true}")))
    assert "only for the embedded reference system" in paths(error)["counterparts.portal.url"]
    target = load_target(write(tmp_path, with_counterpart("{url: 'embedded://portal', serve: true}", True)), env={})
    assert target.portal.url == "embedded://portal"


def test_an_embedded_sut_takes_no_base_url(tmp_path: Path) -> None:
    error = problems_of(write(tmp_path, "name: T\nsut: {embedded: true, base_url: 'https://sut.example.vn'}\n"))
    assert "not allowed when sut.embedded is true" in paths(error)["sut.base_url"]


@pytest.mark.parametrize("url", ["ftp://sut.example.vn", "https://user:pw@sut.example.vn", "sut.example.vn"])
def test_base_url_must_be_a_plain_http_url(tmp_path: Path, url: str) -> None:
    error = problems_of(write(tmp_path, f"name: T\nsut: {{base_url: '{url}'}}\n"))
    assert paths(error) == {"sut.base_url": "expected an http:// or https:// URL, without credentials"}


def test_numbers_and_years_are_checked(tmp_path: Path) -> None:
    text = (
        MINIMAL + "evaluation_year: 2020\ntimeouts: {connect_seconds: 0, request_seconds: '15'}\n"
        "politeness: {requests_per_second: -1}\nprovince: {code: '40', name: X}\n"
    )
    found = paths(problems_of(write(tmp_path, text)))
    assert found == {
        "evaluation_year": "expected at least 2021",
        "timeouts.connect_seconds": "expected a number greater than 0",
        "timeouts.request_seconds": "expected a number, found a string",
        "politeness.requests_per_second": "expected a number greater than 0",
        "province.code": "expected a province code such as H40",
    }


# --- what the loaded target shows and hides ---------------------------------------------------------------------


@pytest.fixture
def staging() -> Target:
    return load_target(EXAMPLE, env=EXAMPLE_ENV)


def test_public_dict_holds_references_never_values(staging: Target) -> None:
    document = staging.public_dict()
    assert document["sut"]["api_key"] == "${P111_SUT_API_KEY}"
    assert document["counterparts"]["portal"]["password"] == "${P111_PORTAL_PASSWORD}"
    shown = json.dumps(document, ensure_ascii=False)
    assert not any(value in shown for value in EXAMPLE_ENV.values())
    document["name"] = "changed"  # a copy: the target itself stays as loaded
    assert staging.public_dict()["name"] != "changed"


def test_repr_and_str_never_show_a_secret(staging: Target) -> None:
    for shown in (repr(staging), str(staging), repr(staging.portal), repr(staging.sut)):
        assert not any(value in shown for value in EXAMPLE_ENV.values())
    secret = staging.payment.secret
    assert isinstance(secret, Secret)
    assert str(secret) == repr(secret) == f"{secret}" == "[REDACTED]"
    assert secret.reveal() == "pay-secret-77b0"


def test_with_changes_overrides_the_year(staging: Target) -> None:
    changed = staging.with_changes(year=2024)
    assert changed.year == 2024 and changed.public_dict()["evaluation_year"] == 2024
    assert staging.year == 2025  # the original is untouched
    assert changed.digest == staging.digest and changed.sut == staging.sut
    assert staging.with_changes() == staging
    with pytest.raises(TargetError):
        staging.with_changes(year=1999)


def test_defects_are_only_for_the_embedded_system(staging: Target) -> None:
    with pytest.raises(TargetError) as caught:
        staging.with_changes(defects=["sync-never-sent"])
    assert caught.value.problems[0].path == "sut.defects"
    assert staging.with_changes(defects=[]).sut.defects == ()


def test_agency_level(staging: Target) -> None:
    assert staging.agency_level("000.00.00.H40") == "province"
    assert staging.agency_level("000.20.40.H40") == "district"
    assert staging.agency_level("000.21.40.H40") == "commune"
    assert staging.agency_level("000.00.00.H99") is None


# --- the schema itself --------------------------------------------------------------------------------------------


def schema() -> dict[str, Any]:
    return json.loads((schema_dir() / "target.schema.json").read_text(encoding="utf-8"))


def _objects(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        if "properties" in node and node.get("type") == "object":
            found.append(node)
        for value in node.values():
            found += _objects(value)
    elif isinstance(node, list):
        for value in node:
            found += _objects(value)
    return found


def test_the_schema_is_strict_and_documented() -> None:
    document = schema()
    Draft202012Validator.check_schema(document)
    assert document["$id"] == "https://p111.example/schemas/target.schema.json"
    for obj in _objects(document):
        assert obj["additionalProperties"] is False
        for name, prop in obj["properties"].items():
            assert " / " in prop.get("description", ""), f"{name} needs a Vietnamese / English description"
    # One agency-code definition: the schema's pattern is the one in harness.core.formats.
    assert document["properties"]["agencies"]["items"]["properties"]["code"]["pattern"] == AGENCY_CODE.pattern


def _patterns(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
        return own.union(*(_patterns(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_patterns(v) for v in node))
    return set()


def test_every_pattern_of_the_schema_is_explained_in_plain_words() -> None:
    from harness.config import wording
    from harness.config.secret import SECRET_REFERENCE

    assert SECRET_REFERENCE in _patterns(schema())  # refused with its own message, never echoing the value
    assert _patterns(schema()) - {SECRET_REFERENCE} <= set(wording.PATTERN_WORDS)


def test_redaction_settings_are_read_and_bad_patterns_named(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text('name: x\nsut: {embedded: true}\nredaction: {fields: [MaDoiTuong], patterns: {phone: null}}\n',
                    encoding="utf-8")
    assert load_target(good).redaction == {"fields": ["MaDoiTuong"], "patterns": {"phone": None}}
    bad = tmp_path / "bad.yaml"
    bad.write_text('name: x\nsut: {embedded: true}\nredaction: {patterns: {plate: "[0-9"}}\n', encoding="utf-8")
    with pytest.raises(TargetError) as caught:
        load_target(bad)
    assert [p.path for p in caught.value.problems] == ["redaction.patterns.plate"]


# --- safety --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["test", "production"])
def test_full_mode_is_refused_unless_the_environment_is_staging(tmp_path: Path, environment: str) -> None:
    error = problems_of(write(tmp_path, MINIMAL + f"safety: {{mode: full, environment: {environment}}}\n"))
    message = paths(error)["safety.mode"]
    assert "environment: staging" in message and f"environment: {environment}" in message


@pytest.mark.parametrize("safety", ["{mode: full, environment: staging}", "{mode: full}", "{environment: test}"])
def test_full_mode_on_staging_and_read_only_anywhere_are_allowed(tmp_path: Path, safety: str) -> None:
    target = load_target(write(tmp_path, MINIMAL + f"safety: {safety}\n"), env={})
    assert target.safety_mode == "full" or target.environment == "test"


def test_declared_procedures_name_the_faulty_entry_in_its_own_shape(tmp_path: Path) -> None:
    text = MINIMAL + 'capabilities:\n  procedures: ["1.001193", {code: "1.001193", level: 4}, {code: "2.000720"}]\n'
    got = paths(problems_of(write(tmp_path, text)))
    assert got["capabilities.procedures[2].level"] == "required field missing: level"
    assert got["capabilities.procedures"] == "procedure 1.001193 is declared more than once"
