"""Follow-up visits: baseline, 2w, 12w, 1y and a few unscheduled ones.

A visit is created only when it has happened by the anchor date (a 1-year visit not yet due
is not missing data), not after a withdrawal, and not after the patient was lost to
follow-up. About 3 % fall outside their window: they are kept with their real date.
"""

from dataclasses import dataclass

import numpy as np

from registry import derived
from registry.demo import calibration as cal
from registry.demo.events import Unscheduled
from registry.demo.frames import Frame, choice, days, gamma, missing, normal
from registry.demo.patients import Patients
from registry.models import ODI_FIELDS

SCHEDULED = ("baseline", "2w", "12w", "1y")
UNSCHEDULED = 4  # timepoint code after the scheduled ones
# Per-section offsets of the answer level around the visit's overall ODI.
ODI_SECTION_OFFSET = np.array([0.04, -0.06, 0.10, 0.02, 0.03, 0.06, -0.02, 0.0, -0.04, 0.03])
SEX_LIFE = ODI_FIELDS.index("odi_8")
ANALGESICS = ("none", "non_opioid", "weak_opioid", "strong_opioid", "")
ANALGESICS_P = {
    "baseline": (0.02, 0.28, 0.44, 0.24, 0.02),
    "2w": (0.33, 0.45, 0.17, 0.03, 0.02),
    "12w": (0.62, 0.28, 0.07, 0.01, 0.02),
    "1y": (0.72, 0.21, 0.04, 0.01, 0.02),
    "unscheduled": (0.05, 0.35, 0.40, 0.18, 0.02),
}
FLARE_NOTE = "Unscheduled: back pain flare, reviewed in clinic."


@dataclass
class Visits:
    patient: np.ndarray  # index into Patients
    timepoint: np.ndarray  # 0..3 scheduled (calibration order), 4 unscheduled
    id: np.ndarray


def _scheduled_day(rng, timepoint: str, n: int) -> np.ndarray:
    mean, sd, low, high = cal.VISIT_DAYS[timepoint]
    day = np.rint(normal(rng, mean, sd, n, low, high))
    out = rng.random(n) < cal.OUT_OF_WINDOW
    (early_lo, early_hi), (late_lo, late_hi) = cal.OUT_OF_WINDOW_DAYS[timepoint]
    late = rng.random(n) < 0.8
    day[out] = np.where(
        late, rng.integers(late_lo, late_hi + 1, n), rng.integers(early_lo, early_hi + 1, n)
    )[out]
    return day


def _schedule(rng, ctx, p: Patients, events: Unscheduled):
    """(patient, timepoint code, date, note) of every visit that took place."""
    lost = rng.random(p.n)
    patient, code, date, note = [np.arange(p.n)], [np.zeros(p.n, int)], [p.baseline_date], []
    for tp_code, timepoint in enumerate(SCHEDULED[1:], start=1):
        when = p.procedure_date + days(_scheduled_day(rng, timepoint, p.n))
        attended = (lost >= cal.LOST_BEFORE[timepoint]) & (rng.random(p.n) >= cal.MISSED_VISIT)
        patient.append(np.flatnonzero(attended))
        code.append(np.full(int(attended.sum()), tp_code))
        date.append(when[attended])
    flare = np.flatnonzero(rng.random(p.n) < cal.UNSCHEDULED_VISIT)
    patient += [flare, events.patient]
    code += [np.full(len(flare) + len(events.patient), UNSCHEDULED)]
    date += [p.procedure_date[flare] + days(rng.integers(20, 300, len(flare))), events.date]
    note = np.concatenate(
        [
            np.full(sum(len(x) for x in patient[:-2]), ""),
            np.full(len(flare), FLARE_NOTE),
            events.note,
        ]
    )
    patient, code, date = (np.concatenate(x) for x in (patient, code, date))
    withdrawn = p.withdrawn_date[patient]
    happened = (date <= ctx.anchor) & (np.isnat(withdrawn) | (date <= withdrawn))
    order = np.lexsort((code, date, patient))
    order = order[happened[order]]
    return patient[order], code[order], date[order], note[order]


def _vas(rng, p: Patients, patient, code, responder) -> np.ndarray:
    k = len(patient)
    vas = np.empty(k)
    base = code == 0
    vas_base = cal.per_technique("vas_baseline")[p.technique[patient[base]]]
    vas[base] = normal(rng, vas_base, 0.7, int(base.sum()), 5, 10)
    for tp_code, timepoint in enumerate(SCHEDULED[1:], start=1):
        at = code == tp_code
        mean, sd = cal.VAS_AFTER[timepoint]
        vas[at] = gamma(rng, mean, sd, int(at.sum())) * responder[patient[at]]
    flare = code == UNSCHEDULED
    vas[flare] = normal(rng, 6.0, 1.5, int(flare.sum()), 2, 10)
    vas = np.clip(vas, 0, 10)
    decimal = rng.random(k) < 0.15  # most surgeons record whole numbers
    vas = np.where(decimal, np.round(vas, 1), np.round(vas))
    return missing(rng, vas, cal.MISSING_ITEM)


def _odi(rng, code, latent) -> tuple[np.ndarray, np.ndarray]:
    """Answers (k x 10, NaN = unanswered) and the ODI % the model's function derives."""
    k = len(code)
    means = np.asarray([cal.ODI_MEAN[t] for t in SCHEDULED] + [50.0]) / 100
    level = np.clip(means[code] + latent + rng.normal(0, cal.ODI_SD / 100, k), 0.02, 0.98)
    p = np.clip(level[:, None] + ODI_SECTION_OFFSET + rng.normal(0, 0.08, (k, 10)), 0, 1)
    answers = rng.binomial(5, p).astype(float)
    answers[rng.random((k, 10)) < cal.MISSING_ITEM] = np.nan
    answers[rng.random(k) < cal.ODI_SEX_LIFE_SKIPPED, SEX_LIFE] = np.nan
    answers[rng.random(k) < cal.MISSING_ITEM] = np.nan  # the whole questionnaire not done
    percent = [
        derived.odi_percent([None if a != a else int(a) for a in row]) for row in answers.tolist()
    ]
    return answers, np.asarray([np.nan if x is None else x for x in percent], dtype=float)


def visit_frame(
    rng, ctx, p: Patients, procedure_ids, events: Unscheduled, first_id: int
) -> tuple[Frame, Visits]:
    patient, code, date, note = _schedule(rng, ctx, p, events)
    k = len(patient)
    z = rng.normal(0, 1, p.n)  # how well each patient responds, shared by VAS and ODI
    vas = _vas(rng, p, patient, code, np.exp(0.25 * z - 0.03))
    answers, odi_percent = _odi(rng, code, 0.05 * z[patient])

    to_weight_bearing = gamma(rng, cal.per_technique("weight_bearing_days")[p.technique], 6.0, p.n)
    to_weight_bearing[rng.random(p.n) < 0.07] = np.inf  # never back to pre-injury activity
    days_after = (date - p.procedure_date[patient]).astype(int)
    resumed = (code > 0) & (to_weight_bearing[patient] <= days_after)
    resumed_on = p.procedure_date[patient] + days(
        np.where(resumed, np.ceil(to_weight_bearing[patient]), 0)
    )
    resumed = missing(rng, resumed, cal.MISSING_ITEM)
    timepoint_names = np.asarray([*SCHEDULED, "unscheduled"])[code]
    analgesics = np.empty(k, dtype="<U13")
    for name, probabilities in ANALGESICS_P.items():
        at = timepoint_names == name
        analgesics[at] = choice(rng, ANALGESICS, probabilities, int(at.sum()))

    ids = np.arange(first_id, first_id + k, dtype=np.int64)
    frame = {
        "id": ids,
        "procedure_id": procedure_ids[patient],
        "timepoint": timepoint_names,
        "visit_date": date,
        "vas": vas,
        **{field: answers[:, i] for i, field in enumerate(ODI_FIELDS)},
        "odi_percent": odi_percent,
        "weight_bearing_resumed": resumed,
        "weight_bearing_date": np.where(resumed == 1, resumed_on, np.datetime64("NaT")),
        "analgesics": analgesics,
        "notes": note,
    }
    return frame, Visits(patient=patient, timepoint=code, id=ids)
