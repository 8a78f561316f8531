"""Helpers for the data-quality tests: run one rule, read what it flagged."""

from __future__ import annotations

from datetime import date

import pytest

from outcomes.quality.rules import RULES_BY_CODE, Context
from registry.models import Site

AS_OF = date(2026, 6, 30)


def flagged(code: str, *sites: Site, as_of: date = AS_OF) -> dict[tuple[int, str], dict]:
    """(record_id, item) -> the finding row, for rule `code` over `sites`."""
    frame = RULES_BY_CODE[code].find(Context(tuple(s.pk for s in sites), as_of))
    return {(int(row["record_id"]), row["item"]): row for row in frame.to_dict("records")}


@pytest.fixture
def found():
    return flagged
