"""outcomes.selectors.sql.read_frame on a selection that can match nothing."""

import pytest
from django.db.models import F

from outcomes.selectors.sql import read_frame
from registry.models import Procedure

pytestmark = pytest.mark.django_db


def test_an_empty_in_filter_reads_an_empty_frame_not_an_error():
    """Django compiles `site__in=[]` to no SQL at all (EmptyResultSet): a user whose sites
    have no patients gets an empty frame, as on SQLite, and no 500 on PostgreSQL's COPY."""
    selection = Procedure.objects.filter(patient__site_id__in=[]).annotate(unit_id=F("pk"))
    frame = read_frame(selection, {"unit_id": "id", "date": "category"})
    assert list(frame.columns) == ["unit_id", "date"]
    assert len(frame) == 0 and str(frame["unit_id"].dtype) == "int64"
