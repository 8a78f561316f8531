import contextlib

import pytest
from django.core.exceptions import ValidationError

from outcomes import cohorts
from outcomes.models import Cohort
from outcomes.services import cohort_create, cohort_update

RULES_ON = dict.fromkeys(cohorts.RULE_FIELDS, True)


def test_the_hash_does_not_depend_on_order_or_spelling():
    one = {"techniques": ["PVP", "PKP"], "genant_grades": [3, 2], "sexes": "F", "age_min": "50"}
    other = {
        "age_min": 50,
        "sexes": ["F"],
        "genant_grades": ["2", 3, 3],
        "techniques": ["PKP", "PVP", "PKP"],
        "sites": [],
        "region": "",
        "date_from": None,
    }
    assert cohorts.definition_hash(one, RULES_ON) == cohorts.definition_hash(other, RULES_ON)


def test_the_hash_changes_with_any_part_of_the_definition():
    base = cohorts.definition_hash({"techniques": ["PKP"]}, RULES_ON)
    assert cohorts.definition_hash({"techniques": ["PVP"]}, RULES_ON) != base
    assert cohorts.definition_hash({"techniques": ["PKP"], "levels": "multi"}, RULES_ON) != base
    fewer_rules = {**RULES_ON, "rule_collapse": False}
    assert cohorts.definition_hash({"techniques": ["PKP"]}, fewer_rules) != base


def test_dates_given_as_dates_or_text_hash_the_same():
    from datetime import date

    assert cohorts.definition_hash({"date_from": date(2019, 2, 1)}, {}) == cohorts.definition_hash(
        {"date_from": "2019-02-01"}, {}
    )


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"colour": "blue"}, "filters"),
        ({"genant_grades": [4]}, "genant_grades"),
        ({"region": "cervical"}, "region"),
        ({"levels": "three"}, "levels"),
        ({"age_min": 80, "age_max": 60}, "age_max"),
        ({"date_from": "2023-01-01", "date_to": "2019-01-01"}, "date_to"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"sexes": ["X"]}, "sexes"),
    ],
)
def test_bad_filters_are_refused_with_the_field_named(filters, field):
    with pytest.raises(ValidationError) as caught:
        cohorts.normalise_filters(filters)
    assert field in caught.value.message_dict


def test_it_validates_codes_against_the_reference_tables(db, surgeon_a):
    with pytest.raises(ValidationError) as caught:
        cohort_create(owner=surgeon_a, name="x", filters={"techniques": ["KYPHO"]})
    assert "techniques" in caught.value.message_dict


def test_a_saved_cohort_is_normalised_and_hashed(db, surgeon_a):
    cohort = cohort_create(
        owner=surgeon_a,
        name="Genant 3, PVP vs Vesselplasty",
        filters={"techniques": ["VESSELPLASTY", "PVP"], "genant_grades": [3]},
    )
    cohort.refresh_from_db()
    assert cohort.filters["techniques"] == ["PVP", "VESSELPLASTY"]
    assert cohort.rules == RULES_ON  # the seed studies' rules are on unless switched off
    assert cohort.definition_hash == cohorts.definition_hash(cohort.filters, cohort.rules)


def test_an_owner_cannot_save_the_same_definition_twice(db, surgeon_a):
    from registry.services import DuplicateError

    first = cohort_create(owner=surgeon_a, name="First", filters={"techniques": ["PKP", "VBS"]})
    with pytest.raises(DuplicateError, match="already have a cohort with this definition") as e:
        cohort_create(owner=surgeon_a, name="Second", filters={"techniques": ["VBS", "PKP"]})
    assert e.value.existing == first
    assert isinstance(e.value, ValidationError)  # the API maps DuplicateError to 409


def test_a_definition_saved_by_a_concurrent_request_is_named_as_the_duplicate(
    db, surgeon_a, monkeypatch
):
    """The other request commits between our duplicate check and full_clean's constraint
    check (a flake of the PostgreSQL race test): the answer still names the cohort that
    exists, not Django's generic constraint message."""
    from outcomes.services import cohorts as service
    from registry.services import DuplicateError

    first = cohort_create(owner=surgeon_a, name="First", filters={"levels": "multi"})
    real, checks = service._same_definition, []

    def same_definition(cohort):  # the first check runs before the other request committed
        checks.append(cohort)
        return None if len(checks) == 1 else real(cohort)

    monkeypatch.setattr(service, "_same_definition", same_definition)
    model_clean = Cohort.clean

    def clean(self):  # the model's own check also ran before the other request committed
        with contextlib.suppress(ValidationError):  # (it sets the hash before it checks)
            model_clean(self)

    monkeypatch.setattr(Cohort, "clean", clean)
    with pytest.raises(DuplicateError, match="already have a cohort with this definition") as e:
        cohort_create(owner=surgeon_a, name="Second", filters={"levels": "multi"})
    assert e.value.existing == first


def test_only_the_owner_updates_a_cohort(db, surgeon_a, coordinator):
    from django.core.exceptions import PermissionDenied

    cohort = cohort_create(owner=surgeon_a, name="Mine")
    with pytest.raises(PermissionDenied):
        cohort_update(user=coordinator, cohort=cohort, data={"name": "Theirs"})
    updated = cohort_update(
        user=surgeon_a,
        cohort=cohort,
        data={"filters": {"levels": "single"}, "rule_collapse": False},
    )
    assert updated.definition_hash != cohort.definition_hash
    assert Cohort.objects.get(pk=cohort.pk).filters["levels"] == "single"


def test_the_description_names_every_active_filter_and_rule():
    lines = cohorts.describe({"techniques": ["PKP"], "age_min": 60}, {"rule_baseline_vas": True})
    assert lines == ["Techniques: PKP", "Age at procedure: 60 to …", "Baseline VAS 5 or more"]
    assert cohorts.describe({}, {}) == ["All active patients"]


def test_an_unknown_rule_is_refused(db, surgeon_a):
    with pytest.raises(ValidationError) as caught:
        cohort_create(owner=surgeon_a, name="x", rules={"rule_young": True})
    assert "rules" in caught.value.message_dict
