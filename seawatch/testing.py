"""One-line builders of NMEA test input, for seawatch's tests and for users testing their feeds.

>>> sentence("13HOI:0P0000VOHLCnHQKwvL05Ip")
'!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23'
>>> tag_block(station="rx1", time=1700000000)
'\\\\s:rx1,c:1700000000*01\\\\'

:func:`nmea_line` encodes a field dict with pyais (a test dependency, imported only there).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from .simulate import checksum

__all__ = [
    "SIXBIT_TEXT",
    "checksum",
    "count_lines",
    "flip_checksum",
    "garbage_lines",
    "join_lines",
    "nmea_line",
    "nmea_lines",
    "sentence",
    "tag_block",
]

#: characters of the ITU six-bit text alphabet ('@' is the pad / terminator)
SIXBIT_TEXT = "@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !\"#$%&'()*+,-./0123456789:;<=>?"




def sentence(payload: str, fill: int = 0, *, count: int = 1, num: int = 1, seq: str | int = "",
             channel: str = "A", talker: str = "AIVDM") -> str:
    """``!AIVDM,count,num,seq,channel,payload,fill*hh`` with a correct checksum."""
    body = f"{talker},{count},{num},{seq},{channel},{payload},{fill}"
    return f"!{body}*{checksum(body)}"


def tag_block(*, station: str | None = None, time: float | None = None, ms: bool = False,
              group: str | None = None) -> str:
    """An IEC 61162-1 tag block ``\\s:station,c:epoch*hh\\`` (``c:`` in ms if ``ms``); '' if empty."""
    parts = []
    if group is not None:
        parts.append(f"g:{group}")
    if station is not None:
        parts.append(f"s:{station}")
    if time is not None:
        parts.append(f"c:{round(time * 1000) if ms else int(time)}")
    if not parts:
        return ""
    body = ",".join(parts)
    return f"\\{body}*{checksum(body)}\\"


def nmea_lines(msg: dict, *, tagblock_time: float | None = None, station: str | None = None,
               ms: bool = False, channel: str = "A", seq_id: int | None = None,
               talker: str = "AI") -> list[str]:
    """The sentence(s) pyais encodes ``msg`` (a field dict with ``type``) into, one per fragment.

    With ``tagblock_time`` or ``station`` every fragment gets the same tag block.
    """
    from pyais.encode import encode_dict

    sents = encode_dict(msg, talker_id=talker, sentence_type="VDM", radio_channel=channel, seq_id=seq_id)
    tb = tag_block(station=station, time=tagblock_time, ms=ms)
    return [tb + s for s in sents]


def nmea_line(msg: dict, **kw) -> str:
    """:func:`nmea_lines` joined by newlines (one string, no trailing newline)."""
    return "\n".join(nmea_lines(msg, **kw))


def flip_checksum(line: str) -> str:
    """The line with its sentence checksum changed (so it no longer matches)."""
    star = line.rindex("*")
    hh = int(line[star + 1 : star + 3], 16) ^ 0x5A
    return f"{line[: star + 1]}{hh:02X}{line[star + 3 :]}"


def garbage_lines(n: int, *, seed: int = 0, max_len: int = 80) -> list[bytes]:
    """``n`` deterministic lines of random bytes (incl. non-UTF-8 and NUL, never a newline).

    None contains ``VDM``/``VDO``, so none can be read as an AIS sentence; none is empty or
    starts with '#', '$', '!' or whitespace (those are other reject kinds).
    """
    rng = random.Random(seed)
    out: list[bytes] = []
    while len(out) < n:
        k = rng.randint(1, max_len)
        b = bytes(rng.choice([rng.randrange(256), 0, 0xFF, 0xC3]) for _ in range(k)).replace(b"\n", b"")
        if not b or b[0] in b"#$! \t\r" or b"VD" in b or b.endswith(b"\r"):
            continue
        out.append(b)
    return out


def join_lines(lines: Iterable[str | bytes], *, crlf: bool = False) -> bytes:
    """Lines (str or bytes) joined into a file body with a final newline."""
    eol = b"\r\n" if crlf else b"\n"
    return b"".join((x.encode("latin-1") if isinstance(x, str) else bytes(x)) + eol for x in lines)


def count_lines(data: bytes | Sequence[int]) -> int:
    """How many lines seawatch must account for: newlines, plus one unterminated last line."""
    data = bytes(data)
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
