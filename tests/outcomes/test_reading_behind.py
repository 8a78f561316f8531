"""Reading behind: outside a transaction, a second connection shares the snapshot."""

import pandas as pd
import pytest

from outcomes import cohorts
from outcomes.selectors import CohortData, Scope
from tests.factories import SiteFactory
from tests.outcomes.conftest import make_case

NO_RULES = dict.fromkeys(cohorts.RULE_FIELDS, False)


def test_reading_behind_on_a_second_connection_gives_the_same_frames(committed_db):
    """Outside a transaction (as in a worker) the later frames come from a second
    connection that imports the first one's snapshot."""
    sites = [SiteFactory(code="one"), SiteFactory(code="two")]
    for site, technique in ((sites[0], "PKP"), (sites[1], "PVP"), (sites[0], "VBS")):
        make_case(site=site, technique=technique)
    scope = Scope.of(site.pk for site in sites)
    behind = CohortData(filters={}, rules=NO_RULES, scope=scope)
    behind.read(["visit_pivot"], behind=["film_pivot", "cases", "adverse_events", "version"])
    assert "cases" in behind._values  # read behind, not on demand below
    in_order = CohortData(filters={}, rules=NO_RULES, scope=scope)
    pd.testing.assert_frame_equal(behind.cases, in_order.cases)
    pd.testing.assert_frame_equal(behind.wide, in_order.wide)
    assert behind.version() == in_order.version()


@pytest.mark.django_db
def test_inside_a_transaction_everything_is_read_in_order(site_a):
    """Tests and eager tasks run inside a transaction a second connection cannot see."""
    make_case(site=site_a)
    data = CohortData(filters={}, rules=NO_RULES, scope=Scope.of([site_a.pk]))
    data.read(["visit_pivot"], behind=["film_pivot", "cases", "version"])
    assert all(data._values[name].done() for name in ("film_pivot", "cases", "version"))


def test_whole_tables_read_the_selection_first_and_the_wide_reads_after_it(
    committed_db, monkeypatch
):
    """A registry-wide cohort's wide reads (films, levels) wait for the selection's inputs
    (they would share the database's cores with them), and the result is what reading in
    order gives."""
    sites = [SiteFactory(code="one"), SiteFactory(code="two")]
    for site, technique in ((sites[0], "PKP"), (sites[1], "PVP"), (sites[0], "VBS")):
        make_case(site=site, technique=technique)
    scope = Scope.of(site.pk for site in sites)
    rules = dict.fromkeys(cohorts.RULE_FIELDS, True)
    events = []
    fill = CohortData._fill

    def logged(self, name, future):
        events.append(("start", name))
        fill(self, name, future)
        events.append(("end", name))

    monkeypatch.setattr(CohortData, "_fill", logged)
    behind = CohortData(filters={}, rules=rules, scope=scope)
    behind.read(["visit_pivot"], behind=["film_pivot", "cases", "adverse_events", "version"])
    assert behind.whole_tables
    behind.version()  # every reader done
    inputs = {"procedure_rows", "collapsed_visits", "visit_rows", "pathological"}
    for wide in ("film_rows", "level_rows"):
        started = events.index(("start", wide))
        assert all(events.index(("end", name)) < started for name in inputs)
    monkeypatch.setattr(CohortData, "_fill", fill)
    in_order = CohortData(filters={}, rules=rules, scope=scope)
    in_order._whole = False  # the SQL selection, read in order
    assert behind.case_ids and behind.case_ids == in_order.case_ids
    pd.testing.assert_frame_equal(behind.cases, in_order.cases)
    pd.testing.assert_frame_equal(behind.wide, in_order.wide)
