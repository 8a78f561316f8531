import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from outcomes.statistics import LOGIT, RegressionRefused, logistic_regression


def simulated(n: int = 400, seed: int = 21) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "volume": rng.normal(4.0, 1.2, n),  # cement volume, ml
            "age": rng.normal(70, 8, n),
            "sex": rng.choice(["F", "M"], n, p=[0.7, 0.3]),
        }
    )
    logit = -3.0 + 0.6 * frame.volume + 0.01 * (frame.age - 70) + 0.5 * (frame.sex == "M")
    frame["leak"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    return frame


def test_odds_ratios_match_statsmodels_logit():
    frame = simulated()
    frame.loc[[3, 9, 27], "age"] = np.nan  # incomplete rows are dropped and counted
    result = logistic_regression(frame, outcome="leak", predictors=["volume", "age", "sex"])

    complete = frame.dropna().assign(leak=lambda df: df.leak.astype(int))
    reference = smf.logit("leak ~ volume + age + C(sex)", data=complete).fit(disp=0)
    ci = np.exp(reference.conf_int())
    assert result.ok and result.test == LOGIT
    assert (result.n, result.n_missing) == (397, 3)
    assert result.events == int(complete.leak.sum())
    assert result.n_parameters == 3
    for ours, theirs in (("volume", "volume"), ("age", "age"), ("sex_M", "C(sex)[T.M]")):
        term = result.term(ours)
        assert term.odds_ratio == pytest.approx(np.exp(reference.params[theirs]))
        assert term.ci_low == pytest.approx(ci.loc[theirs, 0])
        assert term.ci_high == pytest.approx(ci.loc[theirs, 1])
        assert term.p == pytest.approx(reference.pvalues[theirs])
        assert term.std_error == pytest.approx(reference.bse[theirs])
    assert result.intercept == pytest.approx(reference.params["Intercept"])
    assert result.pseudo_r2 == pytest.approx(reference.prsquared)
    json.dumps(result.to_dict(), allow_nan=False)


def test_refuses_fewer_than_10_events_per_predictor():
    sample = simulated()
    frame = pd.concat([sample[sample.leak].head(25), sample[~sample.leak].head(200)])
    events = 25  # 25 events for 3 predictors: 8.3 per predictor
    predictors = ["volume", "age", "sex"]
    result = logistic_regression(frame, outcome="leak", predictors=predictors)
    assert result.status == "refused"
    assert result.refusal == "too_few_events_per_predictor"
    assert result.events_per_parameter == pytest.approx(events / 3)
    assert "fewer than 10" in result.reason
    assert result.terms == []
    json.dumps(result.to_dict(), allow_nan=False)
    with pytest.raises(RegressionRefused, match="too_few_events_per_predictor"):
        result.raise_if_refused()


def test_counts_non_events_when_they_are_the_rarer_class():
    frame = simulated(n=200).assign(leak=lambda df: [i >= 15 for i in range(len(df))])
    result = logistic_regression(frame, outcome="leak", predictors=["volume", "age"])
    assert (result.events, result.non_events) == (185, 15)
    assert result.refusal == "too_few_events_per_predictor"
    assert "non-events" in result.reason


def test_each_dummy_column_counts_as_a_predictor():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "leak": np.r_[np.ones(25, bool), np.zeros(75, bool)],
            "morphology": rng.choice(["wedge", "biconcave", "crush"], 100),
        }
    )
    result = logistic_regression(frame, outcome="leak", predictors=["morphology"])
    assert result.n_parameters == 2  # 3 levels -> 2 dummies -> 12.5 events per predictor
    assert result.ok


def test_refuses_a_perfectly_separating_predictor():
    frame = simulated()
    frame["leak"] = frame.volume > 4.0  # every leak above 4 ml, none below
    result = logistic_regression(frame, outcome="leak", predictors=["volume", "age"])
    assert result.status == "refused"
    assert result.refusal == "separation"
    assert "volume" in result.reason


def test_refuses_quasi_separation_by_an_empty_category():
    frame = simulated()
    frame.loc[frame.index[:40], "sex"] = "X"
    frame.loc[frame.index[:40], "leak"] = False  # no event at all in level X
    result = logistic_regression(frame, outcome="leak", predictors=["volume", "sex"])
    assert result.refusal == "separation"
    assert "sex_X" in result.reason


def test_refuses_separation_only_visible_in_the_joint_fit():
    """Neither predictor separates alone; together they do (a linear boundary)."""
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    frame["leak"] = frame.a + frame.b > 0
    result = logistic_regression(frame, outcome="leak", predictors=["a", "b"])
    assert result.status == "refused"
    assert result.refusal == "separation"
    assert "jointly" in result.reason
    json.dumps(result.to_dict(), allow_nan=False)


def test_refuses_a_non_binary_outcome_and_a_constant_predictor():
    frame = simulated().assign(grade=lambda df: np.resize([1, 2, 3], len(df)))
    assert logistic_regression(frame, outcome="grade", predictors=["age"]).refusal == (
        "outcome_not_binary"
    )
    constant = simulated().assign(site=1.0)
    assert logistic_regression(constant, outcome="leak", predictors=["site"]).refusal == (
        "singular_design"
    )


def test_refuses_collinear_predictors():
    frame = simulated().assign(volume_cl=lambda df: df.volume / 1000)  # same thing in litres
    result = logistic_regression(frame, outcome="leak", predictors=["volume", "volume_cl"])
    assert result.refusal == "singular_design"


def test_unused_categories_do_not_become_predictors():
    frame = simulated().assign(
        sex=lambda df: pd.Categorical(df.sex, categories=["F", "M", "unknown"])
    )
    result = logistic_regression(frame, outcome="leak", predictors=["volume", "sex"])
    assert result.ok and result.n_parameters == 2
    assert [t.term for t in result.terms] == ["volume", "sex_M"]


def test_no_event_at_all_is_refused_not_crashed():
    frame = simulated().assign(leak=False)
    result = logistic_regression(frame, outcome="leak", predictors=["age"])
    assert result.refusal == "no_variation"
    empty = logistic_regression(frame.iloc[0:0], outcome="leak", predictors=["age"])
    assert empty.status == "refused" and empty.n == 0
