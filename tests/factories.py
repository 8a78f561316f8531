"""factory_boy factories shared by every test package."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

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

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"site{n}")
    name = factory.LazyAttribute(lambda s: f"Hospital {s.code}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SiteMembership

    user = factory.SubFactory(UserFactory)
    site = factory.SubFactory(SiteFactory)
    role = Role.SURGEON


def member(site: Site, role: str = Role.SURGEON, **user_fields):
    """A user with `role` at `site`."""
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, site=site, role=role)
    return user


def technique(code: str) -> Technique:
    return Technique.objects.get(code=code)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    site = factory.SubFactory(SiteFactory)
    hospital_record_number = factory.Sequence(lambda n: f"HRN{n:06d}")
    family_name = factory.Faker("last_name")
    given_name = factory.Faker("first_name")
    date_of_birth = date(1950, 5, 17)
    sex = "F"
    height_cm = Decimal("160.0")
    weight_kg = Decimal("64.0")
    consent_given = True
    consent_date = date(2024, 1, 10)


class FractureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Fracture

    patient = factory.SubFactory(PatientFactory)
    level = "L1"
    genant_grade = 2
    onset_date = date(2024, 1, 1)
    imaging = "mri"


class ProcedureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Procedure

    patient = factory.SubFactory(PatientFactory)
    date = date(2024, 1, 15)
    technique = factory.LazyFunction(lambda: Technique.objects.get(code="PKP"))
    approach = "bipedicular"
    anaesthesia = "local"
    operation_time_min = 45


class TreatedLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TreatedLevel

    procedure = factory.SubFactory(ProcedureFactory)
    fracture = factory.LazyAttribute(lambda o: FractureFactory(patient=o.procedure.patient))
    cement_volume_ml = Decimal("4.5")
    devices_used = 2


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUpVisit

    procedure = factory.SubFactory(ProcedureFactory)
    timepoint = "baseline"
    visit_date = factory.LazyAttribute(lambda v: v.procedure.date - timedelta(days=1))
    vas = Decimal("8.0")


class RadiographFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RadiographicMeasurement

    visit = factory.SubFactory(VisitFactory)
    treated_level = factory.LazyAttribute(
        lambda r: TreatedLevelFactory(procedure=r.visit.procedure)
    )
    anterior_height_mm = Decimal("18.0")
    middle_height_mm = Decimal("17.0")
    posterior_height_mm = Decimal("26.0")
    above_anterior_height_mm = Decimal("26.0")
    below_anterior_height_mm = Decimal("28.0")
    lka_degrees = Decimal("18.0")
