"""The result contract: every analysis' stored result has its declared shape (JSON Schema)."""

from __future__ import annotations

import copy

import jsonschema
import pytest

from outcomes import cohorts
from outcomes.analyses import ANALYSES
from outcomes.contract import SCHEMA_VERSION, errors, schema_for, schemas, validate
from outcomes.services import cohort_create
from outcomes.suppression import suppress
from tests.outcomes.conftest import Level, make_case

pytestmark = pytest.mark.django_db
NO_RULES = dict.fromkeys(cohorts.RULE_FIELDS, False)


@pytest.fixture
def stored(site_a, coordinator, ask):
    """A done run of every analysis over a small two-technique cohort."""
    for i in range(6):
        make_case(site=site_a, technique="PKP", vas={"baseline": f"{7 + i % 3}.0", "12w": "2.5"})
        make_case(
            site=site_a,
            technique="VBS" if i % 2 else "PVP",
            vas={"baseline": "8.5", "12w": f"{2 + i % 4}.0"},
            levels=[Level(leakage="B" if i % 3 == 0 else "none"), Level("L2")],
        )
    cohort = cohort_create(owner=coordinator, name="All", rules=NO_RULES)
    runs = {}
    for name in ANALYSES:
        runs[name] = ask(coordinator, cohort, name).run
        assert runs[name].status == "done", runs[name].error
    return runs


def test_every_schema_is_a_valid_json_schema():
    for name, schema in schemas().items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["properties"]["analysis"] == {"const": name}
    assert set(schemas()) == set(ANALYSES)


def test_every_analysis_stored_result_has_its_declared_shape(stored):
    for name, run in stored.items():
        assert run.result["schema_version"] == SCHEMA_VERSION
        assert errors(run.result) == [], name
        validate(suppress(run.result, analysis=name))  # suppressed results keep the shape


def test_a_result_that_departs_from_its_shape_is_caught(stored):
    broken = copy.deepcopy(stored["trajectories"].result)
    broken["body"]["outcomes"][0]["summaries"][0]["summary"]["n"] = "twelve"
    del broken["body"]["outcomes"][0]["changes"][0]["change"]["n_paired"]
    problems = errors(broken)
    assert any("summaries/0/summary/n" in p for p in problems)
    assert any("n_paired" in p for p in problems)
    with pytest.raises(KeyError):
        schema_for("no_such_analysis")


def test_cells_carry_their_numbers_and_rows_their_codes(stored):
    table = stored["table1"].result["body"]["table"]
    sex = next(r for r in table["rows"] if r["variable_code"] == "sex" and r["level"] == "F")
    assert sex["values"]["Overall"]["count"] == 12
    assert sex["cells"]["Overall"].startswith("12 (")
    age = next(r for r in table["rows"] if r["variable_code"] == "age" and r["level"] == "mean_sd")
    assert age["values"]["PKP"]["n"] == 6 and age["values"]["PKP"]["mean"] is not None
    missing = next(
        r for r in table["rows"] if r["variable_code"] == "bmi" and r["level"] == "missing"
    )
    assert missing["values"]["Overall"]["n"] == 12
