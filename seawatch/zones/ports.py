"""Ports and anchorages: the registry, anchorages inferred from AIS, and nearest-port look-ups.

* :func:`ports_table` — 20,070 ports, harbours, landings, marinas and named anchorages from the
  ``harborly`` package's bundled registry (NGA World Port Index, public domain, and GeoNames
  port/harbour features, CC BY 4.0: attribute "GeoNames"), in the ``PORTS`` schema.
* :func:`infer_anchorages` — anchorages where vessels are seen to stay, the Global Fishing Watch
  way (see its docstring).
* :func:`nearest_port` — for millions of positions, the nearest port or anchorage within
  :data:`PORT_SEARCH_KM`, vectorised with a k-d tree on the unit sphere.

Distances are great-circle distances on a sphere of the mean Earth radius 6371.0088 km (IUGG);
they differ from ellipsoidal (geodesic) distances by at most about 0.5 %.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl
from scipy.spatial import cKDTree

from .. import schema
from ..errors import SeawatchError

__all__ = [
    "EARTH_RADIUS_KM",
    "HARBORLY_VERSION",
    "PORT_SEARCH_KM",
    "STATIONARY_MAX_SOG_KN",
    "anchorage_stays",
    "anchorages_from_stays",
    "infer_anchorages",
    "nearest_port",
    "ports_table",
]

#: How far :func:`nearest_port` looks for a port or anchorage by default (km).
PORT_SEARCH_KM = 50.0
#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088
#: The harborly release whose bundled registry this module was written against.
HARBORLY_VERSION = "1.1.4"

#: Reports faster than this (knots) end a stay in :func:`infer_anchorages` (a vessel circling
#: slowly inside one cell is loitering or fishing, not anchored). Null speeds do not.
STATIONARY_MAX_SOG_KN = 3.0

_KM_PER_DEG = EARTH_RADIUS_KM * np.pi / 180.0  # 111.195 km per degree of latitude
_REGISTRY_FILE = "data/port_registry.parquet"
_REGISTRY_COLUMNS = ("registry_id", "provider", "country_code", "canonical_name",
                     "latitude", "longitude", "function_code")


# -- the registry -----------------------------------------------------------------------------------
def _registry_path() -> tuple[Path, str]:
    """Path of harborly's bundled parquet and harborly's version, without importing harborly.

    (Importing it pulls in pandas and its HTTP stack, ~1 s; only its data file is used.)
    """
    spec = importlib.util.find_spec("harborly")
    if spec is None or not spec.submodule_search_locations:
        raise SeawatchError(
            "the port registry needs the 'harborly' package: "
            f"pip install harborly=={HARBORLY_VERSION}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / _REGISTRY_FILE
    if not path.is_file():
        raise SeawatchError(
            f"harborly is installed but has no {_REGISTRY_FILE}: "
            f"reinstall it with pip install --force-reinstall harborly=={HARBORLY_VERSION}"
        )
    try:
        version = importlib.metadata.version("harborly")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return path, version


@lru_cache(maxsize=1)
def ports_table() -> pl.DataFrame:
    """Every port of harborly's bundled registry, in the ``PORTS`` schema (cached).

    ``port_id`` is harborly's ``registry_id`` (``WPI:61870``, ``GEONAMES:1855428``); ``kind`` is
    ``'anchorage'`` for GeoNames anchorage features (``H.ANCH``) and ``'port'`` for everything
    else (WPI ports; GeoNames harbours, ports, landings, marinas, docks, ferry terminals);
    ``source`` names the package version and the provider. One port can appear twice (its WPI
    and its GeoNames record, at slightly different points); both are kept.
    """
    path, version = _registry_path()
    try:
        raw = pl.read_parquet(path, columns=list(_REGISTRY_COLUMNS))
    except (OSError, pl.exceptions.PolarsError) as exc:  # corrupt or reshaped: say what to do
        raise SeawatchError(
            f"cannot read harborly's port registry {path} ({exc}): "
            f"pip install --force-reinstall harborly=={HARBORLY_VERSION}"
        ) from None
    provider = pl.col("provider")
    df = raw.filter(
        pl.col("latitude").is_between(-90.0, 90.0)
        & pl.col("longitude").is_between(-180.0, 180.0)
        & pl.col("canonical_name").is_not_null()
    ).select(
        pl.col("registry_id").alias("port_id"),
        pl.col("canonical_name").alias("name"),
        pl.when(pl.col("function_code") == "H.ANCH")
        .then(pl.lit("anchorage"))
        .otherwise(pl.lit("port"))
        .alias("kind"),
        pl.col("country_code").str.to_uppercase().alias("country_code"),
        pl.col("latitude").alias("lat"),
        pl.col("longitude").alias("lon"),
        pl.when(provider == "NGA_WPI")
        .then(pl.lit(f"harborly {version} (NGA WPI)"))
        .when(provider == "GEONAMES")
        .then(pl.lit(f"harborly {version} (GeoNames, CC BY 4.0)"))
        .otherwise(pl.format("harborly {} ({})", pl.lit(version), provider))
        .alias("source"),
    )
    return schema.conform("ports", df)


# -- nearest port -----------------------------------------------------------------------------------
def _unit_xyz(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    phi = np.deg2rad(lat_deg)
    lam = np.deg2rad(lon_deg)
    cos_phi = np.cos(phi)
    out = np.empty((phi.size, 3))
    np.multiply(cos_phi, np.cos(lam), out=out[:, 0])
    np.multiply(cos_phi, np.sin(lam), out=out[:, 1])
    np.sin(phi, out=out[:, 2])
    return out


class _PortIndex:
    __slots__ = ("comp", "names", "tree")

    def __init__(self, ports: pl.DataFrame) -> None:
        missing = [c for c in ("name", "lat", "lon") if c not in ports.columns]
        if missing:
            raise SeawatchError(
                f"ports has no column(s) {missing}: pass a frame in the PORTS schema, "
                "e.g. ports_table() or pl.concat([ports_table(), infer_anchorages(positions)])"
            )
        ports = ports.filter(
            pl.col("lat").is_not_null() & pl.col("lon").is_not_null()
            & pl.col("lat").is_finite() & pl.col("lon").is_finite()
        )
        if ports.height == 0:
            raise SeawatchError("ports is empty (no row with a lat and lon): nothing to search")
        # several ports at one position (a port's WPI and GeoNames records, say): the first
        # row wins, so that a position always gets the same name whichever way it is searched
        ports = ports.select(pl.col("name").cast(pl.Utf8), pl.col("lat").cast(pl.Float64),
                             pl.col("lon").cast(pl.Float64)).unique(["lat", "lon"], keep="first",
                                                                     maintain_order=True)
        self.names = ports["name"]
        xyz = _unit_xyz(ports["lat"].to_numpy(), ports["lon"].to_numpy())
        self.tree = cKDTree(xyz)
        self.comp = tuple(np.ascontiguousarray(xyz[:, i]) for i in range(3))  # for the cell search


# the cell search of nearest_port: cells of 1/CELL_DIV degree (~1.7 km), each with at most
# CELL_CAND candidate ports, for cells holding at least CELL_MIN_PTS of a call's points
_CELL_DIV = 64
_CELL_CAND = 8
_CELL_MIN_PTS = 3
_CHUNK = 1 << 17  # points per chunk, to bound temporary memory


def _cell_keys(lat: np.ndarray, lon: np.ndarray):
    """Cell (1/_CELL_DIV degree) of each point, as a number in [0, nkeys): (key, nkeys, centre),
    ``centre(keys)`` giving the cells' centre lat and lon. Cells are numbered within the
    1-degree tiles that hold points (no sort), or, when those are many (points spread over the
    globe), by sorting."""
    shift = _CELL_DIV.bit_length() - 1  # _CELL_DIV is a power of two
    fi = np.clip(np.floor(lat * _CELL_DIV), -90 * _CELL_DIV, 90 * _CELL_DIV - 1).astype(np.int32)
    fj = np.floor(lon * _CELL_DIV).astype(np.int32)  # lon in [-180, 180)
    tile = ((fi >> shift) + 90) * 360 + ((fj >> shift) + 180)  # 1-degree tiles
    occ = np.zeros(180 * 360, dtype=bool)
    occ[tile] = True
    tiles = np.flatnonzero(occ)
    nfine = _CELL_DIV * _CELL_DIV

    def centre(fi, fj):
        return (fi + 0.5) / _CELL_DIV, (fj + 0.5) / _CELL_DIV

    if len(tiles) * nfine > 8 * lat.size + (1 << 20):
        w = 360 * _CELL_DIV
        ids, key = np.unique((fi.astype(np.int64) + 90 * _CELL_DIV) * w + (fj + 180 * _CELL_DIV), return_inverse=True)

        def sorted_centre(k):
            i, j = np.divmod(ids[k], w)
            return centre(i - 90 * _CELL_DIV, j - 180 * _CELL_DIV)

        return key, len(ids), sorted_centre
    tid = np.empty(180 * 360, dtype=np.int64)
    tid[tiles] = np.arange(len(tiles)) * nfine
    key = tid[tile]
    del tile
    fi &= _CELL_DIV - 1
    fi <<= shift
    key += fi
    fj &= _CELL_DIV - 1
    key += fj

    def tile_centre(k):
        t, f = tiles[k // nfine], k % nfine
        return centre((t // 360 - 90) * _CELL_DIV + (f >> shift), (t % 360 - 180) * _CELL_DIV + (f & (_CELL_DIV - 1)))

    return key, len(tiles) * nfine, tile_centre


def _cells(lat: np.ndarray, lon: np.ndarray):
    """The cells holding at least _CELL_MIN_PTS points: (cell of each point, -1 if in none, centre
    lat and lon of each cell); None when too few points are in such cells."""
    n = lat.size
    if n >= 1 << 15:  # a look at every 8th point first: scattered points stop here, cheaply
        key = _cell_keys(lat[::8], lon[::8])[0]
        if (np.bincount(key)[key] >= 2).sum() < n // 64:
            return None
    key, nkeys, centre = _cell_keys(lat, lon)
    count = np.bincount(key, minlength=nkeys)
    dense = count >= _CELL_MIN_PTS
    if count[dense].sum() < n // 4:
        return None
    cells = np.flatnonzero(dense)
    cid = np.full(len(count), -1, dtype=np.int64)
    cid[cells] = np.arange(len(cells))
    clat, clon = centre(cells)
    return cid[key], clat, clon


def _cell_candidates(index: _PortIndex, lat: np.ndarray, lon: np.ndarray, bound: float):
    """Cells of the points and the ports that can be nearest to a point of each cell.

    Exact, not an approximation: a point P of a cell with centre c and chord radius h has its
    nearest port p* within |P - p1| <= |c - p1| + h of it (p1: the centre's nearest port), so
    |c - p*| <= |c - p1| + 2h; and a port within ``bound`` of P is within bound + h of c. The
    ports within min(|c - p1| + 2h, bound + h) of the centre are the cell's candidates; a cell
    with more than _CELL_CAND of them, and the points of cells with fewer than _CELL_MIN_PTS
    points (about the cost of a cell), are searched point by point.
    Returns (cell of each point, candidates (cells + 1, _CELL_CAND + 1) sorted by distance and
    -1 padded, their number (-1: point by point; the last row is for pc == -1)), or None when
    the points are too scattered for cells to pay.
    """
    found = _cells(lat, lon)
    if found is None:
        return None
    pc, clat, clon = found
    # chord radius of a cell: with |dlat|, |dlon| <= half and both latitudes at least `edge`
    # (the cell's edge nearest the equator), chord^2 = 4 sin^2(dlat/2) + 4 cos cos sin^2(dlon/2)
    # <= half^2 (1 + cos^2 edge)
    half = np.radians(0.5 / _CELL_DIV)
    edge = np.clip(np.abs(clat) - 0.5 / _CELL_DIV, 0.0, 90.0)
    h = np.hypot(half, half * np.cos(np.radians(edge))) * (1.0 + 1e-6) + 1e-12
    dc, ic = index.tree.query(_unit_xyz(clat, clon), k=_CELL_CAND + 1,
                              distance_upper_bound=bound + 2.0 * h.max())
    reach = np.minimum(dc[:, :1] + 2.0 * h[:, None], (bound + h)[:, None])
    cand = np.where(dc <= reach, ic, -1)  # sorted by distance: the candidates come first
    ncand = (cand >= 0).sum(axis=1)
    ncand[ncand > _CELL_CAND] = -1  # too many: point by point
    ncand = np.append(ncand, -1)  # pc == -1: a sparse cell
    cand = np.vstack([cand, np.full((1, cand.shape[1]), -1)])
    return pc, cand, ncand


def _nearest_candidates(index: _PortIndex, xyz: np.ndarray, cand: np.ndarray, ncand: np.ndarray,
                        pc: np.ndarray):
    """Nearest of each point's cell's candidates (index, chord); -2 where the cell has none listed."""
    px, py, pz = index.comp
    x, y, z = xyz.T
    # first candidate, every point
    port = cand[:, 0][pc]
    q = np.maximum(port, 0)
    d2 = px[q] - x
    d2 *= d2
    t = py[q] - y
    t *= t
    d2 += t
    t = pz[q] - z
    t *= t
    d2 += t
    nc = ncand[pc]
    d2[nc <= 0] = np.inf
    best = np.where(nc > 0, port, -1)
    best[nc < 0] = -2
    # the other candidates, for the points of cells that have them
    sel = np.nonzero(nc > 1)[0]
    k = 1
    while len(sel):
        port = cand[pc[sel], k]
        e2 = px[port] - x[sel]
        e2 *= e2
        t = py[port] - y[sel]
        t *= t
        e2 += t
        t = pz[port] - z[sel]
        t *= t
        e2 += t
        better = e2 < d2[sel]
        d2[sel[better]] = e2[better]
        best[sel[better]] = port[better]
        k += 1
        sel = sel[nc[sel] > k]
    return best, np.sqrt(d2)


@lru_cache(maxsize=1)
def _default_index() -> _PortIndex:
    return _PortIndex(ports_table())


#: the indexes of the last ports frames searched, with the frames and a fingerprint of their
#: names and positions (the live watch searches one ports table batch after batch)
_INDEXES: list[tuple[pl.DataFrame, int, _PortIndex]] = []


def _index_of(ports: pl.DataFrame) -> _PortIndex:
    """The search index of ``ports``: built once for a frame searched again unchanged."""
    if not all(c in ports.columns for c in ("name", "lat", "lon")):
        return _PortIndex(ports)  # says what is missing
    mark = int(ports.select("name", "lat", "lon").hash_rows(seed=5).sum()) ^ ports.height
    for i, (frame, m, index) in enumerate(_INDEXES):
        if frame is ports and m == mark:
            _INDEXES.insert(0, _INDEXES.pop(i))
            return index
    index = _PortIndex(ports)
    _INDEXES.insert(0, (ports, mark, index))
    del _INDEXES[4:]
    return index


def _as_float(x, what: str) -> np.ndarray:
    if isinstance(x, pl.Series):
        return x.cast(pl.Float64).to_numpy()
    try:
        return np.asarray(x, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise SeawatchError(
            f"{what} must be numbers in degrees (numpy array or polars Series), "
            f"got {type(x).__name__}"
        ) from None


def nearest_port(lat, lon, ports: pl.DataFrame | None = None,
                 search_km: float = PORT_SEARCH_KM) -> pl.DataFrame:
    """The nearest port (or anchorage) to each position, if one lies within ``search_km``.

    Returns a frame with one row per position, in order: ``port_name`` (Utf8) and
    ``port_dist_km`` (Float32, great-circle km), both null beyond ``search_km`` or where the
    position is missing. ``ports`` defaults to :func:`ports_table`; any frame with ``name``,
    ``lat``, ``lon`` works (e.g. the registry plus :func:`infer_anchorages`).

    Method: ports and positions become unit vectors; a k-d tree (scipy ``cKDTree``) finds the
    nearest port by chord length, bounded by the chord of ``search_km``; the chord ``c`` converts
    exactly to the great-circle distance ``2 R asin(c / 2)``. Track data puts many positions in
    few places: cells of 1/64 degree holding at least 3 positions are searched once, for the
    ports that can be nearest to any point of the cell (exactly: see ``_cell_candidates``), and
    their positions only measured against those. Where several ports share a position, the
    first row's name is given.
    """
    try:
        search = float(search_km)
    except (TypeError, ValueError):
        raise SeawatchError(f"search_km must be a number of km, got {search_km!r}") from None
    if not 0.0 < search <= np.pi * EARTH_RADIUS_KM:
        raise SeawatchError(
            f"search_km must be > 0 and at most half the Earth's circumference "
            f"({np.pi * EARTH_RADIUS_KM:.0f} km), got {search_km!r}"
        )
    lat_a = _as_float(lat, "lat")
    lon_a = _as_float(lon, "lon")
    if lat_a.shape != lon_a.shape:
        raise SeawatchError(
            f"lat and lon must have the same length, got {lat_a.size} and {lon_a.size}"
        )
    valid = np.isfinite(lat_a) & np.isfinite(lon_a)
    if np.any(np.abs(lat_a[valid]) > 90.0):
        raise SeawatchError(
            "latitude out of range: values must lie in [-90, 90] degrees (did you swap lat and lon?)"
        )
    index = _default_index() if ports is None else _index_of(ports)

    n = lat_a.size
    dist = np.full(n, np.nan)
    idx = np.full(n, -1, dtype=np.int64)
    if valid.any():
        lat_v = lat_a[valid]
        lon_v = lon_a[valid]
        if len(lon_v) and (lon_v.min() < -180.0 or lon_v.max() >= 180.0):
            lon_v = (lon_v + 180.0) % 360.0 - 180.0
        # a hair beyond the chord of search_km; exact cut on the great-circle distance below
        bound = 2.0 * np.sin(min(search / EARTH_RADIUS_KM, np.pi) / 2.0) * (1.0 + 1e-9)
        cells = _cell_candidates(index, lat_v, lon_v, bound) if len(lat_v) >= 4096 else None
        gc = np.empty(len(lat_v))
        hit = np.empty(len(lat_v), dtype=np.int64)
        for s in range(0, len(lat_v), _CHUNK):
            sl = slice(s, s + _CHUNK)
            xyz = _unit_xyz(lat_v[sl], lon_v[sl])
            if cells is None:
                chord, h = index.tree.query(xyz, k=1, distance_upper_bound=bound)
            else:
                pc, cand, ncand = cells
                h, chord = _nearest_candidates(index, xyz, cand, ncand, pc[sl])
                rest = np.nonzero(h == -2)[0]
                if len(rest):
                    chord[rest], h[rest] = index.tree.query(xyz[rest], k=1, distance_upper_bound=bound)
                chord[chord > bound] = np.inf
            found = np.isfinite(chord)
            g = np.full(chord.shape, np.nan)
            g[found] = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord[found] / 2.0, 1.0))
            found &= g <= search
            gc[sl] = np.where(found, g, np.nan)
            hit[sl] = np.where(found, h, -1)
        dist[valid] = gc
        idx[valid] = hit
    has = idx >= 0
    return pl.DataFrame({
        "_name": index.names.gather(np.where(has, idx, 0)),
        "_has": has,
        "port_dist_km": pl.Series(dist, dtype=pl.Float64, nan_to_null=True),
    }).select(
        pl.when(pl.col("_has")).then(pl.col("_name")).alias("port_name").cast(pl.Utf8),
        pl.col("port_dist_km").cast(pl.Float32),
    )


# -- inferred anchorages ----------------------------------------------------------------------------
def _grid_cells(lat: pl.Expr, lon: pl.Expr, side_km: float, shift: tuple[float, float]
                ) -> tuple[pl.Expr, pl.Expr]:
    """Row and column of a near-equal-area lat/lon grid of ``side_km`` cells, offset by
    ``shift`` (fractions of a cell, in row and column)."""
    dlat = side_km / _KM_PER_DEG
    row = (lat / dlat + shift[0]).floor()
    row_centre = (row + 0.5 - shift[0]) * dlat
    # each row of cells has its own longitude step, so cells stay ~side_km wide at any latitude
    dlon = dlat / row_centre.radians().cos().clip(lower_bound=1e-3)
    col = (lon / dlon + shift[1]).floor()
    return row.cast(pl.Int64), col.cast(pl.Int64)


def infer_anchorages(positions: pl.DataFrame, min_vessels: int = 20, min_hours: float = 12.0,
                     radius_km: float = 0.5) -> pl.DataFrame:
    """Anchorages inferred from AIS: cells where at least ``min_vessels`` vessels stayed.

    This follows Global Fishing Watch's anchorages pipeline
    (https://github.com/GlobalFishingWatch/anchorages_pipeline; method described at
    https://globalfishingwatch.github.io/anchorages): a vessel is *stationary* when all its
    positions remain within 0.5 km for at least 12 h; each stationary period is assigned to the
    S2 level-14 cell (~0.5 km) of its mean location; a cell where at least 20 distinct MMSI
    were stationary is an anchorage point, located at the mean of those periods' locations.

    Here, without a per-point loop and without the S2 library:

    * **stay**: a run of consecutive reports of one vessel (sorted by time) inside one cell of
      side ``2 * radius_km`` of a lat/lon grid whose longitude step widens with latitude (near
      equal-area), lasting at least ``min_hours`` from first to last report. The run is searched
      on four such grids offset by half a cell, so a vessel whose reports fit in a disk of
      diameter ``radius_km`` is always found (in at least one grid), and no stay spans more than
      the cell's diagonal. This stands in for GFW's "every position within 0.5 km of the first".
      Reports faster than ``STATIONARY_MAX_SOG_KN`` (3 kn) end a stay (GFW uses distance only).
      Gaps between reports are not limited.
    * **anchorage**: the stays are binned by their mean location into cells of side
      ``radius_km`` (the S2 level-14 stand-in); a cell with at least ``min_vessels`` distinct
      ``mmsi`` is an anchorage, located at the mean of its stays' locations. One anchorage area
      usually yields several neighbouring anchorage cells, as in GFW's data.

    ``min_vessels`` is 20 in GFW's global, multi-year run; use fewer for a few days or one
    region. ``positions`` needs ``mmsi, ts, lat, lon`` (and uses ``sog_kn`` if present); rows
    with any of these null are ignored. Returns the ``PORTS`` schema: ``kind='anchorage'``,
    ``source='inferred'``, ``port_id='anch-r<row>c<col>'`` (the cell), ``name`` from the
    location, ``country_code`` null.
    """
    if not isinstance(positions, pl.DataFrame):
        raise SeawatchError(
            f"positions must be a polars DataFrame with mmsi, ts, lat, lon, got {type(positions).__name__}"
        )
    missing = [c for c in ("mmsi", "ts", "lat", "lon") if c not in positions.columns]
    if missing:
        raise SeawatchError(
            f"positions has no column(s) {missing}: pass the positions or tracks table "
            "(columns mmsi, ts, lat, lon, sog_kn as in seawatch/schema.py)"
        )
    if not isinstance(positions.schema["ts"], pl.Datetime):
        raise SeawatchError(
            f"positions.ts must be a Datetime column, got {positions.schema['ts']}: "
            "parse it, e.g. pl.col('ts').str.to_datetime(time_zone='UTC')"
        )
    if isinstance(min_vessels, bool) or not isinstance(min_vessels, (int, np.integer)) or min_vessels < 1:
        raise SeawatchError(f"min_vessels must be a whole number >= 1, got {min_vessels!r}")
    try:
        min_h = float(min_hours)
        radius = float(radius_km)
    except (TypeError, ValueError):
        raise SeawatchError(
            f"min_hours and radius_km must be numbers, got {min_hours!r} and {radius_km!r}"
        ) from None
    if not (min_h > 0.0 and np.isfinite(min_h)):
        raise SeawatchError(f"min_hours must be > 0, got {min_hours!r}")
    if not (0.0 < radius <= 50.0):
        raise SeawatchError(f"radius_km must be > 0 and at most 50 km, got {radius_km!r}")

    return anchorages_from_stays(anchorage_stays(positions, min_h, radius), min_vessels, radius)


def anchorage_stays(positions: pl.DataFrame, min_hours: float = 12.0, radius_km: float = 0.5) -> pl.DataFrame:
    """The per-vessel half of :func:`infer_anchorages`: every stay (``mmsi, lat, lon``: its mean
    location) of the vessels in ``positions``, in a canonical order. Stays of disjoint sets of
    vessels concatenate (the Dask engine, :mod:`seawatch.scale`, finds them per partition)."""
    min_h, radius = float(min_hours), float(radius_km)
    has_sog = "sog_kn" in positions.columns
    pts = (
        positions.lazy()
        .select(
            pl.col("mmsi").cast(pl.Int64),
            pl.col("ts").dt.epoch("us").alias("t_us"),
            pl.col("lat").cast(pl.Float64),
            pl.col("lon").cast(pl.Float64),
            (pl.col("sog_kn").cast(pl.Float64) > STATIONARY_MAX_SOG_KN).fill_null(False).alias("moving")
            if has_sog else pl.lit(False).alias("moving"),
        )
        .drop_nulls(["mmsi", "t_us", "lat", "lon"])
        .filter(pl.col("lat").is_between(-90.0, 90.0) & pl.col("lon").is_between(-180.0, 180.0))
        .sort("mmsi", "t_us", "lat", "lon", "moving")  # a total order: the same stays whatever the row order
        .collect()
        .lazy()  # sorted once, read by the four grids below
    )

    min_us = round(min_h * 3600e6)
    stays = []
    for shift in ((0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5)):  # four grids, not points
        row, col = _grid_cells(pl.col("lat"), pl.col("lon"), 2.0 * radius, shift)
        # a moving report gets a cell of its own (-1, -1) and never joins a stay
        row = pl.when(pl.col("moving")).then(pl.lit(-1, pl.Int64)).otherwise(row)
        col = pl.when(pl.col("moving")).then(pl.lit(-1, pl.Int64)).otherwise(col)
        run = (
            (pl.col("mmsi") != pl.col("mmsi").shift(1))
            | (pl.col("r") != pl.col("r").shift(1))
            | (pl.col("c") != pl.col("c").shift(1))
            | pl.col("moving")
        ).fill_null(True).cum_sum()
        stays.append(
            pts.with_columns(row.alias("r"), col.alias("c"))
            .with_columns(run.alias("run"))
            # a run that starts with a moving report is no stay: drop its rows before grouping
            # (most reports are moving ones, each a run of its own; a moving report always
            # starts a run, so the runs left hold stationary reports only)
            .filter(~pl.when(pl.col("run") != pl.col("run").shift(1).fill_null(-1)).then(pl.col("moving"))
                    .forward_fill())
            .group_by("run")
            .agg(
                pl.col("mmsi").first(),
                (pl.col("t_us").max() - pl.col("t_us").min()).alias("dur_us"),
                pl.col("lat").mean(),
                pl.col("lon").mean(),
            )
            .filter(pl.col("dur_us") >= min_us)
            .select("mmsi", "lat", "lon")
        )

    return pl.concat(stays).collect().sort("mmsi", "lat", "lon")


def anchorages_from_stays(stays: pl.DataFrame, min_vessels: int = 20, radius_km: float = 0.5) -> pl.DataFrame:
    """The cross-vessel half of :func:`infer_anchorages`: the cells of side ``radius_km`` where
    at least ``min_vessels`` distinct vessels stayed (``stays`` from :func:`anchorage_stays`)."""
    radius = float(radius_km)
    orow, ocol = _grid_cells(pl.col("lat"), pl.col("lon"), radius, (0.0, 0.0))
    cells = (
        stays.sort("mmsi", "lat", "lon").lazy()
        .with_columns(orow.alias("r"), ocol.alias("c"))
        .group_by("r", "c")
        .agg(
            pl.col("mmsi").n_unique().alias("n_vessels"),
            pl.col("lat").mean(),
            pl.col("lon").mean(),
        )
        .filter(pl.col("n_vessels") >= min_vessels)
        .sort("r", "c")
        .collect()
    )
    if cells.height == 0:
        return schema.empty("ports")
    hemi_lat = pl.when(pl.col("lat") < 0).then(pl.lit("S")).otherwise(pl.lit("N"))
    hemi_lon = pl.when(pl.col("lon") < 0).then(pl.lit("W")).otherwise(pl.lit("E"))
    out = cells.select(
        pl.format("anch-r{}c{}", pl.col("r"), pl.col("c")).alias("port_id"),
        pl.format(
            "anchorage {}{} {}{}",
            pl.col("lat").abs().round(3), hemi_lat, pl.col("lon").abs().round(3), hemi_lon,
        ).alias("name"),
        pl.lit("anchorage").alias("kind"),
        pl.lit(None, pl.Utf8).alias("country_code"),
        "lat",
        "lon",
        pl.lit("inferred").alias("source"),
    )
    return schema.conform("ports", out)
