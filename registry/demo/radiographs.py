"""Each treated vertebra's course (height, kyphosis) and its films at the scheduled visits.

The true course is drawn once per vertebra (baseline, 2w, 12w, 1y); each film then measures
it with a little noise, rounded to the stored precision before RFVH is derived from it by
the model's own function, so the stored rfvh_percent is what refresh_derived() would give.
"""

from dataclasses import dataclass

import numpy as np

from registry import derived, vertebrae
from registry.demo import calibration as cal
from registry.demo.frames import Frame, choice, missing, normal

TIMEPOINTS = ("baseline", "2w", "12w", "1y")  # column order of the course arrays
MORPHOLOGIES = ("wedge", "biconcave", "crush")


@dataclass
class Vertebrae:
    """Per treated vertebra (arrays of length m; courses are m x 4)."""

    rfvh: np.ndarray
    lka: np.ndarray
    above: np.ndarray  # true anterior heights of the neighbours (mm)
    below: np.ndarray
    posterior: np.ndarray
    morphology: np.ndarray
    genant: np.ndarray


def _neighbour(level_index: np.ndarray, step: int) -> np.ndarray:
    names = np.asarray(vertebrae.LEVELS)[level_index + step]
    return np.asarray([cal.REFERENCE_HEIGHT_MM[name] for name in names.tolist()])


def draw_vertebrae(
    rng: np.random.Generator, technique: np.ndarray, level_index: np.ndarray, scale: np.ndarray
) -> Vertebrae:
    """technique, level index (T1 = 0) and body-size scale per vertebra."""
    m = len(technique)
    base_mean = cal.per_technique("rfvh_baseline", 0)[technique]
    base_sd = cal.per_technique("rfvh_baseline", 1)[technique]
    after_mean = cal.per_technique("rfvh_after", 0)[technique]
    after_sd = cal.per_technique("rfvh_after", 1)[technique]
    restores = cal.per_technique("restores_height")[technique] > 0
    loss_1y = cal.per_technique("rfvh_loss_1y")[technique]

    base = np.clip(rng.normal(base_mean, base_sd), 25, 95)
    restored = np.maximum(
        after_mean + 0.3 * (base - base_mean) + rng.normal(0, after_sd * 0.95), base + 2
    )
    unchanged = base + rng.normal(after_mean, after_sd)  # PVP: after_mean is the change
    week2 = np.where(restores, restored, unchanged)
    week12 = week2 - 0.4 * loss_1y + rng.normal(0, 1.5, m)
    year1 = week2 - loss_1y + rng.normal(0, 2.0, m)
    rfvh = np.clip(np.column_stack([base, week2, week12, year1]), 20, 100)

    lka_base = cal.LKA_INTERCEPT + cal.LKA_PER_LOSS * (100 - base) + rng.normal(0, cal.LKA_SD, m)
    correction = cal.LKA_PER_RESTORED_POINT * (rfvh - base[:, None])
    lka = (
        lka_base[:, None] - correction + np.column_stack([np.zeros(m), rng.normal(0, 2.0, (m, 3))])
    )

    above = _neighbour(level_index, -1) * scale * rng.normal(1, 0.03, m)
    below = _neighbour(level_index, +1) * scale * rng.normal(1, 0.03, m)
    posterior = (above + below) / 2 * rng.normal(0.97, 0.03, m)

    # The surgeon grades the collapse; mostly what the height loss suggests, sometimes one off.
    suggested = np.asarray([derived.suggested_genant_grade(100 - v) for v in base.tolist()])
    genant = np.clip(suggested + (rng.random(m) < 0.08) * rng.choice([-1, 1], m), 1, 3)
    return Vertebrae(
        rfvh=rfvh,
        lka=np.clip(lka, -20, 60),
        above=above,
        below=below,
        posterior=posterior,
        morphology=choice(rng, MORPHOLOGIES, (0.6, 0.25, 0.15), m),
        genant=genant,
    )


def _rfvh_column(anterior: np.ndarray, above: np.ndarray, below: np.ndarray) -> np.ndarray:
    values = [
        derived.rfvh(a, b, c)
        for a, b, c in zip(_none(anterior), _none(above), _none(below), strict=True)
    ]
    return np.asarray([np.nan if v is None else v for v in values], dtype=float)


def _none(values: np.ndarray) -> list:
    return [None if v != v else v for v in values.tolist()]  # NaN -> None


def radiograph_frame(
    rng: np.random.Generator,
    v: Vertebrae,
    visit_id: np.ndarray,
    vertebra: np.ndarray,
    timepoint: np.ndarray,
    treated_level_id: np.ndarray,
    first_id: int,
) -> Frame:
    """One film per (visit, vertebra): `vertebra` indexes v, `timepoint` the course column."""
    k = len(visit_id)
    above = np.round(v.above[vertebra] * rng.normal(1, 0.015, k), 1)
    below = np.round(v.below[vertebra] * rng.normal(1, 0.015, k), 1)
    true_rfvh = v.rfvh[vertebra, timepoint]
    anterior = np.round(true_rfvh / 100 * (above + below) / 2 * rng.normal(1, 0.01, k), 1)
    posterior = np.round(v.posterior[vertebra] * rng.normal(1, 0.015, k), 1)
    morphology = v.morphology[vertebra]
    middle = np.select(
        [morphology == "wedge", morphology == "biconcave"],
        [(anterior + posterior) / 2, np.minimum(anterior, posterior) * 0.88],
        anterior * 1.02,
    ) * rng.normal(1, 0.02, k)

    anterior = missing(rng, anterior, cal.MISSING_ITEM)
    above = missing(rng, above, cal.MISSING_ITEM)
    below = missing(rng, below, cal.MISSING_ITEM)
    lka = normal(rng, v.lka[vertebra, timepoint], 1.0, k, -45, 90)
    supine_share = np.where(timepoint == 0, 0.6, 0.15)
    return {
        "id": np.arange(first_id, first_id + k, dtype=np.int64),
        "visit_id": visit_id,
        "treated_level_id": treated_level_id,
        "film_position": np.where(rng.random(k) < supine_share, "supine", "standing"),
        "anterior_height_mm": anterior,
        "middle_height_mm": missing(rng, np.round(middle, 1), cal.MISSING_ITEM),
        "posterior_height_mm": missing(rng, posterior, cal.MISSING_ITEM),
        "above_anterior_height_mm": above,
        "below_anterior_height_mm": below,
        "lka_degrees": missing(rng, np.round(lka, 1) + 0.0, cal.MISSING_ITEM),
        "rfvh_percent": _rfvh_column(anterior, above, below),
    }
