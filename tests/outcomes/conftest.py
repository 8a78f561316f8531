"""Fixtures for the outcomes app: eager Celery, and a builder for whole clinical cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest

from outcomes.selectors import Scope
from outcomes.services import run_request
from registry.celery import app as celery_app
from registry.models import Procedure, Site, Technique
from tests.conftest import add_reference_techniques
from tests.factories import (
    FractureFactory,
    PatientFactory,
    ProcedureFactory,
    RadiographFactory,
    TreatedLevelFactory,
    VisitFactory,
)

DAYS = {"baseline": -1, "2w": 14, "12w": 84, "1y": 365}


@pytest.fixture(autouse=True)
def eager_celery(request):
    """Tasks run in-process, whatever CELERY_BROKER_URL says (the worker test opts out)."""
    if request.node.get_closest_marker("worker"):
        yield
        return
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@dataclass
class Level:
    """One treated vertebra: its fracture, what happened, and its films per timepoint."""

    level: str = "L1"
    genant: int = 3
    aetiology: str = "osteoporotic"
    leakage: str = "none"
    leakage_location: str = ""
    cement: Decimal | None = Decimal("4.5")
    devices_used: int = 2
    devices_ruptured: int = 0
    # timepoint -> (anterior, above, below, lka); RFVH = anterior / mean(above, below)
    films: dict[str, tuple] = field(
        default_factory=lambda: {
            "baseline": (Decimal("18.0"), Decimal("26.0"), Decimal("28.0"), Decimal("20.0")),
            "12w": (Decimal("24.0"), Decimal("26.0"), Decimal("28.0"), Decimal("12.0")),
        }
    )


def make_case(
    *,
    site: Site,
    technique: str = "PKP",
    born: date = date(1950, 5, 17),
    operated: date = date(2024, 1, 15),
    sex: str = "F",
    vas: dict[str, str | None] | None = None,
    levels: list[Level] | None = None,
    procedure_fields: dict | None = None,
    **patient_fields,
) -> Procedure:
    """A patient with one procedure, its treated levels, visits and radiographs.

    `vas` maps timepoints to VAS values (a visit per key); radiographs are taken at the
    visits whose timepoint a level lists in `films`.
    """
    vas = {"baseline": "8.0", "12w": "2.0"} if vas is None else vas
    levels = [Level()] if levels is None else levels
    patient = PatientFactory(site=site, date_of_birth=born, sex=sex, **patient_fields)
    procedure = ProcedureFactory(
        patient=patient,
        date=operated,
        technique=Technique.objects.get(code=technique),
        **(procedure_fields or {}),
    )
    treated = []
    for spec in levels:
        fracture = FractureFactory(
            patient=patient, level=spec.level, genant_grade=spec.genant, aetiology=spec.aetiology
        )
        treated.append(
            TreatedLevelFactory(
                procedure=procedure,
                fracture=fracture,
                cement_volume_ml=spec.cement,
                leakage=spec.leakage,
                leakage_location=spec.leakage_location,
                devices_used=spec.devices_used,
                devices_ruptured=spec.devices_ruptured,
            )
        )
    timepoints = set(vas) | {tp for spec in levels for tp in spec.films}
    for timepoint in sorted(timepoints, key=list(DAYS).index):
        value = vas.get(timepoint)
        visit = VisitFactory(
            procedure=procedure,
            timepoint=timepoint,
            visit_date=operated + timedelta(days=DAYS[timepoint]),
            vas=None if value is None else Decimal(value),
        )
        for spec, level in zip(levels, treated, strict=True):
            if timepoint in spec.films:
                anterior, above, below, lka = spec.films[timepoint]
                RadiographFactory(
                    visit=visit,
                    treated_level=level,
                    anterior_height_mm=anterior,
                    above_anterior_height_mm=above,
                    below_anterior_height_mm=below,
                    lka_degrees=lka,
                )
    return procedure


@pytest.fixture
def case():
    return make_case


# Written by migrations and needed by every test: a committed-data test leaves them.
MIGRATION_TABLES = {
    "django_migrations",
    "django_content_type",
    "auth_permission",
    "registry_technique",
}


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker):
    """Rows committed for real, so that another connection or a worker process sees them,
    emptied afterwards except what migrations wrote. (pytest-django's transactional flush
    would also delete the techniques that tests run later, outside any test transaction,
    rely on.) PostgreSQL only: it truncates. pytest-django creates the test database only
    for sessions with a database test, so a module using this holds one too."""
    from django.db import connection, transaction

    from registry.audit import TRUNCATE_SETTING

    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.skip("committed-data tests run on PostgreSQL")
        if not connection.settings_dict["NAME"].startswith("test_"):
            pytest.fail("the test database is not set up: refusing to write elsewhere")
        # pytest-django runs these (no django_db mark) after the transactional tests, whose
        # flushes empty the techniques too: put them back as every database test does.
        if not Technique.objects.exists():
            add_reference_techniques()
        try:
            yield
        finally:
            tables = [
                connection.ops.quote_name(table)
                for table in connection.introspection.django_table_names(only_existing=True)
                if table not in MIGRATION_TABLES
            ]
            with transaction.atomic(), connection.cursor() as cursor:
                # The access log refuses TRUNCATE unless the transaction says (migration 0008).
                cursor.execute("SELECT set_config(%s, 'on', true)", [TRUNCATE_SETTING])
                cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


@pytest.fixture
def ask(django_capture_on_commit_callbacks):
    """run_request, then the commit: the task it queued runs (eagerly) as in production."""

    def ask(user, cohort, analysis="table1", **parameters):
        with django_capture_on_commit_callbacks(execute=True):
            asked = run_request(user=user, cohort=cohort, analysis=analysis, parameters=parameters)
        asked.run.refresh_from_db()
        return asked

    return ask


@pytest.fixture
def everywhere(db):
    """The scope of every site (a superuser's)."""

    def scope() -> Scope:
        return Scope.of(Site.objects.values_list("pk", flat=True))

    return scope
