"""Column-oriented rows: what the generators produce and the writers consume.

A frame maps a model field's attname to a numpy array, one entry per row. Missing values
are NaN in float arrays (numbers and nullable booleans) and NaT in datetime64 arrays; text
columns are never null (the model's CharFields are blank, not null).
"""

from collections.abc import Sequence

import numpy as np

Frame = dict[str, np.ndarray]


def concat(frames: Sequence[Frame]) -> Frame:
    if len(frames) == 1:
        return frames[0]
    return {name: np.concatenate([f[name] for f in frames]) for name in frames[0]}


def rows(frame: Frame) -> int:
    return len(next(iter(frame.values()))) if frame else 0


def missing(rng: np.random.Generator, values: np.ndarray, rate: float) -> np.ndarray:
    """A float copy of `values` with about `rate` of the entries blanked (NaN)."""
    out = np.asarray(values, dtype=float).copy()
    out[rng.random(len(out)) < rate] = np.nan
    return out


def choice(rng: np.random.Generator, options: Sequence[str], p: Sequence[float], n: int):
    """n draws of text options with probabilities p, as a numpy str array."""
    weights = np.asarray(p, dtype=float)
    return np.asarray(options)[rng.choice(len(options), size=n, p=weights / weights.sum())]


def normal(rng: np.random.Generator, mean, sd, n: int, low=-np.inf, high=np.inf) -> np.ndarray:
    """Normal draws clipped to [low, high]."""
    return np.clip(rng.normal(mean, sd, n), low, high)


def truncated_normal(
    rng: np.random.Generator, mean: float, sd: float, n: int, low: float, high: float
) -> np.ndarray:
    """Normal draws redrawn (not clipped) until inside [low, high], so no pile-up at the ends."""
    out = rng.normal(mean, sd, n)
    bad = (out < low) | (out > high)
    while bad.any():
        out[bad] = rng.normal(mean, sd, int(bad.sum()))
        bad = (out < low) | (out > high)
    return out


def gamma(rng: np.random.Generator, mean, sd, n: int) -> np.ndarray:
    """Gamma draws with the given mean and sd (right-skewed, never negative)."""
    mean = np.asarray(mean, dtype=float)
    shape = (mean / sd) ** 2
    return rng.gamma(shape, sd * sd / mean, n)


def days(values) -> np.ndarray:
    return np.asarray(np.rint(values), dtype="int64").astype("timedelta64[D]")


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For parents with `counts` children: each child's parent index and rank (0, 1, ...)."""
    parent = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    rank = np.arange(len(parent)) - np.repeat(starts, counts)
    return parent, rank
