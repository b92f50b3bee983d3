"""Geodesy and the zone engine behind :mod:`seawatch.zones` (method and accuracy: see there).

Everything here is vectorised numpy / scipy / shapely 2; there is no Python loop per point.

- Distances are great-circle on a sphere of radius 6371.0088 km, in nautical miles (1852 m).
  Points are unit vectors (x, y, z); a distance to a polyline is the distance to the nearest
  point of its segments (a segment's chord, re-projected onto the sphere).
- :class:`Engine` holds the built-in data (``data/zones.npz``, made by ``tools/build_zones.py``)
  and answers :meth:`Engine.classify`: on land or not, distance to shore, and a *zone code*.
  ``Engine.exact`` is the reference computation (polygon tests + KD-trees); ``Engine.classify``
  gives the same answers faster: a precomputed 1/32-degree grid gives the zone of cells
  certified to lie in one zone, cells crossed by a land or territorial-sea boundary have
  1/256-degree sub-cells (land / a territorial sea / open sea / crossed), and the distance to
  shore in cells at least FAR_NM from land is measured against the coast segments nearest to
  the cell's corners (see ``tools/build_zones.py``). Only what is left takes the exact path.
- Track data puts many points in few places (anchored and moored vessels, sea lanes): in grid
  cells holding more points than the 1/256-degree sub-cell corners they touch, the distances
  (and, outside the territorial seas, the baseline distances) are measured once per corner and
  each point gets its distance from its sub-cell's four corners, by the distance function's
  1-Lipschitz bounds: answered to within FIELD_TOL_NM (0.05 nm) or not at all (then per point).
  See :meth:`Engine._field`. Crossed sub-cells' polygon tests run against the land and
  territorial seas clipped to the point's 1-degree tile (:meth:`Engine.tile`), so a test
  crosses only the tile's edges.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

import numpy as np
import shapely
from scipy.spatial import cKDTree

from ..tracks import _offsets

EARTH_RADIUS_KM = 6371.0088
NM_M = 1852.0
EARTH_RADIUS_NM = EARTH_RADIUS_KM * 1000.0 / NM_M
COORD_SCALE = 1e5  # stored coordinates are integers of 1e-5 degree (about 1.1 m)

TS_NM = 12.0  # breadth of the territorial sea assumed behind a territorial-sea limit
CZ_NM = 24.0  # contiguous zone: up to 24 nm from the baseline
EEZ_NM = 200.0  # EEZ: up to 200 nm from the baseline
DENSIFY_NM = 0.25  # spacing of the KD-tree vertices along coastlines and TS limits
FAR_NM = 2.0  # grid cells whose corners are all this far from land use the corner segments
CHUNK = 1 << 17  # points per chunk, to bound temporary memory
SEG_CHUNK = 1 << 16  # points per chunk in the segment distances (temporaries of (n, 3-4) floats)
FIELD_TOL_NM = 0.05  # the sub-cell corner field answers where it pins the distance to +- this
FIELD_DENSITY = 1.5  # ... in grid cells holding at least this many points per corner it needs

# zone codes: 0 unknown (outside coverage or an unassigned coast wins), 1 land, 2 high seas,
# then 3 per territory: territorial sea, contiguous zone, EEZ. MIXED only appears in the grid.
UNKNOWN, LAND, HIGH_SEAS = 0, 1, 2
MIXED = 65535  # grid: compute exactly (in a sub-cell), or look at the sub-grid (in a cell)
MIXED_SEA = 65534  # grid: at sea outside any territorial sea; the zone depends on distances
SUB = 8  # cells crossed by a land or TS boundary have SUB x SUB sub-cells
KIND_TS, KIND_CZ, KIND_EEZ = 0, 1, 2


def ts_code(t):
    return 3 + 3 * np.asarray(t) + KIND_TS


def cz_code(t):
    return 3 + 3 * np.asarray(t) + KIND_CZ


def eez_code(t):
    return 3 + 3 * np.asarray(t) + KIND_EEZ


# -- spherical helpers -------------------------------------------------------------------------


def to_xyz(lat, lon) -> np.ndarray:
    """Unit vectors (n, 3) of WGS84 lat/lon in degrees (treated as spherical)."""
    la = np.radians(np.asarray(lat, dtype=np.float64))
    lo = np.radians(np.asarray(lon, dtype=np.float64))
    c = np.cos(la)
    return np.stack([c * np.cos(lo), c * np.sin(lo), np.sin(la)], axis=-1)


def chord_to_nm(c) -> np.ndarray:
    return 2.0 * EARTH_RADIUS_NM * np.arcsin(np.clip(np.asarray(c) / 2.0, 0.0, 1.0))


def nm_to_chord(d) -> np.ndarray:
    return 2.0 * np.sin(np.minimum(np.asarray(d, dtype=np.float64), np.pi * EARTH_RADIUS_NM) / (2.0 * EARTH_RADIUS_NM))


def haversine_nm(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in nautical miles."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_NM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def destination(lat, lon, bearing_deg, dist_nm):
    """The point ``dist_nm`` from (lat, lon) along the initial great-circle bearing."""
    p1, l1 = np.radians(lat), np.radians(lon)
    b, d = np.radians(bearing_deg), np.asarray(dist_nm) / EARTH_RADIUS_NM
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(b))
    l2 = l1 + np.arctan2(np.sin(b) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), (np.degrees(l2) + 540.0) % 360.0 - 180.0


def aeqd_forward(lat0, lon0, lat, lon):
    """Spherical azimuthal equidistant projection centred on (lat0, lon0); x, y in nm.

    Distances from the centre are exact great-circle distances.
    """
    p0, l0 = np.radians(lat0), np.radians(lon0)
    p, dl = np.radians(np.asarray(lat, dtype=float)), np.radians(np.asarray(lon, dtype=float)) - l0
    cosc = np.sin(p0) * np.sin(p) + np.cos(p0) * np.cos(p) * np.cos(dl)
    c = np.arccos(np.clip(cosc, -1, 1))
    k = np.where(c > 1e-12, c / np.where(np.sin(c) == 0, 1, np.sin(c)), 1.0)
    x = k * np.cos(p) * np.sin(dl)
    y = k * (np.cos(p0) * np.sin(p) - np.sin(p0) * np.cos(p) * np.cos(dl))
    return x * EARTH_RADIUS_NM, y * EARTH_RADIUS_NM


def aeqd_inverse(lat0, lon0, x, y):
    p0, l0 = np.radians(lat0), np.radians(lon0)
    x, y = np.asarray(x, dtype=float) / EARTH_RADIUS_NM, np.asarray(y, dtype=float) / EARTH_RADIUS_NM
    rho = np.hypot(x, y)
    c = rho
    sc, cc = np.sin(c), np.cos(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.arcsin(np.clip(cc * np.sin(p0) + np.where(rho > 0, y * sc * np.cos(p0) / np.where(rho > 0, rho, 1), 0), -1, 1))
        lam = l0 + np.arctan2(x * sc, rho * np.cos(p0) * cc - y * np.sin(p0) * sc)
    lon = (np.degrees(lam) + 540.0) % 360.0 - 180.0
    return np.degrees(p), lon


def project_geom(geom, lat0, lon0, inverse=False):
    """Apply the AEQD projection (or its inverse) to every coordinate of a shapely geometry."""

    def f(xy):
        if inverse:
            la, lo = aeqd_inverse(lat0, lon0, xy[:, 0], xy[:, 1])
            return np.column_stack([lo, la])
        x, y = aeqd_forward(lat0, lon0, xy[:, 1], xy[:, 0])
        return np.column_stack([x, y])

    return shapely.transform(geom, f)


def geodesic_buffer(geom, dist_nm, lat0=None, lon0=None, quad_segs=32):
    """Buffer a (small, regional) lon/lat geometry by ``dist_nm`` in a local AEQD projection."""
    if lat0 is None:
        c = shapely.centroid(geom)
        lat0, lon0 = c.y, c.x
    g = project_geom(geom, lat0, lon0)
    b = shapely.buffer(g, dist_nm, quad_segs=quad_segs)
    b = shapely.segmentize(b, max(dist_nm / 20.0, 0.05))
    return shapely.make_valid(project_geom(b, lat0, lon0, inverse=True))


def seg_dist_nm(P, A, B) -> np.ndarray:
    """Great-circle distance from points P to the arcs AB (unit vectors, shapes broadcast)."""
    AB = B - A
    AP = P - A
    den = np.einsum("...i,...i->...", AB, AB)
    num = np.einsum("...i,...i->...", AP, AB)
    t = np.clip(np.divide(num, den, out=np.zeros_like(num), where=den > 0), 0.0, 1.0)
    Q = A + t[..., None] * AB
    Q /= np.linalg.norm(Q, axis=-1, keepdims=True)
    return chord_to_nm(np.linalg.norm(P - Q, axis=-1))


# -- compact geometry storage ----------------------------------------------------------------


def encode_coords(xy: np.ndarray) -> np.ndarray:
    """Degrees -> int32 deltas of 1e-5 degree (first row absolute); decode with :func:`decode_coords`."""
    q = np.round(np.asarray(xy, dtype=np.float64) * COORD_SCALE).astype(np.int64)
    d = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return d.astype(np.int32)


def decode_coords(d: np.ndarray) -> np.ndarray:
    return np.cumsum(d.astype(np.int64), axis=0).astype(np.float64) / COORD_SCALE


def as_multipolygon(g) -> shapely.MultiPolygon:
    """The polygonal parts of ``g`` as one MultiPolygon (possibly empty)."""
    if g is None or shapely.is_empty(g):
        return shapely.MultiPolygon()
    parts = shapely.get_parts(shapely.make_valid(g))
    parts = [p for p in parts if p.geom_type == "Polygon" and not p.is_empty]
    if not parts:
        sub = [q for p in shapely.get_parts(shapely.make_valid(g)) if p.geom_type in ("MultiPolygon", "GeometryCollection")
               for q in shapely.get_parts(p) if q.geom_type == "Polygon" and not q.is_empty]
        parts = sub
    return shapely.MultiPolygon(parts) if parts else shapely.MultiPolygon()


def encode_multipolygons(geoms, prefix: str) -> dict[str, np.ndarray]:
    """A list of polygonal geometries as ragged arrays (every one stored as a MultiPolygon)."""
    mp = [as_multipolygon(g) for g in geoms]
    _, coords, (ring, poly, geom) = shapely.to_ragged_array(mp)
    return {
        f"{prefix}_xy": encode_coords(coords),
        f"{prefix}_ring": ring.astype(np.int64),
        f"{prefix}_poly": poly.astype(np.int64),
        f"{prefix}_geom": geom.astype(np.int64),
    }


def decode_multipolygons(z, prefix: str) -> np.ndarray:
    coords = decode_coords(z[f"{prefix}_xy"])
    return shapely.from_ragged_array(
        shapely.GeometryType.MULTIPOLYGON,
        coords,
        (z[f"{prefix}_ring"], z[f"{prefix}_poly"], z[f"{prefix}_geom"]),
    )


# -- the engine --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Territory:
    code: str  # 'JPN' or 'disputed:takeshima'
    name: str  # prefix of zone names: 'JPN', 'Takeshima / Dokdo (disputed)'
    state: str | None
    claimants: str | None

    @property
    def disputed(self) -> bool:
        return self.state is None


def _segments(xy: np.ndarray, offsets: np.ndarray, closed: bool):
    """Segment start/end indices of polylines (rings when ``closed``: last vertex repeats the first)."""
    n = len(xy)
    start = np.arange(n - 1)
    line_id = np.searchsorted(offsets, start, side="right") - 1
    valid = start + 1 < offsets[line_id + 1]
    s = start[valid]
    lid = line_id[valid]
    # neighbours along the line (rings wrap around)
    first_seg_of_line = np.searchsorted(s, offsets[:-1])
    last_seg_of_line = np.searchsorted(s, offsets[1:] - 1) - 1
    idx = np.arange(len(s))
    prev = idx - 1
    nxt = idx + 1
    is_first = s == offsets[lid]
    is_last = s + 2 == offsets[lid + 1]
    if closed:
        prev = np.where(is_first, last_seg_of_line[lid], prev)
        nxt = np.where(is_last, first_seg_of_line[lid], nxt)
    else:
        prev = np.where(is_first, idx, prev)
        nxt = np.where(is_last, idx, nxt)
    return s, lid, prev, nxt


class _SegmentSet:
    """Labelled great-circle segments with a KD-tree over vertices densified to DENSIFY_NM."""

    def __init__(self, A: np.ndarray, B: np.ndarray, label: np.ndarray, prev: np.ndarray, nxt: np.ndarray):
        self.A, self.B, self.label, self.prev, self.next = A, B, label, prev, nxt
        # component arrays for the vectorised point-to-segment distance
        AB = B - A
        den = np.einsum("ij,ij->i", AB, AB)
        self._a = [np.ascontiguousarray(A[:, i]) for i in range(3)]
        self._ab = [np.ascontiguousarray(AB[:, i]) for i in range(3)]
        self._inv = np.divide(1.0, den, out=np.zeros_like(den), where=den > 0)
        seglen = chord_to_nm(np.sqrt(den))
        nsub = np.maximum(1, np.ceil(seglen / DENSIFY_NM).astype(np.int64))
        parent = np.repeat(np.arange(len(A)), nsub)
        frac = _offsets(nsub) / np.repeat(nsub, nsub)
        P = A[parent] + frac[:, None] * (B[parent] - A[parent])
        P /= np.linalg.norm(P, axis=1, keepdims=True)
        self.parent = parent
        self.tree = cKDTree(P, leafsize=24, balanced_tree=False, compact_nodes=False)

    def seg_dist(self, X: np.ndarray, cand: np.ndarray):
        """(distance nm, best segment) from each X (n,3) to the nearest of its candidates (n, m).

        Candidates < 0 are ignored (distance inf). The search compares squared distances to the
        segments' chords; the winner's distance is then measured on the sphere.
        """
        c = np.maximum(cand, 0)
        t = None
        parts = []
        for i in range(3):
            ap = X[:, i : i + 1] - self._a[i][c]
            ab = self._ab[i][c]
            parts.append((ap, ab))
            t = ap * ab if t is None else t + ap * ab
        t *= self._inv[c]
        np.clip(t, 0.0, 1.0, out=t)
        d2 = None
        for ap, ab in parts:
            r = ap - t * ab
            d2 = r * r if d2 is None else d2 + r * r
        d2[cand < 0] = np.inf
        j = np.argmin(d2, axis=1)
        rows = np.arange(len(X))
        best = cand[rows, j]
        tb = t[rows, j]
        b = np.maximum(best, 0)
        Q = self.A[b] + tb[:, None] * (self.B[b] - self.A[b])
        Q /= np.linalg.norm(Q, axis=1, keepdims=True)
        dist = chord_to_nm(np.linalg.norm(X - Q, axis=1))
        dist[best < 0] = np.inf
        return dist, best

    def nearest(self, X: np.ndarray, k: int = 1, upper_nm: float | None = None):
        """Distance (nm), segment id and label of the nearest segment to each unit vector in X.

        The KD-tree gives the nearest densified vertex; its segment and the two neighbouring
        segments are then measured exactly. Points with nothing within ``upper_nm`` get inf / -1.
        """
        n = len(X)
        dist = np.empty(n)
        best = np.empty(n, dtype=np.int64)
        if n > 4096:
            # query in spatial order (about 1/30 degree cells): the tree walk stays in cache
            key = np.floor((X[:, 2] + 1.0) * 2000.0).astype(np.int64) * 20000 + np.floor(
                (np.arctan2(X[:, 1], X[:, 0]) + np.pi) * 3000.0
            ).astype(np.int64)
            order = np.argsort(key, kind="stable")
        else:
            order = None
        for s in range(0, n, SEG_CHUNK):
            idx = slice(s, min(n, s + SEG_CHUNK)) if order is None else order[s : s + SEG_CHUNK]
            dist[idx], best[idx] = self._nearest(X[idx], k, upper_nm)
        return dist, best, np.where(best >= 0, self.label[np.maximum(best, 0)], -1)

    def _nearest(self, X, k, upper_nm):
        ub = np.inf if upper_nm is None else float(nm_to_chord(upper_nm))
        _, vi = self.tree.query(X, k=k, distance_upper_bound=ub)
        vi = np.asarray(vi).reshape(len(X), -1)
        found = vi < len(self.parent)
        seg = np.where(found, self.parent[np.minimum(vi, len(self.parent) - 1)], -1)
        cand = np.concatenate([seg, np.where(found, self.prev[np.maximum(seg, 0)], -1),
                               np.where(found, self.next[np.maximum(seg, 0)], -1)], axis=1)
        return self.seg_dist(X, cand)

    def dist_to(self, X: np.ndarray, seg: np.ndarray) -> np.ndarray:
        """Distance from X (n,3) to the nearest of candidate segments ``seg`` (n, m); -1 ignored."""
        n = len(X)
        if n <= SEG_CHUNK:
            return self.seg_dist(X, seg)[0]
        out = np.empty(n)
        for s in range(0, n, SEG_CHUNK):
            out[s : s + SEG_CHUNK] = self.seg_dist(X[s : s + SEG_CHUNK], seg[s : s + SEG_CHUNK])[0]
        return out


def _box_ok(bounds, x, y):
    return (x >= bounds[0]) & (x <= bounds[2]) & (y >= bounds[1]) & (y <= bounds[3])


class Engine:
    """The built-in zones (see module docstring). Build once with :func:`engine`."""

    def __init__(self, z, meta: dict):
        self.meta = meta
        self.region = tuple(meta["region"])  # W, S, E, N of the data
        self.coverage = tuple(meta["coverage"])  # W, S, E, N where lookups are answered
        self.territories = [Territory(t["code"], t["name"], t["state"], t["claimants"]) for t in meta["territories"]]
        self._z = {k: z[k] for k in z.files}

    # ---- geometry (built lazily; the first lookup pays about 0.3 s) ----
    @cached_property
    def land_parts(self):
        """The land polygons, one by one, and an STRtree over them."""
        z = self._z
        xy = decode_coords(z["land_xy"])
        rings = shapely.from_ragged_array(shapely.GeometryType.POLYGON, xy, (z["land_ring"], np.arange(len(z["land_ring"]))))
        return rings, shapely.STRtree(rings)

    @cached_property
    def land(self):
        g = shapely.multipolygons(self.land_parts[0].tolist())
        shapely.prepare(g)
        return g

    @cached_property
    def _tiles(self) -> dict:
        return {}

    def tile(self, k: int):
        """Land and territorial seas clipped to 1-degree tile ``k`` ((floor(lat) + 90) * 360 +
        floor(lon) + 180), prepared: (land or None, [(territory, its TS), ...]). Cached.

        A point-in-polygon test costs about the number of polygon edges crossing the point's
        latitude anywhere in the polygon: in a tile, only the tile's. The tile is clipped with
        a margin, so that no point of it lies on the clipping box."""
        got = self._tiles.get(k)
        if got is None:
            i, j = divmod(int(k), 360)
            eps = 1e-6
            x0, y0, x1, y1 = j - 180 - eps, i - 90 - eps, j - 179 + eps, i - 89 + eps
            rings, tree = self.land_parts
            near = tree.query(shapely.box(x0, y0, x1, y1))
            land = None
            if len(near):
                land = shapely.clip_by_rect(shapely.multipolygons(rings[np.sort(near)].tolist()), x0, y0, x1, y1)
                land = None if land.is_empty else land
                if land is not None:
                    shapely.prepare(land)
            seas = []
            for t, (geom, b) in enumerate(self.ts):
                if b is None or b[0] > x1 or b[2] < x0 or b[1] > y1 or b[3] < y0:
                    continue
                g = shapely.clip_by_rect(geom, x0, y0, x1, y1)
                if not g.is_empty:
                    shapely.prepare(g)
                    seas.append((t, g))
            got = self._tiles[k] = (land, seas)
        return got

    @cached_property
    def coast(self) -> _SegmentSet:
        z = self._z
        xy = decode_coords(z["land_xy"])
        off = z["land_ring"]
        s, _, prev, nxt = _segments(xy, off, closed=True)
        lab = z["land_lab"][s].astype(np.int32)
        # clip-box edges are not coast: drop segments lying along the region boundary
        W, S, E, N = self.region
        a, b = xy[s], xy[s + 1]
        eps = 1e-7
        on_edge = (
            ((np.abs(a[:, 0] - W) < eps) & (np.abs(b[:, 0] - W) < eps))
            | ((np.abs(a[:, 0] - E) < eps) & (np.abs(b[:, 0] - E) < eps))
            | ((np.abs(a[:, 1] - S) < eps) & (np.abs(b[:, 1] - S) < eps))
            | ((np.abs(a[:, 1] - N) < eps) & (np.abs(b[:, 1] - N) < eps))
        )
        keep = ~on_edge
        new_id = np.cumsum(keep) - 1
        A = to_xyz(a[:, 1], a[:, 0])[keep]
        B = to_xyz(b[:, 1], b[:, 0])[keep]
        lab = lab[keep]
        # neighbours that were dropped point back to the segment itself
        idx = np.arange(len(s))
        prev = np.where(keep[prev], new_id[prev], new_id[idx])[keep]
        nxt = np.where(keep[nxt], new_id[nxt], new_id[idx])[keep]
        # rocks absent from the land layer (see build): degenerate segments
        ixy = z["islet_xy"].astype(np.float64) / COORD_SCALE
        if len(ixy):
            I = to_xyz(ixy[:, 1], ixy[:, 0])
            base = len(A)
            A = np.vstack([A, I])
            B = np.vstack([B, I])
            lab = np.concatenate([lab, z["islet_lab"].astype(np.int32)])
            self_idx = base + np.arange(len(I))
            prev = np.concatenate([prev, self_idx])
            nxt = np.concatenate([nxt, self_idx])
        return _SegmentSet(A, B, lab, prev, nxt)

    @cached_property
    def limits(self) -> _SegmentSet:
        z = self._z
        xy = decode_coords(z["lim_xy"])
        off = z["lim_line"]
        s, lid, prev, nxt = _segments(xy, off, closed=False)
        lab = z["lim_lab"][lid].astype(np.int32)
        a, b = xy[s], xy[s + 1]
        return _SegmentSet(to_xyz(a[:, 1], a[:, 0]), to_xyz(b[:, 1], b[:, 0]), lab, prev, nxt)

    @cached_property
    def ts(self):
        """Territorial-sea polygons per territory (prepared) and their bounds."""
        g = decode_multipolygons(self._z, "ts")
        out = []
        for geom in g:
            shapely.prepare(geom)
            out.append((geom, shapely.bounds(geom) if not geom.is_empty else None))
        return out

    @cached_property
    def grid(self):
        z = self._z
        code = z["grid_code"]
        block = np.full(code.shape, -1, dtype=np.int64)
        m = code == MIXED
        block[m] = np.arange(int(m.sum()))
        return code, z["grid_seg"], block, z["grid_sub"], tuple(self.meta["grid"]["origin"]), float(self.meta["grid"]["step"])

    # ---- the computation ----
    def covered(self, lat, lon):
        W, S, E, N = self.coverage
        return np.isfinite(lat) & np.isfinite(lon) & (lat >= S) & (lat <= N) & (lon >= W) & (lon <= E)

    def edge_bound_nm(self, lat, lon):
        """A lower bound of the distance from each point to anything outside the data region."""
        W, S, E, N = self.region
        la = np.radians(lat)
        dw = np.arcsin(np.clip(np.cos(la) * np.sin(np.radians(np.clip(lon - W, 0, 90))), 0, 1))
        de = np.arcsin(np.clip(np.cos(la) * np.sin(np.radians(np.clip(E - lon, 0, 90))), 0, 1))
        dlat = np.radians(np.minimum(lat - S, N - lat))
        return np.minimum(np.minimum(dw, de), dlat) * EARTH_RADIUS_NM

    def in_ts(self, lat, lon):
        """Territory index of the territorial sea containing each point, -1 if none (land not excluded)."""
        out = np.full(len(lat), -1, dtype=np.int32)
        for t, (geom, b) in enumerate(self.ts):
            if b is None:
                continue
            m = (out < 0) & _box_ok(b, lon, lat)
            if m.any():
                idx = np.nonzero(m)[0]
                hit = shapely.contains_xy(geom, lon[idx], lat[idx])
                out[idx[hit]] = t
        return out

    def baseline(self, X, d_coast, lab_coast):
        """Distance to the nearest baseline and its territory, for points outside any TS.

        min(distance to the coast, distance to a territorial-sea limit + 12 nm): the limit term
        carries straight baselines (OSM's limit is drawn 12 nm from them), the coast term the
        normal (low-water line) baseline and the 3 nm limits of the straits.
        """
        dist = np.array(d_coast, dtype=np.float64)
        lab = np.array(lab_coast)
        far = np.nonzero(dist > TS_NM)[0]  # nearer to the coast than 12 nm: the coast term wins
        if len(far):
            d_lim, _, lab_lim = self.limits.nearest(X[far])
            via = np.nonzero(d_lim + TS_NM < dist[far])[0]
            dist[far[via]] = d_lim[via] + TS_NM
            lab[far[via]] = lab_lim[via]
        return dist, lab

    def exact(self, lat, lon):
        """Reference classification: (on_land, dist_to_shore_nm, zone code) for covered points."""
        n = len(lat)
        X = to_xyz(lat, lon)
        on_land = shapely.contains_xy(self.land, lon, lat)
        code = np.full(n, LAND, dtype=np.int32)
        dist = np.zeros(n)
        sea = np.nonzero(~on_land)[0]
        if len(sea):
            d_coast, _, lab_coast = self.coast.nearest(X[sea])
            dist[sea] = d_coast
            t = self.in_ts(lat[sea], lon[sea])
            c = np.where(t >= 0, ts_code(np.maximum(t, 0)), UNKNOWN)
            out = np.nonzero(t < 0)[0]
            if len(out):
                b, lab = self.baseline(X[sea[out]], d_coast[out], lab_coast[out])
                co = np.where(b <= CZ_NM, cz_code(np.maximum(lab, 0)), np.where(b <= EEZ_NM, eez_code(np.maximum(lab, 0)), HIGH_SEAS))
                co = np.where((lab < 0) & (b <= EEZ_NM), UNKNOWN, co)
                c[out] = co
            code[sea] = c
        return on_land, dist, code

    def classify(self, lat, lon):
        """(on_land, dist_to_shore_nm, code) for arrays of lat/lon; NaN / UNKNOWN outside coverage."""
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        n = len(lat)
        if n and not (np.nanmin(lon, initial=0.0) >= -180.0 and np.nanmax(lon, initial=0.0) < 180.0):
            with np.errstate(invalid="ignore"):
                lon = np.where(np.isfinite(lon), (lon + 180.0) % 360.0 - 180.0, lon)
        cov = np.nonzero(self.covered(lat, lon))[0]
        if not len(cov):
            return np.zeros(n, dtype=bool), np.full(n, np.nan), np.zeros(n, dtype=np.int32)
        if len(cov) == n:
            la, lo = lat, lon
        else:
            la, lo = lat[cov], lon[cov]
        m = len(cov)
        gcode, gseg = self.grid[0], self.grid[1]
        nx = gcode.shape[1]
        c = np.empty(m, dtype=np.int32)
        cell = np.empty(m, dtype=np.int32)  # grid cell
        sub = np.empty(m, dtype=np.int8)  # sub-cell, as (row, column) of its first corner in SUB + 1
        ty = np.empty(m, dtype=np.float32)  # position in the sub-cell, 0-1
        tx = np.empty(m, dtype=np.float32)
        for s in range(0, m, CHUNK):
            sl = slice(s, s + CHUNK)
            ci, cj, si, sj, ty[sl], tx[sl], c[sl] = self._locate(la[sl], lo[sl])
            cell[sl] = ci * nx + cj
            sub[sl] = si * (SUB + 1) + sj
            # crossed again at 1/256 degree: the polygon tests of the reference computation
            ex = np.nonzero(c[sl] == MIXED)[0]
            if len(ex):
                c[s + ex] = self._land_or_ts(la[sl][ex], lo[sl][ex])
        land = c == LAND
        d = np.full(m, np.nan)
        d[land] = 0.0
        # at sea. MIXED_SEA: outside any TS, the zone depends on the distances; else the zone is
        # known and only the distance to shore is left. First from the sub-cell corners ...
        self._field(c, cell, sub, ty, tx, d)
        del sub, ty, tx
        # ... then point by point
        op = np.nonzero(c == MIXED_SEA)[0]
        for s in range(0, len(op), CHUNK):
            k = op[s : s + CHUNK]
            X = to_xyz(la[k], lo[k])
            d_coast, _, lab_coast = self.coast.nearest(X)
            b, lab = self.baseline(X, d_coast, lab_coast)
            c[k] = self._zone_code(b, lab)
            d[k] = d_coast
        rest = np.nonzero(np.isnan(d))[0]
        for s in range(0, len(rest), CHUNK):
            k = rest[s : s + CHUNK]
            X = to_xyz(la[k], lo[k])
            i, j = np.divmod(cell[k], nx)
            corners = np.stack([gseg[i, j], gseg[i + 1, j], gseg[i, j + 1], gseg[i + 1, j + 1]], axis=1)
            g = gcode[i, j]
            far = (g != MIXED) & (g != MIXED_SEA) & (corners >= 0).all(axis=1)
            if far.any():
                d[k[far]] = self.coast.dist_to(X[far], corners[far])
            if (~far).any():
                d[k[~far]] = self.coast.nearest(X[~far])[0]
        far = np.nonzero(d > EEZ_NM)[0]  # the data's edge is >= 200 nm from any covered point
        if len(far):
            d[far] = np.where(d[far] <= self.edge_bound_nm(la[far], lo[far]), d[far], np.nan)
        if m == n:
            return land, d, c
        on_land = np.zeros(n, dtype=bool)
        dist = np.full(n, np.nan)
        code = np.zeros(n, dtype=np.int32)
        on_land[cov] = land
        dist[cov] = d
        code[cov] = c
        return on_land, dist, code

    def _locate(self, la, lo):
        """Grid cell (row, column), sub-cell (row, column), position in the sub-cell (0-1, 0-1,
        float32) and the grid's code (resolved in the sub-grid) of covered points."""
        gcode, _, gblock, gsub, (gx0, gy0), step = self.grid
        ny, nx = gcode.shape
        fy = (la - gy0) / step
        fx = (lo - gx0) / step
        ci = np.clip(fy.astype(np.int64), 0, ny - 1)
        cj = np.clip(fx.astype(np.int64), 0, nx - 1)
        fy -= ci
        fy *= SUB
        fx -= cj
        fx *= SUB
        si = np.clip(fy.astype(np.int64), 0, SUB - 1)
        sj = np.clip(fx.astype(np.int64), 0, SUB - 1)
        fy -= si
        fx -= sj
        c = gcode[ci, cj].astype(np.int32)
        k = np.nonzero(c == MIXED)[0]
        if len(k) and len(gsub):
            c[k] = gsub[gblock[ci[k], cj[k]], si[k], sj[k]]
        return ci, cj, si, sj, fy.astype(np.float32), fx.astype(np.float32), c

    @staticmethod
    def _zone_code(b, lab):
        """Zone code at sea outside any TS, from the baseline distance and its territory."""
        lab = np.asarray(lab)
        co = np.where(b <= CZ_NM, cz_code(np.maximum(lab, 0)), np.where(b <= EEZ_NM, eez_code(np.maximum(lab, 0)), HIGH_SEAS))
        return np.where((lab < 0) & (b <= EEZ_NM), UNKNOWN, co).astype(np.int32)

    def _land_or_ts(self, lat, lon):
        """LAND, a territorial-sea code or MIXED_SEA: the polygon tests of :meth:`exact` (land,
        then the first territory whose TS holds the point), 1-degree tile by tile."""
        out = np.full(len(lat), MIXED_SEA, dtype=np.int32)
        key = (np.floor(lat).astype(np.int64) + 90) * 360 + (np.floor(lon).astype(np.int64) + 180)
        order = np.argsort(key, kind="stable")
        key = key[order]
        starts = np.flatnonzero(np.diff(key)) + 1
        for a, b in zip(np.r_[0, starts], np.r_[starts, len(key)]):
            land, seas = self.tile(key[a])
            p = order[a:b]
            if land is not None:
                on = shapely.contains_xy(land, lon[p], lat[p])
                out[p[on]] = LAND
                p = p[~on]
            for t, g in seas:
                if not len(p):
                    break
                hit = shapely.contains_xy(g, lon[p], lat[p])
                out[p[hit]] = ts_code(t)
                p = p[~hit]
        return out

    def _field(self, c, cell, sub, ty, tx, d):
        """Distance to shore (and, for points outside any TS, the zone) from the sub-cell corners.

        Fills ``d`` (and, where it answers for a MIXED_SEA point, ``c``) of points at sea, in place;
        ``cell``, ``sub``, ``ty``, ``tx``: the points' grid cell, sub-cell and place in it (_locate).

        The distance to shore is 1-Lipschitz: a corner at distance r from a point bounds the
        point's distance to [d_corner - r, d_corner + r]. The four corners of the point's
        1/256-degree sub-cell give an interval [L, U]; where U - L <= 2 FIELD_TOL_NM the midpoint
        is within FIELD_TOL_NM of the distance the corners were measured against (everywhere but
        near a ridge of the distance function - equidistant from two coasts - or a concave bit of
        coast). Points at sea outside any TS (MIXED_SEA) need the baseline distance b too, also
        1-Lipschitz: their zone is taken from the corners when all four have the same baseline
        territory and the interval of b is on one side of 24 and 200 nm (a point can only be
        nearer another territory than all four corners are if a median line bulges into the
        sub-cell between two corners: within metres of the line, at the 3+ nm from any baseline
        such points lie).

        Used in grid cells holding at least FIELD_DENSITY points per sub-cell corner they need
        (real tracks: anchored and moored vessels, sea lanes), where measuring the corners once is
        cheaper than measuring every point. Corners are measured as points are: against the
        cell's corner segments in far cells, else with the KD-trees.
        """
        gcode, gseg, _, _, (gx0, gy0), step = self.grid
        ny, nx = gcode.shape
        sea = np.flatnonzero(c != LAND).astype(np.int32)
        if len(sea) < 64:
            return
        S1 = SUB + 1
        M = S1 * S1  # sub-cell corners per grid cell
        # grid cells holding points -> blocks of M corners
        cs = cell[sea]
        occ = np.zeros(ny * nx, dtype=bool)
        occ[cs] = True
        cells = np.flatnonzero(occ)
        bid = np.empty(ny * nx, dtype=np.int32)
        bid[cells] = np.arange(len(cells))
        b = bid[cs]
        del cs, bid, occ
        npts = np.bincount(b, minlength=len(cells))
        s = b * M  # int32: blocks * M < 2**31
        s += sub[sea]  # each point's sub-cell, by its first corner
        mark = np.zeros((len(cells), M), dtype=bool)
        flat = mark.reshape(-1)
        for o in (0, 1, S1, S1 + 1):
            flat[s + o] = True
        dense = npts >= FIELD_DENSITY * mark.sum(axis=1)
        if not dense.any():
            return
        mark[~dense] = False
        keep = dense[b]
        del b
        sea, s = sea[keep], s[keep]
        base = c[sea] == MIXED_SEA
        bmark = np.zeros(len(flat), dtype=bool)
        for o in (0, 1, S1, S1 + 1):
            bmark[s[base] + o] = True
        # the corners' distances (and baseline distances and territories where needed)
        slots = np.flatnonzero(flat)
        sb = slots // M
        r = slots - sb * M
        cy, cx = np.divmod(cells[sb], nx)
        X = to_xyz(gy0 + (cy + (r // S1) / SUB) * step, gx0 + (cx + (r % S1) / SUB) * step)
        corners = np.stack([gseg[cy, cx], gseg[cy + 1, cx], gseg[cy, cx + 1], gseg[cy + 1, cx + 1]], axis=1)
        g = gcode[cy, cx]
        far = (g != MIXED) & (g != MIXED_SEA) & (corners >= 0).all(axis=1) & ~bmark[slots]
        dv = np.empty(len(slots))
        lv = np.full(len(slots), -1, dtype=np.int32)
        if far.any():
            dv[far] = self.coast.dist_to(X[far], corners[far])
        # away from far cells a corner's values do not depend on its cell: measure each once
        # (neighbouring cells share their edges' corners)
        corner = (cy * SUB + r // S1) * (nx * SUB + 1) + (cx * SUB + r % S1)
        kd = np.nonzero(~far)[0]
        if len(kd):
            _, first, again = np.unique(corner[kd], return_index=True, return_inverse=True)
            u = kd[first]
            du, _, lu = self.coast.nearest(X[u])
            dv[kd], lv[kd] = du[again], lu[again]
        del corners, g, far, kd
        # float32 from here: distances to 1e-4 nm, far below FIELD_TOL_NM
        f4 = np.float32
        dval = np.full(len(flat), np.nan, dtype=f4)  # NaN: a corner not measured, never ok
        dval[slots] = dv
        bsl = np.nonzero(bmark[slots])[0]
        if len(bsl):
            _, first, again = np.unique(corner[bsl], return_index=True, return_inverse=True)
            u = bsl[first]
            bv, blab = self.baseline(X[u], dv[u], lv[u])
            bval = np.full(len(flat), np.nan, dtype=f4)
            bval[slots[bsl]] = bv[again]
            labs = np.full(len(flat), -2, dtype=np.int32)
            labs[slots[bsl]] = blab[again]
        del X, dv, lv, slots, bmark, mark, corner
        # the points' offsets (nm) from their sub-cell's corners: north-south exact, east-west at
        # the grid row's latitude nearest the equator (over-estimates the distance r: safe)
        h = step / SUB * np.pi / 180.0 * EARTH_RADIUS_NM * (1.0 + 1e-4)
        lat0 = gy0 + np.arange(ny) * step
        lat1 = lat0 + step
        slat = np.where(lat0 * lat1 <= 0, 0.0, np.minimum(np.abs(lat0), np.abs(lat1)))
        hrow = (h * np.cos(np.radians(slat))).astype(f4)
        for s0 in range(0, len(sea), CHUNK):
            k = sea[s0 : s0 + CHUNK]
            sk = s[s0 : s0 + CHUNK]
            hx = hrow[cell[k] // nx]
            py = ty[k]
            py *= f4(h)
            qy = f4(h) - py
            px = tx[k]
            px *= hx
            qx = hx - px
            py *= py
            qy *= qy
            px *= px
            qx *= qx
            rad = []
            dq = []
            lo_b = np.full(len(k), -np.inf, dtype=f4)
            hi_b = np.full(len(k), np.inf, dtype=f4)
            for o, ry, rx in ((0, py, px), (1, py, qx), (S1, qy, px), (S1 + 1, qy, qx)):
                rk = ry + rx
                np.sqrt(rk, out=rk)
                rk += f4(1e-4)  # float32 rounding of the corner values (< 1e-5 nm up to 256 nm)
                rad.append(rk)
                dk = dval[sk + o]
                dq.append(dk)
                np.maximum(lo_b, dk - rk, out=lo_b)
                np.minimum(hi_b, dk + rk, out=hi_b)
            # the distance lies in [lo_b, hi_b]; where that is at most 2 FIELD_TOL_NM wide, any
            # value in [hi_b - TOL, lo_b + TOL] is within TOL of it: the bilinear interpolation
            # of the corners (smooth away from ridges, so usually much nearer), clipped there
            ok = hi_b - lo_b <= f4(2.0 * FIELD_TOL_NM)
            wx = tx[k]
            top = dq[1] - dq[0]
            top *= wx
            top += dq[0]
            bot = dq[3] - dq[2]
            bot *= wx
            bot += dq[2]
            bot -= top
            bot *= ty[k]
            bot += top
            hi_b -= f4(FIELD_TOL_NM)
            lo_b += f4(FIELD_TOL_NM)
            np.clip(bot, hi_b, lo_b, out=lo_b)
            # zones of the MIXED_SEA points from the corners' baseline distances and territories
            bu = np.nonzero(base[s0 : s0 + CHUNK] & ok)[0]
            if len(bu):
                sb_ = sk[bu]
                lab = labs[sb_]
                same = np.ones(len(bu), dtype=bool)
                bl = np.full(len(bu), -np.inf, dtype=f4)
                bh = np.full(len(bu), np.inf, dtype=f4)
                for j, o in enumerate((0, 1, S1, S1 + 1)):
                    same &= labs[sb_ + o] == lab
                    rk = rad[j][bu]
                    bk = bval[sb_ + o]
                    np.maximum(bl, bk - rk, out=bl)
                    np.minimum(bh, bk + rk, out=bh)
                # b <= 24 / <= 200 nm are closed intervals: the same zone at both ends holds between
                zlo = self._zone_code(bl, lab)
                good = same & (zlo == self._zone_code(bh, lab))
                c[k[bu[good]]] = zlo[good]
            ok &= ~base[s0 : s0 + CHUNK] | (c[k] != MIXED_SEA)
            d[k[ok]] = lo_b[ok]

    # ---- zone attributes by code ----
    @cached_property
    def code_attrs(self) -> list[tuple[str | None, str | None, str | None, str | None]]:
        """(zone_name, zone_kind, zone_state, claimants) for every code."""
        out: list = [(None, None, None, None), (None, None, None, None), ("high seas", "high_seas", None, None)]
        for t in self.territories:
            for label, kind in (("territorial sea", "territorial_sea"), ("contiguous zone", "contiguous_zone"), ("EEZ", "eez")):
                out.append((f"{t.name} {label}", "disputed" if t.disputed else kind, t.state, t.claimants))
        return out


@lru_cache(maxsize=1)
def engine() -> Engine:
    """The built-in zone engine (data loaded once per process; geometry built on first use)."""
    base = resources.files("seawatch.zones") / "data"
    with resources.as_file(base / "zones.json") as p:
        meta = json.loads(p.read_text())
    with resources.as_file(base / "zones.npz") as p, np.load(p) as z:
        eng = Engine(z, meta)
    return eng
