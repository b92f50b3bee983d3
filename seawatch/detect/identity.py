"""identity_invalid, identity_mismatch, identity_change: who a vessel claims to be, and whether
the claim holds together.

- **identity_invalid**: an MMSI that cannot be a ship station (fewer than 9 digits and not a
  valid coast-station or group number, a MID the ITU has not allocated, a placeholder such as
  123456789, 111111111 or 412000000: see :data:`seawatch.flags.JUNK_PATTERNS`), one event per
  MMSI; and an IMO number whose check digit fails, one event per MMSI and bad IMO (IMO 0 / null
  means "not available" and is never invalid). Only MMSIs that send class A/B position reports
  (TRACKS) or ship statics (types 5, 19, 24) are considered, and a number that is valid in its
  own ITU-R M.585 kind is not invalid: base and coast stations (00MID...), aids to navigation
  (99MID...), SAR aircraft (111MID...), craft associated with a parent ship (98MID...), SARTs,
  MOB devices and EPIRBs (970/972/974...), autonomous devices such as net buoys (979...) and
  divers' radios (8MID...). start/end: first/last time the MMSI (or the IMO) was heard; lat/lon:
  the vessel's track position nearest that start (its first one; null with statics only).
- **identity_mismatch**: the country of the MMSI's MID and the holder of the call sign's ITU
  series (RR Appendix 42) belong to different administrations (a Chinese 412 MMSI with the
  Japanese call sign JD2345). Compared per administration, so territories match their
  sovereign (Hong Kong 477 with a B or VR call sign, Bermuda 310 with a British ZC one).
  One event per MMSI and call sign; start/end: first/last time that call sign was sent.
  Call signs that are placeholders ('NONE', '0000'), not of a ship station's shape (4-7 letters
  and digits) or of a series held by no state (4U, C7, unallocated) are not compared.
- **identity_change**: one MMSI's name, call sign, IMO number or ship type changes. A field
  that is not sent (null: a class B's 24A carries the name, its 24B the call sign and type) or
  a placeholder call sign is not a value, so "empty to value" is not a change; names are
  compared upper case with blanks collapsed, call signs without spaces and hyphens. One event
  per change: start_time = the first message with the new value; the evidence holds the field,
  the value before and after and when each was first and last heard. The same transition
  again (A -> B -> A -> B: two transmitters sharing the MMSI) is the same event, counted in
  ``times``, its end_time the last time it happened (otherwise end_time = start_time).

identity_mismatch and identity_change consider only MMSIs that can be ship stations
(:func:`seawatch.flags.mmsi_is_valid_ship`): an invalid MMSI is already an event, and a
placeholder such as 412000000 is shared by many boats whose names would "change" all day.

Untimed statics rows (null ``ts``) are not used: without a time there is no order.

**Severity and score** (seawatch's judgement; :class:`Params`): invalid MMSI medium 0.6 (no
lawful ship transmits it); bad IMO check digit low 0.3 (often a typo in the transponder set-up);
mismatch medium 0.6 (a reflagged ship half re-configured, or a borrowed identity); change of name
or call sign low 0.4, of ship type low 0.3, of IMO number medium 0.6 (the IMO number belongs to
the hull for life); every change that is one of at least ``burst_changes`` = 2 distinct change
times of the same MMSI within ``burst_window_h`` = 24 h is medium 0.7 (identity hopping, or two
transmitters sharing one MMSI).

**Event ids.** Several identity events of one type can share a vessel and a start time (a name
and a call sign changed in one message; a bad MMSI first heard in the static that carries a bad
IMO). Their ids hash the event type with a qualifier (``identity_change/callsign:JD2345>BPAA``,
``identity_invalid/imo=9074728``, ``identity_mismatch/JD2345``) so that each is unique; the
invalid-MMSI event keeps the plain type. Same input, same ids.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import polars as pl

from .. import flags, schema
from ..errors import SeawatchError
from ..tracks import _first_after, _runs_in_time
from .base import Inputs, event_ids, finish

EVENT_TYPES = ("identity_invalid", "identity_mismatch", "identity_change")
FIELDS = ("shipname", "callsign", "imo", "ship_type")
_ISO = "%Y-%m-%dT%H:%M:%S%.fZ"


@dataclass(frozen=True)
class Params:
    """Identity rules. Neither Global Fishing Watch nor Skylight publishes an identity event (GFW
    exposes identity in its vessel registry API, Skylight has no identity event type), so the
    three presets are the same.

    Sources: MMSI formats and MIDs, Recommendation ITU-R M.585-9 and the ITU MID table; call
    sign series, ITU Radio Regulations Appendix 42 (both in ``seawatch/data``, see its
    README); IMO number check digit, IMO Resolution A.1117(30); "not available" values (IMO 0,
    empty text), ITU-R M.1371-5. MMSI/call-sign/flag inconsistency and identity changes as
    signs of identity manipulation: Park et al. 2023, "Tracking elusive and shifting identities
    of the global fishing fleet", Science Advances 9(3) eabp8200.

    - ``position_classes`` = ('A', 'B'): TRACKS rows of these ``ais_class`` values (or null, as
      some provider tables leave it) make an MMSI "seen" for identity_invalid.
    - ``static_msg_types`` = (5, 19, 24): the ship statics used (21, aids to navigation, not).
    - ``check_imo`` = True: report IMO numbers whose check digit fails.
    - severities and scores: see the module docstring; ``change_*`` per field.
    - ``burst_changes`` = 2 distinct change times within ``burst_window_h`` = 24 h make every
      change among them ``burst_severity`` / ``burst_score`` (the higher of the two wins).
    """

    position_classes: tuple[str, ...] = ("A", "B")
    static_msg_types: tuple[int, ...] = (5, 19, 24)
    check_imo: bool = True
    invalid_mmsi_severity: str = "medium"
    invalid_mmsi_score: float = 0.6
    invalid_imo_severity: str = "low"
    invalid_imo_score: float = 0.3
    mismatch_severity: str = "medium"
    mismatch_score: float = 0.6
    change_name_severity: str = "low"
    change_name_score: float = 0.4
    change_callsign_severity: str = "low"
    change_callsign_score: float = 0.4
    change_imo_severity: str = "medium"
    change_imo_score: float = 0.6
    change_ship_type_severity: str = "low"
    change_ship_type_score: float = 0.3
    burst_changes: int = 2
    burst_window_h: float = 24.0
    burst_severity: str = "medium"
    burst_score: float = 0.7

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            v = getattr(self, name)
            if name.endswith("_severity") and v not in schema.SEVERITIES:
                raise SeawatchError(f"identity {name} = {v!r}: use one of {', '.join(schema.SEVERITIES)}")
            if name.endswith("_score") and not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0):
                raise SeawatchError(f"identity {name} = {v!r}: use a number from 0 to 1")
        if not (isinstance(self.burst_changes, int) and self.burst_changes >= 1):
            raise SeawatchError(f"identity burst_changes = {self.burst_changes!r}: use a whole number >= 1")
        if not self.burst_window_h > 0:
            raise SeawatchError(f"identity burst_window_h = {self.burst_window_h!r}: use a number of hours > 0")
        # TOML gives lists; keep the frozen dataclass hashable
        object.__setattr__(self, "position_classes", tuple(self.position_classes))
        object.__setattr__(self, "static_msg_types", tuple(int(t) for t in self.static_msg_types))

    def change_rule(self, field: str) -> tuple[str, float]:
        key = "name" if field == "shipname" else field
        return getattr(self, f"change_{key}_severity"), float(getattr(self, f"change_{key}_score"))


PRESETS = {"coastal": Params(), "gfw": Params(), "skylight": Params()}


# -- inputs -----------------------------------------------------------------------------------------
def _statics(st: pl.DataFrame, params: Params) -> pl.DataFrame:
    """Timed ship statics, text normalised: mmsi, ts, imo, callsign, shipname, ship_type."""
    need = ["mmsi", "ts", "msg_type", "imo", "callsign", "shipname", "ship_type"]
    missing = [c for c in need if c not in st.columns]
    if missing:
        raise SeawatchError(f"statics lack columns {missing}: pass the STATICS table (Store(db).table('statics'))")
    st = st.select(need).filter(pl.col("ts").is_not_null() & pl.col("msg_type").is_in(list(params.static_msg_types)))
    # names repeat (a vessel sends its own all day): normalised once per distinct name
    name = flags._per_unique(st["shipname"].cast(pl.Utf8), _normalise_name, "shipname")
    return st.with_columns(
        pl.col("mmsi").cast(pl.Int64),
        imo=pl.when(pl.col("imo") != 0).then(pl.col("imo").cast(pl.Int64)),  # 0: not available (M.1371)
        ship_type=pl.when(pl.col("ship_type") != 0).then(pl.col("ship_type").cast(pl.Int16)),
        callsign=flags.normalise_callsign(st["callsign"].cast(pl.Utf8)),
        shipname=name,
    ).with_columns(shipname=pl.when(pl.col("shipname").str.len_chars() > 0).then(pl.col("shipname"))).drop("msg_type")


def _normalise_name(s: pl.Series) -> pl.Series:
    """Upper case, blanks at the ends removed and runs of blanks made one space."""
    return s.str.to_uppercase().str.strip_chars().str.replace_all(r"\s+", " ")


def _positions(tr: pl.DataFrame, params: Params) -> pl.DataFrame:
    """Class A/B track points (noise kept out when marked): mmsi, ts, lat, lon."""
    keep = pl.col("ts").is_not_null()
    if "ais_class" in tr.columns:
        keep = keep & (pl.col("ais_class").is_in(list(params.position_classes)) | pl.col("ais_class").is_null())
    if "is_noise" in tr.columns:
        keep = keep & ~pl.col("is_noise").fill_null(False)
    return tr.filter(keep).select(pl.col("mmsi").cast(pl.Int64), "ts", "lat", "lon")


class _Positions(NamedTuple):
    """The track positions as :func:`_place` reads them (:func:`_by_time`)."""

    rows: pl.DataFrame  # mmsi, _pos_ts, lat, lon: each MMSI's rows together and in time
    runs: pl.DataFrame  # mmsi, s, e: where each MMSI's rows are


def _by_time(pos: pl.DataFrame) -> _Positions:
    """The track positions as :func:`_place` reads them: mmsi, _pos_ts, lat, lon, each MMSI's
    rows together and in time (how tracks usually come: then no sort), and where each MMSI's
    rows are."""
    pos = pos.select("mmsi", pl.col("ts").alias("_pos_ts"), "lat", "lon")
    run, in_time = _runs_in_time(pos, "mmsi", "_pos_ts")
    if not in_time:
        pos = pos.sort("mmsi", "_pos_ts", maintain_order=True)
        run = pos["mmsi"].rle_id()
    lens = np.bincount(run.to_numpy()).astype(np.int64) if pos.height else np.zeros(0, np.int64)
    heads = np.cumsum(lens) - lens
    runs = pl.DataFrame({"mmsi": pos["mmsi"].gather(heads), "s": heads, "e": heads + lens},
                        schema={"mmsi": pl.Int64, "s": pl.Int64, "e": pl.Int64})
    return _Positions(pos, runs)


def _place(ev: pl.DataFrame, pos: _Positions) -> pl.DataFrame:
    """lat, lon: the MMSI's track position nearest start_time (null when it has none): of the
    positions at the least distance in time, the last (as polars' as-of join "nearest" picks:
    the later time on a tie, the last row of equal times). ``pos``: :func:`_by_time` of the
    track positions. Rows sorted by start_time."""
    pos, runs = pos
    ev = ev.sort("start_time")
    if ev.height == 0:
        return ev.with_columns(lat=pl.lit(None, pl.Float64), lon=pl.lit(None, pl.Float64))
    at = ev.select(pl.col("mmsi").cast(pl.Int64), T=pl.col("start_time").dt.epoch("us")).join(
        runs, on="mmsi", how="left", maintain_order="left")
    ok = (at["s"].is_not_null() & at["T"].is_not_null()).to_numpy()
    s, e = at["s"].fill_null(0).to_numpy()[ok], at["e"].fill_null(0).to_numpy()[ok]
    T = at["T"].fill_null(0).to_numpy()[ok]
    t = pos["_pos_ts"].dt.epoch("us").to_numpy()

    def time_at(rows: np.ndarray) -> np.ndarray:
        return t[np.minimum(rows, len(t) - 1)]  # a finished range's row may be len(t)

    p = _first_after(time_at, s, e, T)  # rows before p are at or before the time, the rest after it
    q = np.minimum(p, e - 1)
    fwd = _first_after(time_at, p, e, t[q]) - 1  # the last row of the first time after it
    later = (p == s) | ((p < e) & (t[q] - T <= T - t[np.maximum(p - 1, 0)]))
    row = np.where(later, fwd, p - 1)
    idx = np.full(ev.height, -1, dtype=np.int64)
    idx[ok] = row
    take = pl.Series(idx).scatter(np.flatnonzero(idx < 0), None)
    return ev.with_columns(lat=pos["lat"].gather(take), lon=pos["lon"].gather(take))


def _iso(e: pl.Expr) -> pl.Expr:
    return e.dt.convert_time_zone("UTC").dt.strftime(_ISO)


# -- zones, when seawatch.zones can look them up ------------------------------------------------------
def _zone_lookup():
    try:
        from .. import zones
    except ImportError:
        return None
    f = getattr(zones, "lookup", None)
    return f if callable(f) else None


def _with_zones(df: pl.DataFrame) -> pl.DataFrame:
    """zone_name/kind/state at lat/lon (null without a position or without seawatch.zones)."""
    df = df.with_columns(
        zone_name=pl.lit(None, pl.Utf8), zone_kind=pl.lit(None, pl.Utf8), zone_state=pl.lit(None, pl.Utf8)
    )
    lookup = _zone_lookup()
    located = df["lat"].is_not_null() & df["lon"].is_not_null()
    if lookup is None or df.height == 0 or not located.any():
        return df
    idx = np.flatnonzero(located.to_numpy())
    z = lookup(df["lat"].to_numpy()[idx], df["lon"].to_numpy()[idx])
    out = {}
    for c in ("zone_name", "zone_kind", "zone_state"):
        col = np.full(df.height, None, dtype=object)
        col[idx] = np.asarray(pl.Series(z[c]).to_list(), dtype=object)
        out[c] = pl.Series(c, col.tolist(), dtype=pl.Utf8)
    return df.with_columns(**out)


def _finish(df: pl.DataFrame, event_type: str, preset: str, qualifier: pl.Expr | None) -> pl.DataFrame:
    """base.finish with zones (when available) and qualified event ids (module docstring)."""
    if df.height == 0:
        return finish(pl.DataFrame(), event_type, preset)
    df = df.with_row_index("_row")
    ev = finish(_with_zones(df), event_type, preset, zones=False, ids=qualifier is None)
    if qualifier is not None:
        q = df.sort("_row").select(
            pl.when(qualifier.is_null()).then(pl.lit(event_type)).otherwise(pl.lit(event_type + "/") + qualifier)
        ).to_series()
        ev = ev.with_columns(event_id=event_ids(q, ev["mmsi"], ev["other_mmsi"], ev["start_time"]))
    return ev


def _evidence(cols: dict[str, pl.Expr]) -> pl.Expr:
    return pl.struct(**cols).struct.json_encode()


# -- identity_invalid ---------------------------------------------------------------------------------
def _invalid(st: pl.DataFrame, pos: _Positions, params: Params, preset: str) -> pl.DataFrame:
    heard = pl.concat([pos.runs["mmsi"].unique(), st["mmsi"].unique()]).unique()
    bad = heard.filter(flags.mmsi_problem(heard).is_not_null())  # few: counted below, not every MMSI
    is_bad = pl.col("mmsi").is_in(bad.implode())
    seen = pl.concat([
        pos.rows.filter(is_bad).select("mmsi", pl.col("_pos_ts").alias("ts"), is_pos=pl.lit(True)),
        st.filter(is_bad).select("mmsi", "ts", is_pos=pl.lit(False)),
    ])
    per = seen.group_by("mmsi").agg(
        start_time=pl.col("ts").min(), end_time=pl.col("ts").max(),
        n_positions=pl.col("is_pos").sum(), n_statics=(~pl.col("is_pos")).sum(),
    )
    per = per.with_columns(
        reason=flags.mmsi_problem(per["mmsi"]), kind=flags.mmsi_kind(per["mmsi"]), mid=flags.mid_of(per["mmsi"])
    ).filter(pl.col("reason").is_not_null() & (pl.col("reason") != "not_a_ship_number"))
    mm = per.with_columns(
        severity=pl.lit(params.invalid_mmsi_severity), score=pl.lit(params.invalid_mmsi_score),
        evidence=_evidence({
            "field": pl.lit("mmsi"), "mmsi": pl.col("mmsi"), "reason": pl.col("reason"), "kind": pl.col("kind"),
            "mid": pl.col("mid"), "first_seen": _iso(pl.col("start_time")), "last_seen": _iso(pl.col("end_time")),
            "n_positions": pl.col("n_positions"), "n_statics": pl.col("n_statics"),
        }),
        qual=pl.lit(None, pl.Utf8),
    ).select("mmsi", "start_time", "end_time", "severity", "score", "evidence", "qual")

    parts = [mm]
    if params.check_imo:
        imo = st.filter(pl.col("imo").is_not_null() & (pl.col("imo") != 0)).group_by("mmsi", "imo").agg(
            start_time=pl.col("ts").min(), end_time=pl.col("ts").max(), n_messages=pl.len()
        )
        imo = imo.filter(flags.imo_valid(imo["imo"]).fill_null(True).not_())
        i = pl.col("imo")
        d = [(i // 10**k) % 10 for k in range(6, 0, -1)]
        seven = (i >= 1_000_000) & (i <= 9_999_999)
        parts.append(imo.with_columns(
            severity=pl.lit(params.invalid_imo_severity), score=pl.lit(params.invalid_imo_score),
            evidence=_evidence({
                "field": pl.lit("imo"), "imo": i,
                "reason": pl.when(seven).then(pl.lit("check_digit")).otherwise(pl.lit("not_7_digits")),
                "check_digit_sent": pl.when(seven).then(i % 10),
                "check_digit_expected": pl.when(seven).then(
                    (d[0] * 7 + d[1] * 6 + d[2] * 5 + d[3] * 4 + d[4] * 3 + d[5] * 2) % 10),
                "first_seen": _iso(pl.col("start_time")), "last_seen": _iso(pl.col("end_time")),
                "n_messages": pl.col("n_messages"),
            }),
            qual=pl.lit("imo=") + i.cast(pl.Utf8),
        ).select("mmsi", "start_time", "end_time", "severity", "score", "evidence", "qual"))
    ev = pl.concat(parts)
    ev = _place(ev, pos)
    return _finish(ev, "identity_invalid", preset, pl.col("qual"))


# -- identity_mismatch --------------------------------------------------------------------------------
def _valid_ships(st: pl.DataFrame) -> pl.DataFrame:
    """Statics of MMSIs that can be ship stations (an invalid MMSI is often shared by many)."""
    m = st["mmsi"].unique()
    ok = m.filter(flags.mmsi_is_valid_ship(m).fill_null(False))
    return st.filter(pl.col("mmsi").is_in(ok.implode()))


def _mismatch(st: pl.DataFrame, pos: _Positions, params: Params, preset: str) -> pl.DataFrame:
    cs = st.filter(pl.col("callsign").is_not_null()).group_by("mmsi", "callsign").agg(
        start_time=pl.col("ts").min(), end_time=pl.col("ts").max(), n_messages=pl.len()
    )
    cs = cs.with_columns(
        kind=flags.mmsi_kind(cs["mmsi"]),
        mid=flags.mid_of(cs["mmsi"]),
        flag_state=flags.flag_state(cs["mmsi"]),
        callsign_state=flags.callsign_state(cs["callsign"]),
        plausible=flags.callsign_plausible(cs["callsign"]),
    ).filter((pl.col("kind") == "ship") & pl.col("plausible").fill_null(False)
             & pl.col("flag_state").is_not_null() & pl.col("callsign_state").is_not_null())
    cs = cs.with_columns(
        flag_admin=flags.administration(cs["flag_state"]), callsign_admin=flags.administration(cs["callsign_state"])
    ).filter(pl.col("flag_admin") != pl.col("callsign_admin"))
    ev = cs.with_columns(
        severity=pl.lit(params.mismatch_severity), score=pl.lit(params.mismatch_score),
        evidence=_evidence({
            "mmsi": pl.col("mmsi"), "mid": pl.col("mid"), "flag_state": pl.col("flag_state"),
            "flag_administration": pl.col("flag_admin"), "callsign": pl.col("callsign"),
            "callsign_state": pl.col("callsign_state"), "callsign_administration": pl.col("callsign_admin"),
            "first_seen": _iso(pl.col("start_time")), "last_seen": _iso(pl.col("end_time")),
            "n_messages": pl.col("n_messages"),
        }),
        qual=pl.col("callsign"),
    ).select("mmsi", "start_time", "end_time", "severity", "score", "evidence", "qual")
    return _finish(_place(ev, pos), "identity_mismatch", preset, pl.col("qual"))


# -- identity_change ----------------------------------------------------------------------------------
def _burst_counts(mmsi: np.ndarray, t_us: np.ndarray, window_us: int) -> np.ndarray:
    """For each (mmsi, t), how many distinct change times of that MMSI lie within +-window."""
    if mmsi.size == 0:
        return np.zeros(0, dtype=np.int64)
    t = (t_us - t_us.min()) // 1_000_000 + window_us // 1_000_000 + 1  # seconds, >= window + 1
    w = window_us // 1_000_000
    if int(t.max()) + w >= 2**32:
        raise SeawatchError("identity: statics span more than 130 years; split the input")
    key = mmsi.astype(np.int64) * 2**32 + t
    order = np.argsort(key, kind="stable")
    k = key[order]
    uniq = np.unique(k)
    lo = np.searchsorted(uniq, k - w, "left")
    hi = np.searchsorted(uniq, k + w, "right")
    out = np.empty_like(k)
    out[order] = hi - lo
    return out


def _change(st: pl.DataFrame, pos: _Positions, params: Params, preset: str) -> pl.DataFrame:
    # each (mmsi, field)'s values in time (ties in input order): sorted before the unpivot, on
    # two numeric keys; the steps below work per (mmsi, field) and sort their result
    long = (
        st.sort("mmsi", "ts", maintain_order=True)
        .select("mmsi", "ts", *[pl.col(f).cast(pl.Utf8) for f in FIELDS])
        .unpivot(index=["mmsi", "ts"], on=list(FIELDS), variable_name="field", value_name="value")
        .filter(pl.col("value").is_not_null())
    )
    # the unpivot keeps each (field, mmsi)'s rows together and in time: runs of one value found
    # by comparing with the row before, numbered from 1 in each (mmsi, field)
    first_of_group = ((pl.col("mmsi") != pl.col("mmsi").shift(1)) | (pl.col("field") != pl.col("field").shift(1))).fill_null(True)
    new_value = first_of_group | (pl.col("value") != pl.col("value").shift(1)).fill_null(True)
    long = long.with_columns(g=first_of_group, start=new_value, r=new_value.cum_sum())
    long = long.with_columns(run=pl.col("r") - pl.when(pl.col("g")).then(pl.col("r")).forward_fill() + 1,
                             end=pl.col("start").shift(-1).fill_null(True))
    ends = long.filter(pl.col("end"))["ts"]
    runs = (
        long.filter(pl.col("start"))
        .select("mmsi", "field", "run", "value", first=pl.col("ts"), last=ends)
        .with_columns(
            before=pl.when(pl.col("run") > 1).then(pl.col("value").shift(1)),
            before_first=pl.when(pl.col("run") > 1).then(pl.col("first").shift(1)),
            before_last=pl.when(pl.col("run") > 1).then(pl.col("last").shift(1)),
        )
        .sort("mmsi", "field", "run")
    )
    ch = runs.filter(pl.col("run") > 1)
    if ch.height == 0:
        return finish(pl.DataFrame(), "identity_change", preset)
    n = _burst_counts(
        ch["mmsi"].to_numpy(), ch["first"].dt.epoch("us").to_numpy(), int(params.burst_window_h * 3600e6)
    )
    ch = ch.with_columns(n_changes_window=pl.Series(n, dtype=pl.Int64))
    # the same transition again (A -> B -> A -> B: two transmitters on one MMSI) is one event
    ch = ch.sort("mmsi", "field", "first").group_by("mmsi", "field", "before", "value", maintain_order=True).agg(
        pl.col("first", "last", "before_first", "before_last").first(),
        last_time=pl.col("first").max(), n_times=pl.len(), n_changes_window=pl.col("n_changes_window").max(),
    )
    order = {s: i for i, s in enumerate(schema.SEVERITIES)}
    rules = {f: params.change_rule(f) for f in FIELDS}
    base_sev = pl.col("field").replace_strict({f: r[0] for f, r in rules.items()}, return_dtype=pl.Utf8)
    base_score = pl.col("field").replace_strict({f: r[1] for f, r in rules.items()}, return_dtype=pl.Float64)
    burst = pl.col("n_changes_window") >= params.burst_changes
    rank = base_sev.replace_strict(order, return_dtype=pl.Int64)
    ch = ch.with_columns(
        severity=pl.when(burst & (order[params.burst_severity] > rank)).then(pl.lit(params.burst_severity)).otherwise(base_sev),
        score=pl.when(burst).then(pl.max_horizontal(base_score, pl.lit(float(params.burst_score)))).otherwise(base_score),
    )
    ev = ch.with_columns(
        start_time=pl.col("first"), end_time=pl.col("last_time"),
        evidence=_evidence({
            "field": pl.col("field"), "before": pl.col("before"), "after": pl.col("value"),
            "before_first_seen": _iso(pl.col("before_first")), "before_last_seen": _iso(pl.col("before_last")),
            "after_first_seen": _iso(pl.col("first")), "after_last_seen": _iso(pl.col("last")),
            "times": pl.col("n_times"), "last_time": _iso(pl.col("last_time")),
            "changes_within_window": pl.col("n_changes_window"), "window_h": pl.lit(params.burst_window_h),
        }),
        qual=pl.col("field") + ":" + pl.col("before") + ">" + pl.col("value"),
    ).select("mmsi", "start_time", "end_time", "severity", "score", "evidence", "qual")
    return _finish(_place(ev, pos), "identity_change", preset, pl.col("qual"))


def detect(inputs: Inputs, params: Params) -> pl.DataFrame:
    """identity_invalid, identity_mismatch and identity_change events (schema.EVENTS)."""
    st = _statics(inputs.statics, params)
    pos = _by_time(_positions(inputs.tracks, params))
    ships = _valid_ships(st)  # mismatch and change consider only these (module docstring)
    frames = [
        _invalid(st, pos, params, inputs.preset),
        _mismatch(ships, pos, params, inputs.preset),
        _change(ships, pos, params, inputs.preset),
    ]
    return pl.concat(frames).sort("start_time", "event_type", "mmsi", "event_id")


def evidence(events: pl.DataFrame) -> list[dict]:
    """The evidence of each event as a dict (a convenience for tests and notebooks)."""
    return [json.loads(e) for e in events["evidence"]]


__all__ = ["EVENT_TYPES", "PRESETS", "Params", "detect", "evidence"]
