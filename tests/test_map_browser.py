"""The web map in a real browser: Debian's Chromium driven by Playwright (no browser download).

Loads the map of a sample store served on 127.0.0.1, waits for its ready signal, checks that
vessels, zones and events are drawn, clicks a vessel and an event, replays history with the time
slider, sees a live update arrive, saves a screenshot, and fails if any request leaves 127.0.0.1
or the page logs an error (a Content-Security-Policy violation included). The sample has radar
detections: matched and dark ones are drawn with distinct symbols, the dark track as a line, and
each has its legend toggle and popup.

Run as a script to make the README's screenshot:

    python3 tests/test_map_browser.py docs/map.png [--scenario all]
"""

from __future__ import annotations

import calendar
import json
import os
import shutil
import socket
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = os.environ.get("SEAWATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        return f"{e.name} is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


class Server:
    """uvicorn serving ``app`` on a free port of 127.0.0.1, in a thread."""

    def __init__(self, app):
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                                    timeout_graceful_shutdown=1))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self):
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                break
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


class Browser:
    """Chromium with every request checked: anything not for 127.0.0.1 is aborted and recorded."""

    def __init__(self, width=1440, height=900):
        from playwright.sync_api import sync_playwright

        self.pw = sync_playwright().start()
        self.browser = self.pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.context = self.browser.new_context(viewport={"width": width, "height": height}, service_workers="block")
        self.outside: list[str] = []
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda r: self._seen(r.url))
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("websocket", lambda ws: self._seen(ws.url))

    @staticmethod
    def local(url: str) -> bool:
        u = urlparse(url)
        if u.scheme == "data":
            return True
        if u.scheme == "blob":
            u = urlparse(url[5:])
        return u.hostname == "127.0.0.1"

    def _seen(self, url: str) -> None:
        self.requests.append(url)
        if not self.local(url):
            self.outside.append(url)

    def _route(self, route) -> None:
        if self.local(route.request.url):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def close(self) -> None:
        self.context.close()
        self.browser.close()
        self.pw.stop()


def _click_vessel(page, mmsi: int) -> None:
    box = page.evaluate("() => { const r = document.getElementById('map').getBoundingClientRect(); "
                        "return {x: r.left, y: r.top, w: r.width, h: r.height}; }")
    pt = page.evaluate(f"() => window.seawatch.vesselPixel({int(mmsi)})")
    assert pt is not None and 0 < pt["x"] < box["w"] and 0 < pt["y"] < box["h"], (pt, box)
    page.mouse.click(box["x"] + pt["x"], box["y"] + pt["y"])


def _wait(page, js: str, timeout_s: float = 20.0) -> None:
    """Poll ``js`` (a function source) until truthy. (wait_for_function evaluates strings with
    eval, which the page's Content-Security-Policy forbids, as it should.)"""
    t_end = time.monotonic() + timeout_s
    while not page.evaluate(js):
        if time.monotonic() > t_end:
            raise AssertionError(f"timed out waiting for {js}")
        page.wait_for_timeout(100)  # (not time.sleep: Playwright delivers events while it runs)


def _rendered(page, layers) -> int:
    return page.evaluate(f"() => window.seawatch.rendered({json.dumps(layers)})")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    if (why := _missing()) is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test cannot run in CI: {why}")
        pytest.skip(why)
    from seawatch.serve.sample import build_sample_store

    db = tmp_path_factory.mktemp("map") / "db"
    return build_sample_store(db, vessels=20, hours=1.0, seed=3, detections=True)


def test_map_in_chromium(sample, tmp_path):
    import polars as pl

    from seawatch.serve.app import create_app
    from seawatch.store import Store

    db = tmp_path / "db"
    shutil.copytree(sample["db"], db)
    planted = sample["planted"]
    gap = planted.filter(pl.col("event_type") == "ais_gap").row(0, named=True)
    store = Store(db)
    with Server(create_app(db, poll_s=0.3)) as srv:
        b = Browser()
        try:
            page = b.page
            page.goto(srv.url)
            page.wait_for_selector("body[data-ready]", state="attached", timeout=90_000)
            assert page.evaluate("() => document.body.dataset.ready") == "1", page.inner_text("#message")

            # drawn: vessels (arrows or circles), zones, land, events, the event list
            counts = page.evaluate("() => window.seawatch.counts()")
            assert counts["vessels"] >= 15 and counts["zones"] > 10 and counts["events"] >= 3, counts
            assert _rendered(page, ["vessels-arrows", "vessels-stopped"]) >= 10
            assert _rendered(page, ["vessels-arrows"]) >= 1
            assert _rendered(page, ["zones-ts", "zones-cz", "zones-eez", "zones-ts-fill"]) >= 1
            assert _rendered(page, ["zones-custom", "zones-custom-fill"]) >= 1
            assert _rendered(page, ["land"]) >= 1
            assert _rendered(page, ["events"]) >= 2
            assert page.locator(".event-list li").count() >= 3
            assert page.locator("#legend li").count() >= 4
            assert "vessels" in page.inner_text("#summary")

            # click the vessel with the planted AIS gap: its panel opens with identity, risk, track
            _click_vessel(page, gap["mmsi"])
            page.wait_for_selector(f"body[data-panel='{gap['mmsi']}']", state="attached", timeout=20_000)
            panel = page.inner_text("#panel")
            name = store.query("SELECT arg_max(shipname, ts) AS n FROM statics WHERE mmsi = $m", {"m": gap["mmsi"]})["n"][0]
            assert name in page.inner_text("#panel-name")
            assert f"MMSI {gap['mmsi']}" in panel and "JPN" in panel
            assert "AIS gap" in page.inner_text("#panel-risk") and "Encounter" in page.inner_text("#panel-risk")
            assert "Call sign" in page.inner_text("#panel-identity")
            assert "last position" in panel.lower() and "claimed identity" in panel.lower()
            _wait(page, "() => window.seawatch.rendered(['track-line']) >= 1")
            assert page.locator(".tick").count() >= 2  # time ticks along the track
            assert "points" in page.inner_text("#track-info")
            page.screenshot(path=str(tmp_path / "map-vessel.png"))

            # an event in the list selects it on the map and opens its vessel
            enc = planted.filter(pl.col("event_type") == "encounter").row(0, named=True)
            page.click("#f-severity")
            page.select_option("#f-severity", "")
            page.wait_for_selector(f"#event-list li[data-event-id='{enc['event_id']}']", timeout=10_000)
            page.click(f"#event-list li[data-event-id='{enc['event_id']}']")
            page.wait_for_selector(f"body[data-panel='{enc['mmsi']}']", state="attached", timeout=20_000)
            assert "selected" in page.get_attribute(f"#event-list li[data-event-id='{enc['event_id']}']", "class")

            # replay: move the time slider back; vessels are fetched at that time
            t_mid = calendar.timegm(time.strptime("2024-06-01 00:20", "%Y-%m-%d %H:%M")) // 60
            n_req = len(b.requests)
            page.evaluate(f"() => {{ const s = document.getElementById('slider'); s.value = '{t_mid}'; "
                          "s.dispatchEvent(new Event('input')); }")
            _wait(page, "() => document.getElementById('live').textContent.includes('replay')")
            for _ in range(100):
                if any("/api/vessels?" in u and "at=2024-06-01T00%3A20" in u for u in b.requests[n_req:]):
                    break
                page.wait_for_timeout(100)
            assert any("at=2024-06-01T00%3A20" in u for u in b.requests[n_req:]), b.requests[n_req:]
            assert "2024-06-01 00:20" in page.inner_text("#time-label")
            page.click("#to-live")
            _wait(page, "() => !document.getElementById('live').textContent.includes('replay')")

            # live: a new event written to the store shows up in the list without a reload
            page.select_option("#f-severity", "")
            new = planted.filter(pl.col("event_type") == "ais_gap").with_columns(
                pl.lit("feedfacefeedface").alias("event_id"), pl.lit("speed_anomaly").alias("event_type"))
            store.write_derived("events", pl.concat([store.table("events"), new]))
            page.wait_for_selector("#event-list li[data-event-id='feedfacefeedface']", timeout=20_000)
            _wait(page, "() => Number(document.body.dataset.updates || 0) >= 1")
            n_events = sample["events"].height + 1
            assert f"{n_events} events" in page.inner_text("#summary")

            page.screenshot(path=str(tmp_path / "map.png"))
            assert (tmp_path / "map.png").stat().st_size > 50_000
        finally:
            b.close()
    assert b.outside == [], f"requests left 127.0.0.1: {b.outside}"
    assert any("/vendor/maplibre-gl.js" in u for u in b.requests)
    assert b.errors == [], b.errors


def _click_at(page, pt) -> None:
    box = page.evaluate("() => { const r = document.getElementById('map').getBoundingClientRect(); "
                        "return {x: r.left, y: r.top, w: r.width, h: r.height}; }")
    assert pt is not None and 0 < pt["x"] < box["w"] and 0 < pt["y"] < box["h"], (pt, box)
    page.mouse.click(box["x"] + pt["x"], box["y"] + pt["y"])


def _rendered_props(page, layer: str) -> list[dict]:
    return page.evaluate(f"() => window.seawatch.map.queryRenderedFeatures({{layers: ['{layer}']}})"
                         ".map((f) => f.properties)")


def test_map_detections_in_chromium(sample, tmp_path):
    import polars as pl

    from seawatch.serve.app import create_app

    db = tmp_path / "db"
    shutil.copytree(sample["db"], db)
    plots = sample["detections"]
    dark_ids = sorted(i for i in plots["detection_id"] if not i.startswith("ais-"))
    matched_ids = sorted(i for i in plots["detection_id"] if i.startswith("ais-"))
    assert len(dark_ids) == 5 and len(matched_ids) >= 2
    with Server(create_app(db, poll_s=0.3)) as srv:
        b = Browser()
        try:
            page = b.page
            page.goto(srv.url)
            page.wait_for_selector("body[data-ready]", state="attached", timeout=90_000)
            assert page.evaluate("() => document.body.dataset.ready") == "1", page.inner_text("#message")
            counts = page.evaluate("() => window.seawatch.counts()")
            assert counts["detections"] == plots.height and counts["darkTracks"] == 1, counts
            assert f"{plots.height} detections" in page.inner_text("#summary")

            # distinct symbols: dark ones are red diamonds (a symbol layer with its own icon),
            # matched ones small hollow circles; every plot is drawn by exactly one of them
            style = page.evaluate("""() => { const m = window.seawatch.map; return {
                dark: m.getLayer('detections-dark').type, icon: m.getLayoutProperty('detections-dark', 'icon-image'),
                has: m.hasImage('detection-dark'), matched: m.getLayer('detections-matched').type,
                fill: m.getPaintProperty('detections-matched', 'circle-color'),
                track: m.getLayer('dark-tracks').type, dash: m.getPaintProperty('dark-tracks', 'line-dasharray') }; }""")
            assert style == {"dark": "symbol", "icon": "detection-dark", "has": True, "matched": "circle",
                             "fill": "rgba(0,0,0,0)", "track": "line", "dash": [2, 1.5]}, style
            dark = _rendered_props(page, "detections-dark")
            matched = _rendered_props(page, "detections-matched")
            assert sorted({p["detection_id"] for p in dark}) == dark_ids
            assert sorted({p["detection_id"] for p in matched}) == matched_ids
            assert all(p["dark"] is True for p in dark) and all(p["matched"] is True for p in matched)
            tracks = _rendered_props(page, "dark-tracks")
            assert tracks and {p["event_id"] for p in tracks} == set(
                sample["events"].filter(pl.col("event_type") == "dark_track")["event_id"])

            # legend: counts, and toggles that hide and show the layer
            assert page.locator("#detections-section").is_visible()
            legend = page.inner_text("#det-legend")
            assert "Dark" in legend and "Matched to AIS" in legend and "Dark tracks" in legend
            assert page.inner_text("#det-legend li[data-det='dark'] .n") == "5"
            page.click("#det-legend li[data-det='dark']")
            _wait(page, "() => window.seawatch.rendered(['detections-dark']) === 0")
            assert _rendered(page, ["detections-matched"]) == len(matched_ids)
            page.click("#det-legend li[data-det='dark']")
            _wait(page, "() => window.seawatch.rendered(['detections-dark']) === 5")

            # popups (text only): a dark plot, then a matched one (vessels hidden: a vessel on top wins)
            _click_at(page, page.evaluate("() => window.seawatch.detectionPixel('lone')"))
            page.wait_for_selector("#det-popup[data-detection-id='lone']", timeout=10_000)
            text = page.inner_text("#det-popup")
            assert "Dark target" in text and "radar" in text and "70 %" in text and "show event" in text
            page.evaluate("() => ['vessels-arrows', 'vessels-stopped'].forEach((l) => "
                          "window.seawatch.map.setLayoutProperty(l, 'visibility', 'none'))")
            mid = matched_ids[0]
            _click_at(page, page.evaluate(f"() => window.seawatch.detectionPixel('{mid}')"))
            page.wait_for_selector(f"#det-popup[data-detection-id='{mid}']", timeout=10_000)
            text = page.inner_text("#det-popup")
            assert "Matched to AIS" in text and mid.removeprefix("ais-") in text and "150 m" in text
            page.click("#det-popup button")  # open vessel
            page.wait_for_selector(f"body[data-panel='{mid.removeprefix('ais-')}']", state="attached", timeout=20_000)
            # the dark plot's popup leads to its dark_target event in the list
            dt = sample["events"].filter(pl.col("event_type") == "dark_target", pl.col("evidence").str.contains('"lone"'))
            _click_at(page, page.evaluate("() => window.seawatch.detectionPixel('lone')"))
            page.click("#det-popup[data-detection-id='lone'] button")
            page.wait_for_selector(f"#event-list li.selected[data-event-id='{dt['event_id'][0]}']", timeout=10_000)
            page.screenshot(path=str(tmp_path / "map-detections.png"))
        finally:
            b.close()
    assert b.outside == [], f"requests left 127.0.0.1: {b.outside}"
    assert b.errors == [], b.errors


# -- the README's screenshot -----------------------------------------------------------------------------
def make_screenshot(out: Path, scenario: str | None = None, width: int = 1600, height: int = 960) -> Path:
    """Serve a sample store (a simulated scenario as detected, or the small sea with planted
    events), open the map, select the riskiest vessel, save ``out``."""
    import tempfile

    from seawatch.serve.app import create_app
    from seawatch.serve.sample import build_sample_store

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "db"
        build_sample_store(db, scenario=scenario, vessels=40, hours=2.0, seed=0 if scenario else 1,
                           plant=scenario is None)
        with Server(create_app(db)) as srv:
            b = Browser(width, height)
            try:
                page = b.page
                page.goto(srv.url)
                page.wait_for_selector("body[data-ready='1']", state="attached", timeout=120_000)
                top = page.evaluate("() => window.seawatch.state.vessels[0].mmsi")
                page.evaluate(f"() => window.seawatch.select({top})")
                page.wait_for_selector(f"body[data-panel='{top}']", state="attached", timeout=30_000)
                v = page.evaluate("() => { const v = window.seawatch.state.vessels[0]; return [v.lon, v.lat]; }")
                page.evaluate(f"() => window.seawatch.map.jumpTo({{center: [{v[0]}, {v[1]}], zoom: 8.3}})")
                page.wait_for_timeout(2500)
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out))
            finally:
                b.close()
        if b.outside:
            raise SystemExit(f"requests left 127.0.0.1: {b.outside}")
    return out


if __name__ == "__main__":
    args = sys.argv[1:]
    scen = None
    if "--scenario" in args:
        i = args.index("--scenario")
        scen = args[i + 1]
        del args[i:i + 2]
    print(make_screenshot(Path(args[0] if args else "docs/map.png"), scen))
