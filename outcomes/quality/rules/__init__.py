"""The data-quality rules: the catalogue (one place) and the finders behind it."""

from outcomes.quality.rules.base import CATEGORIES, FINDING_COLUMNS, Context, Rule
from outcomes.quality.rules.catalogue import CATALOGUE_VERSION, RULES, RULES_BY_CODE

__all__ = [
    "CATALOGUE_VERSION",
    "CATEGORIES",
    "FINDING_COLUMNS",
    "RULES",
    "RULES_BY_CODE",
    "Context",
    "Rule",
]
