"""The store's Parquet writer: polars frames -> one Parquet file, a row group per frame, fast,
for the parts of the ingested tables (positions, statics, other, rejects).

Why its own writer: pyarrow's writer spent 145 ms on the bench file's 838,096 positions (one
core), most of it hashing every value of the low-cardinality columns into its dictionary encoder
(8-20 ms per column, whether the column holds 5 distinct values or 3,600), and polars' and
DuckDB's writers were slower still (0.19 and 0.32 s). This one writes the same table in about
55 ms (see the README's Performance section): a compiled pass per column builds
the dictionary and bit-packs the indices, and a column's validity becomes the page's
definition levels as one bit-packed run.

What it writes (Parquet format 2.6, readable by pyarrow, polars and DuckDB, which the tests
check), for a flat table:

* a row group per frame written (:class:`ParquetWriter`; :func:`write_parquet` writes one), and
  in it per column one PLAIN dictionary page (if dictionary-encoded) and one data page (v1), the
  page compressed with LZ4_RAW (``compress=False``: stored as is);
* :func:`write_parquet`: a column without nulls is REQUIRED, one with nulls OPTIONAL;
  :class:`ParquetWriter`: the columns it is told are REQUIRED, the others OPTIONAL (definition
  levels bit-packed, or one run when a row group has no null);
* dictionary encoding (RLE_DICTIONARY) for the columns named in ``dictionary``, unless the part
  holds more than :data:`MAX_DICTIONARY` distinct values (then PLAIN); a column holding a single
  value is one run; PLAIN for the others (and for booleans);
* column statistics (min, max, null count) for the columns named in ``statistics`` (only the null
  count for a float column holding NaN, which readers do not agree how to bound);
* the logical types of polars' Int8/16/32/64, Float32/64, Boolean, String and Datetime("us",
  "UTC") (as INTEGER, FLOAT, DOUBLE, BOOLEAN, STRING, TIMESTAMP(UTC, MICROS)), which is how the
  readers give back the frame's schema. Other dtypes raise :class:`SeawatchError`.

Dictionary indices and definition levels use only bit-packed runs of the RLE/bit-packed hybrid
(apart from the one-value case); the LZ4 pass after them takes what repetition there is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pyarrow as pa

from .errors import SeawatchError
from .ingest._kernels import _njit

if TYPE_CHECKING:
    from typing_extensions import Self

#: at most this many distinct values per dictionary-encoded column of a part; more: PLAIN
MAX_DICTIONARY = 1 << 15
_TABLE_BITS = 17  # open-addressing table of the dictionary builder: 2**17 slots >= 4 x MAX_DICTIONARY
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)

# Parquet enums (parquet.thrift)
_BOOLEAN, _INT32, _INT64, _FLOAT, _DOUBLE, _BYTE_ARRAY = 0, 1, 2, 4, 5, 6
_REQUIRED, _OPTIONAL = 0, 1
_PLAIN, _RLE, _RLE_DICTIONARY = 0, 3, 8
_UNCOMPRESSED, _LZ4_RAW = 0, 7
_DATA_PAGE, _DICTIONARY_PAGE = 0, 2
# converted types (the logical types' predecessors, still read by some readers)
_UTF8, _TIMESTAMP_MICROS, _INT_8, _INT_16, _INT_32, _INT_64 = 0, 10, 15, 16, 17, 18


# ---------------------------------------------------------------------------------------------
# Thrift compact protocol, the little of it the file metadata needs

_T_TRUE, _T_FALSE, _T_BYTE, _T_I16, _T_I32, _T_I64, _T_BINARY, _T_LIST, _T_STRUCT = 1, 2, 3, 4, 5, 6, 8, 9, 12


def _varint(out: bytearray, v: int) -> None:
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return


def _zigzag(v: int) -> int:
    return (v << 1) ^ (v >> 63)


class _Struct:
    """A Thrift struct: fields (id, type, value) in increasing id order; values are ints, bytes,
    str, bools, :class:`_Struct` or lists ``(element type, [values])``."""

    __slots__ = ("fields",)

    def __init__(self, *fields):
        self.fields = [f for f in fields if f[2] is not None]

    def write(self, out: bytearray) -> None:
        last = 0
        for fid, t, v in self.fields:
            ft = (_T_TRUE if v else _T_FALSE) if t == _T_TRUE else t
            delta = fid - last
            if 0 < delta <= 15:
                out.append((delta << 4) | ft)
            else:
                out.append(ft)
                _varint(out, _zigzag(fid) & 0xFFFF)
            last = fid
            if t != _T_TRUE:
                _value(out, t, v)
        out.append(0)  # stop


def _value(out: bytearray, t: int, v) -> None:
    if t == _T_BYTE:
        out.append(v & 0xFF)
    elif t in (_T_I16, _T_I32, _T_I64):
        _varint(out, _zigzag(int(v)) & 0xFFFFFFFFFFFFFFFF)
    elif t == _T_BINARY:
        b = v.encode() if isinstance(v, str) else bytes(v)
        _varint(out, len(b))
        out += b
    elif t == _T_STRUCT:
        v.write(out)
    elif t == _T_LIST:
        et, items = v
        if len(items) < 15:
            out.append((len(items) << 4) | et)
        else:
            out.append(0xF0 | et)
            _varint(out, len(items))
        for item in items:
            _value(out, et, item)
    else:  # pragma: no cover - the writer only uses the types above
        raise ValueError(t)


def _thrift(s: _Struct) -> bytes:
    out = bytearray()
    s.write(out)
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# compiled kernels. A column may come in several chunks (polars keeps what ``concat`` joined as
# chunks): the dictionary builders take one chunk at a time and carry their state (hash table,
# dictionary so far, indices written so far) from one call to the next. (Numbers, string views
# and long strings each have their own builder with the same probing loop: one kernel for
# numbers and views, branching per value, measured 61 instead of 54 ms for the positions.)


@_njit
def _dict_num(keys, valid, has_nulls, idx, m, dkeys, nd, slots, direct):
    """Dictionary-encode the non-null ``keys`` of one chunk (integers: the values, or the bit
    patterns of floats), continuing from ``m`` indices and ``nd`` entries: each key's index into
    ``idx[m:]``, each new distinct key into ``dkeys[nd:]``, in order of first appearance.
    ``slots`` (-1: empty) maps a key's hash to its entry; with ``direct`` (16-bit keys and
    65,536 slots) the slot is the key itself, no hashing. Returns the new (m, nd); nd is -1 if
    there are more distinct keys than ``dkeys`` holds."""
    limit = len(dkeys)
    size = len(slots)
    mask = size - 1
    shift = np.uint64(64 - _TABLE_BITS)  # (slots of a hashed table: 2**_TABLE_BITS)
    for i in range(len(keys)):
        if has_nulls and not valid[i]:
            continue
        k = np.int64(keys[i])
        if direct:
            h = k & 0xFFFF
            e = slots[h]
            if e < 0:
                if nd == limit:
                    return m, -1
                slots[h] = nd
                dkeys[nd] = k
                e = nd
                nd += 1
            idx[m] = e
        else:
            h = np.int64((np.uint64(k) * _GOLDEN) >> shift)
            while True:
                e = slots[h]
                if e < 0:
                    if nd == limit:
                        return m, -1
                    slots[h] = nd
                    dkeys[nd] = k
                    idx[m] = nd
                    nd += 1
                    break
                if dkeys[e] == k:
                    idx[m] = e
                    break
                h = (h + 1) & mask
        m += 1
    return m, nd


@_njit
def _dict_views(views, valid, has_nulls, idx, m, k0, k1, nd, slots):
    """:func:`_dict_num` for strings given as Arrow string views (``views``: n x 2 words), all of
    them inline (12 bytes or fewer): a view is then the whole string, and the dictionary holds
    views (``k0``, ``k1``). The bytes past a string's length are masked off, so the comparison is
    exact whatever a writer left there."""
    limit = len(k0)
    size = len(slots)
    mask = size - 1
    shift = np.uint64(64 - _TABLE_BITS)  # (slots of a hashed table: 2**_TABLE_BITS)
    for i in range(len(views)):
        if has_nulls and not valid[i]:
            continue
        w0 = views[i, 0]
        w1 = views[i, 1]
        ln = np.int64(w0 & np.uint64(0xFFFFFFFF))
        if ln < 4:
            w0 &= (np.uint64(1) << np.uint64(32 + 8 * ln)) - np.uint64(1)
            w1 = np.uint64(0)
        elif ln < 12:
            w1 &= (np.uint64(1) << np.uint64(8 * (ln - 4))) - np.uint64(1)
        h = np.int64((((w0 * _GOLDEN) ^ w1) * _GOLDEN) >> shift)
        while True:
            e = slots[h]
            if e < 0:
                if nd == limit:
                    return m, -1
                slots[h] = nd
                k0[nd] = w0
                k1[nd] = w1
                idx[m] = nd
                nd += 1
                break
            if k0[e] == w0 and k1[e] == w1:
                idx[m] = e
                break
            h = (h + 1) & mask
        m += 1
    return m, nd


@_njit
def _views_plain(k0, k1):
    """PLAIN encoding (4-byte little-endian length, then the bytes) of inline string views."""
    total = 0
    for r in range(len(k0)):
        total += 4 + np.int64(k0[r] & np.uint64(0xFFFFFFFF))
    out = np.empty(total, np.uint8)
    p = 0
    for r in range(len(k0)):
        w0 = k0[r]
        w1 = k1[r]
        ln = np.int64(w0 & np.uint64(0xFFFFFFFF))
        for j in range(4):
            out[p + j] = np.uint8((w0 >> np.uint64(8 * j)) & np.uint64(255))
        p += 4
        for j in range(ln):
            w = w0 >> np.uint64(32 + 8 * j) if j < 4 else w1 >> np.uint64(8 * (j - 4))
            out[p + j] = np.uint8(w & np.uint64(255))
        p += ln
    return out


@_njit
def _views_info(views, valid, has_nulls):
    """(longest string, whether every non-null view is the same 16 bytes) of Arrow string views."""
    longest = 0
    same = True
    first = -1
    for i in range(len(views)):
        if has_nulls and not valid[i]:
            continue
        longest = max(longest, np.int64(views[i, 0] & np.uint64(0xFFFFFFFF)))
        if first < 0:
            first = i
        elif views[i, 0] != views[first, 0] or views[i, 1] != views[first, 1]:
            same = False
    return longest, same


@_njit
def _dict_text(offs, data, hashes, valid, has_nulls, idx, rows, slots):
    """Dictionary of the non-null strings (``offs``: n + 1 offsets into ``data``; ``hashes``: a
    64-bit hash of each, polars' ``Series.hash``), compared byte by byte: each one's index into
    ``idx``, each entry's first row into ``rows``; ``slots`` (2**_TABLE_BITS, all -1) maps a
    hash to its entry. Returns (indices written, entries), entries -1 if there are more than
    ``rows`` holds."""
    n = len(offs) - 1
    limit = len(rows)
    mask = len(slots) - 1
    shift = np.uint64(64 - _TABLE_BITS)
    nd = 0
    m = 0
    for i in range(n):
        if has_nulls and not valid[i]:
            continue
        s0 = offs[i]
        s1 = offs[i + 1]
        h = np.int64((hashes[i] * _GOLDEN) >> shift)
        while True:
            e = slots[h]
            if e < 0:
                if nd == limit:
                    return m, -1
                slots[h] = nd
                rows[nd] = i
                idx[m] = nd
                nd += 1
                break
            r = rows[e]
            r0 = offs[r]
            ln = s1 - s0
            same = offs[r + 1] - r0 == ln
            if same:
                for j in range(ln):
                    if data[r0 + j] != data[s0 + j]:
                        same = False
                        break
            if same:
                idx[m] = e
                break
            h = (h + 1) & mask
        m += 1
    return m, nd


@_njit
def _text_plain(offs, data, valid, has_nulls, rows):
    """PLAIN encoding of strings: each as a 4-byte little-endian length and its bytes; the
    strings are those of ``rows`` if ``rows`` is not empty, else the non-null ones in order."""
    use_rows = len(rows) > 0
    n = len(rows) if use_rows else len(offs) - 1
    total = 0
    for k in range(n):
        i = rows[k] if use_rows else k
        if not use_rows and has_nulls and not valid[i]:
            continue
        total += 4 + offs[i + 1] - offs[i]
    out = np.empty(total, np.uint8)
    p = 0
    for k in range(n):
        i = rows[k] if use_rows else k
        if not use_rows and has_nulls and not valid[i]:
            continue
        ln = offs[i + 1] - offs[i]
        out[p] = ln & 255
        out[p + 1] = (ln >> 8) & 255
        out[p + 2] = (ln >> 16) & 255
        out[p + 3] = (ln >> 24) & 255
        p += 4
        s0 = offs[i]
        for j in range(ln):
            out[p + j] = data[s0 + j]
        p += ln
    return out


@_njit
def _bitpack(v, width, out):
    """Bit-pack ``v`` (non-negative, < 2**width) LSB first into ``out``, as whole groups of 8
    values (the last one padded with zeros), a group at a time in one 64-bit word (two when the
    values are wider than 8 bits): 3-7x faster than a byte at a time. Returns the number of
    bytes written. (The three loops repeat their body on purpose: sharing it, through an
    inlined helper or one loop with a branch per group, made packing 1.2-3x slower.)"""
    n = len(v)
    full = n >> 3
    w = np.uint64(width)
    pos = 0
    if width <= 8:  # the usual case, a loop of its own: no branch per value
        for g in range(full):
            b = g << 3
            lo = np.uint64(0)
            for j in range(8):
                lo |= np.uint64(v[b + j]) << (np.uint64(j) * w)
            for k in range(width):
                out[pos + k] = np.uint8((lo >> np.uint64(8 * k)) & np.uint64(255))
            pos += width
    else:
        for g in range(full):
            b = g << 3
            lo = np.uint64(0)
            hi = np.uint64(0)
            for j in range(8):
                x = np.uint64(v[b + j])
                sh = np.uint64(j) * w
                if sh < 64:
                    lo |= x << sh
                    if sh + w > 64:
                        hi |= x >> (np.uint64(64) - sh)
                else:
                    hi |= x << (sh - np.uint64(64))
            for k in range(8):
                out[pos + k] = np.uint8((lo >> np.uint64(8 * k)) & np.uint64(255))
            for k in range(8, width):
                out[pos + k] = np.uint8((hi >> np.uint64(8 * (k - 8))) & np.uint64(255))
            pos += width
    if n > full << 3:  # the last, partial group
        b = full << 3
        lo = np.uint64(0)
        hi = np.uint64(0)
        for j in range(n - b):
            x = np.uint64(v[b + j])
            sh = np.uint64(j) * w
            if sh < 64:
                lo |= x << sh
                if sh + w > 64:
                    hi |= x >> (np.uint64(64) - sh)
            else:
                hi |= x << (sh - np.uint64(64))
        for k in range(min(width, 8)):
            out[pos + k] = np.uint8((lo >> np.uint64(8 * k)) & np.uint64(255))
        for k in range(8, width):
            out[pos + k] = np.uint8((hi >> np.uint64(8 * (k - 8))) & np.uint64(255))
        pos += width
    return pos


# ---------------------------------------------------------------------------------------------
# columns


def _varint_bytes(v: int) -> bytes:
    out = bytearray()
    _varint(out, v)
    return bytes(out)


def _int_type(bits: int, conv: int) -> tuple[int | None, _Struct]:
    return conv, _Struct((10, _T_STRUCT, _Struct((1, _T_BYTE, bits), (2, _T_TRUE, True))))


def _types(dtype) -> tuple[int, type, int | None, _Struct | None]:
    """(physical type, numpy type of its PLAIN values, converted type, logical type) of a dtype."""
    if dtype == pl.Int64:
        return (_INT64, np.int64, *_int_type(64, _INT_64))
    if dtype == pl.Int32:
        return (_INT32, np.int32, *_int_type(32, _INT_32))
    if dtype == pl.Int16:
        return (_INT32, np.int32, *_int_type(16, _INT_16))
    if dtype == pl.Int8:
        return (_INT32, np.int32, *_int_type(8, _INT_8))
    if dtype == pl.Float32:
        return _FLOAT, np.float32, None, None
    if dtype == pl.Float64:
        return _DOUBLE, np.float64, None, None
    if dtype == pl.Boolean:
        return _BOOLEAN, np.bool_, None, None
    if dtype == pl.String:
        return _BYTE_ARRAY, np.uint8, _UTF8, _Struct((1, _T_STRUCT, _Struct()))
    if isinstance(dtype, pl.Datetime) and dtype.time_unit == "us" and dtype.time_zone == "UTC":
        ts = _Struct((1, _T_TRUE, True), (2, _T_STRUCT, _Struct((2, _T_STRUCT, _Struct()))))
        return _INT64, np.int64, _TIMESTAMP_MICROS, _Struct((8, _T_STRUCT, ts))
    raise SeawatchError(f"the Parquet writer has no encoding for a {dtype} column: cast it to one of "
                        "Int8/16/32/64, Float32/64, Boolean, String or Datetime('us', 'UTC')")


#: numpy type of the values polars holds for a (non-string) dtype
_NP_STORAGE = {pl.Int8: np.int8, pl.Int16: np.int16, pl.Int32: np.int32, pl.Int64: np.int64,
               pl.Float32: np.float32, pl.Float64: np.float64}
_NOVALID = np.zeros(0, np.bool_)
_NOROWS = np.zeros(0, np.int64)


class _Chunk:
    """One chunk of a column, as numpy arrays over polars' own buffers (no copy)."""

    def __init__(self, s: pl.Series, strings: str | None = None):
        self.n = len(s)
        self.nulls = s.null_count()
        if strings == "views":
            arr = s.to_arrow(compat_level=pl.CompatLevel.newest())
        else:
            arr = s.to_arrow(compat_level=pl.CompatLevel.oldest())  # strings as large_string
        if isinstance(arr, pa.ChunkedArray):  # pragma: no cover - one polars chunk is one array
            arr = arr.combine_chunks()
        self.arr = arr
        self.valid = _NOVALID
        if self.nulls:
            bits = np.frombuffer(arr.buffers()[0], np.uint8)
            self.valid = np.unpackbits(bits, bitorder="little")[arr.offset: arr.offset + len(arr)].view(np.bool_)
        self.views = None
        if strings == "views":
            if arr.type == pa.string_view():
                v = np.frombuffer(arr.buffers()[1], np.uint64).reshape(-1, 2)
                self.views = v[arr.offset: arr.offset + len(arr)]
        elif strings == "offsets":
            self.offs = np.ascontiguousarray(
                np.frombuffer(arr.buffers()[1], np.int64)[arr.offset: arr.offset + len(arr) + 1])
            buf = arr.buffers()[2]
            self.data = np.frombuffer(buf, np.uint8) if buf is not None else np.zeros(0, np.uint8)

    def values(self, np_t) -> np.ndarray:
        """The values (null slots included) of a fixed-width chunk."""
        a = self.arr
        if np_t is np.bool_:
            bits = np.frombuffer(a.buffers()[1], np.uint8)
            return np.unpackbits(bits, bitorder="little")[a.offset: a.offset + len(a)].view(np.bool_)
        return np.frombuffer(a.buffers()[1], np_t)[a.offset: a.offset + len(a)]

    def non_null(self, np_t) -> np.ndarray:
        v = self.values(np_t)
        return v[self.valid] if self.nulls else v


class _Scratch:
    """Arrays the dictionary builders fill, shared by the columns of one file (fresh arrays
    would cost a page fault every 4 kB, column after column)."""

    def __init__(self, n: int):
        self.idx = np.empty(n, np.int32)
        self.dkeys = np.empty(MAX_DICTIONARY, np.int64)
        self.k1 = np.empty(MAX_DICTIONARY, np.uint64)
        self.rows = np.empty(MAX_DICTIONARY, np.int64)
        self.direct = np.empty(1 << 16, np.int32)
        self.hashed = np.empty(1 << _TABLE_BITS, np.int32)


class _Encoded:
    """One column, encoded: its pages' bytes (uncompressed) and what the metadata says of it."""

    phys: int
    num_values: int
    encoding: int
    parts: list  # the data page, in pieces
    dict_page: bytes | None = None
    n_dict = 0
    stats: _Struct | None = None


def _dictionary_numbers(chunks: list[_Chunk], storage, np_t, sc: _Scratch) -> tuple[np.ndarray, bytes, int] | None:
    """(indices, PLAIN dictionary page, entries) of a numeric column; None if it has too many
    distinct values."""
    kt = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}[np.dtype(storage).itemsize]
    direct = np.dtype(storage).itemsize <= 2
    slots = sc.direct if direct else sc.hashed
    slots.fill(-1)
    m = nd = 0
    for c in chunks:
        if c.n == c.nulls:
            continue
        m, nd = _dict_num(c.values(storage).view(kt), c.valid, c.nulls > 0, sc.idx, m, sc.dkeys, nd, slots, direct)
        if nd < 0:
            return None
    values = sc.dkeys[:nd].astype(kt).view(storage)
    return sc.idx[:m], values.astype(np_t, copy=False).tobytes(), nd


def _dictionary_strings(chunks: list[_Chunk], sc: _Scratch) -> tuple[np.ndarray, bytes, int] | None:
    """(indices, PLAIN dictionary page, entries) of a string column of short strings (12 bytes
    or fewer, held inline in their views) or of one repeated view; None otherwise."""
    if any(c.views is None for c in chunks):
        return None
    n_valid = sum(c.n - c.nulls for c in chunks)
    info = [_views_info(c.views, c.valid, c.nulls > 0) for c in chunks if c.n > c.nulls]
    if len(info) == 1 and info[0][1]:  # one repeated view (a broadcast literal such as ``source``)
        c = next(c for c in chunks if c.n > c.nulls)  # its first value, read from its chunk
        v = c.arr[int(np.argmax(c.valid)) if c.nulls else 0].as_py().encode()
        return np.zeros(n_valid, np.int32), len(v).to_bytes(4, "little") + v, 1
    if max(i[0] for i in info) > 12:
        return None
    sc.hashed.fill(-1)
    m = nd = 0
    k0 = sc.dkeys.view(np.uint64)
    for c in chunks:
        if c.n == c.nulls:
            continue
        m, nd = _dict_views(c.views, c.valid, c.nulls > 0, sc.idx, m, k0, sc.k1, nd, sc.hashed)
        if nd < 0:
            return None
    return sc.idx[:m], _views_plain(k0[:nd], sc.k1[:nd]).tobytes(), nd


def _encode_column(s: pl.Series, dictionary: bool, statistics: bool, sc: _Scratch, required: bool) -> _Encoded:
    """One column of one row group; ``required``: the schema says REQUIRED (then the column
    has no nulls and no definition levels)."""
    phys, np_t, _, _ = _types(s.dtype)
    n = len(s)
    nulls = s.null_count()
    e = _Encoded()
    e.phys = phys
    e.num_values = n
    e.encoding = _PLAIN
    text = phys == _BYTE_ARRAY
    chunks = [_Chunk(c, "views" if text and dictionary else "offsets" if text else None) for c in s.get_chunks()]
    parts: list = []  # the data page, in pieces
    if nulls:  # definition levels: the validity, bit-packed (width 1), as one run
        valid = np.concatenate([c.valid if c.nulls else np.ones(c.n, np.bool_) for c in chunks])
        run = _varint_bytes((((n + 7) // 8) << 1) | 1) + np.packbits(valid, bitorder="little").tobytes()
        parts += [len(run).to_bytes(4, "little"), run]
    elif not required:  # an optional column without nulls here: one RLE run of level 1
        run = _varint_bytes(n << 1) + b"\x01"
        parts += [len(run).to_bytes(4, "little"), run]
    enc = None
    if text:
        if dictionary:
            enc = _dictionary_strings(chunks, sc) if n > nulls else None
            if enc is None:  # not from the views: by the strings' bytes, as one chunk of offsets
                one = s.rechunk()
                chunks = [_Chunk(one, "offsets")]
                whole = chunks[0]
                if n > nulls:
                    hashes = one.hash().to_numpy()
                    sc.hashed.fill(-1)
                    m, nd = _dict_text(whole.offs, whole.data, hashes, whole.valid, nulls > 0, sc.idx, sc.rows,
                                       sc.hashed)
                    if nd > 0:
                        enc = sc.idx[:m], _text_plain(whole.offs, whole.data, _NOVALID, False, sc.rows[:nd]).tobytes(), nd
        if enc is None:  # PLAIN, from the chunks of offsets (built above, or at the start)
            parts += [_text_plain(c.offs, c.data, c.valid, c.nulls > 0, _NOROWS) for c in chunks]
    elif phys == _BOOLEAN:
        parts.append(np.packbits(np.concatenate([c.non_null(np.bool_) for c in chunks]), bitorder="little"))
    else:
        storage = _NP_STORAGE[pl.Int64 if isinstance(s.dtype, pl.Datetime) else s.dtype]
        if dictionary and n > nulls:
            enc = _dictionary_numbers(chunks, storage, np_t, sc)
        if enc is None:
            parts += [c.non_null(storage).astype(np_t, copy=False) for c in chunks]
        if statistics:
            e.stats = _statistics(chunks, storage, np_t, nulls)
    if statistics and e.stats is None:
        e.stats = _Struct((3, _T_I64, nulls))
    if enc is not None:
        idx, e.dict_page, e.n_dict = enc
        e.encoding = _RLE_DICTIONARY
        if e.n_dict <= 1:  # one value: a single RLE run of index 0
            parts.append(b"\x01" + _varint_bytes(len(idx) << 1) + b"\x00")
        else:
            width = (e.n_dict - 1).bit_length()
            groups = (len(idx) + 7) // 8
            out = np.empty(groups * width, np.uint8)
            _bitpack(idx, width, out)
            parts += [bytes([width]) + _varint_bytes((groups << 1) | 1), out]
    e.parts = parts
    return e


def _statistics(chunks: list[_Chunk], storage, np_t, nulls: int) -> _Struct:
    """Min, max and null count of a numeric column (only the null count if it holds a NaN)."""
    lo = hi = None
    for c in chunks:
        v = c.non_null(storage)
        if v.dtype.kind == "f" and np.isnan(v).any():
            # no bounds: readers disagree on how NaN relates to them (DuckDB takes min/max as
            # covering NaN and would skip the row group for ``isnan(x)``; duckdb#25521)
            return _Struct((3, _T_I64, nulls))
        if len(v):
            a, b = v.min(), v.max()
            lo = a if lo is None else min(lo, a)
            hi = b if hi is None else max(hi, b)
    if lo is None:
        return _Struct((3, _T_I64, nulls))
    if np.dtype(storage).kind == "f":  # a zero minimum is written as -0.0, a zero maximum as +0.0
        lo = -0.0 if lo == 0 else lo
        hi = 0.0 if hi == 0 else hi
    return _Struct((3, _T_I64, nulls), (5, _T_BINARY, np.array([hi], np_t).tobytes()),
                   (6, _T_BINARY, np.array([lo], np_t).tobytes()))


def _page_header(kind: int, raw_len: int, comp_len: int, n_values: int, encoding: int) -> bytes:
    """A PageHeader in the Thrift compact protocol, written out directly (a few hundred per
    part: the generic :class:`_Struct` took 6.7 us each, this 1.7 us): fields 1-3 (type, sizes, i32),
    then field 5, a DataPageHeader (values, encoding, RLE levels), or field 7, a
    DictionaryPageHeader (values, PLAIN)."""
    if max(raw_len, comp_len) >= 1 << 31:  # the header's sizes are 32-bit
        raise SeawatchError(f"a Parquet page of {max(raw_len, comp_len):,} bytes is over the format's 2 GiB limit: "
                            "write fewer rows per file")
    out = bytearray(b"\x15")  # field 1, i32 (delta 1)
    _varint(out, kind << 1)  # (zigzag of a non-negative value)
    out.append(0x15)
    _varint(out, raw_len << 1)
    out.append(0x15)
    _varint(out, comp_len << 1)
    if kind == _DICTIONARY_PAGE:
        out.append(0x4C)  # field 7 (delta 4), struct
        out.append(0x15)
        _varint(out, n_values << 1)
        out += b"\x15\x00\x00\x00"  # encoding PLAIN (0); end of both structs
    else:
        out.append(0x2C)  # field 5 (delta 2), struct
        out.append(0x15)
        _varint(out, n_values << 1)
        out.append(0x15)
        _varint(out, encoding << 1)
        out += b"\x15\x06\x15\x06\x00\x00"  # definition and repetition levels RLE (3); ends
    return bytes(out)


_LZ4: pa.Codec | None = None


def _compress(data: bytes, codec: int) -> bytes | pa.Buffer:
    global _LZ4
    if codec == _UNCOMPRESSED:
        return data
    if _LZ4 is None:
        _LZ4 = pa.Codec("lz4_raw")
    return _LZ4.compress(data)


_SYNC_FILE_RANGE_WRITE = 2
_sync_file_range: Any = None  # libc's sync_file_range (Linux), looked up on first use; False: none


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing these bytes of a file to disk, without waiting (Linux
    ``sync_file_range(SYNC_FILE_RANGE_WRITE)``; elsewhere nothing): an fsync later finds them
    written or on their way, instead of starting the whole file's writes then."""
    global _sync_file_range
    if _sync_file_range is None:
        _sync_file_range = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                f = ctypes.CDLL(None, use_errno=True).sync_file_range
                f.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
                _sync_file_range = f
            except (OSError, AttributeError):  # pragma: no cover - a libc without it
                pass
    if _sync_file_range and length > 0:
        _sync_file_range(fd, offset, length, _SYNC_FILE_RANGE_WRITE)  # (a hint: its errors do not matter)


def _created_by() -> str:
    from . import __version__

    return f"seawatch version {__version__}"


class ParquetWriter:
    """One Parquet file written a row group at a time: :meth:`write` encodes a frame and writes
    it as one row group at once, so its memory can go back to the caller before the next one is
    decoded (the store streams a file's chunks this way); :meth:`close` writes the footer.

    ``schema`` (name -> polars dtype) is every frame's; ``dictionary``, ``statistics`` and
    ``compress`` are as in :func:`write_parquet`; the columns in ``required`` are REQUIRED (a
    null in one raises), the others OPTIONAL. With ``writeback``, the kernel is asked to start
    writing each row group to disk once it is written (Linux; see :func:`_start_writeback`):
    for a file that will be fsynced, the disk works while the caller decodes the next chunk
    (the store's parts: the commit's wait for the fsync went from about 10 to 1 ms on the bench
    file). A file that is not closed has no footer: not a Parquet file (the store writes to a
    temporary name and renames it once closed)."""

    def __init__(self, path: str | os.PathLike[str], schema: Mapping[str, pl.DataType], *,
                 dictionary: Iterable[str] = (), statistics: Iterable[str] = (),
                 compress: Iterable[str] | bool = True, required: Iterable[str] = (),
                 writeback: bool = False):
        names = list(schema)
        self._dictionary, self._statistics, self._required = set(dictionary), set(statistics), set(required)
        self._compress = set(names) if compress is True else set() if compress is False else set(compress)
        for cols, what in ((self._dictionary, "dictionary"), (self._statistics, "statistics"),
                           (self._compress, "compress"), (self._required, "required")):
            missing = cols - set(names)
            if missing:
                raise SeawatchError(f"write_parquet: {what} names columns the frame does not have: {sorted(missing)}")
        self._elements = [_Struct((4, _T_BINARY, "schema"), (5, _T_I32, len(names)))]
        for name, dtype in schema.items():
            phys, _, conv, logical = _types(dtype)  # (raises before the file is created)
            self._elements.append(_Struct((1, _T_I32, phys), (3, _T_I32, _REQUIRED if name in self._required else _OPTIONAL),
                                          (4, _T_BINARY, name), (6, _T_I32, conv), (10, _T_STRUCT, logical)))
        self._schema = dict(schema)
        self._groups: list[_Struct] = []
        self._rows = 0
        self._scratch: _Scratch | None = None
        self._writeback = writeback
        self._f = open(path, "wb")  # noqa: SIM115 - closed by close() (or __exit__)
        self._f.write(b"PAR1")
        self._off = 4

    def write(self, df: pl.DataFrame) -> None:
        """Encode and write ``df`` (the writer's schema, in its order) as one row group."""
        if df.schema != self._schema:
            raise SeawatchError(f"write_parquet: the frame's schema {dict(df.schema)} is not the file's {self._schema}")
        bad = [c for c in self._required if df[c].null_count()]
        if bad:  # (checked before anything of the row group is written)
            raise SeawatchError(f"write_parquet: column {bad[0]!r} is required but holds nulls")
        n = df.height
        if n == 0:
            return
        if self._scratch is None or len(self._scratch.idx) < n:
            self._scratch = _Scratch(n)
        f, off = self._f, self._off
        chunks = []
        for name in df.columns:
            req = name in self._required
            e = _encode_column(df[name], name in self._dictionary, name in self._statistics, self._scratch, req)
            col_start = off
            dict_off = None
            raw_total = comp_total = 0
            codec = _LZ4_RAW if name in self._compress else _UNCOMPRESSED
            if e.dict_page is not None:
                comp = _compress(e.dict_page, codec)
                hdr = _page_header(_DICTIONARY_PAGE, len(e.dict_page), len(comp), e.n_dict, _PLAIN)
                f.write(hdr)
                f.write(comp)
                dict_off = off
                off += len(hdr) + len(comp)
                raw_total += len(hdr) + len(e.dict_page)
                comp_total += len(hdr) + len(comp)
            data_off = off
            raw_len = sum(len(x) if isinstance(x, bytes) else x.nbytes for x in e.parts)
            if codec == _UNCOMPRESSED:
                hdr = _page_header(_DATA_PAGE, raw_len, raw_len, e.num_values, e.encoding)
                f.write(hdr)
                f.writelines(e.parts)
                comp_len = raw_len
            else:
                comp = _compress(b"".join(e.parts), codec)
                comp_len = len(comp)
                hdr = _page_header(_DATA_PAGE, raw_len, comp_len, e.num_values, e.encoding)
                f.write(hdr)
                f.write(comp)
            off += len(hdr) + comp_len
            raw_total += len(hdr) + raw_len
            comp_total += len(hdr) + comp_len
            encodings = [_PLAIN, _RLE] + ([_RLE_DICTIONARY] if e.dict_page is not None else [])
            meta = _Struct(
                (1, _T_I32, e.phys),
                (2, _T_LIST, (_T_I32, encodings)),
                (3, _T_LIST, (_T_BINARY, [name])),
                (4, _T_I32, codec),
                (5, _T_I64, n),
                (6, _T_I64, raw_total),
                (7, _T_I64, comp_total),
                (9, _T_I64, data_off),
                (11, _T_I64, dict_off),
                (12, _T_STRUCT, e.stats),
            )
            chunks.append((_Struct((2, _T_I64, col_start), (3, _T_STRUCT, meta)), raw_total, comp_total, col_start))
        self._groups.append(_Struct(
            (1, _T_LIST, (_T_STRUCT, [c[0] for c in chunks])),
            (2, _T_I64, sum(c[1] for c in chunks)),
            (3, _T_I64, n),
            (5, _T_I64, chunks[0][3]),
            (6, _T_I64, sum(c[2] for c in chunks)),
            (7, _T_I16, len(self._groups)),
        ))
        if self._writeback:
            f.flush()
            _start_writeback(f.fileno(), self._off, off - self._off)
        self._off = off
        self._rows += n

    def close(self) -> int:
        """Write the footer and close the file; returns its size in bytes."""
        if self._f.closed:
            return self._off
        footer = _thrift(_Struct(
            (1, _T_I32, 2),
            (2, _T_LIST, (_T_STRUCT, self._elements)),
            (3, _T_I64, self._rows),
            (4, _T_LIST, (_T_STRUCT, self._groups)),
            (6, _T_BINARY, _created_by()),
            (7, _T_LIST, (_T_STRUCT, [_Struct((1, _T_STRUCT, _Struct())) for _ in self._schema])),
        ))
        with self._f:
            self._f.write(footer)
            self._f.write(len(footer).to_bytes(4, "little"))
            self._f.write(b"PAR1")
        self._off += len(footer) + 8
        return self._off

    def abandon(self) -> None:
        """Close the file without a footer (it is not a Parquet file then)."""
        self._f.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abandon()


def write_parquet(df: pl.DataFrame, path: str | os.PathLike[str], *, dictionary: Iterable[str] = (),
                  statistics: Iterable[str] = (), compress: Iterable[str] | bool = True) -> int:
    """Write ``df`` to ``path`` as one Parquet file of one row group (see the module docstring
    for what it holds); ``dictionary``, ``statistics``: the columns to dictionary-encode and to
    give statistics; ``compress``: True (every column), False, or the columns to compress with
    LZ4_RAW. A column without nulls is REQUIRED. Returns the file's size in bytes."""
    required = [c for c in df.columns if df[c].null_count() == 0]
    with ParquetWriter(path, df.schema, dictionary=dictionary, statistics=statistics, compress=compress,
                       required=required) as w:
        w.write(df)
        return w.close()
