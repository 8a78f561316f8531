"""Single-record derived values from DOMAIN.md, as pure functions.

Models call these to fill their stored derived columns; forms and the timeline call them to
show values as they are typed. None in, None out: a missing input never raises.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

Number = float | int | Decimal

ODI_SECTIONS = 10
ODI_MIN_ANSWERED = 8  # fewer answered sections: the ODI is not scored (ODI 2.1a)


def age_at(date_of_birth: date | None, on: date | None) -> int | None:
    """Age in whole years on a date (the procedure date)."""
    if date_of_birth is None or on is None:
        return None
    had_birthday = (on.month, on.day) >= (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - (0 if had_birthday else 1)


def bmi(height_cm: Number | None, weight_kg: Number | None) -> float | None:
    if not height_cm or not weight_kg:
        return None
    metres = float(height_cm) / 100
    return round(float(weight_kg) / (metres * metres), 1)


def odi_percent(answers: list[int | None]) -> float | None:
    """ODI % = sum / (5 x sections answered) x 100, or None below 8 answered sections."""
    answered = [a for a in answers if a is not None]
    if len(answered) < ODI_MIN_ANSWERED:
        return None
    return round(sum(answered) / (5 * len(answered)) * 100, 1)


def odi_band(percent: Number | None) -> str | None:
    if percent is None:
        return None
    value = float(percent)
    for upper, band in ((20, "minimal"), (40, "moderate"), (60, "severe"), (80, "crippled")):
        if value <= upper:
            return band
    return "bed-bound"


def rfvh(anterior: Number | None, above: Number | None, below: Number | None) -> float | None:
    """Relative fractured vertebral height: anterior height / mean(above, below) x 100."""
    if not anterior or not above or not below:
        return None
    reference = (float(above) + float(below)) / 2
    return round(float(anterior) / reference * 100, 2)


# A fractured vertebra's anterior height against its neighbours': below 5 % or above 150 %
# the numbers disagree (a typo, or mm and cm mixed), and RFVH would not fit its column.
RFVH_PLAUSIBLE = (5.0, 150.0)


def implausible_heights(
    anterior: Number | None, above: Number | None, below: Number | None
) -> dict[str, str]:
    """Field -> message when the three anterior heights cannot describe one spine."""
    value = rfvh(anterior, above, below)
    if value is None or RFVH_PLAUSIBLE[0] <= value <= RFVH_PLAUSIBLE[1]:
        return {}
    message = (
        f"Anterior height {float(anterior):g} mm against neighbours of {float(above):g} and "
        f"{float(below):g} mm gives a relative height of {value:.0f} % (plausible "
        f"{RFVH_PLAUSIBLE[0]:g}-{RFVH_PLAUSIBLE[1]:g} %): check these values (mm, not cm)."
    )
    return {
        "anterior_height_mm": message,
        "above_anterior_height_mm": "Check against the fractured vertebra's height.",
        "below_anterior_height_mm": "Check against the fractured vertebra's height.",
    }


def height_loss(rfvh_percent: Number | None) -> float | None:
    return None if rfvh_percent is None else round(100 - float(rfvh_percent), 2)


def suggested_genant_grade(loss_percent: Number | None) -> int | None:
    """Genant grade the height loss suggests: <20 % 0, 20-25 % 1, 25-40 % 2, >40 % 3."""
    if loss_percent is None:
        return None
    loss = float(loss_percent)
    if loss < 20:
        return 0
    if loss <= 25:
        return 1
    if loss <= 40:
        return 2
    return 3


def genant_mismatch(recorded: int | None, loss_percent: Number | None) -> bool:
    suggested = suggested_genant_grade(loss_percent)
    return recorded is not None and suggested is not None and suggested != recorded


def beck_index(anterior: Number | None, posterior: Number | None) -> float | None:
    if not anterior or not posterior:
        return None
    return round(float(anterior) / float(posterior), 3)


def difference(later: Number | None, earlier: Number | None) -> float | None:
    """later - earlier, e.g. height restoration = RFVH(visit) - RFVH(baseline)."""
    if later is None or earlier is None:
        return None
    return round(float(later) - float(earlier), 2)


class Timepoint(StrEnum):
    BASELINE = "baseline"
    WEEK_2 = "2w"
    WEEK_12 = "12w"
    YEAR_1 = "1y"
    UNSCHEDULED = "unscheduled"


@dataclass(frozen=True)
class Window:
    target: int
    start: int
    end: int


# Days after the procedure, inclusive (DOMAIN.md "Follow-up visit").
WINDOWS: dict[str, Window] = {
    Timepoint.BASELINE: Window(0, -30, 0),
    Timepoint.WEEK_2: Window(14, 7, 28),
    Timepoint.WEEK_12: Window(84, 56, 126),
    Timepoint.YEAR_1: Window(365, 270, 456),
}
SCHEDULED_TIMEPOINTS = tuple(WINDOWS)


class WindowStatus(StrEnum):
    IN_WINDOW = "in_window"
    EARLY = "early"
    LATE = "late"
    UNSCHEDULED = "unscheduled"


@dataclass(frozen=True)
class VisitWindow:
    status: WindowStatus
    target_date: date | None
    start_date: date | None
    end_date: date | None
    days_after_procedure: int | None


def visit_window(timepoint: str, procedure_date: date, visit_date: date | None) -> VisitWindow:
    """Where a visit falls against its timepoint's window. Out-of-window visits are flagged,
    never moved to another timepoint."""
    days = None if visit_date is None else (visit_date - procedure_date).days
    window = WINDOWS.get(timepoint)
    if window is None:
        return VisitWindow(WindowStatus.UNSCHEDULED, None, None, None, days)
    start = procedure_date + timedelta(days=window.start)
    end = procedure_date + timedelta(days=window.end)
    target = procedure_date + timedelta(days=window.target)
    if days is None or window.start <= days <= window.end:
        status = WindowStatus.IN_WINDOW
    elif days < window.start:
        status = WindowStatus.EARLY
    else:
        status = WindowStatus.LATE
    return VisitWindow(status, target, start, end, days)
