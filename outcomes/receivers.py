"""Reactions to the registry's signals (registry never imports outcomes)."""

from outcomes.services import note_data_changed, note_site_changed


def on_clinical_data_changed(sender, *, site_id: int, **kwargs) -> None:
    note_data_changed(site_id=site_id)
    note_site_changed(site_id=site_id)
