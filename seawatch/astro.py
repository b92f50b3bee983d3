"""Where the sun is, vectorised: solar elevation, day or night, sunrise and sunset.

The sun's position is the NOAA solar calculator's (after Meeus, *Astronomical Algorithms*, ch. 25,
"low accuracy"): from the Julian century ``T`` since J2000.0 the geometric mean longitude ``L0``
and mean anomaly ``M``, the orbit's eccentricity, the equation of the centre (true longitude),
the apparent longitude (nutation and aberration), the corrected obliquity of the ecliptic, the
declination, the equation of time, and from these the true solar time and hour angle at the
observer. Accuracy is about 0.01 degrees in position, which is well under a minute of time in
sunrise and sunset for |latitude| < 60 (tests/test_astro.py compares with published tables).
UT is used for TT (the ~69 s difference moves the sun by 0.0008 degrees).

Everything is numpy over whole arrays: a million points take a fraction of a second.

Definitions used by ``is_night``:

* sunrise / sunset: the sun's **upper limb** on a sea-level horizon with standard refraction,
  i.e. the geometric (airless) elevation of the sun's centre is ``-0.833`` degrees (16' semi-
  diameter + 34' refraction; the NAOJ, USNO and NOAA convention).
* civil twilight ends at ``-6`` degrees: pass ``horizon_deg=CIVIL_TWILIGHT_DEG`` to count civil
  twilight as day.

Inputs: ``lat``/``lon`` in degrees WGS84 (numpy arrays, polars Series or scalars, broadcast
together with ``ts``); ``ts`` as numpy ``datetime64`` (any unit, taken as UTC) or a polars
Series of ``Datetime`` (tz-aware: converted to UTC; naive: taken as UTC). Nulls / NaN / NaT give
NaN elevations and ``is_night`` False.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import polars as pl

from .errors import SeawatchError

__all__ = [
    "CIVIL_TWILIGHT_DEG",
    "SUNRISE_HORIZON_DEG",
    "is_night",
    "sun_elevation_deg",
    "sunrise_sunset",
]

#: Geometric elevation of the sun's centre at sunrise/sunset (upper limb, standard refraction).
SUNRISE_HORIZON_DEG = -0.833
#: Elevation of the sun's centre at the end of civil twilight.
CIVIL_TWILIGHT_DEG = -6.0

_J2000_UNIX_S = 946_728_000.0  # 2000-01-01T12:00:00 UTC
_DEG = np.pi / 180.0


# -- input coercion --------------------------------------------------------------------------------
def _as_float(x, what: str) -> np.ndarray:
    if isinstance(x, pl.Series):
        return x.cast(pl.Float64).to_numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise SeawatchError(
            f"{what} must be numbers in degrees (a numpy array, polars Series or float), "
            f"got {type(x).__name__}"
        ) from None


def _unix_seconds(ts) -> np.ndarray:
    """Seconds since 1970-01-01 UTC as float64; NaT / null -> NaN."""
    if isinstance(ts, pl.Series):
        if not isinstance(ts.dtype, pl.Datetime):
            raise SeawatchError(
                f"ts must be a polars Datetime series (UTC), got dtype {ts.dtype}: "
                "parse it first, e.g. pl.col('ts').str.to_datetime(time_zone='UTC')"
            )
        # epoch() counts from the UTC epoch whatever the series' time zone
        return ts.dt.epoch("us").cast(pl.Float64).to_numpy() / 1e6
    if isinstance(ts, _dt.datetime):
        if ts.tzinfo is not None:
            ts = ts.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        ts = np.datetime64(ts, "us")
    arr = np.asarray(ts)
    if not np.issubdtype(arr.dtype, np.datetime64):
        raise SeawatchError(
            f"ts must be numpy datetime64 (UTC) or a polars Datetime series, got dtype {arr.dtype}: "
            "convert with np.asarray(values, dtype='datetime64[us]')"
        )
    us = arr.astype("datetime64[us]")
    out = us.astype(np.int64).astype(np.float64) / 1e6
    return np.where(np.isnat(us), np.nan, out)


def _check_lat(lat: np.ndarray) -> None:
    if lat.size and np.nanmax(np.abs(lat), initial=0.0) > 90.0:
        raise SeawatchError(
            "latitude out of range: values must lie in [-90, 90] degrees "
            "(did you swap lat and lon?)"
        )


def _broadcast(*arrays: np.ndarray) -> list[np.ndarray]:
    try:
        return list(np.broadcast_arrays(*arrays))
    except ValueError:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise SeawatchError(
            f"lat, lon and ts must have the same length (or be scalars); got shapes {shapes}"
        ) from None


# -- the solar position ----------------------------------------------------------------------------
def _sun(unix_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Declination (radians) and equation of time (minutes) at the given UTC instants."""
    t = (unix_s - _J2000_UNIX_S) / (86400.0 * 36525.0)  # Julian centuries since J2000.0
    l0 = np.deg2rad(np.mod(280.46646 + t * (36000.76983 + t * 0.0003032), 360.0))
    m = np.deg2rad(357.52911 + t * (35999.05029 - 0.0001537 * t))
    ecc = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
    sin_m = np.sin(m)
    centre = (
        sin_m * (1.914602 - t * (0.004817 + 0.000014 * t))
        + np.sin(2.0 * m) * (0.019993 - 0.000101 * t)
        + np.sin(3.0 * m) * 0.000289
    )
    omega = np.deg2rad(125.04 - 1934.136 * t)
    # apparent longitude: true longitude corrected for aberration and nutation
    lam = l0 + np.deg2rad(centre - 0.00569 - 0.00478 * np.sin(omega))
    eps0 = 23.0 + (26.0 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60.0) / 60.0
    eps = np.deg2rad(eps0 + 0.00256 * np.cos(omega))
    decl = np.arcsin(np.sin(eps) * np.sin(lam))
    y = np.tan(eps / 2.0) ** 2
    eot_rad = (
        y * np.sin(2.0 * l0)
        - 2.0 * ecc * sin_m
        + 4.0 * ecc * y * sin_m * np.cos(2.0 * l0)
        - 0.5 * y * y * np.sin(4.0 * l0)
        - 1.25 * ecc * ecc * np.sin(2.0 * m)
    )
    return decl, 4.0 * np.rad2deg(eot_rad)


_GRID_S = 600.0  # solar-position table step for large inputs (10 minutes)


def _sun_table(unix_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """sin(declination), cos(declination), equation of time (min) at each instant.

    For large inputs spanning fewer table steps than points, the sun is computed on a 10-minute
    grid and linearly interpolated: declination and equation of time vary so smoothly that the
    interpolation error is below 1e-7 degrees (h^2/8 * max second derivative), far below the
    model's own 0.01 degrees, and it saves most of the cost of a million-point call.
    """
    n = unix_s.size
    if n >= 4096:
        finite = unix_s[np.isfinite(unix_s)]
        if finite.size:
            t0, t1 = float(finite.min()), float(finite.max())
            steps = int(np.ceil((t1 - t0) / _GRID_S)) + 1
            if steps * 4 < n:
                grid = t0 + _GRID_S * np.arange(steps + 1, dtype=np.float64)
                decl, eot = _sun(grid)
                x = (unix_s - t0) / _GRID_S  # uniform grid: index arithmetic, no search
                i = np.clip(np.nan_to_num(x, nan=0.0).astype(np.int64), 0, steps - 1)
                w = x - i  # NaN where the instant is missing
                return tuple(
                    tab[i] + w * (tab[i + 1] - tab[i])
                    for tab in (np.sin(decl), np.cos(decl), eot)
                )
    decl, eot = _sun(unix_s)
    return np.sin(decl), np.cos(decl), eot


def _elevation(lat_deg: np.ndarray, lon_deg: np.ndarray, unix_s: np.ndarray) -> np.ndarray:
    sin_d, cos_d, eot_min = _sun_table(unix_s)
    # true solar time in degrees of hour angle: UTC time of day + equation of time + longitude
    hour_angle = np.deg2rad(np.mod(unix_s, 86400.0) / 240.0 + eot_min / 4.0 + lon_deg - 180.0)
    phi = np.deg2rad(lat_deg)
    cos_zen = np.sin(phi) * sin_d + np.cos(phi) * cos_d * np.cos(hour_angle)
    return np.rad2deg(np.arcsin(np.clip(cos_zen, -1.0, 1.0)))


def _refraction_deg(elev_deg: np.ndarray) -> np.ndarray:
    """NOAA's approximate atmospheric refraction (degrees) for a geometric elevation."""
    e = np.clip(elev_deg, -5.0, 90.0)
    te = np.tan(np.deg2rad(np.maximum(e, 0.1)))
    arcsec = np.select(
        [e > 85.0, e > 5.0, e > -0.575],
        [
            0.0,
            58.1 / te - 0.07 / te**3 + 0.000086 / te**5,
            1735.0 + e * (-518.2 + e * (103.4 + e * (-12.79 + e * 0.711))),
        ],
        default=-20.772 / np.tan(np.deg2rad(np.minimum(e, -0.6))),
    )
    return arcsec / 3600.0


def sun_elevation_deg(lat, lon, ts, *, refraction: bool = False) -> np.ndarray:
    """Elevation of the sun's centre above the horizon, degrees, for each (lat, lon, ts).

    From the sun's apparent (nutation- and aberration-corrected) position; without atmosphere by
    default, the quantity compared with ``SUNRISE_HORIZON_DEG`` (-0.833, which already allows
    for refraction). ``refraction=True`` adds NOAA's approximate atmospheric refraction to give the
    elevation an observer sees. ``lat``, ``lon``, ``ts`` broadcast together; returns a float64
    array of their common shape, NaN where an input is missing.
    """
    lat_a = _as_float(lat, "lat")
    lon_a = _as_float(lon, "lon")
    _check_lat(lat_a)
    lat_a, lon_a, secs = _broadcast(lat_a, lon_a, _unix_seconds(ts))
    elev = _elevation(lat_a, lon_a, secs)
    if refraction:
        elev = elev + _refraction_deg(elev)
    return elev


def is_night(lat, lon, ts, horizon_deg: float = SUNRISE_HORIZON_DEG) -> np.ndarray:
    """True where the sun is below the horizon: its upper limb has set (standard refraction).

    ``horizon_deg`` is the geometric elevation of the sun's centre taken as the day/night limit:
    -0.833 (default) for sunset/sunrise, ``CIVIL_TWILIGHT_DEG`` (-6) to count civil twilight as
    day. Returns a numpy bool array of the broadcast shape; missing inputs give False.
    """
    try:
        h = float(horizon_deg)
    except (TypeError, ValueError):
        raise SeawatchError(
            f"horizon_deg must be a number of degrees, e.g. {SUNRISE_HORIZON_DEG} or "
            f"{CIVIL_TWILIGHT_DEG}, got {horizon_deg!r}"
        ) from None
    if not -90.0 <= h <= 90.0:
        raise SeawatchError(f"horizon_deg must lie in [-90, 90] degrees, got {h}")
    elev = sun_elevation_deg(lat, lon, ts)
    with np.errstate(invalid="ignore"):
        return elev < h


# -- sunrise and sunset ----------------------------------------------------------------------------
def _as_days(date) -> np.ndarray:
    if isinstance(date, pl.Series):
        if date.dtype == pl.Date:
            return date.to_numpy().astype("datetime64[D]")
        if isinstance(date.dtype, pl.Datetime):
            return date.dt.date().to_numpy().astype("datetime64[D]")
        raise SeawatchError(f"date must be a polars Date series, got dtype {date.dtype}")
    if isinstance(date, _dt.datetime):
        date = date.date()
    try:
        arr = np.asarray(date)
        if arr.dtype.kind in "UO":
            arr = arr.astype("datetime64[D]")
        if not np.issubdtype(arr.dtype, np.datetime64):
            raise TypeError
        return arr.astype("datetime64[D]")
    except (TypeError, ValueError):
        raise SeawatchError(
            f"date must be a date ('2024-06-21', datetime.date, numpy datetime64[D] or a polars "
            f"Date series), got {date!r}"
        ) from None


def sunrise_sunset(lat, lon, date, horizon_deg: float = SUNRISE_HORIZON_DEG):
    """Sunrise and sunset (UTC ``datetime64[us]`` arrays) on the local day ``date`` at (lat, lon).

    The local day is the calendar ``date`` in local mean time (UTC + lon/15 h), so for Niigata
    (139 E) it is the JST date. Found by root-finding on :func:`sun_elevation_deg`: a first guess
    from the hour-angle formula at local noon, then Newton steps on the elevation itself, so the
    instants agree with :func:`is_night` to about a second. Where the sun does not cross
    ``horizon_deg`` that day (midnight sun, polar night) both are NaT: ``is_night`` at noon tells
    which. Inputs broadcast; returns ``(sunrise, sunset)``.
    """
    lat_a = _as_float(lat, "lat")
    lon_a = _as_float(lon, "lon")
    _check_lat(lat_a)
    days = _as_days(date)
    lat_a, lon_a, days = _broadcast(lat_a, lon_a, days)
    h0 = float(horizon_deg)

    day_s = days.astype("datetime64[s]").astype(np.int64).astype(np.float64)
    day_s = np.where(np.isnat(days), np.nan, day_s)
    lon_w = np.mod(lon_a + 180.0, 360.0) - 180.0
    # local mean noon of that date, in UTC seconds, then the apparent noon via the equation of time
    noon = day_s + 43200.0 - lon_w * 240.0
    _, eot = _sun(noon)
    noon = noon - eot * 60.0
    decl, _ = _sun(noon)
    phi = np.deg2rad(lat_a)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos_h = (np.sin(np.deg2rad(h0)) - np.sin(phi) * np.sin(decl)) / (np.cos(phi) * np.cos(decl))
    crosses = np.abs(cos_h) <= 1.0
    half_day_s = np.rad2deg(np.arccos(np.clip(cos_h, -1.0, 1.0))) * 240.0

    out = []
    for sign in (-1.0, 1.0):  # sunrise, sunset (two events, not a per-point loop)
        t = noon + sign * half_day_s
        for _ in range(4):  # the hour-angle guess is within minutes: 4 Newton steps suffice
            f = _elevation(lat_a, lon_a, t) - h0
            df = (_elevation(lat_a, lon_a, t + 30.0) - _elevation(lat_a, lon_a, t - 30.0)) / 60.0
            with np.errstate(invalid="ignore", divide="ignore"):
                step = np.where(np.abs(df) > 1e-9, f / df, 0.0)
            t = t - np.clip(step, -3600.0, 3600.0)
        f = _elevation(lat_a, lon_a, t) - h0
        ok = (
            crosses
            & (np.abs(f) < 1e-3)
            & (np.abs(t - noon) < 43200.0)
            & np.isfinite(t)
        )
        us = np.where(ok, np.round(t * 1e6), 0).astype(np.int64).astype("datetime64[us]")
        out.append(np.where(ok, us, np.datetime64("NaT", "us")))
    return out[0], out[1]
