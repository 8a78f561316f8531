"""The patient list: visible patients, searched and filtered, with the rows a page shows."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from registry import derived
from registry.models import FollowUpVisit, Fracture, Patient, Procedure, Site
from registry.selectors.followups import DUE_SOON_DAYS, FOLLOW_UP_TIMEPOINTS, OVERDUE_GRACE_DAYS
from registry.selectors.visibility import patients_visible_to


def patient_list(
    *,
    user: AbstractBaseUser,
    query: str = "",
    technique_code: str = "",
    site: Site | None = None,
    follow_up_due: bool = False,
    today: date,
) -> QuerySet[Patient]:
    """Visible patients, newest registration first, filtered; related rows are prefetched for
    the page only (fractures, procedures with technique, visit timepoints)."""
    patients = patients_visible_to(user=user).select_related("site")
    if site is not None:
        patients = patients.filter(site=site)
    query = " ".join(query.split())
    if query:
        patients = patients.filter(_search_q(query))
    if technique_code:
        patients = patients.filter(
            Exists(Procedure.objects.filter(patient=OuterRef("pk"), technique__code=technique_code))
        )
    if follow_up_due:
        patients = patients.filter(withdrawn_at__isnull=True).filter(
            Exists(_pending_procedures_of(OuterRef("pk"), today))
        )
    return patients.order_by("-pk").prefetch_related(
        Prefetch("fractures", queryset=Fracture.objects.only("id", "patient_id", "level")),
        Prefetch(
            "procedures",
            queryset=Procedure.objects.select_related("technique").prefetch_related(
                Prefetch(
                    "visits",
                    queryset=FollowUpVisit.objects.only(
                        "id", "procedure_id", "timepoint", "visit_date"
                    ),
                )
            ),
        ),
    )


def _pending_procedures_of(patient, today: date) -> QuerySet[Procedure]:
    """A patient's procedures with a visit due soon or overdue: the rule of `_pending_q`, put
    as "the latest follow-up recorded comes before this timepoint" so that each procedure is
    checked with one index probe (the list walks patients newest first and stops at a page),
    not with a hash of every recorded visit."""
    rank = Case(
        *(When(timepoint=tp, then=Value(n)) for n, tp in enumerate(FOLLOW_UP_TIMEPOINTS)),
        output_field=IntegerField(),
    )
    latest = (
        FollowUpVisit.objects.filter(procedure=OuterRef("pk"), timepoint__in=FOLLOW_UP_TIMEPOINTS)
        .annotate(rank=rank)
        .order_by("-rank")
        .values("rank")[:1]
    )
    pending = Q()
    for n, tp in enumerate(FOLLOW_UP_TIMEPOINTS):
        window = derived.WINDOWS[tp]
        due_or_overdue = Q(
            date__gte=today - timedelta(days=window.end + OVERDUE_GRACE_DAYS),
            date__lte=today + timedelta(days=DUE_SOON_DAYS - window.start),
        )
        pending |= due_or_overdue & (Q(latest_rank__isnull=True) | Q(latest_rank__lt=n))
    return (
        Procedure.objects.filter(patient=patient)
        .annotate(latest_rank=Subquery(latest, output_field=IntegerField()))
        .filter(pending)
    )


def _search_q(query: str) -> Q:
    """Registry ID or hospital record number (exact, any case), else every word starts the
    family or the given name ("smi jo" finds Smith, John)."""
    exact = Q(registry_id__iexact=query) | Q(hospital_record_number__iexact=query)
    words = Q()
    for word in query.replace(",", " ").split():
        words &= Q(family_name__istartswith=word) | Q(given_name__istartswith=word)
    return exact | words
