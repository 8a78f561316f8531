"""The numbers the demo cohort is drawn from, and where each comes from.

Sources (DOMAIN.md, "What the published cohorts look like"):
  seed 000  Genant 3, Vesselplasty n=54 vs PVP n=41: RFVH, LKA, leakage 1.85 % vs 14.63 %
  seed 001  VBS n=30 vs PKP n=32: leakage 13.33 % vs 31.25 %, balloon rupture 5/60 vs 0/64,
            VBS back to weight bearing earlier, follow-up 14.11 +/- 1.29 months
  seed 002  PKP n=75: age 65.8 +/- 8.2, 73.3 % female, BMI 27.9, L1 38.7 %, single level 60 %,
            VAS 9.2 -> 1.8 at 12 weeks, body height 27.8 -> 30.5 mm
The published cohorts disagree where they measure differently: seed 002's PKP patients have a
milder collapse (anterior height 27.8 mm of a ~37 mm reference, RFVH ~75 %) than seed 000's
Genant grade 3 patients (RFVH ~56 %); both end near 82 % after a height-restoring technique.
The Genant grade is then read from the drawn baseline height loss, as a surgeon would.
"""

from dataclasses import dataclass

import numpy as np

# Technique codes in the order every per-technique array below uses.
TECHNIQUES = ("PVP", "PKP", "VESSELPLASTY", "VBS")
PVP, PKP, VESSELPLASTY, VBS = range(4)

# Share of each technique in the registry; each site draws its own mix around it.
TECHNIQUE_MIX = (0.30, 0.32, 0.20, 0.18)


@dataclass(frozen=True)
class TechniqueProfile:
    bmi_mean: float
    vas_baseline: float  # mean VAS before the procedure (sd 0.7)
    rfvh_baseline: tuple[float, float]  # mean, sd (%)
    # At 2 weeks: mean, sd of the RFVH when the technique restores height, else of the change.
    rfvh_after: tuple[float, float]
    restores_height: bool
    rfvh_loss_1y: float  # percentage points lost between 2w and 1y
    bipedicular: float  # share of bipedicular approaches
    local_anaesthesia: float
    cement_ml: tuple[float, float]  # per level, lumbar
    operation_min: tuple[float, float]  # first level; each further level adds 60 %
    fluoroscopy_shots: tuple[float, float]
    ambulation_hours: float  # median
    leakage_per_patient: float
    rupture_per_device: float
    weight_bearing_days: float  # mean days to pre-injury weight-bearing activity


PROFILES = (
    # PVP: no cavity, no height restoration (seed 000: 56.01 -> 56.29 -> 56.13).
    TechniqueProfile(
        bmi_mean=24.5,
        vas_baseline=8.6,
        rfvh_baseline=(56.0, 6.0),
        rfvh_after=(0.3, 4.0),
        restores_height=False,
        rfvh_loss_1y=0.2,
        bipedicular=0.35,
        local_anaesthesia=0.80,
        cement_ml=(4.0, 0.8),
        operation_min=(35, 9),
        fluoroscopy_shots=(26, 7),
        ambulation_hours=14,
        leakage_per_patient=0.1463,
        rupture_per_device=0.0,
        weight_bearing_days=16,
    ),
    # PKP: seed 002 (27.8 -> 30.5 mm anterior height, +9.7 %) and seed 001.
    TechniqueProfile(
        bmi_mean=27.0,
        vas_baseline=9.2,
        rfvh_baseline=(75.0, 7.0),
        rfvh_after=(82.3, 6.5),
        restores_height=True,
        rfvh_loss_1y=0.8,
        bipedicular=0.80,
        local_anaesthesia=0.45,
        cement_ml=(5.0, 0.9),
        operation_min=(50, 12),
        fluoroscopy_shots=(36, 9),
        ambulation_hours=20,
        leakage_per_patient=0.3125,
        rupture_per_device=0.002,
        weight_bearing_days=20,
    ),
    # Vesselplasty: seed 000 (55.93 -> 82.11 -> 81.02; leakage 1/54).
    TechniqueProfile(
        bmi_mean=24.5,
        vas_baseline=8.6,
        rfvh_baseline=(55.9, 9.6),
        rfvh_after=(82.1, 8.3),
        restores_height=True,
        rfvh_loss_1y=1.1,
        bipedicular=0.30,
        local_anaesthesia=0.80,
        cement_ml=(4.5, 0.9),
        operation_min=(45, 11),
        fluoroscopy_shots=(31, 8),
        ambulation_hours=16,
        leakage_per_patient=0.0185,
        rupture_per_device=0.0,
        weight_bearing_days=17,
    ),
    # VBS: seed 001 (more height and Cobb correction than PKP, earlier weight bearing).
    TechniqueProfile(
        bmi_mean=25.0,
        vas_baseline=8.8,
        rfvh_baseline=(57.0, 9.0),
        rfvh_after=(85.0, 7.5),
        restores_height=True,
        rfvh_loss_1y=0.6,
        bipedicular=0.92,
        local_anaesthesia=0.45,
        cement_ml=(5.1, 1.0),
        operation_min=(52, 12),
        fluoroscopy_shots=(37, 9),
        ambulation_hours=20,
        leakage_per_patient=0.1333,
        rupture_per_device=0.0833,
        weight_bearing_days=12,
    ),
)

# Patients (seed 002 and the brief): age 66 +/- 8 within 46-90, 73 % female.
AGE_MEAN, AGE_SD, AGE_MIN, AGE_MAX = 66.0, 8.0, 46, 90
FEMALE_SHARE = 0.73
BMI_SD = 4.0
HEIGHT_CM = {"F": (155.0, 6.0), "M": (167.0, 7.0)}

# Index (most painful) fractured level, T7..L4; with the neighbours treated with it, L1 is
# ~39 % of treated vertebrae, T11-L2 ~75 %, T7-T12 ~30 %.
INDEX_LEVELS = ("T7", "T8", "T9", "T10", "T11", "T12", "L1", "L2", "L3", "L4")
INDEX_LEVEL_P = (0.015, 0.015, 0.025, 0.035, 0.06, 0.11, 0.50, 0.13, 0.07, 0.04)
LEVELS_TREATED_P = (0.60, 0.28, 0.12)  # 1, 2, 3 levels

# Anterior height (mm, lateral film, magnified) of a normal vertebra at each level T7..L4.
REFERENCE_HEIGHT_MM = dict(
    zip(INDEX_LEVELS, (30.0, 31.0, 32.0, 33.0, 34.5, 35.5, 37.0, 38.0, 39.0, 39.5), strict=True)
)
# Adjacent normal levels are needed outside T7..L4 too.
REFERENCE_HEIGHT_MM.update({"T6": 29.0, "L5": 39.0})

# LKA (degrees) grows with the height loss: 7 + 0.45 x loss gives seed 000's 27 degrees at a
# 44 % loss; each point of RFVH restored corrects ~0.6 degrees (seed 000: 26 points, 16 deg).
LKA_INTERCEPT, LKA_PER_LOSS, LKA_SD = 7.0, 0.45, 4.5
LKA_PER_RESTORED_POINT = 0.6

# Pain and function over time (means; VAS sd at follow-up from seed 002: 1.8 +/- 1.9).
VAS_AFTER = {"2w": (2.6, 1.4), "12w": (1.8, 1.9), "1y": (1.6, 1.7)}
ODI_MEAN = {"baseline": 72.0, "2w": 34.0, "12w": 23.0, "1y": 18.0}
ODI_SD = 10.0
ODI_SEX_LIFE_SKIPPED = 0.35  # section 8 is often left blank by elderly patients

# Visit timing (days after the procedure): in-window draws, then ~3 % pushed out of window.
VISIT_DAYS = {"2w": (14.0, 2.5, 8, 24), "12w": (86.0, 8.0, 60, 120), "1y": (395.0, 30.0, 300, 450)}
OUT_OF_WINDOW_DAYS = {
    "2w": ((4, 6), (29, 42)),
    "12w": ((40, 55), (127, 160)),
    "1y": ((240, 269), (457, 520)),
}
OUT_OF_WINDOW = 0.03
# Cumulative loss to follow-up before each visit, plus an occasional single missed visit.
LOST_BEFORE = {"2w": 0.04, "12w": 0.085, "1y": 0.185}
MISSED_VISIT = 0.015
UNSCHEDULED_VISIT = 0.03
MISSING_ITEM = 0.02

PATHOLOGICAL = 0.01  # tumour or infection: outside every study's inclusion criteria
WITHDRAWN = 0.005

# Adverse events per patient (seed 000: none of the serious ones in 95 patients).
ADVERSE_EVENTS = {
    # type: (rate per patient, mean onset days, Clavien-Dindo weights I..V, on a treated level)
    "adjacent_fracture": (0.05, 150, (0.45, 0.40, 0.15, 0.0, 0.0), False),
    "refracture": (0.02, 110, (0.15, 0.50, 0.35, 0.0, 0.0), True),
    "cement_displacement": (0.004, 60, (0.30, 0.40, 0.30, 0.0, 0.0), True),
    "pulmonary_embolism": (0.002, 1, (0.55, 0.30, 0.05, 0.10, 0.0), False),
    "bleeding": (0.002, 1, (0.60, 0.35, 0.05, 0.0, 0.0), False),
    "infection": (0.001, 14, (0.0, 0.60, 0.35, 0.05, 0.0), True),
    "neurological_injury": (0.001, 1, (0.20, 0.40, 0.30, 0.10, 0.0), True),
    "canal_compression": (0.001, 1, (0.10, 0.30, 0.55, 0.05, 0.0), True),
    "cement_reaction": (0.001, 0, (0.50, 0.30, 0.0, 0.15, 0.05), False),
    "other": (0.01, 5, (0.70, 0.28, 0.02, 0.0, 0.0), False),
}


def per_technique(attr: str, index: int | None = None) -> np.ndarray:
    """A profile attribute as an array indexed by technique (element `index` of a pair)."""
    values = [getattr(profile, attr) for profile in PROFILES]
    if index is not None:
        values = [value[index] for value in values]
    return np.asarray(values, dtype=float)
