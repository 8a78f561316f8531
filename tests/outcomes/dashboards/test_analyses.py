"""The two analyses the dashboards added: benchmarking (funnel limits) and trends."""

from datetime import date

import numpy as np
import pytest
from scipy.stats import binom

from outcomes.analyses import get_analysis
from outcomes.analyses.benchmarking import binomial_limit, control_limits, one_year_closed
from outcomes.selectors import CohortData, Scope
from outcomes.services import compute
from tests.outcomes.conftest import Level, make_case


@pytest.mark.parametrize(("n", "rate"), [(20, 0.1), (100, 0.2), (1000, 0.15), (57, 0.85)])
def test_limits_interpolate_between_the_binomial_quantiles(n, rate):
    for tail in (0.025, 0.975, 0.001, 0.999):
        r = binom.ppf(tail, n, rate)
        limit = binomial_limit(np.array([n]), rate, tail)[0]
        assert (r - 1) / n <= limit <= r / n
        # Spiegelhalter's interpolation: alpha = (F(r) - p) / (F(r) - F(r - 1)).
        at_r, below = binom.cdf(r, n, rate), binom.cdf(r - 1, n, rate)
        expected = (r - (at_r - tail) / (at_r - below)) / n
        assert limit == pytest.approx(min(max(expected, 0.0), 1.0))  # a rate stays in 0..1


def test_limits_narrow_as_n_grows_and_998_lies_outside_95():
    limits = control_limits(np.array([50, 500, 5000]), 0.2)
    assert np.all(np.diff(limits["upper95"]) < 0) and np.all(np.diff(limits["lower95"]) > 0)
    assert np.all(limits["upper998"] >= limits["upper95"])
    assert np.all(limits["lower998"] <= limits["lower95"])


def test_one_year_window_closed_follows_the_follow_up_rule():
    import pandas as pd

    dates = pd.Series(pd.to_datetime(["2025-01-01", "2025-04-01", "2025-06-01"]))
    # the 1-year window closes 456 days after the procedure
    assert one_year_closed(dates, date(2026, 4, 3)).tolist() == [True, False, False]


def run(name, sites):
    data = CohortData(filters={}, rules={}, scope=Scope.of(s.pk for s in sites))
    return compute(get_analysis(name), data, {})[0]["body"]


@pytest.mark.django_db
def test_benchmarking_counts_each_site_and_surgeon(site_a, site_b, surgeon_a, surgeon_b):
    leak = [Level(leakage="B")]
    for _ in range(3):
        make_case(site=site_a, levels=leak, procedure_fields={"surgeon": surgeon_a})
    make_case(
        site=site_a, procedure_fields={"surgeon": surgeon_a}, vas={"baseline": "8.0", "12w": "5.0"}
    )
    make_case(site=site_b, procedure_fields={"surgeon": surgeon_b})
    body = run("benchmarking", [site_a, site_b])
    leakage = next(m for m in body["measures"] if m["key"] == "leakage")
    assert leakage["registry"] == {"events": 3, "n": 5, "rate": 0.6}
    units = {
        (u["level"], u["site_id"], u["surgeon_id"]): (u["events"], u["n"]) for u in leakage["units"]
    }
    assert units[("site", site_a.pk, None)] == (3, 4)
    assert units[("surgeon", site_a.pk, surgeon_a.pk)] == (3, 4)
    assert units[("site", site_b.pk, None)] == (0, 1)
    vas = next(m for m in body["measures"] if m["key"] == "vas_12w_le_3")
    assert vas["registry"]["events"] == 4 and vas["registry"]["n"] == 5
    assert len(leakage["limits"]["n"]) == len(leakage["limits"]["upper998"]) > 2


@pytest.mark.django_db
def test_trends_group_by_quarter_and_technique(site_a):
    make_case(site=site_a, operated=date(2024, 1, 15), vas={"baseline": "9.2", "12w": "1.7"})
    make_case(
        site=site_a,
        operated=date(2024, 2, 10),
        vas={"baseline": "8.5", "12w": "1.0"},
        levels=[Level(leakage="S")],
    )
    make_case(site=site_a, operated=date(2024, 5, 1), technique="PVP")
    body = run("trends", [site_a])
    assert body["quarters"] == ["2024 Q1", "2024 Q2"]
    leakage, gain = body["measures"]
    q1 = next(p for p in leakage["points"] if p["quarter"] == "2024 Q1")
    assert (q1["technique"], q1["events"], q1["n"], q1["value"]) == ("PKP", 1, 2, 0.5)
    q1_gain = next(p for p in gain["points"] if p["quarter"] == "2024 Q1")
    # 9.2 - 1.7 and 8.5 - 1.0 are the same 7.5 at the recorded precision: SD 0
    assert q1_gain["n"] == 2 and q1_gain["value"] == pytest.approx(7.5)


@pytest.mark.django_db
def test_benchmarking_judges_one_year_windows_on_the_runs_as_of_not_today(site_a, coordinator, ask):
    from datetime import timedelta

    from django.utils import timezone

    from outcomes.services import cohort_create

    today = timezone.localdate()
    # The 1-year window closes 456 days after the procedure: closed today, open on as_of.
    operated = today - timedelta(days=500)
    as_of = operated + timedelta(days=400)
    make_case(site=site_a, operated=operated, vas={"baseline": "8.0", "1y": "2.0"})
    make_case(site=site_a, operated=operated, vas={"baseline": "8.0"})
    cohort = cohort_create(owner=coordinator, name="Everyone", rules={})

    def one_year(run):
        return next(m for m in run.result["body"]["measures"] if m["key"] == "followup_1y")

    then = ask(coordinator, cohort, "benchmarking", as_of=as_of.isoformat()).run
    assert then.as_of == as_of
    assert then.result["as_of"] == then.result["body"]["as_of"] == as_of.isoformat()
    assert one_year(then)["registry"] == {"events": 0, "n": 0, "rate": None}
    now = ask(coordinator, cohort, "benchmarking").run  # as_of defaults to today, stored
    assert now.as_of == today
    assert one_year(now)["registry"] == {"events": 1, "n": 2, "rate": 0.5}
