"""``seawatch serve``: the API and the web map over a store (register ``serve_command`` with
``main.add_command(serve_command)``).

    seawatch serve --db DIR                          # http://127.0.0.1:8080/
    seawatch serve --db DIR --host 0.0.0.0 --token T # others may connect, with the token
    seawatch serve --db DIR --get /api/vessels?limit=5   # one request in-process, printed

Binding to anything but a loopback address needs a token (``--token`` or ``SEAWATCH_TOKEN``);
every request must then carry it. Nothing here imports FastAPI or uvicorn until the command runs.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import sys
from collections.abc import Callable
from typing import Any

import click

from ..errors import SeawatchError

TOKEN_ENV = "SEAWATCH_TOKEN"
EXIT_USAGE = 2


def _handled(f: Callable[..., Any]) -> Callable[..., Any]:
    """seawatch.cli.handle_errors, looked up when the command runs (no import cycle with cli.py)."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..cli import handle_errors

        return handle_errors(f)(*args, **kwargs)

    return wrapper


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost'."""
    h = host.strip().strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def _listen(host: str, port: int) -> socket.socket:
    h = host.strip("[]")
    family = socket.AF_INET6 if ":" in h else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((h, port))
    except OSError as e:
        sock.close()
        raise SeawatchError(f"cannot listen on {host}:{port}: {e.strerror or e} — choose another --port or --host") from None
    except (socket.gaierror, UnicodeError) as e:  # pragma: no cover - odd host names
        sock.close()
        raise SeawatchError(f"cannot listen on {host!r}: {e}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def run_get(app: Any, path: str, show_headers: bool = False, token: str | None = None) -> int:
    """Run one GET request against ``app`` in-process (carrying ``token`` if given) and print
    the body to stdout as it streams (after the status line and headers with ``show_headers``).
    Returns the HTTP status."""
    from .app import request

    if not path.startswith("/"):
        raise SeawatchError(f"--get takes a path starting with '/', e.g. /api/vessels?limit=5, got {path!r}")
    out = sys.stdout.buffer
    last = [b"\n"]

    def on_chunk(b: bytes) -> None:
        out.write(b)
        out.flush()
        last[0] = b

    headers = {"authorization": f"Bearer {token}"} if token else None
    reply = request(app, path, headers=headers, on_chunk=None if show_headers else on_chunk)
    if show_headers:
        head = [f"HTTP/1.1 {reply.status}"] + [f"{k}: {v}" for k, v in reply.headers.items()]
        out.write(("\n".join(head) + "\n\n").encode() + reply.body)
        last[0] = reply.body or b"\n"
    if not last[0].endswith(b"\n"):
        out.write(b"\n")
    out.flush()
    return reply.status


@click.command("serve")
@click.option("--db", required=True, metavar="DIR", help="Store directory (DuckDB over Parquet).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but a loopback address needs --token.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--token", envvar=TOKEN_ENV, show_envvar=True, default=None, metavar="TOKEN",
              help="Require this token on every request (16+ characters of A-Z a-z 0-9 . _ ~ -): "
                   "'Authorization: Bearer TOKEN', or open the map once as /?token=TOKEN.")
@click.option("--get", "get_path", default=None, metavar="PATH",
              help="Run one GET request in-process (e.g. /api/vessels?limit=5), print the response "
                   "body and exit: 0 if the status is below 400, else 1. No port is opened.")
@click.option("--headers", "show_headers", is_flag=True, help="With --get: print the status and headers too.")
@click.option("--poll-s", default=2.0, show_default=True, type=click.FloatRange(0.1, 60),
              help="How often live updates look at the store, seconds.")
@_handled
def serve_command(db: str, host: str, port: int, token: str | None, get_path: str | None,
                  show_headers: bool, poll_s: float) -> None:
    """Serve the web map and the read-only JSON API for the store at DIR.

    The map (vessels as arrows by type, zones, events, a vessel panel with identity, flag,
    risk reasons and track, a time slider, live updates while the store changes) works with
    no internet: MapLibre GL JS and the coastline ship with seawatch and its packages. The API
    is under /api, documented at /openapi.json. Stop with Ctrl+C.
    """
    if token == "":
        token = None
    if get_path is None and not is_loopback(host) and token is None:
        raise SeawatchError(
            f"listening on {host} exposes the store beyond this machine: give --token TOKEN "
            f"(or set {TOKEN_ENV}), e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(24))'"
        )
    from .app import create_app

    app = create_app(db, token=token, poll_s=poll_s)
    if get_path is not None:  # in-process, carrying the token the server would require
        status = run_get(app, get_path, show_headers, token)
        sys.exit(0 if status < 400 else 1)

    import uvicorn

    sock = _listen(host, port)
    real_port = sock.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if ":" in host.strip("[]") else host
    url = f"http://{shown}:{real_port}/"
    click.echo(f"seawatch: map and API for {db} on {url}  (API: {url}api, OpenAPI: {url}openapi.json)")
    if token is not None:
        click.echo(f"every request needs the token: open {url}?token=TOKEN once (a cookie keeps it), "
                   "or send 'Authorization: Bearer TOKEN'")
    click.echo("Ctrl+C to stop")
    config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False,
                            proxy_headers=False, lifespan="off", timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


__all__ = ["is_loopback", "run_get", "serve_command"]
