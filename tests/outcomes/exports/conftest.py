"""Fixtures for exports: files under a temporary root, a request that runs its job, a small
cohort with distinctive identifiers, and readers that decode every format back to frames."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest
from django.utils import timezone
from openpyxl import load_workbook

from outcomes.exports.services import export_file, export_request
from tests.factories import VisitFactory
from tests.outcomes.conftest import Level, make_case

# Values that must never leave in a de-identified export.
FAMILY, GIVEN, RECORD = "Quixotebury", "Zephyrine", "MRN-775533-LEAK"
BORN = date(1931, 2, 13)  # 92 at the procedure: shown as 90
NOTE, EVENT_TEXT, WITHDRAWAL = "NOTE-SECRET-4471", "DESC-SECRET-8812", "WITHDRAWN-SECRET-3390"


@pytest.fixture(autouse=True)
def export_root(tmp_path, settings, monkeypatch):
    """Zips under the test's folder, here and in a worker process the test starts."""
    settings.EXPORT_ROOT = tmp_path / "exports"
    monkeypatch.setenv("EXPORT_ROOT", str(settings.EXPORT_ROOT))
    return settings.EXPORT_ROOT


@pytest.fixture
def export(django_capture_on_commit_callbacks):
    """export_request, then the commit: the job runs (eagerly) as in production."""

    def make(user, **kwargs):
        kwargs.setdefault("format", "csv")
        with django_capture_on_commit_callbacks(execute=True):
            made = export_request(user=user, **kwargs)
        made.refresh_from_db()
        assert made.status == "done", made.error
        return made

    return make


def _films(anterior: str, lka: str) -> tuple:
    return (Decimal(anterior), Decimal("26.0"), Decimal("28.0"), Decimal(lka))


@pytest.fixture
def cohort_cases(site_a, site_b):
    """Three patients at site A (one old and distinctive, one two-level, one with a missing
    visit value), one at site B, and one withdrawn at site A. Every treated level has its
    own cement volume, which identifies it in the wide table."""
    old = make_case(
        site=site_a,
        born=BORN,
        family_name=FAMILY,
        given_name=GIVEN,
        hospital_record_number=RECORD,
        vas={"baseline": "9.1", "2w": "3.4", "12w": "2.0"},
        levels=[
            Level(
                "T12",
                cement=Decimal("3.1"),
                films={"baseline": _films("17.5", "21.5"), "2w": _films("23.0", "13.0")},
            )
        ],
        procedure_fields={"operation_time_min": 51},
    )
    old.visits.filter(timepoint="2w").update(notes=NOTE)
    old.adverse_events.create(
        event_type="adjacent_fracture",
        onset_date=old.date + timedelta(days=30),
        clavien_dindo="II",
        resolved=True,
        description=EVENT_TEXT,
        treated_level=old.treated_levels.get(),
    )
    two_level = make_case(
        site=site_a,
        technique="PVP",
        sex="M",
        born=date(1948, 11, 2),
        operated=date(2023, 6, 1),
        vas={"baseline": "7.5", "12w": "1.5"},
        levels=[
            Level("L1", cement=Decimal("4.2"), leakage="B"),
            Level(
                "L2", cement=Decimal("5.3"), genant=2, films={"baseline": _films("20.0", "15.0")}
            ),
        ],
    )
    # An unscheduled visit, and a 1-year visit outside its window (kept, flagged).
    VisitFactory(
        procedure=two_level, timepoint="unscheduled", visit_date=date(2023, 8, 1), vas=None
    )
    VisitFactory(
        procedure=two_level, timepoint="1y", visit_date=date(2024, 10, 1), vas=Decimal("1.0")
    )
    make_case(
        site=site_a, vas={"baseline": "8.0", "12w": None}, levels=[Level(cement=Decimal("2.7"))]
    )
    make_case(site=site_b, technique="VBS", levels=[Level(cement=Decimal("6.4"))])
    gone = make_case(site=site_a, levels=[Level(cement=Decimal("1.9"))])
    gone.patient.__class__.objects.filter(pk=gone.patient_id).update(
        withdrawn_at=timezone.now(), withdrawal_reason=WITHDRAWAL
    )
    return {"old": old, "two_level": two_level}


# ------------------------------------------------------------------ reading packages


def package(export) -> zipfile.ZipFile:
    return zipfile.ZipFile(export_file(export))


def read_table(export, name: str) -> tuple[pd.DataFrame, object]:
    """One table of a package as a frame (and the SPSS/Stata metadata, else None)."""
    archive = package(export)
    fmt = export.format
    extension = {"csv_labelled": "csv"}.get(fmt, fmt)
    data = archive.read(f"{name}.{extension}")
    if extension == "csv":
        return pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values=[""]), None
    if fmt == "parquet":
        return pq.read_table(io.BytesIO(data)).to_pandas(), None
    if fmt == "xlsx":
        return pd.read_excel(io.BytesIO(data), engine="openpyxl"), None
    path = Path(export_file(export)).with_suffix(f".{name}.{fmt}")
    path.write_bytes(data)
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    frame, meta = reader(str(path))
    return frame, meta


def decoded_texts(export) -> list[str]:
    """Every file of a package decoded to text: CSV and README as text, XLSX cells, SPSS and
    Stata values, variable and value labels, Parquet values and schema metadata."""
    archive = package(export)
    texts = []
    scratch = Path(export_file(export)).parent
    for name in archive.namelist():
        data = archive.read(name)
        texts.append(data.decode("utf-8", errors="replace"))  # raw bytes too
        suffix = name.rsplit(".", 1)[1]
        if suffix == "xlsx":
            book = load_workbook(io.BytesIO(data), read_only=True)
            texts += [
                str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row
            ]
        elif suffix in ("sav", "dta"):
            path = scratch / f"decoded.{suffix}"
            path.write_bytes(data)
            reader = pyreadstat.read_sav if suffix == "sav" else pyreadstat.read_dta
            frame, meta = reader(str(path))
            texts += [str(v) for v in frame.to_numpy().ravel()]
            texts += [
                str(x) for x in (meta.column_labels, meta.variable_value_labels, meta.file_label)
            ]
        elif suffix == "parquet":
            table = pq.read_table(io.BytesIO(data))
            texts += [str(v) for column in table.to_pylist() for v in column.values()]
            texts.append(str(table.schema))
    return texts
