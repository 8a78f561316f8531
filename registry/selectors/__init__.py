"""Reads that span tables. `patients_visible_to` is the one visibility rule every view, API,
statistic and export starts from; the worklist and timeline selectors build on it. Who may do
what is `registry.permissions`."""

from registry.selectors.visibility import patients_visible_to, sites_visible_to

__all__ = ["patients_visible_to", "sites_visible_to"]
