"""Table 2: pre vs post per outcome, overall and by stratum (seed 002, Table II).

Seed 002 says "Student's t-test" for pre/post within a stratum; the same patients measured
twice need the paired t-test, which is what runs here (Wilcoxon as the twin).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from .describe import format_number, format_p
from .layout import Table, TableRow
from .paired import PairedComparison, paired_arrays, paired_change, to_wide
from .strata import Stratum

OVERALL = "Overall"


@dataclass(frozen=True, eq=False)
class Outcome:
    """One outcome of Table 2: a long frame (unit_id, timepoint, value) and its precision."""

    label: str
    frame: pd.DataFrame
    decimals: int = 1
    # The exact follow-up minus baseline per unit (index unit_id), when the caller has it
    # (a mean over the vertebrae filmed at both visits); else computed at `recorded`.
    change: pd.Series | None = None
    recorded: int | None = None
    variable: str | None = None

    def paired(self, before: pd.Series, after: pd.Series) -> PairedComparison:
        if self.change is None:
            return paired_change(before, after, decimals=self.recorded)
        diff = self.change.reindex(before.index).to_numpy(dtype=float)
        return paired_arrays(before.to_numpy(dtype=float), after.to_numpy(dtype=float), diff)


def prepost_table(
    outcomes: Sequence[Outcome],
    *,
    covariates: pd.DataFrame | None = None,
    strata: Sequence[Stratum] = (),
    baseline: str = "baseline",
    followup: str = "12w",
    unit_col: str = "unit_id",
    time_col: str = "timepoint",
    value_col: str = "value",
    include_overall: bool = True,
    title: str = "Change from baseline",
    followup_label: str | None = None,
) -> Table:
    """Pre vs post per outcome, overall and within each stratum, paired t-test per row.

    Pre/post mean ± SD are computed on the complete pairs the test uses, so the printed
    numbers and the p-value describe the same patients; ``n`` is n_paired and
    ``n_missing`` the units left out for lacking one of the two visits.
    """
    columns = ["Pre-op", "Post-op", "Change", "P-value", "n"]
    headers = {
        "Pre-op": "Pre-op (Mean ± SD)",
        "Post-op": f"Post-op {followup_label or followup} (Mean ± SD)",
        "Change": "Mean change (95% CI)",
        "P-value": "P-value",
        "n": "n",
    }
    table = Table(
        title=title,
        columns=columns,
        headers=headers,
        footnotes=[
            "Paired t-test on complete pairs within each row; Wilcoxon signed-rank p in twin_p."
        ],
    )
    for outcome in outcomes:
        wide = to_wide(outcome.frame, unit_col=unit_col, time_col=time_col, value_col=value_col)
        before = wide.get(baseline, pd.Series(index=wide.index, dtype=float))
        after = wide.get(followup, pd.Series(index=wide.index, dtype=float))
        if include_overall:
            result = outcome.paired(before, after)
            table.rows.append(_prepost_row(outcome, OVERALL, "All", result))
        for stratum in strata:
            table.rows.extend(_stratum_rows(outcome, stratum, before, after, covariates, unit_col))
    return table


def _stratum_rows(
    outcome: Outcome,
    stratum: Stratum,
    before: pd.Series,
    after: pd.Series,
    covariates: pd.DataFrame | None,
    unit_col: str,
) -> list[TableRow]:
    if covariates is None:
        raise ValueError("strata need a covariates frame (one row per unit)")
    values = covariates.set_index(unit_col)[stratum.column].reindex(before.index)
    assigned = stratum.assign(values)
    rows = []
    for value, label in stratum.labels(values).items():
        members = assigned.index[assigned == value]
        result = outcome.paired(before.loc[members], after.loc[members])
        rows.append(_prepost_row(outcome, stratum.label, label, result))
    unassigned = int(assigned.isna().sum())
    if unassigned and rows:
        rows[0].note = f"{unassigned} unit(s) without {stratum.column} not in any category"
    return rows


def _prepost_row(
    outcome: Outcome, stratum: str, category: str, result: PairedComparison
) -> TableRow:
    d = outcome.decimals
    change = ""
    if result.mean_diff is not None:
        change = format_number(result.mean_diff, d)
        if result.ci_low is not None:
            ci = f"{format_number(result.ci_low, d)} to {format_number(result.ci_high, d)}"
            change = f"{change} ({ci})"
    cells = {
        "Pre-op": result.before.mean_sd(d),
        "Post-op": result.after.mean_sd(d),
        "Change": change,
        "P-value": format_p(result.p),
        "n": str(result.n_paired),
    }
    twin = result.nonparametric
    numbers = {
        "Pre-op": {"n": result.before.n, "mean": result.before.mean, "sd": result.before.sd},
        "Post-op": {"n": result.after.n, "mean": result.after.mean, "sd": result.after.sd},
        "Change": {"mean": result.mean_diff, "ci_low": result.ci_low, "ci_high": result.ci_high},
        "P-value": {"p": result.p},
        "n": {"n": result.n_paired},
    }
    return TableRow(
        outcome.label,
        category,
        cells,
        variable_code=outcome.variable,
        values=numbers,
        stratum=stratum,
        p=result.p,
        test=result.test,
        twin_p=twin.p if twin else None,
        twin_test=twin.test if twin else None,
        n=result.n_paired,
        n_missing=result.n_excluded,
        note=result.note,
    )
