"""Files for other tools: GeoPackage (QGIS), KML (Organic Maps, OsmAnd, Google My Maps), GPX (navigators).

All of them carry what the shared map carries and nothing more: session sites with times and
expected recordings, home visits as a count per kelurahan at its representative point, and each
unit-day's route along the roads (`planner.legs`). No names, NIKs or house locations.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import shapely

from planner.contracts import FRAME_KINDS
from planner.fmt import hari_tanggal
from planner.fmt import number as _number
from planner.legs import day_legs, leg_index, route_stops
from planner.maps import area_gaps, unit_colours
from planner.plan import schedule_frames as plan_frames

KML_NS = "http://www.opengis.net/kml/2.2"
GPX_NS = "http://www.topografix.com/GPX/1/1"


def write_geopackage(plan, areas, path: str | Path) -> Path:
    """The plan for QGIS users: layers kelurahan (gaps), sites, sessions, routes.

    Routes pass through home visits only at the kelurahan's representative point (see `route_stops`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    gaps = area_gaps(plan, areas)
    gaps.to_file(path, layer="kelurahan", driver="GPKG")
    if len(plan.sites):
        sites = gpd.GeoDataFrame(plan.sites.drop(columns=["lon", "lat"]),
                                 geometry=gpd.points_from_xy(plan.sites["lon"], plan.sites["lat"]), crs="EPSG:4326")
        sites.to_file(path, layer="sites", driver="GPKG")
    sessions = plan_frames(plan)["sessions"]
    if len(sessions):
        table = sessions[["unit", "date", "site_id", "name", "kode_kel", "kode_kec", "start", "end",
                          "expected_recordings"]].copy()
        table["date"] = table["date"].astype(str)
        gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(sessions["lon"], sessions["lat"]),
                         crs="EPSG:4326").to_file(path, layer="sessions", driver="GPKG")
    stops = route_stops(plan, areas)
    if len(stops):
        rows, paths = [], leg_index(plan.legs)
        for (unit, day), g in stops.groupby(["unit", "day"], sort=True):
            g = g.sort_values("order")
            legs = day_legs(str(unit), day, g, paths)
            coords = [c for _, leg in legs for c in leg]
            rows.append({"unit": str(unit), "date": str(day), "stops": int((~g["job_kind"].isin(FRAME_KINDS)).sum()),
                         "home_visits": int(g["visits"].sum()),
                         "expected_recordings": float(g["expected_recordings"].fillna(0).sum()),
                         "travel_km": float(g["travel_km"].sum()), "travel_min": float(g["travel_min"].sum()),
                         "along_roads": all(method == "network" for method, _ in legs),
                         "geometry": shapely.LineString(coords if len(coords) > 1 else coords * 2)})
        gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326").to_file(path, layer="routes", driver="GPKG")
    return path


def _unit_days(plan, areas):
    """(unit, day, stops, [(lon, lat), ...] along the roads, all legs on roads?) per unit-day, in order."""
    stops = route_stops(plan, areas)
    paths = leg_index(plan.legs)
    for (unit, day), g in stops.groupby(["unit", "day"], sort=True):
        g = g.sort_values("order")
        legs = day_legs(str(unit), day, g, paths)
        coords = [c for _, leg in legs for c in leg]
        yield str(unit), day, g, coords, all(m == "network" for m, _ in legs)


def _stop_label(number: int, row) -> str:
    if row.job_kind == "lodging":
        return f"Menginap: {row.name} (tiba {row.arrival_hm})"
    what = (f"{int(row.visits)} kunjungan rumah" if row.job_kind == "home_visit"
            else f"Sesi {row.name} ±{_number(row.expected_recordings)} orang")
    return f"{number}. {what} {row.start_hm}–{row.end_hm}"


def _file_name(unit: str, day) -> str:
    return f"{day.isoformat()}_{re.sub(r'[^A-Za-z0-9]+', '-', unit).strip('-').lower() or 'unit'}"


def _coords_text(coords) -> str:
    return " ".join(f"{lon:.6f},{lat:.6f}" for lon, lat in coords)


def write_kml(plan, areas, folder: str | Path) -> dict[str, Path]:
    """``minggu.kml`` (every unit-day, one folder each) and one ``<date>_<unit>.kml`` per unit-day."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    colours = unit_colours(plan)
    week = _kml_document(f"Rencana {plan.name}, minggu {hari_tanggal(plan.week_start)}")
    written = {}
    for unit, day, g, coords, on_roads in _unit_days(plan, areas):
        one = _kml_document(f"{unit} · {hari_tanggal(day)}")
        for doc in (week, one):
            _kml_unit_day(doc.find(f"{{{KML_NS}}}Document"), unit, day, g, coords, on_roads, colours.get(unit))
        written[_file_name(unit, day)] = _write_xml(one, folder / f"{_file_name(unit, day)}.kml")
    written["minggu"] = _write_xml(week, folder / "minggu.kml")
    return written


def _kml_document(name: str) -> ET.Element:
    root = ET.Element(f"{{{KML_NS}}}kml")
    doc = ET.SubElement(root, f"{{{KML_NS}}}Document")
    ET.SubElement(doc, f"{{{KML_NS}}}name").text = name
    return root


def _kml_unit_day(doc, unit, day, g, coords, on_roads: bool, colour: str | None) -> None:
    k = f"{{{KML_NS}}}"
    box = ET.SubElement(doc, k + "Folder")
    ET.SubElement(box, k + "name").text = f"{unit} · {hari_tanggal(day)}"
    route = ET.SubElement(box, k + "Placemark")
    ET.SubElement(route, k + "name").text = f"Rute {unit}"
    ET.SubElement(route, k + "description").text = (
        f"{g['travel_km'].sum():.1f} km" + ("" if on_roads else "; sebagian garis lurus (jalan tidak diketahui)"))
    style = ET.SubElement(ET.SubElement(route, k + "Style"), k + "LineStyle")
    rgb = (colour or "#333333").lstrip("#")
    ET.SubElement(style, k + "color").text = f"ff{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}"  # KML colours are aabbggrr
    ET.SubElement(style, k + "width").text = "4"
    line = ET.SubElement(route, k + "LineString")
    ET.SubElement(line, k + "tessellate").text = "1"
    ET.SubElement(line, k + "coordinates").text = _coords_text(coords)
    number = 0
    for row in g.itertuples():
        if row.job_kind == "depot" or (row.job_kind == "lodging" and row.stop == 0):
            continue
        number += row.job_kind != "lodging"
        mark = ET.SubElement(box, k + "Placemark")
        ET.SubElement(mark, k + "name").text = _stop_label(number, row)
        point = ET.SubElement(mark, k + "Point")
        ET.SubElement(point, k + "coordinates").text = f"{row.lon:.6f},{row.lat:.6f}"


def write_gpx(plan, areas, folder: str | Path) -> dict[str, Path]:
    """One ``<date>_<unit>.gpx`` per unit-day: the stops as waypoints, the road path as a track."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for unit, day, g, coords, _ in _unit_days(plan, areas):
        root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "planner"})
        number = 0
        for row in g.itertuples():
            if row.job_kind == "depot" or (row.job_kind == "lodging" and row.stop == 0):
                continue
            number += row.job_kind != "lodging"
            wpt = ET.SubElement(root, f"{{{GPX_NS}}}wpt", {"lat": f"{row.lat:.6f}", "lon": f"{row.lon:.6f}"})
            ET.SubElement(wpt, f"{{{GPX_NS}}}name").text = _stop_label(number, row)
        track = ET.SubElement(root, f"{{{GPX_NS}}}trk")
        ET.SubElement(track, f"{{{GPX_NS}}}name").text = f"{unit} {day.isoformat()}"
        segment = ET.SubElement(track, f"{{{GPX_NS}}}trkseg")
        for lon, lat in coords:
            ET.SubElement(segment, f"{{{GPX_NS}}}trkpt", {"lat": f"{lat:.6f}", "lon": f"{lon:.6f}"})
        written[_file_name(unit, day)] = _write_xml(root, folder / f"{_file_name(unit, day)}.gpx")
    return written


def _write_xml(root: ET.Element, path: Path) -> Path:
    ET.register_namespace("", root.tag[1:].split("}")[0])
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path
