"""Map of a plan on the real Bandar Lampung kelurahan: content, escaping, offline file, browser."""

from __future__ import annotations

import html
import json
import re

import geopandas as gpd
import pytest

from planner import exports, maps
from planner.areas import load_areas
from planner.synth_plan import fake_plan

from conftest import BL_KECAMATAN, BL_KELURAHAN, BL_ROADS

XSS_KEL = "<img src=x onerror=\"window.__xss_kel=1\">"
XSS_KEC = "</script><script>window.__xss_kec=1</script>"
XSS_UNIT = "Unit `${window.__xss_unit=1}` <b>"
# folium renders tooltip and icon text as Jinja templates: names must stay data, never template source
JINJA_KEL = "Kel {{7*7}} {% if 1 %}x{% endif %}"
JINJA_KEC = "Kec {# unclosed comment"
JINJA_RUN = "{{ cycler.__init__.__globals__.os.mkdir('JINJA_RAN') }}"


def _unescaped_json(text: str) -> str:
    r"""Folium writes strings with <, > and & as \u escapes; undo that to look for the markup."""
    return text.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")


@pytest.fixture(scope="module")
def areas():
    return load_areas(BL_KELURAHAN, BL_KECAMATAN)


@pytest.fixture(scope="module")
def plan(areas):
    """A generated week on the real kelurahan, with the real RBI roads as its offline basemap."""
    from planner.basemap import road_lines
    from planner.network import graph_from_lines

    plan = fake_plan(areas, seed=1)
    plan.basemap = road_lines(graph_from_lines(gpd.read_file(BL_ROADS)))
    return plan


@pytest.fixture(scope="module")
def hostile(areas):
    """Areas and plan whose names from input data look like scripts."""
    kel = areas.kelurahan.copy()
    kel.loc[0, "nama"] = XSS_KEL
    kec = areas.kecamatan.copy()
    kec.loc[0, "nama"] = XSS_KEC
    kel.loc[kel["kode_kec"] == kec.loc[0, "kode"], "nama_kec"] = XSS_KEC
    bad = type(areas)(kelurahan=kel, kecamatan=kec)
    return bad, fake_plan(bad, seed=2, unit_names=[XSS_UNIT, "Unit 2"])


@pytest.fixture(scope="module")
def jinja(areas):
    """Areas and plan (and scenario name, site and unit names) written in Jinja syntax."""
    kel = areas.kelurahan.copy()
    kec = areas.kecamatan.copy()
    kec.loc[1, "nama"] = JINJA_KEC
    inside = kel["kode_kec"] == kec.loc[1, "kode"]
    kel.loc[inside, "nama_kec"] = JINJA_KEC
    kel.loc[inside.idxmax(), "nama"] = JINJA_KEL
    bad = type(areas)(kelurahan=kel, kecamatan=kec)
    return bad, fake_plan(bad, seed=3, name=f"Kota {JINJA_RUN}", unit_names=[f"Van {JINJA_RUN}", "Van {{7*7}}"])


@pytest.fixture(scope="module")
def written(plan, areas, hostile, jinja, tmp_path_factory):
    out = tmp_path_factory.mktemp("maps")
    m = maps.plan_map(plan, areas)
    bad_areas, bad_plan = hostile
    bad = maps.plan_map(bad_plan, bad_areas)
    jinja_areas, jinja_plan = jinja
    paths = {"online": maps.save_map(m, out / "map.html"),
             "offline": maps.save_map(m, out / "map_offline.html", offline=True),
             "hostile": maps.save_map(bad, out / "hostile.html", offline=True),
             "jinja": maps.save_map(maps.plan_map(jinja_plan, jinja_areas), out / "jinja.html", offline=True)}
    return paths


def test_names_in_jinja_syntax_are_never_evaluated(written, jinja, tmp_path, monkeypatch):
    """A name is data: `{{7*7}}` stays `{{7*7}}`, `{#` does not crash, `{{ ...os.mkdir }}` runs nothing."""
    monkeypatch.chdir(tmp_path)
    jinja_areas, jinja_plan = jinja
    maps.save_map(maps.plan_map(jinja_plan, jinja_areas), tmp_path / "again.html")
    assert not (tmp_path / "JINJA_RAN").exists() and not any(p.name == "JINJA_RAN" for p in tmp_path.rglob("*"))
    text = written["jinja"].read_text(encoding="utf-8")
    assert "Kel 49" not in text and "Van 49" not in text
    decoded = html.unescape(_unescaped_json(text))
    for name in (JINJA_KEL, JINJA_KEC, "Van {{7*7}}", f"Van {JINJA_RUN}", f"Kota {JINJA_RUN}"):
        assert name in decoded


def test_map_has_every_kelurahan_kecamatan_and_unit_day(plan, areas, written):
    text = _unescaped_json(written["online"].read_text(encoding="utf-8"))
    for kode in areas.kelurahan["kode"]:
        assert f'"kode": "{kode}"' in text
    for nama in areas.kecamatan["nama"]:
        assert f"<div>{nama}</div>" in text
    unit_days = plan.schedule[["unit", "date"]].drop_duplicates()
    assert len(re.findall(r"Rute Unit \d · ", text)) == len(unit_days)
    # the tooltip of a kelurahan is built from its counts
    row = plan.gaps.iloc[5]
    assert f'"nama": "{row["nama_kel"]}"' in text and f'"unrecorded": {row["unrecorded"]}' in text
    assert "Belum rekam e-KTP per kelurahan" in text and "Kunjungan rumah (jumlah per kelurahan)" in text


def test_offline_map_is_self_contained_and_small(written):
    text = written["offline"].read_text(encoding="utf-8")
    assert not re.findall(r'<(?:script|link)[^>]+(?:src|href)="https?://', text)
    assert "Leaflet 1.9.4, a JS library for interactive maps" in text  # the vendored library, inlined
    assert "L.markerClusterGroup" in text
    assert written["offline"].stat().st_size < 3 * 2**20


def test_script_like_names_are_escaped(written):
    text = written["hostile"].read_text(encoding="utf-8")
    assert "<img src=x" not in text
    assert "<script>window.__xss_kec" not in text
    assert "${window.__xss_unit" not in text
    # names travel as JSON with <, > as \u escapes (tooltips are built with textContent) ...
    assert '"nama": "\\u003cimg src=x onerror=' in text
    # ... or, where they go into HTML (labels), entity-escaped
    assert "&lt;/script&gt;&lt;script&gt;window.__xss_kec" in _unescaped_json(text)


def test_home_visits_are_counted_per_kelurahan_not_placed_at_homes(plan, areas):
    stops = maps.route_stops(plan, areas)
    visits = plan.schedule[plan.schedule["job_kind"] == "home_visit"]
    merged = stops[stops["job_kind"] == "home_visit"]
    assert merged["visits"].sum() == len(visits)
    reps = areas.kelurahan.set_index("kode").geometry.representative_point()
    for r in merged.itertuples():
        assert (r.lon, r.lat) == pytest.approx((reps[r.kode_kel].x, reps[r.kode_kel].y))
    home_points = set(zip(visits["lon"].round(6), visits["lat"].round(6)))
    assert not home_points & set(zip(merged["lon"].round(6), merged["lat"].round(6)))


def test_plan_on_other_areas_is_refused(plan, areas):
    fewer = type(areas)(kelurahan=areas.kelurahan.iloc[10:].reset_index(drop=True), kecamatan=areas.kecamatan)
    with pytest.raises(ValueError, match="not in the areas given"):
        maps.plan_map(plan, fewer)


def test_geopackage_layers(plan, areas, tmp_path):
    path = exports.write_geopackage(plan, areas, tmp_path / "plan.gpkg")
    kel = gpd.read_file(path, layer="kelurahan")
    assert len(kel) == len(areas.kelurahan)
    assert kel["unrecorded"].sum() == plan.gaps["unrecorded"].sum()
    routes = gpd.read_file(path, layer="routes")
    assert len(routes) == len(plan.schedule[["unit", "date"]].drop_duplicates())
    assert routes["home_visits"].sum() == (plan.schedule["job_kind"] == "home_visit").sum()
    sessions = gpd.read_file(path, layer="sessions")
    assert len(sessions) == (plan.schedule["job_kind"] == "session").sum()
    assert len(gpd.read_file(path, layer="sites")) == len(plan.sites)


# ---- headless Chromium ------------------------------------------------------------------------
EXPECTED_LAYERS = ["Belum rekam e-KTP per kelurahan", "Batas dan nama kecamatan", "Sesi perekaman (terjadwal)",
                   "Kantor (depo)", "Kunjungan rumah (jumlah per kelurahan)", "Jalan (peta dasar luring)",
                   "Nama kelurahan/desa", "Peta daring (OpenStreetMap, perlu internet)"]
UNIT_OPTIONS = ("Array.from(document.querySelectorAll('.plan-panel select.plan-unit option'))"
                ".map(o => o.textContent)")
LAYER_LABELS = ("Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
                ".map(s => s.textContent.trim())")


def _cdn():
    """The CDN the online map links, answered from the vendored copies (the test machine has no internet)."""
    serve = {url: maps.STATIC / name for name, url in maps.ASSETS.items()}
    base = maps.ASSETS["leaflet.css"].rsplit("/", 1)[0]
    for png in (maps.STATIC / "images").glob("*.png"):
        serve[f"{base}/images/{png.name}"] = png
    return serve


def _real_errors(browser) -> list[str]:
    """Console errors other than basemap tiles failing to load (no internet: tiles may be missing)."""
    return [e for e in browser.errors if "tile.openstreetmap.org" not in e]


def _search(b, label: str) -> None:
    """Type a label into the search box as a user picking it from the list would."""
    b.js("(() => { const i = document.querySelector('.plan-panel input.plan-search-input'); i.value = "
         + json.dumps(label) + "; i.dispatchEvent(new Event('change')); })()")
    b.wait(1.0)


def _check_page(b, plan, artifacts, name):
    assert b.js("typeof L") == "object", "Leaflet did not load"
    labels = b.js(LAYER_LABELS)
    for layer in EXPECTED_LAYERS:
        assert layer in labels
    # routes are chosen by unit and day in the panel, not by dozens of checkboxes
    assert not [label for label in labels if label.startswith("Rute ")]
    units = plan.schedule["unit"].drop_duplicates().tolist()
    assert b.js(UNIT_OPTIONS) == ["semua unit", *units]
    assert b.js("document.querySelectorAll('.plan-panel select.plan-day option').length") == \
        1 + plan.schedule["date"].nunique()
    assert b.js("document.querySelectorAll('.leaflet-overlay-pane path').length") >= 126 + 20
    assert b.js("document.querySelectorAll('.kec-label').length") == 20
    assert b.js("document.querySelectorAll('.plan-panel .legend .row').length") >= 8  # every symbol explained
    # home visits: badges (single kelurahan or clusters) add up to the visits scheduled
    shown = b.js("Array.from(document.querySelectorAll('.hv-badge')).map(e => parseInt(e.textContent))")
    assert sum(shown) == (plan.schedule["job_kind"] == "home_visit").sum()
    b.screenshot(artifacts / f"{name}.png")
    # the search box zooms to a kelurahan and opens its tooltip
    target = plan.gaps.iloc[3]
    label = f"{target['nama_kel']} ({target['nama_kec']})"
    _search(b, label)
    tip = b.js("Array.from(document.querySelectorAll('.leaflet-tooltip')).map(t => t.textContent).join(' | ')")
    assert target["nama_kel"] in tip and "Belum rekam" in tip
    b.screenshot(artifacts / f"{name}_search.png")
    b.js("document.querySelector('.leaflet-control-layers').classList.add('leaflet-control-layers-expanded')")
    b.wait(0.3)
    b.screenshot(artifacts / f"{name}_layers.png")


@pytest.mark.browser
def test_map_in_headless_chromium(plan, written, artifacts):
    from browser import Browser

    with Browser(serve=_cdn()) as b:
        b.open(written["online"].resolve().as_uri())
        assert _real_errors(b) == []
        _check_page(b, plan, artifacts, "map_online")
        assert _real_errors(b) == []
        assert not [u for u in b.refused if "tile.openstreetmap.org" not in u]


@pytest.mark.browser
def test_offline_map_with_network_blocked(plan, written, artifacts):
    from browser import Browser

    with Browser(offline=True) as b:
        b.open(written["offline"].resolve().as_uri())
        assert _real_errors(b) == []
        _check_page(b, plan, artifacts, "map_offline")
        assert _real_errors(b) == []
        assert b.served == []
        assert not [u for u in b.refused if "tile.openstreetmap.org" not in u]


VISIBLE_STOPS = ("Array.from(document.querySelectorAll('.stop-num')).filter(e => e.offsetParent !== null)"
                 ".map(e => e.style.background)")


@pytest.mark.browser
@pytest.mark.parametrize("width,height,phone", [(400, 800, True), (1400, 900, False)], ids=["phone", "desktop"])
def test_field_map_offline_on_phone_and_desktop(plan, areas, written, artifacts, width, height, phone):
    """No signal: the default map asks the network for nothing, draws the plan's roads as its basemap
    (credited 'peta dasar luring'), keeps the panel out of the way on a phone, and the unit x day
    chooser shows exactly the chosen route.
    """
    from planner.legs import route_stops

    from browser import Browser

    with Browser(offline=True, width=width, height=height, mobile=phone) as b:
        b.open(written["offline"].resolve().as_uri(), settle=2.0)
        assert b.errors == [] and b.refused == [] and b.served == []  # not even a tile
        roads = b.js("Array.from(document.querySelectorAll('.leaflet-planRoads-pane path'))"
                     ".map(p => (p.getAttribute('d').match(/[LM]/g) || []).length)")
        assert len(roads) == 3 and sum(roads) > 5000, roads  # three road classes, thousands of vertices
        assert "peta dasar luring" in b.js("document.querySelector('.leaflet-control-attribution').textContent")
        panel = b.js("(() => { const p = document.querySelector('.plan-panel'), r = p.getBoundingClientRect();"
                     " return [r.width * r.height, p.classList.contains('collapsed')]; })()")
        assert panel[1] is phone
        if phone:
            assert panel[0] <= 0.2 * width * height, panel
        b.screenshot(artifacts / f"map_field_{width}x{height}.png")
        # every tap target is at least 40 px: stop numbers, D/M, home-visit badges, the panel's controls
        small = b.js("Array.from(document.querySelectorAll('.tap, .plan-panel .panel-toggle, .plan-panel select'))"
                     ".filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect())"
                     ".filter(r => r.width < 40 || r.height < 40).length")
        assert small == 0
        # names do not overlap once thinned
        boxes = b.js("Array.from(document.querySelectorAll('.kec-label > div, .kel-label > div'))"
                     ".filter(e => e.style.visibility !== 'hidden').map(e => { const r = e.getBoundingClientRect();"
                     " return [r.left, r.top, r.right, r.bottom, e.textContent]; })")
        overlaps = [(a[4], c[4]) for i, a in enumerate(boxes) for c in boxes[i + 1:]
                    if a[0] < c[2] and c[0] < a[2] and a[1] < c[3] and c[1] < a[3]]
        assert boxes and not overlaps
        # choose one unit-day: only its numbered stops remain on the map, in its colour
        stops = route_stops(plan, areas)
        stops = stops[~stops["job_kind"].isin(["depot", "lodging"])]
        unit, day = stops.iloc[0]["unit"], stops.iloc[0]["day"]
        day = str(day)[:10]
        b.js("(() => { const u = document.querySelector('.plan-panel select.plan-unit'),"
             " d = document.querySelector('.plan-panel select.plan-day');"
             f" u.value = {json.dumps(unit)}; d.value = {json.dumps(day)};"
             " u.dispatchEvent(new Event('change')); d.dispatchEvent(new Event('change')); })()")
        b.wait(0.5)
        shown = b.js(VISIBLE_STOPS)
        mine = stops[(stops["unit"] == unit) & (stops["day"].astype(str).str[:10] == day)]
        assert len(shown) == len(mine) and len(set(shown)) == 1
        b.screenshot(artifacts / f"map_field_{width}x{height}_one_route.png")
        # the whole week of that unit
        b.js("(() => { const d = document.querySelector('.plan-panel select.plan-day'); d.value = '*';"
             " d.dispatchEvent(new Event('change')); })()")
        b.wait(0.5)
        assert len(b.js(VISIBLE_STOPS)) == int((stops["unit"] == unit).sum())
        assert b.errors == [] and b.refused == []


@pytest.mark.browser
def test_hostile_names_render_as_text(written, artifacts):
    from browser import Browser

    with Browser(offline=True) as b:
        b.open(written["hostile"].resolve().as_uri())
        assert _real_errors(b) == []
        assert b.js("[window.__xss_kel, window.__xss_kec, window.__xss_unit]") == [None, None, None]
        labels = b.js("Array.from(document.querySelectorAll('.kec-label')).map(e => e.textContent)")
        assert XSS_KEC in labels
        assert XSS_UNIT in b.js(UNIT_OPTIONS)
        assert b.js("document.querySelectorAll('.leaflet-control-layers img, .kec-label script').length") == 0
        _search(b, f"{XSS_KEL} ({XSS_KEC})")
        tip = b.js("Array.from(document.querySelectorAll('.leaflet-tooltip')).map(t => t.textContent).join(' | ')")
        assert XSS_KEL in tip
        assert b.js("document.querySelectorAll('.leaflet-tooltip img').length") == 0
        assert b.js("[window.__xss_kel, window.__xss_kec, window.__xss_unit]") == [None, None, None]
        b.screenshot(artifacts / "map_hostile_names.png")


@pytest.mark.browser
def test_jinja_names_show_literally_in_the_browser(written, artifacts):
    from browser import Browser

    with Browser(offline=True) as b:
        b.open(written["jinja"].resolve().as_uri())
        assert _real_errors(b) == []
        labels = b.js("Array.from(document.querySelectorAll('.kec-label')).map(e => e.textContent)")
        assert JINJA_KEC in labels
        options = b.js(UNIT_OPTIONS)
        assert "Van {{7*7}}" in options and f"Van {JINJA_RUN}" in options
        title = b.js("document.querySelector('.plan-panel .panel-toggle').textContent")
        assert f"Kota {JINJA_RUN}" in title
        # stop markers' tooltips: open every one and read its text
        tips = b.js("(() => { const out = []; document.querySelectorAll('.leaflet-marker-icon').forEach(e => {"
                    "e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})); }); "
                    "document.querySelectorAll('.leaflet-tooltip').forEach(t => out.push(t.textContent)); "
                    "return out.join(' | '); })()")
        assert "Van 49" not in tips
        _search(b, f"{JINJA_KEL} ({JINJA_KEC})")
        tip = b.js("Array.from(document.querySelectorAll('.leaflet-tooltip')).map(t => t.textContent).join(' | ')")
        assert JINJA_KEL in tip
        b.screenshot(artifacts / "map_jinja_names.png")


# ---- personal data ----------------------------------------------------------------------------
def _shared_text(folder) -> str:
    r"""Every byte of every file under folder as text, xlsx unzipped, JSON \u escapes undone."""
    import zipfile

    parts = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or "private" in path.relative_to(folder).parts:  # private/ is never shared
            continue
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                parts += [z.read(name).decode("utf-8", "ignore") for name in z.namelist()]
        else:
            parts.append(path.read_bytes().decode("utf-8", "ignore"))
    return _unescaped_json("\n".join(parts))


@pytest.mark.slow
def test_shared_outputs_hold_no_personal_data(tmp_path):
    """A whole plan from a register with known NIKs, names and addresses: none reach a shared output."""
    from planner import sheets
    from planner.outputs import write_outputs
    from planner.pipeline import run_demo

    result = run_demo(tmp_path / "demo", seed=5, size="toy")
    shared = tmp_path / "shared"
    write_outputs(result, shared)
    assert (shared / "private" / "register-state.csv").exists()  # personal data: only under private/
    maps.save_map(maps.plan_map(result.plan, result.areas), shared / "map_offline.html", offline=True)
    sheets.write_day_sheets(result.plan, shared / "day-sheets")
    text = _shared_text(shared)
    register = result.register
    niks = [n for n in register["nik"].dropna().astype(str) if len(n) >= 10]
    names = [n for n in register["nama"].dropna().astype(str).str.strip() if " " in n and len(n) >= 8]
    addresses = [a for a in register["alamat"].dropna().astype(str).str.strip() if len(a) >= 12]
    assert niks and names and addresses
    assert [n for n in niks if n in text] == []
    assert [n for n in names if n in text] == []
    assert [a for a in addresses if a in text] == []
    # the scan does find names where they are asked for: the visiting team's day sheets
    visits = result.plan.schedule[result.plan.schedule["job_kind"] == "home_visit"]
    if len(visits):
        sheets.write_day_sheets(result.plan, tmp_path / "team", register=register)
        team = _shared_text(tmp_path / "team")
        assert [n for n in names if n in team]


def test_kml_and_gpx_carry_each_unit_day_and_nothing_personal(plan, areas, tmp_path):
    """#13: KML for Organic Maps / OsmAnd / Google My Maps, GPX for navigators, one per unit-day + the week."""
    import xml.etree.ElementTree as ET

    kml = exports.write_kml(plan, areas, tmp_path / "kml")
    gpx = exports.write_gpx(plan, areas, tmp_path / "gpx")
    unit_days = plan.schedule[["unit", "date"]].drop_duplicates()
    assert len(kml) == len(unit_days) + 1 and len(gpx) == len(unit_days)
    ns = {"k": exports.KML_NS, "g": exports.GPX_NS}
    week = ET.parse(kml["minggu"]).getroot()
    assert week.tag == f"{{{exports.KML_NS}}}kml"
    folders = week.findall("k:Document/k:Folder", ns)
    assert len(folders) == len(unit_days)
    stops = maps.route_stops(plan, areas)
    assert len(week.findall(".//k:Point", ns)) == int((stops["job_kind"] != "depot").sum())
    for line in week.findall(".//k:LineString/k:coordinates", ns):
        pairs = [tuple(map(float, p.split(","))) for p in line.text.split()]
        assert len(pairs) >= 2 and all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in pairs)
    one = ET.parse(next(p for k, p in gpx.items())).getroot()
    assert one.findall("g:wpt", ns) and len(one.findall(".//g:trkpt", ns)) >= 2
    visits = plan.schedule[plan.schedule["job_kind"] == "home_visit"]
    text = "".join(p.read_text(encoding="utf-8") for p in [*kml.values(), *gpx.values()])
    for lon, lat in zip(visits["lon"].head(20), visits["lat"].head(20)):
        assert f"{lon:.6f},{lat:.6f}" not in text  # a home visit shows at its kelurahan's point, never a house


def test_map_speaks_the_chosen_language(plan, areas):
    """Bahasa by default; with --lang en the layers, panel, legend and tooltips are English."""
    from planner.i18n import using

    bahasa = maps.render_html(maps.plan_map(plan, areas))
    with using("en"):
        english = maps.render_html(maps.plan_map(plan, areas))
    for id_text, en_text in [("Sesi perekaman (terjadwal)", "Recording sessions (scheduled)"),
                             ("Jalan (peta dasar luring)", "Roads (offline basemap)"),
                             ("Cari kelurahan", "Find kelurahan"), ("semua unit", "all units"),
                             ("Pemilih pemula", "First-time voters"), ("perjalanan", "driving")]:
        assert id_text in bahasa and en_text not in bahasa, id_text
        assert en_text in english and id_text not in english, en_text
