"""All tables of one export come from one snapshot: a visit changed and an adverse event
deleted (and committed) by someone else while the export is written show in none of the
tables written after (PostgreSQL: one REPEATABLE READ transaction)."""

from __future__ import annotations

from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connections

from outcomes.exports import package, services
from outcomes.exports.models import Export, ExportStatus
from registry.models import AdverseEvent, FollowUpVisit, Role
from tests.factories import SiteFactory, member
from tests.outcomes.conftest import make_case
from tests.outcomes.exports.conftest import read_table


def test_a_write_during_the_export_shows_in_no_table(committed_db, monkeypatch):
    """(committed_db: rows committed for real, PostgreSQL only, emptied afterwards.)"""
    site = SiteFactory(code="site-s")
    coordinator = member(site, Role.COORDINATOR, username="snapshot-coordinator")
    case = make_case(site=site, vas={"baseline": "8.0", "12w": "2.0"})
    make_case(site=site)
    event = case.adverse_events.create(
        event_type="adjacent_fracture", onset_date=case.date, clavien_dindo="I", resolved=True
    )
    visit = FollowUpVisit.objects.get(procedure=case, timepoint="12w")
    monkeypatch.setattr(services, "queue_export", lambda export_id: None)
    export = services.export_request(user=coordinator, format="csv")

    written: list[str] = []
    write_table = package._write_table

    def write_then_someone_else_writes(export, name, archive, step):
        count = write_table(export, name, archive, step)
        written.append(name)
        if name == "procedures":  # the wide, long and adverse-event tables are still to come
            other = connections.create_connection(DEFAULT_DB_ALIAS)
            try:
                with other.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {FollowUpVisit._meta.db_table} SET vas = %s WHERE id = %s",  # noqa: S608
                        [Decimal("0.5"), visit.pk],
                    )
                    cursor.execute(
                        f"DELETE FROM {AdverseEvent._meta.db_table} WHERE id = %s",  # noqa: S608
                        [event.pk],
                    )
            finally:
                other.close()
        return count

    monkeypatch.setattr(package, "_write_table", write_then_someone_else_writes)
    assert services.export_build(export_id=export.pk) == "done"
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE and written[:2] == ["patients", "procedures"]
    # The other connection's writes were committed ...
    visit.refresh_from_db()
    assert visit.vas == Decimal("0.5") and not AdverseEvent.objects.filter(pk=event.pk).exists()
    # ... and no table written after them shows them.
    wide, _ = read_table(export, "wide")
    long, _ = read_table(export, "long")
    events, _ = read_table(export, "adverse_events")
    assert sorted(wide["vas_12w"].dropna().tolist()) == [2.0, 2.0]
    assert 0.5 not in long["vas"].tolist() and 2.0 in long["vas"].tolist()
    assert len(events) == 1 and export.row_counts["adverse_events"] == 1
    assert Export.objects.get(pk=export.pk).progress == 100
