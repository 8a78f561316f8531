"""The two tables every cohort report prints (the layout of seed 002, Tables I and II).

Table 1, ``baseline_table``: baseline characteristics per technique with the right test per
row (Welch/ANOVA for continuous, chi-square/Fisher for categorical) and missing counts.
Table 2, ``prepost_table``: baseline vs follow-up per outcome, overall and within strata
(age, sex, region...), with paired tests on complete pairs; it lives in ``stratified.py``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._names import test_label
from .categorical import describe_by_group, group_positions, level_labels
from .compare import compare_samples
from .contingency import compare_counts
from .describe import (
    Levels,
    as_float_array,
    describe_continuous,
    format_n_percent,
    format_number,
    format_p,
    sorted_values,
)
from .layout import Table, TableRow
from .smd import categorical_smd, continuous_smd
from .stratified import OVERALL, Outcome, prepost_table

__all__ = ["OVERALL", "Outcome", "Variable", "baseline_table", "prepost_table"]


@dataclass(frozen=True, eq=False)
class Variable:
    """One row block of Table 1. ``decimals`` is the precision the variable is printed at."""

    column: str  # the variable's code (outcomes.variables) and the frame's column
    label: str
    kind: str = "continuous"  # or "categorical"
    decimals: int = 1
    levels: Levels = None
    show_range: bool = False
    range_decimals: int = 0
    range_suffix: str = ""
    nonparametric: bool = False

    @property
    def code(self) -> str:
        return self.column

    def __post_init__(self) -> None:
        if self.kind not in {"continuous", "categorical"}:
            raise ValueError(f"kind must be 'continuous' or 'categorical', not {self.kind!r}")


# ---------------------------------------------------------------- Table 1


def baseline_table(
    frame: pd.DataFrame,
    variables: Sequence[Variable],
    *,
    group_col: str | None = "group",
    groups: Sequence[Hashable] | None = None,
    title: str = "Baseline characteristics",
    missing_rows: bool = True,
) -> Table:
    """One row per continuous variable (plus an optional range row), one per category level.

    With ``group_col=None`` (a single cohort, as seed 002) only the Overall column is
    printed and no test runs. Percentages use non-missing denominators; ``Missing`` counts
    the rest.
    """
    if group_col is None:
        order: list[Hashable] = []
        data = frame
    else:
        order = list(groups) if groups is not None else sorted(frame[group_col].dropna().unique())
        data = frame[frame[group_col].isin(order)]
    tests = ["P-value", "Test"] if order else []
    smd = ["SMD"] if len(order) == 2 else []
    columns = [OVERALL, *[str(g) for g in order], *smd, *tests, "Missing"]
    headers = {
        OVERALL: f"{OVERALL} (n = {len(data)})",
        "SMD": "SMD",
        "P-value": "P-value",
        "Test": "Test",
        "Missing": "Missing",
    }
    for group in order:
        headers[str(group)] = f"{group} (n = {int((data[group_col] == group).sum())})"
    table = Table(title=f"{title} (n = {len(data)})", columns=columns, headers=headers)
    if group_col is not None and len(data) < len(frame):
        excluded = len(frame) - len(data)
        table.footnotes.append(f"{excluded} row(s) outside the compared groups excluded")
    group_at = group_positions(data[group_col] if order else None, order, len(data))
    # One split of the columns used, not one per variable: this is most of Table 1's time.
    subsets = _subsets(data[list(dict.fromkeys(v.column for v in variables))], group_at, order)
    for variable in variables:
        if variable.kind == "continuous":
            table.rows.extend(_continuous_rows(subsets, variable, order))
        else:
            table.rows.extend(_categorical_rows(subsets, variable, order, group_at))
        if missing_rows:
            table.rows.append(_missing_row(subsets, variable))
    if order:
        table.footnotes.append(
            "Continuous variables are taken as normal (mean ± SD, Welch's t-test or one-way "
            "ANOVA) unless marked non-normal (median [Q1, Q3], Mann-Whitney U or "
            "Kruskal-Wallis); categorical: chi-square, or Fisher's exact test for a 2x2 "
            "table with an expected count below 5. No test is named where none could run."
        )
    if smd:
        table.footnotes.append(
            "SMD: standardised mean difference (continuous: Cohen's d with the pooled SD; "
            "categorical: Yang and Dalton's multi-category SMD)."
        )
    return table


def _missing_row(subsets: dict[str, pd.DataFrame], variable: Variable) -> TableRow:
    """Missing n (%) per column: the tableone missing row of every variable."""
    cells, numbers = {}, {}
    for key, sub in subsets.items():
        missing, total = int(sub[variable.column].isna().sum()), len(sub)
        cells[key] = format_n_percent(missing, total, 1)
        numbers[key] = {"count": missing, "n": total, "percent": _percent(missing, total)}
    return TableRow(
        variable.label,
        "Missing",
        cells,
        variable_code=variable.code,
        level="missing",
        values=numbers,
        n=len(subsets[OVERALL]),
        n_missing=numbers[OVERALL]["count"],
    )


def _percent(count: int, n: int) -> float | None:
    return 100.0 * count / n if n else None


def _subsets(
    data: pd.DataFrame, group_at: np.ndarray, order: list[Hashable]
) -> dict[str, pd.DataFrame]:
    subsets = {OVERALL: data}
    for position, group in enumerate(order):
        subsets[str(group)] = data[group_at == position]
    return subsets


def _continuous_rows(
    subsets: dict[str, pd.DataFrame], variable: Variable, order: list[Hashable]
) -> list[TableRow]:
    arrays = {key: as_float_array(sub[variable.column]) for key, sub in subsets.items()}
    # Each group's values sorted once: its quartiles and the rank test share them.
    ordered = {str(g): sorted_values(arrays[str(g)]) for g in order}
    summaries = {
        key: describe_continuous(values, ordered=ordered.get(key)) for key, values in arrays.items()
    }
    overall = summaries[OVERALL]
    if variable.nonparametric:
        category = "Median [Q1, Q3]"
        cells = {key: s.median_iqr(variable.decimals) for key, s in summaries.items()}
    else:
        category = "Mean ± SD"
        cells = {key: s.mean_sd(variable.decimals) for key, s in summaries.items()}
    row = TableRow(
        variable.label,
        category,
        cells,
        variable_code=variable.code,
        level="median_iqr" if variable.nonparametric else "mean_sd",
        values={
            key: {k: getattr(s, k) for k in ("n", "n_missing", "mean", "sd", "median", "q1", "q3")}
            for key, s in summaries.items()
        },
        normality="non-normal" if variable.nonparametric else "normal",
        n=overall.n,
        n_missing=overall.n_missing,
    )
    row.cells["Missing"] = str(overall.n_missing)
    if order:
        result = compare_samples(
            {g: arrays[str(g)] for g in order}, ordered={g: ordered[str(g)] for g in order}
        )
        twin = result.nonparametric
        if variable.nonparametric and twin is not None:  # the rank test leads, Welch is the twin
            row.p, row.test, row.twin_p, row.twin_test = twin.p, twin.test, result.p, result.test
        else:
            row.p, row.test = result.p, result.test
            row.twin_p, row.twin_test = (twin.p, twin.test) if twin else (None, None)
        row.note = result.note
        row.test_label = test_label(row.test) or None
        row.cells.update({"P-value": format_p(row.p), "Test": row.test_label or ""})
        if len(order) == 2:
            first, second = (summaries[str(g)] for g in order)
            row.smd = continuous_smd(first.mean, first.sd, second.mean, second.sd)
            row.cells["SMD"] = format_number(row.smd, 3)
    rows = [row]
    if variable.show_range:
        range_cells = {
            key: s.range_text(variable.range_decimals) + variable.range_suffix if s.n else ""
            for key, s in summaries.items()
        }
        rows.append(
            TableRow(
                variable.label,
                "Range",
                range_cells,
                variable_code=variable.code,
                level="range",
                values={key: {"min": s.min, "max": s.max} for key, s in summaries.items()},
                n=overall.n,
            )
        )
    return rows


def _categorical_rows(
    subsets: dict[str, pd.DataFrame],
    variable: Variable,
    order: list[Hashable],
    group_at: np.ndarray,
) -> list[TableRow]:
    everything = subsets[OVERALL][variable.column]
    levels = level_labels(everything, variable.levels)  # every level seen, in every column
    described = describe_by_group(everything, levels, group_at, len(order))
    summaries = dict(zip([OVERALL, *map(str, order)], described, strict=True))
    overall = summaries[OVERALL]
    rows = []
    for index, level in enumerate(overall.levels):
        cells = {
            key: s.level(level.level).proportion.n_percent(variable.decimals)
            for key, s in summaries.items()
        }
        numbers = {}
        for key, summary in summaries.items():
            proportion = summary.level(level.level).proportion
            numbers[key] = {
                "count": proportion.count,
                "n": proportion.n,
                "percent": proportion.percent,
                "ci_low": proportion.ci_low,
                "ci_high": proportion.ci_high,
            }
        rows.append(
            TableRow(
                variable.label,
                level.label,
                cells,
                variable_code=variable.code,
                level=level.level,
                values=numbers,
                n=overall.n,
                n_missing=overall.n_missing if index == 0 else None,
            )
        )
    if not rows:
        return [
            TableRow(
                variable.label,
                "",
                {"Missing": str(overall.n_missing)},
                variable_code=variable.code,
                n=0,
                n_missing=overall.n_missing,
                note="no data",
            )
        ]
    first = rows[0]
    first.cells["Missing"] = str(overall.n_missing)
    if order:
        counts = pd.DataFrame(
            [
                [summaries[str(g)].level(lv.level).proportion.count for lv in overall.levels]
                for g in order
            ],
            index=order,
            columns=[lv.level for lv in overall.levels],
        )
        missing = sum(summaries[str(g)].n_missing for g in order)
        result = compare_counts(counts, n_missing=missing, level_names=levels)
        first.p, first.test = result.p, result.test
        first.test_label = test_label(result.test) or None
        first.note = "; ".join(filter(None, [result.note, result.warning])) or None
        first.cells.update({"P-value": format_p(result.p), "Test": first.test_label or ""})
        if len(order) == 2:
            first.smd = categorical_smd(*counts.to_numpy())
            first.cells["SMD"] = format_number(first.smd, 3)
    return rows
