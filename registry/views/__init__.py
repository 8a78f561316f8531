"""Browser views of the registry, one small module per area.

Every view starts from `_access` (who may see and edit), reads through selectors and writes
through services; `_saving` makes multi-record pages all-or-nothing and handles conflicts.
"""

from registry.views.landing import home

__all__ = ["home"]
