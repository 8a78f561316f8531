"""The SQL of each exported table, built from the dictionary, run by the database.

Every column is an expression over the export's subjects (`outcomes_exportsubject`: one row
per patient with the index procedure, the pseudonym and the date offset) joined to the
clinical tables. The database computes the derived values, the follow-up status, the
relative days and the labels, so on PostgreSQL a table leaves as `COPY (...) TO STDOUT` with
no Python object per value; SQLite runs the same statement through a cursor.
Wide joins each scheduled timepoint's visit once (one per procedure and timepoint) and that
vertebra's radiograph at it (one per visit and vertebra): no grouping is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from django.apps import apps

from outcomes.dictionary import Kind, Level, Variable
from outcomes.dictionary.tables import MAX_AGE, TIMEPOINTS
from registry.derived import WINDOWS

_ALIASES = {
    "Patient": "pt",
    "Procedure": "p",
    "Site": "si",
    "Technique": "t",
    "Fracture": "f",
    "TreatedLevel": "tl",
    "AdverseEvent": "ae",
    "FollowUpVisit": "v",
    "RadiographicMeasurement": "r",
}
_PER_VISIT = ("FollowUpVisit", "RadiographicMeasurement")


def _table(model: str) -> str:
    return apps.get_model("registry", model)._meta.db_table


@dataclass
class Query:
    """One table's statement for one export: its SQL and parameters, in column order."""

    table: str
    variables: tuple[Variable, ...]
    sql: str
    params: list[Any] = field(default_factory=list)
    count_sql: str = ""  # the number of rows, without computing a value
    count_params: list[Any] = field(default_factory=list)
    widths_sql: str = ""  # the widest value of each text column, in UTF-8 bytes
    widths_params: list[Any] = field(default_factory=list)


class Dialect:
    """The few expressions PostgreSQL and SQLite spell differently."""

    def __init__(self, vendor: str):
        self.postgres = vendor == "postgresql"

    def days_between(self, later: str, earlier: str) -> str:
        if self.postgres:
            return f"({later} - {earlier})"
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"

    def add_days(self, day: str, days: str) -> str:
        if self.postgres:
            return f"({day} + {days})"
        return f"date({day}, '+' || {days} || ' days')"

    def year(self, day: str) -> str:
        if self.postgres:
            return f"CAST(EXTRACT(YEAR FROM {day}) AS integer)"
        return f"CAST(strftime('%%Y', {day}) AS INTEGER)"

    def age(self, on: str, born: str) -> str:
        if self.postgres:
            return f"CAST(date_part('year', age({on}, {born})) AS integer)"
        return (
            f"({self.year(on)} - {self.year(born)}"
            f" - (strftime('%%m-%%d', {on}) < strftime('%%m-%%d', {born})))"
        )

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.postgres else f"MIN({a}, {b})"

    def real(self, value: str) -> str:
        return value if self.postgres else f"CAST({value} AS REAL)"

    def as_date(self, timestamp: str) -> str:
        return f"CAST({timestamp} AS date)" if self.postgres else f"date({timestamp})"

    def param_date(self) -> str:
        return "CAST(%s AS date)" if self.postgres else "%s"

    def octets(self, text: str) -> str:
        """The length of a text in UTF-8 bytes (SQLite's length() counts characters)."""
        return f"octet_length({text})" if self.postgres else f"length(CAST({text} AS BLOB))"


@dataclass
class Context:
    dialect: Dialect
    level: Level
    as_of: date
    labelled: bool = False
    table: str = ""
    params: list[Any] = field(default_factory=list)

    def alias(self, variable: Variable) -> str:
        alias = _ALIASES[variable.model]
        if variable.model in _PER_VISIT and variable.timepoint:
            return f"{alias}_{variable.timepoint}"
        return alias

    def column(self, variable: Variable) -> str:
        return f"{self.alias(variable)}.{variable.field}"

    def visit(self, variable: Variable) -> str:
        return f"v_{variable.timepoint}" if variable.timepoint else "v"


def _status(v: Variable, c: Context) -> str:
    """registry.followup.followup_status in SQL (tests pin it to the Python function)."""
    d = c.dialect
    visit = c.visit(v)
    day = d.days_between(f"{visit}.visit_date", "p.date")

    def window_check(timepoint: str) -> str:
        w = WINDOWS[timepoint]
        return (
            f"CASE WHEN {day} BETWEEN {w.start} AND {w.end} "
            "THEN 'in_window' ELSE 'out_of_window' END"
        )

    if not v.timepoint:  # long: the visit's own timepoint; unscheduled visits have none
        branches = " ".join(
            f"WHEN {visit}.timepoint = '{tp}' THEN {window_check(tp)}" for tp in TIMEPOINTS
        )
        return f"CASE {branches} END"
    end = WINDOWS[v.timepoint].end
    c.params += [c.as_of, c.as_of]
    as_of_day = d.days_between(d.param_date(), "p.date")
    withdrawn_day = d.days_between(d.as_date("pt.withdrawn_at"), "p.date")
    return (
        f"CASE WHEN {visit}.id IS NOT NULL THEN {window_check(v.timepoint)} "
        f"WHEN pt.withdrawn_at IS NOT NULL AND {withdrawn_day} <= {end} "
        f"AND {withdrawn_day} <= {as_of_day} THEN 'withdrawn' "
        f"WHEN {d.days_between(d.param_date(), 'p.date')} > {end} THEN 'missing' "
        "ELSE 'not_due' END"
    )


def _age(v: Variable, c: Context) -> str:
    age = c.dialect.age("p.date", "pt.date_of_birth")
    return age if c.level is Level.IDENTIFIED else c.dialect.least(age, str(MAX_AGE))


def _bmi(v: Variable, c: Context) -> str:
    d = c.dialect
    metres = f"({d.real('pt.height_cm')} / 100.0)"
    return f"ROUND({d.real('pt.weight_kg')} / ({metres} * {metres}), 1)"


def _film(v: Variable) -> Variable:
    return replace(v, model="RadiographicMeasurement")


def _beck(v: Variable, c: Context) -> str:
    r = c.alias(_film(v))
    d = c.dialect
    return f"ROUND({d.real(f'{r}.anterior_height_mm')} / {d.real(f'{r}.posterior_height_mm')}, 3)"


_COMPUTE: dict[str, Callable[[Variable, Context], str]] = {
    "pseudonym": lambda v, c: "s.pseudonym",
    "age": _age,
    "bmi": _bmi,
    "procedure_year": lambda v, c: c.dialect.year("p.date"),
    "shifted_date": lambda v, c: c.dialect.add_days(c.column(v), "s.shift_days"),
    "days_after_procedure": lambda v, c: c.dialect.days_between(c.column(v), "p.date"),
    "site_code": lambda v, c: "si.code",
    "technique_code": lambda v, c: "t.code",
    "region": lambda v, c: "CASE WHEN f.level LIKE 'T%%' THEN 'thoracic' ELSE 'lumbar' END",
    "n_levels": lambda v, c: (
        "COUNT(*) OVER (PARTITION BY p.id)"  # the rows are the procedure's treated levels
        if c.table == "wide"
        else f"(SELECT COUNT(*) FROM {_table('TreatedLevel')} n WHERE n.procedure_id = p.id)"  # noqa: S608
    ),
    "followup_status": _status,
    "height_loss": lambda v, c: f"(100 - {c.alias(_film(v))}.rfvh_percent)",
    "beck_index": _beck,
    "event_vertebra": lambda v, c: "f.level",
}


def expression(v: Variable, c: Context) -> str:
    if v.compute:
        sql = _COMPUTE[v.compute](v, c)
    else:
        sql = c.column(v)
        if v.kind in (Kind.CODE, Kind.TEXT):
            sql = f"NULLIF({sql}, '')"  # a blank choice is "not recorded": missing
    if v.kind is Kind.BOOLEAN:
        sql = f"CASE WHEN {sql} THEN 1 WHEN NOT {sql} THEN 0 END"
    if v.kind is Kind.DECIMAL and not c.dialect.postgres and not v.compute:
        sql = c.dialect.real(sql)
    if c.labelled and v.codes and v.kind in (Kind.CODE, Kind.BOOLEAN):
        whens = " ".join("WHEN %s THEN %s" for _ in v.codes)
        for code, label in v.codes:
            c.params += [int(code) if v.kind is Kind.BOOLEAN else code, label]
        sql = f"CASE {sql} {whens} END"
    return sql


def _joins(name: str) -> tuple[str, str]:
    """FROM ... and ORDER BY of a table (every table starts at the export's subjects)."""
    subjects = apps.get_model("outcomes", "ExportSubject")._meta.db_table
    base = (
        f"{subjects} s"
        f" JOIN {_table('Procedure')} p ON p.id = s.procedure_id"
        f" JOIN {_table('Patient')} pt ON pt.id = s.patient_id"
        f" JOIN {_table('Site')} si ON si.id = pt.site_id"
        f" JOIN {_table('Technique')} t ON t.id = p.technique_id"
    )
    levels = (
        f" JOIN {_table('TreatedLevel')} tl ON tl.procedure_id = p.id"
        f" JOIN {_table('Fracture')} f ON f.id = tl.fracture_id"
    )
    visits, films = _table("FollowUpVisit"), _table("RadiographicMeasurement")
    if name in ("patients", "procedures"):
        return base, "s.pseudonym"
    if name == "wide":
        per_timepoint = "".join(
            f" LEFT JOIN {visits} v_{tp} ON v_{tp}.procedure_id = p.id"
            f" AND v_{tp}.timepoint = '{tp}'"
            f" LEFT JOIN {films} r_{tp} ON r_{tp}.visit_id = v_{tp}.id"
            f" AND r_{tp}.treated_level_id = tl.id"
            for tp in TIMEPOINTS
        )
        return base + levels + per_timepoint, "s.pseudonym, tl.id"
    if name == "long":
        join = (
            f" JOIN {visits} v ON v.procedure_id = p.id"
            f" LEFT JOIN {films} r ON r.visit_id = v.id AND r.treated_level_id = tl.id"
        )
        return base + levels + join, "s.pseudonym, tl.id, v.visit_date, v.id"
    if name == "adverse_events":
        join = (
            f" JOIN {_table('AdverseEvent')} ae ON ae.procedure_id = p.id"
            f" LEFT JOIN {_table('TreatedLevel')} tl ON tl.id = ae.treated_level_id"
            f" LEFT JOIN {_table('Fracture')} f ON f.id = tl.fracture_id"
        )
        return base + join, "s.pseudonym, ae.onset_date, ae.id"
    raise ValueError(f"unknown table {name!r}")


# Per statement on PostgreSQL: the wide table's hash joins and its sort fit in memory.
SESSION_SETTINGS = ("SET LOCAL work_mem = '64MB'", "SET LOCAL jit = off")


def build_query(
    name: str,
    variables: tuple[Variable, ...],
    *,
    export_id: int,
    vendor: str,
    level: Level,
    as_of: date,
    labelled: bool = False,
) -> Query:
    c = Context(Dialect(vendor), level, as_of, labelled=labelled, table=name)
    selected = ", ".join(f'{expression(v, c)} AS "{v.name}"' for v in variables)
    joins, order = _joins(name)
    # Only table names and the dictionary's own expressions are spliced; values are parameters.
    sql = f"SELECT {selected} FROM {joins} WHERE s.export_id = %s ORDER BY {order}"  # noqa: S608
    count = f"SELECT COUNT(*) FROM {joins} WHERE s.export_id = %s"  # noqa: S608
    query = Query(name, variables, sql, [*c.params, export_id], count, [export_id])
    texts = [v for v in variables if v.kind is Kind.TEXT]
    if texts:  # SPSS and Stata strings have a fixed width, measured before the rows are read
        w = Context(Dialect(vendor), level, as_of, table=name)
        widest = ", ".join(f"MAX({w.dialect.octets(expression(v, w))})" for v in texts)
        query.widths_sql = f"SELECT {widest} FROM {joins} WHERE s.export_id = %s"  # noqa: S608
        query.widths_params = [*w.params, export_id]
    return query
