"""Data quality and follow-up completeness: the rule catalogue, the Celery job that runs it
over a user's sites, the coordinator's work list and the completeness tables (issue 12).

A Django app of its own (label `quality`) inside `outcomes`: it reads `registry`, never the
reverse, and keeps its tables and migrations apart from the statistics app."""
