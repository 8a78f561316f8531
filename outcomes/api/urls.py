"""/api/v1/ routes for aggregates, cohorts and runs (issue 9), exports (issue 11) and data
quality (issue 12): each feature adds its router entries here."""

urlpatterns: list = []
