"""REST API for aggregates, cohorts, runs, exports and data quality."""
