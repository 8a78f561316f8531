import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from outcomes.statistics import (
    FISHER,
    PEARSON_CHI2,
    any_event_per_unit,
    rates_by_group,
    rates_from_counts,
)


def per_patient(counts: dict[str, tuple[int, int]]) -> pd.DataFrame:
    rows = [
        {"unit_id": f"{group}-{i}", "group": group, "value": i < events}
        for group, (events, n) in counts.items()
        for i in range(n)
    ]
    return pd.DataFrame(rows)


def test_seed_000_leakage_rates_with_wilson_ci_and_fisher():
    result = rates_by_group(
        per_patient({"VESSELPLASTY": (1, 54), "PVP": (6, 41)}), groups=["VESSELPLASTY", "PVP"]
    )
    vessel, pvp = result.rate("VESSELPLASTY"), result.rate("PVP")
    assert (vessel.text, pvp.text) == ("1/54 (1.9%)", "6/41 (14.6%)")
    assert round(vessel.proportion.percent, 2) == 1.85  # as published
    assert round(pvp.proportion.percent, 2) == 14.63
    for rate, (count, n) in ((vessel, (1, 54)), (pvp, (6, 41))):
        low, high = proportion_confint(count, n, alpha=0.05, method="wilson")
        assert rate.proportion.ci_low == pytest.approx(low)
        assert rate.proportion.ci_high == pytest.approx(high)
    assert result.unit == "patient"
    assert result.comparison.test == FISHER
    assert round(result.comparison.p, 3) == 0.040
    json.dumps(result.to_dict(), allow_nan=False)


def test_seed_001_leakage_per_patient_not_significant():
    result = rates_by_group(per_patient({"VBS": (4, 30), "PKP": (10, 32)}), groups=["VBS", "PKP"])
    assert [r.text for r in result.rates] == ["4/30 (13.3%)", "10/32 (31.3%)"]
    assert result.comparison.test == PEARSON_CHI2
    assert result.comparison.p == pytest.approx(
        stats.chi2_contingency([[4, 26], [10, 22]], correction=False).pvalue
    )
    assert result.comparison.p > 0.05


def test_seed_001_balloon_rupture_per_device_from_counts():
    result = rates_from_counts({"VBS": (5, 60), "PKP": (0, 64)}, unit="device")
    assert result.unit == "device"
    assert [r.text for r in result.rates] == ["5/60 (8.3%)", "0/64 (0.0%)"]
    assert result.rate("PKP").proportion.ci_low == 0.0
    assert result.rate("PKP").proportion.ci_high == pytest.approx(
        proportion_confint(0, 64, method="wilson")[1]
    )
    assert result.comparison.test == FISHER
    assert result.comparison.p == pytest.approx(stats.fisher_exact([[5, 55], [0, 64]]).pvalue)
    assert result.comparison.p < 0.05
    json.dumps(result.to_dict(), allow_nan=False)


def test_missing_values_are_left_out_of_the_denominator_and_counted():
    frame = per_patient({"PVP": (3, 10), "PKP": (1, 10)})
    frame["value"] = frame["value"].astype("boolean")  # nullable, as a selector returns it
    frame.loc[[0, 15], "value"] = pd.NA  # one event and one non-event unknown
    frame.loc[len(frame)] = {"unit_id": "x", "group": None, "value": True}
    result = rates_by_group(frame, groups=["PVP", "PKP"])
    assert (result.rate("PVP").events, result.rate("PVP").n, result.rate("PVP").n_missing) == (
        2,
        9,
        1,
    )
    assert (result.rate("PKP").n, result.rate("PKP").n_missing) == (9, 1)
    assert (result.comparison.n_missing, result.comparison.n_excluded) == (2, 1)


def test_zero_one_event_column_works_like_booleans():
    frame = per_patient({"A": (4, 20), "B": (9, 20)}).assign(value=lambda df: df.value.astype(int))
    result = rates_by_group(frame)
    assert [r.events for r in result.rates] == [4, 9]


def test_empty_group_gives_no_test_and_a_note():
    result = rates_from_counts({"PVP": (3, 20), "VBS": (0, 0)})
    assert result.rate("VBS").proportion.percent is None
    assert result.comparison.p is None
    assert "VBS" in result.note
    json.dumps(result.to_dict(), allow_nan=False)


def test_any_event_per_unit_collapses_levels_to_patients():
    levels = pd.DataFrame(
        {
            "unit_id": ["p1", "p1", "p2", "p2", "p3", "p3", "p4"],
            "group": ["PKP"] * 7,
            "value": [False, True, False, False, False, np.nan, np.nan],
        }
    )
    collapsed = any_event_per_unit(levels).set_index("unit_id")["value"]
    assert collapsed["p1"] is True or collapsed["p1"] == True  # noqa: E712
    assert collapsed["p2"] == False  # noqa: E712
    assert collapsed["p3"] is None  # one level unknown, none positive: unknown
    assert collapsed["p4"] is None
    result = rates_by_group(any_event_per_unit(levels))
    assert (result.rate("PKP").events, result.rate("PKP").n) == (1, 2)
    assert result.rate("PKP").n_missing == 2
