"""Reads that span tables. `patients_visible_to` is the one visibility rule every view, API,
statistic and export starts from; the worklist and timeline selectors build on it."""

from registry.selectors.visibility import (
    can_edit_clinical,
    can_withdraw,
    patients_visible_to,
    role_at,
    sites_visible_to,
)

__all__ = [
    "can_edit_clinical",
    "can_withdraw",
    "patients_visible_to",
    "role_at",
    "sites_visible_to",
]
