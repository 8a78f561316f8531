"""Signals registry sends so that other apps can react without registry importing them."""

from django.dispatch import Signal

# Sent after a transaction that wrote clinical data commits; kwargs: site_id, user.
# outcomes listens to refresh cached statistics (debounced) - registry never imports outcomes.
clinical_data_changed = Signal()
