"""Cohort exports: the rows of a cohort (SQL built from the data dictionary), de-identified
per export, written in the formats analysts use, zipped by a Celery job with a README."""
