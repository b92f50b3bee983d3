"""The ASGI app behind ``seawatch serve``: a read-only JSON API and the offline web map.

    from seawatch.serve.app import create_app
    app = create_app("seawatch-demo", token=None)

API (``GET`` only; OpenAPI 3 document at ``/openapi.json``):

========================================  ======================================================
``/api``                                  index of the endpoints
``/api/health``                           liveness
``/api/stats``                            store statistics, derived tables, store version
``/api/vessels``                          last position, identity, flag, risk of every vessel
``/api/vessels/{mmsi}``                   one vessel: identity and its history, flag checks,
                                          place, risk with every reason
``/api/vessels/{mmsi}/track``             its positions over a time range
``/api/events``                           events, filtered by type, severity, status, zone
                                          kind, time, area (bbox), vessel
``/api/events/{event_id}``                one event with its evidence
``/api/detections``                       radar / satellite detections as GeoJSON points,
                                          matched to an AIS vessel or dark
``/api/dark_tracks``                      dark_track events as GeoJSON lines through their
                                          detections
``/api/zones``                            zones as a GeoJSON FeatureCollection
``/api/land``                             the shipped coastline (land polygons) as GeoJSON
``/api/live``                             server-sent events: ``hello``, then ``update`` each
                                          time the store changes (ingest, detect, tracks)
========================================  ======================================================

Lists are paginated (``limit``, ``offset`` -> ``items, total, limit, offset, next_offset``).
Every error, whatever its status, is ``{"error": {"status", "code", "message", "param"}}``;
no response ever carries a stack trace (they go to the server log).

Security: read-only (any method but GET is 405); every query parameter is declared, typed and
bounded, unknown or repeated ones are refused (400); SQL takes values only as parameters. With a
token (``create_app(..., token=...)``), every request must carry it: ``Authorization: Bearer
TOKEN``, the ``seawatch_token`` cookie (set when the map is opened with ``?token=TOKEN``) or a
``token`` query parameter. Without one, only requests whose ``Host`` is a loopback name are
answered (a DNS-rebinding guard). Responses carry a Content-Security-Policy that lets the page
load nothing from anywhere but this server.

The map (``/``) is ``static/index.html`` + ``app.js`` + ``app.css``, drawing with MapLibre GL JS
from the PyPI package ``maplibre`` (``maplibre/srcjs/maplibre-gl.js``), served at ``/vendor``.
"""

from __future__ import annotations

import datetime as _dt
import functools
import gzip
import hmac
import importlib.util
import json
import logging
import re
import time
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from .. import schema
from ..errors import SeawatchError
from ..store import Store
from . import models, queries

log = logging.getLogger("seawatch.serve")

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Environment variable holding the access token (same as ``--token``).
TOKEN_ENV = "SEAWATCH_TOKEN"
TOKEN_COOKIE = "seawatch_token"
#: A token: 16-256 characters safe in a header, a cookie and a URL.
TOKEN_RE = re.compile(r"^[A-Za-z0-9._~-]{16,256}$")
#: Host names answered without a token (DNS-rebinding guard).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_QUERY_BYTES = 4096
MAX_PATH_BYTES = 1024
MAX_LIST_ITEMS = 50
MAX_ITEM_CHARS = 64
GZIP_MIN_BYTES = 16 * 1024

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "worker-src 'self' blob:; child-src 'self' blob:; connect-src 'self'; font-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-origin"),
]

#: The documented error responses of every API route.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": models.ErrorBody, "description": "a bad, unknown or repeated parameter"},
    401: {"model": models.ErrorBody, "description": "the token is missing or wrong (only when one is set)"},
    503: {"model": models.ErrorBody, "description": "the store could not be read"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": models.ErrorBody, "description": "no such vessel or event"}}


class ApiError(Exception):
    """An error answered with the one error shape."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param


def error_body(status: int, code: str, message: str, param: str | None = None) -> bytes:
    return json.dumps({"error": {"status": status, "code": code, "message": message, "param": param}}).encode()


def error_response(status: int, code: str, message: str, param: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    return Response(error_body(status, code, message, param), status_code=status,
                    media_type="application/json", headers=headers)


# -- parameter parsing (beyond what the declarations check) ----------------------------------------
_MIN_T = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_MAX_T = _dt.datetime(2100, 1, 1, tzinfo=_dt.timezone.utc)


def parse_time(value: str | None, param: str) -> _dt.datetime | None:
    """ISO-8601 (``2024-06-01T12:00:00Z``, ``2024-06-01``; no zone = UTC) -> aware datetime."""
    if value is None:
        return None
    v = value.strip()
    try:
        if v.endswith(("Z", "z")):
            v = v[:-1] + "+00:00"
        t = _dt.datetime.fromisoformat(v)
    except ValueError:
        raise ApiError(400, "bad_parameter",
                       f"{param} must be an ISO-8601 time like 2024-06-01T12:00:00Z, got {value!r}", param) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    t = t.astimezone(_dt.timezone.utc)
    if not _MIN_T <= t < _MAX_T:
        raise ApiError(400, "bad_parameter", f"{param} must be between 1970 and 2100, got {value!r}", param)
    return t


def parse_bbox(value: str | None, param: str = "bbox") -> tuple[float, float, float, float] | None:
    """``W,S,E,N`` in degrees; W > E means the box crosses the antimeridian."""
    if value is None:
        return None
    parts = value.split(",")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) != 4 or not all(abs(x) < float("inf") for x in nums):
        raise ApiError(400, "bad_parameter", f"{param} must be four numbers W,S,E,N like 138,37,140,39, got {value!r}",
                       param)
    w, s, e, n = nums
    if not (-180 <= w <= 180 and -180 <= e <= 180):
        raise ApiError(400, "bad_parameter", f"{param}: longitudes must be within -180..180, got {value!r}", param)
    if not (-90 <= s <= 90 and -90 <= n <= 90) or s > n:
        raise ApiError(400, "bad_parameter",
                       f"{param}: latitudes must be within -90..90 with south <= north, got {value!r}", param)
    return (w, s, e, n)


def parse_list(values: Sequence[str] | None, param: str, allowed: Sequence[str] | None = None,
               pattern: str | None = None) -> list[str] | None:
    """Repeated and/or comma-separated values, each checked against ``allowed`` or ``pattern``."""
    if not values:
        return None
    out: list[str] = []
    for v in values:
        out += [x.strip() for x in v.split(",") if x.strip()]
    if not out:
        return None
    if len(out) > MAX_LIST_ITEMS:
        raise ApiError(400, "bad_parameter", f"{param}: at most {MAX_LIST_ITEMS} values, got {len(out)}", param)
    for x in out:
        if len(x) > MAX_ITEM_CHARS:
            raise ApiError(400, "bad_parameter", f"{param}: a value is longer than {MAX_ITEM_CHARS} characters", param)
        if allowed is not None and x not in allowed:
            raise ApiError(400, "bad_parameter", f"{param}: unknown value {x!r}: use one of {', '.join(allowed)}", param)
        if pattern is not None and not re.fullmatch(pattern, x):
            raise ApiError(400, "bad_parameter", f"{param}: bad value {x!r}", param)
    return list(dict.fromkeys(out))


def _check_range(start: _dt.datetime | None, end: _dt.datetime | None) -> None:
    if start is not None and end is not None and start > end:
        raise ApiError(400, "bad_parameter", "start must not be after end", "start")


# -- static assets ------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def vendor_file(name: str) -> tuple[bytes, bytes] | None:
    """``maplibre-gl.js`` / ``maplibre-gl.css`` from the installed PyPI package ``maplibre``
    (plain and gzipped), or None if it is not installed. The package is not imported."""
    spec = importlib.util.find_spec("maplibre")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "srcjs" / name
        if p.is_file():
            data = p.read_bytes()
            return data, gzip.compress(data, 6)
    return None


def _wants_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


def _bytes_response(request: Request, body: bytes, media_type: str, gz: bytes | None = None,
                    cache: str = "no-store") -> Response:
    headers = {"cache-control": cache, "vary": "accept-encoding"}
    if len(body) >= GZIP_MIN_BYTES and _wants_gzip(request):
        headers["content-encoding"] = "gzip"
        body = gz if gz is not None else gzip.compress(body, 5)
    return Response(body, media_type=media_type, headers=headers)


def _json(request: Request, obj: Any) -> Response:
    return _bytes_response(request, json.dumps(obj, allow_nan=False, separators=(",", ":")).encode(),
                           "application/json")


# -- the guard (pure ASGI middleware) --------------------------------------------------------------------
def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        k, _, v = part.strip().partition("=")
        if k == name:
            return v
    return None


class Guard:
    """Read-only, size limits, Host check (no token) or token check, security headers, and
    exceptions turned into a 500 in the one error shape (logged, never sent)."""

    def __init__(self, app: Any, token: str | None, allowed_hosts: frozenset[str]):
        self.app = app
        self.token = token
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":  # none are served
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        started = False
        set_cookie: bytes | None = None
        is_api = scope.get("path", "").startswith(("/api", "/openapi.json"))

        async def send_with_headers(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", [])) + SECURITY_HEADERS
                if is_api and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                if set_cookie is not None:
                    headers.append((b"set-cookie", set_cookie))
                message = {**message, "headers": headers}
            await send(message)

        async def reject(status: int, code: str, msg: str, param: str | None = None,
                         extra: list[tuple[bytes, bytes]] | None = None) -> None:
            body = error_body(status, code, msg, param)
            await send_with_headers({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"), *(extra or [])]})
            await send_with_headers({"type": "http.response.body", "body": body})

        if scope["method"] != "GET":
            await reject(405, "method_not_allowed", f"{scope['method']} is not allowed: this API is read-only (GET)",
                         extra=[(b"allow", b"GET")])
            return
        if len(scope.get("query_string", b"")) > MAX_QUERY_BYTES or len(scope.get("raw_path") or b"") > MAX_PATH_BYTES:
            await reject(414, "uri_too_long", f"the query is longer than {MAX_QUERY_BYTES} bytes: ask for less")
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.token is None:
            host = _host_name(headers.get("host", ""))
            if host not in self.allowed_hosts:
                await reject(400, "bad_host", "this server answers only requests to 127.0.0.1 or localhost "
                                              "(start it with --token to serve other hosts)")
                return
        else:
            from urllib.parse import parse_qs

            given = None
            auth = headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                given = auth[7:].strip()
            from_query = False
            if given is None:
                q = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
                if q:
                    given, from_query = q[-1], True
            if given is None:
                given = _cookie(headers.get("cookie", ""), TOKEN_COOKIE)
            if given is None or not hmac.compare_digest(given.encode("utf-8", "replace"), self.token.encode()):
                await reject(401, "unauthorized", "a valid token is required: send 'Authorization: Bearer TOKEN' "
                                                  "or open the map as /?token=TOKEN",
                             extra=[(b"www-authenticate", b'Bearer realm="seawatch"')])
                return
            if from_query:
                set_cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode()
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("error answering %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await reject(500, "internal_error", "the server failed to answer this request; see the server log")


# -- the app ----------------------------------------------------------------------------------------------
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("seawatch")
    except PackageNotFoundError:  # a source checkout that is not installed
        from .. import __version__

        return str(__version__)


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation))
    return False


def _query_names(dependant: Any) -> dict[str, bool]:
    """Query parameter name -> whether it may be repeated (declared as a list)."""
    names = {f.alias: _is_list(getattr(f.field_info, "annotation", None)) for f in dependant.query_params}
    for sub in dependant.dependencies:
        names.update(_query_names(sub))
    return names


async def strict_query(request: Request) -> None:
    """Refuse unknown and repeated query parameters (``token`` is always allowed)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    allowed = _query_names(dependant) if dependant is not None else {}
    seen: dict[str, int] = {}
    for k, _ in request.query_params.multi_items():
        if k == "token":
            continue
        if k not in allowed:
            hint = f": use {', '.join(sorted(allowed))}" if allowed else ": this endpoint takes none"
            raise ApiError(400, "unknown_parameter", f"unknown parameter {k!r}{hint}", k)
        seen[k] = seen.get(k, 0) + 1
        if seen[k] > 1 and not allowed[k]:
            raise ApiError(400, "bad_parameter", f"{k} is given more than once: give it once", k)


DESCRIPTION = """\
Read-only access to a seawatch store: vessels, tracks, events with evidence, risk, zones,
radar and satellite detections (matched to AIS or dark) and dark tracks.

* **Pagination**: every list takes `limit` and `offset` and answers
  `{"items": [...], "total", "limit", "offset", "next_offset"}` (`next_offset` null on the
  last page); zones, detections and dark tracks answer a GeoJSON FeatureCollection with the
  same members.
* **Errors**: always `{"error": {"status", "code", "message", "param"}}`. Unknown or repeated
  query parameters are errors (400), as are values out of range.
* **Times**: ISO-8601 UTC, `2024-06-01T12:00:00Z`; a time without a zone is UTC.
* **Areas**: `bbox=W,S,E,N` in degrees (W > E crosses the antimeridian).
* **Token**: when the server was started with one, send `Authorization: Bearer TOKEN`
  (or the `token` query parameter, or the `seawatch_token` cookie the map sets).
* **Live**: `GET /api/live` is a `text/event-stream`: `event: hello` with the store version,
  then `event: update` with `{"version", "changed": [...]}` whenever files are ingested or
  derived tables (tracks, events, risk, zones) are recomputed.
"""


def create_app(
    db: str | Path | Store,
    *,
    token: str | None = None,
    poll_s: float = 2.0,
    allowed_hosts: Sequence[str] | None = None,
) -> FastAPI:
    """The ASGI app over the store at ``db``.

    ``token``: if given, every request must carry it (see the module docstring).
    ``poll_s``: how often ``/api/live`` looks at the store, seconds (default 2).
    ``allowed_hosts``: Host names answered without a token (default: loopback names).
    """
    store = db if isinstance(db, Store) else Store(db)
    if token is not None and not TOKEN_RE.match(token):
        raise SeawatchError("the token must be 16-256 characters of A-Z a-z 0-9 . _ ~ -, e.g. "
                            "python3 -c 'import secrets; print(secrets.token_urlsafe(24))'")
    if not 0.1 <= poll_s <= 60:
        raise SeawatchError(f"poll_s must be within 0.1..60 seconds, got {poll_s}")
    hosts = frozenset(h.lower().strip("[]") for h in (allowed_hosts or ())) | LOOPBACK_HOSTS

    app = FastAPI(
        title="seawatch API",
        version=_version(),
        description=DESCRIPTION,
        docs_url=None,  # the stock docs pages load scripts from a CDN: not here
        redoc_url=None,
        openapi_url="/openapi.json",
        dependencies=[Depends(strict_query)],
    )
    app.state.store = store
    app.add_middleware(Guard, token=token, allowed_hosts=hosts)

    # -- errors, one shape ------------------------------------------------------------------
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.param)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errs = exc.errors()
        first = errs[0] if errs else {}
        loc = [str(x) for x in first.get("loc", ()) if x not in ("query", "path")]
        param = loc[0] if loc else None
        msg = str(first.get("msg", "invalid value"))
        got = first.get("input")
        text = f"{param}: {msg}" if param else msg
        if got is not None and not isinstance(got, (dict, list)):
            text += f" (got {str(got)[:40]!r})"
        return error_response(400, "bad_parameter", text, param)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed"}
        msg = {404: f"no such path {request.url.path!r}: see /api for the endpoints"}.get(exc.status_code, str(exc.detail))
        return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), msg,
                              headers=getattr(exc, "headers", None))

    @app.exception_handler(SeawatchError)
    async def _store_error(request: Request, exc: SeawatchError) -> Response:
        log.warning("store error on %s: %s", request.url.path, exc)
        return error_response(503, "store_error", " ".join(str(exc).split())[:300])

    # -- the map ------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers={"cache-control": "no-cache"})

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor(request: Request, name: str) -> Response:
        types = {"maplibre-gl.js": "text/javascript", "maplibre-gl.css": "text/css"}
        if name not in types:
            raise ApiError(404, "not_found", f"no such file {name!r}")
        f = vendor_file(name)
        if f is None:
            raise ApiError(404, "not_found", "MapLibre GL JS is not installed: pip install maplibre")
        return _bytes_response(request, f[0], types[name], f[1], cache="public, max-age=86400")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # -- the API ------------------------------------------------------------------------------
    @app.get("/api", response_model=models.Index, tags=["meta"], summary="Index of the endpoints")
    def api_index() -> Any:
        paths = sorted(r.path for r in app.routes if getattr(r, "path", "").startswith("/api"))
        return {"name": "seawatch", "version": _version(), "openapi": "/openapi.json", "endpoints": paths}

    @app.get("/api/health", response_model=models.Health, tags=["meta"], summary="Liveness")
    def health() -> Any:
        return {"ok": True, "version": _version()}

    @app.get("/api/stats", response_model=None, tags=["store"], summary="Store statistics",
             responses={200: {"model": models.Stats}, **ERRORS})
    def stats(request: Request) -> Response:
        """Lines read, decoded and rejected, messages by type, vessels, time span, the derived
        tables (generation, rows) and the store version the live stream watches."""
        return _json(request, queries.stats(store))

    @app.get("/api/vessels", response_model=None, tags=["vessels"], summary="Vessels: last position, identity, risk",
             responses={200: {"model": models.VesselPage}, **ERRORS})
    def vessels(
        request: Request,
        at: str | None = Query(None, max_length=40, description="last positions at or before this time "
                               "(replay); default: the latest"),
        max_age_s: float | None = Query(None, ge=0, le=365 * 86400, description="only vessels heard within "
                                        "this many seconds of the reference time"),
        bbox: str | None = Query(None, max_length=100, description="W,S,E,N: last position inside"),
        q: str | None = Query(None, min_length=1, max_length=64, description="name or call sign contains, "
                              "MMSI starts with, or IMO equals"),
        group: list[str] | None = Query(None, description="type groups: " + ", ".join(queries.TYPE_GROUPS)),
        flag: list[str] | None = Query(None, description="flag states, ISO 3166 alpha-3 (e.g. JPN)"),
        klass: list[str] | None = Query(None, alias="class", description="AIS class: A, B, base, sar, aton, lr"),
        min_risk: float | None = Query(None, ge=0, le=100),
        mmsi: list[str] | None = Query(None, description="only these MMSIs"),
        sort: str = Query("-risk", description="one of " + ", ".join(queries.VESSEL_SORTS)),
        limit: int = Query(500, ge=1, le=5000),
        offset: int = Query(0, ge=0, le=10_000_000),
    ) -> Response:
        """Every vessel heard (or, with `at`, heard by then) with its last position, declared
        identity, flag (from the MMSI's MID), type group and risk, highest risk first."""
        if sort not in queries.VESSEL_SORTS:
            raise ApiError(400, "bad_parameter", f"sort: use one of {', '.join(queries.VESSEL_SORTS)}", "sort")
        mm = parse_list(mmsi, "mmsi", pattern=r"[0-9]{1,9}")
        res = queries.vessels(
            store, at=parse_time(at, "at"), max_age_s=max_age_s, bbox=parse_bbox(bbox), q=q,
            groups=parse_list(group, "group", queries.TYPE_GROUPS),
            flags=parse_list(flag, "flag", pattern=r"[A-Z]{3}"),
            classes=parse_list(klass, "class", ("A", "B", "base", "sar", "aton", "lr")),
            min_risk=min_risk, mmsi=[int(m) for m in mm] if mm else None, sort=sort, limit=limit, offset=offset,
        )
        return _json(request, res)

    def mmsi_path() -> Any:
        return PathParam(..., ge=1, le=999_999_999, description="the vessel's MMSI")

    @app.get("/api/vessels/{mmsi}", response_model=None, tags=["vessels"], summary="One vessel",
             responses={200: {"model": models.VesselDetail}, **ERRORS, **NOT_FOUND})
    def vessel(request: Request, mmsi: int = mmsi_path()) -> Response:
        """Who the vessel claims to be (and every name, call sign, IMO and type it has
        declared), what its MMSI and call sign say about its flag, where it is now (zone,
        distance to shore, night, nearest port), and why it is suspicious: its risk with every
        contributing event."""
        res = queries.vessel(store, mmsi)
        if res is None:
            raise ApiError(404, "not_found", f"no vessel with MMSI {mmsi} in this store", "mmsi")
        return _json(request, res)

    @app.get("/api/vessels/{mmsi}/track", response_model=None, tags=["vessels"], summary="A vessel's track",
             responses={200: {"model": models.TrackPage}, **ERRORS, **NOT_FOUND})
    def vessel_track(
        request: Request,
        mmsi: int = mmsi_path(),
        start: str | None = Query(None, max_length=40, description="from this time (ISO-8601)"),
        end: str | None = Query(None, max_length=40, description="to this time (ISO-8601)"),
        thin_s: float | None = Query(None, ge=0, le=86400, description="keep one point every thin_s seconds"),
        limit: int = Query(5000, ge=1, le=20000),
        offset: int = Query(0, ge=0, le=100_000_000),
    ) -> Response:
        """Positions in time order between `start` and `end` (from the tracks table, with
        segments and noise flags, when it is up to date with the ingested files)."""
        t0, t1 = parse_time(start, "start"), parse_time(end, "end")
        _check_range(t0, t1)
        res = queries.track(store, mmsi, start=t0, end=t1, thin_s=thin_s, limit=limit, offset=offset)
        if res["total"] == 0 and res["first_seen"] is None:
            raise ApiError(404, "not_found", f"no positions of MMSI {mmsi} in this store", "mmsi")
        return _json(request, res)

    @app.get("/api/events", response_model=None, tags=["events"], summary="Events with evidence",
             responses={200: {"model": models.EventPage}, **ERRORS})
    def events(
        request: Request,
        type: list[str] | None = Query(None, description="event types: " + ", ".join(schema.EVENT_TYPES)),
        severity: list[str] | None = Query(None, description="severities: " + ", ".join(schema.SEVERITIES)),
        min_severity: str | None = Query(None, description="at least this severity"),
        status: list[str] | None = Query(None, description="open, closed, retracted"),
        zone_kind: list[str] | None = Query(None, description="zone kinds: " + ", ".join(schema.ZONE_KINDS)),
        start: str | None = Query(None, max_length=40, description="events still going on at or after this time"),
        end: str | None = Query(None, max_length=40, description="events begun at or before this time"),
        bbox: str | None = Query(None, max_length=100, description="W,S,E,N: events located inside"),
        mmsi: int | None = Query(None, ge=1, le=999_999_999, description="events of this vessel (either of a pair)"),
        sort: str = Query("-start_time", description="one of " + ", ".join(queries.EVENT_SORTS)),
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=10_000_000),
    ) -> Response:
        """Events found by the detectors, newest first, with the evidence (measured values and
        the thresholds they crossed) and the vessels' names."""
        if sort not in queries.EVENT_SORTS:
            raise ApiError(400, "bad_parameter", f"sort: use one of {', '.join(queries.EVENT_SORTS)}", "sort")
        if min_severity is not None and min_severity not in schema.SEVERITIES:
            raise ApiError(400, "bad_parameter", f"min_severity: use one of {', '.join(schema.SEVERITIES)}",
                           "min_severity")
        t0, t1 = parse_time(start, "start"), parse_time(end, "end")
        _check_range(t0, t1)
        res = queries.events(
            store, types=parse_list(type, "type", schema.EVENT_TYPES),
            severities=parse_list(severity, "severity", schema.SEVERITIES), min_severity=min_severity,
            statuses=parse_list(status, "status", schema.EVENT_STATUSES),
            zone_kinds=parse_list(zone_kind, "zone_kind", schema.ZONE_KINDS), start=t0, end=t1,
            bbox=parse_bbox(bbox), mmsi=mmsi, sort=sort, limit=limit, offset=offset,
        )
        return _json(request, res)

    @app.get("/api/events/{event_id}", response_model=None, tags=["events"], summary="One event",
             responses={200: {"model": models.Event}, **ERRORS, **NOT_FOUND})
    def event(request: Request,
              event_id: str = PathParam(..., pattern=r"^[0-9A-Za-z_-]{1,64}$", description="the event id")) -> Response:
        res = queries.event(store, event_id)
        if res is None:
            raise ApiError(404, "not_found", f"no event {event_id!r} in this store", "event_id")
        return _json(request, res)

    @app.get("/api/detections", response_model=None, tags=["detections"],
             summary="Radar and satellite detections, matched to AIS or dark, as GeoJSON",
             responses={200: {"model": models.DetectionCollection, "content": {"application/geo+json": {}}}, **ERRORS})
    def detections(
        request: Request,
        bbox: str | None = Query(None, max_length=100, description="W,S,E,N: detections inside"),
        start: str | None = Query(None, max_length=40, description="detections at or after this time (ISO-8601)"),
        end: str | None = Query(None, max_length=40, description="detections at or before this time (ISO-8601)"),
        dark: bool | None = Query(None, description="true: only dark detections (no AIS vessel there); "
                                  "false: only those matched to AIS"),
        sensor: list[str] | None = Query(None, description="sensors, e.g. radar, sar, optical"),
        limit: int = Query(5000, ge=1, le=20000),
        offset: int = Query(0, ge=0, le=100_000_000),
    ) -> Response:
        """Non-AIS detections (`seawatch ingest --detections`), newest first, as GeoJSON Points
        with `detection_id, ts, source, sensor, pass_id, length_m, heading_deg, confidence`, and
        their AIS correlation from the last `seawatch detect`: `matched` (with `mmsi`, `shipname`,
        `match_dist_m`) or `dark`, and the `dark_target` event raised (`event_id`, `severity`).
        A detection ingested since (not correlated yet) has `matched` and `dark` null; `correlated`
        is false while there is one."""
        t0, t1 = parse_time(start, "start"), parse_time(end, "end")
        _check_range(t0, t1)
        body = queries.detections_geojson(store, bbox=parse_bbox(bbox), start=t0, end=t1, dark=dark,
                                          sensors=parse_list(sensor, "sensor", pattern=r"[0-9A-Za-z_.:-]{1,64}"),
                                          limit=limit, offset=offset)
        return _bytes_response(request, body, "application/geo+json")

    @app.get("/api/dark_tracks", response_model=None, tags=["detections"],
             summary="Dark tracks (dark_track events) as GeoJSON lines",
             responses={200: {"model": models.DarkTrackCollection, "content": {"application/geo+json": {}}}, **ERRORS})
    def dark_tracks(
        request: Request,
        bbox: str | None = Query(None, max_length=100, description="W,S,E,N: tracks with a detection inside"),
        start: str | None = Query(None, max_length=40, description="tracks still going on at or after this time"),
        end: str | None = Query(None, max_length=40, description="tracks begun at or before this time"),
        limit: int = Query(500, ge=1, le=5000),
        offset: int = Query(0, ge=0, le=10_000_000),
    ) -> Response:
        """The `dark_track` events (unmatched detections of successive passes linked into one
        vessel's track), newest first, each a GeoJSON LineString through its detections in time
        order, with the event's `event_id, start_time, end_time, severity, score`, `n_detections`,
        `mean_speed_kn`, `course_deg`, the `detection_ids` and the evidence."""
        t0, t1 = parse_time(start, "start"), parse_time(end, "end")
        _check_range(t0, t1)
        body = queries.dark_tracks_geojson(store, bbox=parse_bbox(bbox), start=t0, end=t1, limit=limit, offset=offset)
        return _bytes_response(request, body, "application/geo+json")

    @app.get("/api/zones", response_model=None, tags=["zones"], summary="Zones as GeoJSON",
             responses={200: {"model": models.ZoneCollection, "content": {"application/geo+json": {}}}, **ERRORS})
    def zones(
        request: Request,
        kind: list[str] | None = Query(None, description="zone kinds: " + ", ".join(schema.ZONE_KINDS)),
        bbox: str | None = Query(None, max_length=100, description="W,S,E,N: zones intersecting"),
        simplify: float = Query(0.0, ge=0, le=0.1, description="Douglas-Peucker tolerance, degrees (0: as stored)"),
        limit: int = Query(100, ge=1, le=500),
        offset: int = Query(0, ge=0, le=100_000),
    ) -> Response:
        """The built-in maritime zones (territorial seas, contiguous zones, EEZs, disputed
        areas; derived from OpenStreetMap, ODbL) and the store's imported zones and user areas,
        as GeoJSON features with `zone_id, name, kind, state, claimants, source`."""
        body = queries.zones_geojson(store, kinds=parse_list(kind, "kind", schema.ZONE_KINDS), bbox=parse_bbox(bbox),
                                     simplify=simplify, limit=limit, offset=offset)
        return _bytes_response(request, body, "application/geo+json")

    @app.get("/api/land", response_model=None, tags=["zones"], summary="The offline coastline (land) as GeoJSON",
             responses={200: {"content": {"application/geo+json": {}}, "description": "a FeatureCollection"}})
    def land(request: Request) -> Response:
        """Land polygons shipped with seawatch (OpenStreetMap via geo-maps 0.6.0, ODbL; lon
        105-165E, lat 10-60N): the map's base layer, with no tile server."""
        plain, gz = queries.land_geojson()
        return _bytes_response(request, plain, "application/geo+json", gz, cache="public, max-age=3600")

    @app.get("/api/live", response_model=None, tags=["store"], summary="Live updates (server-sent events)",
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "event: hello / update / bye, data: JSON"}, **ERRORS})
    async def live(
        request: Request,
        interval_s: float | None = Query(None, ge=0.1, le=60, description="how often to look at the store"),
        timeout_s: float = Query(600, ge=0.1, le=3600, description="close the stream after this long "
                                 "(EventSource reconnects by itself)"),
    ) -> Response:
        """A `text/event-stream`. First `event: hello` with `{"version": ...}`; then, each time
        the store changes (an ingest commits a file, tracks/events/risk/zones are recomputed, as
        `seawatch watch`, `ingest` and `detect` do), `event: update` with `{"version",
        "changed"}` where `changed` lists `positions` and/or the derived tables; `event: bye`
        when `timeout_s` is reached. Comments keep the connection alive."""
        every = interval_s if interval_s is not None else poll_s

        async def stream() -> Any:
            yield b"retry: 3000\n\n"
            t0 = time.monotonic()
            last: dict[str, Any] | None = None
            last_sent = t0
            while True:
                v = await run_in_threadpool(queries.version, store)
                now = time.monotonic()
                if last is None or v["id"] != last["id"]:
                    if last is None:
                        name, data = "hello", {"version": v}
                    else:
                        changed = (["positions"] if v["files"] != last["files"] else []) + [
                            t for t, g in v["generations"].items() if g != last["generations"].get(t)]
                        name, data = "update", {"version": v, "changed": changed}
                    yield f"event: {name}\nid: {v['id']}\ndata: {json.dumps(data)}\n\n".encode()
                    last, last_sent = v, now
                elif now - last_sent >= 15:
                    yield b": keep-alive\n\n"
                    last_sent = now
                left = timeout_s - (now - t0)
                if left <= 0:
                    yield b"event: bye\ndata: {}\n\n"
                    return
                await anyio.sleep(min(every, left))

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    return app


# -- one request in-process (``seawatch serve --get``, tests) ---------------------------------------------
class Reply:
    """The answer to :func:`request`: ``status``, ``headers`` (lower-case names), ``body``."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        data = self.body
        if self.headers.get("content-encoding") == "gzip":
            data = gzip.decompress(data)
        return json.loads(data)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"Reply({self.status}, {len(self.body)} bytes)"


async def call(app: Any, path: str, *, method: str = "GET", headers: dict[str, str] | None = None,
               on_chunk: Any = None) -> Reply:
    """Send one HTTP request to the ASGI ``app`` in this process (no socket). ``path`` may hold a
    query string. ``on_chunk(bytes)``, if given, receives the body as it streams."""
    from urllib.parse import unquote

    raw_path, _, qs = path.partition("?")
    hdrs = {"host": "127.0.0.1", "user-agent": "seawatch-get", **{k.lower(): v for k, v in (headers or {}).items()}}
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": method.upper(), "scheme": "http", "path": unquote(raw_path), "raw_path": raw_path.encode(),
        "query_string": qs.encode(), "root_path": "", "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 80),
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in hdrs.items()],
    }
    sent_request = False
    done = anyio.Event()
    status = 0
    out_headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def receive() -> dict:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            out_headers.update({k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])})
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            if body:
                chunks.append(body)
                if on_chunk is not None:
                    on_chunk(body)
            if not message.get("more_body", False):
                done.set()

    try:
        await app(scope, receive, send)
    finally:
        done.set()
    return Reply(status, out_headers, b"".join(chunks))


def request(app: Any, path: str, **kw: Any) -> Reply:
    """Synchronous :func:`call`."""
    return anyio.run(functools.partial(call, app, path, **kw))
