"""Writing a run's outputs so a folder is never half old: everything or nothing, and nothing lost.

`write_outputs` writes every file into a temporary folder beside OUT and swaps it into place only
when all are written, so a failing or interrupted run (Ctrl-C) leaves the previous run's folder
whole. A folder planner owns (it holds the `MARKER` file, or an older plan.json) is replaced whole,
personal sub-folders included unless `keep_private`; any other non-empty folder is refused. A
register state that `planner progress` advanced is never overwritten by a plan that did not start
from it: that would silently undo a week of recorded residents.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path

from planner.errors import InputError
from planner.privacy import private_folder

MARKER = ".planner-output"
STATE = Path("private") / "register-state.csv"


def check_target(out: str | Path) -> Path:
    """Refuse, before any work, an OUT that is a file, a foreign non-empty folder or not writable."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder; give a folder name (it is created)")
    if out.is_dir() and any(out.iterdir()) and not owned(out):
        raise InputError(f"--out {out} is a folder with other files in it; planner replaces its output folders "
                         "whole, so give a new or empty folder (or one an earlier planner run wrote)")
    parent = out.resolve().parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise InputError(f"--out {out}: no permission to write there; choose a folder you can write to")
    return out


def owned(folder: Path) -> bool:
    """Whether planner wrote this folder (its marker, or a plan.json of an older version)."""
    return (folder / MARKER).exists() or (folder / "plan.json").exists() or (folder / STATE).exists()


def check_state_kept(out: str | Path, state_source: Path | None) -> None:
    """Refuse to overwrite ``OUT/private/register-state.csv`` that records progress the run did not start from."""
    from planner.progress import counts, read_state

    existing = Path(out) / STATE
    if not existing.exists():
        return
    if state_source is not None and Path(state_source).resolve() == existing.resolve():
        return
    try:
        done = counts(read_state(existing))
    except InputError:
        return  # not a state planner can read: it is replaced like any other file of the folder
    progressed = done["recorded"] + done["not_found"]
    if progressed:
        raise InputError(f"{existing} records {progressed:,} residents recorded or not found (by `planner progress`); "
                         f"this plan would reset it. Plan from it with --state {existing}, or write to another --out")


def write_outputs(result, out: str | Path, *, offline: bool = True, with_names: bool = False,
                  keep_private: bool = False) -> dict[str, Path]:
    """Write plan.json, schedule.csv/.xlsx, sessions/unserved/unscheduled.csv, map.html, plan.gpkg,
    day sheets, and OUT/private/register-state.csv, atomically.

    With `with_names` the teams' day sheets with residents' names go to
    ``private/lembar-harian-nama/`` (personal data: print them, do not share them).
    """
    out = check_target(out)
    check_state_kept(out, result.state_source)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private to its owner; the folder is an ordinary one
    try:
        paths = _write_all(result, tmp, offline=offline, with_names=with_names)
        if keep_private and (out / "private").is_dir():
            _keep(out / "private", tmp / "private")
        (tmp / MARKER).write_text(json.dumps({"written": dt.datetime.now().isoformat(timespec="seconds"),
                                              "plan": result.plan.name}), encoding="utf-8")
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {name: out / path.relative_to(tmp) for name, path in paths.items()}


def _write_all(result, folder: Path, *, offline: bool, with_names: bool) -> dict[str, Path]:
    from planner import exports, maps, sheets
    from planner.progress import save_private
    from planner.tables import write_csv

    plan = result.plan
    if getattr(result, "embedded_areas", False):
        (folder / "areas").mkdir()
        result.areas.kelurahan.to_file(folder / "areas" / "kelurahan.geojson", driver="GeoJSON")
        result.areas.kecamatan.to_file(folder / "areas" / "kecamatan.geojson", driver="GeoJSON")
    paths = {"plan": plan.save(folder / "plan.json"),
             "schedule_csv": sheets.write_schedule_csv(plan, folder / "schedule.csv"),
             "schedule_xlsx": sheets.write_schedule_xlsx(plan, folder / "schedule.xlsx")}
    for table in ("sessions", "unserved", "unscheduled"):  # aggregates and job ids only
        paths[table] = write_csv(getattr(plan, table), folder / f"{table}.csv")
    paths["map"] = maps.save_map(maps.plan_map(plan, result.areas), folder / "map.html", offline=offline)
    paths["gpkg"] = exports.write_geopackage(plan, result.areas, folder / "plan.gpkg")
    paths["kml"] = exports.write_kml(plan, result.areas, folder / "kml")["minggu"]
    exports.write_gpx(plan, result.areas, folder / "gpx")
    paths["day_sheets"] = sheets.write_day_sheets(plan, folder / "lembar-harian")[0]
    if with_names:
        named = private_folder(folder) / "lembar-harian-nama"
        paths["day_sheets_named"] = sheets.write_day_sheets(plan, named, register=result.register)[0]
    if result.state is not None:
        paths["state"] = save_private(result.state, folder)
    return paths


def _keep(old: Path, new: Path) -> None:
    """Copy what the old private folder holds and the new one does not (the user asked to keep it)."""
    for item in old.iterdir():
        target = new / item.name
        if target.exists():
            continue
        new.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if item.is_dir() else shutil.copy2)(item, target)


def _swap(new: Path, out: Path) -> None:
    """Put the finished folder in place of OUT (the old one is removed only after the swap)."""
    if not out.exists():
        new.rename(out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    out.rename(old)
    try:
        new.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)
