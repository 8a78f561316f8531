"""The SPSS system file (.sav), written forwards: the dictionary, then the cases as they come.

Layout (PSPP's "System File Format" documentation): the 176-byte header (the case count
known before the first row: `count_rows`), a variable record (type 2) per 8-byte slot of a
case, value labels (types 3 and 4), the extension records (type 7: 3 integer info, 4 float
info, 11 measure / width / alignment, 13 long variable names, 14 very long strings, 20
character encoding UTF-8), the end of the dictionary (999), then the cases uncompressed: 8
bytes per number (IEEE little-endian; -DBL_MAX is system missing) and strings padded with
spaces to whole slots. Each batch of rows becomes one numpy buffer of whole cases.

Uncompressed: the file goes into the deflated zip, which compresses it better than SPSS's
bytecode would, and every case has the same size. A very long string (over 255 bytes: a
100-character name in another script, in identified exports) is SPSS's chain of segments.
A visit date's missing reason is a user-missing number like any other (-9991...): SPSS shows
its label; pyreadstat, asked for user-missing values, turns it into a date (1582-10-13)
unless `disable_datetime_conversion` is set.
"""

from __future__ import annotations

import struct
import sys
from datetime import datetime
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from outcomes.dictionary import Kind
from outcomes.dictionary.missing import MISSING_REASONS
from outcomes.exports.statistical.columns import (
    MONTHS,
    Spec,
    numbers,
    place_text,
    reasons,
    variable_label,
)

SYSMIS = -sys.float_info.max
HIGHEST = sys.float_info.max
LOWEST = float(np.nextafter(-sys.float_info.max, 0))
SPSS_MISSING_RANGE = {"lo": -9999.0, "hi": -9991.0}
SPSS_CODES = np.array([float(r.spss) for r in MISSING_REASONS])
MAX_SHORT_STRING = 255  # wider: a very long string of 252-byte segments (255 bytes each)
SEGMENT = 252
EPOCH_DAYS = 141_428  # 1582-10-14 (SPSS's day 0) to 1970-01-01 (Arrow's)
UTF8 = 65001
MEASURES = {Kind.CODE: 1, Kind.BOOLEAN: 1, Kind.TEXT: 1}  # nominal; else 3, scale
FORMAT_A, FORMAT_F, FORMAT_DATE = 1, 5, 20
PRODUCT = b"@(#) SPSS DATA FILE - ovcf-registry"


def _fit(text: str, size: int) -> bytes:
    """UTF-8, cut at a character boundary to at most `size` bytes."""
    return text.encode("utf-8")[:size].decode("utf-8", "ignore").encode("utf-8")


def segment_widths(spec: Spec) -> list[int]:
    """The widths of a variable's segments: one (0 for a number), or for a very long string
    one of 255 bytes per 252 bytes of its width, and the rest."""
    if not spec.text:
        return [0]
    if spec.width <= MAX_SHORT_STRING:
        return [spec.width]
    n = (spec.width + SEGMENT - 1) // SEGMENT
    return [MAX_SHORT_STRING] * (n - 1) + [spec.width - (n - 1) * SEGMENT]


class _Variable:
    """One variable: its segments, their short names and 8-byte slots."""

    def __init__(self, spec: Spec, widths: list[int], short: list[str], index: int):
        self.spec, self.widths, self.short = spec, widths, short
        self.index = index  # the 1-based dictionary index of its first slot
        self.slots = [max(1, (w + 7) // 8) for w in widths]

    @property
    def segments(self) -> int:
        return len(self.widths)


RESERVED = {"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"}


def short_names(names: list[str], extra: list[int]) -> list[list[str]]:
    """Unique upper-case names of at most 8 bytes (SPSS compares names without case), one per
    segment: `extra[i]` more for a very long string (its later segments: NAME1, NAME2...)."""
    taken: set[str] = set()
    out = []
    for name, more in zip(names, extra, strict=True):
        stem = name.upper().encode("ascii", "ignore").decode()[:8] or "V"
        if stem in RESERVED:
            stem += "_"
        mine = []
        for _ in range(1 + more):
            candidate, n = stem, 0
            while candidate in taken:
                n += 1
                candidate = stem[: 8 - len(str(n))] + str(n)
            taken.add(candidate)
            mine.append(candidate)
        out.append(mine)
    return out


class SavWriter:
    def __init__(self, out: BinaryIO, specs: list[Spec], rows: int, file_label: str):
        self.out, self.specs, self.rows = out, specs, rows
        widths = [segment_widths(spec) for spec in specs]
        names = short_names([s.v.name for s in specs], [len(w) - 1 for w in widths])
        self.variables, index = [], 1
        for spec, segments, short in zip(specs, widths, names, strict=True):
            variable = _Variable(spec, segments, short, index)
            index += sum(variable.slots)
            self.variables.append(variable)
        self.case_bytes = 8 * (index - 1)
        self.written = 0
        self._template = self._blank_case()
        self._header(file_label)
        self._dictionary()

    # ------------------------------------------------------------ dictionary

    def _write(self, fmt: str, *values) -> None:
        self.out.write(struct.pack("<" + fmt, *values))

    def _header(self, file_label: str) -> None:
        now = datetime.now()
        self._write(
            "4s60s5id9s8s64s3x",
            b"$FL2",
            PRODUCT.ljust(60),
            2,  # layout code
            self.case_bytes // 8,
            0,  # not compressed
            0,  # not weighted
            self.rows,
            100.0,  # compression bias
            f"{now:%d} {MONTHS[now.month - 1]} {now:%y}".encode("ascii"),
            now.strftime("%H:%M:%S").encode("ascii"),
            _fit(file_label, 64).ljust(64),
        )

    def _dictionary(self) -> None:
        for variable in self.variables:
            self._variable_records(variable)
        for variable in self.variables:
            self._value_labels(variable)
        self._extension(3, 4, [20, 0, 0, -1, 1, 1, 2, UTF8], "i")  # version, IEEE, LE, UTF-8
        self._extension(4, 8, [SYSMIS, HIGHEST, LOWEST], "d")
        display = []
        for variable in self.variables:
            measure = MEASURES.get(variable.spec.v.kind, 3)
            align = 0 if variable.spec.text else 1
            for width in variable.widths:
                display += [measure, max(8, min(width, 255)) if width else 8, align]
        self._extension(11, 4, display, "i")
        self._text_extension(13, "\t".join(f"{v.short[0]}={v.spec.v.name}" for v in self.variables))
        very_long = [v for v in self.variables if v.segments > 1]
        if very_long:
            self._text_extension(
                14, "".join(f"{v.short[0]}={v.spec.width:05d}\0\t" for v in very_long)
            )
        self._text_extension(20, "UTF-8")
        self._write("2i", 999, 0)

    def _variable_records(self, variable: _Variable) -> None:
        spec = variable.spec
        missing = [SPSS_MISSING_RANGE["lo"], SPSS_MISSING_RANGE["hi"]] if spec.status else []
        for segment, (width, slots, short) in enumerate(
            zip(variable.widths, variable.slots, variable.short, strict=True)
        ):
            label = _fit(variable_label(spec.v), 255) if segment == 0 else b""
            fmt = _print_format(spec, width)
            self._write(
                "6i8s",
                2,
                width,
                1 if label else 0,
                -2 if missing else 0,
                fmt,
                fmt,
                short.encode("ascii").ljust(8),
            )
            if label:
                self._write("i", len(label))
                self.out.write(label.ljust((len(label) + 3) // 4 * 4, b" "))
            if missing:
                self._write("2d", *missing)
            for _ in range(slots - 1):  # the rest of a long string's slots
                self._write("6i8s", 2, -1, 0, 0, 0, 0, b" " * 8)

    def _value_labels(self, variable: _Variable) -> None:
        """Codes in the dictionary's order, then the missing reasons (-9991, -9992, ...)."""
        spec = variable.spec
        entries = [(float(n), label) for n, label in spec.codes()]
        if spec.status:
            entries += [(float(r.spss), r.label) for r in MISSING_REASONS]
        if not entries:
            return
        self._write("2i", 3, len(entries))
        for value, label in entries:
            text = _fit(label, 120)
            self._write("dB", value, len(text))
            self.out.write(text.ljust((len(text) + 1 + 7) // 8 * 8 - 1, b" "))
        self._write("3i", 4, 1, variable.index)

    def _extension(self, subtype: int, size: int, values: list, code: str) -> None:
        self._write("4i", 7, subtype, size, len(values))
        self._write(f"{len(values)}{code}", *values)

    def _text_extension(self, subtype: int, text: str) -> None:
        data = text.encode("utf-8")
        self._write("4i", 7, subtype, 1, len(data))
        self.out.write(data)

    # ------------------------------------------------------------ cases

    def _blank_case(self) -> np.ndarray:
        """One case with every string slot filled with spaces (SPSS pads strings so)."""
        case = np.zeros(self.case_bytes, dtype=np.uint8)
        for variable in self.variables:
            if variable.spec.text:
                start = 8 * (variable.index - 1)
                case[start : start + 8 * sum(variable.slots)] = ord(" ")
        return case

    def write_batch(self, batch: pa.RecordBatch) -> None:
        n = batch.num_rows
        cases = np.tile(self._template, (n, 1))
        slots = cases.view("<f8")  # (n, case slots): the numbers' 8-byte slots
        position = {s.v.name: i for i, s in enumerate(self.specs)}
        why = {
            name: reasons(batch.column(position[name]))
            for name in {s.status for s in self.specs if s.status}
        }
        for i, variable in enumerate(self.variables):
            spec, column = variable.spec, batch.column(i)
            first = variable.index - 1
            if spec.text:
                segment = 256 if variable.segments > 1 else 0
                place_text(cases, column, 8 * first, spec.width, segment)
                continue
            values = numbers(spec.v, column)
            if spec.v.kind is Kind.DATE:
                values = (values + EPOCH_DAYS) * 86400.0
            empty = np.isnan(values)
            if spec.status:
                values = np.where(empty, SPSS_CODES[why[spec.status]], values)
            else:
                values = np.where(empty, SYSMIS, values)
            slots[:, first] = values
        self.out.write(cases.tobytes())
        self.written += n

    def close(self) -> None:
        if self.written != self.rows:
            raise RuntimeError("the table changed while it was exported")


def _format(kind: int, width: int, decimals: int = 0) -> int:
    return kind << 16 | width << 8 | decimals


def _print_format(spec: Spec, width: int) -> int:
    kind = spec.v.kind
    if kind is Kind.TEXT:
        return _format(FORMAT_A, width)
    if kind is Kind.DATE:
        return _format(FORMAT_DATE, 11)
    if kind is Kind.DECIMAL:
        return _format(FORMAT_F, 8, 2 if spec.v.precision is None else spec.v.precision)
    return _format(FORMAT_F, 8, 0)
