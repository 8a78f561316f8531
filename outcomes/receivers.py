"""Reactions to the registry's signals (registry never imports outcomes)."""

from outcomes.services import note_data_changed
from outcomes.services.clock import data_clock_tick


def on_clinical_data_changed(sender, *, site_id: int, **kwargs) -> None:
    data_clock_tick(site_id=site_id)
    note_data_changed(site_id=site_id)
