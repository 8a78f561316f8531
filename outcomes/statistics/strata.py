"""Strata for subgroup tables: age (<= cut / > cut), sex, region, Genant grade, levels.

A stratum maps a covariate column to ordered category labels. The age cut is a parameter
because the house default (65, as seed 002) is a convention, not a law.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import pandas as pd

from .categorical import level_labels
from .describe import Levels, format_number


@dataclass(frozen=True, eq=False)
class Stratum:
    """``cut`` set: numeric split into "≤cut" and ">cut"; else ``levels`` (value -> label)."""

    label: str
    column: str
    cut: float | None = None
    levels: Levels = None
    unit: str = ""

    def labels(self, values: pd.Series) -> dict[Hashable, str]:
        """Category value -> printed label, in display order."""
        if self.cut is not None:
            cut = format_number(self.cut, 0) if float(self.cut).is_integer() else str(self.cut)
            suffix = f" {self.unit}" if self.unit else ""
            return {"low": f"≤{cut}{suffix}", "high": f">{cut}{suffix}"}
        return level_labels(values, self.levels)

    def assign(self, values: pd.Series) -> pd.Series:
        """The category value of each unit (NaN where the covariate is missing)."""
        if self.cut is None:
            return values
        numeric = pd.to_numeric(values, errors="raise").astype(float)
        assigned = pd.Series(pd.NA, index=values.index, dtype=object)
        assigned[numeric <= self.cut] = "low"
        assigned[numeric > self.cut] = "high"
        return assigned


def age_stratum(cut: float = 65, *, column: str = "age", label: str = "Age") -> Stratum:
    """Seed 002's split: ≤65 years / >65 years."""
    return Stratum(label=label, column=column, cut=cut, unit="years")


def sex_stratum(*, column: str = "sex", label: str = "Gender", levels: Levels = None) -> Stratum:
    """Defaults to registry codes M/F printed as Male/Female (seed 002's order)."""
    return Stratum(label=label, column=column, levels=levels or {"M": "Male", "F": "Female"})


def region_stratum(
    *, column: str = "region", label: str = "Vertebral Region", levels: Levels = None
) -> Stratum:
    """Thoracic vs lumbar; the caller derives the region from the treated level(s)."""
    default = {"thoracic": "Thoracic", "lumbar": "Lumbar"}
    return Stratum(label=label, column=column, levels=levels or default)
