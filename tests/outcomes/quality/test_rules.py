"""Every rule of the catalogue with literal cases: a row that must be flagged and one that
must not, mostly either side of the rule's threshold."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from outcomes.quality.rules import RULES
from registry import derived
from registry.models import ODI_FIELDS, Technique
from tests.factories import (
    FractureFactory,
    PatientFactory,
    ProcedureFactory,
    RadiographFactory,
    TreatedLevelFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db
OPERATED = date(2024, 1, 15)


def procedure(site, **fields):
    return ProcedureFactory(patient=PatientFactory(site=site), date=OPERATED, **fields)


def visit(proc, timepoint="baseline", day=None, **fields):
    day = {"baseline": -1, "2w": 14, "12w": 84, "1y": 365}[timepoint] if day is None else day
    return VisitFactory(
        procedure=proc, timepoint=timepoint, visit_date=OPERATED + timedelta(days=day), **fields
    )


def level(proc, name="L1", genant=2, **fields):
    fracture = FractureFactory(patient=proc.patient, level=name, genant_grade=genant)
    return TreatedLevelFactory(procedure=proc, fracture=fracture, **fields)


def film(at_visit, treated, anterior, above=D("20.0"), below=D("20.0"), lka=D("15.0"), **kw):
    return RadiographFactory(
        visit=at_visit,
        treated_level=treated,
        anterior_height_mm=anterior,
        above_anterior_height_mm=above,
        below_anterior_height_mm=below,
        lka_degrees=lka,
        **kw,
    )


def test_every_rule_has_its_literal_cases():
    tested = {name for name in globals() if name.startswith("test_rule_")}
    wanted = {"test_rule_" + rule.code.lower().replace("-", "_") for rule in RULES}
    assert wanted <= tested, wanted - tested


def test_rule_codes_are_unique_and_described():
    assert len({rule.code for rule in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.title and rule.description and rule.severity in ("high", "medium", "low")


# ------------------------------------------------------------------ missing key items


def test_rule_mis_base(site_a, found):
    without, with_baseline = procedure(site_a), procedure(site_a)
    visit(with_baseline)
    hits = found("MIS-BASE", site_a)
    assert (without.pk, "") in hits
    assert (with_baseline.pk, "") not in hits


def test_rule_mis_vas_b(site_a, found):
    empty = visit(procedure(site_a), vas=None)
    scored = visit(procedure(site_a), vas=D("0.0"))  # zero is a score, not a gap
    hits = found("MIS-VAS-B", site_a)
    assert (empty.pk, "baseline") in hits
    assert (scored.pk, "baseline") not in hits


def test_rule_mis_vas_f(site_a, found):
    empty = visit(procedure(site_a), "12w", vas=None)
    scored = visit(procedure(site_a), "12w", vas=D("2.0"))
    hits = found("MIS-VAS-F", site_a)
    assert (empty.pk, "12w") in hits
    assert (scored.pk, "12w") not in hits
    assert not found("MIS-VAS-B", site_a)


def test_rule_mis_odi(site_a, found):
    seven = visit(procedure(site_a), **dict.fromkeys(ODI_FIELDS[:7], 2))
    eight = visit(procedure(site_a), **dict.fromkeys(ODI_FIELDS[:8], 2))
    hits = found("MIS-ODI", site_a)
    assert hits[(seven.pk, "baseline")]["value"] == "7/10"
    assert (eight.pk, "baseline") not in hits


def test_rule_mis_film(site_a, found):
    proc = procedure(site_a)
    filmed, unfilmed = level(proc, "L1"), level(proc, "L2")
    at = visit(proc)
    film(at, filmed, D("15.0"))
    hits = found("MIS-FILM", site_a)
    assert (at.pk, "L2") in hits
    assert (at.pk, "L1") not in hits
    assert unfilmed.pk


def test_rule_mis_height(site_a, found):
    proc = procedure(site_a)
    at = visit(proc)
    incomplete = film(at, level(proc, "L1"), D("15.0"), above=None)
    complete = film(at, level(proc, "L2"), D("15.0"))
    hits = found("MIS-HEIGHT", site_a)
    assert hits[(incomplete.pk, "L1")]["value"] == "missing: above"
    assert (complete.pk, "L2") not in hits


def test_rule_mis_cement(site_a, found):
    proc = procedure(site_a)
    gap, given = level(proc, "L1", cement_volume_ml=None), level(proc, "L2")
    hits = found("MIS-CEMENT", site_a)
    assert (gap.pk, "L1") in hits
    assert (given.pk, "L2") not in hits


def test_rule_mis_bmi(site_a, found):
    no_height = PatientFactory(site=site_a, height_cm=None)
    measured = PatientFactory(site=site_a)
    hits = found("MIS-BMI", site_a)
    assert (no_height.pk, "") in hits
    assert (measured.pk, "") not in hits


# ------------------------------------------------------------------ implausible values


def test_rule_imp_rfvh(site_a, found):
    proc = procedure(site_a)
    at = visit(proc, "12w")
    above = film(at, level(proc, "L1"), D("22.2"))  # 111.00 %
    at_limit = film(at, level(proc, "L2"), D("22.0"))  # 110.00 %: not above
    hits = found("IMP-RFVH", site_a)
    assert hits[(above.pk, "L1")]["value"] == "RFVH 111.00"
    assert (at_limit.pk, "L2") not in hits


def _restoration_case(site, followup_anterior, baseline_lka=D("40.0"), followup_lka=D("35.0")):
    proc = procedure(site)
    treated = level(proc)
    film(visit(proc), treated, D("10.0"), lka=baseline_lka)  # RFVH 50.00
    return film(visit(proc, "12w"), treated, followup_anterior, lka=followup_lka)


def test_rule_imp_restore(site_a, found):
    gained_41 = _restoration_case(site_a, D("18.2"))  # 91.00: +41 points
    gained_40 = _restoration_case(site_a, D("18.0"))  # 90.00: +40 exactly
    hits = found("IMP-RESTORE", site_a)
    assert hits[(gained_41.pk, "L1")]["value"] == "RFVH 50.00 -> 91.00"
    assert (gained_40.pk, "L1") not in hits


def test_rule_imp_lka(site_a, found):
    over = _restoration_case(site_a, D("12.0"), followup_lka=D("9.9"))  # 30.1 corrected
    at_limit = _restoration_case(site_a, D("12.0"), followup_lka=D("10.0"))  # 30.0
    hits = found("IMP-LKA", site_a)
    assert (over.pk, "L1") in hits
    assert (at_limit.pk, "L1") not in hits


def test_rule_imp_cement(site_a, found):
    proc = procedure(site_a)
    much = level(proc, "L1", cement_volume_ml=D("12.1"))
    limit = level(proc, "L2", cement_volume_ml=D("12.0"))
    hits = found("IMP-CEMENT", site_a)
    assert hits[(much.pk, "L1")]["value"] == "12.1 ml"
    assert (limit.pk, "L2") not in hits


def test_rule_imp_bmi(site_a, found):
    thin = PatientFactory(site=site_a, height_cm=D("160.0"), weight_kg=D("30.5"))  # 11.91
    slim = PatientFactory(site=site_a, height_cm=D("160.0"), weight_kg=D("31.0"))  # 12.11
    heavy = PatientFactory(site=site_a, height_cm=D("160.0"), weight_kg=D("154.0"))  # 60.16
    large = PatientFactory(site=site_a, height_cm=D("160.0"), weight_kg=D("153.0"))  # 59.77
    hits = found("IMP-BMI", site_a)
    assert {thin.pk, heavy.pk} == {key[0] for key in hits}
    assert slim.pk and large.pk
    assert derived.bmi(D("160.0"), D("30.5")) < 12 < derived.bmi(D("160.0"), D("31.0"))


def test_rule_imp_wb(site_a, found):
    before = visit(
        procedure(site_a),
        "2w",
        weight_bearing_resumed=True,
        weight_bearing_date=OPERATED - timedelta(days=1),
    )
    same_day = visit(
        procedure(site_a), "2w", weight_bearing_resumed=True, weight_bearing_date=OPERATED
    )
    hits = found("IMP-WB", site_a)
    assert hits[(before.pk, "2w")]["value"] == "resumed 2024-01-14, procedure 2024-01-15"
    assert (same_day.pk, "2w") not in hits


# ------------------------------------------------------------------ Genant grade


def test_rule_gen_grade(site_a, found):
    # anterior 15 of 20: RFVH 75.00, height loss 25 %: grade 1 (20-25 % inclusive)
    agree, disagree = procedure(site_a), procedure(site_a)
    film(visit(agree), level(agree, genant=1), D("15.0"))
    wrong = level(disagree, genant=2)
    film(visit(disagree), wrong, D("15.0"))
    hits = found("GEN-GRADE", site_a)
    assert set(hits) == {(wrong.fracture_id, "L1")}
    assert hits[(wrong.fracture_id, "L1")]["value"] == "grade 2, RFVH 75.00"


@pytest.mark.parametrize(
    ("anterior", "grade"),
    # RFVH = anterior / 20 x 100; the boundaries of height loss 20, 25 and 40 %
    [("16.1", 0), ("16.0", 1), ("15.1", 1), ("15.0", 1), ("14.9", 2), ("12.0", 2), ("11.9", 3)],
)
def test_genant_in_sql_matches_registry_derived(site_a, found, anterior, grade):
    proc = procedure(site_a)
    treated = level(proc, genant=1 if grade != 1 else 2)
    made = film(visit(proc), treated, D(anterior))
    made.refresh_from_db()
    assert derived.suggested_genant_grade(made.height_loss) == grade
    detail = found("GEN-GRADE", site_a)[(treated.fracture_id, "L1")]["detail"]
    assert detail.endswith(f"suggests grade {grade}")


# ------------------------------------------------------------------ outliers


def _cohort_of_vas(site, values):
    return [visit(procedure(site), vas=D(v)) for v in values]


def test_rule_out_visit(site_a, site_b, found):
    typical = _cohort_of_vas(site_a, ["7.5", "8.0", "8.5"] * 6)
    odd = _cohort_of_vas(site_a, ["0.0"])[0]
    # the same value at another site is judged against that site's patients
    _cohort_of_vas(site_b, ["0.0", "0.5", "1.0"] * 3)
    hits = found("OUT-VISIT", site_a, site_b)
    assert (odd.pk, "VAS") in hits
    assert (typical[0].pk, "VAS") not in hits
    assert hits[(odd.pk, "VAS")]["value"] == "VAS 0.0"
    assert [key for key in hits if key[1] == "VAS"] == [(odd.pk, "VAS")]


def test_rule_out_film(site_a, found):
    films = []
    for lka in ["14.0", "15.0", "16.0"] * 6 + ["45.0"]:
        proc = procedure(site_a)
        films.append(film(visit(proc), level(proc), D("15.0"), lka=D(lka)))
    hits = found("OUT-FILM", site_a)
    assert (films[-1].pk, "L1 LKA") in hits
    assert (films[0].pk, "L1 LKA") not in hits
    assert not [key for key in hits if key[1].endswith("RFVH")]  # all RFVH equal: SD 0


def test_outliers_are_grouped_by_technique(site_a, found):
    for v in ["7.5", "8.0", "8.5"] * 6:
        visit(procedure(site_a), vas=D(v))
    vbs = visit(procedure(site_a, technique=Technique.objects.get(code="VBS")), vas=D("0.0"))
    assert (vbs.pk, "VAS") not in found("OUT-VISIT", site_a)  # alone in its group


# ------------------------------------------------------------------ windows


def test_rule_win_out(site_a, found):
    late = visit(procedure(site_a), "2w", day=29)
    last_day = visit(procedure(site_a), "2w", day=28)
    early_baseline = visit(procedure(site_a), "baseline", day=-31)
    first_day = visit(procedure(site_a), "baseline", day=-30)
    hits = found("WIN-OUT", site_a)
    assert hits[(late.pk, "2w")]["value"] == "2024-02-13 (day 29)"
    assert (early_baseline.pk, "baseline") in hits
    assert (last_day.pk, "2w") not in hits and (first_day.pk, "baseline") not in hits


def test_withdrawn_patients_are_not_flagged_and_scope_is_respected(site_a, site_b, found):
    from django.utils import timezone

    mine = visit(procedure(site_a), vas=None)
    theirs = visit(procedure(site_b), vas=None)
    gone = visit(procedure(site_a), vas=None)
    gone.procedure.patient.withdrawn_at = timezone.now()
    gone.procedure.patient.save()
    hits = found("MIS-VAS-B", site_a)
    assert set(hits) == {(mine.pk, "baseline")}
    assert theirs.pk
