"""The patients of an export: pseudonyms re-keyed per export and per-patient date offsets.

The pseudonym is an HMAC-SHA256 of the patient's id under a secret made for this export
only and never stored: the same patient has unrelated pseudonyms in two exports, so they
cannot be joined without access to the registry. The date offset (0-364 days, shifted
exports only) is one per patient, so every interval between that patient's dates is kept;
it is drawn from a second HMAC under another per-export secret.

On PostgreSQL one `INSERT ... SELECT` writes the subjects from the cohort's SQL: the HMAC is
computed with the built-in sha256() from the two padded keys (RFC 2104), so no row passes
through Python. Elsewhere Python's hmac computes the same values (a test pins both).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from outcomes.dictionary import Level
from outcomes.exports.models import Export, ExportSubject

PSEUDONYM_CHARS = 16
SHIFT_DAYS = 365  # offsets 0..364
_BLOCK = 64  # SHA-256 block size


@dataclass(frozen=True)
class Keys:
    """The two per-export secrets; they live only while the subjects are written."""

    pseudonym: bytes
    shift: bytes

    @classmethod
    def new(cls) -> Keys:
        return cls(secrets.token_bytes(32), secrets.token_bytes(32))


def pseudonym(key: bytes, patient_id: int) -> str:
    digest = hmac.new(key, str(patient_id).encode(), hashlib.sha256).hexdigest()
    return "P" + digest[:PSEUDONYM_CHARS].upper()


def shift_days(key: bytes, patient_id: int) -> int:
    digest = hmac.new(key, str(patient_id).encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:3], "big") % SHIFT_DAYS


def _pads(key: bytes) -> tuple[bytes, bytes]:
    padded = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded)


def _sql_hmac(message: str) -> str:
    """HMAC-SHA256 of `message` (SQL text) with the key's inner/outer pads as parameters."""
    return (
        "sha256(CAST(%s AS bytea) || sha256(CAST(%s AS bytea) || "
        f"convert_to(CAST({message} AS text), 'UTF8')))"
    )


def subjects_create(*, export: Export, cases: QuerySet) -> int:
    """Write one subject per case (`cases`: procedures, values_list("pk", "patient_id"))."""
    keys = Keys.new()
    shifted = export.level == Level.SHIFTED
    if connection.vendor == "postgresql":
        return _insert_select(export, cases, keys, shifted)
    rows = [
        ExportSubject(
            export_id=export.pk,
            procedure_id=procedure_id,
            patient_id=patient_id,
            pseudonym=pseudonym(keys.pseudonym, patient_id),
            shift_days=shift_days(keys.shift, patient_id) if shifted else 0,
        )
        for procedure_id, patient_id in cases
    ]
    ExportSubject.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _insert_select(export: Export, cases: QuerySet, keys: Keys, shifted: bool) -> int:
    sql, params = cases.query.sql_with_params()
    inner, outer = _pads(keys.pseudonym)
    shift_inner, shift_outer = _pads(keys.shift)
    digest = _sql_hmac("c.patient_id")
    shift = (
        f"((get_byte({digest}, 0) * 65536 + get_byte({digest}, 1) * 256"
        f" + get_byte({digest}, 2)) %% {SHIFT_DAYS})"
    )
    shift_params = [shift_outer, shift_inner] * 3 if shifted else []
    table = ExportSubject._meta.db_table
    # Table names and our own SQL only are spliced; every value is a parameter.
    statement = (
        f"INSERT INTO {table} (export_id, procedure_id, patient_id, pseudonym, shift_days) "  # noqa: S608
        f"SELECT %s, c.pk, c.patient_id, "
        f"'P' || upper(substr(encode({digest}, 'hex'), 1, {PSEUDONYM_CHARS})), "
        f"{shift if shifted else '0'} FROM ({sql}) c"
    )
    with connection.cursor() as cursor:
        # The selection's stacked Exists conditions are estimated far too low: hash joins.
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(statement, [export.pk, outer, inner, *shift_params, *params])
        count = cursor.rowcount
        cursor.execute("SET LOCAL enable_nestloop = on")
        cursor.execute(f"ANALYZE {table}")
    return count


def subjects_delete(*, export: Export) -> None:
    ExportSubject.objects.filter(export=export).delete()
