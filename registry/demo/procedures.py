"""Fractured levels, the procedure that treated them, what happened at each level."""

from dataclasses import dataclass

import numpy as np

from registry import vertebrae
from registry.demo import calibration as cal
from registry.demo.frames import Frame, choice, days, expand, gamma, missing, normal
from registry.demo.patients import Patients
from registry.demo.radiographs import Vertebrae

LOWEST, HIGHEST = vertebrae.level_index("T7"), vertebrae.level_index("L4")
PAIR_OFFSETS = np.array([-1, 1, -2, 2])
TRIPLE_OFFSETS = np.array([[-1, 1], [1, 2], [-2, -1]])
PAD = 99  # sorts after every real level


@dataclass
class Levels:
    """Treated vertebrae: one fracture and one treated level each (arrays of length m)."""

    patient: np.ndarray  # index into Patients
    level_index: np.ndarray  # T1 = 0
    count: np.ndarray  # per patient: how many levels
    first: np.ndarray  # per patient: index of its first level


def draw_levels(rng: np.random.Generator, n: int) -> Levels:
    """Index level from the published distribution, further levels next to it."""
    index = np.asarray([vertebrae.level_index(lv) for lv in cal.INDEX_LEVELS])[
        rng.choice(len(cal.INDEX_LEVELS), size=n, p=cal.INDEX_LEVEL_P)
    ]
    count = rng.choice([1, 2, 3], size=n, p=cal.LEVELS_TREATED_P)
    grid = np.full((n, 3), PAD)
    grid[:, 0] = index

    pair = PAIR_OFFSETS[rng.choice(4, size=n, p=[0.35, 0.35, 0.15, 0.15])]
    other = index + pair
    other = np.where((other < LOWEST) | (other > HIGHEST), index - pair, other)
    grid[count == 2, 1] = other[count == 2]

    triple = TRIPLE_OFFSETS[rng.choice(3, size=n, p=[0.5, 0.25, 0.25])]

    def outside(offsets: np.ndarray) -> np.ndarray:
        levels = index[:, None] + offsets
        return ((levels < LOWEST) | (levels > HIGHEST)).any(axis=1)

    triple = np.where(outside(triple)[:, None], -triple, triple)
    edge = np.where(index[:, None] <= LOWEST, TRIPLE_OFFSETS[1], TRIPLE_OFFSETS[2])
    triple = np.where(outside(triple)[:, None], edge, triple)
    grid[count == 3, 1:] = (index[:, None] + triple)[count == 3]

    grid.sort(axis=1)
    patient, _ = expand(count)
    return Levels(
        patient=patient,
        level_index=grid[grid != PAD],
        count=count,
        first=np.cumsum(count) - count,
    )


def fracture_frame(rng, p: Patients, lv: Levels, v: Vertebrae, first_id: int) -> Frame:
    m = len(lv.patient)
    onset = p.procedure_date[lv.patient] - days(np.maximum(gamma(rng, 18.0, 14.0, m), 2))
    onset = np.maximum(onset, p.date_of_birth[lv.patient])
    imaging = choice(rng, ("mri", "ct", "xray", "bone_scan"), (0.78, 0.14, 0.05, 0.03), m)
    oedema = np.where(imaging == "mri", rng.random(m) < 0.93, np.nan)
    # About 1 % of patients turn out to have a pathological fracture at their first level.
    first_level = lv.first[lv.patient] == np.arange(m)
    pathological = (rng.random(p.n) < cal.PATHOLOGICAL)[lv.patient] & first_level
    aetiology = np.where(
        pathological, np.where(rng.random(m) < 0.65, "tumour", "infection"), "osteoporotic"
    )
    return {
        "id": np.arange(first_id, first_id + m, dtype=np.int64),
        "patient_id": p.id[lv.patient],
        "level": np.asarray(vertebrae.LEVELS)[lv.level_index],
        "episode": np.ones(m, dtype=np.int64),
        "onset_date": onset,
        "imaging": imaging,
        "genant_grade": v.genant,
        "morphology": np.where(rng.random(m) < cal.MISSING_ITEM, "", v.morphology),
        "bone_marrow_oedema": missing(rng, oedema, cal.MISSING_ITEM),
        "intravertebral_cleft": missing(rng, rng.random(m) < 0.15, cal.MISSING_ITEM),
        "posterior_wall_intact": missing(rng, rng.random(m) < 0.9, cal.MISSING_ITEM),
        "aetiology": aetiology,
    }


def procedure_frame(rng, ctx, p: Patients, lv: Levels, first_id: int) -> tuple[Frame, np.ndarray]:
    """The procedure of each patient; also returns whether it was bipedicular."""
    n = p.n

    def col(attr: str, index: int | None = None) -> np.ndarray:
        return cal.per_technique(attr, index)[p.technique]

    bipedicular = rng.random(n) < col("bipedicular")
    local = rng.random(n) < col("local_anaesthesia")
    extra = 1 + 0.6 * (lv.count - 1)
    operation = normal(rng, col("operation_min", 0), col("operation_min", 1), n, 15, 200) * extra
    shots = normal(rng, col("fluoroscopy_shots", 0), col("fluoroscopy_shots", 1), n, 6, 150) * extra
    ambulation = np.clip(col("ambulation_hours") * np.exp(rng.normal(0, 0.45, n)), 2, 240)
    stay = normal(rng, 4.5 + 0.5 * (lv.count - 1), 1.8, n, 1, 30)
    frame = {
        "id": np.arange(first_id, first_id + n, dtype=np.int64),
        "patient_id": p.id,
        "date": p.procedure_date,
        "surgeon_id": ctx.surgeon_ids[p.site],
        "technique_id": ctx.technique_ids[p.technique],
        "approach": np.where(bipedicular, "bipedicular", "unipedicular"),
        "route": np.where(rng.random(n) < 0.07, "extrapedicular", "transpedicular"),
        "anaesthesia": np.where(
            local, "local", np.where(rng.random(n) < 0.65, "general", "spinal")
        ),
        "operation_time_min": missing(rng, np.round(np.minimum(operation, 600)), cal.MISSING_ITEM),
        "fluoroscopy_shots": missing(rng, np.round(shots), cal.MISSING_ITEM),
        "ambulation_hours": missing(rng, np.round(ambulation), cal.MISSING_ITEM),
        "hospital_stay_days": missing(rng, np.round(stay), cal.MISSING_ITEM),
    }
    return frame, bipedicular


def treated_level_frame(
    rng,
    p: Patients,
    lv: Levels,
    bipedicular: np.ndarray,
    procedure_ids,
    fracture_ids,
    first_id: int,
) -> Frame:
    m = len(lv.patient)
    technique = p.technique[lv.patient]
    cement_mean = cal.per_technique("cement_ml", 0)[technique]
    cement_sd = cal.per_technique("cement_ml", 1)[technique]
    thoracic = lv.level_index < vertebrae.level_index("L1")
    cement = normal(rng, cement_mean * np.where(thoracic, 0.85, 1.0), cement_sd, m, 1.0, 10.0)

    # Leakage is reported per patient: pick who leaked, then at which of their levels.
    leak_rate = cal.per_technique("leakage_per_patient")[p.technique]
    patient_leaked = rng.random(p.n) < leak_rate
    sure_level = lv.first + np.floor(rng.random(p.n) * lv.count).astype(np.int64)
    leaked = patient_leaked[lv.patient] & (
        (np.arange(m) == sure_level[lv.patient]) | (rng.random(m) < 0.25)
    )
    kind = choice(rng, ("B", "S", "C"), (0.35, 0.25, 0.40), m)
    location = choice(
        rng, ("paravertebral", "intradiscal", "epidural", "foraminal"), (0.45, 0.35, 0.1, 0.1), m
    )
    nerve_near = np.isin(location, ("epidural", "foraminal")) & (kind == "C")
    symptomatic = leaked & (rng.random(m) < np.where(nerve_near, 0.2, 0.01))

    devices = np.select(
        [technique == cal.PVP, technique == cal.VESSELPLASTY],
        [0, 1],
        np.where(bipedicular[lv.patient], 2, 1),
    )
    rupture = cal.per_technique("rupture_per_device")[technique]
    return {
        "id": np.arange(first_id, first_id + m, dtype=np.int64),
        "procedure_id": procedure_ids[lv.patient],
        "fracture_id": fracture_ids,
        "cement_volume_ml": missing(rng, np.round(cement, 1), cal.MISSING_ITEM),
        "leakage": np.where(leaked, kind, "none"),
        "leakage_location": np.where(leaked & (kind == "C"), location, ""),
        "leakage_symptomatic": symptomatic,
        "leakage_seen_on": np.where(leaked, choice(rng, ("xray", "ct"), (0.6, 0.4), m), ""),
        "devices_used": devices,
        "devices_ruptured": rng.binomial(devices, rupture),
    }
