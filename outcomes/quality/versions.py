"""The data version of a site: a fingerprint of every row the rules read there.

Per table, per site: how many rows, the sum of their ids and the latest `updated_at` (the
figures `outcomes.selectors.fingerprint` uses for cohorts), one GROUP BY query per table.
An edit moves the latest `updated_at`, an insert or delete the count or the id sum; a
withdrawal saves the patient. The as-of date and the rule catalogue are part of it: the
same rows on another day can be due or missing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date

from django.db.models import Count, F, Max, Sum

from outcomes.quality.rules import CATALOGUE_VERSION
from outcomes.selectors.fingerprint import EpochMicroseconds
from registry.models import (
    FollowUpVisit,
    Fracture,
    Patient,
    Procedure,
    RadiographicMeasurement,
    TreatedLevel,
)

_TABLES = (
    ("patients", Patient, "site_id"),
    ("fractures", Fracture, "patient__site_id"),
    ("procedures", Procedure, "patient__site_id"),
    ("levels", TreatedLevel, "procedure__patient__site_id"),
    ("visits", FollowUpVisit, "procedure__patient__site_id"),
    ("films", RadiographicMeasurement, "visit__procedure__patient__site_id"),
)


def data_versions(site_ids: Sequence[int], as_of: date) -> dict[int, str]:
    figures: dict[int, dict[str, list]] = {int(pk): {} for pk in site_ids}
    for name, model, site_path in _TABLES:
        rows = (
            model.objects.filter(**{f"{site_path}__in": list(site_ids)})
            .values(q_site=F(site_path))
            .annotate(n=Count("pk"), ids=Sum("pk"), latest=Max(EpochMicroseconds("updated_at")))
            .order_by()
        )
        for row in rows:
            figures[int(row["q_site"])][name] = [row["n"], int(row["ids"]), row["latest"]]
    versions = {}
    for site_id, tables in figures.items():
        document = {
            "as_of": as_of.isoformat(),
            "rules": CATALOGUE_VERSION,
            "tables": {name: tables.get(name, [0, 0, None]) for name, _, _ in _TABLES},
        }
        canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
        versions[site_id] = hashlib.sha256(canonical.encode()).hexdigest()
    return versions
