"""Synthetic cohorts with exactly the published summary figures of the seeds.

Values are drawn with a fixed numpy seed, standardised and rescaled so that mean and SD
(ddof=1) equal the published ones to machine precision; counts are the published counts.
The data are for testing statistics, not clinically valid (VAS below 0 can occur).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def standardise(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / values.std(ddof=1)


def exact_sample(
    n: int,
    mean: float,
    sd: float,
    seed: int,
    *,
    like: np.ndarray | None = None,
    rho: float = 0.0,
) -> np.ndarray:
    """n values with sample mean ``mean`` and sample SD ``sd`` exactly.

    ``like``/``rho``: correlate with another sample (a patient's follow-up value resembles
    his baseline value), which leaves the exact mean and SD untouched.
    """
    z = np.random.default_rng(seed).standard_normal(n)
    if like is not None:
        z = rho * standardise(like) + np.sqrt(1 - rho**2) * standardise(z)
    return mean + sd * standardise(z)


def exact_sample_with_range(
    n: int, mean: float, sd: float, low: float, high: float, seed: int
) -> np.ndarray:
    """As ``exact_sample`` but with min == low and max == high (seed 002: age 46-83).

    The two extremes are fixed; the other n - 2 values are rescaled so that the total
    sum and sum of squares still give ``mean`` and ``sd``. Seeds are tried in order until
    the rescaled values stay strictly inside (low, high).
    """
    rest = n - 2
    total = n * mean
    squares = (n - 1) * sd**2 + n * mean**2
    rest_mean = (total - low - high) / rest
    rest_ss = squares - low**2 - high**2 - rest * rest_mean**2
    rest_sd = np.sqrt(rest_ss / (rest - 1))
    for attempt in range(seed, seed + 1000):
        values = exact_sample(rest, rest_mean, rest_sd, attempt)
        if values.min() > low and values.max() < high:
            return np.concatenate([[low], values, [high]])
    raise AssertionError("no seed keeps the sample inside the range")


def labels(counts: dict[str, int], seed: int) -> np.ndarray:
    """Exactly these counts of each label, in a seeded random order."""
    values = np.concatenate([[label] * count for label, count in counts.items()])
    return np.random.default_rng(seed).permutation(values)


@pytest.fixture(scope="session")
def pkp_cohort() -> pd.DataFrame:
    """Seed 002 (PKP, n = 75), one row per patient, the published Table I figures."""
    n = 75
    level = labels({"L1": 29, "L2-L4": 24, "T7-T12": 22}, seed=3)
    vas_pre = exact_sample(n, 9.2, 0.7, seed=6)
    height_pre = exact_sample(n, 2.78, 0.35, seed=8)
    return pd.DataFrame(
        {
            "unit_id": [f"P{i:03d}" for i in range(n)],
            "group": "PKP",
            "age": exact_sample_with_range(n, 65.8, 8.2, 46, 83, seed=1),
            "sex": labels({"F": 55, "M": 20}, seed=2),
            "bmi": exact_sample(n, 27.9, 6.5, seed=4),
            "level": level,
            "region": np.where(level == "T7-T12", "thoracic", "lumbar"),
            "levels_treated": labels({"single": 45, "multi": 30}, seed=5),
            "vas_pre": vas_pre,
            "vas_12w": exact_sample(n, 1.8, 1.9, seed=7, like=vas_pre, rho=0.3),
            "height_pre": height_pre,
            "height_12w": exact_sample(n, 3.05, 0.32, seed=9, like=height_pre, rho=0.8),
        }
    )


def long_outcome(cohort: pd.DataFrame, pre: str, post: str, followup: str = "12w") -> pd.DataFrame:
    """The long-format contract (unit_id, group, timepoint, value) from two wide columns."""
    parts = [
        cohort[["unit_id", "group"]].assign(timepoint="baseline", value=cohort[pre]),
        cohort[["unit_id", "group"]].assign(timepoint=followup, value=cohort[post]),
    ]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="session")
def to_long():
    """``long_outcome`` as a fixture, so test modules need not import conftest."""
    return long_outcome


# Seed 000 (Genant grade 3): RFVH (%) mean ± SD per technique at baseline, 2 weeks, 1 year.
SEED_000_RFVH = {
    "VESSELPLASTY": (54, {"baseline": (55.93, 9.61), "2w": (82.11, 8.32), "1y": (81.02, 7.43)}),
    "PVP": (41, {"baseline": (56.01, 3.54), "2w": (56.29, 9.85), "1y": (56.13, 9.15)}),
}


@pytest.fixture(scope="session")
def genant3_rfvh() -> pd.DataFrame:
    """Seed 000 RFVH in long format with exactly the published means and SDs."""
    rows = []
    for offset, (group, (n, by_time)) in enumerate(SEED_000_RFVH.items()):
        for t_index, (timepoint, (mean, sd)) in enumerate(by_time.items()):
            values = exact_sample(n, mean, sd, seed=100 + 10 * offset + t_index)
            rows.append(
                pd.DataFrame(
                    {
                        "unit_id": [f"{group}-{i:02d}" for i in range(n)],
                        "group": group,
                        "timepoint": timepoint,
                        "value": values,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)
