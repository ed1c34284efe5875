"""Scenario files: one TOML file holds every setting a planning run reads.

Paths inside a scenario are relative to the scenario file, so a scenario folder can be moved or
shared as a whole. `validate_file` reports *every* problem at once (file, key, what was expected),
because a coordinator fixing a file one error per run gives up quickly.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
import warnings
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from planner.contracts import HHMM, KINDS, hhmm_to_minutes  # noqa: F401  (one HH:MM parser; re-exported)
from planner.errors import InputError, ScenarioError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AreasConfig(_Strict):
    """[areas]: kelurahan/kecamatan boundary files and their code/name columns."""

    kelurahan: Path = Field(description="kelurahan/desa polygons (GeoJSON, GeoPackage, Shapefile)")
    kecamatan: Path | None = Field(None, description="kecamatan polygons; derived from kelurahan codes when absent")
    layer: str | None = None
    kecamatan_layer: str | None = None
    code_column: str = "kode"
    name_column: str = "nama"
    gazetteer: Path | None = Field(None, description="CSV of official names and codes (kode, nama, level)")
    within: str | None = Field(None, description="keep only areas whose code starts with this, e.g. '18.71'")


class SyntheticRegister(_Strict):
    """[register.synthetic]: a generated register (no personal data) sized by population."""

    residents: int = Field(gt=0)
    population: Path | None = Field(None, description="CSV with kode_kec and jumlah: residents spread by it")
    population_vintage: str | None = None


class RegisterConfig(_Strict):
    """[register]: the office's name list, or a synthetic one."""

    path: Path | None = None
    columns: dict[str, str] = Field(default_factory=dict, description="canonical name -> column in the file")
    synthetic: SyntheticRegister | None = None

    @model_validator(mode="after")
    def _one_source(self):
        if (self.path is None) == (self.synthetic is None):
            raise InputError("give exactly one of 'path' (a register file) or 'synthetic' (generated register)")
        return self


SiteKind = Literal[KINDS]  # type: ignore[valid-type]  # the kinds contracts.SITE_KINDS names


class SitesConfig(_Strict):
    """[sites]: candidate session venues and how many days each may host."""

    path: Path | None = Field(None, description="points file (e.g. BIG RBI PEMERINTAHAN) or CSV name,kind,lat,lon")
    kinds: list[SiteKind] = Field(default_factory=lambda: ["kantor_camat", "kantor_lurah"])
    fallback_balai: bool = Field(True, description="add a 'balai' site at the representative point of kelurahan "
                                                 "without a site")
    max_days_per_site: int = Field(5, ge=1)


class RoadsConfig(_Strict):
    """[roads]: where the road network comes from and where its graph is cached."""

    source: Literal["lines", "osm", "online", "graphml", "none"] = "none"
    path: Path | None = None
    cache: Path | None = None
    detour: float = Field(1.3, ge=1.0, le=5.0, description="road distance over straight distance, where no "
                          "road network reaches (no roads file, or points off a partial one)")

    @model_validator(mode="after")
    def _path_needed(self):
        if self.source in ("lines", "osm", "graphml") and self.path is None:
            raise InputError(f"roads source '{self.source}' needs a 'path'")
        return self


class Depot(_Strict):
    """A named point a unit starts and ends its day at."""

    name: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class UnitGroup(_Strict):
    """[[units]]: a group of identical units (vans, motorbike teams, stationed operators)."""

    name: str = "Unit"
    count: int = Field(1, ge=1, le=200)
    depot: Depot
    capacity_per_day: int = Field(50, gt=0, description="recordings per session-day")
    vehicle: Literal["van", "motorbike"] = "van"
    sessions: bool = Field(True, description="this group holds recording sessions at sites")
    home_visits: bool = Field(False, description="this group visits the sick, disabled and elderly at home")
    stationed: bool = Field(False, description="records at its depot and never travels (what [[posts]] "
                            "creates: one stationed unit per post site)")
    overnight: bool = Field(False, description="the team tours: it may sleep away from its depot between "
                            "working days (menginap) and drive home when the tour ends")
    max_nights: int | None = Field(None, ge=0, le=13, description="nights in a row a touring team may sleep "
                                   "away (required with overnight = true)")
    lodging: Literal["kantor_camat", "session_site"] | list[str] = Field(
        "kantor_camat", description="where a touring team may sleep: 'kantor_camat', 'session_site' (a site "
        "where the group holds a session this week) or a list of site_id")

    @model_validator(mode="after")
    def _tour(self):
        if self.overnight:
            if not self.max_nights:
                raise InputError(f"units '{self.name}': overnight = true needs max_nights >= 1 (the nights in a "
                                 "row the team may sleep away; a tour with zero nights is a day trip: set "
                                 "overnight = false)")
            if self.home_visits or self.stationed:
                raise InputError(f"units '{self.name}': a touring group (overnight = true) holds sessions only; "
                                 "give home visits and posts their own group")
            if isinstance(self.lodging, list) and not self.lodging:
                raise InputError(f"units '{self.name}': lodging is an empty list; name site_id values, or use "
                                 "'kantor_camat' or 'session_site'")
        return self


def _time_span(value, what: str):
    """A (from, to) pair of HH:MM times that ends after it starts, or None."""
    if value is None:
        return value
    for part in value:
        if not re.match(HHMM, part):
            raise InputError(f"'{part}' is not a time HH:MM")
    if hhmm_to_minutes(value[0]) >= hhmm_to_minutes(value[1]):
        raise InputError(f"{what} must end after it starts")
    return value


class PostGroup(_Strict):
    """[[posts]]: an operator stationed at every site of one kind for the whole horizon (no travel).

    "One operator at each of the 20 kantor camat" is one block; each post records from opening to
    closing on the site's open days, and no mobile unit holds a session at a post's site.
    """

    name: str = "Operator"
    kind: SiteKind = Field(description="every site of this kind gets a post, e.g. 'kantor_camat'")
    capacity_per_day: int = Field(30, gt=0, description="recordings one post takes in a full day")
    hours: tuple[str, str] | None = Field(None, description="the post's opening hours [from, to] (default: the "
                                          "site's own)")

    @field_validator("hours")
    @classmethod
    def _hours(cls, value):
        return _time_span(value, "post hours")


class CalendarConfig(_Strict):
    """[calendar]: the week to plan, working hours, breaks and holidays."""

    week_start: dt.date
    days: int = Field(5, ge=1, le=14, description="working days Mon-Fri from week_start (Saturday via 'saturday')")
    saturday: bool = False
    day_start: str = Field("08:00", pattern=HHMM)
    day_end: str = Field("16:00", pattern=HHMM)
    friday_break: tuple[str, str] | None = ("11:30", "13:00")
    holidays: list[dt.date] = Field(default_factory=list)
    session: Literal["full", "half"] = "full"
    home_visit_minutes: int = Field(20, ge=1)

    @field_validator("friday_break")
    @classmethod
    def _break_times(cls, value):
        return _time_span(value, "friday_break")

    @model_validator(mode="after")
    def _hours(self):
        if hhmm_to_minutes(self.day_start) >= hhmm_to_minutes(self.day_end):
            raise InputError(f"day_end {self.day_end} must be after day_start {self.day_start}")
        return self

    def working_dates(self) -> list[dt.date]:
        """Dates units work: `days` weekdays from week_start, Saturdays if on, holidays removed."""
        out, day, weekdays = [], self.week_start, 0
        while weekdays < self.days:
            if day.weekday() < 5:
                weekdays += 1
                works = True
            else:
                works = day.weekday() == 5 and self.saturday
            if works and day not in self.holidays:
                out.append(day)
            day += dt.timedelta(days=1)
        if self.saturday and day.weekday() == 5 and day not in self.holidays:
            out.append(day)
        return out


class PlacementConfig(_Strict):
    """[placement]: travel limits, turnout decay and class weights."""

    max_travel_min: int = Field(45, gt=0, description="longest trip a resident is asked to make to a session")
    weights: dict[str, float] = Field(default_factory=lambda: {"pemula": 3.0, "lansia": 2.0, "umum": 1.0})
    turnout_half_min: float = Field(30.0, gt=0, description="travel minutes at which turnout halves")
    travel_penalty: float = Field(0.001, ge=0)
    min_session_min: int = Field(180, ge=0, le=1440, description="a unit is sent to a site only if it can record "
                                 "there at least this long and still be back by day_end (full-day sessions)")
    remoteness_weight: float = Field(0.0, ge=0, description="each hour a kelurahan lies from the office (or the "
                                     "nearest post) adds this much to its residents' priority multiplier "
                                     "(Duklink: outlying kelurahan first); capped at 4 hours")


class RoutingConfig(_Strict):
    """[routing]: which engine searches the week's routes (both honour the same rules)."""

    engine: Literal["best", "ortools", "pyvrp"] = Field(
        "best", description="routing engine: best (both, the better week kept), ortools or pyvrp")


class BlangkoDelivery(_Strict):
    """One expected delivery of blank cards."""

    date: dt.date
    count: int = Field(ge=0)


class BlangkoConfig(_Strict):
    """Blank-card (blangko) stock: recordings beyond it wait for print; first-time voters print first."""

    stock: int = Field(ge=0, description="blank cards in stock at the start of the first week")
    weekly_delivery: int = Field(0, ge=0, description="cards delivered every week")
    deliveries: list[BlangkoDelivery] = Field(default_factory=list, description="one-off deliveries (date, count)")
    print_per_week: int | None = Field(None, gt=0, description="cards the office can print a week (no limit if absent)")


class ForecastConfig(_Strict):
    """Assumptions of `planner forecast` (weeks of plans simulated ahead)."""

    target: float = Field(1.0, gt=0, le=1, description="coverage to reach: 1.0 = everyone, 0.95 as in Kab. OKI")
    turnout: float = Field(0.9, gt=0, le=1, description="share of the residents invited to a session who come")
    not_found_share: float = Field(0.02, ge=0, lt=1, description="share of those reached found moved or dead")
    population: int | None = Field(None, gt=0, description="wajib KTP: coverage counts against it (else the gap)")


class OfficeConfig(_Strict):
    """[[offices]]: one kab/kota Disdukcapil of a province plan, planned on its own.

    Its areas are the province's within `code`; its register rows are those whose NIK was issued
    there (the NIK's first four digits are the kab/kota code); its units never cross into another
    kab/kota unless the province lends them ([lending]).
    """

    name: str
    code: str = Field(pattern=r"^\d{2}\.\d{2}$", description="Kemendagri kab/kota code, e.g. '18.71'")
    units: list[UnitGroup] = Field(default_factory=list)
    posts: list[PostGroup] = Field(default_factory=list)
    blangko: BlangkoConfig | None = None
    roads: RoadsConfig | None = Field(None, description="this kab/kota's road layer (default: the province's)")

    @model_validator(mode="after")
    def _someone_works(self):
        if not self.units and not self.posts:
            raise InputError(f"offices '{self.name}': give it at least one [[offices.units]] group or "
                             "[[offices.posts]] block")
        return self


class LendingConfig(_Strict):
    """[lending]: units the province holds and lends to kab/kota offices, one unit at a time.

    Rule: each unit goes to the office where one more unit saves the most first-time voters from
    missing the election (forecast to election_date), then the one furthest from its target.
    """

    units: list[UnitGroup] = Field(default_factory=list, description="the province's own units (depot: "
                                   "where the unit is kept; a lent unit works from the receiving office)")


class RunConfig(_Strict):
    """[run]: where a province's kab/kota plans run."""

    scheduler: str | None = Field(None, description="address of an existing Dask scheduler, e.g. "
                                  "'tcp://10.0.0.5:8786' (default: a local cluster sized to the machine)")
    workers: int | None = Field(None, ge=1, description="local cluster workers (default: the cores)")


SHARED_TOKEN = "${shared}"


def shared_folder(start: Path | None = None) -> Path:
    """The public data folder a scenario's ``${shared}`` names.

    ``$PLANNER_SHARED`` when set; else the first ``shared/`` folder beside the scenario's folder or
    one of its parents (a checkout's ``../shared``), then beside the working directory's.
    """
    if os.environ.get("PLANNER_SHARED"):
        return Path(os.environ["PLANNER_SHARED"]).expanduser().resolve()
    for origin in [Path(start or ".").resolve(), Path.cwd().resolve()]:
        for folder in [origin, *origin.parents]:
            if (folder / "shared").is_dir() and folder / "shared" != origin:
                return folder / "shared"
    raise ScenarioError(["the scenario uses ${shared} but no shared data folder was found: set PLANNER_SHARED "
                         "to the folder that holds geodata-sources/, or put it beside the checkout as ../shared"])


def resolve_path(value: str | Path, base_dir: Path) -> Path:
    """The one rule for a path in a scenario file: ``${shared}`` expanded, ``~`` expanded, relative
    paths against the scenario's folder.
    """
    text = str(value)
    if SHARED_TOKEN in text:
        text = text.replace(SHARED_TOKEN, str(shared_folder(base_dir)))
    path = Path(text).expanduser()
    return path if path.is_absolute() else (Path(base_dir) / path).resolve()


# `register` is also the name of an ABC classmethod on BaseModel; the TOML key is worth keeping.
warnings.filterwarnings("ignore", message='Field name "register"', category=UserWarning)


class Scenario(_Strict):
    """One planning scenario: everything a run needs, read from a TOML file."""

    name: str
    seed: int = 42
    time_budget_s: float = Field(30, gt=0)
    election_date: dt.date | None = None
    areas: AreasConfig
    register: RegisterConfig
    sites: SitesConfig = Field(default_factory=SitesConfig)
    roads: RoadsConfig = Field(default_factory=RoadsConfig)
    units: list[UnitGroup] = Field(default_factory=list)
    posts: list[PostGroup] = Field(default_factory=list)
    calendar: CalendarConfig
    placement: PlacementConfig = Field(default_factory=PlacementConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    blangko: BlangkoConfig | None = None
    forecast: ForecastConfig = Field(default_factory=ForecastConfig)
    offices: list[OfficeConfig] = Field(default_factory=list, description="a province plan: one per kab/kota")
    lending: LendingConfig | None = None
    run: RunConfig = Field(default_factory=RunConfig)
    base_dir: Path = Field(Path("."), exclude=True)

    @model_validator(mode="after")
    def _someone_works(self):
        if not self.units and not self.posts and not self.offices:
            raise InputError("give at least one [[units]] group or one [[posts]] block: nobody would work")
        codes = [o.code for o in self.offices]
        if len(set(codes)) != len(codes):
            twice = sorted({c for c in codes if codes.count(c) > 1})
            raise InputError(f"offices: give each kab/kota code once (repeated: {twice})")
        if self.offices and (self.units or self.posts):
            raise InputError("a province plan gives each office its own units: move [[units]] and [[posts]] into "
                             "[[offices]] blocks (or [lending] for the province's own)")
        return self

    def resolve(self, path: Path | None) -> Path | None:
        """A path from the file, made absolute against the scenario's folder (``${shared}`` expanded)."""
        return None if path is None else resolve_path(path, self.base_dir)

    @property
    def unit_days(self) -> int:
        """Session unit-days in the horizon: the budget placement may spend."""
        return sum(g.count for g in self.units if g.sessions) * len(self.calendar.working_dates())

    @property
    def capacity_per_day(self) -> int:
        """Recordings per session-day (the smallest over session groups: a plan must hold for any unit)."""
        return min((g.capacity_per_day for g in self.units if g.sessions), default=0)

    @property
    def class_weights(self) -> dict[str, float]:
        """Priority per class as placement and the forecast apply it: first-time voters weigh extra only
        while an election is ahead (no election date, or one before the horizon: as much as ``umum``).
        """
        weights = dict(self.placement.weights)
        if self.election_date is None or self.election_date < self.calendar.week_start:
            weights["pemula"] = weights.get("umum", 1.0)
        return weights


class Problem(BaseModel):
    """One problem found in a scenario file: file, key and what was expected."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}"


def _path_keys(scenario: Scenario) -> list[tuple[str, Path | None]]:
    keys = [
        ("areas.kelurahan", scenario.areas.kelurahan),
        ("areas.kecamatan", scenario.areas.kecamatan),
        ("areas.gazetteer", scenario.areas.gazetteer),
        ("register.path", scenario.register.path),
        ("sites.path", scenario.sites.path),
    ]
    if scenario.register.synthetic:
        keys.append(("register.synthetic.population", scenario.register.synthetic.population))
    if scenario.roads.source in ("lines", "osm", "graphml"):
        keys.append(("roads.path", scenario.roads.path))
    return keys


def validate_file(path: str | Path) -> tuple[Scenario | None, list[Problem]]:
    """Read and check a scenario file; return it (or None) and every problem found."""
    path = Path(path)
    name = str(path)
    if not path.exists():
        return None, [Problem(file=name, key="-", message="file not found")]
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        return None, [Problem(file=name, key="-", message=toml_hint(path.read_text(encoding="utf-8"), exc))]
    except UnicodeDecodeError as exc:
        return None, [Problem(file=name, key="-", message=f"not a UTF-8 text file ({exc}); save it as UTF-8")]
    try:
        scenario = Scenario.model_validate({**raw, "base_dir": path.resolve().parent})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "-"
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                message = "required key is missing"
            elif err["type"] == "extra_forbidden":
                message = "unknown key (check the spelling)"
            elif err["type"] == "string_pattern_mismatch" and err.get("ctx", {}).get("pattern") == HHMM:
                message = f"expected a time of day HH:MM between 00:00 and 23:59 (got {err['input']!r})"
            elif "input" in err and not isinstance(err["input"], dict):
                message += f" (got {err['input']!r})"
            problems.append(Problem(file=name, key=key, message=message))
        # Missing files are also worth reporting when the structure is broken elsewhere.
        return None, problems + _missing_files_raw(raw, path)
    problems = [
        Problem(file=name, key=key, message=f"file not found: {scenario.resolve(p)}")
        for key, p in _path_keys(scenario)
        if p is not None and not scenario.resolve(p).exists()
    ]
    holidays = [d for d in scenario.calendar.holidays if d < scenario.calendar.week_start]
    if holidays:
        problems.append(Problem(file=name, key="calendar.holidays",
                                message=f"holidays before week_start have no effect: {holidays}"))
    if not scenario.calendar.working_dates():
        problems.append(Problem(file=name, key="calendar", message="no working day left in the horizon"))
    return (scenario if not problems else None), problems


_POSITION = re.compile(r"at line (\d+), column (\d+)")
_BOOL_WORDS = {"yes", "no", "ya", "tidak", "on", "off", "y", "n", "true", "false", "benar", "salah"}


def toml_hint(text: str, exc: Exception) -> str:
    """A TOML syntax error with what was expected there ('use true or false'), and the line itself."""
    message = str(exc)
    found = _POSITION.search(message)
    if not found:
        return f"not valid TOML: {message}"
    line_no, column = int(found.group(1)), int(found.group(2))
    lines = text.splitlines()
    line = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
    value = line[column - 1:].strip().split("#")[0].strip().rstrip(",]} ")
    word = value.split()[0] if value.split() else ""
    if word.lower().strip("\"'") in _BOOL_WORDS:
        hint = "use true or false (lower case, without quotes)"
    elif re.match(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$", word):
        hint = "write dates as YYYY-MM-DD, e.g. 2026-11-23"
    elif re.match(r"^\d{1,2}[.:]\d{2}$", word) and ":" not in word:
        hint = 'write times of day in quotes as "HH:MM", e.g. "08:00"'
    elif re.match(r"^\d{1,2}:\d{2}$", word):
        hint = 'put times of day in quotes: "08:00"'
    elif re.match(r"^[A-Za-z_]", word):
        hint = f'text needs quotes: "{value}"'
    else:
        hint = message.split(" (at line")[0].lower()
    return f"not valid TOML at line {line_no}, column {column}: {hint} (line {line_no}: {line.strip()!r})"


def _missing_files_raw(raw: dict, path: Path) -> list[Problem]:
    out = []
    for section, key in [("areas", "kelurahan"), ("areas", "kecamatan"), ("register", "path"), ("sites", "path")]:
        value = raw.get(section, {}).get(key) if isinstance(raw.get(section), dict) else None
        if isinstance(value, str):
            try:
                full = resolve_path(value, path.resolve().parent)
            except ScenarioError as exc:
                out.append(Problem(file=str(path), key=f"{section}.{key}", message=exc.problems[0]))
                continue
            if not full.exists():
                out.append(Problem(file=str(path), key=f"{section}.{key}", message=f"file not found: {full}"))
    return out


def load(path: str | Path) -> Scenario:
    """Load a scenario, raising ScenarioError with every problem if it is not usable."""
    scenario, problems = validate_file(path)
    if problems:
        raise ScenarioError(problems)
    return scenario
