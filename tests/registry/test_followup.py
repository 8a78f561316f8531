"""The one follow-up status: literal cases that every SQL twin is pinned to as well."""

from datetime import date

import pytest

from registry.followup import FollowUpStatus as S
from registry.followup import followup_status, window_dates

PROC = date(2025, 1, 1)

CASES = [
    # timepoint, visit date, as-of, withdrawn on, expected
    ("2w", date(2025, 1, 15), date(2025, 6, 1), None, S.IN_WINDOW),
    ("2w", date(2025, 1, 8), date(2025, 6, 1), None, S.IN_WINDOW),  # day 7: first day
    ("2w", date(2025, 1, 29), date(2025, 6, 1), None, S.IN_WINDOW),  # day 28: last day
    ("2w", date(2025, 1, 30), date(2025, 6, 1), None, S.OUT_OF_WINDOW),  # day 29
    ("2w", date(2025, 1, 5), date(2025, 6, 1), None, S.OUT_OF_WINDOW),  # day 4: early
    ("2w", None, date(2025, 1, 29), None, S.NOT_DUE),  # window still open on its last day
    ("2w", None, date(2025, 1, 30), None, S.MISSING),  # closed the day after
    ("2w", None, date(2025, 1, 2), None, S.NOT_DUE),  # not yet open
    ("1y", None, date(2025, 6, 1), None, S.NOT_DUE),
    ("1y", None, date(2026, 4, 2), None, S.NOT_DUE),  # day 456 is 2026-04-02
    ("1y", None, date(2026, 4, 3), None, S.MISSING),
    ("1y", None, date(2026, 6, 1), date(2025, 3, 1), S.WITHDRAWN),  # withdrew before closing
    ("1y", None, date(2026, 6, 1), date(2026, 5, 1), S.MISSING),  # withdrew after it closed
    ("12w", date(2025, 3, 26), date(2026, 6, 1), date(2025, 2, 1), S.IN_WINDOW),  # visit wins
    ("baseline", date(2024, 12, 20), date(2025, 1, 1), None, S.IN_WINDOW),
    ("baseline", date(2024, 11, 1), date(2025, 1, 1), None, S.OUT_OF_WINDOW),
    ("baseline", None, date(2025, 1, 2), None, S.MISSING),
]


@pytest.mark.parametrize(("timepoint", "visit", "as_of", "withdrawn", "expected"), CASES)
def test_it_gives_the_domain_status(timepoint, visit, as_of, withdrawn, expected):
    status = followup_status(
        timepoint=timepoint,
        procedure_date=PROC,
        visit_date=visit,
        as_of=as_of,
        withdrawn_on=withdrawn,
    )
    assert status is expected


def test_window_dates_are_inclusive_days_after_the_procedure():
    dates = window_dates("12w", PROC)
    assert (dates.opens, dates.target, dates.closes) == (
        date(2025, 2, 26),
        date(2025, 3, 26),
        date(2025, 5, 7),
    )
    assert dates.is_open(date(2025, 5, 7)) and dates.has_closed(date(2025, 5, 8))
