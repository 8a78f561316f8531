"""outcomes.selectors.sql.read_frame: a selection that can match nothing, and the binary COPY."""

from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest
from django.db import connection
from django.db.models import F

from outcomes.selectors.sql import _column_types, _copy_frame, _wire, coerce, read_frame
from registry.models import Procedure

pytestmark = pytest.mark.django_db


def test_an_empty_in_filter_reads_an_empty_frame_not_an_error():
    """Django compiles `site__in=[]` to no SQL at all (EmptyResultSet): a user whose sites
    have no patients gets an empty frame, as on SQLite, and no 500 on PostgreSQL's COPY."""
    selection = Procedure.objects.filter(patient__site_id__in=[]).annotate(unit_id=F("pk"))
    frame = read_frame(selection, {"unit_id": "id", "date": "category"})
    assert list(frame.columns) == ["unit_id", "date"]
    assert len(frame) == 0 and str(frame["unit_id"].dtype) == "int64"


# Names that need the array text's quoting and escapes (or look like its syntax).
AWKWARD_NAMES = [
    'O"Brien',
    "back\\slash",
    "comma, and space",
    "{braces}",
    "NULL",
    "",
    " padded ",
    "tab\there",
    "Müller-Łukasiewicz",
]


@pytest.fixture
def awkward_patients(site_a):
    """Patients whose columns exercise every wire of the binary COPY: NULL and non-NULL
    decimals, smallints, dates and booleans, and names that need quoting."""
    from tests.factories import PatientFactory

    values = [
        {"height_cm": None, "asa_class": None, "corticosteroid_use": None},
        {"height_cm": Decimal("160.5"), "asa_class": 2, "corticosteroid_use": True},
        {"height_cm": Decimal("199.9"), "asa_class": 5, "corticosteroid_use": False},
    ]
    for i, name in enumerate(AWKWARD_NAMES):
        PatientFactory(
            site=site_a,
            family_name=name,
            bmd_t_score=Decimal("-2.7") if i % 2 else None,
            withdrawn_at=datetime(2024, 3, 1, 23, 30, tzinfo=UTC) if i % 3 == 0 else None,
            **values[i % len(values)],
        )


# Every kind, from every column type it is read from on the way to the statistics.
AWKWARD_SCHEMA = {
    "patient_id": "id",  # bigint
    "day_code": "id",  # integer (a CASE)
    "height": "float",  # numeric, NULL
    "bmd": "float",  # numeric, negative and NULL
    "asa_class": "int",  # smallint, NULL
    "birth_day": "float",  # integer days (a date)
    "withdrawn_day": "float",  # integer days, NULL
    "ratio": "float",  # double precision
    "name": "category",  # text, quoted
    "sex": "category",
    "corticosteroid_use": "bool",  # boolean, NULL
}


def awkward_rows():
    from django.db.models import Case, FloatField, IntegerField, Value, When
    from django.db.models.functions import Cast

    from outcomes.selectors.fingerprint import EpochDay
    from registry.models import Patient

    return (
        Patient.objects.annotate(
            patient_id=F("pk"),
            day_code=Case(
                When(sex="F", then=Value(1)), default=Value(0), output_field=IntegerField()
            ),
            height=F("height_cm"),
            bmd=F("bmd_t_score"),
            birth_day=EpochDay("date_of_birth"),
            withdrawn_day=EpochDay("withdrawn_at"),
            ratio=Cast(F("weight_kg"), FloatField()) / 3.0,
            name=F("family_name"),
        )
        .order_by("pk")
        .values_list(*AWKWARD_SCHEMA)
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_the_binary_copy_reads_what_plain_rows_read(awkward_patients):
    """Each wire of the binary COPY (integer and double values, decimal text, array
    text) gives exactly the frame the rows read one by one give: NULLs, negative
    decimals, dates as days, doubles to the bit, and text that needs quoting."""
    rows = awkward_rows()
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        types = _column_types(cursor.cursor, sql, params)
    wires = {
        column: _wire(kind, oid)
        for (column, kind), oid in zip(AWKWARD_SCHEMA.items(), types, strict=True)
    }
    assert wires == {
        "patient_id": "int",
        "day_code": "int",
        "height": "number",
        "bmd": "number",
        "asa_class": "double",
        "birth_day": "double",
        "withdrawn_day": "double",
        "ratio": "double",
        "name": "separated",
        "sex": "separated",
        "corticosteroid_use": "text",
    }
    copied = coerce(_copy_frame(rows, AWKWARD_SCHEMA), AWKWARD_SCHEMA)
    plain = coerce(
        pd.DataFrame.from_records(list(rows), columns=list(AWKWARD_SCHEMA)), AWKWARD_SCHEMA
    )
    pd.testing.assert_frame_equal(copied, plain, check_exact=True)
    assert copied["height"].isna().sum() == 3 and copied["asa_class"].isna().sum() == 3
    assert copied["withdrawn_day"].notna().sum() == 3
    assert copied["corticosteroid_use"].isna().sum() == 3
    # Empty text is missing (as on every path); the text NULL is a name, not a null.
    assert set(copied["name"].dropna()) == set(AWKWARD_NAMES) - {""}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_the_binary_copy_of_no_rows_is_an_empty_frame(awkward_patients):
    rows = awkward_rows().filter(pk__lt=0)
    frame = coerce(_copy_frame(rows, AWKWARD_SCHEMA), AWKWARD_SCHEMA)
    assert list(frame.columns) == list(AWKWARD_SCHEMA) and len(frame) == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_a_null_id_is_refused_not_shifted(awkward_patients):
    """string_agg skips NULLs: an id column with one would shift every later value, so
    the reader checks each column's length against the row count."""
    schema = {"patient_id": "id", "asa_class": "id"}
    rows = awkward_rows().values_list(*schema)
    with pytest.raises(ValueError, match="NULL"):
        _copy_frame(rows, schema)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_a_category_holding_the_separator_is_read_again_as_array_text(
    awkward_patients, site_a, monkeypatch
):
    """Categories travel joined by the unit separator; a value holding it cannot be split,
    so the frame is read again with categories as array text: still exactly the rows."""
    from outcomes.selectors import sql
    from tests.factories import PatientFactory

    PatientFactory(site=site_a, family_name="unit\x1fseparator")
    calls = []
    copy_frame = sql._copy_frame
    monkeypatch.setattr(
        sql,
        "_copy_frame",
        lambda *args, **kwargs: calls.append(kwargs) or copy_frame(*args, **kwargs),
    )
    rows = awkward_rows()
    copied = coerce(sql._copy_frame(rows, AWKWARD_SCHEMA), AWKWARD_SCHEMA)
    plain = coerce(
        pd.DataFrame.from_records(list(rows), columns=list(AWKWARD_SCHEMA)), AWKWARD_SCHEMA
    )
    pd.testing.assert_frame_equal(copied, plain, check_exact=True)
    assert calls == [{}, {"separated": False}]
    assert "unit\x1fseparator" in set(copied["name"].dropna())


def test_numbers_are_parsed_to_the_nearest_float_as_python_parses_them():
    """The decimals' text is parsed by Arrow: each value the double Python's float() gives
    (as on the plain path), NULL missing; an unparsable or missing item raises."""
    import numpy as np

    from outcomes.selectors.sql import _parse_numbers

    rng = np.random.default_rng(3)
    texts = [
        f"{value:.{places}f}"
        for value, places in zip(
            rng.normal(0, 300, 50_000), rng.integers(0, 4, 50_000), strict=True
        )
    ]
    texts[::97] = ["NULL"] * len(texts[::97])
    parsed = _parse_numbers(",".join(texts).encode(), "float")
    expected = np.array([np.nan if text == "NULL" else float(text) for text in texts])
    assert np.array_equal(parsed, expected, equal_nan=True)
    assert _parse_numbers(b"12", "id").tolist() == [12]
    for body, kind in ((b"1,,2", "float"), (b"1,x", "float"), (b"1,NULL", "id"), (b"1.5", "id")):
        with pytest.raises(ValueError):
            _parse_numbers(body, kind)


def test_separated_text_becomes_the_categorical_of_its_values():
    """Text joined by the unit separator, split and encoded by Arrow: the categories
    (sorted, empty text missing) and codes `_categorical_of` makes of the same values."""
    import numpy as np

    from outcomes.selectors.sql import _SEPARATOR, _categorical_of, _separated_categorical

    values = [*AWKWARD_NAMES, "zeta", "", "Müller-Łukasiewicz", "alpha", "NULL"] * 3
    field = memoryview(_SEPARATOR.join(values).encode())
    read = _separated_categorical(field, "category", len(values))
    expected = _categorical_of(np.array(values, dtype=object))
    pd.testing.assert_extension_array_equal(read, expected)
    assert list(read.categories) == sorted(set(values) - {""})
    assert read.isna().sum() == values.count("")
