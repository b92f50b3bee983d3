/* seawatch map: vessels, zones and events of one store, offline.
 *
 * Everything comes from this server: MapLibre GL JS (/vendor), the coastline (/api/land),
 * zones (/api/zones), vessels, tracks and events (/api/...), live updates (/api/live, SSE).
 * Text from AIS is untrusted: it only ever reaches the page as text nodes, never as HTML.
 *
 * Test hooks: document.body.dataset.ready = "1" once land, zones, vessels, events and
 * detections are drawn; window.seawatch exposes the map and the state.
 */
(function () {
  'use strict';

  // -- constants ------------------------------------------------------------------------------
  const TYPE_GROUPS = [
    ['cargo', 'Cargo', '#8fc03f'], ['tanker', 'Tanker', '#e2403a'], ['passenger', 'Passenger', '#2f7fd6'],
    ['high_speed', 'High speed', '#f2d100'], ['fishing', 'Fishing', '#f4a08c'], ['tug_special', 'Tug / special', '#31c4c8'],
    ['pleasure', 'Pleasure', '#c63fd0'], ['other', 'Other', '#7f8c8d'], ['unknown', 'Unknown', '#c3c7cc'],
    ['aton', 'Aid to navigation', '#5b2c83'], ['base_station', 'Base station', '#3d3d3d'], ['sar_aircraft', 'SAR aircraft', '#ff7f00'],
  ];
  const GROUP_COLOR = Object.fromEntries(TYPE_GROUPS.map(([k, , c]) => [k, c]));
  const GROUP_LABEL = Object.fromEntries(TYPE_GROUPS.map(([k, l]) => [k, l]));
  const ZONE_KINDS = [
    ['territorial_sea', 'Territorial sea', 'line', '#2f5f9e'],
    ['contiguous_zone', 'Contiguous zone', 'dash', '#2f5f9e'],
    ['eez', 'EEZ', 'dot', '#5479a8'],
    ['disputed', 'Disputed', 'dash', '#d17f00'],
    ['internal_waters', 'Internal waters', 'line', '#2f5f9e'],
    ['custom', 'User areas', 'line', '#8e44ad'],
  ];
  const SEV_COLOR = { info: '#8c8c8c', low: '#d9b310', medium: '#f08c00', high: '#d62828' };
  const EVENT_LABEL = {
    zone_entry: 'Zone entry', zone_exit: 'Zone exit', port_visit: 'Port visit', ais_gap: 'AIS gap',
    loitering: 'Loitering', encounter: 'Encounter', speed_anomaly: 'Speed anomaly', position_jump: 'Position jump',
    identity_invalid: 'Invalid identity', identity_mismatch: 'Identity mismatch', identity_change: 'Identity change',
    night_coastal_approach: 'Night coastal approach', dark_target: 'Dark target', dark_track: 'Dark track',
  };
  // radar / satellite detections: dark ones (no AIS vessel there) conspicuous, matched ones quiet
  const DARK_COLOR = '#d62828';
  const MATCHED_COLOR = '#56606b';
  const UNCORRELATED_COLOR = '#a3acb6';
  const DET_KINDS = [  // legend key, label, map layers
    ['dark', 'Dark (no AIS there)', ['detections-dark']],
    ['matched', 'Matched to AIS, last hour', ['detections-matched']],
    ['tracks', 'Dark tracks', ['dark-tracks', 'dark-tracks-selected']],
  ];
  const DET_MAX = 20000;
  const MATCHED_WINDOW_S = 3600;  // matched detections: only the last hour's (a radar sees every vessel each sweep)
  const STALE_MAX_S = 6 * 3600;   // replay: vessels not heard for this long are hidden
  const EVENT_PAGE = 200;

  // -- state ----------------------------------------------------------------------------------
  const params = new URLSearchParams(location.search);
  const TOKEN = params.get('token');
  if (TOKEN) {  // the server set a cookie; keep the token out of the address bar
    params.delete('token');
    history.replaceState(null, '', location.pathname + (params.toString() ? '?' + params : ''));
  }
  const S = {
    stats: null, vessels: [], byMmsi: new Map(), events: [], eventsTotal: 0, eventOffset: 0,
    selected: null, detail: null, selectedEvent: null, time: null, t0: null, t1: null,
    hiddenGroups: new Set(), hiddenZones: new Set(), playing: false, trackHours: 6,
    loaded: { land: false, zones: false, vessels: false, events: false, detections: false }, zonesCount: 0, live: false,
    detections: [], detectionsShown: null, correlated: true, darkTracks: [], hiddenDet: new Set(),
  };

  // -- DOM helpers (text only) ----------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  function el(tag, props, ...kids) {
    const e = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v == null) continue;
        if (k === 'class') e.className = v;
        else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
        else if (k === 'color') e.style.background = v;
        else if (k === 'borderColor') e.style.borderTopColor = v;
        else if (k === 'dataset') Object.assign(e.dataset, v);
        else e.setAttribute(k, String(v));
      }
    }
    for (const k of kids.flat()) {
      if (k == null || k === false) continue;
      e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return e;
  }
  const clear = (e) => { while (e.firstChild) e.removeChild(e.firstChild); return e; };

  // -- formatting -------------------------------------------------------------------------------
  const pad = (n) => String(n).padStart(2, '0');
  function fmtTime(iso, withDate) {
    if (!iso) return '—';
    const d = new Date(iso);
    const t = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    return withDate ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${t}` : t;
  }
  function fmtShort(iso) {  // "06-01 19:05": the year is in the time bar
    if (!iso) return '—';
    const d = new Date(iso);
    return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  }
  function fmtFull(ms) {
    const d = new Date(ms);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
  }
  function fmtAge(s) {
    if (s == null) return '';
    if (s < 90) return `${Math.round(s)} s ago`;
    if (s < 5400) return `${Math.round(s / 60)} min ago`;
    if (s < 172800) return `${(s / 3600).toFixed(1)} h ago`;
    return `${Math.round(s / 86400)} days ago`;
  }
  function fmtLatLon(lat, lon) {
    const f = (v, p, n) => {
      const a = Math.abs(v); const d = Math.floor(a); const m = (a - d) * 60;
      return `${d}°${m.toFixed(2).padStart(5, '0')}′${v >= 0 ? p : n}`;
    };
    return `${f(lat, 'N', 'S')} ${f(lon, 'E', 'W')}`;
  }
  const num = (v, d, unit) => (v == null ? '—' : `${Number(v).toFixed(d)}${unit || ''}`);
  const riskColor = (r) => (r >= 50 ? SEV_COLOR.high : r >= 25 ? SEV_COLOR.medium : r > 0 ? SEV_COLOR.low : '#9aa5b1');
  const vesselName = (v) => (v && v.name) || (v && `MMSI ${v.mmsi}`) || '';

  // -- API ---------------------------------------------------------------------------------------
  async function api(path, q) {
    const u = new URL(path, location.origin);
    if (q) for (const [k, v] of Object.entries(q)) {
      if (v == null || v === '') continue;
      if (Array.isArray(v)) v.forEach((x) => u.searchParams.append(k, x)); else u.searchParams.set(k, v);
    }
    const r = await fetch(u, { headers: TOKEN ? { Authorization: 'Bearer ' + TOKEN } : {}, credentials: 'same-origin' });
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (!r.ok) {
      const msg = body && body.error ? body.error.message : `HTTP ${r.status}`;
      throw new Error(msg);
    }
    return body;
  }
  async function allFeatures(path, q, max) {  // GeoJSON pages: {features, total, next_offset}
    let features = []; let offset = 0; let total = 0; let extra = {};
    for (;;) {
      const p = await api(path, Object.assign({}, q, { offset }));
      features = features.concat(p.features); total = p.total; extra = p;
      if (p.next_offset == null || features.length >= max) break;
      offset = p.next_offset;
    }
    return { features, total, correlated: extra.correlated };
  }
  async function allPages(path, q, max) {
    let items = []; let offset = 0; let total = 0;
    for (;;) {
      const p = await api(path, Object.assign({}, q, { offset }));
      items = items.concat(p.items); total = p.total;
      if (p.next_offset == null || items.length >= max) break;
      offset = p.next_offset;
    }
    return { items, total };
  }
  function showMessage(text) {
    const m = $('message');
    if (!text) { m.hidden = true; return; }
    clear(m).append(text); m.hidden = false;
  }

  // -- the map -----------------------------------------------------------------------------------
  const map = new maplibregl.Map({
    container: 'map',
    style: {
      version: 8,
      sources: {},
      layers: [{ id: 'sea', type: 'background', paint: { 'background-color': '#aad3df' } }],
    },
    center: [138.5, 38.0], zoom: 6, maxPitch: 0, dragRotate: false, pitchWithRotate: false,
    attributionControl: false, fadeDuration: 0,
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'nautical' }), 'bottom-right');
  map.addControl(new maplibregl.AttributionControl({
    compact: false,
    customAttribution: 'Coastline and zones © OpenStreetMap contributors (ODbL) · MapLibre GL JS',
  }), 'bottom-right');

  function arrowImage(color) {
    // an arrow pointing north (the map rotates it to the course), drawn at 2x for crispness
    const w = 24, h = 36, c = document.createElement('canvas');
    c.width = w; c.height = h;
    const g = c.getContext('2d');
    g.beginPath();
    g.moveTo(w / 2, 2); g.lineTo(w - 4, h - 4); g.lineTo(w / 2, h - 12); g.lineTo(4, h - 4); g.closePath();
    g.fillStyle = color; g.fill();
    g.lineWidth = 2; g.strokeStyle = 'rgba(0,0,0,0.75)'; g.stroke();
    return g.getImageData(0, 0, w, h);
  }

  function diamondImage(color) {
    // a dark detection: a filled diamond with a white rim, drawn at 2x
    const n = 26, c = document.createElement('canvas');
    c.width = n; c.height = n;
    const g = c.getContext('2d');
    g.beginPath();
    g.moveTo(n / 2, 2); g.lineTo(n - 2, n / 2); g.lineTo(n / 2, n - 2); g.lineTo(2, n / 2); g.closePath();
    g.fillStyle = color; g.fill();
    g.lineWidth = 3; g.strokeStyle = '#ffffff'; g.stroke();
    g.lineWidth = 1; g.strokeStyle = 'rgba(0,0,0,0.55)'; g.stroke();
    return g.getImageData(0, 0, n, n);
  }

  const ageOpacity = ['interpolate', ['linear'], ['coalesce', ['get', 'age_s'], 0], 600, 1, 3600, 0.45, 21600, 0.22];
  const groupColor = ['match', ['get', 'type_group'], ...TYPE_GROUPS.flatMap(([k, , c]) => [k, c]), '#c3c7cc'];
  const sevColor = ['match', ['get', 'severity'], ...Object.entries(SEV_COLOR).flat(), '#8c8c8c'];
  const EMPTY = { type: 'FeatureCollection', features: [] };

  function addLayers() {
    map.addSource('land', { type: 'geojson', data: EMPTY });
    map.addLayer({ id: 'land', type: 'fill', source: 'land', paint: { 'fill-color': '#f2efe9' } });
    map.addLayer({ id: 'coast', type: 'line', source: 'land', paint: { 'line-color': '#a9a08e', 'line-width': 0.8 } });

    map.addSource('zones', { type: 'geojson', data: EMPTY });
    const kindIs = (k) => ['==', ['get', 'kind'], k];
    map.addLayer({ id: 'zones-ts-fill', type: 'fill', source: 'zones', filter: ['any', kindIs('territorial_sea'), kindIs('internal_waters')],
      paint: { 'fill-color': '#2f5f9e', 'fill-opacity': 0.06 } });
    map.addLayer({ id: 'zones-disputed-fill', type: 'fill', source: 'zones', filter: kindIs('disputed'),
      paint: { 'fill-color': '#f0a030', 'fill-opacity': 0.14 } });
    map.addLayer({ id: 'zones-custom-fill', type: 'fill', source: 'zones', filter: kindIs('custom'),
      paint: { 'fill-color': '#8e44ad', 'fill-opacity': 0.12 } });
    map.addLayer({ id: 'zones-ts', type: 'line', source: 'zones', filter: ['any', kindIs('territorial_sea'), kindIs('internal_waters')],
      paint: { 'line-color': '#2f5f9e', 'line-width': 1.2, 'line-opacity': 0.8 } });
    map.addLayer({ id: 'zones-cz', type: 'line', source: 'zones', filter: kindIs('contiguous_zone'),
      paint: { 'line-color': '#2f5f9e', 'line-width': 1, 'line-dasharray': [4, 3], 'line-opacity': 0.7 } });
    map.addLayer({ id: 'zones-eez', type: 'line', source: 'zones', filter: kindIs('eez'),
      paint: { 'line-color': '#5479a8', 'line-width': 1, 'line-dasharray': [1, 2], 'line-opacity': 0.7 } });
    map.addLayer({ id: 'zones-disputed', type: 'line', source: 'zones', filter: kindIs('disputed'),
      paint: { 'line-color': '#d17f00', 'line-width': 1.2, 'line-dasharray': [3, 2] } });
    map.addLayer({ id: 'zones-custom', type: 'line', source: 'zones', filter: kindIs('custom'),
      paint: { 'line-color': '#8e44ad', 'line-width': 2 } });

    map.addSource('track', { type: 'geojson', data: EMPTY });
    map.addLayer({ id: 'track-line', type: 'line', source: 'track', filter: ['==', ['geometry-type'], 'LineString'],
      paint: { 'line-color': '#10263f', 'line-width': 2, 'line-opacity': 0.75 }, layout: { 'line-join': 'round' } });
    map.addLayer({ id: 'track-points', type: 'circle', source: 'track', filter: ['==', ['get', 'kind'], 'point'],
      paint: { 'circle-radius': 2, 'circle-color': '#10263f', 'circle-opacity': 0.6 } });
    map.addLayer({ id: 'track-noise', type: 'circle', source: 'track', filter: ['==', ['get', 'kind'], 'noise'],
      paint: { 'circle-radius': 4, 'circle-color': '#d62828', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } });
    map.addLayer({ id: 'track-ticks', type: 'circle', source: 'track', filter: ['==', ['get', 'kind'], 'tick'],
      paint: { 'circle-radius': 4, 'circle-color': '#fff', 'circle-stroke-color': '#10263f', 'circle-stroke-width': 2 } });

    map.addSource('events', { type: 'geojson', data: EMPTY });
    map.addLayer({ id: 'events-selected', type: 'circle', source: 'events', filter: ['==', ['get', 'event_id'], ''],
      paint: { 'circle-radius': 16, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#10263f', 'circle-stroke-width': 3 } });
    map.addLayer({ id: 'events', type: 'circle', source: 'events',
      paint: { 'circle-radius': ['match', ['get', 'severity'], 'high', 7, 'medium', 6, 5], 'circle-color': sevColor,
        'circle-opacity': 0.25, 'circle-stroke-color': sevColor, 'circle-stroke-width': 1.5, 'circle-stroke-opacity': 0.9 } });

    // detections: dark tracks (dashed red lines through their detections), matched detections
    // (small hollow grey circles), dark detections (red diamonds)
    map.addSource('dark-tracks', { type: 'geojson', data: EMPTY });
    map.addLayer({ id: 'dark-tracks-selected', type: 'line', source: 'dark-tracks', filter: ['==', ['get', 'event_id'], ''],
      paint: { 'line-color': '#10263f', 'line-width': 6, 'line-opacity': 0.35 }, layout: { 'line-join': 'round', 'line-cap': 'round' } });
    map.addLayer({ id: 'dark-tracks', type: 'line', source: 'dark-tracks', filter: ['==', ['geometry-type'], 'LineString'],
      paint: { 'line-color': DARK_COLOR, 'line-width': 2.2, 'line-dasharray': [2, 1.5], 'line-opacity': 0.9 },
      layout: { 'line-join': 'round' } });
    map.addSource('detections', { type: 'geojson', data: EMPTY });
    map.addLayer({ id: 'detections-matched', type: 'circle', source: 'detections', filter: ['!=', ['get', 'dark'], true],
      paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 5, 2, 9, 3, 12, 5], 'circle-color': 'rgba(0,0,0,0)',
        'circle-stroke-color': ['case', ['==', ['get', 'matched'], true], MATCHED_COLOR, UNCORRELATED_COLOR],
        'circle-stroke-width': 1.2, 'circle-stroke-opacity': 0.8 } });
    map.addImage('detection-dark', diamondImage(DARK_COLOR), { pixelRatio: 2 });
    map.addLayer({ id: 'detections-dark', type: 'symbol', source: 'detections', filter: ['==', ['get', 'dark'], true],
      layout: { 'icon-image': 'detection-dark', 'icon-allow-overlap': true, 'icon-ignore-placement': true,
        'icon-size': ['interpolate', ['linear'], ['zoom'], 5, 0.55, 9, 0.8, 12, 1.15] } });

    for (const [k, , c] of TYPE_GROUPS) map.addImage('arrow-' + k, arrowImage(c), { pixelRatio: 2 });
    map.addSource('vessels', { type: 'geojson', data: EMPTY });
    map.addLayer({ id: 'vessels-risk', type: 'circle', source: 'vessels', filter: ['>=', ['get', 'risk'], 25],
      paint: { 'circle-radius': 13, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-width': 2.5, 'circle-stroke-opacity': ageOpacity,
        'circle-stroke-color': ['case', ['>=', ['get', 'risk'], 50], SEV_COLOR.high, SEV_COLOR.medium] } });
    map.addLayer({ id: 'vessels-selected', type: 'circle', source: 'vessels', filter: ['==', ['get', 'mmsi'], -1],
      paint: { 'circle-radius': 17, 'circle-color': 'rgba(31,95,168,0.15)', 'circle-stroke-color': '#1f5fa8', 'circle-stroke-width': 2 } });
    map.addLayer({ id: 'vessels-stopped', type: 'circle', source: 'vessels', filter: ['!', ['get', 'moving']],
      paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 5, 3, 10, 5], 'circle-color': groupColor,
        'circle-stroke-color': 'rgba(0,0,0,0.7)', 'circle-stroke-width': 1, 'circle-opacity': ageOpacity, 'circle-stroke-opacity': ageOpacity } });
    map.addLayer({ id: 'vessels-arrows', type: 'symbol', source: 'vessels', filter: ['get', 'moving'],
      layout: { 'icon-image': ['concat', 'arrow-', ['get', 'type_group']], 'icon-rotate': ['get', 'course_deg'],
        'icon-rotation-alignment': 'map', 'icon-allow-overlap': true, 'icon-ignore-placement': true,
        'icon-size': ['interpolate', ['linear'], ['zoom'], 5, 0.75, 10, 1.1] },
      paint: { 'icon-opacity': ageOpacity } });
  }

  const VESSEL_LAYERS = ['vessels-arrows', 'vessels-stopped'];
  const DETECTION_LAYERS = ['detections-dark', 'detections-matched'];

  // -- data -> map ------------------------------------------------------------------------------------
  function vesselFeatures() {
    return {
      type: 'FeatureCollection',
      features: S.vessels.filter((v) => !S.hiddenGroups.has(v.type_group)).map((v) => ({
        type: 'Feature', id: v.mmsi, geometry: { type: 'Point', coordinates: [v.lon, v.lat] },
        properties: { mmsi: v.mmsi, type_group: v.type_group, moving: !!v.moving, course_deg: v.course_deg || 0,
          age_s: v.age_s, risk: v.risk, name: v.name || '' },
      })),
    };
  }
  function eventFeatures() {
    return {
      type: 'FeatureCollection',
      features: S.events.filter((e) => e.lat != null && e.lon != null).map((e) => ({
        type: 'Feature', geometry: { type: 'Point', coordinates: [e.lon, e.lat] },
        properties: { event_id: e.event_id, severity: e.severity, event_type: e.event_type, mmsi: e.mmsi },
      })),
    };
  }
  const refTime = () => (S.time == null ? null : new Date(S.time).toISOString().replace('.000Z', 'Z'));

  async function loadVessels() {
    const q = { limit: 5000, sort: '-risk' };
    if (S.time != null) Object.assign(q, { at: refTime(), max_age_s: STALE_MAX_S });
    const res = await allPages('/api/vessels', q, 50000);
    S.vessels = res.items;
    S.byMmsi = new Map(S.vessels.map((v) => [v.mmsi, v]));
    map.getSource('vessels').setData(vesselFeatures());
    renderLegend();
    S.loaded.vessels = true;
  }

  function eventQuery(offset) {
    const q = { limit: EVENT_PAGE, offset, sort: '-start_time' };
    const sev = $('f-severity').value; if (sev) q.min_severity = sev;
    const ty = $('f-type').value; if (ty) q.type = ty;
    if (S.time != null) q.end = refTime();
    return q;
  }
  async function loadEvents(append) {
    const offset = append ? S.events.length : 0;
    const p = await api('/api/events', eventQuery(offset));
    S.events = append ? S.events.concat(p.items) : p.items;
    S.eventsTotal = p.total;
    map.getSource('events').setData(eventFeatures());
    renderEvents();
    S.loaded.events = true;
  }

  // detections up to the reference time (the slider's, else the latest data): every dark one
  // (newest first, at most DET_MAX) and the dark tracks begun by then, but only the last hour's
  // others (matched to AIS, or not matched yet)
  async function loadDetections() {
    const end = refTime();
    const ref = S.time != null ? S.time : S.t1;
    const start = ref != null ? new Date(ref - MATCHED_WINDOW_S * 1000).toISOString().replace('.000Z', 'Z') : null;
    const [dark, t, recent] = await Promise.all([
      allFeatures('/api/detections', { dark: true, end, limit: 5000 }, DET_MAX),
      allFeatures('/api/dark_tracks', { end, limit: 5000 }, DET_MAX),
      allFeatures('/api/detections', { start, end, limit: 5000 }, DET_MAX),
    ]);
    S.detections = dark.features.concat(recent.features.filter((f) => f.properties.dark !== true));
    S.detectionsShown = { capped: dark.features.length < dark.total || recent.features.length < recent.total };
    S.correlated = dark.correlated !== false;
    S.darkTracks = t.features;
    map.getSource('detections').setData({ type: 'FeatureCollection', features: S.detections });
    map.getSource('dark-tracks').setData({ type: 'FeatureCollection', features: S.darkTracks });
    renderDetectionLegend();
    S.loaded.detections = true;
  }

  async function loadZones() {
    const fc = { type: 'FeatureCollection', features: [] };
    let offset = 0;
    for (;;) {
      const kinds = ZONE_KINDS.map(([k]) => k);
      const p = await api('/api/zones', { kind: kinds, limit: 500, offset });
      fc.features = fc.features.concat(p.features);
      if (p.next_offset == null) break;
      offset = p.next_offset;
    }
    S.zonesCount = fc.features.length;
    map.getSource('zones').setData(fc);
    renderZoneLegend(fc.features);
    S.loaded.zones = true;
  }

  async function loadStats() {
    S.stats = await api('/api/stats');
    const st = S.stats;
    const t0 = st.time_start ? Date.parse(st.time_start) : null;
    const t1 = st.time_end ? Date.parse(st.time_end) : null;
    S.t0 = t0; S.t1 = t1;
    const slider = $('slider');
    if (t0 != null && t1 != null) {
      slider.min = String(Math.floor(t0 / 60000)); slider.max = String(Math.ceil(t1 / 60000));
      slider.disabled = false;
      if (S.time == null) slider.value = slider.max;
    } else {
      slider.disabled = true;
    }
    renderSummary();
    renderTime();
  }

  // -- rendering: header, legend, events ----------------------------------------------------------------
  function renderSummary() {
    const st = S.stats; if (!st) return;
    const parts = [
      `${st.vessels.toLocaleString()} vessels`, `${st.positions.toLocaleString()} positions`,
      `${(st.events || 0).toLocaleString()} events`,
    ];
    const det = st.derived && st.derived.detections;
    if (det && det.rows) parts.push(`${det.rows.toLocaleString()} detections`);
    if (st.time_start) parts.push(`${fmtTime(st.time_start, true)} – ${fmtTime(st.time_end, true)} UTC`);
    clear($('summary')).append(parts.join(' · '));
  }

  function renderLegend() {
    const counts = {};
    for (const v of S.vessels) counts[v.type_group] = (counts[v.type_group] || 0) + 1;
    const ul = clear($('legend'));
    for (const [k, label, color] of TYPE_GROUPS) {
      if (!counts[k] && ['aton', 'base_station', 'sar_aircraft', 'other'].includes(k)) continue;
      ul.append(el('li', { class: S.hiddenGroups.has(k) ? 'off' : '', title: 'show / hide', dataset: { group: k },
        on: { click: () => { S.hiddenGroups.has(k) ? S.hiddenGroups.delete(k) : S.hiddenGroups.add(k);
          map.getSource('vessels').setData(vesselFeatures()); renderLegend(); } } },
      el('span', { class: 'swatch', color }), label, el('span', { class: 'n' }, counts[k] || 0)));
    }
  }

  function renderZoneLegend(features) {
    const counts = {};
    for (const f of features) counts[f.properties.kind] = (counts[f.properties.kind] || 0) + 1;
    const ul = clear($('zone-legend'));
    const layersOf = { territorial_sea: ['zones-ts', 'zones-ts-fill'], internal_waters: [], contiguous_zone: ['zones-cz'],
      eez: ['zones-eez'], disputed: ['zones-disputed', 'zones-disputed-fill'], custom: ['zones-custom', 'zones-custom-fill'] };
    for (const [k, label, style, color] of ZONE_KINDS) {
      if (!counts[k] && k !== 'custom') continue;
      const sw = el('span', { class: 'swatch ' + style }); sw.style.borderTopColor = color;
      ul.append(el('li', { class: S.hiddenZones.has(k) ? 'off' : '', dataset: { kind: k }, on: { click: () => {
        S.hiddenZones.has(k) ? S.hiddenZones.delete(k) : S.hiddenZones.add(k);
        for (const id of layersOf[k] || []) map.setLayoutProperty(id, 'visibility', S.hiddenZones.has(k) ? 'none' : 'visible');
        renderZoneLegend(features);
      } } }, sw, label, el('span', { class: 'n' }, counts[k] || 0)));
    }
  }

  function renderDetectionLegend() {
    const sec = $('detections-section');
    const n = { dark: 0, matched: 0, unknown: 0, tracks: S.darkTracks.length };
    for (const f of S.detections) {
      const p = f.properties;
      if (p.dark === true) n.dark++; else if (p.matched === true) n.matched++; else n.unknown++;
    }
    const det = S.stats && S.stats.derived && S.stats.derived.detections;
    const total = (det && det.rows) || 0;
    sec.hidden = !total && !S.detections.length && !S.darkTracks.length;
    clear($('det-count')).append(total ? `(${total.toLocaleString()} in all${S.detectionsShown && S.detectionsShown.capped
      ? `, ${S.detections.length.toLocaleString()} drawn` : ''})` : '');
    const ul = clear($('det-legend'));
    const swatch = {
      dark: () => el('span', { class: 'swatch diamond', color: DARK_COLOR }),
      matched: () => { const e = el('span', { class: 'swatch ring' }); e.style.borderColor = MATCHED_COLOR; return e; },
      tracks: () => { const e = el('span', { class: 'swatch dash' }); e.style.borderTopColor = DARK_COLOR; return e; },
    };
    for (const [k, label, layers] of DET_KINDS) {
      ul.append(el('li', { class: S.hiddenDet.has(k) ? 'off' : '', title: 'show / hide', dataset: { det: k }, on: { click: () => {
        S.hiddenDet.has(k) ? S.hiddenDet.delete(k) : S.hiddenDet.add(k);
        for (const id of layers) map.setLayoutProperty(id, 'visibility', S.hiddenDet.has(k) ? 'none' : 'visible');
        renderDetectionLegend();
      } } }, swatch[k](), label, el('span', { class: 'n' }, n[k])));
    }
    if (!S.correlated) {
      ul.append(el('li', { class: 'note' }, 'last hour, not matched to AIS yet (seawatch detect does)',
        el('span', { class: 'n' }, n.unknown)));
    }
  }

  function evidenceText(ev) {
    const e = ev.evidence || {};
    const keys = Object.keys(e).filter((k) => !['seg_id', 'next_seg_id'].includes(k)).slice(0, 6);
    return keys.map((k) => `${k}: ${typeof e[k] === 'object' ? JSON.stringify(e[k]) : e[k]}`).join(' · ');
  }

  function eventItem(ev, compact) {
    const who = [ev.shipname || (ev.mmsi != null ? `MMSI ${ev.mmsi}` : '')];
    if (ev.mmsi == null && /^dark_/.test(ev.event_type)) who[0] = 'unidentified: no AIS';
    if (ev.other_mmsi != null) who.push(' ↔ ', ev.other_shipname || `MMSI ${ev.other_mmsi}`);
    const li = el('li', { class: `sev-${ev.severity}` + (S.selectedEvent === ev.event_id ? ' selected' : ''),
      dataset: { eventId: ev.event_id },
      on: { click: () => selectEvent(ev), mouseenter: () => highlightEvent(ev.event_id), mouseleave: () => highlightEvent(S.selectedEvent) } },
    el('div', { class: 't1' }, el('span', { class: 'type' }, EVENT_LABEL[ev.event_type] || ev.event_type),
      el('span', { class: `chip ${ev.severity}` }, ev.severity),
      el('span', { class: 'when' }, fmtShort(ev.start_time) + (ev.status === 'open' ? ' · open' : ''))),
    compact ? null : el('div', { class: 'who' }, ...who),
    el('div', { class: 'where' }, ev.zone_name || ''),
    compact ? el('div', { class: 'evidence' }, evidenceText(ev)) : null);
    return li;
  }

  function renderEvents() {
    const ol = clear($('event-list'));
    for (const ev of S.events) ol.append(eventItem(ev, false));
    clear($('event-count')).append(`(${S.events.length} of ${S.eventsTotal})`);
    $('more-events').hidden = S.events.length >= S.eventsTotal;
  }

  function highlightEvent(id) {
    map.setFilter('events-selected', ['==', ['get', 'event_id'], id || '']);
    map.setFilter('dark-tracks-selected', ['==', ['get', 'event_id'], id || '']);
  }

  // -- selection ---------------------------------------------------------------------------------------
  async function selectEvent(ev) {
    S.selectedEvent = ev.event_id;
    highlightEvent(ev.event_id);
    for (const li of document.querySelectorAll('.event-list li')) li.classList.toggle('selected', li.dataset.eventId === ev.event_id);
    if (ev.lat != null) map.easeTo({ center: [ev.lon, ev.lat], zoom: Math.max(map.getZoom(), 9), duration: 600 });
    if (ev.mmsi != null) await selectVessel(ev.mmsi, { fly: false });
  }

  let selectSeq = 0;
  async function selectVessel(mmsi, opts) {
    const seq = ++selectSeq;
    S.selected = mmsi;
    map.setFilter('vessels-selected', ['==', ['get', 'mmsi'], mmsi]);
    const panel = $('panel');
    panel.hidden = false;
    clear(panel).append(el('div', { class: 'head' }, el('div', { class: 'name' }, 'loading…')));
    let detail, evs;
    try {
      [detail, evs] = await Promise.all([
        api(`/api/vessels/${mmsi}`),
        api('/api/events', { mmsi, limit: 200, sort: '-start_time', end: refTime() }),
      ]);
    } catch (e) {
      if (seq === selectSeq) clear(panel).append(el('div', { class: 'head' }, el('div', { class: 'name' }, String(e.message || e))));
      return;
    }
    if (seq !== selectSeq) return;
    S.detail = detail;
    renderPanel(detail, evs);
    await loadTrack();
    const v = S.byMmsi.get(mmsi);
    if (opts && opts.fly && v) map.easeTo({ center: [v.lon, v.lat], zoom: Math.max(map.getZoom(), 9), duration: 600 });
    document.body.dataset.panel = String(mmsi);
  }

  function closePanel() {
    S.selected = null; S.detail = null;
    $('panel').hidden = true;
    delete document.body.dataset.panel;
    map.setFilter('vessels-selected', ['==', ['get', 'mmsi'], -1]);
    map.getSource('track').setData(EMPTY);
    S.ticks = [];
    clearTicks();
  }

  function row(label, ...value) { return el('tr', null, el('td', null, label), el('td', null, ...value)); }

  function renderPanel(d, evs) {
    const id = d.identity, fl = d.flag;
    let lp = d.last_position, pl = d.place;
    const v = S.byMmsi.get(d.mmsi) || {};
    const panel = clear($('panel'));
    const color = GROUP_COLOR[id.type_group] || '#c3c7cc';
    panel.append(el('div', { class: 'head' },
      el('button', { class: 'close', title: 'close', 'aria-label': 'close', on: { click: closePanel } }, '×'),
      el('div', { class: 'name', id: 'panel-name' }, el('span', { class: 'swatch', color }), id.name || 'name not declared'),
      el('div', { class: 'sub' }, `MMSI ${d.mmsi}`, ' · ', fl.state ? `${fl.state} (${fl.name || '?'})` : 'no flag from MMSI',
        ' · ', id.ship_type_text || GROUP_LABEL[id.type_group] || 'type not declared')));

    // risk and why
    const r = d.risk;
    const reasons = el('ul', { class: 'reasons' });
    for (const x of r.reasons) {
      reasons.append(el('li', { on: { click: () => { const ev = { event_id: x.event_id, lat: x.lat, lon: x.lon, mmsi: null };
        S.selectedEvent = x.event_id; highlightEvent(x.event_id);
        if (ev.lat != null) map.easeTo({ center: [ev.lon, ev.lat], zoom: Math.max(map.getZoom(), 9) }); } } },
      el('span', { class: `chip ${x.severity}` }, x.severity), EVENT_LABEL[x.event_type] || x.event_type,
      el('span', { class: 'when' }, fmtShort(x.start_time)), el('span', { class: 'pts' }, `+${Number(x.points).toFixed(1)}`)));
    }
    const bar = el('div'); bar.style.width = `${Math.min(100, r.score)}%`; bar.style.background = riskColor(r.score);
    panel.append(el('section', { id: 'panel-risk' }, el('h2', null, 'Risk'),
      el('div', { class: 'risk' }, el('span', { class: 'score' }, Number(r.score).toFixed(0)), el('div', { class: 'bar' }, bar),
        el('span', null, `${r.n_events} event${r.n_events === 1 ? '' : 's'}`)),
      r.reasons.length ? reasons : el('div', { class: 'evidence' }, 'nothing suspicious found')));

    // identity
    const csNote = fl.callsign_state ? [` (series of ${fl.callsign_state})`,
      fl.callsign_matches_flag === false ? el('span', { class: 'warn' }, ' ≠ flag') : null] : [];
    const imoNote = id.imo == null ? [] : [id.imo_valid ? el('span', { class: 'ok' }, ' ✓') : el('span', { class: 'warn' }, ' check digit fails')];
    const mmsiNote = fl.mmsi_problem ? el('span', { class: 'warn' }, ` ${fl.mmsi_problem.replace(/_/g, ' ')}`) : null;
    const size = id.length_m != null ? `${id.length_m} × ${id.beam_m != null ? id.beam_m : '?'} m` : '—';
    panel.append(el('section', { id: 'panel-identity' }, el('h2', null, 'Claimed identity'), el('table', null,
      row('Call sign', id.callsign || '—', ...csNote),
      row('IMO', id.imo != null ? String(id.imo) : '—', ...imoNote),
      row('MMSI', `${d.mmsi} · ${fl.mmsi_kind ? fl.mmsi_kind.replace(/_/g, ' ') : '?'}`, mmsiNote),
      row('Flag (MID)', fl.state ? `${fl.name || fl.state} (MID ${fl.mid})` : '—'),
      row('Type', id.ship_type != null ? `${id.ship_type_text || '?'} (${id.ship_type})` : '—'),
      row('Size', size), row('Draught', num(id.draught_m, 1, ' m')),
      row('Destination', id.destination || '—'), row('ETA', id.eta || '—'), row('AIS class', id.ais_class || '—'))));

    // history of declared values
    const hist = el('ul', { class: 'history' });
    for (const [field, vals] of Object.entries(d.identity_history || {})) {
      if (vals.length < 2) continue;
      hist.append(el('li', null, `${field}: `, vals.map((h) => `${h.value} (${fmtTime(h.first_seen, true)}–${fmtTime(h.last_seen)})`).join(' → ')));
    }
    if (hist.childNodes.length) panel.append(el('section', null, el('h2', null, 'Identity changes'), hist));

    // where and how (in replay: where it was at the slider's time)
    const replay = S.time != null && v.ts;
    if (replay) {
      lp = { ts: v.ts, lat: v.lat, lon: v.lon, sog_kn: v.sog_kn, cog_deg: v.cog_deg, heading_deg: v.heading_deg,
        nav_status_text: v.nav_status_text };
      pl = null;
    }
    if (lp) {
      panel.append(el('section', { id: 'panel-position' }, el('h2', null, replay ? 'Position at replay time' : 'Last position'), el('table', null,
        row('Time', `${fmtTime(lp.ts, true)} UTC`, v.age_s != null ? ` · ${fmtAge(v.age_s)}` : ''),
        row('Position', fmtLatLon(lp.lat, lp.lon)),
        row('Speed / course', `${num(lp.sog_kn, 1, ' kn')} / ${num(lp.cog_deg, 0, '°')}`),
        row('Heading', num(lp.heading_deg, 0, '°')),
        row('Status', lp.nav_status_text || '—'),
        pl ? row('Zone', pl.zone_name || (pl.on_land ? 'on land' : '—')) : null,
        pl ? row('To shore', num(pl.dist_to_shore_nm, 1, ' nm')) : null,
        pl && pl.port_name ? row('Nearest port', `${pl.port_name} (${num(pl.port_dist_km, 1, ' km')})`) : null,
        pl && pl.is_night != null ? row('Light', pl.is_night ? 'night' : 'day') : null)));
    }

    // track window
    const sel = el('select', { id: 'track-hours', on: { change: (e) => { S.trackHours = Number(e.target.value); loadTrack(); } } },
      ...[[1, '1 h'], [6, '6 h'], [24, '24 h'], [0, 'all']].map(([h, l]) => {
        const o = el('option', { value: h }, l); if (h === S.trackHours) o.selected = true; return o;
      }));
    panel.append(el('section', { id: 'panel-track' }, el('h2', null, 'Track'),
      el('div', { class: 'track-ctl' }, 'last', sel, el('span', { id: 'track-info', class: 'evidence' }, ''))));

    // events of this vessel
    const list = el('ol', { class: 'event-list' });
    for (const ev of evs.items) list.append(eventItem(ev, true));
    panel.append(el('section', { id: 'panel-events' }, el('h2', null, `Events (${evs.total})`),
      evs.items.length ? list : el('div', { class: 'evidence' }, 'none')));
  }

  // -- track with time ticks --------------------------------------------------------------------------
  let tickMarkers = [];
  function clearTicks() { tickMarkers.forEach((m) => m.remove()); tickMarkers = []; }
  function placeTickLabels() {  // a label for each tick that is not too close to the last one labelled
    clearTicks();
    let last = null;
    for (const k of S.ticks || []) {
      const p = map.project([k.lon, k.lat]);
      if (last && Math.hypot(p.x - last.x, p.y - last.y) < 34) continue;
      last = p;
      const label = el('div', { class: 'tick' }, fmtTime(new Date(k.t).toISOString()));
      tickMarkers.push(new maplibregl.Marker({ element: label, anchor: 'left', offset: [7, 0] }).setLngLat([k.lon, k.lat]).addTo(map));
    }
  }

  async function loadTrack() {
    if (S.selected == null) return;
    const mmsi = S.selected;
    const end = S.time != null ? S.time : (S.t1 || Date.now());
    const q = { limit: 20000 };
    q.end = new Date(end).toISOString().replace('.000Z', 'Z');
    if (S.trackHours > 0) q.start = new Date(end - S.trackHours * 3600e3).toISOString().replace('.000Z', 'Z');
    let p;
    try { p = await api(`/api/vessels/${mmsi}/track`, q); } catch (e) { p = { items: [], total: 0, source: '' }; }
    if (mmsi !== S.selected) return;
    const feats = [];
    const bySeg = new Map();
    for (const pt of p.items) {
      if (pt.is_noise) {
        feats.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [pt.lon, pt.lat] }, properties: { kind: 'noise' } });
        continue;
      }
      const k = pt.seg_id || 'all';
      if (!bySeg.has(k)) bySeg.set(k, []);
      bySeg.get(k).push(pt);
    }
    for (const pts of bySeg.values()) {
      if (pts.length > 1) feats.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: pts.map((x) => [x.lon, x.lat]) }, properties: { kind: 'line' } });
      if (pts.length < 400) for (const x of pts) feats.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [x.lon, x.lat] }, properties: { kind: 'point' } });
    }
    // time ticks: round times, at most ~12, interpolated along the track
    clearTicks();
    S.ticks = [];
    const good = p.items.filter((x) => !x.is_noise);
    if (good.length > 1) {
      const ta = Date.parse(good[0].ts), tb = Date.parse(good[good.length - 1].ts);
      const steps = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * 60e3);
      const step = steps.find((s) => (tb - ta) / s <= 12) || steps[steps.length - 1];
      let j = 0;
      for (let t = Math.ceil(ta / step) * step; t <= tb; t += step) {
        while (j < good.length - 2 && Date.parse(good[j + 1].ts) < t) j++;
        const a = good[j], b = good[j + 1];
        const t1 = Date.parse(a.ts), t2 = Date.parse(b.ts);
        if (t2 - t1 > 3 * 3600e3) continue;  // no tick inside a long gap
        const f = t2 > t1 ? Math.min(1, Math.max(0, (t - t1) / (t2 - t1))) : 0;
        const lon = a.lon + (b.lon - a.lon) * f, lat = a.lat + (b.lat - a.lat) * f;
        feats.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [lon, lat] }, properties: { kind: 'tick' } });
        S.ticks.push({ t, lon, lat });
      }
    }
    placeTickLabels();
    map.getSource('track').setData({ type: 'FeatureCollection', features: feats });
    const info = $('track-info');
    if (info) clear(info).append(`${p.total} points${p.source ? ' from ' + p.source : ''}`);
  }

  // -- time slider and replay ------------------------------------------------------------------------
  function renderTime() {
    const live = S.time == null;
    const t = live ? S.t1 : S.time;
    clear($('time-label')).append(t != null ? fmtFull(t) : 'no timed data');
    $('to-live').disabled = live;
    const badge = $('live');
    badge.className = 'live ' + (live ? (S.live ? 'on' : 'off') : 'replay');
    clear(badge).append(live ? (S.live ? '● live' : '● offline') : '◷ replay');
  }

  let refreshTimer = null;
  function scheduleRefresh(delay) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshAll, delay == null ? 150 : delay);
  }
  let refreshing = false, again = false;
  async function refreshAll() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      await Promise.all([loadVessels(), loadEvents(false), loadDetections()]);
      if (S.selected != null) await loadTrack();
    } catch (e) {
      showMessage(String(e.message || e));
    } finally {
      refreshing = false;
      if (again) { again = false; scheduleRefresh(0); }
    }
  }

  function setTime(ms) {
    if (S.t1 != null && ms >= S.t1) S.time = null; else S.time = ms;
    if (S.time == null) $('slider').value = $('slider').max;
    renderTime();
    scheduleRefresh();
  }

  let playTimer = null;
  function play(on) {
    S.playing = on;
    $('play').textContent = on ? '❚❚' : '▶';
    clearInterval(playTimer);
    if (!on) return;
    if (S.time == null && S.t0 != null) setTime(S.t0);
    playTimer = setInterval(() => {
      const speed = Number($('speed').value);
      const next = (S.time == null ? S.t0 : S.time) + speed * 1000;
      $('slider').value = String(Math.floor(next / 60000));
      setTime(next);
      if (S.time == null) play(false);
    }, 1000);
  }

  // -- live updates ------------------------------------------------------------------------------------
  function connectLive() {
    let es;
    try { es = new EventSource('/api/live'); } catch (e) { return; }
    es.addEventListener('hello', () => { S.live = true; renderTime(); });
    es.addEventListener('update', async (msg) => {
      S.live = true;
      let data = {};
      try { data = JSON.parse(msg.data); } catch (e) { /* ignore */ }
      try {
        await loadStats();
        if (S.time == null) {
          const changed = data.changed || [];
          if (changed.includes('zones')) await loadZones();
          await refreshAll();
          if (S.selected != null) await selectVessel(S.selected, { fly: false });
        }
      } catch (e) {
        showMessage(String(e.message || e));
      }
      renderTime();
      document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    });
    es.onerror = () => { S.live = false; renderTime(); };
    es.onopen = () => { S.live = true; renderTime(); };
  }

  // -- search --------------------------------------------------------------------------------------------
  let searchTimer = null;
  function wireSearch() {
    const input = $('search'), out = $('search-results');
    input.addEventListener('input', () => {
      clearTimeout(searchTimer);
      const q = input.value.trim();
      if (!q) { out.hidden = true; return; }
      searchTimer = setTimeout(async () => {
        let res;
        try { res = await api('/api/vessels', { q, limit: 12, sort: '-risk', at: refTime() }); } catch (e) { return; }
        clear(out);
        for (const v of res.items) {
          out.append(el('li', { on: { click: () => { out.hidden = true; input.value = ''; selectVessel(v.mmsi, { fly: true }); } } },
            el('span', { class: 'swatch', color: GROUP_COLOR[v.type_group] }), ' ', vesselName(v), ` · ${v.mmsi}`,
            v.flag_state ? ` · ${v.flag_state}` : '', v.risk > 0 ? ` · risk ${v.risk.toFixed(0)}` : ''));
        }
        if (!res.items.length) out.append(el('li', null, 'no match'));
        out.hidden = false;
      }, 200);
    });
    input.addEventListener('keydown', (e) => { if (e.key === 'Escape') { out.hidden = true; input.blur(); } });
  }

  // -- interactions --------------------------------------------------------------------------------------
  function wire() {
    const hover = new maplibregl.Popup({ closeButton: false, closeOnClick: false, offset: 12 });
    for (const layer of VESSEL_LAYERS) {
      map.on('click', layer, (e) => { const f = e.features && e.features[0]; if (f) selectVessel(f.properties.mmsi, { fly: false }); });
      map.on('mouseenter', layer, (e) => {
        map.getCanvas().style.cursor = 'pointer';
        const f = e.features && e.features[0]; if (!f) return;
        const v = S.byMmsi.get(f.properties.mmsi);
        if (!v) return;
        const node = el('div', null, el('b', null, vesselName(v)), el('br'),
          `${GROUP_LABEL[v.type_group] || ''} · ${v.flag_state || '?'} · ${num(v.sog_kn, 1, ' kn')}`, el('br'), fmtAge(v.age_s));
        hover.setLngLat([v.lon, v.lat]).setDOMContent(node).addTo(map);
      });
      map.on('mouseleave', layer, () => { map.getCanvas().style.cursor = ''; hover.remove(); });
    }
    map.on('click', 'events', (e) => {
      if (map.queryRenderedFeatures(e.point, { layers: DETECTION_LAYERS }).length) return;  // its popup says more
      const f = e.features && e.features[0]; if (!f) return;
      const ev = S.events.find((x) => x.event_id === f.properties.event_id);
      if (!ev) return;
      selectEvent(ev);
      const li = document.querySelector(`.event-list li[data-event-id="${CSS.escape(ev.event_id)}"]`);
      if (li) li.scrollIntoView({ block: 'nearest' });
    });
    const detPopup = new maplibregl.Popup({ closeButton: true, closeOnClick: false, offset: 10, maxWidth: '300px' });
    map.on('click', (e) => {  // a click on the map away from detections closes their popup
      if (!map.queryRenderedFeatures(e.point, { layers: DETECTION_LAYERS.concat(['dark-tracks']) }).length) detPopup.remove();
    });
    for (const layer of DETECTION_LAYERS) {
      map.on('click', layer, (e) => {
        if (map.queryRenderedFeatures(e.point, { layers: VESSEL_LAYERS }).length) return;  // the vessel wins
        const f = e.features && e.features[0]; if (!f) return;
        const d = S.detections.find((x) => x.properties.detection_id === f.properties.detection_id);
        if (d) detPopup.setLngLat(d.geometry.coordinates).setDOMContent(detectionPopup(d.properties, detPopup)).addTo(map);
      });
      map.on('mouseenter', layer, () => { map.getCanvas().style.cursor = 'pointer'; });
      map.on('mouseleave', layer, () => { map.getCanvas().style.cursor = ''; });
    }
    map.on('click', 'dark-tracks', (e) => {
      if (map.queryRenderedFeatures(e.point, { layers: VESSEL_LAYERS.concat(DETECTION_LAYERS) }).length) return;
      const f = e.features && e.features[0]; if (!f) return;
      const t = S.darkTracks.find((x) => x.properties.event_id === f.properties.event_id);
      if (!t) return;
      highlightEvent(t.properties.event_id);
      detPopup.setLngLat(e.lngLat).setDOMContent(darkTrackPopup(t.properties)).addTo(map);
    });
    map.on('mouseenter', 'dark-tracks', () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', 'dark-tracks', () => { map.getCanvas().style.cursor = ''; });
    map.on('mouseenter', 'events', () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', 'events', () => { map.getCanvas().style.cursor = ''; });

    map.on('zoomend', placeTickLabels);
    $('f-severity').addEventListener('change', () => loadEvents(false));
    $('f-type').addEventListener('change', () => loadEvents(false));
    $('more-events').addEventListener('click', () => loadEvents(true));
    const typeSel = $('f-type');
    for (const [k, l] of Object.entries(EVENT_LABEL)) typeSel.append(el('option', { value: k }, l));

    $('slider').addEventListener('input', (e) => { play(false); setTime(Number(e.target.value) * 60000); });
    $('play').addEventListener('click', () => play(!S.playing));
    $('to-live').addEventListener('click', () => { play(false); setTime(Infinity); });
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && S.selected != null) closePanel(); });
    wireSearch();
  }

  // -- detection popups (text only) ------------------------------------------------------------------
  async function showEvent(id) {
    let ev = S.events.find((x) => x.event_id === id);
    if (!ev) { try { ev = await api(`/api/events/${encodeURIComponent(id)}`); } catch (e) { showMessage(String(e.message || e)); return; } }
    selectEvent(ev);
    const li = document.querySelector(`.event-list li[data-event-id="${CSS.escape(id)}"]`);
    if (li) li.scrollIntoView({ block: 'nearest' });
  }

  function detectionPopup(p, popup) {
    const title = p.dark === true ? 'Dark target' : p.matched === true ? 'Matched to AIS' : 'Detection (not yet matched)';
    const sw = p.dark === true ? el('span', { class: 'swatch diamond', color: DARK_COLOR }) : el('span', { class: 'swatch ring' });
    if (p.dark !== true) sw.style.borderColor = p.matched === true ? MATCHED_COLOR : UNCORRELATED_COLOR;
    const rows = [
      row('Time', `${fmtTime(p.ts, true)} UTC`),
      row('Sensor', [p.sensor, p.source].filter(Boolean).join(' · ') || '—'),
      row('Confidence', p.confidence == null ? '—' : `${Math.round(p.confidence * 100)} %`),
      row('Length', num(p.length_m, 0, ' m')),
      p.heading_deg != null ? row('Heading', num(p.heading_deg, 0, '°')) : null,
    ];
    if (p.matched === true) {
      rows.push(row('Vessel', p.shipname || `MMSI ${p.mmsi}`, p.shipname ? ` · ${p.mmsi}` : ''));
      rows.push(row('AIS at', `${num(p.match_dist_m, 0, ' m')} from the detection`));
    }
    if (p.severity) rows.push(row('Severity', el('span', { class: `chip ${p.severity}` }, p.severity)));
    rows.push(row('Id', p.detection_id));
    const node = el('div', { class: 'det-popup', id: 'det-popup', dataset: { detectionId: p.detection_id } },
      el('div', { class: 'title' }, sw, title), el('table', null, ...rows));
    if (p.matched === true && p.mmsi != null) {
      node.append(el('button', { on: { click: () => { popup.remove(); selectVessel(p.mmsi, { fly: false }); } } }, 'open vessel'));
    }
    if (p.event_id) node.append(' ', el('button', { on: { click: () => { popup.remove(); showEvent(p.event_id); } } }, 'show event'));
    return node;
  }

  function darkTrackPopup(p) {
    const dur = p.start_time && p.end_time ? Math.round((Date.parse(p.end_time) - Date.parse(p.start_time)) / 60000) : null;
    const node = el('div', { class: 'det-popup', id: 'det-popup', dataset: { eventId: p.event_id } },
      el('div', { class: 'title' }, (() => { const e = el('span', { class: 'swatch dash' }); e.style.borderTopColor = DARK_COLOR; return e; })(),
        'Dark track'),
      el('table', null,
        row('Time', `${fmtTime(p.start_time, true)} – ${fmtTime(p.end_time)} UTC`, dur != null ? ` (${dur} min)` : ''),
        row('Detections', `${p.n_detections != null ? p.n_detections : p.detection_ids.length}` + (p.n_passes != null ? ` on ${p.n_passes} passes` : '')),
        row('Speed / course', `${num(p.mean_speed_kn, 1, ' kn')} / ${num(p.course_deg, 0, '°')}`),
        row('Zone', p.zone_name || '—'),
        p.severity ? row('Severity', el('span', { class: `chip ${p.severity}` }, p.severity)) : null));
    node.append(el('button', { on: { click: () => showEvent(p.event_id) } }, 'show event'));
    return node;
  }

  function fitToVessels() {
    const pts = S.vessels.filter((v) => v.age_s == null || v.age_s < STALE_MAX_S);
    if (!pts.length) return;
    let w = 180, s = 90, e = -180, n = -90;
    for (const v of pts) { w = Math.min(w, v.lon); e = Math.max(e, v.lon); s = Math.min(s, v.lat); n = Math.max(n, v.lat); }
    if (e - w < 0.05) { w -= 0.1; e += 0.1; }
    if (n - s < 0.05) { s -= 0.1; n += 0.1; }
    map.fitBounds([[w, s], [e, n]], { padding: 50, maxZoom: 11, duration: 0 });
  }

  // -- start -----------------------------------------------------------------------------------------------
  window.seawatch = {
    map, state: S,
    counts: () => ({ vessels: S.vessels.length, events: S.events.length, zones: S.zonesCount,
      detections: S.detections.length, darkTracks: S.darkTracks.length }),
    detectionPixel: (id) => {
      const f = S.detections.find((x) => x.properties.detection_id === id); if (!f) return null;
      const p = map.project(f.geometry.coordinates); return { x: p.x, y: p.y };
    },
    rendered: (layers) => map.queryRenderedFeatures({ layers }).length,
    vesselPixel: (mmsi) => { const v = S.byMmsi.get(mmsi); if (!v) return null; const p = map.project([v.lon, v.lat]); return { x: p.x, y: p.y }; },
    select: (mmsi) => selectVessel(mmsi, { fly: true }),
  };

  map.on('load', async () => {
    addLayers();
    wire();
    try {
      await loadStats();
      await Promise.all([
        api('/api/land').then((fc) => { map.getSource('land').setData(fc); S.loaded.land = true; }),
        loadZones(), loadVessels(), loadEvents(false), loadDetections(),
      ]);
      fitToVessels();
    } catch (e) {
      showMessage(`Could not load the data: ${e.message || e}`);
      document.body.dataset.ready = 'error';
      return;
    }
    connectLive();
    map.once('idle', () => { document.body.dataset.ready = '1'; });
    map.triggerRepaint();
  });
}());
