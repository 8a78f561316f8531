"""The Stata file (.dta, format 118: Stata 14 and later, UTF-8), written forwards.

Layout (Stata's "dta" file format description, 118): `<stata_dta>`, the `<header>` (K
variables, N observations known before the first row: `count_rows`, the label, a time
stamp), the `<map>` of every section's offset (written as zeros, then filled in at the end),
the descriptors (types, names, sort list, formats, value-label names, variable labels), empty
`<characteristics>`, the `<data>` (one fixed-width record per observation, little-endian:
byte, int, long, double and str# of the widest value), empty `<strls>`, then the
`<value_labels>`. Missing values are Stata's: "." and the extended .a-.d of each type.
"""

from __future__ import annotations

import struct
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

STATA_LABEL_CHARS = 80
MAX_NAME_CHARS = 32
MAX_STR = 2045  # str1 .. str2045; longer would be strL (no dictionary text is so long)
BYTE, INT, LONG, DOUBLE = 65530, 65529, 65528, 65526
# Per storage type: numpy type, ".", then .a, .b, ... follow one apart (doubles: their bits).
_STORAGE = {
    BYTE: (np.int8, 101, 1),
    INT: (np.int16, 32_741, 1),
    LONG: (np.int32, 2_147_483_621, 1),
    DOUBLE: (np.float64, 0x7FE0_0000_0000_0000, 0x0100_0000_0000),
}
_FORMATS = {BYTE: "%8.0g", INT: "%8.0g", LONG: "%12.0g", DOUBLE: "%10.0g"}
LABEL_MISSING_A = 2_147_483_622  # the value of .a in a value-label table
EPOCH_DAYS = 3653  # 1960-01-01 (Stata's day 0) to 1970-01-01 (Arrow's)
MAX_BYTE_CODE = 100
SECTIONS = (
    "stata_dta",
    "map",
    "variable_types",
    "varnames",
    "sortlist",
    "formats",
    "value_label_names",
    "variable_labels",
    "characteristics",
    "data",
    "strls",
    "value_labels",
    "/stata_dta",
    "end",
)


def _fixed(text: str, size: int) -> bytes:
    """UTF-8 cut at a character boundary, NUL-terminated and padded to `size` bytes."""
    data = text.encode("utf-8")[: size - 1].decode("utf-8", "ignore").encode("utf-8")
    return data.ljust(size, b"\0")


def storage(spec: Spec) -> int:
    if len(spec.v.name) > MAX_NAME_CHARS:
        raise ValueError(f"{spec.v.name}: Stata names have at most {MAX_NAME_CHARS} characters")
    kind = spec.v.kind
    if kind is Kind.TEXT:
        if spec.width > MAX_STR:
            raise ValueError(f"{spec.v.name}: {spec.width} bytes is wider than Stata's str2045")
        return spec.width
    if kind is Kind.DECIMAL:
        return DOUBLE
    if kind in (Kind.CODE, Kind.BOOLEAN):
        return BYTE if len(spec.v.codes) <= MAX_BYTE_CODE else INT
    return LONG  # integers and dates (days)


def _size(code: int) -> int:
    return code if code <= MAX_STR else np.dtype(_STORAGE[code][0]).itemsize


class DtaWriter:
    def __init__(self, out: BinaryIO, specs: list[Spec], rows: int, file_label: str):
        self.out, self.specs, self.rows = out, specs, rows
        self.types = [storage(s) for s in specs]
        offsets = np.cumsum([0] + [_size(t) for t in self.types])
        self.record = np.dtype(
            {
                "names": [f"v{i}" for i in range(len(specs))],
                "formats": [
                    f"S{t}" if t <= MAX_STR else np.dtype(_STORAGE[t][0]).newbyteorder("<")
                    for t in self.types
                ],
                "offsets": [int(o) for o in offsets[:-1]],
                "itemsize": max(int(offsets[-1]), 1),
            }
        )
        self.map = dict.fromkeys(SECTIONS, 0)
        self.written = 0
        self._header(file_label)
        self._descriptors()
        self._open("data")

    def _tag(self, text: str) -> None:
        self.out.write(text.encode("ascii"))

    def _open(self, section: str) -> None:
        self.map[section] = self.out.tell()
        self._tag(f"<{section}>")

    def _header(self, file_label: str) -> None:
        self.map["stata_dta"] = self.out.tell()
        self._tag("<stata_dta><header><release>118</release><byteorder>LSF</byteorder>")
        label = _fixed(file_label[:STATA_LABEL_CHARS], 4 * STATA_LABEL_CHARS + 1).rstrip(b"\0")
        now = datetime.now()
        stamp = f"{now:%d} {MONTHS[now.month - 1]} {now:%Y %H:%M}".encode("ascii")
        self.out.write(
            b"<K>"
            + struct.pack("<H", len(self.specs))
            + b"</K><N>"
            + struct.pack("<Q", self.rows)
            + b"</N><label>"
            + struct.pack("<H", len(label))
            + label
            + b"</label><timestamp>"
            + struct.pack("<B", len(stamp))
            + stamp
            + b"</timestamp></header>"
        )
        self._open("map")
        self._map_at = self.out.tell()
        self.out.write(bytes(8 * len(SECTIONS)))
        self._tag("</map>")

    def _descriptors(self) -> None:
        specs = self.specs
        self._section("variable_types", b"".join(struct.pack("<H", t) for t in self.types))
        self._section("varnames", b"".join(_fixed(s.v.name, 129) for s in specs))
        self._section("sortlist", bytes(2 * (len(specs) + 1)))
        self._section("formats", b"".join(_fixed(self._format(s, t), 57) for s, t in self._typed()))
        self._section(
            "value_label_names",
            b"".join(_fixed(s.v.name if self._labels(s) else "", 129) for s in specs),
        )
        self._section(
            "variable_labels",
            b"".join(_fixed(variable_label(s.v)[:STATA_LABEL_CHARS], 321) for s in specs),
        )
        self._section("characteristics", b"")

    def _typed(self):
        return zip(self.specs, self.types, strict=True)

    @staticmethod
    def _format(spec: Spec, code: int) -> str:
        if spec.v.kind is Kind.DATE:
            return "%td"
        if code <= MAX_STR:
            return f"%-{code}s"
        return _FORMATS[code]

    def _section(self, name: str, data: bytes) -> None:
        self._open(name)
        self.out.write(data)
        self._tag(f"</{name}>")

    @staticmethod
    def _labels(spec: Spec) -> list[tuple[int, str]]:
        """Codes, then .a-.d (the table is sorted by value: the reasons come last)."""
        entries = spec.codes()
        if spec.status:
            entries += [(LABEL_MISSING_A + i, r.label) for i, r in enumerate(MISSING_REASONS)]
        return sorted(entries)

    # ------------------------------------------------------------ data

    def write_batch(self, batch: pa.RecordBatch) -> None:
        n = batch.num_rows
        records = np.zeros(n, dtype=self.record)
        raw = records.view(np.uint8).reshape(n, self.record.itemsize)
        position = {s.v.name: i for i, s in enumerate(self.specs)}
        why = {
            name: reasons(batch.column(position[name]))
            for name in {s.status for s in self.specs if s.status}
        }
        for i, (spec, code) in enumerate(self._typed()):
            column = batch.column(i)
            if code <= MAX_STR:
                place_text(raw, column, self.record.fields[f"v{i}"][1], spec.width)
                continue
            values = numbers(spec.v, column)
            if spec.v.kind is Kind.DATE:
                values = values + EPOCH_DAYS
            empty = np.isnan(values)
            tag = np.zeros(n, dtype=np.int64)  # 0: ".", 1..4: .a-.d
            if spec.status:
                tag[empty] = why[spec.status][empty].astype(np.int64) + 1
            kind, missing, step = _STORAGE[code]
            if code == DOUBLE:
                bits = values.view(np.int64).copy()
                bits[empty] = missing + tag[empty] * step
                records[f"v{i}"] = bits.view(np.float64)
            else:
                whole = np.where(empty, missing + tag, np.nan_to_num(values).astype(np.int64))
                records[f"v{i}"] = whole.astype(kind)
        self.out.write(records.tobytes())
        self.written += n

    def close(self) -> None:
        if self.written != self.rows:
            raise RuntimeError("the table changed while it was exported")
        self._tag("</data>")
        self._section("strls", b"")
        self._open("value_labels")
        for spec in self.specs:
            if entries := self._labels(spec):
                self._value_label_table(spec.v.name, entries)
        self._tag("</value_labels>")
        self.map["/stata_dta"] = self.out.tell()
        self._tag("</stata_dta>")
        self.map["end"] = self.out.tell()
        self.out.seek(self._map_at)
        self.out.write(struct.pack(f"<{len(SECTIONS)}Q", *self.map.values()))
        self.out.seek(self.map["end"])

    def _value_label_table(self, name: str, entries: list[tuple[int, str]]) -> None:
        texts = [label.encode("utf-8")[:32_000] + b"\0" for _, label in entries]
        offsets = np.cumsum([0] + [len(t) for t in texts[:-1]])
        text = b"".join(texts)
        table = (
            struct.pack("<2i", len(entries), len(text))
            + struct.pack(f"<{len(entries)}i", *offsets.tolist())
            + struct.pack(f"<{len(entries)}i", *(value for value, _ in entries))
            + text
        )
        self.out.write(
            b"<lbl>" + struct.pack("<i", len(table)) + _fixed(name, 129) + bytes(3) + table
        )
        self._tag("</lbl>")
