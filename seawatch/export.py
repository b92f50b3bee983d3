"""Geographic export formats: GeoJSON, GeoParquet and KML, for any table with a place.

What a row becomes:

- tables with ``lat``/``lon`` (positions, tracks, ports, events): a Point per row;
- ``segments``: a LineString per segment, its vertices taken from the tracks table;
- ``zones``: the zone's polygon (its WKB ``geometry`` column).

Properties are the row's other columns; times are ISO-8601 UTC with ``Z``. GeoParquet follows
the GeoParquet 1.0 specification (WKB ``geometry`` column, ``geo`` file metadata, CRS OGC:CRS84).
Geometries are built vectorised with shapely 2.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import SeawatchError

GEO_FORMATS = {".geojson": "geojson", ".geoparquet": "geoparquet", ".kml": "kml"}
ISO_UTC_FORMAT = "%Y-%m-%dT%H:%M:%S%.fZ"


def _shapely():
    import shapely

    return shapely


def geometries(table: str, df: pl.DataFrame, points_of_segments: pl.DataFrame | None = None) -> tuple[np.ndarray, pl.DataFrame]:
    """(shapely geometries, property frame) for the rows of ``df``, a frame of ``table``."""
    shp = _shapely()
    if table == "zones":
        geoms = shp.from_wkb(df["geometry"].to_numpy())
        return geoms, df.drop("geometry")
    if table == "segments":
        if points_of_segments is None:
            raise SeawatchError("segments need their track points to become lines: pass the tracks table")
        pts = (
            points_of_segments.filter(pl.col("seg_id").is_in(df["seg_id"].implode()))
            .select("seg_id", "ts", "lon", "lat")
            .sort("seg_id", "ts")
        )
        order = df.select("seg_id").with_row_index("_i")
        pts = pts.join(order, on="seg_id", how="inner")
        idx = pts["_i"].to_numpy()
        coords = np.column_stack([pts["lon"].to_numpy(), pts["lat"].to_numpy()])
        geoms = np.full(df.height, None, dtype=object)
        counts = np.bincount(idx, minlength=df.height)
        ok = counts >= 2
        if len(coords):
            sel = ok[idx]
            # shapely wants the indices sorted and dense; map the kept segments to 0..k-1
            dense = np.cumsum(ok) - 1
            lines = shp.linestrings(coords[sel], indices=dense[idx[sel]])
            geoms[np.flatnonzero(ok)] = lines
            single = np.flatnonzero(counts == 1)
            if len(single):
                first = pts.filter(pl.col("_i").is_in(single.tolist()))
                geoms[first["_i"].to_numpy()] = shp.points(first["lon"].to_numpy(), first["lat"].to_numpy())
        return geoms, df
    if "lat" in df.columns and "lon" in df.columns:
        lat = df["lat"].to_numpy()
        lon = df["lon"].to_numpy()
        geoms = np.full(df.height, None, dtype=object)
        ok = ~(np.isnan(lat.astype(float)) | np.isnan(lon.astype(float)))
        geoms[ok] = shp.points(lon[ok], lat[ok])
        return geoms, df
    raise SeawatchError(f"table {table!r} has no place to draw: export it as .parquet, .csv or .jsonl")


def _json_props(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(
        pl.col(c).dt.strftime(ISO_UTC_FORMAT) for c, t in df.schema.items() if isinstance(t, pl.Datetime)
    ).with_columns(pl.col(c).cast(pl.Utf8) for c, t in df.schema.items() if t == pl.Binary)


def write_geo(table: str, df: pl.DataFrame, out: str | os.PathLike[str], tracks: pl.DataFrame | None = None) -> int:
    """Write ``df`` (rows of ``table``) to ``out`` as GeoJSON, GeoParquet or KML (by extension).

    Returns the number of features written. Written atomically (tmp + rename).
    """
    out = Path(out)
    fmt = GEO_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise SeawatchError(f"{out.name!r} is not a geographic format: use one of {', '.join(GEO_FORMATS)}")
    shp = _shapely()
    geoms, props = geometries(table, df, tracks)
    tmp = out.with_name(out.name + ".tmp")
    try:
        if fmt == "geojson":
            rows = _json_props(props).to_dicts()
            gj = shp.to_geojson(geoms)
            with open(tmp, "w", encoding="utf-8") as f:
                f.write('{"type": "FeatureCollection", "features": [\n')
                for i, (g, r) in enumerate(zip(gj, rows)):
                    feat = '{"type": "Feature", "geometry": ' + (g if g is not None else "null")
                    feat += ', "properties": ' + json.dumps(r, default=str) + "}"
                    f.write(("" if i == 0 else ",\n") + feat)
                f.write("\n]}\n")
        elif fmt == "geoparquet":
            wkb = shp.to_wkb(geoms)
            tbl = props.to_arrow().append_column("geometry", pa.array(list(wkb), type=pa.binary()))
            valid = geoms[~shp.is_missing(geoms)] if len(geoms) else geoms
            types = sorted({t for t in shp.get_type_id(valid).tolist()}) if len(valid) else []
            names = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}
            bbox = list(shp.total_bounds(geoms)) if len(valid) else []
            meta = {
                "version": "1.0.0",
                "primary_column": "geometry",
                "columns": {
                    "geometry": {
                        "encoding": "WKB",
                        "geometry_types": [names[t] for t in types if t in names],
                        "crs": _CRS84,
                        **({"bbox": bbox} if bbox and not any(np.isnan(bbox)) else {}),
                    }
                },
            }
            tbl = tbl.replace_schema_metadata({**(tbl.schema.metadata or {}), b"geo": json.dumps(meta).encode()})
            pq.write_table(tbl, tmp, compression="zstd")
        else:
            _write_kml(tmp, geoms, _json_props(props), table)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return len(geoms)


#: PROJJSON of OGC:CRS84 (lon/lat WGS84), as the GeoParquet spec recommends spelling it out.
_CRS84: dict[str, Any] = {
    "$schema": "https://proj.org/schemas/v0.7/projjson.schema.json",
    "type": "GeographicCRS",
    "name": "WGS 84 (CRS84)",
    "datum_ensemble": {
        "name": "World Geodetic System 1984 ensemble",
        "members": [{"name": "World Geodetic System 1984 (Transit)"}, {"name": "World Geodetic System 1984 (G730)"}],
        "ellipsoid": {"name": "WGS 84", "semi_major_axis": 6378137, "inverse_flattening": 298.257223563},
        "accuracy": "2.0",
    },
    "coordinate_system": {
        "subtype": "ellipsoidal",
        "axis": [
            {"name": "Geodetic longitude", "abbreviation": "Lon", "direction": "east", "unit": "degree"},
            {"name": "Geodetic latitude", "abbreviation": "Lat", "direction": "north", "unit": "degree"},
        ],
    },
    "id": {"authority": "OGC", "code": "CRS84"},
}


def _xml(s: Any) -> str:
    return (
        str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _kml_coords(g) -> str:
    shp = _shapely()
    return " ".join(f"{x:.6f},{y:.6f}" for x, y in shp.get_coordinates(g))


def _kml_geom(g) -> str:
    shp = _shapely()
    t = shp.get_type_id(g)
    if t == 0:
        return f"<Point><coordinates>{_kml_coords(g)}</coordinates></Point>"
    if t == 1:
        return f"<LineString><coordinates>{_kml_coords(g)}</coordinates></LineString>"
    if t == 3:
        inner = "".join(
            f"<innerBoundaryIs><LinearRing><coordinates>{_kml_coords(r)}</coordinates></LinearRing></innerBoundaryIs>"
            for r in shp.get_interior_ring(g, range(shp.get_num_interior_rings(g)))
        )
        return (
            "<Polygon><outerBoundaryIs><LinearRing><coordinates>"
            f"{_kml_coords(shp.get_exterior_ring(g))}</coordinates></LinearRing></outerBoundaryIs>{inner}</Polygon>"
        )
    parts = shp.get_parts(g)
    return "<MultiGeometry>" + "".join(_kml_geom(p) for p in parts) + "</MultiGeometry>"


def _write_kml(path: Path, geoms: np.ndarray, props: pl.DataFrame, table: str) -> None:
    # one Placemark per row: KML is for looking at a result in Google Earth, not for bulk data
    name_col = next((c for c in ("event_type", "name", "seg_id", "mmsi") if c in props.columns), None)
    with open(path, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>\n')
        f.write(f"<name>seawatch {table}</name>\n")
        for g, row in zip(geoms, props.iter_rows(named=True)):
            if g is None:
                continue
            data = "".join(
                f'<Data name="{_xml(k)}"><value>{_xml(v)}</value></Data>' for k, v in row.items() if v is not None
            )
            title = _xml(row.get(name_col, "")) if name_col else ""
            f.write(f"<Placemark><name>{title}</name><ExtendedData>{data}</ExtendedData>{_kml_geom(g)}</Placemark>\n")
        f.write("</Document></kml>\n")


__all__ = ["GEO_FORMATS", "geometries", "write_geo"]
