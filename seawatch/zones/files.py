"""Reading user / official zone boundaries: GeoJSON, KML / KMZ, and (with pyogrio) GeoPackage,
Shapefile and anything else GDAL reads. Used by :func:`seawatch.zones.import_zones`."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import shapely

from ..errors import SeawatchError

NAME_KEYS = ("name", "Name", "NAME", "GEONAME", "geoname", "title", "id")
_GEOJSON_CRS_OK = ("CRS84", "4326", "OGC:1.3:CRS84")


def read_polygons(path: Path) -> list[tuple[str | None, shapely.Geometry]]:
    """(feature name or None, polygonal geometry in lon/lat) for every polygon feature of a file."""
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        feats = _geojson(path)
    elif suffix in (".kml", ".kmz"):
        feats = _kml(path)
    elif suffix in (".gpkg", ".shp", ".fgb", ".gml", ".gdb", ".zip"):
        feats = _ogr(path)
    else:
        raise SeawatchError(
            f"{path}: unsupported zone file type {suffix or '(none)'!r}: use .geojson/.json, .kml/.kmz, "
            "or .gpkg/.shp (those need pyogrio)"
        )
    out = []
    for name, g in feats:
        if g is None or g.is_empty:
            continue
        g = shapely.make_valid(g)
        parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
        if not parts:
            # a GeometryCollection from make_valid may nest its polygons
            parts = [q for p in shapely.get_parts(g) for q in shapely.get_parts(p) if q.geom_type == "Polygon"]
        if parts:
            out.append((name, shapely.union_all(parts)))
    if not out:
        raise SeawatchError(f"{path}: no polygon found; a zone file needs Polygon or MultiPolygon features")
    return out


def _feature_name(props: dict | None) -> str | None:
    for k in NAME_KEYS:
        v = (props or {}).get(k)
        if v not in (None, ""):
            return str(v)
    return None


def _close_rings(obj):
    """Close unclosed GeoJSON rings in place (some published files forget the last point)."""
    t = obj.get("type")
    if t == "Polygon":
        obj["coordinates"] = [r + [r[0]] if r and r[0] != r[-1] else r for r in obj["coordinates"]]
    elif t == "MultiPolygon":
        obj["coordinates"] = [[r + [r[0]] if r and r[0] != r[-1] else r for r in p] for p in obj["coordinates"]]
    elif t == "GeometryCollection":
        for g in obj.get("geometries", []):
            _close_rings(g)
    return obj


def _geojson(path: Path):
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SeawatchError(f"{path}: not readable as GeoJSON ({e}); export it as GeoJSON (RFC 7946) and retry") from None
    crs = ((data.get("crs") or {}).get("properties") or {}).get("name", "") if isinstance(data, dict) else ""
    if crs and not any(c in crs for c in _GEOJSON_CRS_OK):
        raise SeawatchError(f"{path}: coordinates are in {crs}; reproject to WGS84 lon/lat (EPSG:4326) first")
    if not isinstance(data, dict) or "type" not in data:
        raise SeawatchError(f"{path}: not a GeoJSON object; expected a FeatureCollection, Feature or geometry")
    if data["type"] == "FeatureCollection":
        feats = data.get("features") or []
    elif data["type"] == "Feature":
        feats = [data]
    else:
        feats = [{"type": "Feature", "properties": {}, "geometry": data}]
    out = []
    for f in feats:
        geom = f.get("geometry")
        if not geom:
            continue
        try:
            g = shapely.from_geojson(json.dumps(_close_rings(geom)))
        except shapely.errors.GEOSException as e:
            raise SeawatchError(f"{path}: a geometry cannot be read ({e}); fix or re-export the file") from None
        out.append((_feature_name(f.get("properties")), g))
    return out


def _strip_ns(root):
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


def _kml_coords(text: str | None):
    pts = []
    for tok in (text or "").split():
        v = tok.split(",")
        if len(v) >= 2:
            pts.append((float(v[0]), float(v[1])))
    if pts and pts[0] != pts[-1]:
        pts.append(pts[0])
    return pts


def _kml_polygon(el):
    outer = el.find("outerBoundaryIs/LinearRing/coordinates")
    shell = _kml_coords(outer.text if outer is not None else None)
    holes = [_kml_coords(c.text) for c in el.findall("innerBoundaryIs/LinearRing/coordinates")]
    if len(shell) < 4:
        return None
    return shapely.Polygon(shell, [h for h in holes if len(h) >= 4])


def _kml(path: Path):
    try:
        if path.suffix.lower() == ".kmz":
            with zipfile.ZipFile(path) as z:
                name = next((n for n in z.namelist() if n.lower().endswith(".kml")), None)
                if name is None:
                    raise SeawatchError(f"{path}: the KMZ holds no .kml file")
                raw = z.read(name)
        else:
            raw = path.read_bytes()
        root = _strip_ns(ET.fromstring(raw))
    except SeawatchError:
        raise
    except (OSError, ET.ParseError, zipfile.BadZipFile, ValueError) as e:
        raise SeawatchError(f"{path}: not readable as KML ({e}); export it again as KML 2.2") from None
    out = []
    try:
        for pm in root.iter("Placemark"):
            nm = pm.findtext("name")
            polys = [p for p in (_kml_polygon(el) for el in pm.iter("Polygon")) if p is not None]
            if polys:
                out.append((nm.strip() if nm and nm.strip() else None, shapely.union_all(polys)))
    except ValueError as e:
        raise SeawatchError(f"{path}: bad KML coordinates ({e}); they must be 'lon,lat[,alt]' tuples") from None
    return out


def _ogr(path: Path):
    try:
        import pyogrio.raw
    except ImportError:
        raise SeawatchError(f"reading {path.suffix} files needs pyogrio: pip install pyogrio") from None
    try:
        meta, _fids, geoms, fields = pyogrio.raw.read(path)
    except Exception as e:  # noqa: BLE001 - pyogrio / GDAL raise many types
        raise SeawatchError(f"{path}: GDAL cannot read it ({e}); check the file, or export it as GeoJSON") from None
    crs = meta.get("crs")
    if crs and not re.search(r"(4326|CRS84)", str(crs)):
        raise SeawatchError(f"{path}: coordinates are in {crs}; reproject to WGS84 lon/lat (EPSG:4326) first")
    cols = list(meta.get("fields", []))
    out = []
    for i, wkb in enumerate(geoms):
        props = {c: fields[j][i] for j, c in enumerate(cols)}
        out.append((_feature_name(props), shapely.from_wkb(wkb) if wkb is not None else None))
    return out
