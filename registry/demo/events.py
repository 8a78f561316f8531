"""Adverse events: rare, mostly Clavien-Dindo I-II, never after the anchor or a withdrawal."""

from dataclasses import dataclass

import numpy as np

from registry.demo import calibration as cal
from registry.demo.frames import Frame, days, gamma
from registry.demo.patients import Patients
from registry.demo.procedures import Levels

GRADES = ("I", "II", "III", "IV", "V")
DESCRIPTIONS = {
    "adjacent_fracture": "New fracture of a vertebra adjacent to a treated level.",
    "refracture": "Further collapse of a treated vertebra on follow-up films.",
    "cement_displacement": "Cement block displaced on follow-up films.",
    "pulmonary_embolism": "Cement fragments in the pulmonary arteries on chest CT.",
    "bleeding": "Haematoma at the entry site needing compression.",
    "infection": "Wound infection treated with antibiotics.",
    "neurological_injury": "Radicular pain and weakness after the procedure.",
    "canal_compression": "Cement in the spinal canal on post-operative CT.",
    "cement_reaction": "Transient hypotension during cement injection.",
    "other": "Urinary retention after the procedure.",
}
# Events that bring the patient back between scheduled visits.
PROMPTS_VISIT = {"adjacent_fracture", "refracture"}


@dataclass
class Unscheduled:
    """Visits prompted by events: patient index, date and a note each."""

    patient: np.ndarray
    date: np.ndarray
    note: np.ndarray


def _reported(ctx, p: Patients, who: np.ndarray, onset: np.ndarray) -> np.ndarray:
    withdrawn = p.withdrawn_date[who]
    return (onset <= ctx.anchor) & (np.isnat(withdrawn) | (onset <= withdrawn))


def adverse_event_frame(
    rng,
    ctx,
    p: Patients,
    lv: Levels,
    procedure_ids: np.ndarray,
    first_level_id: np.ndarray,
    first_id: int,
) -> tuple[Frame, Unscheduled]:
    parts: list[dict[str, np.ndarray]] = []
    for event_type, (rate, mean_days, grade_p, on_level) in cal.ADVERSE_EVENTS.items():
        who = np.flatnonzero(rng.random(p.n) < rate)
        k = len(who)
        if mean_days <= 1:
            offset = rng.integers(0, 2 * mean_days + 1, k)
        else:
            offset = 1 + gamma(rng, float(mean_days), 0.7 * mean_days, k)
        onset = p.procedure_date[who] + days(offset)
        level = first_level_id[who] + np.floor(rng.random(k) * lv.count[who])
        grade = np.asarray(GRADES)[rng.choice(len(GRADES), size=k, p=grade_p)]
        resolved = np.where(rng.random(k) < 0.87, rng.random(k) < 0.92, np.nan)
        keep = _reported(ctx, p, who, onset)
        parts.append(
            {
                "patient": who[keep],
                "event_type": np.full(int(keep.sum()), event_type),
                "onset_date": onset[keep],
                "treated_level_id": (level if on_level else np.full(k, np.nan))[keep],
                "clavien_dindo": grade[keep],
                "resolved": np.where(grade == "V", 0.0, resolved)[keep],
            }
        )
    rows = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    order = np.lexsort((rows["onset_date"], rows["patient"]))
    rows = {name: values[order] for name, values in rows.items()}
    who = rows.pop("patient")
    k = len(who)
    frame = {
        "id": np.arange(first_id, first_id + k, dtype=np.int64),
        "procedure_id": procedure_ids[who],
        **rows,
        "description": np.asarray([DESCRIPTIONS[t] for t in rows["event_type"].tolist()], dtype=str)
        if k
        else np.asarray([], dtype=str),
    }

    prompts = np.isin(frame["event_type"], list(PROMPTS_VISIT))
    visit_date = frame["onset_date"][prompts] + days(rng.integers(0, 8, int(prompts.sum())))
    seen = _reported(ctx, p, who[prompts], visit_date)
    unscheduled = Unscheduled(
        patient=who[prompts][seen],
        date=visit_date[seen],
        note=np.full(int(seen.sum()), "Unscheduled: new back pain after a fall; films taken."),
    )
    return frame, unscheduled
