"""Reviewing a finding: "verified as correct" or "will be corrected", with a comment.

The review is keyed by what was flagged (rule, record, item), holds the value it was made on
and is kept in history. The current findings with that key and value take its decision at
once; the next runs keep applying it while the record still shows that value.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from outcomes.quality.models import Decision, Finding, Review, SiteResult
from outcomes.quality.selectors import count_findings
from registry import permissions


def can_review(user: AbstractBaseUser, finding: Finding) -> bool:
    """Anyone who may read the site's records resolves its discrepancies (REDCap's data
    resolution workflow): its surgeons, coordinators and site administrators."""
    return permissions.can_read(user, finding.site_id)


def finding_review(
    *, user: AbstractBaseUser, finding: Finding, decision: str, comment: str
) -> Review:
    if not can_review(user, finding):
        raise PermissionDenied("You may not review this site's findings.")
    errors = {}
    if decision not in Decision.values:
        errors["decision"] = "Choose “verified as correct” or “will be corrected”."
    if not (comment or "").strip():
        errors["comment"] = "Say why: the comment is kept with the decision."
    if errors:
        raise ValidationError(errors)
    key = {
        "rule": finding.rule,
        "record_type": finding.record_type,
        "record_id": finding.record_id,
        "item": finding.item,
    }
    with transaction.atomic():
        review = Review.objects.select_for_update().filter(**key).first() or Review(**key)
        review.site_id = finding.site_id
        review.patient_id = finding.patient_id
        review.value = finding.value
        review.decision = decision
        review.comment = comment.strip()
        review.reviewed_by = user
        review.reviewed_at = timezone.now()
        review.full_clean()
        review._history_user = user
        review.save()
        Finding.objects.filter(**key, value=finding.value).update(status=decision)
        _recount(finding)
    return review


def _recount(finding: Finding) -> None:
    """Bring the stored counts of the finding's site and rule up to date (locked row)."""
    result = (
        SiteResult.objects.select_for_update()
        .filter(run_id=finding.run_id, site_id=finding.site_id)
        .first()
    )
    if result is None:
        return
    counts = count_findings(run_id=finding.run_id, site_id=finding.site_id, rule=finding.rule)
    result.counts = {**result.counts, finding.rule: counts}
    result.save(update_fields=["counts"])
