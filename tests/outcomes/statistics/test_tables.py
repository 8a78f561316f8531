import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from outcomes.statistics import (
    ANOVA,
    FISHER,
    MANN_WHITNEY,
    PAIRED_T,
    PEARSON_CHI2,
    WELCH_T,
    Outcome,
    Variable,
    age_stratum,
    baseline_table,
    format_mean_sd,
    format_p,
    prepost_table,
    region_stratum,
    sex_stratum,
)

EN = "\N{EN DASH}"
SEED_002_VARIABLES = [
    Variable("age", "Age (years)", show_range=True, range_suffix=" years"),
    Variable("sex", "Gender", kind="categorical", levels={"F": "Female", "M": "Male"}),
    Variable("bmi", "BMI (kg/m²)"),
    Variable(
        "level",
        "Affected Vertebral Level",
        kind="categorical",
        levels={"L1": "L1", "L2-L4": f"L2{EN}L4", "T7-T12": f"Thoracic (D7{EN}D12)"},
    ),
    Variable(
        "levels_treated",
        "Number of Levels",
        kind="categorical",
        levels={"single": "Single level", "multi": "Multi-level"},
    ),
]
REGIONS = {"thoracic": f"Thoracic (D7{EN}D12)", "lumbar": f"Lumbar (L1{EN}L4)"}
VAS, HEIGHT = "VAS Score", "Vertebral Body Height (cm)"


@pytest.fixture
def seed_002_outcomes(pkp_cohort, to_long) -> list[Outcome]:
    return [
        Outcome(VAS, to_long(pkp_cohort, "vas_pre", "vas_12w"), decimals=1),
        Outcome(HEIGHT, to_long(pkp_cohort, "height_pre", "height_12w"), decimals=2),
    ]


def strict_json(table) -> dict:
    return json.loads(json.dumps(table.to_dict(), allow_nan=False))


# ---------------------------------------------------------------- Table 1


def test_table_1_prints_the_published_cells_of_seed_002(pkp_cohort):
    table = baseline_table(pkp_cohort, SEED_002_VARIABLES, group_col=None)
    cell = table.cell
    assert table.title == "Baseline characteristics (n = 75)"
    assert cell("Age (years)", "Mean ± SD", "Overall") == "65.8 ± 8.2"
    assert cell("Age (years)", "Range", "Overall") == f"46{EN}83 years"
    assert cell("Gender", "Female", "Overall") == "55 (73.3%)"
    assert cell("Gender", "Male", "Overall") == "20 (26.7%)"
    assert cell("BMI (kg/m²)", "Mean ± SD", "Overall") == "27.9 ± 6.5"
    assert cell("Affected Vertebral Level", "L1", "Overall") == "29 (38.7%)"
    assert cell("Affected Vertebral Level", f"L2{EN}L4", "Overall") == "24 (32.0%)"
    assert cell("Affected Vertebral Level", f"Thoracic (D7{EN}D12)", "Overall") == "22 (29.3%)"
    assert cell("Number of Levels", "Single level", "Overall") == "45 (60.0%)"  # paper: 60.00%
    assert cell("Number of Levels", "Multi-level", "Overall") == "30 (40.0%)"
    assert cell("Gender", "Female", "Missing") == "0"
    assert table.columns == ["Overall", "Missing"]  # one cohort: nothing to test
    assert all(row.p is None and row.test is None for row in table.rows)
    strict_json(table)


def test_table_1_text_layout_follows_seed_002(pkp_cohort):
    lines = (
        baseline_table(pkp_cohort, SEED_002_VARIABLES, group_col=None, missing_rows=False)
        .to_text()
        .split("\n")
    )
    assert lines[1] == "Variable\tCategory\tOverall (n = 75)\tMissing"
    assert lines[2] == "Age (years)\tMean ± SD\t65.8 ± 8.2\t0"
    assert lines[3] == f"\tRange\t46{EN}83 years\t"  # the variable is printed once per block
    assert lines[4] == "Gender\tFemale\t55 (73.3%)\t0"


@pytest.fixture
def two_techniques(pkp_cohort) -> pd.DataFrame:
    frame = pkp_cohort.assign(group=np.where(pkp_cohort.index % 3 == 0, "PVP", "PKP"))
    frame.loc[[4, 10], "age"] = np.nan
    frame.loc[[7], "sex"] = None
    return frame


def test_table_1_by_group_runs_the_rule_per_row(two_techniques):
    table = baseline_table(two_techniques, SEED_002_VARIABLES, groups=["PKP", "PVP"])
    pkp, pvp = (two_techniques[two_techniques.group == g] for g in ("PKP", "PVP"))
    assert table.columns == ["Overall", "PKP", "PVP", "SMD", "P-value", "Test", "Missing"]
    assert table.headers["PVP"] == "PVP (n = 25)"

    age = table.row("Age (years)", "Mean ± SD")
    welch = stats.ttest_ind(pkp.age.dropna(), pvp.age.dropna(), equal_var=False)
    assert (age.test, age.p) == (WELCH_T, pytest.approx(welch.pvalue))
    assert age.twin_test == MANN_WHITNEY
    assert age.twin_p == pytest.approx(
        stats.mannwhitneyu(pkp.age.dropna(), pvp.age.dropna()).pvalue
    )
    assert age.cells["P-value"] == format_p(welch.pvalue)
    assert age.cells["PKP"] == format_mean_sd(pkp.age.mean(), pkp.age.std(), 1)
    assert (age.cells["Missing"], age.n) == ("2", 73)
    pooled = np.sqrt((pkp.age.var() + pvp.age.var()) / 2)
    assert age.smd == pytest.approx(abs(pvp.age.mean() - pkp.age.mean()) / pooled)
    assert (age.test_label, age.cells["Test"], age.normality) == (
        "Welch's t-test",
        "Welch's t-test",
        "normal",
    )
    assert age.values["PKP"]["n"] == pkp.age.notna().sum()
    missing_age = table.row("Age (years)", "Missing")
    assert missing_age.values["Overall"] == {"count": 2, "n": 75, "percent": 200 / 75}

    sex = table.row("Gender", "Female")
    observed = pd.crosstab(two_techniques.group, two_techniques.sex).loc[["PKP", "PVP"], ["F", "M"]]
    chi2 = stats.chi2_contingency(observed, correction=False)
    assert chi2.expected_freq.min() >= 5
    assert (sex.test, sex.p) == (PEARSON_CHI2, pytest.approx(chi2.pvalue))
    assert sex.cells["Missing"] == "1"
    n_female_pkp = int((pkp.sex == "F").sum())
    assert sex.cells["PKP"] == f"{n_female_pkp} ({100 * n_female_pkp / pkp.sex.notna().sum():.1f}%)"
    assert table.row("Gender", "Male").p is None  # the p-value sits on the block's first row
    p1, p2 = ((g.sex == "F").sum() / g.sex.notna().sum() for g in (pkp, pvp))
    binary = abs(p1 - p2) / np.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2)
    assert sex.smd == pytest.approx(binary)  # Yang and Dalton reduce to this for 2 levels
    assert (sex.variable_code, sex.level, sex.values["PKP"]["count"]) == ("sex", "F", n_female_pkp)

    level = table.row("Affected Vertebral Level", "L1")
    counts = pd.crosstab(two_techniques.group, two_techniques.level)
    assert level.p == pytest.approx(stats.chi2_contingency(counts, correction=False).pvalue)
    strict_json(table)


def test_table_1_small_2x2_switches_to_fisher(pkp_cohort):
    frame = pkp_cohort.head(20).assign(
        group=["A"] * 10 + ["B"] * 10,
        steroid=[True] * 1 + [False] * 9 + [True] * 6 + [False] * 4,
    )
    table = baseline_table(
        frame,
        [
            Variable(
                "steroid", "Corticosteroids", kind="categorical", levels={True: "Yes", False: "No"}
            )
        ],
    )
    row = table.row("Corticosteroids", "Yes")
    assert row.test == FISHER
    assert row.p == pytest.approx(stats.fisher_exact([[1, 9], [6, 4]]).pvalue)
    assert row.cells["A"] == "1 (10.0%)"


def test_table_1_three_groups_and_a_nonparametric_variable(pkp_cohort):
    frame = pkp_cohort.assign(group=np.resize(["PKP", "PVP", "VBS"], len(pkp_cohort)))
    variables = [Variable("bmi", "BMI"), Variable("vas_pre", "VAS", nonparametric=True)]
    table = baseline_table(frame, variables)
    samples = [frame.loc[frame.group == g, "bmi"] for g in ("PKP", "PVP", "VBS")]
    bmi = table.row("BMI", "Mean ± SD")
    assert (bmi.test, bmi.p) == (ANOVA, pytest.approx(stats.f_oneway(*samples).pvalue))
    vas = table.row("VAS", "Median [Q1, Q3]")
    vas_samples = [frame.loc[frame.group == g, "vas_pre"] for g in ("PKP", "PVP", "VBS")]
    assert vas.test == "kruskal_wallis"
    assert vas.p == pytest.approx(stats.kruskal(*vas_samples).pvalue)
    assert vas.twin_test == ANOVA
    q1, median, q3 = np.percentile(vas_samples[0], [25, 50, 75])
    assert vas.cells["PKP"] == f"{median:.1f} [{q1:.1f}, {q3:.1f}]"


def test_table_1_empty_group_gives_no_p_but_still_prints(pkp_cohort):
    table = baseline_table(pkp_cohort, SEED_002_VARIABLES[:2], groups=["PKP", "VBS"])
    age = table.row("Age (years)", "Mean ± SD")
    assert age.p is None and "VBS" in age.note
    assert age.cells["VBS"] == "" and age.cells["P-value"] == ""
    assert table.row("Gender", "Female").cells["VBS"] == f"0 ({EN})"
    strict_json(table)


# ---------------------------------------------------------------- Table 2


def test_table_2_overall_rows_print_the_published_cells_of_seed_002(pkp_cohort, seed_002_outcomes):
    table = prepost_table(seed_002_outcomes)
    vas = table.row(VAS, "All", stratum="Overall")
    assert (vas.cells["Pre-op"], vas.cells["Post-op"]) == ("9.2 ± 0.7", "1.8 ± 1.9")
    assert vas.cells["P-value"] == "<0.001"
    assert vas.cells["Change"].startswith("-7.4 ")  # "a mean decrease of 7.4 points"
    height = table.row(HEIGHT, "All", stratum="Overall")
    assert (height.cells["Pre-op"], height.cells["Post-op"]) == ("2.78 ± 0.35", "3.05 ± 0.32")
    assert height.cells["Change"].startswith("0.27 ")  # "an average gain of 0.27 cm"
    expected = stats.ttest_rel(pkp_cohort.height_12w, pkp_cohort.height_pre)
    assert (height.test, height.p) == (PAIRED_T, pytest.approx(expected.pvalue))
    assert height.twin_p == pytest.approx(
        stats.wilcoxon(pkp_cohort.height_12w - pkp_cohort.height_pre).pvalue
    )
    assert (height.n, height.cells["n"]) == (75, "75")
    strict_json(table)


def test_table_2_strata_match_an_independent_computation(pkp_cohort, seed_002_outcomes):
    strata = [age_stratum(65), sex_stratum(), region_stratum(levels=REGIONS)]
    table = prepost_table(seed_002_outcomes, covariates=pkp_cohort, strata=strata)
    subsets = {
        ("Age", "≤65 years"): pkp_cohort.age <= 65,
        ("Age", ">65 years"): pkp_cohort.age > 65,
        ("Gender", "Male"): pkp_cohort.sex == "M",
        ("Gender", "Female"): pkp_cohort.sex == "F",
        ("Vertebral Region", REGIONS["thoracic"]): pkp_cohort.region == "thoracic",
        ("Vertebral Region", REGIONS["lumbar"]): pkp_cohort.region == "lumbar",
    }
    assert len(table.rows) == 2 * (1 + len(subsets))
    for label, pre, post, d in (
        (VAS, "vas_pre", "vas_12w", 1),
        (HEIGHT, "height_pre", "height_12w", 2),
    ):
        for (stratum, category), mask in subsets.items():
            sub = pkp_cohort[mask]
            row = table.row(label, category, stratum=stratum)
            assert row.cells["Pre-op"] == format_mean_sd(sub[pre].mean(), sub[pre].std(), d)
            assert row.cells["Post-op"] == format_mean_sd(sub[post].mean(), sub[post].std(), d)
            assert row.p == pytest.approx(stats.ttest_rel(sub[post], sub[pre]).pvalue)
            assert row.n == len(sub)
    lines = table.to_text().split("\n")
    assert lines[1].startswith("Variable\tStratification\tCategory\tPre-op (Mean ± SD)\t")
    assert lines[3].startswith("\tAge\t≤65 years\t")


def test_table_2_age_cut_is_configurable(pkp_cohort, seed_002_outcomes):
    table = prepost_table(seed_002_outcomes[:1], covariates=pkp_cohort, strata=[age_stratum(70)])
    assert table.row(VAS, ">70 years", stratum="Age").n == int((pkp_cohort.age > 70).sum())
    assert table.row(VAS, "≤70 years", stratum="Age").n == int((pkp_cohort.age <= 70).sum())


def test_table_2_uses_complete_pairs_and_reports_the_excluded(pkp_cohort, to_long):
    frame = to_long(pkp_cohort, "vas_pre", "vas_12w")
    lost = frame.index[(frame.timepoint == "12w")][:5]  # five patients lost to follow-up
    frame = frame.drop(lost)
    covariates = pkp_cohort.assign(sex=pkp_cohort.sex.mask(pkp_cohort.index == 40))
    table = prepost_table([Outcome(VAS, frame)], covariates=covariates, strata=[sex_stratum()])
    overall = table.row(VAS, "All", stratum="Overall")
    assert (overall.n, overall.n_missing) == (70, 5)
    kept = pkp_cohort.iloc[5:]
    assert overall.cells["Pre-op"] == format_mean_sd(kept.vas_pre.mean(), kept.vas_pre.std(), 1)
    assert "1 unit(s) without sex" in table.row(VAS, "Male", stratum="Gender").note


def test_table_2_tiny_stratum_gives_no_p_and_a_note(pkp_cohort, seed_002_outcomes):
    table = prepost_table(seed_002_outcomes[:1], covariates=pkp_cohort, strata=[age_stratum(47)])
    young = table.row(VAS, "≤47 years", stratum="Age")
    assert young.n == 1 and young.p is None and young.cells["P-value"] == ""
    assert "fewer than 2" in young.note
    strict_json(table)


def test_variable_kind_is_checked():
    with pytest.raises(ValueError, match="kind"):
        Variable("sex", "Gender", kind="categoric")


def test_table_2_without_covariates_refuses_strata(seed_002_outcomes):
    with pytest.raises(ValueError, match="covariates"):
        prepost_table(seed_002_outcomes, strata=[sex_stratum()])
