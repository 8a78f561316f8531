"""Fixtures for exports: files under a temporary root, and a request that runs its job."""

from __future__ import annotations

import pytest

from outcomes.exports.services import export_request


@pytest.fixture(autouse=True)
def export_root(tmp_path, settings):
    settings.EXPORT_ROOT = tmp_path / "exports"
    return settings.EXPORT_ROOT


@pytest.fixture
def export(django_capture_on_commit_callbacks):
    """export_request, then the commit: the job runs (eagerly) as in production."""

    def make(user, **kwargs):
        kwargs.setdefault("format", "csv")
        with django_capture_on_commit_callbacks(execute=True):
            made = export_request(user=user, **kwargs)
        made.refresh_from_db()
        return made

    return make
