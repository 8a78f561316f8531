"""The analyses over data built in the database, checked against scipy/statsmodels run here
on the same values, and the seed papers' figures reproduced through the whole pipeline."""

import json
import math
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from outcomes import cohorts
from outcomes.analyses import ANALYSES, get_analysis
from outcomes.analyses.adapters import trajectory_from_wide
from outcomes.selectors import CohortData
from outcomes.statistics import trajectory
from tests.outcomes.conftest import Level, make_case

pytestmark = pytest.mark.django_db
NO_RULES = dict.fromkeys(cohorts.RULE_FIELDS, False)


def assert_close(actual, expected, path="result"):
    """Equal JSON-like structures, floats to 1e-9 relative."""
    if isinstance(expected, dict):
        assert set(actual) == set(expected), path
        for key in expected:
            assert_close(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), path
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_close(a, e, f"{path}[{index}]")
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-12), path
    else:
        assert actual == expected, path


def run(name, data, **parameters):
    result = get_analysis(name).run(data, parameters)
    json.dumps(result, allow_nan=False)  # no NaN / inf anywhere
    return result


# ---------------------------------------------------------------- the wide adapter


def test_the_wide_adapter_gives_exactly_what_trajectory_gives_on_the_long_frame():
    rng = np.random.default_rng(7)
    n = 90
    wide = pd.DataFrame(
        {"technique": pd.Categorical(rng.choice(["PKP", "PVP", "VBS"], n))},
        index=pd.Index(np.arange(1, n + 1), name="unit_id"),
    )
    for shift, timepoint in enumerate(("baseline", "2w", "12w", "1y")):
        values = rng.normal(8 - 2 * shift, 1.5, n).round(1)
        values[rng.random(n) < 0.15] = np.nan
        wide[f"vas_{timepoint}"] = values
    columns = {tp: f"vas_{tp}" for tp in ("baseline", "2w", "12w", "1y")}
    long = (
        wide.rename(columns={c: tp for tp, c in columns.items()})
        .reset_index()
        .melt(id_vars=["unit_id", "technique"], var_name="timepoint", value_name="value")
        .rename(columns={"technique": "group"})
    )
    fast = trajectory_from_wide(
        wide, columns=columns, groups=["PKP", "PVP", "VBS"], group_col="technique"
    )
    assert_close(fast.to_dict(), trajectory(long, groups=["PKP", "PVP", "VBS"]).to_dict())


# ---------------------------------------------------------------- a two-technique cohort


@pytest.fixture
def two_techniques(site_a):
    """30 PKP and 25 PVP patients with seeded values; some visits and films missing."""
    rng = np.random.default_rng(2024)
    for index in range(55):
        technique = "PKP" if index < 30 else "PVP"
        shift = 0.0 if technique == "PKP" else 0.6
        vas = {
            "baseline": f"{min(10, max(5, rng.normal(8.5, 0.8))):.1f}",
            "2w": f"{min(10, max(0, rng.normal(3 + shift, 1.2))):.1f}",
            "12w": f"{min(10, max(0, rng.normal(2 + shift, 1.2))):.1f}",
        }
        if index % 7 == 3:
            del vas["12w"]
        anterior = rng.normal(17, 2)
        films = {"baseline": (anterior, 18.0 + rng.normal(0, 2)), "12w": (anterior + 4, 12.0)}
        if index % 9 == 4:
            del films["12w"]
        leaked = rng.random() < (0.15 if technique == "PKP" else 0.35)
        make_case(
            site=site_a,
            technique=technique,
            born=date(1940, 1, 1) + timedelta(days=int(rng.integers(0, 9000))),
            sex="F" if rng.random() < 0.7 else "M",
            vas=vas,
            levels=[
                Level(
                    "L1",
                    genant=int(rng.integers(1, 4)),
                    leakage="S" if leaked else "none",
                    cement=Decimal(f"{rng.normal(4.5, 0.8):.1f}"),
                    devices_used=2 if technique == "PKP" else 0,
                    devices_ruptured=1 if technique == "PKP" and index % 10 == 0 else 0,
                    films={
                        tp: (
                            Decimal(f"{a:.1f}"),
                            Decimal("26.0"),
                            Decimal("28.0"),
                            Decimal(f"{k:.1f}"),
                        )
                        for tp, (a, k) in films.items()
                    },
                )
            ],
            procedure_fields={"operation_time_min": int(rng.integers(30, 70))},
        )


@pytest.fixture
def data(two_techniques, everywhere):
    return CohortData(filters={}, rules=NO_RULES, scope=everywhere())


def test_trajectories_match_scipy_on_the_same_values(data):
    result = run("trajectories", data, outcomes=["vas", "rfvh"])
    vas = result["outcomes"][0]
    assert vas["key"] == "vas"
    wide = data.wide
    pkp = wide[wide["technique"] == "PKP"]
    baseline = next(
        s["summary"]
        for s in vas["summaries"]
        if s["group"] == "PKP" and s["timepoint"] == "baseline"
    )
    assert baseline["n"] == 30
    assert baseline["mean"] == pytest.approx(pkp["vas_baseline"].mean())
    assert baseline["sd"] == pytest.approx(pkp["vas_baseline"].std(ddof=1))
    pairs = pkp[["vas_baseline", "vas_12w"]].dropna()
    change = next(
        c["change"] for c in vas["changes"] if c["group"] == "PKP" and c["timepoint"] == "12w"
    )
    expected = stats.ttest_rel(pairs["vas_12w"], pairs["vas_baseline"])
    assert change["n_paired"] == len(pairs) < 30
    assert change["p"] == pytest.approx(expected.pvalue)
    assert change["nonparametric"]["p"] == pytest.approx(
        stats.wilcoxon(pairs["vas_12w"] - pairs["vas_baseline"]).pvalue
    )
    at_2w = next(
        c["comparison"] for c in vas["comparisons"] if c["timepoint"] == "2w" and c["of"] == "value"
    )
    welch = stats.ttest_ind(
        pkp["vas_2w"].dropna(),
        wide.loc[wide["technique"] == "PVP", "vas_2w"].dropna(),
        equal_var=False,
    )
    assert at_2w["test"] == "welch_t"
    assert at_2w["p"] == pytest.approx(welch.pvalue)


def test_rates_follow_the_chi_square_fisher_rule(data):
    result = run("rates", data)
    per_patient = result["leakage"][0]
    cases = data.cases
    table = pd.crosstab(cases["technique"], cases["leaked"].astype(bool))
    expected = stats.contingency.expected_freq(table.to_numpy())
    comparison = per_patient["comparison"]
    if expected.min() < 5:
        assert comparison["test"] == "fisher_exact"
        assert comparison["p"] == pytest.approx(stats.fisher_exact(table.to_numpy()).pvalue)
    else:
        assert comparison["test"] == "pearson_chi2"
        chi2 = stats.chi2_contingency(table.to_numpy(), correction=False)
        assert comparison["p"] == pytest.approx(chi2.pvalue)
    devices = result["device_rupture"][0]
    # Defect 6: PVP has no device that can rupture: "not applicable", never 0/0.
    assert {r["group"]: (r["events"], r["n"]) for r in devices["rates"]} == {"PKP": (3, 60)}
    assert devices["not_applicable"] == ["PVP"]
    operation = next(
        item for item in result["perioperative"] if item["variable"] == "operation_time_min"
    )
    welch = stats.ttest_ind(
        *(cases.loc[cases["technique"] == t, "operation_time_min"] for t in ("PKP", "PVP")),
        equal_var=False,
    )
    assert operation["p"] == pytest.approx(welch.pvalue)


def test_table1_tests_each_row_like_scipy(data):
    table = run("table1", data)["table"]
    age_row = next(
        r for r in table["rows"] if r["variable_code"] == "age" and r["level"] == "mean_sd"
    )
    cases = data.cases
    welch = stats.ttest_ind(
        *(cases.loc[cases["technique"] == t, "age"] for t in ("PKP", "PVP")), equal_var=False
    )
    assert (age_row["test"], age_row["cells"]["Test"]) == ("welch_t", "Welch's t-test")
    assert age_row["p"] == pytest.approx(welch.pvalue)
    assert table["headers"]["PKP"] == "PKP (n = 30)"


def test_logistic_regression_matches_statsmodels(data):
    result = run("logistic", data, outcome="vas_1y_le_3", predictors=["age"])
    assert result["status"] == "refused"  # nobody has a 1-year visit: no events
    result = run("logistic", data, outcome="leakage", predictors=["age"])
    cases = data.cases
    if result["status"] == "refused":
        assert result["refusal"] == "too_few_events_per_predictor"
        assert min(result["events"], result["non_events"]) < 10
        return
    fitted = sm.Logit(cases["leaked"].astype(int), sm.add_constant(cases[["age"]])).fit(disp=0)
    assert result["terms"][0]["odds_ratio"] == pytest.approx(math.exp(fitted.params["age"]))
    assert result["terms"][0]["p"] == pytest.approx(fitted.pvalues["age"])


def test_table2_is_one_table_per_technique(data):
    result = run("table2", data, outcomes=["vas"], strata=["sex"], followup="12w")
    assert [t["technique"] for t in result["tables"]] == ["PKP", "PVP"]
    rows = result["tables"][0]["table"]["rows"]
    assert [(r["stratum"], r["category"]) for r in rows] == [
        ("Overall", "All"),
        ("Gender", "Male"),
        ("Gender", "Female"),
    ]


def test_every_analysis_runs_and_is_json_safe(data):
    for name in ANALYSES:
        result = run(name, data)
        assert result, name


def test_an_empty_cohort_gives_empty_results_not_errors(data, everywhere):
    empty = CohortData(filters={"techniques": ["VBS"]}, rules=NO_RULES, scope=everywhere())
    for name in ANALYSES:
        run(name, empty)


# ---------------------------------------------------------------- the seed papers


def test_seed_000_leakage_is_tested_with_fisher_p_0_040(site_a, everywhere):
    """1/54 Vesselplasty vs 6/41 PVP: the smallest expected count is 3.02 < 5."""
    for technique, leaked, total in (("VESSELPLASTY", 1, 54), ("PVP", 6, 41)):
        for index in range(total):
            make_case(
                site=site_a,
                technique=technique,
                vas={"baseline": "8.0"},
                levels=[Level(leakage="S" if index < leaked else "none", films={})],
            )
    data = CohortData(filters={"genant_grades": [3]}, rules=NO_RULES, scope=everywhere())
    per_patient = run("rates", data)["leakage"][0]
    rates = {r["group"]: r["text"] for r in per_patient["rates"]}
    assert rates == {"PVP": "6/41 (14.6%)", "VESSELPLASTY": "1/54 (1.9%)"}
    comparison = per_patient["comparison"]
    assert comparison["test"] == "fisher_exact"
    assert comparison["min_expected"] == pytest.approx(3.02, abs=0.005)
    assert round(comparison["p"], 3) == 0.040
    assert round(comparison["pearson_chi2"], 3) == 5.579  # not the paper's 12.214


def exact(n, mean, sd, seed):
    z = np.random.default_rng(seed).standard_normal(n)
    return mean + sd * (z - z.mean()) / z.std(ddof=1)


def test_seed_002_tables_print_the_published_cells(site_a, everywhere):
    """75 PKP patients with the published means and SDs, entered as visits and films."""
    n = 75
    vas_pre = np.repeat([8.0, 9.0, 10.0], [12, 36, 27])  # 9.2 ± 0.7
    vas_post = np.repeat([0, 1, 2, 3, 4, 6, 7], [33, 3, 14, 3, 19, 2, 1]).astype(float)  # 1.8 ± 1.9
    rng = np.random.default_rng(11)
    vas_post = rng.permutation(vas_post)
    height_pre = np.round(exact(n, 27.8, 3.5, seed=3), 1)  # mm; 2.78 ± 0.35 cm
    height_post = np.round(exact(n, 30.5, 3.2, seed=13), 1)
    for i in range(n):
        levels = 1 if i < 45 else 2  # 60 % single level
        films = {
            "baseline": (
                Decimal(f"{height_pre[i]:.1f}"),
                Decimal("40.0"),
                Decimal("40.0"),
                Decimal("10.0"),
            ),
            "12w": (
                Decimal(f"{height_post[i]:.1f}"),
                Decimal("40.0"),
                Decimal("40.0"),
                Decimal("8.0"),
            ),
        }
        make_case(
            site=site_a,
            technique="PKP",
            sex="F" if i < 55 else "M",
            vas={"baseline": f"{vas_pre[i]:.1f}", "12w": f"{vas_post[i]:.1f}"},
            levels=[Level(level, films=films) for level in ("L1", "L2")[:levels]],
        )
    data = CohortData(filters={"techniques": ["PKP"]}, rules=NO_RULES, scope=everywhere())
    table2 = run("table2", data, outcomes=["vas", "body_height"], strata=[])["tables"][0]["table"]
    vas, height = table2["rows"]
    assert (vas["cells"]["Pre-op"], vas["cells"]["Post-op"]) == ("9.2 ± 0.7", "1.8 ± 1.9")
    assert (height["cells"]["Pre-op"], height["cells"]["Post-op"]) == ("2.78 ± 0.35", "3.05 ± 0.32")
    assert vas["p"] == pytest.approx(stats.ttest_rel(vas_post, vas_pre).pvalue)
    assert height["p"] == pytest.approx(stats.ttest_rel(height_post / 10, height_pre / 10).pvalue)
    assert vas["cells"]["P-value"] == "<0.001"
    table1 = run("table1", data)["table"]
    cell = {(r["variable"], r["category"]): r["cells"]["Overall"] for r in table1["rows"]}
    assert cell[("Sex", "Female")] == "55 (73.3%)"
    assert cell[("Number of treated levels", "Single level")] == "45 (60.0%)"
    assert cell[("VAS back pain before the procedure", "Mean ± SD")] == "9.2 ± 0.7"
