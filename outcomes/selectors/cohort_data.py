"""`CohortData`: what every analysis reads, each frame read once, from one snapshot.

The cohort's selection (the index procedures that meet the definition) is evaluated once
into a list of ids: in SQL, or, for whole tables, in numpy from the raw rows read anyway
(`frames.select_cases`). The frames are built in numpy from raw rows (see `frames`), read
either filtered on those ids (one hashed array parameter on PostgreSQL) or, for a cohort
that is most of the registry, as whole tables kept to the cohort's rows by id.

Reading behind. On PostgreSQL, outside any transaction (a worker, the benchmark), the raw
rows are read by more connections that import the first one's snapshot
(`pg_export_snapshot`), one per big table, while this thread reads the selection and
then computes on the frames it has: the database works on several backends while the
statistics run, and every frame and the data version still describe the same rows.
Inside a transaction (tests, an eager task in a request) and on SQLite, frames are simply
read in order.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from django.db import connections, transaction
from django.db.models import Q, QuerySet

from outcomes import cohorts
from outcomes.routers import read_alias
from outcomes.selectors import followup, frames, values
from outcomes.selectors.access import Scope
from outcomes.selectors.case_facts import read_case_facts
from outcomes.selectors.cases import cohort_cases
from outcomes.selectors.fingerprint import (
    TABLES,
    Figures,
    complete_latest,
    data_version,
    latest_rows,
    standalone_figures,
)
from outcomes.selectors.sql import InIds, in_ids
from registry.models import AdverseEventType, ClavienDindo, Patient, Procedure

SESSION = ("SET LOCAL jit = off", "SET LOCAL work_mem = '64MB'")


class CohortData:
    """Frames and counts for one cohort definition over one scope."""

    def __init__(self, *, filters: Mapping[str, Any], rules: Mapping[str, bool], scope: Scope):
        self.scope = scope
        self.selection: QuerySet[Procedure] = cohort_cases(
            filters=filters, rules=rules, scope=scope
        ).order_by()
        self.withdrawn_selection: QuerySet[Procedure] = cohort_cases(
            filters=filters, rules=rules, scope=scope, withdrawn=True
        ).order_by()
        self._rules = dict(rules)
        normalised = cohorts.normalise_filters(filters)
        self._narrowed = any(value not in (None, [], "") for value in normalised.values())
        self._whole: bool | None = None
        self._values: dict[str, Future] = {}
        self._derived: dict[str, Any] = {}
        self._lock = threading.Lock()
        # Fingerprint figures of the rows read so far, per table (see `version`).
        self._figures: dict[str, Figures] = {}

    # ------------------------------------------------------------ reading

    def _value(self, name: str) -> Any:
        """Read `name` once; a read already under way (behind) is waited for."""
        with self._lock:
            future = self._values.get(name)
            owner = future is None
            if owner:
                future = self._values[name] = Future()
        if owner:
            self._fill(name, future)
        return future.result()

    def _fill(self, name: str, future: Future) -> None:
        try:
            future.set_result(self._READERS[name](self))
        except BaseException as error:  # the reader of the value re-raises it
            future.set_exception(error)

    def in_cohort(self, path: str) -> Q | InIds:
        """Filter for rows of the cohort's cases; `path` leads to a procedure id."""
        return in_ids(path, self.case_ids, self.selection.values("pk"))

    @property
    def case_queryset(self) -> QuerySet[Procedure]:
        return Procedure.objects.filter(self.in_cohort("pk"))

    @contextmanager
    def snapshot(self) -> Iterator[str | None]:
        """Read inside one transaction: on PostgreSQL a REPEATABLE READ, READ ONLY snapshot
        (the data version and every frame describe the same rows), exported for a second
        reader; JIT off (compiling the pivot costs more than it saves) and a work_mem that
        keeps its sort in memory. Nested in an outer transaction it only adds the settings
        and yields no snapshot."""
        alias = read_alias()
        connection = connections[alias]
        postgres = connection.vendor == "postgresql"
        fresh = not connection.in_atomic_block
        snapshot = None
        with transaction.atomic(using=alias):
            if postgres:
                with connection.cursor() as cursor:
                    if fresh:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                        cursor.execute("SELECT pg_export_snapshot()")
                        snapshot = cursor.fetchone()[0]
                    for statement in SESSION:
                        cursor.execute(statement)
            yield snapshot

    # What each frame is built from: raw rows (`*_rows`, `patients`), each read once.
    RAW: dict[str, tuple[str, ...]] = {
        "visit_pivot": ("visit_rows",),
        "film_pivot": ("visit_rows", "film_rows"),
        "wide": ("visit_rows", "film_rows"),
        "cases": ("visit_rows", "procedure_rows", "patients", "level_rows"),
        "adverse_events": ("event_rows",),
    }
    # The readers behind: each big table on a connection of its own (the database then
    # works on them in parallel, one backend each); the small reads share one. A frame
    # built from a reader's rows is built on that reader's thread as soon as they are in.
    # What the selection of whole tables needs comes first on each (the procedures and,
    # on another connection, their patients; the visits; a narrow read of the films), the
    # films' and levels' wide reads after it: the statistics of the first outcomes start
    # while they are read.
    BEHIND = (
        ("collapsed_visits", "patient_part", "film_rows", "film_pivot"),
        ("pathological", "procedure_part", "procedure_rows", "level_rows", "patients", "cases"),
        ("visit_rows", "event_rows", "adverse_events", "withdrawn", "case_facts", "version"),
    )
    # Raw rows made from two reads, each read behind on a connection of its own.
    PARTS: dict[str, tuple[str, ...]] = {"procedure_rows": ("procedure_part", "patient_part")}
    # The wide reads of whole tables, needed only once the cohort's selection is made:
    # they start when the selection's inputs are in, not alongside them (sharing the
    # database's cores with them made the selection, and so everything, wait).
    WIDE = frozenset({"film_rows", "level_rows"})
    # For whole tables the selection is made in numpy from raw rows read anyway (one
    # heavy SQL statement less, two with the withdrawn cases): what it needs per rule.
    SELECTION_RAW = {
        "rule_baseline_vas": ("visit_rows",),
        "rule_collapse": ("visit_rows", "collapsed_visits"),
        "rule_exclude_pathological": ("pathological",),
    }

    def read(self, names: Iterable[str], *, behind: Iterable[str] = ()) -> None:
        """Read `names` now; `behind` too, on more connections sharing the snapshot when
        there is one to share (else now, in order). The raw rows every frame needs are
        read behind as well, while this thread reads the cohort's selection."""
        names = [name for name in names if name not in self._values]
        behind = [name for name in behind if name not in self._values and name not in names]
        if not names and not behind:
            return
        with self.snapshot() as snapshot:
            started = []
            if snapshot:
                self.whole_tables  # noqa: B018 (decided once, before the readers start)
                wanted = {raw for name in (*names, *behind) for raw in self.RAW.get(name, ())}
                wanted.update(behind)
                if self.whole_tables:
                    wanted.update(self._selection_raw())
                    if "withdrawn" in wanted:
                        wanted.add("level_rows")  # counted per withdrawn case
                for name, parts in self.PARTS.items():
                    if name in wanted:
                        wanted.update(parts)
                for group in self.BEHIND:
                    chosen = [name for name in group if name in wanted and name not in self._values]
                    if chosen:
                        started.append(self._read_behind(chosen, snapshot))
            if started and "version" in wanted and not self.stamped:
                self._value("latest_rows")  # while the readers read (this thread waits)
            self.case_ids  # noqa: B018 (the selection, on this connection)
            for name in names:
                self._value(name)
            if not started:
                for name in behind:
                    self._value(name)
            for imported in started:
                imported.wait()  # the snapshot must outlive its imports

    @property
    def whole_tables(self) -> bool:
        """Read whole tables (and keep the cohort's rows by id) rather than filter them in
        SQL: on PostgreSQL, for a definition without filters over a scope of at least half
        the patients. A long id array costs the planner and every row a lookup, more than
        reading the rows of the few patients outside; a narrow cohort filters in SQL."""
        if self._whole is None:
            connection = connections[read_alias()]
            whole = connection.vendor == "postgresql" and not self._narrowed
            if whole:
                patients = Patient.objects.using(read_alias())
                in_scope = patients.filter(site_id__in=self.scope.site_ids).count()
                whole = 2 * in_scope >= patients.count()
            self._whole = whole
        return self._whole

    @property
    def stamped(self) -> bool:
        """Read each row's `updated_at` for the data version: not for whole tables (their
        latest rows are read instead, see `fingerprint.complete_latest`)."""
        return not self.whole_tables

    def rows_in(self, path: str) -> Q | InIds:
        """SQL filter of the raw rows read: none for whole tables, else the cohort's."""
        return Q() if self.whole_tables else self.in_cohort(path)

    def _selection_raw(self) -> set[str]:
        """The raw rows the numpy selection of whole tables reads."""
        needed = {"procedure_rows"}
        for rule, raws in self.SELECTION_RAW.items():
            if self._rules.get(rule):
                needed.update(raws)
        return needed

    def _wait_before(self, name: str) -> None:
        """Before a wide read of whole tables (`WIDE`): wait for (or read) the raw rows
        the numpy selection needs."""
        if name not in self.WIDE or not self.whole_tables:
            return
        for needed in sorted(self._selection_raw()):
            self._value(needed)

    def _select(self, *, withdrawn: bool) -> np.ndarray:
        """`frames.select_cases` on the whole tables read (see `whole_tables`)."""
        needed = self._selection_raw()
        raw = {
            name: self._value(name) for name in ("visit_rows", "collapsed_visits") if name in needed
        }
        return frames.select_cases(
            self._value("procedure_rows"),
            site_ids=self.scope.site_ids,
            rules=self._rules,
            withdrawn=withdrawn,
            visits=raw.get("visit_rows"),
            collapsed=raw.get("collapsed_visits"),
            pathological=self._value("pathological") if "pathological" in needed else None,
        )

    def _read_withdrawn(self) -> pd.DataFrame:
        if not self.whole_tables:
            return frames.read_withdrawn(self.withdrawn_selection)
        chosen = self._select(withdrawn=True)
        return frames.selected_withdrawn(
            self._value("procedure_rows"), chosen, self._value("level_rows")
        )

    def _read_case_rows(self) -> pd.DataFrame:
        """The selection of a whole cohort is made in numpy from the whole tables read (see
        `frames.select_cases`). Else in SQL, best done with hash joins; PostgreSQL's
        estimate for the stacked Exists conditions is far too low and makes it probe an
        index once per procedure instead (here: for this one statement only)."""
        if self.whole_tables:
            return frames.selected_case_rows(
                self._value("procedure_rows"), self._select(withdrawn=False)
            )
        connection = connections[read_alias()]
        if connection.vendor != "postgresql" or not connection.in_atomic_block:
            return frames.read_case_rows(self.selection)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_nestloop = off")
            try:
                return frames.read_case_rows(self.selection)
            finally:
                cursor.execute("SET LOCAL enable_nestloop = on")

    def _read_behind(self, names: list[str], snapshot: str) -> threading.Event:
        imported = threading.Event()
        with self._lock:
            pending = {name: self._values.setdefault(name, Future()) for name in names}

        alias = read_alias()

        def work() -> None:
            connection = connections[alias]
            try:
                with transaction.atomic(using=alias), connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
                    for statement in SESSION:
                        cursor.execute(statement)
                    imported.set()
                    for name, future in pending.items():
                        self._wait_before(name)
                        self._fill(name, future)
            except BaseException as error:
                for future in pending.values():
                    if not future.done():
                        future.set_exception(error)
            finally:
                imported.set()
                connection.close()  # this thread's own connection

        context = contextvars.copy_context()  # the replica routing follows the reader
        threading.Thread(
            target=context.run, args=(work,), name="outcomes-reader", daemon=True
        ).start()
        return imported

    # ------------------------------------------------------------ what is read

    @property
    def case_ids(self) -> list[int]:
        """The cohort, evaluated once: every later query filters on these ids."""
        return self._value("case_ids")

    @property
    def _case_array(self) -> np.ndarray:
        return self._value("case_rows")["unit_id"].to_numpy()

    def version(self) -> str:
        """The data version of the rows this cohort's analyses read: from the figures the
        frame readers collected when they have read every table, else asked for."""
        return self._value("version")

    def _read_version(self) -> str:
        for name in ("visit_pivot", "film_pivot", "cases", "adverse_events"):
            if name in self._values:
                self._value(name)
        if set(self._figures) >= set(TABLES):
            figures = complete_latest(
                self._figures, lambda: self._value("latest_rows"), self.in_cohort
            )
            return data_version(figures)
        return data_version(standalone_figures(self.in_cohort))

    def _collect(self, read: tuple[Any, dict[str, Figures]]) -> Any:
        frame, figures = read
        self._figures.update(figures)
        return frame

    @property
    def visit_pivot(self) -> pd.DataFrame:
        """technique, VAS and ODI per timepoint, one row per case (read first: cheap)."""
        return self._value("visit_pivot")

    @property
    def wide(self) -> pd.DataFrame:
        """technique and every outcome per timepoint, one row per case (index unit_id)."""
        return self._value("wide")

    def outcome_frame(self, key: str) -> pd.DataFrame:
        """A frame with `technique` and the columns of outcome `key`: VAS and ODI do not wait
        for the radiographs."""
        return self.visit_pivot if key in frames.VISIT_OUTCOMES else self.wide

    @property
    def cases(self) -> pd.DataFrame:
        """One row per case: demographics, perioperative items, the treated levels
        collapsed, and the baseline VAS / ODI."""
        return self._value("cases")

    @property
    def adverse_events(self) -> pd.DataFrame:
        return self._value("adverse_events")

    @property
    def case_facts(self) -> pd.DataFrame:
        """Site, surgeon, procedure date and 1-year visit per case (index unit_id)."""
        return self._value("case_facts")

    def _read_cases(self) -> pd.DataFrame:
        cases = self._value("patients")
        levels = self._collect(frames.collapse_levels(self._case_array, self._value("level_rows")))
        cases = cases.merge(levels, on="unit_id", how="left")
        baseline = self.visit_pivot[["vas_baseline", "odi_baseline"]]
        baseline = baseline.rename(columns=lambda name: f"baseline_{name.split('_')[0]}")
        return cases.merge(baseline, left_on="unit_id", right_index=True, how="left")

    _READERS: dict[str, Callable[[CohortData], Any]] = {
        "case_rows": lambda self: self._read_case_rows(),
        "case_ids": lambda self: self._case_array.tolist(),
        "version": lambda self: self._read_version(),
        "visit_rows": lambda self: frames.read_visit_rows(self.rows_in, stamped=self.stamped),
        "film_rows": lambda self: frames.read_film_rows(self.rows_in, stamped=self.stamped),
        "procedure_part": lambda self: frames.read_procedure_part(
            self.rows_in, stamped=self.stamped
        ),
        # The patients of the cohort's procedures, or every patient (whole tables).
        "patient_part": lambda self: frames.read_patient_part(
            self.rows_in,
            None if self.whole_tables else self._value("procedure_part"),
            stamped=self.stamped,
        ),
        "procedure_rows": lambda self: frames.with_patients(
            self._value("procedure_part"), self._value("patient_part")
        ),
        "pathological": lambda self: frames.read_pathological_patients(),
        "collapsed_visits": lambda self: frames.read_collapsed_visits(),
        "latest_rows": lambda self: latest_rows(),
        "patients": lambda self: self._collect(
            frames.patients_frame(self._value("procedure_rows"), self._case_array)
        ),
        "level_rows": lambda self: frames.read_level_rows(self.rows_in, stamped=self.stamped),
        "event_rows": lambda self: frames.read_event_rows(self.rows_in, stamped=self.stamped),
        "visit_pivot": lambda self: self._collect(
            frames.visit_pivot(self._value("case_rows"), self._value("visit_rows"))
        ),
        "film_pivot": lambda self: self._collect(
            frames.film_pivot(
                self._value("case_rows"), self._value("visit_rows"), self._value("film_rows")
            )
        ),
        "wide": lambda self: self.visit_pivot.join(
            values.film_means(self.visit_pivot, self._value("film_pivot"))
        ),
        "withdrawn": lambda self: self._read_withdrawn(),
        "cases": lambda self: self._read_cases(),
        "adverse_events": lambda self: self._collect(
            frames.adverse_events(self._case_array, self._value("event_rows"))
        ),
        "case_facts": lambda self: read_case_facts(self.in_cohort),
    }

    # ------------------------------------------------------------ derived, in pandas

    @staticmethod
    def wide_columns(key: str) -> dict[str, str]:
        """timepoint -> column of `wide` for one outcome."""
        return {timepoint: f"{key}_{timepoint}" for timepoint in frames.TIMEPOINTS}

    def outcome_long(self, key: str) -> pd.DataFrame:
        """The long frame of the statistics column contract (unit_id, group, timepoint,
        value) for one outcome: one row per case per scheduled timepoint."""
        columns = self.wide_columns(key)
        long = self.wide[["technique", *columns.values()]].rename(
            columns={column: timepoint for timepoint, column in columns.items()}
        )
        long = long.reset_index().melt(
            id_vars=["unit_id", "technique"], var_name="timepoint", value_name="value"
        )
        return long.rename(columns={"technique": "group"})

    @property
    def film_levels(self) -> pd.DataFrame:
        """One row per treated vertebra filmed: recorded values per timepoint."""
        return self._value("film_pivot")

    def status(self, as_of: date) -> dict[str, np.ndarray]:
        """The follow-up status code of every case at every timepoint on `as_of`."""
        key = f"status:{as_of.isoformat()}"
        if key not in self._derived:
            self._derived[key] = values.visit_status(self.visit_pivot, as_of)
        return self._derived[key]

    def outcome_values(
        self, key: str, *, as_of: date, let_in_out_of_window: bool = False, unit: str = "patient"
    ) -> values.OutcomeValues:
        spec = frames.OUTCOMES[key]
        return values.outcome_values(
            spec,
            visit_pivot=self.visit_pivot,
            film_levels=self.film_levels if spec.radiographic else None,
            groups=self.techniques,
            status=self.status(as_of),
            let_in_out_of_window=let_in_out_of_window,
            unit=unit,
        )

    @property
    def withdrawn(self) -> pd.DataFrame:
        """The definition's cases whose patient withdrew (counted, never analysed)."""
        return self._value("withdrawn")

    def withdrawn_counts(self, as_of: date, *, unit: str = "patient") -> dict[str, dict[str, int]]:
        """timepoint -> technique -> cases withdrawn before that window closed (and by
        `as_of`): the `n_withdrawn` of every per-timepoint result; with `unit="level"`
        their treated vertebrae (a per-vertebra result counts vertebrae)."""
        frame = self.withdrawn
        weight = (
            frame["n_levels"].fillna(0).to_numpy(dtype="int64")
            if unit == "level"
            else np.ones(len(frame), dtype="int64")
        )
        procedure_day = frame["procedure_day"].to_numpy(dtype=float)
        withdrawn_day = frame["withdrawn_day"].to_numpy(dtype=float)
        technique = frame["technique"].astype(object).to_numpy()
        counts = {}
        for tp in frames.TIMEPOINTS:
            codes = followup.status_codes(
                timepoint=tp,
                procedure_day=procedure_day,
                visit_offset=np.full(len(frame), np.nan),
                as_of=as_of,
                withdrawn_day=withdrawn_day,
            )
            gone = codes == followup.WITHDRAWN
            chosen, weights = technique[gone], weight[gone]
            counts[tp] = {t: int(weights[chosen == t].sum()) for t in self.techniques}
        return counts

    @property
    def techniques(self) -> list[str]:
        """The cohort's techniques, sorted (asked for by every analysis, found once)."""
        if "techniques" not in self._derived:
            technique = self.visit_pivot["technique"]
            self._derived["techniques"] = sorted(technique.dropna().unique())
        return list(self._derived["techniques"])

    @property
    def patients_per_technique(self) -> pd.Series:
        counts = self.visit_pivot["technique"].value_counts()
        return counts.reindex(self.techniques, fill_value=0).astype("int64")

    @property
    def level_counts(self) -> pd.DataFrame:
        """Per technique: treated levels, leaked levels (any, by Yeom type, symptomatic),
        devices used and ruptured (the database summed them per patient)."""
        columns = [*frames.LEVEL_COUNTS, *frames.DEVICE_COUNTS]
        per_case = self.cases[["technique", *columns]]
        sums = per_case.groupby("technique", observed=True)[columns].sum()
        return sums.reindex(self.techniques).fillna(0).astype("int64")

    @property
    def adverse_event_counts(self) -> dict[str, pd.DataFrame | pd.Series]:
        """Patients with at least one event, per technique x type ("type"), per technique x
        Clavien-Dindo grade ("grade"), and per technique for any event ("any")."""
        technique = self.visit_pivot["technique"]
        events = self.adverse_events.assign(
            technique=technique.reindex(self.adverse_events["unit_id"]).to_numpy()
        )
        result: dict[str, pd.DataFrame | pd.Series] = {}
        for key, column, labels in (
            ("type", "kind", AdverseEventType.values),
            ("grade", "grade", ClavienDindo.values),
        ):
            patients = events.groupby(["technique", column], observed=True)["unit_id"].nunique()
            table = patients.unstack(column) if len(patients) else pd.DataFrame()
            table = table.reindex(index=self.techniques, columns=list(labels))
            result[key] = table.fillna(0).astype("int64")
        any_event = events.groupby("technique", observed=True)["unit_id"].nunique()
        result["any"] = any_event.reindex(self.techniques, fill_value=0).astype("int64")
        return result
