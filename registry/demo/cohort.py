"""Generate and write a demo cohort: deterministic for a seed, in chunks, all or nothing.

Patients are generated in chunks of CHUNK, each with its own random stream spawned from the
seed, so the rows depend on (seed, patients, sites, anchor) and not on --batch-size, which
only sets how many patients are written at a time.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from django.db import models, reset_queries, transaction
from django.utils import timezone

from registry.demo import calibration as cal
from registry.demo.events import adverse_event_frame
from registry.demo.frames import Frame, concat, expand, rows
from registry.demo.patients import draw_patients
from registry.demo.procedures import (
    draw_levels,
    fracture_frame,
    procedure_frame,
    treated_level_frame,
)
from registry.demo.radiographs import draw_vertebrae, radiograph_frame
from registry.demo.users import ensure_demo_users
from registry.demo.visits import UNSCHEDULED, visit_frame
from registry.demo.writers import Writer
from registry.models import (
    AdverseEvent,
    FollowUpVisit,
    Fracture,
    Patient,
    Procedure,
    RadiographicMeasurement,
    Technique,
    TreatedLevel,
)
from registry.services.base import announce_change

CHUNK = 1000
DEFAULT_ANCHOR = date(2026, 6, 30)
# Parents before children: the order rows are written in.
MODELS: tuple[type[models.Model], ...] = (
    Patient,
    Fracture,
    Procedure,
    TreatedLevel,
    AdverseEvent,
    FollowUpVisit,
    RadiographicMeasurement,
)


@dataclass
class Context:
    """What every chunk shares: dates, sites, users, the identifiers already taken."""

    anchor: np.datetime64
    site_ids: np.ndarray
    site_weights: np.ndarray
    site_mix: np.ndarray  # sites x techniques
    surgeon_ids: np.ndarray
    technique_ids: np.ndarray
    taken_registry_ids: set[str] = field(default_factory=set)
    taken_record_numbers: set[str] = field(default_factory=set)


def build_context(*, seed: int, anchor: date, site_count: int, sites, surgeons) -> Context:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    technique_ids = dict(
        Technique.objects.filter(code__in=cal.TECHNIQUES).values_list("code", "id")
    )
    missing = set(cal.TECHNIQUES) - set(technique_ids)
    if missing:
        raise LookupError(f"Technique rows missing (run migrate): {', '.join(sorted(missing))}")
    existing = list(Patient.objects.values_list("registry_id", "hospital_record_number"))
    return Context(
        anchor=np.datetime64(anchor, "D"),
        site_ids=np.asarray([s.pk for s in sites], dtype=np.int64),
        site_weights=rng.dirichlet(np.full(site_count, 4.0)),
        site_mix=rng.dirichlet(np.asarray(cal.TECHNIQUE_MIX) * 20, size=site_count),
        surgeon_ids=np.asarray([surgeons[s.code] for s in sites], dtype=np.int64),
        technique_ids=np.asarray([technique_ids[c] for c in cal.TECHNIQUES], dtype=np.int64),
        taken_registry_ids={registry_id for registry_id, _ in existing},
        taken_record_numbers={record for _, record in existing},
    )


def generate_chunk(
    ctx: Context, rng: np.random.Generator, n: int, next_id: dict[type[models.Model], int]
) -> dict[type[models.Model], Frame]:
    """All rows of n patients; advances next_id past the ids used."""
    patient, p = draw_patients(ctx, rng, n, next_id[Patient])
    lv = draw_levels(rng, n)
    scale = rng.normal(1.0, 0.06, n) * np.where(p.female, 1.0, 1.05)
    v = draw_vertebrae(rng, p.technique[lv.patient], lv.level_index, scale[lv.patient])
    fracture = fracture_frame(rng, p, lv, v, next_id[Fracture])
    procedure, bipedicular = procedure_frame(rng, ctx, p, lv, next_id[Procedure])
    treated = treated_level_frame(
        rng, p, lv, bipedicular, procedure["id"], fracture["id"], next_id[TreatedLevel]
    )
    event, prompted = adverse_event_frame(
        rng, ctx, p, lv, procedure["id"], treated["id"][lv.first], next_id[AdverseEvent]
    )
    visit, visits = visit_frame(rng, ctx, p, procedure["id"], prompted, next_id[FollowUpVisit])

    # A film of every treated vertebra at every scheduled visit.
    scheduled = visits.timepoint < UNSCHEDULED
    film_visit, rank = expand(lv.count[visits.patient[scheduled]])
    vertebra = lv.first[visits.patient[scheduled]][film_visit] + rank
    film = radiograph_frame(
        rng,
        v,
        visits.id[scheduled][film_visit],
        vertebra,
        visits.timepoint[scheduled][film_visit],
        treated["id"][vertebra],
        next_id[RadiographicMeasurement],
    )
    frames = {
        Patient: patient,
        Fracture: fracture,
        Procedure: procedure,
        TreatedLevel: treated,
        AdverseEvent: event,
        FollowUpVisit: visit,
        RadiographicMeasurement: film,
    }
    for model, frame in frames.items():
        next_id[model] += rows(frame)
    return frames


def seed_cohort(
    *,
    patients: int,
    seed: int,
    site_count: int = 4,
    batch_size: int = 5000,
    anchor: date = DEFAULT_ANCHOR,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write `patients` demo patients with everything they had by `anchor`; rows per table."""
    if anchor > timezone.localdate():
        raise ValueError(f"The anchor date {anchor} is in the future: no record may be.")
    counts = dict.fromkeys((m._meta.label for m in MODELS), 0)
    with transaction.atomic():
        sites, surgeons, system_user = ensure_demo_users(site_count)
        if patients <= 0:
            return counts
        ctx = build_context(
            seed=seed, anchor=anchor, site_count=site_count, sites=sites, surgeons=surgeons
        )
        writer = Writer(
            now=timezone.now(),
            history_user_id=system_user.pk,
            reason=f"Demo cohort: seed_demo --seed {seed}",
        )
        next_id = writer.reserve_ids(list(MODELS))
        chunks = math.ceil(patients / CHUNK)
        per_flush = max(1, batch_size // CHUNK)
        pending: list[dict[type[models.Model], Frame]] = []
        flushed = dict(next_id)
        for chunk_no in range(chunks):
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(chunk_no + 1,)))
            n = min(CHUNK, patients - chunk_no * CHUNK)
            pending.append(generate_chunk(ctx, rng, n, next_id))
            if len(pending) < per_flush and chunk_no + 1 < chunks:
                continue
            for model in MODELS:
                frame = concat([chunk[model] for chunk in pending])
                counts[model._meta.label] += writer.write(model, frame)
                writer.write_history(model, flushed[model], next_id[model] - 1)
            flushed = dict(next_id)
            pending = []
            reset_queries()  # with DEBUG on, the query log would keep every bulk INSERT
            if progress:
                progress(min((chunk_no + 1) * CHUNK, patients), patients)
        writer.finish(list(MODELS))
        for site in sites:  # like every clinical write: outcomes refreshes its statistics
            announce_change(site_id=site.pk, user=system_user)
    return counts
