"""The analysis frames hold what the factories wrote, pivoted and collapsed as documented."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.db.models import F

from outcomes import cohorts
from outcomes.selectors import CohortData
from outcomes.selectors.cases import age_at_procedure
from outcomes.selectors.sql import _copy_frame, coerce
from registry.models import AdverseEvent, Patient
from tests.outcomes.conftest import Level, make_case

pytestmark = pytest.mark.django_db
NO_RULES = dict.fromkeys(cohorts.RULE_FIELDS, False)


def film(anterior: str, lka: str = "15.0") -> tuple:
    return (Decimal(anterior), Decimal("26.0"), Decimal("30.0"), Decimal(lka))  # ref 28 mm


@pytest.fixture
def built(site_a, site_b):
    one = make_case(
        site=site_a,
        technique="PKP",
        born=date(1950, 6, 1),
        operated=date(2024, 1, 15),
        sex="F",
        height_cm=Decimal("160.0"),
        weight_kg=Decimal("64.0"),
        vas={"baseline": "8.5", "2w": "3.0", "12w": "2.0"},
        levels=[
            Level(
                "T12",
                3,
                leakage="B",
                films={"baseline": film("14.0", "20.0"), "12w": film("21.0", "12.0")},
            ),
            Level("L1", 2, cement=None, films={"baseline": film("21.0", "10.0")}),
        ],
    )
    two = make_case(
        site=site_b,
        technique="PVP",
        born=date(1940, 2, 1),
        operated=date(2023, 5, 2),
        sex="M",
        height_cm=None,
        vas={"baseline": "9.0", "1y": "1.0"},
        levels=[Level("L3", 1, devices_used=0, films={"baseline": film("22.4")})],
    )
    for event_type, grade in (("adjacent_fracture", "III"), ("other", "I")):
        AdverseEvent.objects.create(
            procedure=two, event_type=event_type, clavien_dindo=grade, onset_date=two.date
        )
    return one, two


@pytest.fixture
def data(built, everywhere):
    return CohortData(filters={}, rules=NO_RULES, scope=everywhere())


def test_wide_has_one_row_per_case_and_a_column_per_outcome_and_timepoint(built, data):
    one, two = built
    wide = data.wide
    assert list(wide.index) == [one.pk, two.pk]
    assert list(wide["technique"]) == ["PKP", "PVP"]
    assert wide.loc[one.pk, ["vas_baseline", "vas_2w", "vas_12w"]].tolist() == [8.5, 3.0, 2.0]
    assert np.isnan(wide.loc[one.pk, "vas_1y"])
    assert wide.loc[two.pk, "vas_1y"] == 1.0
    # Radiographs are averaged over the treated vertebrae filmed at that visit.
    assert wide.loc[one.pk, "rfvh_baseline"] == pytest.approx((50.0 + 75.0) / 2)
    assert wide.loc[one.pk, "rfvh_12w"] == pytest.approx(75.0)  # only T12 filmed at 12 weeks
    assert wide.loc[one.pk, "body_height_baseline"] == pytest.approx((1.4 + 2.1) / 2)  # cm
    assert wide.loc[one.pk, "lka_baseline"] == pytest.approx(15.0)
    assert np.isnan(wide.loc[two.pk, "rfvh_2w"])


def test_cases_collapse_levels_and_carry_the_baseline(built, data):
    one, two = built
    cases = data.cases.set_index("unit_id")
    first, second = cases.loc[one.pk], cases.loc[two.pk]
    assert (first["age"], first["sex"], first["technique"]) == (73, "F", "PKP")
    assert first["bmi"] == pytest.approx(64 / 1.6**2)
    assert np.isnan(second["bmi"])  # height not recorded
    assert (first["n_levels"], first["levels"], first["region"]) == (2, "multi", "both")
    assert (second["levels"], second["region"]) == ("single", "lumbar")
    assert (first["genant_grade"], second["genant_grade"]) == (3, 1)
    assert np.isnan(first["cement_volume_ml"])  # one level's volume was not recorded
    assert second["cement_volume_ml"] == pytest.approx(4.5)
    assert bool(first["leaked"]) and not bool(second["leaked"])
    assert (first["baseline_vas"], second["baseline_vas"]) == (8.5, 9.0)
    assert first["operation_time_min"] == 45


def test_the_long_frame_has_every_case_at_every_timepoint(built, data):
    long = data.outcome_long("vas")
    assert len(long) == 2 * 4
    assert set(long.columns) == {"unit_id", "group", "timepoint", "value"}
    assert int(long["value"].isna().sum()) == 3


def test_counts_per_technique_come_aggregated(built, data):
    levels = data.level_counts
    assert levels.loc["PKP", ["n_levels", "leaked_levels", "yeom_B", "yeom_S"]].tolist() == [
        2,
        1,
        1,
        0,
    ]
    assert levels.loc["PKP", "devices_used"] == 4
    assert levels.loc["PVP", "devices_used"] == 0
    events = data.adverse_event_counts
    assert events["type"].loc["PVP", "adjacent_fracture"] == 1
    assert events["grade"].loc["PVP", "III"] == 1
    assert events["any"].to_dict() == {"PKP": 0, "PVP": 1}  # patients, not events
    assert data.patients_per_technique.to_dict() == {"PKP": 1, "PVP": 1}


def test_the_data_version_moves_with_any_read_row(built, data, everywhere):
    one, _ = built
    before = data.version()
    assert CohortData(filters={}, rules=NO_RULES, scope=everywhere()).version() == before
    visit = one.visits.get(timepoint="2w")
    visit.vas = Decimal("4.0")
    visit.save()
    after_edit = CohortData(filters={}, rules=NO_RULES, scope=everywhere()).version()
    assert after_edit != before
    visit.delete()
    assert CohortData(filters={}, rules=NO_RULES, scope=everywhere()).version() != after_edit


def test_the_version_collected_while_reading_equals_the_one_asked_for(built, data, everywhere):
    data.read(["visit_pivot"], behind=["film_pivot", "cases", "adverse_events"])
    assert set(data._figures) == {
        "procedures",
        "patients",
        "levels",
        "fractures",
        "visits",
        "films",
        "events",
    }
    asked = CohortData(filters={}, rules=NO_RULES, scope=everywhere())
    assert data.version() == asked.version()
    assert not asked._figures  # it asked the database, reading no frame


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_copy_and_plain_reads_give_the_same_frame(built, data):
    schema = {
        "unit_id": "id",
        "technique_code": "category",
        "age": "int",
        "bmi": "float",
        "corticosteroid_use": "bool",
    }
    rows = (
        data.case_queryset.annotate(
            unit_id=F("pk"),
            technique_code=F("technique__code"),
            age=age_at_procedure(),
            bmi=F("patient__weight_kg"),
            corticosteroid_use=F("patient__corticosteroid_use"),
        )
        .order_by("pk")
        .values_list(*schema)
    )
    copied = coerce(_copy_frame(rows, schema), schema)
    plain = coerce(pd.DataFrame.from_records(list(rows), columns=list(schema)), schema)
    pd.testing.assert_frame_equal(copied, plain)


def test_a_visit_outside_the_scheduled_timepoints_is_not_a_timepoint(built, data):
    from tests.factories import VisitFactory

    one, _ = built
    VisitFactory(
        procedure=one,
        timepoint="unscheduled",
        visit_date=one.date + timedelta(days=40),
        vas=Decimal("6.0"),
    )
    fresh = CohortData(filters={}, rules=NO_RULES, scope=data.scope)
    assert fresh.wide.loc[one.pk, "vas_2w"] == 3.0
    assert len(fresh.outcome_long("vas")) == 8


@pytest.mark.parametrize("rules", [NO_RULES, dict.fromkeys(cohorts.RULE_FIELDS, True)])
def test_whole_tables_and_filtered_reads_give_the_same_frames(built, site_a, rules, everywhere):
    """A registry-wide cohort reads whole tables and keeps its rows by id; a narrow one
    filters in SQL. Both give the same frames and data version, whatever the rules keep
    out (here: a withdrawn patient, and, with the rules on, cases they exclude)."""
    gone = make_case(site=site_a, technique="VBS", levels=[Level("L2", 2, leakage="S")])
    withdrawn_at = datetime.combine(gone.date, datetime.min.time(), tzinfo=UTC)
    Patient.objects.filter(pk=gone.patient_id).update(withdrawn_at=withdrawn_at)
    AdverseEvent.objects.create(
        procedure=gone, event_type="other", clavien_dindo="I", onset_date=gone.date
    )
    read = {}
    for whole in (True, False):
        data = CohortData(filters={}, rules=rules, scope=everywhere())
        data._whole = whole
        read[whole] = data
    for name in ("visit_pivot", "film_levels", "cases", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(read[True], name), getattr(read[False], name))
    assert read[True].version() == read[False].version()
    assert read[True].case_ids == read[False].case_ids


@pytest.fixture
def varied(built, site_a, site_b):
    """Cases each inclusion rule keeps or leaves out, at its boundary where it has one; a
    later and a same-day second procedure (not index); withdrawn patients, one with no
    treated level."""
    from tests.factories import ProcedureFactory

    one, two = built
    make_case(site=site_a, born=date(1990, 1, 1), vas={"baseline": "9.0"})  # too young
    make_case(site=site_a, born=date(1974, 1, 15), operated=date(2024, 1, 15))  # just 50
    make_case(site=site_b, born=date(1974, 1, 16), operated=date(2024, 1, 15))  # just 49
    make_case(site=site_b, vas={"baseline": "4.9"})
    make_case(site=site_b, vas={"baseline": "5.0"})
    make_case(site=site_a, vas={"baseline": None})
    make_case(site=site_a, levels=[Level("L2", 2, films={"baseline": film("22.4")})])  # RFVH 80
    make_case(site=site_a, levels=[Level("L2", 2, films={"baseline": film("23.0")})])  # 82
    make_case(site=site_b, levels=[Level("L3", 2, films={"12w": film("14.0")})])  # no baseline
    make_case(site=site_b, levels=[Level("L4", 2, aetiology="tumour")])
    ProcedureFactory(patient=one.patient, date=one.date + timedelta(days=90))
    ProcedureFactory(patient=two.patient, date=two.date, technique=two.technique)
    for case in (
        make_case(site=site_a, technique="VBS", levels=[Level("L2", 2)]),
        make_case(site=site_b, technique="PVP", levels=[]),
    ):
        withdrawn_at = datetime.combine(case.date, datetime.min.time(), tzinfo=UTC)
        Patient.objects.filter(pk=case.patient_id).update(withdrawn_at=withdrawn_at)
    return one, two


@pytest.mark.parametrize(
    "rules",
    [
        NO_RULES,
        *({**NO_RULES, rule: True} for rule in cohorts.RULE_FIELDS),
        dict.fromkeys(cohorts.RULE_FIELDS, True),
    ],
)
@pytest.mark.parametrize("one_site", [False, True])
def test_the_selection_of_whole_tables_is_the_sql_selection(varied, site_a, rules, one_site):
    """For whole tables the cohort (and its withdrawn cases) is selected in numpy from the
    raw rows: the same cases, case rows and withdrawn frame as the SQL selection."""
    from outcomes.selectors import Scope
    from registry.models import Site

    sites = [site_a.pk] if one_site else list(Site.objects.values_list("pk", flat=True))
    read = {}
    for whole in (True, False):
        data = CohortData(filters={}, rules=rules, scope=Scope.of(sites))
        data._whole = whole
        read[whole] = data
    assert read[True].case_ids == read[False].case_ids
    assert read[True].case_ids  # the rules leave cases in
    for name in ("case_rows", "withdrawn"):
        pd.testing.assert_frame_equal(read[True]._value(name), read[False]._value(name))
    assert len(read[False].withdrawn)  # the definition has withdrawn cases to count


@pytest.mark.parametrize("latest_rows", [1, 200])
def test_whole_tables_find_the_latest_update_of_the_rows_kept(
    varied, everywhere, monkeypatch, latest_rows
):
    """Whole tables read no timestamp per row: the data version takes the latest of the
    rows kept from the tables' latest rows, or asks the database when none of those was
    kept (here with one latest row, when a withdrawn patient's rows are the latest)."""
    from django.utils import timezone

    from outcomes.selectors import fingerprint
    from registry.models import (
        FollowUpVisit,
        Fracture,
        Procedure,
        RadiographicMeasurement,
        TreatedLevel,
    )

    monkeypatch.setattr(fingerprint, "LATEST_ROWS", latest_rows)
    gone = Procedure.objects.get(technique__code="VBS", patient__withdrawn_at__isnull=False)
    AdverseEvent.objects.create(
        procedure=gone, event_type="other", clavien_dindo="I", onset_date=gone.date
    )
    later = timezone.now() + timedelta(hours=1)
    touched = (
        (Patient, "pk"),
        (Procedure, "patient_id"),
        (TreatedLevel, "procedure__patient_id"),
        (Fracture, "patient_id"),
        (FollowUpVisit, "procedure__patient_id"),
        (RadiographicMeasurement, "visit__procedure__patient_id"),
        (AdverseEvent, "procedure__patient_id"),
    )

    def versions() -> set[str]:
        found = set()
        for whole in (True, False):
            data = CohortData(filters={}, rules=NO_RULES, scope=everywhere())
            data._whole = whole
            for name in ("visit_pivot", "film_levels", "cases", "adverse_events"):
                getattr(data, name)
            found.add(data.version())
        asked = CohortData(filters={}, rules=NO_RULES, scope=everywhere())
        found.add(asked.version())
        assert not asked._figures
        return found

    for model, path in touched:
        model.objects.filter(**{path: gone.patient_id}).update(updated_at=later)
    before = versions()
    assert len(before) == 1  # whole tables, filtered reads and the standalone figures
    kept, _ = varied
    FollowUpVisit.objects.filter(procedure=kept).update(updated_at=later + timedelta(hours=1))
    after = versions()
    assert len(after) == 1
    assert after != before  # a kept visit's edit moves it


def test_ages_count_birthdays_as_the_calendar_does():
    """`whole_years` in integer day arithmetic: every birthday, leap days included, as
    Python's dates count them (a 29 February birthday comes on 1 March in other years)."""
    from outcomes.selectors.frames import whole_years

    epoch = date(1970, 1, 1)
    pairs = [
        (date(1952, 2, 29), date(2024, 2, 28)),
        (date(1952, 2, 29), date(2024, 2, 29)),
        (date(1952, 2, 29), date(2023, 2, 28)),
        (date(1952, 2, 29), date(2023, 3, 1)),
        (date(1899, 12, 31), date(2000, 1, 1)),
        (date(1950, 6, 1), date(2024, 5, 31)),
        (date(1950, 6, 1), date(2024, 6, 1)),
        (date(1600, 3, 1), date(2400, 2, 29)),
    ]
    rng = np.random.default_rng(7)
    for _ in range(2000):
        born = epoch + timedelta(days=int(rng.integers(-60000, 20000)))
        pairs.append((born, born + timedelta(days=int(rng.integers(0, 40000)))))
    born_days = np.array([(b - epoch).days for b, _ in pairs], dtype=float)
    on_days = np.array([(d - epoch).days for _, d in pairs], dtype=float)
    expected = [d.year - b.year - ((d.month, d.day) < (b.month, b.day)) for b, d in pairs]
    assert whole_years(born_days, on_days).tolist() == expected
    born_days[0] = np.nan
    assert np.isnan(whole_years(born_days, on_days)[0])


def test_procedures_and_levels_come_with_their_patients_and_fractures(built):
    """The procedures and their patients, the levels and their fractures, are read as
    separate statements and joined by id here: each row carries its own patient's and
    fracture's values, and a category present only on a patient without a case (here a
    smoking status) is not among the frame's categories."""
    from django.db.models import Q

    from outcomes.selectors import frames
    from registry.models import Procedure, TreatedLevel
    from tests.factories import PatientFactory

    one, two = built
    assert "former" not in {one.patient.smoking, two.patient.smoking}
    PatientFactory(site=one.patient.site, smoking="former", sex="M")  # no procedure
    everything = lambda path: Q()  # noqa: E731 (whole tables)
    rows = frames.read_procedure_rows(everything, stamped=False).set_index("unit_id")
    for procedure in Procedure.objects.select_related("patient", "technique"):
        row = rows.loc[procedure.pk]
        patient = procedure.patient
        assert (row["patient_id"], row["site_id"]) == (patient.pk, patient.site_id)
        assert (row["sex"], row["technique_code"]) == (patient.sex, procedure.technique.code)
        if patient.smoking:
            assert row["smoking"] == patient.smoking
        else:
            assert pd.isna(row["smoking"])
    assert "former" not in rows["smoking"].cat.categories
    levels = frames.read_level_rows(everything, stamped=False).set_index("level_pk")
    for level in TreatedLevel.objects.select_related("fracture"):
        row = levels.loc[level.pk]
        assert row["fracture_pk"] == level.fracture_id
        assert row["genant"] == level.fracture.genant_grade
        assert row["thoracic"] == int(level.fracture.level.startswith("T"))
    assert len(levels) == TreatedLevel.objects.count()


def test_a_row_naming_a_row_the_database_did_not_send_is_refused():
    from outcomes.selectors.frames import _lookup

    ids = np.array([30, 10, 20])
    assert _lookup(ids, np.array([20, 20, 10, 30])).tolist() == [2, 2, 1, 0]
    with pytest.raises(ValueError, match="did not send"):
        _lookup(ids, np.array([10, 25]))
    with pytest.raises(ValueError, match="did not send"):
        _lookup(np.array([], dtype=np.int64), np.array([1]))
    assert _lookup(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).size == 0


@pytest.mark.parametrize("span", [10, 1_000, 10**9])
def test_ids_are_found_where_they_are_by_table_or_by_search(span):
    """`_index_of` (a table indexed by id for dense ids, a sorted search for sparse ones):
    each key's position in the unsorted ids, or not found (position 0)."""
    from outcomes.selectors.frames import _index_of

    rng = np.random.default_rng(span)
    for _ in range(50):
        ids = np.unique(rng.integers(0, span, size=int(rng.integers(0, 40))))
        rng.shuffle(ids)
        keys = rng.integers(-3, span + 3, size=int(rng.integers(0, 40)))
        if ids.size:
            keys = np.concatenate([keys, rng.choice(ids, 5)])
        position, found = _index_of(ids, keys)
        expected = {int(pk): i for i, pk in enumerate(ids)}
        assert found.tolist() == [int(key) in expected for key in keys]
        assert position.tolist() == [expected.get(int(key), 0) for key in keys]
