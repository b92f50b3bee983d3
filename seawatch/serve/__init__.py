"""``seawatch serve``: a read-only JSON API and an offline web map over a store.

    from seawatch.serve import create_app
    app = create_app("seawatch-demo")          # an ASGI app (FastAPI), e.g. for uvicorn

- :mod:`seawatch.serve.app` — the ASGI app: the API under ``/api`` (OpenAPI at
  ``/openapi.json``), the map at ``/``, its scripts under ``/static`` and MapLibre GL JS under
  ``/vendor`` (from the PyPI package ``maplibre``: nothing is loaded from the internet).
- :mod:`seawatch.serve.queries` — the data behind each endpoint, as plain functions of a
  :class:`~seawatch.store.Store` (parametrised SQL only).
- :mod:`seawatch.serve.cli` — the ``serve`` command (``serve_command``) and ``--get``.

Importing this package is cheap: FastAPI is imported only when an app is built.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
