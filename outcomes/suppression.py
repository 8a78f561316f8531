"""Small-cell suppression of results of the contract: the one function every surface calls.

    from outcomes.suppression import suppress
    shown = suppress(run.result, analysis=run.analysis)          # k from MIN_CELL_COUNT
    shown = suppress(run.result, analysis="table1", k=11)         # CMS-style 1-10 withheld

`suppress(result, *, analysis=None, k=None) -> dict` returns a new result (the input is
not changed) in which, by the house rule of DOMAIN.md:

- primary: every count between 1 and k-1 is withheld (zero is shown), with everything
  derived from it: its percentage, proportion, rate text, CI, and a summary's mean, SD,
  median, quartiles, range and CI when its n is withheld;
- complementary: where the total of a line of cells is shown (Table 1's Overall column and
  group sizes, a rate's denominator, the follow-up accounting of a group at a timepoint, a
  contingency table's margins, a between-group comparison's n and n_missing), a line
  with exactly one withheld cell gets a second one withheld (the smallest other cell),
  repeated until no withheld count can be recovered by subtraction;
- tests: a test whose table has a withheld cell is withheld too (statistic, p and the
  observed/expected tables), since an exact p-value and the margins can give a cell back.

In the JSON a withheld value is `null`, and the object holding it lists the withheld keys
in `"withheld": [...]` (Table 1/2 rows: the withheld cell keys; a contingency table:
`"withheld_cells": [[row, col], ...]`). Text cells read `"<k"` ("<5"), which the pages and
exports print as they are. The result gets `"suppression": {"k": k, "cells_withheld": n}`.

Who calls it: the REST API for every aggregate, dashboards and benchmarking for any figure
that includes patients outside the viewer's sites, and publication tables by default. The
result page of a run shows the run's own scope (patients the viewer may see) unsuppressed.
`analysis` defaults to `result["analysis"]`; an unknown analysis raises ValueError rather
than pass anything through unsuppressed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings

DEFAULT_K = 5
_HEADER_N = re.compile(r"\(n = (\d+)\)")


def minimum_cell_count() -> int:
    return int(getattr(settings, "MIN_CELL_COUNT", DEFAULT_K))


# A continuous summary's n and everything computed from its values.
_SUMMARY_STATISTICS = ("n", "mean", "sd", "median", "q1", "q3", "min", "max", "ci_low", "ci_high")


class _Suppressor:
    def __init__(self, k: int):
        self.k = k
        self.text = f"<{k}"
        self.count = 0

    def small(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and 0 < value < self.k

    def withhold(self, holder: dict, *keys: str) -> None:
        listed = holder.setdefault("withheld", [])
        for key in keys:
            if key in holder and key not in listed:
                if isinstance(holder[key], int) and not isinstance(holder[key], bool):
                    self.count += 1
                holder[key] = self.text if isinstance(holder[key], str) else None
                listed.append(key)

    # ------------------------------------------------------------ lines with a shown total

    def complement(self, cells: Sequence[int | None], withheld: set[int]) -> set[int]:
        """One line whose total is shown: a lone withheld cell gets a partner."""
        withheld = set(withheld)
        if len(withheld) == 1:
            others = [i for i in range(len(cells)) if i not in withheld and cells[i] is not None]
            # A withheld zero protects nothing (counts are not negative): the smallest
            # non-zero cell, and a zero only when there is nothing else.
            nonzero = [i for i in others if cells[i]]
            if nonzero or others:
                withheld.add(min(nonzero or others, key=lambda i: cells[i]))
        return withheld

    def grid(self, counts: list[list[int | None]]) -> set[tuple[int, int]]:
        """Primary + complementary suppression of a table whose row and column totals are
        shown; returns the withheld (row, col) cells."""
        out = {(r, c) for r, row in enumerate(counts) for c, v in enumerate(row) if self.small(v)}
        changed = True
        while changed:
            changed = False
            for r, row in enumerate(counts):
                line = self.complement(row, {c for (rr, c) in out if rr == r})
                new = {(r, c) for c in line} - out
                changed |= bool(new)
                out |= new
            for c in range(len(counts[0]) if counts else 0):
                column = [row[c] for row in counts]
                line = self.complement(column, {r for (r, cc) in out if cc == c})
                new = {(r, c) for r in line} - out
                changed |= bool(new)
                out |= new
        return out

    # ------------------------------------------------------------ shapes of the contract

    def summary(self, summary: dict | None) -> None:
        if summary and self.small(summary.get("n")):
            self.withhold(summary, *_SUMMARY_STATISTICS)
        if summary and self.small(summary.get("n_missing")):
            self.withhold(summary, "n_missing")

    def test(self, test: dict | None, *, with_n: bool = False) -> None:
        """Withhold a test's outcome (`with_n`: its n too, when that is a withheld count,
        as a paired test's n is the withheld n_paired)."""
        if test:
            self.withhold(test, "statistic", "p", "df", "df_within", *(("n",) if with_n else ()))
            test["note"] = "withheld: the test would reveal a withheld count"

    def contingency(self, table: dict | None) -> bool:
        if not table or not table.get("observed"):
            return False
        cells = self.grid(table["observed"])
        if not cells:
            return False
        for r, c in cells:
            table["observed"][r][c] = None
            self.count += 1
        table["withheld_cells"] = sorted([r, c] for r, c in cells)
        table["expected"] = None
        self.withhold(table, "statistic", "p", "pearson_chi2", "pearson_p", "min_expected")
        table["note"] = "withheld: the test would reveal a withheld count"
        return True

    def rate(self, item: dict) -> None:
        any_withheld = False
        for rate in item.get("rates", []):
            events, n = rate.get("events"), rate.get("n")
            non_events = None if events is None or n is None else n - events
            if self.small(n) or self.small(events) or self.small(non_events):
                proportion = rate.get("proportion") or {}
                self.withhold(rate, "events", "text")
                self.withhold(proportion, "count", "proportion", "percent", "ci_low", "ci_high")
                if self.small(n):
                    self.withhold(rate, "n")
                    self.withhold(proportion, "n")
                any_withheld = True
        if item.get("comparison"):
            withheld = self.contingency(item["comparison"])
            if any_withheld and not withheld:
                self.test(item["comparison"])

    def accounting(self, holders: list[tuple[dict, str]]) -> None:
        """Counts that add up to a shown total (a group's size): primary + complement."""
        values = [holder.get(key) for holder, key in holders]
        primary = {i for i, v in enumerate(values) if self.small(v)}
        for i in self.complement(values, primary):
            holder, key = holders[i]
            if key == "n" and "mean" in holder:  # a summary: its statistics go with its n
                self.withhold(holder, *_SUMMARY_STATISTICS)
            else:
                self.withhold(holder, key)

    def trajectory(self, outcome: dict) -> None:
        blocks: dict[tuple[str, str], dict] = {}
        for item in outcome.get("summaries", []):
            if item.get("followup") is not None:
                blocks[item["group"], item["timepoint"]] = item["followup"]
            summary, block = item["summary"], item.get("followup") or {}
            self.accounting(
                [
                    (summary, "n"),
                    (summary, "n_missing"),
                    (block, "n_not_due"),
                    (block, "n_out_of_window_left_out"),
                ]
            )
            self.accounting(
                [
                    (block, "n_in_window"),
                    (block, "n_out_of_window"),
                    (block, "n_missing"),
                    (block, "n_not_due"),
                ]
            )
            for key in ("n_withdrawn", "n_out_of_window_let_in"):
                if self.small(block.get(key)):
                    self.withhold(block, key)
        # The changes and comparisons repeat a group's follow-up block at a timepoint: the
        # same cells as the summary's, withheld the same way (else one copy gives back
        # what the other withholds).
        for item in outcome.get("changes", []):
            if (item["group"], item["timepoint"]) in blocks:
                item["followup"] = copy.deepcopy(blocks[item["group"], item["timepoint"]])
        for item in outcome.get("comparisons", []):
            shown = [blocks.get((group, item["timepoint"])) for group in outcome.get("groups", [])]
            if item.get("followup") is not None and all(b is not None for b in shown):
                item["followup"] = copy.deepcopy(shown)
        for item in outcome.get("changes", []):
            change = item["change"]
            for part in ("before", "after", "difference"):
                self.summary(change.get(part))
            if self.small(change.get("n_paired")):
                self.withhold(change, "n_paired", "mean_diff", "ci_low", "ci_high")
                self.test(change)
                self.test(change.get("nonparametric"), with_n=True)
            if self.small(change.get("n_excluded")):
                self.withhold(change, "n_excluded")
        summaries = {
            (i["group"], i["timepoint"]): i["summary"] for i in outcome.get("summaries", [])
        }
        changes = {(i["group"], i["timepoint"]): i["change"] for i in outcome.get("changes", [])}
        for item in outcome.get("comparisons", []):
            comparison = item["comparison"]
            self.group_comparison(comparison)
            # A group's summary here is the one shown in the summaries (values) or the
            # change's difference (changes): a count withheld here is withheld there too.
            for group in comparison.get("groups", []):
                if "n" not in (group.get("summary") or {}).get("withheld", ()):
                    continue
                key = (group["group"], item["timepoint"])
                if item.get("of") == "change" and key in changes:
                    change = changes[key]
                    for part in ("before", "after", "difference"):  # each has n = n_paired
                        self.withhold(change[part], *_SUMMARY_STATISTICS)
                    self.withhold(change, "n_paired", "mean_diff", "ci_low", "ci_high")
                    self.test(change)
                    self.test(change.get("nonparametric"), with_n=True)
                elif item.get("of") == "value" and key in summaries:
                    self.withhold(summaries[key], *_SUMMARY_STATISTICS)

    def group_comparison(self, comparison: dict) -> None:
        summaries = [g["summary"] for g in comparison.get("groups", []) if g.get("summary")]
        for summary in summaries:
            self.summary(summary)
        # The comparison's n and n_missing are the totals of its groups': where a total is
        # shown, a lone withheld group count is that total minus the others, so a second
        # group's count is withheld too (with its statistics, for n).
        for key in ("n", "n_missing"):
            total = comparison.get(key)
            if total is None or self.small(total):
                continue
            values = [summary.get(key) for summary in summaries]
            withheld = {
                i for i, summary in enumerate(summaries) if key in summary.get("withheld", ())
            }
            for i in self.complement(values, withheld) - withheld:
                if key == "n":
                    self.withhold(summaries[i], *_SUMMARY_STATISTICS)
                else:
                    self.withhold(summaries[i], key)
        if any("n" in (summary.get("withheld") or ()) for summary in summaries):
            self.withhold(comparison, "mean_diff", "ci_low", "ci_high")
        for key in ("n", "n_missing"):
            if self.small(comparison.get(key)):
                self.withhold(comparison, key)

    def table(self, table: dict) -> None:
        """Table 1 / Table 2 rows: counts by column; Table 1's categorical blocks (and their
        missing row) are grids whose Overall column and group sizes are shown."""
        columns = [c for c in table["columns"] if c not in ("SMD", "P-value", "Test", "Missing")]
        self.headers(table, columns)
        blocks: dict[str, list[dict]] = {}
        small: dict[str, list[str]] = {}  # per variable: columns whose summary n is withheld
        for row in table["rows"]:
            values = row.get("values") or {}
            variable = row.get("variable_code") or row["variable"]
            if any("count" in (values.get(c) or {}) for c in columns):
                blocks.setdefault(variable, []).append(row)
            elif values and not any("n" in (values.get(c) or {}) for c in columns):
                # a row without its own n (the range under a mean): its summary row's cells
                for column in small.get(variable, []):
                    self.summary_cell(row, column, count=False)
            else:
                small[variable] = self.table_row(row, columns)
        for rows in blocks.values():
            counts = [[(row["values"].get(c) or {}).get("count") for c in columns] for row in rows]
            cells = self.grid(counts)
            for r, c in cells:
                self.cell(rows[r], columns[c])
            if cells:
                for row in rows:
                    if row.get("p") is not None or row.get("smd") is not None:
                        self.withhold(row, "p", "smd", "twin_p")
                        for key in ("P-value", "SMD"):
                            if key in row["cells"]:
                                row["cells"][key] = ""
                        row["note"] = "test withheld: it would reveal a withheld count"

    def cell(self, row: dict, column: str) -> None:
        numbers = row["values"].get(column) or {}
        self.count += numbers.get("count") is not None
        for key in list(numbers):
            if key != "n":
                numbers[key] = None
        row["cells"][column] = self.text
        row.setdefault("withheld", []).append(column)

    def headers(self, table: dict, columns: list[str]) -> None:
        """Group sizes printed in the headers ("PVP (n = 3)"): a line whose total (the
        Overall column) is shown."""
        sizes = {}
        for column in columns:
            match = _HEADER_N.search(str(table.get("headers", {}).get(column, "")))
            if match and column != "Overall":
                sizes[column] = int(match.group(1))
        names = list(sizes)
        counts = [sizes[c] for c in names]
        withheld = self.complement(counts, {i for i, n in enumerate(counts) if self.small(n)})
        for i in withheld:
            header = table["headers"][names[i]]
            table["headers"][names[i]] = _HEADER_N.sub(f"(n {self.text})", header)
            self.count += 1

    def summary_cell(self, row: dict, column: str, *, count: bool = True) -> None:
        numbers = row["values"].get(column) or {}
        self.count += count
        for key in list(numbers):
            numbers[key] = None
        row["cells"][column] = self.text
        row.setdefault("withheld", []).append(column)

    def table_row(self, row: dict, columns: list[str]) -> list[str]:
        """A row of summaries (Table 1 continuous, Table 2): a small n withholds its cells.
        Returns the columns withheld."""
        small = [c for c in columns if self.small((row.get("values", {}).get(c) or {}).get("n"))]
        for column in small:
            self.summary_cell(row, column)
        if self.small(row.get("n")):
            self.withhold(row, "n", "p", "twin_p")
            for column in row["cells"]:
                if column != "Missing":
                    row["cells"][column] = self.text
        return small


def _rates(s: _Suppressor, body: dict) -> None:
    for key in ("leakage", "device_rupture", "adverse_events"):
        for item in body.get(key, []):
            s.rate(item)
    s.contingency(body.get("leakage_types"))
    for item in body.get("perioperative", []):
        s.group_comparison(item)


def _trajectories(s: _Suppressor, body: dict) -> None:
    for outcome in body.get("outcomes", []):
        s.trajectory(outcome)


def _table1(s: _Suppressor, body: dict) -> None:
    s.table(body["table"])
    body["text"] = None  # the plain-text copy would carry the withheld cells


def _table2(s: _Suppressor, body: dict) -> None:
    for item in body.get("tables", []):
        s.table(item["table"])
        item["text"] = None


def _logistic(s: _Suppressor, body: dict) -> None:
    if s.small(body.get("events")) or s.small(body.get("non_events")):
        s.withhold(body, "events", "non_events")


def _trends(s: _Suppressor, body: dict) -> None:
    for measure in body.get("measures", []):
        for point in measure.get("points", []):
            events, n = point.get("events"), point.get("n")
            non_events = None if events is None or n is None else n - events
            if s.small(n) or s.small(events) or s.small(non_events):
                s.withhold(point, "events", "value", "ci_low", "ci_high")
                if s.small(n):
                    s.withhold(point, "n")


def _benchmarking(s: _Suppressor, body: dict) -> None:
    for measure in body.get("measures", []):
        units = measure.get("units", [])
        for unit in [measure.get("registry") or {}, *units]:
            events, n = unit.get("events"), unit.get("n")
            non_events = None if events is None or n is None else n - events
            if s.small(n) or s.small(events) or s.small(non_events):
                s.withhold(unit, "events", "rate")
                if s.small(n):
                    s.withhold(unit, "n")
        # Complementary: the sites add up to the registry line, a site's surgeons to the
        # site: a line with one withheld point gets a second.
        lines: dict[tuple, list[dict]] = {}
        for unit in units:
            line = ("site",) if unit.get("level") == "site" else ("surgeon", unit.get("site_id"))
            lines.setdefault(line, []).append(unit)
        for line_units in lines.values():
            for key, keys in (("n", ("n", "events", "rate")), ("events", ("events", "rate"))):
                cells = [u.get(key) for u in line_units]
                withheld = {i for i, u in enumerate(line_units) if key in (u.get("withheld") or ())}
                for i in s.complement(cells, withheld) - withheld:
                    s.withhold(line_units[i], *keys)


def _standard_report(s: _Suppressor, body: dict) -> None:
    _trajectories(s, body["trajectories"])
    _rates(s, body["rates"])
    _table1(s, body["table1"])


_BODIES: dict[str, Callable[[_Suppressor, dict], None]] = {
    "standard_report": _standard_report,
    "trajectories": _trajectories,
    "rates": _rates,
    "table1": _table1,
    "table2": _table2,
    "logistic": _logistic,
    "trends": _trends,
    "benchmarking": _benchmarking,
}


def suppress(result: dict, *, analysis: str | None = None, k: int | None = None) -> dict:
    """The result with small cells withheld (see the module docstring: the interface)."""
    analysis = analysis or result.get("analysis")
    if analysis not in _BODIES:
        raise ValueError(f"no suppression rule for analysis {analysis!r}")
    k = minimum_cell_count() if k is None else int(k)
    if k < 1:
        raise ValueError("k must be at least 1")
    shown = copy.deepcopy(result)
    s = _Suppressor(k)
    cohort = shown.get("cohort") or {}
    techniques = cohort.get("techniques") or []
    counts = [n for _, n in techniques]
    primary = {i for i, n in enumerate(counts) if s.small(n)}
    for i in s.complement(counts, primary):
        techniques[i][1] = None
        s.count += 1
    if primary:
        cohort["withheld"] = ["techniques"]
    if s.small(cohort.get("n_patients")):  # the cohort's size is a count like any other
        s.withhold(cohort, "n_patients")
    _BODIES[analysis](s, shown["body"])
    shown["suppression"] = {"k": k, "cells_withheld": s.count, "text": s.text}
    return shown
