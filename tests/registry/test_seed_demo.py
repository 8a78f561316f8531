from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pandas as pd
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models, transaction
from django.db.models import Max, Min
from django.test import override_settings

from registry import derived
from registry.demo import DEFAULT_ANCHOR, MODELS, SYSTEM_USERNAME, demo_accounts
from registry.demo.users import PASSWORDS
from registry.models import (
    FollowUpVisit,
    Fracture,
    Patient,
    Procedure,
    RadiographicMeasurement,
    Role,
    Site,
    SiteMembership,
    Technique,
    TreatedLevel,
)
from registry.signals import clinical_data_changed
from tests.factories import PatientFactory

FAST_HASHER = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(patients: int = 60, seed: int = 7, **options) -> str:
    out = StringIO()
    call_command("seed_demo", patients=patients, seed=seed, stdout=out, **options)
    return out.getvalue()


def canonical_dump() -> dict[str, list[tuple]]:
    """Every clinical row without timestamps; ids relative to the first seeded row, and
    references to users, sites and techniques by name, so two databases compare equal."""
    base = {model: model.objects.aggregate(first=Min("id"))["first"] or 0 for model in MODELS}
    names = {
        get_user_model(): dict(get_user_model().objects.values_list("id", "username")),
        Site: dict(Site.objects.values_list("id", "code")),
        Technique: dict(Technique.objects.values_list("id", "code")),
    }
    dump = {}
    for model in MODELS:
        fields = [
            f for f in model._meta.concrete_fields if f.name not in ("created_at", "updated_at")
        ]
        rows = []
        for values in model.objects.order_by("id").values_list(*[f.attname for f in fields]):
            row = []
            for field, value in zip(fields, values, strict=True):
                if field.primary_key:
                    value -= base[model]
                elif field.is_relation and value is not None:
                    target = field.related_model
                    value = value - base[target] if target in base else names[target][value]
                row.append(value)
            rows.append(tuple(row))
        dump[model._meta.label] = rows
    return dump


def seeded_dump(**options) -> dict[str, list[tuple]]:
    """Seed into the empty database, dump, and roll back: the next run starts empty too."""
    with transaction.atomic():
        seed(**options)
        dump = canonical_dump()
        transaction.set_rollback(True)
    return dump


def test_the_same_seed_gives_the_same_rows_and_another_seed_does_not(db):
    first = seeded_dump(seed=7)
    assert Patient.objects.count() == 0
    again = seeded_dump(seed=7)
    other = seeded_dump(seed=8)

    assert len(first["registry.Patient"]) == 60
    assert first == again
    assert first["registry.Patient"] != other["registry.Patient"]
    assert first["registry.RadiographicMeasurement"] != other["registry.RadiographicMeasurement"]


def test_the_batch_size_does_not_change_the_rows(db):
    assert seeded_dump(patients=1050, batch_size=1000) == seeded_dump(
        patients=1050, batch_size=5000
    )


def test_seeded_rows_pass_full_clean_the_constraints_and_store_the_derived_values(db):
    seed(patients=60)
    connection.check_constraints()  # foreign keys too, which SQLite checks only at commit
    for model in MODELS:
        sample = list(model.objects.order_by("?")[:40])
        assert sample, model
        for record in sample:
            record.full_clean()
    for visit in FollowUpVisit.objects.all():
        stored = visit.odi_percent
        visit.refresh_derived()
        assert stored == (None if visit.odi_percent is None else Decimal(str(visit.odi_percent)))
    for film in RadiographicMeasurement.objects.all():
        stored = film.rfvh_percent
        film.refresh_derived()
        assert stored == (None if film.rfvh_percent is None else Decimal(str(film.rfvh_percent)))


def test_nothing_is_dated_after_the_anchor(db):
    anchor = date(2025, 3, 31)
    seed(patients=200, anchor=anchor)
    for model in MODELS:
        for field in model._meta.concrete_fields:
            if isinstance(field, models.DateField) and field.name not in (
                "created_at",
                "updated_at",
            ):
                latest = model.objects.aggregate(latest=Max(field.name))["latest"]
                if isinstance(latest, datetime):
                    latest = latest.date()
                assert latest is None or latest <= anchor, (model, field.name)


def test_every_seeded_row_has_its_history_row_by_the_system_user(db):
    seed(patients=60)
    system = get_user_model().objects.get(username=SYSTEM_USERNAME)
    assert not system.is_active
    assert not system.has_usable_password()
    for model in MODELS:
        history = model.history.model.objects
        assert history.count() == model.objects.count() > 0, model
        assert set(history.values_list("history_user_id", "history_type").distinct()) == {
            (system.pk, "+")
        }
        assert set(history.values_list("id", flat=True)) == set(
            model.objects.values_list("id", flat=True)
        )
    patient = Patient.objects.first()
    assert patient.history.get().registry_id == patient.registry_id


def test_the_seed_announces_the_change_of_every_site(db, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, *, site_id, user, **kwargs):
        received.append((site_id, user.username))

    clinical_data_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            seed(patients=20, sites=2)
    finally:
        clinical_data_changed.disconnect(receiver)
    assert sorted(received) == sorted(
        (pk, SYSTEM_USERNAME) for pk in Site.objects.values_list("pk", flat=True)
    )


def test_new_records_after_a_seed_get_fresh_ids(db):
    seed(patients=20)
    top = Patient.objects.aggregate(top=Max("id"))["top"]
    assert PatientFactory().pk > top


def test_if_empty_does_nothing_when_a_patient_exists(db):
    PatientFactory()
    output = seed(patients=50, if_empty=True)

    assert "exists" in output
    assert Patient.objects.count() == 1
    assert get_user_model().objects.filter(username="coordinator").exists()


def test_if_empty_seeds_an_empty_database(db):
    seed(patients=30, if_empty=True)
    assert Patient.objects.count() == 30


def test_an_anchor_in_the_future_is_refused(db):
    with pytest.raises(CommandError, match="future"):
        seed(anchor=date.today() + timedelta(days=2))


def test_demo_users_are_created_once_with_their_roles(db):
    seed(patients=0, sites=3)
    seed(patients=0, sites=3)
    users = get_user_model().objects
    codes = list(Site.objects.order_by("id").values_list("code", flat=True))

    assert len(codes) == 3
    for account in demo_accounts(codes):
        user = users.get(username=account.username)
        assert user.check_password(account.password)
        assert set(user.memberships.values_list("site__code", flat=True)) == set(account.site_codes)
    assert users.get(username="admin").is_superuser
    assert users.get(username="admin").check_password(PASSWORDS["admin"])
    assert (
        SiteMembership.objects.filter(user__username="coordinator", role=Role.COORDINATOR).count()
        == 3
    )
    assert users.filter(username__startswith="surgeon-").count() == 3


# -- a moderate cohort, seeded once for the calibration checks ---------------------------


@pytest.fixture(scope="module")
def cohort(django_db_setup, django_db_blocker) -> dict[str, pd.DataFrame]:
    """1,500 patients as DataFrames; the database is rolled back afterwards."""
    with django_db_blocker.unblock(), FAST_HASHER, transaction.atomic():
        seed(patients=1500, seed=3)
        frames = {
            "patients": pd.DataFrame(
                Procedure.objects.values(
                    "patient_id",
                    "date",
                    "technique__code",
                    "patient__date_of_birth",
                    "patient__sex",
                    "patient__site__code",
                    "patient__withdrawn_at",
                )
            ),
            "fractures": pd.DataFrame(
                Fracture.objects.values("patient_id", "level", "genant_grade", "aetiology")
            ),
            "levels": pd.DataFrame(
                TreatedLevel.objects.values(
                    "procedure_id",
                    "procedure__technique__code",
                    "leakage",
                    "devices_used",
                    "devices_ruptured",
                )
            ),
            "visits": pd.DataFrame(
                FollowUpVisit.objects.values(
                    "procedure_id",
                    "procedure__date",
                    "timepoint",
                    "visit_date",
                    "vas",
                )
            ),
            "films": pd.DataFrame(
                RadiographicMeasurement.objects.values(
                    "treated_level_id",
                    "visit__timepoint",
                    "rfvh_percent",
                    "lka_degrees",
                    "anterior_height_mm",
                    "visit__procedure__technique__code",
                )
            ),
        }
        transaction.set_rollback(True)
    return frames


def test_the_cohort_looks_like_the_published_ones(cohort):
    patients = cohort["patients"]
    age = patients.apply(lambda r: derived.age_at(r.patient__date_of_birth, r.date), axis=1)
    assert 64.5 < age.mean() < 67.5
    assert age.min() >= 46 and age.max() <= 90
    assert 0.69 < (patients.patient__sex == "F").mean() < 0.77
    assert set(patients.technique__code) == {"PVP", "PKP", "VESSELPLASTY", "VBS"}
    assert patients.patient__site__code.nunique() == 4

    fractures = cohort["fractures"]
    assert fractures.level.value_counts().index[0] == "L1"
    assert 0.3 < (fractures.level == "L1").mean() < 0.48
    assert fractures.level.isin(["T11", "T12", "L1", "L2"]).mean() > 0.6
    assert 0.55 < (fractures.groupby("patient_id").size() == 1).mean() < 0.65
    assert set(fractures.genant_grade) == {1, 2, 3}
    assert 0 < (fractures.aetiology != "osteoporotic").mean() < 0.03


def test_leakage_and_rupture_follow_the_techniques(cohort):
    levels = cohort["levels"].rename(columns={"procedure__technique__code": "technique"})
    leaked = (levels.leakage != "none").groupby([levels.technique, levels.procedure_id]).any()
    rate = leaked.groupby("technique").mean()
    assert rate["VESSELPLASTY"] < rate["PVP"] < rate["PKP"]
    assert rate["VESSELPLASTY"] < rate["VBS"] < rate["PKP"]
    devices = levels.groupby("technique")[["devices_used", "devices_ruptured"]].sum()
    assert devices.loc["PVP", "devices_used"] == 0
    assert devices.loc["VBS", "devices_ruptured"] > devices.loc["PKP", "devices_ruptured"]


def test_height_is_restored_except_with_vertebroplasty(cohort):
    films = cohort["films"].rename(columns={"visit__procedure__technique__code": "technique"})
    films["rfvh"] = films.rfvh_percent.astype(float)
    films["lka"] = films.lka_degrees.astype(float)
    films["anterior"] = films.anterior_height_mm.astype(float)
    wide = films.pivot_table(
        index=["technique", "treated_level_id"],
        columns="visit__timepoint",
        values=["rfvh", "lka", "anterior"],
    )
    change = (
        (wide.xs("12w", axis=1, level=1) - wide.xs("baseline", axis=1, level=1))
        .groupby("technique")
        .mean()
    )
    baseline = wide.xs("baseline", axis=1, level=1).groupby("technique").mean()

    assert abs(change.loc["PVP", "rfvh"]) < 3 and abs(change.loc["PVP", "lka"]) < 2
    assert change.loc["PKP", "rfvh"] > 4
    assert change.loc["VESSELPLASTY", "rfvh"] > 18 and change.loc["VESSELPLASTY", "lka"] < -10
    assert change.loc["VBS", "rfvh"] > change.loc["PKP", "rfvh"]
    assert 52 < baseline.loc["VESSELPLASTY", "rfvh"] < 60
    assert 26 < baseline.loc["PKP", "anterior"] < 29.5
    assert 2 < change.loc["PKP", "anterior"] < 3.5


def test_pain_falls_and_follow_up_thins_out(cohort):
    visits = cohort["visits"]
    vas = visits.assign(vas=visits.vas.astype(float)).groupby("timepoint").vas.mean()
    assert vas["baseline"] > 8 and 2 < vas["2w"] < 3.2 and 1.3 < vas["12w"] < 2.4

    patients = len(cohort["patients"])
    per_timepoint = visits.timepoint.value_counts()
    assert per_timepoint["baseline"] == patients
    assert per_timepoint["baseline"] > per_timepoint["2w"] > per_timepoint["12w"]
    assert 0 < per_timepoint.get("unscheduled", 0) < 0.1 * patients

    assert (visits.visit_date <= DEFAULT_ANCHOR).all()
    one_year = visits[visits.timepoint == "1y"]
    assert (one_year.visit_date - one_year.procedure__date).min().days >= 240
    days = (visits.visit_date - visits.procedure__date).apply(lambda d: d.days)
    windows = [
        derived.visit_window(tp, date(2000, 1, 1), date(2000, 1, 1) + timedelta(days=d))
        for tp, d in zip(visits.timepoint, days, strict=True)
    ]
    out = sum(w.status in ("early", "late") for w in windows) / len(visits)
    assert 0.005 < out < 0.06
