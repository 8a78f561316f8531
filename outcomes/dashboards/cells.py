"""Small-cell suppression of what a dashboard draws from results that include patients
outside the viewer's sites (the registry-wide reference, other sites' funnel points).

The house rule (DOMAIN.md): a count from 1 to k-1 is withheld, with its rate and CI; where
a total is shown, a second cell is withheld so the first cannot be recovered. Here the
records are already reduced to (events, n) per point, so the rule reads: a point is
withheld when its n, its events or its non-events lie in 1..k-1.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from outcomes.dashboards.results import Estimate, FunnelUnit


def min_cell_count() -> int:
    return int(getattr(settings, "MIN_CELL_COUNT", 5))


def _small(count: int | None, k: int) -> bool:
    return count is not None and 0 < count < k


def withhold_estimates(estimates: Iterable[Estimate], k: int | None = None) -> None:
    """Means rest on n values; rates on events and non-events too."""
    k = min_cell_count() if k is None else k
    for estimate in estimates:
        counts = [estimate.n]
        if estimate.events is not None:
            counts += [estimate.events, estimate.n - estimate.events]
        if any(_small(c, k) for c in counts):
            estimate.withheld = True
            estimate.value = estimate.low = estimate.high = None
            estimate.events = None


def withhold_units(units: list[FunnelUnit], k: int | None = None) -> int:
    """Withhold small other-site points; with the registry total on the plot, one withheld
    point could be recovered by subtraction, so a second (the smallest shown) goes too.
    Returns how many were withheld."""
    k = min_cell_count() if k is None else k
    withheld = 0
    for unit in units:
        if any(_small(c, k) for c in (unit.n, unit.events, (unit.n or 0) - (unit.events or 0))):
            _withhold(unit)
            withheld += 1
    if withheld == 1:
        shown = sorted((u for u in units if not u.withheld), key=lambda u: u.n or 0)
        if shown:
            _withhold(shown[0])
            withheld += 1
    return withheld


def _withhold(unit: FunnelUnit) -> None:
    unit.withheld = True
    unit.events = unit.n = unit.rate = None
