"""The cohort's cases: filters and the seed studies' inclusion rules, on small built data."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from outcomes import cohorts
from outcomes.selectors import Scope, cohort_cases
from registry.models import Technique
from tests.factories import FractureFactory, ProcedureFactory
from tests.outcomes.conftest import Level, make_case

pytestmark = pytest.mark.django_db
NO_RULES = dict.fromkeys(cohorts.RULE_FIELDS, False)


def film(rfvh_of_28: str) -> tuple:
    """Baseline film whose RFVH is anterior / 28 mm x 100."""
    return (Decimal(rfvh_of_28), Decimal("28.0"), Decimal("28.0"), Decimal("15.0"))


def selected(scope, filters=None, **rules) -> set[int]:
    cases = cohort_cases(filters=filters or {}, rules={**NO_RULES, **rules}, scope=scope)
    return set(cases.values_list("patient_id", flat=True))


def test_one_case_per_patient_the_first_procedure(site_a, everywhere):
    first = make_case(site=site_a, technique="PVP", operated=date(2023, 3, 1))
    ProcedureFactory(
        patient=first.patient, date=date(2024, 6, 1), technique=Technique.objects.get(code="PKP")
    )
    cases = cohort_cases(filters={}, rules=NO_RULES, scope=everywhere())
    assert list(cases.values_list("pk", flat=True)) == [first.pk]
    assert selected(everywhere(), {"techniques": ["PKP"]}) == set()


def test_withdrawn_patients_and_other_sites_are_left_out(site_a, site_b, everywhere):
    kept = make_case(site=site_a)
    gone = make_case(site=site_a)
    gone.patient.withdrawn_at = timezone.now()
    gone.patient.save()
    other = make_case(site=site_b)
    assert selected(everywhere()) == {kept.patient_id, other.patient_id}
    assert selected(Scope.of([site_a.pk])) == {kept.patient_id}


def test_technique_site_date_and_sex_filters(site_a, site_b, everywhere):
    pkp = make_case(site=site_a, technique="PKP", operated=date(2019, 2, 1), sex="M")
    vbs = make_case(site=site_b, technique="VBS", operated=date(2023, 1, 31))
    all_sites = everywhere()
    assert selected(all_sites, {"techniques": ["VBS", "PVP"]}) == {vbs.patient_id}
    assert selected(all_sites, {"sites": [site_a.code]}) == {pkp.patient_id}
    assert selected(all_sites, {"date_from": "2019-02-01", "date_to": "2023-01-30"}) == {
        pkp.patient_id
    }
    assert selected(all_sites, {"date_from": "2019-02-02"}) == {vbs.patient_id}
    assert selected(all_sites, {"sexes": ["M"]}) == {pkp.patient_id}


def test_age_is_whole_years_at_the_procedure_date(site_a, everywhere):
    turns_70_that_day = make_case(site=site_a, born=date(1954, 3, 10), operated=date(2024, 3, 10))
    turns_70_next_day = make_case(site=site_a, born=date(1954, 3, 11), operated=date(2024, 3, 10))
    assert selected(everywhere(), {"age_min": 70}) == {turns_70_that_day.patient_id}
    assert selected(everywhere(), {"age_max": 69}) == {turns_70_next_day.patient_id}


def test_genant_and_region_hold_for_every_treated_vertebra(site_a, everywhere):
    grade3_lumbar = make_case(site=site_a, levels=[Level("L2", 3), Level("L3", 3)])
    mixed_grades = make_case(site=site_a, levels=[Level("L1", 3), Level("L4", 2)])
    thoracic = make_case(site=site_a, levels=[Level("T12", 3)])
    scope = everywhere()
    assert selected(scope, {"genant_grades": [3]}) == {
        grade3_lumbar.patient_id,
        thoracic.patient_id,
    }
    assert selected(scope, {"region": "lumbar"}) == {
        grade3_lumbar.patient_id,
        mixed_grades.patient_id,
    }
    assert selected(scope, {"region": "thoracolumbar"}) == {thoracic.patient_id}


def test_single_and_multi_level(site_a, everywhere):
    single = make_case(site=site_a, levels=[Level("L1")])
    multi = make_case(site=site_a, levels=[Level("L1"), Level("L2")])
    assert selected(everywhere(), {"levels": "single"}) == {single.patient_id}
    assert selected(everywhere(), {"levels": "multi"}) == {multi.patient_id}


def test_rule_age_50_or_more(site_a, everywhere):
    fifty = make_case(site=site_a, born=date(1974, 1, 15), operated=date(2024, 1, 15))
    make_case(site=site_a, born=date(1974, 1, 16), operated=date(2024, 1, 15))  # 49
    assert selected(everywhere(), rule_min_age=True) == {fifty.patient_id}
    # A lower minimum age in the filters does not undo the rule.
    assert selected(everywhere(), {"age_min": 40}, rule_min_age=True) == {fifty.patient_id}


def test_rule_baseline_vas_5_or_more(site_a, everywhere):
    five = make_case(site=site_a, vas={"baseline": "5.0"})
    make_case(site=site_a, vas={"baseline": "4.9"})
    make_case(site=site_a, vas={"baseline": None})  # visit without a VAS
    make_case(site=site_a, vas={"12w": "2.0"})  # no baseline visit at all
    assert selected(everywhere(), rule_baseline_vas=True) == {five.patient_id}


def test_rule_collapse_20_percent_from_the_baseline_rfvh(site_a, everywhere):
    eighty = make_case(site=site_a, levels=[Level(films={"baseline": film("22.4")})])  # RFVH 80
    make_case(site=site_a, levels=[Level(films={"baseline": film("22.5")})])  # 80.36: 19.6 %
    make_case(site=site_a, levels=[Level(films={"12w": film("20.0")})])  # no baseline film
    one_of_two = make_case(
        site=site_a,
        levels=[
            Level("L1", films={"baseline": film("25.0")}),
            Level("L2", films={"baseline": film("14.0")}),
        ],
    )
    assert selected(everywhere(), rule_collapse=True) == {eighty.patient_id, one_of_two.patient_id}


def test_rule_excludes_patients_with_a_pathological_fracture(site_a, everywhere):
    clean = make_case(site=site_a)
    tumour = make_case(site=site_a, levels=[Level(aetiology="tumour")])
    untreated_infection = make_case(site=site_a)
    FractureFactory(patient=untreated_infection.patient, level="T5", aetiology="infection")
    assert selected(everywhere(), rule_exclude_pathological=True) == {clean.patient_id}
    assert tumour.patient_id in selected(everywhere())


def test_the_collapsed_films_index_holds_the_films_the_collapse_rule_reads():
    """registry's partial index of collapsed films (read by the selection of whole tables)
    has the rule's own threshold: a change of the rule without the index would leave the
    index unread, or the selection reading the wrong films."""
    from django.db.models import Q

    from registry.models import RadiographicMeasurement

    (index,) = [
        index
        for index in RadiographicMeasurement._meta.indexes
        if index.name == "radiograph_collapsed_idx"
    ]
    assert index.condition == Q(rfvh_percent__lte=100 - cohorts.MIN_COLLAPSE_PERCENT)
    assert index.fields == ["visit"]
