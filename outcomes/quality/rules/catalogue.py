"""THE catalogue of data-quality rules: code, what it checks, severity, the record it flags.

Everything that lists rules (the job, the page, the API, the CSV) reads this tuple. Each
rule has literal test cases in tests/outcomes/quality/test_rules.py: a row that must be
flagged and one that must not. Add a rule here, with its finder and its two cases.
"""

from __future__ import annotations

from outcomes.quality.models import Severity
from outcomes.quality.rules import heights, missing, plausibility, windows
from outcomes.quality.rules.base import Rule
from outcomes.quality.rules.heights import OUTLIER_SD
from outcomes.quality.rules.plausibility import (
    BMI_MAX,
    BMI_MIN,
    CEMENT_MAX_ML,
    LKA_CORRECTION_MAX,
    RESTORATION_MAX,
    RFVH_MAX,
)

# Bump when a rule changes what it flags: stored runs say which catalogue produced them.
CATALOGUE_VERSION = "1"

RULES: tuple[Rule, ...] = (
    # --- missing key items, per form
    Rule(
        "MIS-BASE",
        "Baseline visit missing",
        "A procedure has no baseline (pre-operative) visit.",
        Severity.HIGH,
        "procedure",
        "missing",
        missing.baseline_visit_missing,
    ),
    Rule(
        "MIS-VAS-B",
        "Baseline VAS missing",
        "The baseline visit has no VAS back-pain score.",
        Severity.HIGH,
        "visit",
        "missing",
        missing.baseline_vas_missing,
    ),
    Rule(
        "MIS-VAS-F",
        "Follow-up VAS missing",
        "A 2-week, 12-week or 1-year visit has no VAS back-pain score.",
        Severity.MEDIUM,
        "visit",
        "missing",
        missing.follow_up_vas_missing,
    ),
    Rule(
        "MIS-ODI",
        "ODI not scorable",
        "A scheduled visit has fewer than 8 of the 10 ODI sections answered.",
        Severity.MEDIUM,
        "visit",
        "missing",
        missing.odi_not_scored,
    ),
    Rule(
        "MIS-FILM",
        "Radiograph missing",
        "A treated vertebra has no radiograph at a scheduled visit.",
        Severity.MEDIUM,
        "visit",
        "missing",
        missing.radiograph_missing,
    ),
    Rule(
        "MIS-HEIGHT",
        "Radiograph incomplete",
        "A radiograph lacks a height RFVH needs (anterior, above, below) or the LKA.",
        Severity.MEDIUM,
        "radiograph",
        "missing",
        missing.radiograph_incomplete,
    ),
    Rule(
        "MIS-CEMENT",
        "Cement volume missing",
        "A treated level has no cement volume.",
        Severity.MEDIUM,
        "treated_level",
        "missing",
        missing.cement_volume_missing,
    ),
    Rule(
        "MIS-BMI",
        "Height or weight missing",
        "The patient's height or weight is missing, so BMI cannot be computed.",
        Severity.LOW,
        "patient",
        "missing",
        missing.height_or_weight_missing,
    ),
    # --- implausible values
    Rule(
        "IMP-RFVH",
        f"RFVH above {RFVH_MAX} %",
        f"The fractured vertebra is more than {RFVH_MAX} % of its neighbours' mean height.",
        Severity.HIGH,
        "radiograph",
        "implausible",
        plausibility.rfvh_too_high,
    ),
    Rule(
        "IMP-RESTORE",
        f"Height restoration above {RESTORATION_MAX} points",
        f"RFVH rose more than {RESTORATION_MAX} percentage points since the baseline film "
        "of the same vertebra.",
        Severity.MEDIUM,
        "radiograph",
        "implausible",
        heights.height_restoration_too_high,
    ),
    Rule(
        "IMP-LKA",
        f"LKA correction above {LKA_CORRECTION_MAX} degrees",
        f"The local kyphosis angle fell more than {LKA_CORRECTION_MAX} degrees since the "
        "baseline film of the same vertebra.",
        Severity.MEDIUM,
        "radiograph",
        "implausible",
        heights.lka_correction_too_high,
    ),
    Rule(
        "IMP-CEMENT",
        f"Cement volume above {CEMENT_MAX_ML} ml",
        f"More than {CEMENT_MAX_ML} ml of cement recorded in one treated level.",
        Severity.HIGH,
        "treated_level",
        "implausible",
        plausibility.cement_too_much,
    ),
    Rule(
        "IMP-BMI",
        f"BMI below {BMI_MIN} or above {BMI_MAX}",
        f"Height and weight give a BMI under {BMI_MIN} or over {BMI_MAX} kg/m².",
        Severity.HIGH,
        "patient",
        "implausible",
        plausibility.bmi_implausible,
    ),
    Rule(
        "IMP-WB",
        "Weight-bearing before the procedure",
        "The date weight-bearing activity resumed precedes the procedure.",
        Severity.HIGH,
        "visit",
        "implausible",
        plausibility.weight_bearing_before_procedure,
    ),
    # --- Genant grade vs heights
    Rule(
        "GEN-GRADE",
        "Genant grade disagrees with heights",
        "The recorded Genant grade differs from the one the baseline height loss suggests "
        "(<20 % 0, 20-25 % 1, 25-40 % 2, >40 % 3).",
        Severity.MEDIUM,
        "fracture",
        "genant",
        heights.genant_mismatch,
    ),
    # --- outliers
    Rule(
        "OUT-VISIT",
        f"VAS or ODI beyond {OUTLIER_SD} SD",
        f"A VAS or ODI more than {OUTLIER_SD} SD from the mean of its site, technique and "
        "timepoint.",
        Severity.LOW,
        "visit",
        "outlier",
        heights.visit_outliers,
    ),
    Rule(
        "OUT-FILM",
        f"RFVH or LKA beyond {OUTLIER_SD} SD",
        f"An RFVH or LKA more than {OUTLIER_SD} SD from the mean of its site, technique and "
        "timepoint.",
        Severity.LOW,
        "radiograph",
        "outlier",
        heights.film_outliers,
    ),
    # --- follow-up windows
    Rule(
        "WIN-OUT",
        "Visit out of window",
        "A scheduled visit is dated outside its timepoint's window (kept, never moved).",
        Severity.MEDIUM,
        "visit",
        "window",
        windows.visit_out_of_window,
    ),
)

RULES_BY_CODE = {rule.code: rule for rule in RULES}
