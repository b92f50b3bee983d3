"""Compiled (numba) kernels of the NMEA decoder: one walk over the raw bytes, no Python loop.

Why compiled code: the numpy version of the same scan made about a dozen byte-wise passes over
each chunk (line ends, sentence starts, tag-block keys, six-bit table, checksums) and hundreds of
passes over per-message arrays; see the README's Performance section for the measured figures.

Every kernel bounds-checks its reads (the buffer it gets is padded, and every index is compared
with the buffer length), so arbitrary bytes never crash. The kernels are compiled once per
machine and cached on disk (``cache=True``); when the package directory is not writable the
cache goes to the user cache directory (``NUMBA_CACHE_DIR``, set below if unset).
"""

from __future__ import annotations

import os
import tempfile


def _writable(d: str) -> bool:
    try:
        os.makedirs(d, exist_ok=True)
        return os.access(d, os.W_OK | os.X_OK)
    except OSError:
        return False


def _cache_dir_fallback() -> bool:
    """Make sure numba has a writable cache directory; False: compile without an on-disk cache."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return _writable(os.environ["NUMBA_CACHE_DIR"])
    here = os.path.dirname(os.path.abspath(__file__))
    if _writable(os.path.join(here, "__pycache__")):
        return True
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for cand in (os.path.join(base, "seawatch", "numba"), os.path.join(tempfile.gettempdir(), f"seawatch-numba-{os.getuid() if hasattr(os, 'getuid') else 'u'}")):
        if _writable(cand):
            os.environ["NUMBA_CACHE_DIR"] = cand
            return True
    return False


_CACHE = _cache_dir_fallback()

import llvmlite.binding  # noqa: E402
import numba as nb  # noqa: E402
import numpy as np  # noqa: E402

if _CACHE and os.environ.get("NUMBA_CACHE_DIR") and not nb.config.CACHE_DIR:
    nb.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]  # numba was imported before the fallback was set
_njit = nb.njit(cache=_CACHE, nogil=True)
_LLVM_MAJOR = llvmlite.binding.llvm_version_info[0]


@nb.extending.intrinsic
def _prefetch(typingctx, arr, idx):
    """``_prefetch(arr, i)``: ask the CPU to bring ``arr[i]`` into cache (``llvm.prefetch``, a
    hint: it never faults, whatever the address). For kernels that visit rows scattered over
    large arrays: a plain load of a row that is not in cache stalls the loop for the whole
    memory latency, one row after the other; prefetched a few rows ahead, the misses overlap."""
    from llvmlite import ir
    from numba.core import cgutils, types

    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        aryty, idxty = sig.args
        ary = context.make_array(aryty)(context, builder, args[0])
        i64 = ir.IntType(64)
        itemsize = context.get_abi_sizeof(context.get_data_type(aryty.dtype))
        off = builder.mul(context.cast(builder, args[1], idxty, types.int64), ir.Constant(i64, itemsize))
        ptr = builder.inttoptr(builder.add(builder.ptrtoint(ary.data, i64), off), ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        # (overloaded on the pointer type since LLVM 15's opaque pointers: llvm.prefetch.p0)
        name = "llvm.prefetch.p0" if _LLVM_MAJOR >= 15 else "llvm.prefetch"
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer(), i32, i32, i32]), name)
        builder.call(fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])  # read, keep, data
        return context.get_dummy_value()

    return types.void(arr, idx), codegen

#: six-bit value of each byte; 255 (bit 7 set) where the byte is not a payload character
_SIXV = np.full(256, 255, np.uint8)
_SIXV[48:88] = np.arange(0, 40)
_SIXV[96:120] = np.arange(40, 64)

# status codes (mirror nmea.py)
_OK = 1
_C_BLANK, _C_COMMENT, _C_NONAIS, _C_GARBAGE = 3, 4, 5, 6
_C_BAD_SENTENCE, _C_BAD_CHECKSUM, _C_BAD_PAYLOAD = 8, 9, 10

_I64MAX = 9223372036854775807
_ONES8 = np.uint64(0x0101010101010101)
_HIGH8 = np.uint64(0x8080808080808080)
_NL8 = np.uint64(0x0A0A0A0A0A0A0A0A)
_BANG8 = np.uint64(0x2121212121212121)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_BSL8 = np.uint64(0x5C5C5C5C5C5C5C5C)
_COMMA8 = np.uint64(0x2C2C2C2C2C2C2C2C)
_STAR8 = np.uint64(0x2A2A2A2A2A2A2A2A)
_COLON8 = np.uint64(0x3A3A3A3A3A3A3A3A)
_ADD48 = np.uint64(0x5050505050505050)  # + 80: bit 7 set for b >= 48
_ADD58 = np.uint64(0x4646464646464646)  # + 70: bit 7 set for b >= 58
_LOW4 = np.uint64(0x0F0F0F0F0F0F0F0F)  # a digit's value, byte by byte
_LOW8_16 = np.uint64(0x00FF00FF00FF00FF)
_LOW16_32 = np.uint64(0x0000FFFF0000FFFF)
_ADD88 = np.uint64(0x2828282828282828)  # + 40: bit 7 set for b >= 88
_ADD96 = np.uint64(0x2020202020202020)  # + 32: bit 7 set for b >= 96
_ADD120 = np.uint64(0x0808080808080808)  # + 8: bit 7 set for b >= 120
# index of a 64-bit word's lowest set bit: (bit * _DEBRUIJN) >> 58 -> position table
_DEBRUIJN = np.uint64(0x03F79D71B4CB0A89)
_DEBRUIJN_POS = np.zeros(64, np.int64)
for _b in range(64):
    _DEBRUIJN_POS[int(((1 << _b) * 0x03F79D71B4CB0A89) % (1 << 64)) >> 58] = _b


@_njit
def _digit(c):
    return c - 48 if 48 <= c <= 57 else 255


@_njit
def _hexv(c):
    if 48 <= c <= 57:
        return c - 48
    if 65 <= c <= 70:
        return c - 55
    if 97 <= c <= 102:
        return c - 87
    return 255


_inline = nb.njit(cache=_CACHE, nogil=True, inline="always")  # folded into the caller: no call


@_inline
def _eq_bytes(w, c8):
    """The bytes of ``w`` equal to the byte ``c8`` repeats, as their high bits (0x80; exact: no
    borrow from one byte into the next)."""
    x = w ^ c8
    return ~(((x & _LOW7) + _LOW7) | x | _LOW7)


@_inline
def _low_byte(mk):
    """(index 0-7 of the lowest byte of ``mk`` with a bit set, ``mk`` without that bit); ``mk``
    not 0. The bit's position by a de Bruijn multiply."""
    low = mk & (~mk + np.uint64(1))
    return np.int64(_DEBRUIJN_POS[np.int64((low * _DEBRUIJN) >> np.uint64(58))] >> 3), mk ^ low


@_inline
def _word_at(a64, x):
    """The 8 bytes at byte ``x`` of the buffer whose words are ``a64``, as one little-endian
    word (an unaligned read from two aligned ones; the buffer is padded past ``x + 8``)."""
    sh = np.uint64(8 * (x & 7))
    wi = x >> 3
    return (a64[wi] >> sh) | ((a64[wi + 1] << (np.uint64(63) - sh)) << np.uint64(1))


@_inline
def _first_sep(a64, x, lim):
    """Position of the first ',', backslash or '*' in bytes [x, lim) (a word at a time), or
    ``lim`` if there is none."""
    while x < lim:
        w = _word_at(a64, x)
        mk = _eq_bytes(w, _COMMA8) | _eq_bytes(w, _BSL8) | _eq_bytes(w, _STAR8)
        if mk:
            b, _ = _low_byte(mk)
            return min(x + b, lim)
        x += 8
    return lim


@_inline
def _digits(a, a64, vs, ve):
    """(value, ok) of the decimal digits ``a[vs:ve]`` (ok: all digits; at most 18). The first 8
    at once when there are as many (a quarter of the scan's time once went to a digit-by-digit
    loop): one unaligned word, checked to be '0'..'9', converted in three multiply-shift steps
    (pairs, quads, 8)."""
    v = 0
    okd = True
    j0 = vs
    if ve - vs >= 8:
        dw = _word_at(a64, vs)
        if ((dw + _ADD48) & ~(dw + _ADD58)) & _HIGH8 != _HIGH8:
            okd = False
        dw &= _LOW4
        dw = ((dw * np.uint64(2561)) >> np.uint64(8)) & _LOW8_16
        dw = ((dw * np.uint64(6553601)) >> np.uint64(16)) & _LOW16_32
        v = np.int64((dw * np.uint64(42949672960001)) >> np.uint64(32))
        j0 = vs + 8
    for j2 in range(j0 if okd else ve, ve):
        d = _digit(a[j2])
        if d == 255:
            okd = False
            break
        v = v * 10 + d
    return v, okd


@_njit
def _six_ok(c):
    return (48 <= c < 88) or (96 <= c < 120)


@_njit
def census(a, a64, n):
    """One pass over the first ``n`` bytes of ``a`` (``a64``: the same bytes as 64-bit words; its
    length is a multiple of 8), a word at a time: (newlines, '!' bytes, whether the bytes are
    ASCII without NUL). The counts size ``scan``'s arrays (lines; an upper bound of sentences)."""
    nw = n >> 3
    acc = np.uint64(0)
    n_lines = 0
    n_bang = 0
    for wi in range(nw):
        w = a64[wi]
        acc |= w | ((w - _ONES8) & ~w & _HIGH8)  # high bits, and a high bit for a zero byte
        # the bytes equal to '\n' and '!', their high bits summed by a multiply
        mx = _eq_bytes(w, _NL8) >> np.uint64(7)
        my = _eq_bytes(w, _BANG8) >> np.uint64(7)
        n_lines += np.int64((mx * _ONES8) >> np.uint64(56))
        n_bang += np.int64((my * _ONES8) >> np.uint64(56))
    ok = (acc & _HIGH8) == 0
    for i in range(nw << 3, n):
        c = a[i]
        if c >= 128 or c == 0:
            ok = False
        n_lines += c == 10
        n_bang += c == 33
    return n_lines, n_bang, ok


@_njit
def scan(a, a64, n_data, n_lines, n_bang, off):
    """Walk the (ASCII, newline-terminated, zero-padded) buffer ``a`` whose first ``n_data`` bytes
    are data, once: every line is handled while it is in cache. ``a64`` is ``a`` seen as 64-bit
    words (its length is a multiple of 8); ``n_lines`` and ``n_bang`` are its newlines and '!'
    bytes (``census``). Positions in the buffer (and lengths) are held in arrays of ``off``'s
    type: int32 below 2 GiB (half the memory of int64; fewer page faults on a first chunk).
    Returns per-line and per-sentence arrays; see ``nmea._parse``."""
    N = len(a)
    ot = off.dtype
    ls = np.empty(n_lines, ot)
    le = np.empty(n_lines, ot)
    first_elem = np.full(n_lines, -1, ot)
    lstat = np.zeros(n_lines, np.int16)
    p = np.empty(n_bang, ot)
    s_line = np.empty(n_bang, np.int64)
    cnt = np.empty(n_bang, np.int16)
    num = np.empty(n_bang, np.int16)
    seq = np.empty(n_bang, np.int16)
    chan = np.empty(n_bang, np.int16)
    fill = np.empty(n_bang, np.int16)
    status = np.empty(n_bang, np.int16)
    pstart = np.empty(n_bang, ot)
    plen = np.zeros(n_bang, ot)
    star_a = np.empty(n_bang, ot)
    well_a = np.zeros(n_bang, np.bool_)
    elem_start = np.empty(n_bang, ot)
    ts_us = np.zeros(n_bang, np.int64)
    ts_ok = np.zeros(n_bang, np.bool_)
    st_start = np.zeros(n_bang, ot)
    st_len = np.zeros(n_bang, ot)
    st_view = np.zeros((n_bang, 2), np.uint64)
    grp = np.full(n_bang, -1, np.int64)
    tr_start = np.empty(n_bang, ot)
    tr_end = np.empty(n_bang, ot)
    li = 0
    ns = 0
    start = 0
    rare0 = rare1 = rare2 = rare3 = 0
    comment = a[0] == 35 if n_data else False
    # events ('!' and newlines) a 64-bit word at a time: an exact mask of the event bytes, then
    # its set bits lowest first. The per-line and per-sentence code below runs inside this loop
    # and shares its locals: it must leave the loop's state alone (wi, mk, ns, li, start,
    # comment, e), apart from the updates where a line ends (a reused word index once lost lines;
    # the corpus tests catch that kind of slip)
    nw = (n_data + 7) >> 3
    for wi in range(nw):
        w = a64[wi]
        mk = _eq_bytes(w, _NL8) | _eq_bytes(w, _BANG8)
        while mk:
            bi, mk = _low_byte(mk)
            i = (wi << 3) + bi
            if i >= n_data:
                break
            c = a[i]
            if c == 33:
                # '!' + 2 talker chars + 'VDM'/'VDO' + ','; a sentence quoted in a '#' line is a comment
                if not comment and a[i + 3] == 86 and a[i + 4] == 68 and (a[i + 5] == 77 or a[i + 5] == 79) and a[i + 6] == 44:
                    p[ns] = i
                    s_line[ns] = li
                    ns += 1
            elif c == 10:
                e = i
                if e > start and a[e - 1] == 13:
                    e -= 1
                ls[li] = start
                le[li] = e
                # the sentences of this line
                k0 = ns
                while k0 > 0 and s_line[k0 - 1] == li:
                    k0 -= 1
                for k in range(k0, ns):
                    # fields, checksum, payload check and tag block of sentence k (inline: a call
                    # with array arguments costs reference counting per sentence)
                    q = p[k]
                    li = s_line[k]
                    lend = le[li]
                    nxt = p[k + 1] if k + 1 < ns else N
                    s_limit = min(lend, nxt)
                    cn = _digit(a[q + 7])
                    nu = _digit(a[q + 9])
                    if a[q + 11] == 44:
                        c3 = q + 11
                        sq = -1
                    else:
                        c3 = q + 12
                        sq = _digit(a[q + 11])
                    if a[c3 + 1] == 44:
                        c4 = c3 + 1
                        ch = 0
                    else:
                        c4 = c3 + 2
                        ch = np.int64(a[c3 + 1])
                    cnt[k] = cn
                    num[k] = nu
                    seq[k] = sq
                    chan[k] = ch
                    star = s_limit - 3
                    if a[max(star, 0)] != 42:
                        star = -1
                        for j in range(c4 + 1, s_limit - 2):
                            if a[j] == 42:
                                star = j
                                break
                    c5 = star - 2
                    well = (
                        star > c4
                        and a[q + 8] == 44
                        and a[q + 10] == 44
                        and a[c3] == 44
                        and a[c4] == 44
                        and a[max(c5, 0)] == 44
                        and 1 <= cn <= 9
                        and 1 <= nu <= cn
                        and sq != 255
                    )
                    well_a[k] = well
                    if well:
                        st = _OK
                    else:
                        st = _C_BAD_SENTENCE
                        star = q + 2
                        c5 = q + 1
                        c4 = q
                    star_a[k] = star
                    fl = _digit(a[c5 + 1])
                    fill[k] = fl
                    if st == _OK:
                        # XOR of the characters between '!' and '*' (bytes q+1 .. star-1): the
                        # whole words that hold them, less the bytes of the first word before
                        # q+1 and those of the last word from star on (masks, no byte loop)
                        j0 = (q + 1) >> 3
                        j1 = (star - 1) >> 3
                        w = np.uint64(0)
                        for cwi in range(j0, j1 + 1):
                            w ^= a64[cwi]
                        w ^= a64[j0] & ((np.uint64(1) << np.uint64(8 * ((q + 1) & 7))) - np.uint64(1))
                        w ^= a64[j1] & ~((np.uint64(1) << np.uint64(8 * (star - 8 * j1))) - np.uint64(1)) \
                            if star - 8 * j1 < 8 else np.uint64(0)
                        w ^= w >> np.uint64(32)
                        w ^= w >> np.uint64(16)
                        w ^= w >> np.uint64(8)
                        x = np.uint8(w & np.uint64(255))
                        h1 = _hexv(a[star + 1])
                        h2 = _hexv(a[star + 2])
                        if h1 == 255 or h2 == 255 or ((h1 << 4) | h2) != x:
                            st = _C_BAD_CHECKSUM
                    ps = c4 + 1
                    pl_ = c5 - c4 - 1 if st == _OK else 0
                    pstart[k] = ps
                    plen[k] = pl_
                    if st == _OK:
                        if fl > 5:
                            st = _C_BAD_PAYLOAD
                        else:
                            # a payload character is in '0'..'W' or '`'..'w': checked 8 bytes at a
                            # time (every byte is below 128 here, so adding a constant below 128 to
                            # each never carries into the next: bit 7 of b + k says b >= 128 - k)
                            pe_ = ps + pl_
                            bad = np.uint64(0)
                            for pwi in range(ps >> 3, (pe_ + 7) >> 3 if pl_ > 0 else 0):
                                pw = a64[pwi]
                                okb = (((pw + _ADD48) & ~(pw + _ADD88)) | ((pw + _ADD96) & ~(pw + _ADD120))) & _HIGH8
                                badb = okb ^ _HIGH8
                                pb = pwi << 3
                                if pb < ps:
                                    badb &= ~((np.uint64(1) << np.uint64(8 * (ps - pb))) - np.uint64(1))
                                if pb + 8 > pe_:
                                    badb &= (np.uint64(1) << np.uint64(8 * (pe_ - pb))) - np.uint64(1)
                                bad |= badb
                            if bad:
                                st = _C_BAD_PAYLOAD
                    status[k] = st
                    # ---- tag block directly before the '!'
                    es = q
                    if q > 0 and a[q - 1] == 92:
                        lo = ls[li]
                        if k > 0 and s_line[k - 1] == li:
                            pe = star_a[k - 1] + 3 if well_a[k - 1] else p[k - 1] + 1
                            lo = max(lo, pe)
                        # one forward pass over the bytes [lo, q-1] (q-1: the block's closing
                        # backslash), visiting only the special ones ('\\', ',', '*', ':'), found
                        # a 64-bit word at a time: a backslash before q-1 starts the block again
                        # (the last one opens it), a key (c, s or g after ',' or the backslash,
                        # then ':') is pending until its value ends at the next ',' or '*' or at
                        # the block's end, after at most 24 characters; the block's last valid
                        # c: / g: and its last s: win
                        tb = -1
                        tb_end = q - 1
                        c_val = -1
                        g_val = -1
                        s_vs = -1
                        s_vl = 0
                        pk = 0  # pending key (0: none) and where its value starts
                        pvs = 0
                        # the usual block first: "\\s:<station>,c:<digits>*hh\\" (or the two fields
                        # the other way round) at the region's start, the station 1-24 bytes
                        # without ',', backslash or '*', 1-13 digits: what the general pass below
                        # finds in it is exactly this, and finding it with word masks instead
                        # took the scan from 23.5 to 21.2 ms per 16 MiB chunk of the bench file.
                        # Anything else goes the general way
                        fast = False
                        cs = tb_end - 3  # the block's '*'
                        f1 = a[lo + 1]
                        if (a[lo] == 92 and a[lo + 2] == 58 and (f1 == 115 or f1 == 99) and cs > lo + 3
                                and a[cs] == 42 and _hexv(a[cs + 1]) != 255 and _hexv(a[cs + 2]) != 255):
                            j = _first_sep(a64, lo + 3, min(cs, lo + 27))
                            f2 = 99 if f1 == 115 else 115
                            if j < cs and a[j] == 44 and a[j + 1] == f2 and a[j + 2] == 58:
                                if f1 == 115:
                                    fsv, fse, fcv, fce = lo + 3, j, j + 3, cs
                                else:
                                    fcv, fce, fsv, fse = lo + 3, j, j + 3, cs
                                if (1 <= fse - fsv <= 24 and 1 <= fce - fcv <= 13
                                        and (f1 == 115 or _first_sep(a64, fsv, fse) == fse)):
                                    v, okd = _digits(a, a64, fcv, fce)
                                    if okd:
                                        fast = True
                                        tb = lo
                                        c_val = v if v > 0 else -1
                                        s_vs = fsv
                                        s_vl = fse - fsv
                        for twi in range(lo >> 3, lo >> 3 if fast else (tb_end >> 3) + 1):
                            tw = a64[twi]
                            tmk = (_eq_bytes(tw, _BSL8) | _eq_bytes(tw, _COMMA8) | _eq_bytes(tw, _STAR8)
                                   | _eq_bytes(tw, _COLON8))
                            tbase = twi << 3
                            if tbase < lo:
                                tmk &= ~((np.uint64(1) << np.uint64(8 * (lo - tbase))) - np.uint64(1))
                            if tbase + 8 > tb_end + 1:
                                tmk &= (np.uint64(1) << np.uint64(8 * (tb_end + 1 - tbase))) - np.uint64(1)
                            while tmk:
                                bj, tmk = _low_byte(tmk)
                                j = tbase + bj
                                b = a[j]
                                if b == 92 and j < tb_end:
                                    tb = j
                                    c_val = -1
                                    g_val = -1
                                    s_vs = -1
                                    s_vl = 0
                                    pk = 0
                                    continue
                                if b == 58:
                                    if pk == 0 and j >= 2:
                                        key = a[j - 1]
                                        pre = a[j - 2]
                                        if (pre == 92 or pre == 44) and (key == 99 or key == 115 or key == 103):
                                            pk = key
                                            pvs = j + 1
                                    continue
                                if pk == 0:
                                    continue
                                stop = j
                                # the pending key's value ends here (',', '*' or the block's end)
                                vs = pvs
                                ve = min(stop, vs + 24)
                                vl = ve - vs
                                key = pk
                                pk = 0
                                if key == 99:
                                    if 1 <= vl <= 13:
                                        v, okd = _digits(a, a64, vs, ve)
                                        if okd and v > 0:
                                            c_val = v
                                elif key == 115:
                                    s_vs = vs
                                    s_vl = vl
                                else:
                                    # ^\d+-\d+-(\d+)$ ; the last group as int64 (overflow: invalid)
                                    j2 = vs
                                    okg = True
                                    for _part in range(2):
                                        j3 = j2
                                        while j2 < ve and _digit(a[j2]) != 255:
                                            j2 += 1
                                        if j2 == j3 or j2 >= ve or a[j2] != 45:
                                            okg = False
                                            break
                                        j2 += 1
                                    if okg:
                                        j3 = j2
                                        v = 0
                                        while j2 < ve:
                                            d = _digit(a[j2])
                                            if d == 255:
                                                okg = False
                                                break
                                            if v > (_I64MAX - d) // 10:
                                                okg = False
                                                break
                                            v = v * 10 + d
                                            j2 += 1
                                        if j2 == j3:
                                            okg = False
                                        if okg:
                                            g_val = v
                        if tb >= 0:
                            es = tb
                            if c_val > 0:
                                ts_us[k] = c_val * 1000 if c_val >= 100_000_000_000 else c_val * 1_000_000
                                ts_ok[k] = True
                            if s_vs >= 0:
                                st_start[k] = s_vs
                                st_len[k] = s_vl
                                # its Arrow string view, while the bytes are in cache (see ``views``):
                                # length, the first 4 bytes, then the next 8 (12 bytes or fewer) or
                                # buffer 0 and the offset, from two unaligned words
                                w_s = _word_at(a64, s_vs)
                                nb4 = min(s_vl, 4)
                                vlo = np.uint64(s_vl) | ((w_s & ((np.uint64(1) << np.uint64(8 * nb4)) - np.uint64(1)))
                                                         << np.uint64(32))
                                vhi = np.uint64(0)
                                if s_vl > 12:
                                    vhi = np.uint64(s_vs) << np.uint64(32)
                                elif s_vl > 4:
                                    vhi = _word_at(a64, s_vs + 4)
                                    if s_vl < 12:
                                        vhi &= (np.uint64(1) << np.uint64(8 * (s_vl - 4))) - np.uint64(1)
                                st_view[k, 0] = vlo
                                st_view[k, 1] = vhi
                            if g_val >= 0:
                                grp[k] = g_val
                    elem_start[k] = es
                    tr_start[k] = star + 3 if well else s_limit
                for k in range(k0, ns):
                    tr_end[k] = min(elem_start[k + 1], e) if k + 1 < ns else e
                    if tr_end[k] - tr_start[k] > 1 and a[min(tr_start[k], N - 1)] == 44:
                        rare0 += 1
                fc = a[start]
                if ns > k0:
                    first_elem[li] = elem_start[k0]
                    if elem_start[k0] > start:
                        rare3 += 1
                elif e <= start:
                    lstat[li] = _C_BLANK
                elif fc == 36 or fc == 33:
                    lstat[li] = _C_NONAIS
                    if fc == 36 and e - start >= 6:
                        rare1 += 1
                elif fc == 35:
                    lstat[li] = _C_COMMENT
                else:
                    lstat[li] = _C_GARBAGE
                    if fc == 32 or fc == 9:
                        rare2 += 1
                li += 1
                start = i + 1
                comment = a[start] == 35
    n = ns
    # how many sentences / lines need the rarer time sources (the caller skips what is absent):
    # text after the checksum (USCG), '$' lines ($PGHP), whitespace lines, text before the first
    # sentence of a line (epoch / ISO-8601 prefix); counted line by line above
    rare = np.zeros(4, np.int64)
    rare[0] = rare0
    rare[1] = rare1
    rare[2] = rare2
    rare[3] = rare3
    return (ls, le, p[:n], s_line[:n], cnt[:n], num[:n], seq[:n], chan[:n], fill[:n], status[:n],
            pstart[:n], plen[:n], star_a[:n], well_a[:n], elem_start[:n], ts_us[:n], ts_ok[:n],
            st_start[:n], st_len[:n], grp[:n], tr_start[:n], tr_end[:n], first_elem, lstat, rare,
            st_view[:n])


# ---------------------------------------------------------------------------------------------
# messages: six-bit payloads of single sentences (in the chunk buffer ``a``) and of reassembled
# multi-sentence messages (in ``m``): message i < n_single reads ``a``, the others ``m``

_C_BAD_MSG_TYPE, _C_TOO_SHORT, _C_OUT_OF_RANGE = 11, 12, 13
_FNV0 = np.uint64(0xCBF29CE484222325)
_FNV1 = np.uint64(0x100000001B3)


@_njit
def _pos_na_oor(t, lo, la):
    """A position report's raw longitude and latitude (1/10000 min; type 27: 1/10 min): 1 when
    "not available" (181 or 91 degrees), 2 when outside +-180 / +-90 degrees, else 0. Compared as
    integers: ``lo / 600000 > 180`` exactly when ``lo > 108,000,000``."""
    u = 600 if t == 27 else 600000
    if lo == 181 * u or la == 91 * u:
        return 1
    if abs(lo) > 180 * u or abs(la) > 90 * u:
        return 2
    return 0


@_njit
def message_set(si, p_start, p_len, p_fill, p_ts, p_tsok, p_line, line0,
                m_start, m_len, m_fill, m_ts, m_tsok, m_line):
    """The messages of a chunk, in one pass: the single-sentence ones (the sentences ``si``: their
    payload in the chunk buffer), then the reassembled ones (payload in the joined buffer).
    Returns per message: payload start and length, fill bits, receive time (microseconds) and
    whether there is one, and the 1-based number of its first line (chunk lines + ``line0``)."""
    ns = len(si)
    n = ns + len(m_start)
    start = np.empty(n, np.int64)
    nchar = np.empty(n, np.int64)
    fill = np.empty(n, np.int64)
    ts = np.empty(n, np.int64)
    tsok = np.empty(n, np.bool_)
    line = np.empty(n, np.int64)
    for r in range(ns):
        k = si[r]
        start[r] = p_start[k]
        nchar[r] = p_len[k]
        fill[r] = p_fill[k]
        ts[r] = p_ts[k]
        tsok[r] = p_tsok[k]
        line[r] = p_line[k] + line0 + 1
    for r in range(len(m_start)):
        start[ns + r] = m_start[r]
        nchar[ns + r] = m_len[r]
        fill[ns + r] = m_fill[r]
        ts[ns + r] = m_ts[r]
        tsok[ns + r] = m_tsok[r]
        line[ns + r] = m_line[r]
    return start, nchar, fill, ts, tsok, line


@_njit
def messages(a, a64, m, m64, n_single, start, nchar, fill, min_bits, kinds):
    """Per message: bits, type, the table(s) a valid message goes to (``kinds`` by type, bits
    of ``nmea.KIND_*``; 0 for a message that is not valid; a type 24 part other than A or B
    goes to other), status (bad_payload / payload_too_short / bad_msg_type /
    position_out_of_range) and a 64-bit hash of the payload text (for receiver-duplicate
    detection)."""
    n = len(start)
    nbits = np.empty(n, np.int64)
    mt = np.empty(n, np.int64)
    kind = np.zeros(n, np.int8)
    mstatus = np.empty(n, np.int16)
    h = np.empty(n, np.uint64)
    for i in range(n):
        single = i < n_single
        src = a if single else m
        src64 = a64 if single else m64
        s = start[i]
        nc = nchar[i]
        nb_ = nc * 6 - fill[i]
        nbits[i] = nb_
        s0 = max(s, 0)
        e = max(min(s + nc, len(src) - 8), s0)  # the buffers are padded: whole words stay inside
        bad = np.uint8(0)
        if not single:  # single sentences were checked by ``scan``
            for j in range(s0, e):
                bad |= _SIXV[src[j]]
        # hash: the payload 8 bytes (one little-endian word) at a time
        hv = _FNV0 ^ np.uint64(e - s0)
        j = s0
        while j < e:
            w = _word_at(src64, j)
            r = e - j
            if r < 8:
                w &= (np.uint64(1) << np.uint64(8 * r)) - np.uint64(1)
            hv = (hv ^ w) * _FNV1
            j += 8
        # final mix (splitmix64) so that close payloads spread over the whole range
        hv ^= hv >> np.uint64(30)
        hv *= np.uint64(0xBF58476D1CE4E5B9)
        hv ^= hv >> np.uint64(27)
        hv *= np.uint64(0x94D049BB133111EB)
        hv ^= hv >> np.uint64(31)
        h[i] = hv
        t = -1
        if nb_ >= 6 and 0 <= s < len(src):
            t = np.int64(_SIXV[src[s]])
        mt[i] = t
        part24 = 0
        if nc > 6 and 0 <= s and s + 6 < len(src):
            part24 = (np.int64(_SIXV[src[s + 6]]) >> 2) & 3
        st = _OK
        if i >= n_single and nc > 0 and (bad & 128):
            st = _C_BAD_PAYLOAD
        if st == _OK and nb_ < 38:
            st = _C_TOO_SHORT
        if st == _OK and (t < 1 or t > 27):
            st = _C_BAD_MSG_TYPE
        if st == _OK and nb_ < min_bits[t]:
            st = _C_TOO_SHORT
        if st == _OK and (t <= 4 or t == 9 or t == 18 or t == 19 or t == 21 or t == 27):
            # position reports: a position outside +-180 / +-90 (not the "not available" value) is
            # a reject; the same arithmetic as ``positions``
            if t <= 3 or t == 9:
                lo_off, la_off = 61, 89
            elif t == 4:
                lo_off, la_off = 79, 107
            elif t == 21:
                lo_off, la_off = 164, 192
            elif t == 27:
                lo_off, la_off = 44, 62
            else:
                lo_off, la_off = 57, 85
            lo_w, la_w = (18, 17) if t == 27 else (28, 27)
            # longitude and latitude are adjacent: one window of at most 10 characters (60 bits)
            c0 = lo_off // 6
            c1 = (la_off + la_w - 1) // 6
            acc = 0
            if c1 < nc and s + c1 < len(src):  # the usual case: the whole window is there
                for c in range(c0, c1 + 1):
                    acc = (acc << 6) | np.int64(_SIXV[src[s + c]] & 63)
            else:
                for c in range(c0, c1 + 1):
                    acc <<= 6
                    if c < nc and s + c < len(src):
                        acc |= np.int64(_SIXV[src[s + c]] & 63)
            wbits = (c1 - c0 + 1) * 6
            lo = (acc >> (wbits - (lo_off - 6 * c0) - lo_w)) & ((1 << lo_w) - 1)
            if lo >= (1 << (lo_w - 1)):
                lo -= 1 << lo_w
            la = (acc >> (wbits - (la_off - 6 * c0) - la_w)) & ((1 << la_w) - 1)
            if la >= (1 << (la_w - 1)):
                la -= 1 << la_w
            if _pos_na_oor(t, lo, la) == 2:
                st = _C_OUT_OF_RANGE
        mstatus[i] = st
        if st == _OK:
            kind[i] = 4 if t == 24 and part24 > 1 else kinds[t]
    return nbits, mt, kind, mstatus, h


@_njit
def _word(w0, w1, w2, w3, w4, w5, w6, w7, k):
    if k == 0:
        return w0
    if k == 1:
        return w1
    if k == 2:
        return w2
    if k == 3:
        return w3
    if k == 4:
        return w4
    if k == 5:
        return w5
    if k == 6:
        return w6
    if k == 7:
        return w7
    return np.uint64(0)


@_njit
def _u(w0, w1, w2, w3, w4, w5, w6, w7, off, width):
    """Unsigned field of ``width`` (<= 30) bits at bit ``off`` of a payload packed 60 bits a word."""
    k = off // 60
    r = off - k * 60
    wa = _word(w0, w1, w2, w3, w4, w5, w6, w7, k)
    mask = (np.uint64(1) << np.uint64(width)) - np.uint64(1)
    if r + width <= 60:
        return np.int64((wa >> np.uint64(60 - r - width)) & mask)
    n2 = r + width - 60
    wb = _word(w0, w1, w2, w3, w4, w5, w6, w7, k + 1)
    hi = (wa & ((np.uint64(1) << np.uint64(60 - r)) - np.uint64(1))) << np.uint64(n2)
    return np.int64(hi | (wb >> np.uint64(60 - n2)))


@_njit
def _s(w0, w1, w2, w3, w4, w5, w6, w7, off, width):
    v = _u(w0, w1, w2, w3, w4, w5, w6, w7, off, width)
    return v - (1 << width) if v >= (1 << (width - 1)) else v


# position reports: ``positions`` holds each type's ITU-R M.1371 bit layout (field offsets and
# widths, or the "not available" value of a field the type does not carry) and gives each row a
# class code: 0 A (1-3), 1 base (4), 2 sar (9), 3 B (18, 19), 4 aton (21), 5 lr (27), the
# ``ais_class`` names in ``nmea._POS_CLASSES``; ``messages`` reads the longitudes and latitudes at
# the same offsets for its range check


_M30 = np.uint64(0x3030303030303030)
_M58 = np.uint64(0x5858585858585858)
_MFFFFFFFF = np.uint64(0xFFFFFFFF)


@_njit
def _six8(w):
    """Six-bit values of 8 payload characters (the bytes of ``w``, first character lowest), packed
    48 bits, the first character highest. Each character must be a payload character ('0'..'W',
    '`'..'w'); a byte that is not may spoil itself and the bytes after it, never those before."""
    x = w - _M30  # '0'..'W' -> 0..39, '`'..'w' -> 48..71
    x -= ((((x + _M58) >> np.uint64(7)) & _ONES8) << np.uint64(3))  # 48..71 -> 40..63
    t = ((x & _LOW8_16) << np.uint64(6)) | ((x >> np.uint64(8)) & _LOW8_16)  # pairs: 12 bits a 16-bit lane
    u = ((t & _LOW16_32) << np.uint64(12)) | ((t >> np.uint64(16)) & _LOW16_32)  # fours: 24 bits a 32-bit lane
    return ((u & _MFFFFFFFF) << np.uint64(24)) | (u >> np.uint64(32))


@_njit
def positions(a, a64, m, m64, n_single, start, nchar, mt, sel):
    """Fields of the position reports ``sel`` (rows in that order), in the types seawatch stores
    (float32 values are computed in float64, then rounded); ``*_na`` are their null masks.
    ``a64`` and ``m64`` are ``a`` and ``m`` seen as 64-bit words."""
    n = len(sel)
    mmsi = np.empty(n, np.int64)
    lat = np.empty(n, np.float64)
    lon = np.empty(n, np.float64)
    pos_na = np.zeros(n, np.bool_)
    oor = np.zeros(n, np.bool_)
    sog_kn = np.empty(n, np.float32)
    sog_na = np.zeros(n, np.bool_)
    cog = np.empty(n, np.float32)
    cog_na = np.zeros(n, np.bool_)
    hdg = np.empty(n, np.float32)
    hdg_na = np.zeros(n, np.bool_)
    rot = np.empty(n, np.float32)
    rot_na = np.zeros(n, np.bool_)
    status = np.empty(n, np.int8)
    acc = np.zeros(n, np.bool_)
    sec = np.empty(n, np.int8)
    cls = np.empty(n, np.int8)
    alt = np.empty(n, np.float32)
    alt_na = np.zeros(n, np.bool_)
    for r in range(n):
        i = sel[r]
        src = a if i < n_single else m
        t = mt[i]
        # the payload's first 50 characters (300 bits: every position field), 60 bits a word
        s = start[i]
        nc = min(nchar[i], 50 if t == 21 else 30)
        if s < 0:
            nc = 0
        nc = max(min(nc, len(src) - s), 0)
        w0 = w1 = w2 = w3 = w4 = w5 = w6 = w7 = np.uint64(0)
        if 20 < nc <= 30:
            # the usual report (28 characters): its 32 bytes as four unaligned 64-bit words
            # from five aligned ones (``_word_at`` four times reads eight: 6% slower; ``a64``
            # and ``m64`` are the buffers as words, padded, so the fifth word is inside),
            # converted 8 characters at a time (``_six8``: the characters are payload
            # characters, ``scan`` and ``messages`` checked them); characters from nc on are
            # cleared. Measured on the bench file's 838k reports: 33.9 -> 28.5 ms for the
            # kernel (a character at a time through the six-bit table before)
            src64 = a64 if i < n_single else m64
            wi = s >> 3
            sh = np.uint64(8 * (s & 7))
            ish = np.uint64(63) - sh  # (x << ish) << 1: no shift by 64 when s is aligned
            x0 = src64[wi]
            x1 = src64[wi + 1]
            x2 = src64[wi + 2]
            x3 = src64[wi + 3]
            x4 = src64[wi + 4]
            g0 = _six8((x0 >> sh) | ((x1 << ish) << np.uint64(1)))
            g1 = _six8((x1 >> sh) | ((x2 << ish) << np.uint64(1)))
            g2 = _six8((x2 >> sh) | ((x3 << ish) << np.uint64(1)))
            g3 = _six8((x3 >> sh) | ((x4 << ish) << np.uint64(1)))
            w0 = (g0 << np.uint64(12)) | (g1 >> np.uint64(36))
            w1 = ((g1 & np.uint64((1 << 36) - 1)) << np.uint64(24)) | (g2 >> np.uint64(24))
            w2 = ((g2 & np.uint64((1 << 24) - 1)) << np.uint64(36)) | (g3 >> np.uint64(12))
            w2 &= ~((np.uint64(1) << np.uint64(6 * (30 - nc))) - np.uint64(1))
            # done: the general loop below then does nothing (an else branch instead measured 25%
            # slower: LLVM compiles the kernel differently)
            nc = 0
        for k in range((nc + 9) // 10):
            w = np.uint64(0)
            c10 = min(nc - 10 * k, 10)
            for j in range(s + 10 * k, s + 10 * k + c10):
                w = (w << np.uint64(6)) | np.uint64(_SIXV[src[j]] & 63)
            w = w << np.uint64(6 * (10 - c10))
            if k == 0:
                w0 = w
            elif k == 1:
                w1 = w
            elif k == 2:
                w2 = w
            elif k == 3:
                w3 = w
            else:
                w4 = w
        st_ = -1
        rt = -128
        al = 4095
        sg_na = False
        scale = 600000.0
        if t == 1 or t == 2 or t == 3:
            c = 0
            st_ = _u(w0, w1, w2, w3, w4, w5, w6, w7, 38, 4)
            rt = _s(w0, w1, w2, w3, w4, w5, w6, w7, 42, 8)
            sg = _u(w0, w1, w2, w3, w4, w5, w6, w7, 50, 10)
            ac = _u(w0, w1, w2, w3, w4, w5, w6, w7, 60, 1)
            lo = _s(w0, w1, w2, w3, w4, w5, w6, w7, 61, 28)
            la = _s(w0, w1, w2, w3, w4, w5, w6, w7, 89, 27)
            cg = _u(w0, w1, w2, w3, w4, w5, w6, w7, 116, 12)
            hd = _u(w0, w1, w2, w3, w4, w5, w6, w7, 128, 9)
            sc = _u(w0, w1, w2, w3, w4, w5, w6, w7, 137, 6)
        elif t == 4:
            c = 1
            ac = _u(w0, w1, w2, w3, w4, w5, w6, w7, 78, 1)
            lo = _s(w0, w1, w2, w3, w4, w5, w6, w7, 79, 28)
            la = _s(w0, w1, w2, w3, w4, w5, w6, w7, 107, 27)
            sg = 1023
            cg = 3600
            hd = 511
            sc = _u(w0, w1, w2, w3, w4, w5, w6, w7, 72, 6)
        elif t == 9:
            # speed in whole knots (Table 60), 1023 = n/a
            c = 2
            al = _u(w0, w1, w2, w3, w4, w5, w6, w7, 38, 12)
            sg = _u(w0, w1, w2, w3, w4, w5, w6, w7, 50, 10)
            sg_na = sg == 1023
            sg = sg * 10
            ac = _u(w0, w1, w2, w3, w4, w5, w6, w7, 60, 1)
            lo = _s(w0, w1, w2, w3, w4, w5, w6, w7, 61, 28)
            la = _s(w0, w1, w2, w3, w4, w5, w6, w7, 89, 27)
            cg = _u(w0, w1, w2, w3, w4, w5, w6, w7, 116, 12)
            hd = 511
            sc = _u(w0, w1, w2, w3, w4, w5, w6, w7, 128, 6)
        elif t == 18 or t == 19:
            c = 3
            sg = _u(w0, w1, w2, w3, w4, w5, w6, w7, 46, 10)
            ac = _u(w0, w1, w2, w3, w4, w5, w6, w7, 56, 1)
            lo = _s(w0, w1, w2, w3, w4, w5, w6, w7, 57, 28)
            la = _s(w0, w1, w2, w3, w4, w5, w6, w7, 85, 27)
            cg = _u(w0, w1, w2, w3, w4, w5, w6, w7, 112, 12)
            hd = _u(w0, w1, w2, w3, w4, w5, w6, w7, 124, 9)
            sc = _u(w0, w1, w2, w3, w4, w5, w6, w7, 133, 6)
        elif t == 21:
            c = 4
            ac = _u(w0, w1, w2, w3, w4, w5, w6, w7, 163, 1)
            lo = _s(w0, w1, w2, w3, w4, w5, w6, w7, 164, 28)
            la = _s(w0, w1, w2, w3, w4, w5, w6, w7, 192, 27)
            sg = 1023
            cg = 3600
            hd = 511
            sc = _u(w0, w1, w2, w3, w4, w5, w6, w7, 253, 6)
        else:
            # type 27: position in 1/10 min, speed in knots (63 = n/a), course in degrees (511 = n/a)
            c = 5
            ac = _u(w0, w1, w2, w3, w4, w5, w6, w7, 38, 1)
            st_ = _u(w0, w1, w2, w3, w4, w5, w6, w7, 40, 4)
            lo = _s(w0, w1, w2, w3, w4, w5, w6, w7, 44, 18)
            la = _s(w0, w1, w2, w3, w4, w5, w6, w7, 62, 17)
            sg = _u(w0, w1, w2, w3, w4, w5, w6, w7, 79, 6)
            sg = 1023 if sg == 63 else sg * 10
            cg = _u(w0, w1, w2, w3, w4, w5, w6, w7, 85, 9)
            cg = 3600 if cg >= 360 else cg * 10
            hd = 511
            sc = 60
            scale = 600.0
        mmsi[r] = _u(w0, w1, w2, w3, w4, w5, w6, w7, 8, 30)
        cls[r] = np.int8(c)
        q = _pos_na_oor(t, lo, la)
        na = q == 1
        o = q == 2
        lon[r] = lo / scale
        lat[r] = la / scale
        pos_na[r] = na
        oor[r] = o
        sg_na = sg_na or sg == 1023
        sog_na[r] = sg_na
        sog_kn[r] = np.float32(np.nan if sg_na else sg / 10.0)
        cog[r] = np.float32(cg / 10.0)
        cog_na[r] = cg >= 3600
        hdg[r] = np.float32(float(hd))
        hdg_na[r] = hd >= 360
        x = rt / 4.733
        sgn = 1.0 if rt > 0 else (-1.0 if rt < 0 else 0.0)
        rot[r] = np.float32(sgn * (x * x))
        rot_na[r] = rt == -128
        status[r] = np.int8(st_)
        acc[r] = ac != 0
        sec[r] = np.int8(sc)
        alt[r] = np.float32(float(al))
        alt_na[r] = al >= 4095
    return (mmsi, lat, lon, pos_na, oor, sog_kn, sog_na, cog, cog_na, hdg, hdg_na, rot, rot_na,
            status, acc, sec, cls, alt, alt_na)


@_njit
def sixmat(a, m, n_single, start, nchar, sel, width):
    """Six-bit values of the messages ``sel`` as a (messages x width) matrix, zero past the payload."""
    n = len(sel)
    out = np.zeros((n, width), np.uint8)
    for r in range(n):
        i = sel[r]
        src = a if i < n_single else m
        s = start[i]
        for j in range(min(nchar[i], width)):
            out[r, j] = _SIXV[src[s + j]] & 63
    return out


@_njit
def views(a, starts, lens):
    """Arrow string-view structs (16 bytes each, as 4 int32) of the slices ``a[start:start+len]``
    (buffer index 0). Negative lengths count as empty. Each view is built in two 64-bit
    registers and stored once."""
    n = len(starts)
    v = np.empty((n, 2), np.uint64)
    for i in range(n):
        # fragments' payloads and rejected lines are scattered over the chunk: prefetched 16
        # ahead (the bench file's views: 5.5 -> 3.8 ms)
        if i + 16 < n:
            _prefetch(a, starts[i + 16])
        ln = max(lens[i], 0)
        s = starts[i]
        lo = np.uint64(ln)
        hi = np.uint64(0)
        for j in range(min(ln, 4)):  # the first 4 bytes (the prefix, or inline)
            lo |= np.uint64(a[s + j]) << np.uint64(32 + 8 * j)
        if ln > 12:
            hi = np.uint64(s) << np.uint64(32)  # buffer 0, offset s
        else:
            for j in range(4, ln):
                hi |= np.uint64(a[s + j]) << np.uint64(8 * (j - 4))
        v[i, 0] = lo
        v[i, 1] = hi
    return v.view(np.int32)


@_njit
def station_views(st_view, st_len, sent, rows):
    """The station views ``scan`` built (``st_view``, 16 bytes a sentence; ``st_len``: the
    names' lengths, 0: none) of the sentences ``sent[rows]``, in one pass: (views, Arrow
    validity bitmap (``np.packbits(valid, bitorder="little")``), number of names, longest)."""
    n = len(rows)
    v = np.empty((n, 2), np.uint64)
    bits = np.zeros((n + 7) >> 3, np.uint8)
    n_valid = 0
    longest = 0
    for k in range(n):
        j = sent[rows[k]]
        v[k, 0] = st_view[j, 0]
        v[k, 1] = st_view[j, 1]
        ln = st_len[j]
        if ln > 0:
            bits[k >> 3] |= np.uint8(1 << (k & 7))
            n_valid += 1
        longest = max(longest, ln)
    return v, bits, n_valid, longest


@_njit
def dedup(h, t, timed, line, window_us, window_lines):
    """Receiver duplicates: rows with the same payload hash ``h`` and the same ``timed`` flag, in
    order of (t, line), are one message while consecutive ones are within the window (seconds
    in microseconds for timed rows, lines for untimed ones). Returns (leader, size): whether a
    row leads its group, and the group's size on its leader."""
    n = len(h)
    cap = 16
    while cap < 2 * n:
        cap <<= 1
    mask = np.uint64(cap - 1)
    table = np.full(cap, -1, np.int32)  # rows of one chunk (plus ghosts) fit in 32 bits
    nxt = np.full(n, -1, np.int32)
    tail = np.empty(n, np.int32)
    head = np.zeros(n, np.bool_)
    for r in range(n):
        slot = (h[r] ^ (np.uint64(0x9E3779B97F4A7C15) if timed[r] else np.uint64(0))) & mask
        while True:
            hd = table[slot]
            if hd < 0:
                table[slot] = np.int32(r)
                tail[r] = np.int32(r)
                head[r] = True
                break
            if h[hd] == h[r] and timed[hd] == timed[r]:
                nxt[tail[hd]] = np.int32(r)
                tail[hd] = np.int32(r)
                break
            slot = (slot + np.uint64(1)) & mask
    leader = np.zeros(n, np.bool_)
    size = np.zeros(n, np.int32)
    members = np.empty(n, np.int32)
    for r in range(n):
        if not head[r]:
            continue
        if nxt[r] < 0:
            leader[r] = True
            size[r] = 1
            continue
        m = 0
        j = r
        while j >= 0:
            members[m] = j
            m += 1
            j = nxt[j]
        # order by (t, line), ties in arrival order: insertion sort for the usual few copies,
        # two stable sorts for long runs
        if m <= 32:
            for q in range(1, m):
                v = members[q]
                z = q - 1
                while z >= 0 and (t[members[z]] > t[v] or (t[members[z]] == t[v] and line[members[z]] > line[v])):
                    members[z + 1] = members[z]
                    z -= 1
                members[z + 1] = v
            mem = members
        else:
            mem = members[:m].copy()
            o1 = np.argsort(line[mem], kind="mergesort")
            mem = mem[o1]
            o2 = np.argsort(t[mem], kind="mergesort")
            mem = mem[o2]
        lead = mem[0]
        leader[lead] = True
        size[lead] = 1
        for q in range(1, m):
            a_, b_ = mem[q - 1], mem[q]
            if timed[b_]:
                close = t[b_] - t[a_] <= window_us
            else:
                close = line[b_] - line[a_] <= window_lines
            if close:
                size[lead] += 1
            else:
                lead = b_
                leader[lead] = True
                size[lead] = 1
    return leader, size


@_njit
def _kth_largest(v, k):
    """The ``k``-th largest value of ``v`` (1 <= k <= len(v)): ``np.partition(v, len(v) - k)[len(v)
    - k]``. Line numbers, where it is used, are nearly sorted and the top ones close together:
    counted in the 65,536 values below the maximum when they hold k values (one pass),
    else partitioned."""
    n = len(v)
    top = v[0]
    for x in v:
        top = max(top, x)
    span = 65536
    counts = np.zeros(span, np.int64)
    inside = 0
    for x in v:
        d = top - x
        if d < span:
            counts[d] += 1
            inside += 1
    if inside >= k:
        acc = 0
        for d in range(span):
            acc += counts[d]
            if acc >= k:
                return top - d
    return np.partition(v.copy(), n - k)[n - k]


@_njit
def dedup_chunk(mstatus, phash, ts_us, ts_ok, line, gh, gt, gtimed, gline, arrivals,
                window_us, window_lines, recent):
    """Receiver-duplicate grouping of one call's messages, with the state carried between calls
    (``NmeaDecoder._process`` explains it): ``dedup`` over the previous calls' newest messages
    (the "ghosts" ``gh``, ``gt``, ``gtimed``, ``gline``) then this call's valid messages
    (``mstatus`` OK; untimed ones get t = -10**18); ``arrivals`` are the times of the last
    ``recent`` timed arrivals. One compiled pass instead of a dozen numpy passes over the
    messages (concatenations, masks, a partition, gathers). Returns (keep, n_rx, duplicates,
    the new ghosts (h, t, timed, line), the new arrivals): ``keep`` marks the messages that lead
    their group, ``n_rx`` their group's size (1 elsewhere)."""
    nall = len(mstatus)
    nR = len(gh)
    keep = np.zeros(nall, np.bool_)
    n_rx = np.ones(nall, np.int16)  # (the column's type; a larger group is counted as 32,767)
    ng = 0
    for i in range(nall):
        if mstatus[i] == _OK:
            ng += 1
    if ng == 0:
        return keep, n_rx, 0, gh, gt, gtimed, gline, arrivals
    # rows: the ghosts, then this call's valid messages (gi)
    n = nR + ng
    h = np.empty(n, np.uint64)
    t = np.empty(n, np.int64)
    timed = np.empty(n, np.bool_)
    ln = np.empty(n, np.int64)
    gi = np.empty(ng, np.int32)
    for r in range(nR):
        h[r] = gh[r]
        t[r] = gt[r]
        timed[r] = gtimed[r]
        ln[r] = gline[r]
    r = nR
    n_timed = 0
    for i in range(nall):
        if mstatus[i] == _OK:
            gi[r - nR] = i
            h[r] = phash[i]
            ok = ts_ok[i]
            timed[r] = ok
            t[r] = ts_us[i] if ok else -(10**18)
            ln[r] = line[i]
            n_timed += ok
            r += 1
    leader, size = dedup(h, t, timed, ln, window_us, window_lines)
    dups = ng
    for g in range(ng):
        if leader[nR + g]:
            i = gi[g]
            keep[i] = True
            n_rx[i] = min(size[nR + g], 32767)
            dups -= 1
    # keep as ghosts every message no older than the oldest of the last ``recent`` timed
    # arrivals (across calls): robust to out-of-order and far-future timestamps. Only the last
    # ``recent`` by line matter; same line: by payload hash, then time
    lr = np.empty(n_timed, np.int64)
    q = 0
    for r in range(nR, n):
        if timed[r]:
            lr[q] = ln[r]
            q += 1
    thr = _kth_largest(lr, recent) if n_timed > recent else -(2**62)
    m = 0
    for r in range(nR, n):
        if timed[r] and ln[r] >= thr:
            m += 1
    nl = np.empty(m, np.int64)
    nh = np.empty(m, np.uint64)
    nt = np.empty(m, np.int64)
    q = 0
    for r in range(nR, n):
        if timed[r] and ln[r] >= thr:
            nl[q] = ln[r]
            nh[q] = h[r]
            nt[q] = t[r]
            q += 1
    # np.lexsort((nt, nh, nl)) as three stable sorts, the last key first
    o = np.argsort(nt, kind="mergesort")
    o = o[np.argsort(nh[o], kind="mergesort")]
    o = o[np.argsort(nl[o], kind="mergesort")]
    na = min(len(arrivals) + m, recent)
    new_arr = np.empty(na, np.int64)
    for q in range(na):  # the last ``recent`` of arrivals + nt[o]
        src = len(arrivals) + m - na + q
        new_arr[q] = arrivals[src] if src < len(arrivals) else nt[o[src - len(arrivals)]]
    tmax = 0
    if na:
        tmax = new_arr[0]
        for x in new_arr:
            tmax = min(tmax, x)
    lmax = ln[0]
    for x in ln:
        lmax = max(lmax, x)
    # remember the newest messages (group leaders) for the next call (their order does not
    # matter: a group's members are ordered by time and line)
    ghost = np.empty(n, np.bool_)
    k = 0
    for r in range(n):
        gr = leader[r] and (t[r] >= tmax - window_us if timed[r] else ln[r] >= lmax - window_lines)
        ghost[r] = gr
        k += gr
    oh = np.empty(k, np.uint64)
    ot = np.empty(k, np.int64)
    otimed = np.empty(k, np.bool_)
    oln = np.empty(k, np.int64)
    q = 0
    for r in range(n):
        if ghost[r]:
            oh[q] = h[r]
            ot[q] = t[r]
            otimed[q] = timed[r]
            oln[q] = ln[r]
            q += 1
    return keep, n_rx, dups, oh, ot, otimed, oln, new_arr


@_njit
def kept_rows(kind, keep):
    """The kept messages (``keep``) of each table, from their ``kind`` bits (``nmea.KIND_*``):
    (positions, statics, other) row indices, increasing."""
    n = len(kind)
    c1 = c2 = c4 = 0
    for i in range(n):
        if keep[i]:
            k = kind[i]
            c1 += (k & 1) != 0
            c2 += (k & 2) != 0
            c4 += (k & 4) != 0
    pos = np.empty(c1, np.int64)
    st = np.empty(c2, np.int64)
    oth = np.empty(c4, np.int64)
    c1 = c2 = c4 = 0
    for i in range(n):
        if keep[i]:
            k = kind[i]
            if k & 1:
                pos[c1] = i
                c1 += 1
            if k & 2:
                st[c2] = i
                c2 += 1
            if k & 4:
                oth[c4] = i
                c4 += 1
    return pos, st, oth


@_njit
def pair(chan, seq, cnt, num, grp, st_hash, st_null, perm, window):
    """Pair fragments into messages. ``perm`` orders the fragments by (channel, sequential id,
    fragment count, arrival); a message starting at sorted position s occupies positions
    s .. s+cnt-1 with numbers 1..cnt, arrivals within ``window`` of its first fragment, the same
    tag-block group (where both have one) and the same station (where both have one).
    Returns the sorted start position of every message."""
    N = len(perm)
    starts = np.empty(N, np.int64)
    n = 0
    for s in range(N):
        r = perm[s]
        if num[r] != 1:
            continue
        c = cnt[r]
        ok = True
        for k in range(1, c):
            j = s + k
            if j >= N:
                ok = False
                break
            rj = perm[j]
            if chan[rj] != chan[r] or seq[rj] != seq[r] or cnt[rj] != c or num[rj] != k + 1:
                ok = False
                break
            if rj - r > window:
                ok = False
                break
            if not (grp[rj] == grp[r] or grp[rj] < 0 or grp[r] < 0):
                ok = False
                break
            if not st_null[rj] and not st_null[r] and st_hash[rj] != st_hash[r]:
                ok = False
                break
        if ok:
            starts[n] = s
            n += 1
    return starts[:n]


@_njit
def join_payloads(data, offs, buf, p_start, p_len, perm, starts, cnt):
    """Payload text of each message: its fragments' payloads in number order. Fragment r's
    payload is ``data[offs[r]:offs[r+1]]`` for the first ``len(offs) - 1`` (those carried from
    the previous call), else ``buf[p_start[q]:p_start[q] + p_len[q]]``, q the row among this
    call's. Returns (bytes + padding, start and length of each message)."""
    n = len(starts)
    n_c = len(offs) - 1
    total = 0
    for i in range(n):
        s = starts[i]
        for k in range(cnt[perm[s]]):
            r = perm[s + k]
            total += offs[r + 1] - offs[r] if r < n_c else p_len[r - n_c]
    out = np.zeros(total + 32 + (-(total + 32)) % 8, np.uint8)  # padded to whole 64-bit words
    mstart = np.empty(n, np.int64)
    mlen = np.empty(n, np.int64)
    q = 0
    for i in range(n):
        if i + 8 < n:
            # this call's payloads are scattered over the chunk: prefetched 8 messages ahead
            s8 = starts[i + 8]
            for k in range(min(cnt[perm[s8]], 2)):
                r8 = perm[s8 + k]
                if r8 >= n_c:
                    _prefetch(buf, p_start[r8 - n_c])
        s = starts[i]
        mstart[i] = q
        for k in range(cnt[perm[s]]):
            r = perm[s + k]
            if r < n_c:
                for j in range(offs[r], offs[r + 1]):
                    out[q] = data[j]
                    q += 1
            else:
                j0 = p_start[r - n_c]
                for j in range(j0, j0 + p_len[r - n_c]):
                    out[q] = buf[j]
                    q += 1
        mlen[i] = q - mstart[i]
    return out, mstart, mlen


@_njit
def max_at(out, idx, vals):
    """``out[idx[i]] = max(out[idx[i]], vals[i])`` (numpy's ``maximum.at``, bounds-checked)."""
    n_out = len(out)
    for i in range(len(idx)):
        j = idx[i]
        if 0 <= j < n_out and vals[i] > out[j]:
            out[j] = vals[i]


# ---------------------------------------------------------------------------------------------
# static and voyage data (types 5, 19, 21, 24 parts A and B)


@_njit
def _fld(six, off, width):
    """Unsigned field of ``width`` bits at bit ``off`` of the six-bit values ``six``."""
    c0 = off // 6
    c1 = (off + width - 1) // 6
    acc = 0
    for k in range(c0, c1 + 1):
        acc = (acc << 6) | np.int64(six[k])
    return (acc >> ((c1 + 1) * 6 - off - width)) & ((1 << width) - 1)


@_njit
def _text(six, nbits, off, nchars, out, r, pos):
    """Six-bit text of up to ``nchars`` characters at bit ``off`` into ``out[r, pos:]``, up to
    '@' (and what follows) or the message's last bit; characters below 32 are 64 higher. Returns
    the new end."""
    nch = min(nchars, max((nbits - off) // 6, 0))
    c = off // 6
    sh = 6 - (off - 6 * c)  # a character spans two six-bit values (the next is 0 past the end)
    for i in range(nch):
        v = ((np.int64(six[c + i]) << 6) | np.int64(six[c + i + 1])) >> sh & 63
        if v < 32:
            v += 64
        if v == 64:
            break
        out[r, pos] = v
        pos += 1
    return pos


@_njit
def _trim(out, r, end):
    while end > 0 and out[r, end - 1] == 32:
        end -= 1
        out[r, end] = 0
    return end


#: characters of a static message the fields reach (type 5 destination ends at bit 422)
_STATIC_CHARS = 80


@_njit
def statics(a, m, n_single, start, nchar, nbits, mt, sel):
    """Fields of the static messages ``sel`` (rows in that order; ``mt``: their types, 5, 19, 21
    or 24 parts A and B), in the statics table's types; ``ival`` holds the integer columns (see
    ``STATIC_INT_COLUMNS`` in nmea.py) with ``inull`` their null masks, ``draught`` (float32) its
    own; text columns are byte matrices with lengths (0: null)."""
    n = len(sel)
    ival = np.zeros((13, n), np.int64)
    inull = np.ones((13, n), np.bool_)
    draught = np.zeros(n, np.float32)
    draught_na = np.ones(n, np.bool_)
    callsign = np.zeros((n, 7), np.uint8)
    callsign_len = np.zeros(n, np.int64)
    shipname = np.zeros((n, 34), np.uint8)
    shipname_len = np.zeros(n, np.int64)
    dest = np.zeros((n, 20), np.uint8)
    dest_len = np.zeros(n, np.int64)
    eta = np.zeros((n, 11), np.uint8)
    eta_len = np.zeros(n, np.int64)
    # ival rows: 0 mmsi, 1 msg_type, 2 part_num, 3 imo, 4 ship_type, 5 aid_type, 6 to_bow_m,
    # 7 to_stern_m, 8 to_port_m, 9 to_starboard_m, 10 epfd, 11 ais_version, 12 mothership_mmsi
    six = np.zeros(_STATIC_CHARS + 8, np.uint8)  # six-bit values of one message, zero past its end
    for r in range(n):
        # the single-sentence static messages are scattered over the chunk (one in about 20
        # sentences), and so are their entries in the per-message arrays: without prefetching,
        # each row waited for two cache misses in turn (20.5 ms of the kernel's 28.6 on the
        # bench file's 47,619 singles; 7.2 ms prefetched 16 and 8 rows ahead)
        if r + 16 < n:
            j = sel[r + 16]
            _prefetch(start, j)
            _prefetch(nchar, j)
            _prefetch(nbits, j)
        if r + 8 < n:
            j = sel[r + 8]
            sj = start[j]
            if j >= n_single:
                _prefetch(m, sj)
                _prefetch(m, sj + 64)
            else:
                _prefetch(a, sj)
                _prefetch(a, sj + 64)
        i = sel[r]
        src = m if i >= n_single else a
        s = start[i]
        nc = min(max(nchar[i], 0), _STATIC_CHARS)
        if s < 0 or s + nc > len(src):
            nc = 0
        for k in range(nc):
            six[k] = _SIXV[src[s + k]] & 63
        six[nc:] = 0
        nb_ = nbits[i]
        t = mt[r]
        ival[0, r] = _fld(six, 8, 30)
        inull[0, r] = False
        ival[1, r] = t
        inull[1, r] = False
        dims_off = -1
        if t == 5:
            ival[11, r] = _fld(six, 38, 2)
            inull[11, r] = False
            imo = _fld(six, 40, 30)
            ival[3, r] = imo
            inull[3, r] = imo == 0
            callsign_len[r] = _trim(callsign, r, _text(six, nb_, 70, 7, callsign, r, 0))
            shipname_len[r] = _trim(shipname, r, _text(six, nb_, 112, 20, shipname, r, 0))
            st = _fld(six, 232, 8)
            ival[4, r] = st
            inull[4, r] = st == 0
            dims_off = 240
            ival[10, r] = _fld(six, 270, 4)
            inull[10, r] = False
            mo = _fld(six, 274, 4)
            dy = _fld(six, 278, 5)
            hr = _fld(six, 283, 5)
            mi = _fld(six, 288, 6)
            if mo > 0 and mo <= 12 and dy > 0:  # "MM-DDTHH:MM"
                eta[r, 0] = 48 + mo // 10
                eta[r, 1] = 48 + mo % 10
                eta[r, 2] = 45
                eta[r, 3] = 48 + dy // 10
                eta[r, 4] = 48 + dy % 10
                eta[r, 5] = 84
                eta[r, 6] = 48 + hr // 10
                eta[r, 7] = 48 + hr % 10
                eta[r, 8] = 58
                eta[r, 9] = 48 + mi // 10
                eta[r, 10] = 48 + mi % 10
                eta_len[r] = 11
            dr = _fld(six, 294, 8)
            draught[r] = np.float32(dr / 10.0)
            draught_na[r] = dr == 0
            dest_len[r] = _trim(dest, r, _text(six, nb_, 302, 20, dest, r, 0))
        elif t == 19:
            shipname_len[r] = _trim(shipname, r, _text(six, nb_, 143, 20, shipname, r, 0))
            st = _fld(six, 263, 8)
            ival[4, r] = st
            inull[4, r] = st == 0
            dims_off = 271
            ival[10, r] = _fld(six, 301, 4)
            inull[10, r] = False
        elif t == 21:
            ival[5, r] = _fld(six, 38, 5)
            inull[5, r] = False
            # the name extension continues the 20-character name: join first, then trim once
            end = _text(six, nb_, 43, 20, shipname, r, 0)
            end = _text(six, nb_, 272, 14, shipname, r, end)
            shipname_len[r] = _trim(shipname, r, end)
            dims_off = 219
            ival[10, r] = _fld(six, 249, 4)
            inull[10, r] = False
        else:  # 24, part A (0) or B (1)
            part = _fld(six, 38, 2)
            ival[2, r] = part
            inull[2, r] = False
            if part == 0:
                shipname_len[r] = _trim(shipname, r, _text(six, nb_, 40, 20, shipname, r, 0))
            else:
                st = _fld(six, 40, 8)
                ival[4, r] = st
                inull[4, r] = st == 0
                callsign_len[r] = _trim(callsign, r, _text(six, nb_, 90, 7, callsign, r, 0))
                if ival[0, r] // 10_000_000 == 98:  # auxiliary craft: the mother ship's MMSI
                    mother = _fld(six, 132, 30)
                    ival[12, r] = mother
                    inull[12, r] = mother == 0
                else:
                    dims_off = 132
        if dims_off >= 0:
            v = _fld(six, dims_off, 9)
            ival[6, r] = v
            inull[6, r] = v == 0
            v = _fld(six, dims_off + 9, 9)
            ival[7, r] = v
            inull[7, r] = v == 0
            v = _fld(six, dims_off + 18, 6)
            ival[8, r] = v
            inull[8, r] = v == 0
            v = _fld(six, dims_off + 24, 6)
            ival[9, r] = v
            inull[9, r] = v == 0
    return (ival, inull, draught, draught_na, callsign, callsign_len, shipname, shipname_len,
            dest, dest_len, eta, eta_len)
