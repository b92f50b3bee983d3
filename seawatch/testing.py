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
from datetime import datetime, timedelta, timezone

import numpy as np
import polars as pl

from . import schema

from .simulate import checksum

__all__ = [
    "SIXBIT_TEXT",
    "concat",
    "fleet",
    "ping",
    "static",
    "track",
    "tracks_of",
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


# -- position tables, one line each -----------------------------------------------------------------
T0 = "2024-06-01T00:00:00Z"


def _ts(t: str | datetime) -> datetime:
    if isinstance(t, datetime):
        return t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(t.replace("Z", "+00:00"))


def track(
    mmsi: int = 431000001,
    *,
    start: str | datetime = T0,
    lat: float = 37.5,
    lon: float = 138.5,
    sog_kn: float = 10.0,
    cog_deg: float = 90.0,
    hours: float = 1.0,
    every_s: float = 60.0,
    ais_class: str = "A",
    station: str | None = None,
) -> pl.DataFrame:
    """A vessel on a great circle at constant speed and course: a POSITIONS frame.

    >>> track(431000001, sog_kn=12, hours=2, every_s=600).height
    13
    """
    from .tracks import destination

    n = int(round(hours * 3600 / every_s)) + 1
    t = np.arange(n) * every_s
    la, lo = destination(lat, lon, cog_deg, sog_kn * t / 3600.0)
    t0 = _ts(start)
    df = pl.DataFrame(
        {
            "mmsi": np.full(n, mmsi, dtype=np.int64),
            "ts": [t0 + timedelta(seconds=float(x)) for x in t],
            "lat": np.atleast_1d(la),
            "lon": np.atleast_1d(lo),
            "sog_kn": np.full(n, sog_kn),
            "cog_deg": np.full(n, cog_deg % 360.0),
            "ais_class": [ais_class] * n,
            "station": [station] * n,
        }
    )
    return schema.conform("positions", df)


def ping(mmsi: int = 431000001, ts: str | datetime = T0, lat: float = 37.5, lon: float = 138.5,
         sog_kn: float | None = None, cog_deg: float | None = None, ais_class: str = "A") -> pl.DataFrame:
    """One position report as a one-row POSITIONS frame."""
    df = pl.DataFrame(
        {"mmsi": [mmsi], "ts": [_ts(ts)], "lat": [lat], "lon": [lon], "sog_kn": [sog_kn],
         "cog_deg": [cog_deg], "ais_class": [ais_class]},
        schema_overrides={"sog_kn": pl.Float32, "cog_deg": pl.Float32},
    )
    return schema.conform("positions", df)


def concat(*frames: pl.DataFrame) -> pl.DataFrame:
    """Frames of one table stacked and sorted by time: ``concat(track(...), ping(...))``."""
    return pl.concat(frames, how="vertical").sort("ts", "mmsi")


def static(mmsi: int = 431000001, ts: str | datetime = T0, *, shipname: str | None = None,
           callsign: str | None = None, imo: int | None = None, ship_type: int | None = None,
           msg_type: int = 5, part_num: int | None = None) -> pl.DataFrame:
    """One static/voyage report as a one-row STATICS frame:
    ``static(431000001, ship_type=30, shipname="KAIYO MARU")``."""
    df = pl.DataFrame(
        {"mmsi": [mmsi], "ts": [_ts(ts)], "msg_type": [msg_type], "part_num": [part_num], "imo": [imo],
         "callsign": [callsign], "shipname": [shipname], "ship_type": [ship_type]},
        schema_overrides={"part_num": pl.Int8, "imo": pl.Int64, "callsign": pl.Utf8, "shipname": pl.Utf8,
                          "ship_type": pl.Int16, "msg_type": pl.Int8},
    )
    return schema.conform("statics", df)


def tracks_of(*frames: pl.DataFrame, places: bool = True) -> pl.DataFrame:
    """Positions frames -> the TRACKS points built by seawatch.tracks.build_tracks."""
    from .tracks import build_tracks

    return build_tracks(concat(*frames), places=places).points


def fleet(n_vessels: int, n_points: int, seed: int = 0) -> pl.DataFrame:
    """A TRACKS-like frame of ``n_vessels`` random walks at 5-15 kn in the Sea of Japan, one
    point a minute, one segment each (vectorised): scale tests of detectors in one line."""
    rng = np.random.default_rng(seed)
    lat0 = rng.uniform(36.5, 40.5, n_vessels)
    lon0 = rng.uniform(133.0, 137.0, n_vessels)
    sog = rng.uniform(5, 15, n_vessels)
    cog = np.radians(rng.uniform(0, 360, n_vessels))[:, None] + np.cumsum(rng.normal(0, 0.05, (n_vessels, n_points)), 1)
    step_deg = sog[:, None] / 60.0 / 60.0
    lat = lat0[:, None] + np.cumsum(step_deg * np.cos(cog), 1)
    lon = lon0[:, None] + np.cumsum(step_deg * np.sin(cog) / np.cos(np.radians(lat)), 1)
    mmsi = np.repeat(np.arange(440000000, 440000000 + n_vessels), n_points)
    t = np.tile(np.arange(n_points) * 60_000_000, n_vessels) + 1_717_200_000_000_000
    df = pl.DataFrame({"mmsi": mmsi, "ts": t, "lat": lat.ravel(), "lon": lon.ravel(), "sog_kn": np.repeat(sog, n_points)})
    return df.with_columns(ts=pl.col("ts").cast(pl.Datetime("us", "UTC")), seg_id=pl.col("mmsi").cast(pl.Utf8) + "-0")
