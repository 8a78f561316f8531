"""Small-cell suppression of what the API serves (DOMAIN.md, "Small-cell suppression").

INTERIM: the statistics issue is writing the one suppression function for results of its
contract (`outcomes.suppression.suppress`). Until it lands, the API withholds cells here,
on today's stored layout; the two entry points below are the only callers to switch.

The rule: a count from 1 to k-1 (k = MIN_CELL_COUNT, default 5; zero is shown) is withheld
with everything computed from it (mean, SD, quartiles, rate, CI). Complementary: where a
total is shown, a second cell of that row or column is withheld too, so that subtraction
cannot recover a withheld count.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from django.conf import settings

DEFAULT_K = 5
RULE = "counts from 1 to k-1 withheld, with a second cell where a total would reveal them"
_SUMMARY_VALUES = ("n", "mean", "sd", "median", "q1", "q3", "min", "max", "ci_low", "ci_high")
_COUNT_TEXT = re.compile(r"^(\d+) \(")


def min_cell_count() -> int:
    return int(getattr(settings, "MIN_CELL_COUNT", DEFAULT_K))


def small(count: Any, k: int) -> bool:
    return isinstance(count, int) and not isinstance(count, bool) and 0 < count < k


# ------------------------------------------------------------------ shaped aggregates


def withhold_in_part(part: dict[str, Any], *, k: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Suppress an aggregate shaped by outcomes.api.aggregates; returns (part, flag)."""
    part = copy.deepcopy(part)
    withheld = 0
    hidden_timepoints = set()
    for row in part.get("summaries", []):
        if small(row.get("n"), k):
            _null(row, ("n", "mean", "sd", "median", "q1", "q3"), ci="ci95")
            hidden_timepoints.add(row["timepoint"])
            withheld += 1
    for row in part.get("change_from_baseline", []):
        if small(row.get("n_paired"), k):
            _null(row, ("n_paired", "mean_difference", "statistic", "p"), ci="ci95")
            row["nonparametric"] = None
            withheld += 1
    for row in part.get("comparisons", []):
        # The comparison's n is the sum over techniques: it would give a withheld n back.
        if row["timepoint"] in hidden_timepoints:
            row["n"] = None
    for row in part.get("rates", []):
        n, events = row.get("n"), row.get("events")
        others = n - events if isinstance(n, int) and isinstance(events, int) else None
        if small(events, k) or small(others, k) or small(n, k):
            _null(row, ("events", "rate"), ci="ci95")
            if small(n, k):
                row["n"] = None
            withheld += 1
    if "table" in part:
        withheld += withhold_in_table(part["table"], k=k)
    for table in part.get("tables", []):
        withheld += withhold_in_table(table.get("table", {}), k=k)
    return part, {"applied": True, "k": k, "rule": RULE, "withheld": withheld}


def _null(row: dict[str, Any], names: tuple[str, ...], *, ci: str) -> None:
    for name in names:
        row[name] = None
    row[ci] = [None, None]
    row["suppressed"] = True


# ------------------------------------------------------------------ text tables


def withhold_in_table(table: dict[str, Any], *, k: int) -> int:
    """Table 1/2 cells like "3 (4.1%)": withheld as "<k", with complementary cells in the
    variable's column (the header gives the column total) and row (Overall gives it)."""
    columns = [c for c in table.get("columns", []) if c not in ("P-value", "Test", "Missing")]
    by_variable: dict[Any, list[dict[str, Any]]] = {}
    for row in table.get("rows", []):
        by_variable.setdefault(row.get("variable"), []).append(row)
    withheld = 0
    for rows in by_variable.values():
        counts = [[_count(row.get("cells", {}).get(col)) for col in columns] for row in rows]
        hidden = [[small(c, k) for c in line] for line in counts]
        changed = True
        while changed:
            changed = False
            for i in range(len(rows)):
                changed |= _complement([(i, j) for j in range(len(columns))], counts, hidden)
            for j in range(len(columns)):
                changed |= _complement([(i, j) for i in range(len(rows))], counts, hidden)
        for i, row in enumerate(rows):
            for j, col in enumerate(columns):
                if hidden[i][j]:
                    row["cells"][col] = f"<{k}"
                    row.setdefault("suppressed", True)
                    withheld += 1
    return withheld


def _complement(cells, counts, hidden) -> bool:
    """Exactly one withheld count among shown ones of a line whose total is known: withhold
    the smallest other shown count."""
    marked = [(i, j) for i, j in cells if hidden[i][j]]
    shown = [(i, j) for i, j in cells if counts[i][j] is not None and not hidden[i][j]]
    if len(marked) != 1 or not shown:
        return False
    i, j = min(shown, key=lambda cell: counts[cell[0]][cell[1]])
    hidden[i][j] = True
    return True


def _count(text: Any) -> int | None:
    match = _COUNT_TEXT.match(text) if isinstance(text, str) else None
    return int(match.group(1)) if match else None


# ------------------------------------------------------------------ whole stored results


def withhold_in_result(result: dict[str, Any], *, k: int) -> dict[str, Any]:
    """A whole stored result (the runs' result endpoint): every summary, rate, contingency
    table and text table in it."""
    result = copy.deepcopy(result)
    _walk(result, k)
    result["suppression"] = {"applied": True, "k": k, "rule": RULE}
    return result


def _walk(value: Any, k: int) -> None:
    if isinstance(value, list):
        for item in value:
            _walk(item, k)
        return
    if not isinstance(value, dict):
        return
    if "rows" in value and "columns" in value:
        withhold_in_table(value, k=k)
    if "events" in value and "n" in value:
        n, events = value.get("n"), value.get("events")
        others = n - events if isinstance(n, int) and isinstance(events, int) else None
        if small(events, k) or small(others, k) or small(n, k):
            value["events"] = None
            value["text"] = f"<{k}"
            value["suppressed"] = True
            if isinstance(value.get("proportion"), dict):
                for name in ("count", "proportion", "percent", "ci_low", "ci_high"):
                    value["proportion"][name] = None
    elif small(value.get("n"), k) and any(name in value for name in ("mean", "sd")):
        for name in _SUMMARY_VALUES:
            if name in value:
                value[name] = None
        value["suppressed"] = True
    if small(value.get("n_paired"), k):
        for name in ("n_paired", "mean_diff", "ci_low", "ci_high", "statistic", "p"):
            if name in value:
                value[name] = None
        value["suppressed"] = True
    if isinstance(value.get("observed"), list):
        for line in value["observed"]:
            if any(small(cell, k) for cell in line):
                line[:] = [None] * len(line)  # the row total is shown: withhold the row
        value.pop("expected", None)
    groups = value.get("groups")
    if isinstance(groups, list) and any(
        isinstance(g, dict) and small((g.get("summary") or {}).get("n"), k) for g in groups
    ):
        value["n"] = None
    for item in list(value.values()):
        _walk(item, k)
