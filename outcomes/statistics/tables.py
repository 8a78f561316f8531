"""The two tables every cohort report prints (the layout of seed 002, Tables I and II).

Table 1, ``baseline_table``: baseline characteristics per technique with the right test per
row (Welch/ANOVA for continuous, chi-square/Fisher for categorical) and missing counts.
Table 2, ``prepost_table``: baseline vs follow-up per outcome, overall and within strata
(age, sex, region...), with paired tests on complete pairs; it lives in ``stratified.py``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import pandas as pd

from .compare import compare_groups
from .contingency import compare_categorical
from .describe import Levels, describe_categorical, describe_continuous, format_p
from .layout import Table, TableRow
from .stratified import OVERALL, Outcome, prepost_table

__all__ = ["OVERALL", "Outcome", "Variable", "baseline_table", "prepost_table"]


@dataclass(frozen=True, eq=False)
class Variable:
    """One row block of Table 1. ``decimals`` is the precision the variable is printed at."""

    column: str
    label: str
    kind: str = "continuous"  # or "categorical"
    decimals: int = 1
    levels: Levels = None
    show_range: bool = False
    range_decimals: int = 0
    range_suffix: str = ""
    nonparametric: bool = False

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
    columns = [OVERALL, *[str(g) for g in order], *tests, "Missing"]
    headers = {
        OVERALL: f"{OVERALL} (n = {len(data)})",
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
    for variable in variables:
        builder = _continuous_rows if variable.kind == "continuous" else _categorical_rows
        table.rows.extend(builder(data, variable, group_col, order))
    return table


def _subsets(
    data: pd.DataFrame, group_col: str | None, order: list[Hashable]
) -> dict[str, pd.DataFrame]:
    subsets = {OVERALL: data}
    for group in order:
        subsets[str(group)] = data[data[group_col] == group]
    return subsets


def _continuous_rows(
    data: pd.DataFrame, variable: Variable, group_col: str | None, order: list[Hashable]
) -> list[TableRow]:
    summaries = {
        key: describe_continuous(sub[variable.column])
        for key, sub in _subsets(data, group_col, order).items()
    }
    overall = summaries[OVERALL]
    if variable.nonparametric:
        category = "Median [Q1, Q3]"
        cells = {key: s.median_iqr(variable.decimals) for key, s in summaries.items()}
    else:
        category = "Mean ± SD"
        cells = {key: s.mean_sd(variable.decimals) for key, s in summaries.items()}
    row = TableRow(variable.label, category, cells, n=overall.n, n_missing=overall.n_missing)
    row.cells["Missing"] = str(overall.n_missing)
    if order:
        result = compare_groups(data, value_col=variable.column, group_col=group_col, groups=order)
        twin = result.nonparametric
        if variable.nonparametric and twin is not None:  # the rank test leads, Welch is the twin
            row.p, row.test, row.twin_p, row.twin_test = twin.p, twin.test, result.p, result.test
        else:
            row.p, row.test = result.p, result.test
            row.twin_p, row.twin_test = (twin.p, twin.test) if twin else (None, None)
        row.note = result.note
        row.cells.update({"P-value": format_p(row.p), "Test": row.test or ""})
    rows = [row]
    if variable.show_range:
        range_cells = {
            key: s.range_text(variable.range_decimals) + variable.range_suffix if s.n else ""
            for key, s in summaries.items()
        }
        rows.append(TableRow(variable.label, "Range", range_cells, n=overall.n))
    return rows


def _categorical_rows(
    data: pd.DataFrame, variable: Variable, group_col: str | None, order: list[Hashable]
) -> list[TableRow]:
    summaries = {
        key: describe_categorical(sub[variable.column], levels=variable.levels)
        for key, sub in _subsets(data, group_col, order).items()
    }
    overall = summaries[OVERALL]
    rows = []
    for index, level in enumerate(overall.levels):
        cells = {
            key: s.level(level.level).proportion.n_percent(variable.decimals)
            for key, s in summaries.items()
        }
        rows.append(
            TableRow(
                variable.label,
                level.label,
                cells,
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
                n=0,
                n_missing=overall.n_missing,
                note="no data",
            )
        ]
    first = rows[0]
    first.cells["Missing"] = str(overall.n_missing)
    if order:
        result = compare_categorical(
            data,
            value_col=variable.column,
            group_col=group_col,
            groups=order,
            levels=variable.levels,
        )
        first.p, first.test = result.p, result.test
        first.note = "; ".join(filter(None, [result.note, result.warning])) or None
        first.cells.update({"P-value": format_p(result.p), "Test": result.test or ""})
    return rows
