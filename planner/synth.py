"""A deterministic fictional city, "Kota Contoh", generated from a seed.

The demo, the tests and the scale benchmarks all need a city whose truth is known: areas with
well-formed codes, people per area, a routable road layer, candidate session sites, and a messy
register of unrecorded residents. Generating it (instead of shipping real registers) keeps personal
data out of the project and lets one parameter, the size, go from a 12-kelurahan toy to a
province with thousands of villages.

Everything is built in metres around the origin, then placed in UTM 48S (EPSG:32748) and stored in
EPSG:4326 like real data. The default centre lies in the Indian Ocean south of the Sunda Strait,
so the city can never be mistaken for (or overlap) a real place, while metric code still gets a
sensible UTM zone. Codes use province 99, which Kemendagri does not assign.
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.cluster.vq import kmeans2
from scipy.sparse.csgraph import dijkstra, minimum_spanning_tree
from scipy.spatial import Delaunay

from planner.areas import AreaSet
from planner.contracts import SITE_COLUMNS
from planner.errors import InputError
from planner.synth_register import make_register

NAME = "Kota Contoh"
PROVINCE = "99"
KOTA_CODE = "99.71"
UTM48S = "EPSG:32748"
WGS84 = "EPSG:4326"
DEFAULT_CENTRE = (103.9, -7.2)  # lon, lat: open sea, inside UTM zone 48S
DEFAULT_AS_OF = dt.date(2026, 11, 23)  # fixed so a seed gives the same register on any day
ROAD_CLASSES = ("Jalan Arteri", "Jalan Kolektor", "Jalan Lokal", "Jalan Lain")

# Name parts: joined prefixes make one word ("Sukamaju"), spaced ones two ("Karang Jaya").
_JOINED = ["Suka", "Sido", "Margo", "Sri", "Sumber", "Tri", "Panca", "Mulya"]
_SPACED = ["Karang", "Tanjung", "Way", "Batu", "Bumi", "Teluk", "Gunung", "Labuhan", "Pasir", "Rawa",
           "Kampung", "Bandar"]
_SUFFIXES = ["jaya", "maju", "makmur", "rejo", "dadi", "mulyo", "sari", "agung", "indah", "harjo",
             "rahayu", "baru", "asri", "raya", "permai", "mukti", "lestari", "waras", "sentosa", "mekar",
             "karya", "rame", "bakti", "anyar"]
_DIRECTIONS = ["Utara", "Selatan", "Timur", "Barat", "Tengah", "Pusat"]
# Names many kecamatan share in real life (Lampung has 14 "Sidodadi"): the geocoder must cope.
_COMMON = ["Sidodadi", "Sukarame", "Sukamaju", "Sidorejo", "Karang Anyar", "Sukajaya"]


@dataclass(frozen=True)
class CitySize:
    """How big a generated city is.

    Parameters
    ----------
    kecamatan, kelurahan
        Number of kecamatan and of kelurahan/desa in total (each kecamatan gets at least one).
    residents
        Unrecorded residents in the register (one register row each).
    kabupaten
        Number of kab/kota. The central one is "Kota Contoh" (99.71, kelurahan 1xxx); with
        ``rural`` the others are kabupaten 99.01, 99.02, ... whose villages are desa (2xxx).
    population
        Total residents (penduduk); default 8,500 per kelurahan in a city, 3,400 per village.
    km2_per_area
        Mean area of a kelurahan/desa; default 1.6 km2 in a city, 13.5 km2 in a province.
    road_nodes
        Junctions of the generated street network; default scales with the number of areas.
    """

    kecamatan: int
    kelurahan: int
    residents: int
    kabupaten: int = 1
    rural: bool = False
    population: int | None = None
    km2_per_area: float | None = None
    road_nodes: int | None = None

    def __post_init__(self):
        for name in ("kecamatan", "kelurahan", "kabupaten"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise InputError(f"CitySize.{name} must be a positive integer, got {value!r}")
        if not isinstance(self.residents, (int, np.integer)) or self.residents < 0:
            raise InputError(f"CitySize.residents must be a non-negative integer, got {self.residents!r}")
        if self.kelurahan < self.kecamatan or self.kecamatan < self.kabupaten:
            raise InputError(f"need kabupaten <= kecamatan <= kelurahan, got {self.kabupaten} kab/kota, "
                             f"{self.kecamatan} kecamatan, {self.kelurahan} kelurahan")
        if self.kecamatan > 60 * self.kabupaten:
            raise InputError(f"{self.kecamatan} kecamatan in {self.kabupaten} kab/kota: codes allow at most "
                             f"99 kecamatan per kab/kota; use at least {-(-self.kecamatan // 60)} kabupaten")
        if self.kelurahan > 500 * self.kecamatan:
            raise InputError(f"{self.kelurahan} kelurahan in {self.kecamatan} kecamatan: codes allow at most "
                             f"999 per kecamatan; use more kecamatan")
        if self.population is not None and self.population < self.residents:
            raise InputError(f"population {self.population} is smaller than the {self.residents} residents")

    @property
    def total_population(self) -> int:
        """Residents of the generated area (urban or rural density per kelurahan)."""
        per_area = 3_400 if self.rural else 8_500
        return int(self.population if self.population is not None else per_area * self.kelurahan)

    @property
    def area_km2(self) -> float:
        """Land area of the generated area."""
        return self.kelurahan * (self.km2_per_area or (13.5 if self.rural else 1.6))

    @property
    def n_road_nodes(self) -> int:
        """Road junctions to generate."""
        return int(self.road_nodes or max(200, (8 if self.rural else 25) * self.kelurahan))


SIZES: dict[str, CitySize] = {
    "toy": CitySize(kecamatan=3, kelurahan=12, residents=400),
    "city": CitySize(kecamatan=20, kelurahan=120, residents=16_000),  # about Bandar Lampung
    "province": CitySize(kecamatan=230, kelurahan=2_600, residents=100_000, kabupaten=15, rural=True),
}


@dataclass
class SynthCity:
    """Everything the planner needs about the fictional city, plus the truth behind the register.

    Attributes
    ----------
    areas
        Kelurahan/desa and kecamatan polygons (EPSG:4326).
    kabkota
        Indexed by kab/kota code (``99.71`` is Kota Contoh): ``nama``, e.g. "Kabupaten Way Jaya".
    population
        Indexed by ``kode_kel``: ``kode_kec, penduduk, wajib_ktp, unrecorded`` (unrecorded = the
        register rows that truly live there).
    roads
        LineStrings with a ``REMARK`` road class (BIG RBI names); lines meet at shared endpoints.
    sites
        Candidate session sites per the Sites contract (kantor_camat, kantor_lurah, sekolah).
    depot
        ``{"name", "lat", "lon"}`` of the Disdukcapil office the units start from.
    register
        The messy register from ``planner.synth_register.make_register`` (with truth columns).
    """

    name: str
    seed: int
    size: CitySize
    areas: AreaSet
    kabkota: pd.DataFrame
    population: pd.DataFrame
    roads: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    depot: dict
    register: pd.DataFrame | None
    as_of: dt.date
    election_date: dt.date | None = None

    def save(self, folder: str | Path) -> dict[str, Path]:
        """Write the city as the files a scenario reads; returns their paths by role.

        Sites go to a CSV (``planner.sites.load_sites`` reads it). The register goes to
        ``register.csv`` without its truth columns (what an office would export); the truth goes
        beside it in ``register_truth.csv`` (with the 1-based ``row``) for scoring the geocoder.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {
            "kelurahan": folder / "kelurahan.geojson",
            "kecamatan": folder / "kecamatan.geojson",
            "roads": folder / "roads.gpkg",
            "sites": folder / "sites.csv",
            "population": folder / "population.csv",
        }
        self.areas.kelurahan.to_file(paths["kelurahan"], driver="GeoJSON")
        self.areas.kecamatan.to_file(paths["kecamatan"], driver="GeoJSON")
        self.roads.to_file(paths["roads"], driver="GPKG")
        sites = pd.DataFrame(self.sites.drop(columns="geometry"))
        sites["lat"], sites["lon"] = self.sites.geometry.y, self.sites.geometry.x
        sites.to_csv(paths["sites"], index=False)  # CSV keeps "08:00" a string (GeoJSON readers make it a time)
        self.population.reset_index().to_csv(paths["population"], index=False)
        if self.register is not None:
            truth = [c for c in self.register.columns if c.startswith("true_") or c == "style"]
            paths["register"] = folder / "register.csv"
            paths["register_truth"] = folder / "register_truth.csv"
            self.register.drop(columns=truth).to_csv(paths["register"], index=False)
            truth_frame = self.register[truth].copy()
            truth_frame.insert(0, "row", np.arange(1, len(truth_frame) + 1))
            truth_frame.to_csv(paths["register_truth"], index=False)
        return paths


def make_city(
    seed: int = 7,
    size: str | CitySize = "toy",
    *,
    as_of: dt.date | None = None,
    election_date: dt.date | None = None,
    centre: tuple[float, float] = DEFAULT_CENTRE,
    register: bool = True,
    progress: bool | None = None,
) -> SynthCity:
    """Generate Kota Contoh: areas, population, roads, sites, depot and register.

    Parameters
    ----------
    seed
        Same seed (and size, dates) gives identical output.
    size
        ``"toy"`` (3 kecamatan x 4 kelurahan, 400 residents), ``"city"`` (20 x 6, 16,000, about
        Bandar Lampung), ``"province"`` (15 kab/kota, 230 kecamatan, 2,600 villages, 100,000) or a
        :class:`CitySize` with explicit numbers.
    as_of
        Date the register is exported (ages are computed at it); default 2026-11-23.
    election_date
        Passed to the register generator (first-time voters are those 17 by then).
    centre
        (lon, lat) of the city centre; keep it inside UTM zone 48S (lon 102-108, south).
    register
        Set False to skip generating the register (faster when only geometry is needed).
    progress
        Show a progress bar; by default only for more than 500 areas.
    """
    spec = _size(size)
    if not (102 <= centre[0] <= 108 and -12 <= centre[1] < 0):
        raise InputError(f"centre {centre} is outside UTM zone 48S (lon 102..108, lat -12..0)")
    as_of = as_of or DEFAULT_AS_OF
    # One stream per part: a change in how roads are drawn does not move the kelurahan.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(5)]
    rng_geo, rng_names, rng_pop, rng_roads, rng_sites = streams
    show = progress if progress is not None else spec.kelurahan > 500

    from rich.progress import Progress

    with Progress(transient=True, disable=not show) as bar:
        task = bar.add_task(f"Generating {NAME} ({spec.kelurahan} areas)", total=6)
        density = _Density.make(spec, rng_geo)
        seeds, cells, outline = _tessellate(spec, density, rng_geo)
        bar.advance(task)
        adjacency = _adjacency(cells)
        kec_of = _grow_regions(adjacency, seeds, spec.kecamatan, rng_geo)
        kec_xy = np.array([seeds[kec_of == k].mean(axis=0) for k in range(spec.kecamatan)])
        kec_pairs = {(min(a, b), max(a, b))
                     for a, b in zip(kec_of[adjacency.row], kec_of[adjacency.col]) if a != b}
        kec_adj = _pairs_to_matrix(kec_pairs, spec.kecamatan)
        kab_of = _grow_regions(kec_adj, kec_xy, spec.kabupaten, rng_geo)
        bar.advance(task)
        kel, kec = _codes_and_names(spec, seeds, kec_of, kab_of, kec_xy, rng_names)
        bar.advance(task)
        population = _population(spec, seeds, cells, density, kel, rng_pop)
        sites_xy, sites = _sites(seeds, cells, kel, kec, rng_sites)
        bar.advance(task)
        lines, remark = _roads(spec, density, outline, sites_xy, sites, kec_pairs, kec, rng_roads)
        bar.advance(task)

        areas, roads, sites, depot = _georeference(centre, cells, kel, kec, lines, remark, sites_xy, sites)
        kabkota = kec[["kode_kab", "nama_kab"]].drop_duplicates().sort_values("kode_kab")
        kabkota = kabkota.rename(columns={"kode_kab": "kode", "nama_kab": "nama"}).set_index("kode")
        bar.advance(task)

        frame = None
        if register:
            named = areas.kelurahan.assign(nama_kabkota=areas.kelurahan["kode"].str[:5].map(kabkota["nama"]))
            frame = make_register(named, population["unrecorded"], seed=int(seed), as_of=as_of,
                                  election_date=election_date)
        bar.advance(task)
    return SynthCity(name=NAME, seed=int(seed), size=spec, areas=areas, kabkota=kabkota, population=population,
                     roads=roads, sites=sites, depot=depot, register=frame, as_of=as_of,
                     election_date=election_date)


def _size(size: str | CitySize) -> CitySize:
    if isinstance(size, CitySize):
        return size
    if isinstance(size, str) and size in SIZES:
        return SIZES[size]
    raise InputError(f"unknown city size {size!r}: expected one of {sorted(SIZES)} or a CitySize")


def _georeference(centre, cells, kel, kec, lines, remark, sites_xy, sites):
    """Metric layout -> UTM 48S -> EPSG:4326: the AreaSet, roads, sites and depot.

    Every layer goes through the same point-wise transform, so vertices shared by neighbouring
    kelurahan (and sites placed on road junctions) stay exactly shared.
    """
    origin = gpd.GeoSeries(gpd.points_from_xy([centre[0]], [centre[1]]), crs=WGS84).to_crs(UTM48S)[0]
    offset = (origin.x, origin.y)
    kel_gdf = gpd.GeoDataFrame(kel, geometry=_place(cells, offset), crs=UTM48S).to_crs(WGS84)
    kel_gdf = kel_gdf[["kode", "nama", "kode_kec", "nama_kec", "geometry"]].sort_values("kode")
    kec_gdf = (kel_gdf[["kode_kec", "geometry"]].dissolve(by="kode_kec", method="coverage")
               .reset_index().rename(columns={"kode_kec": "kode"}))
    kec_gdf["nama"] = kec_gdf["kode"].map(dict(zip(kec["kode"], kec["nama"])))
    areas = AreaSet(kelurahan=kel_gdf.reset_index(drop=True),
                    kecamatan=kec_gdf[["kode", "nama", "geometry"]].reset_index(drop=True))
    roads = gpd.GeoDataFrame({"REMARK": remark}, geometry=_place(lines, offset), crs=UTM48S).to_crs(WGS84)
    sites = gpd.GeoDataFrame(sites, geometry=_place(shapely.points(sites_xy), offset), crs=UTM48S).to_crs(WGS84)
    depot_row = sites.index[sites["kind"] == "depot"][0]
    point = sites.geometry[depot_row]
    depot = {"name": f"Disdukcapil {NAME}", "lat": float(point.y), "lon": float(point.x)}
    sites = sites.drop(index=depot_row).sort_values("site_id").reset_index(drop=True)
    return areas, roads, sites, depot


def _place(geoms, offset) -> np.ndarray:
    """Shift metric geometries from the local origin to their UTM position."""
    return shapely.transform(np.asarray(geoms), lambda xy: xy + np.asarray(offset))


# ---- where people live -------------------------------------------------------------------------
@dataclass
class _Density:
    """A mixture of a uniform share and Gaussian towns inside a wobbly outline (metres)."""

    radius: float
    harmonics: np.ndarray  # rows of (k, amplitude, phase)
    uniform: float
    towns: np.ndarray  # rows of (x, y, sigma, weight)

    @classmethod
    def make(cls, spec: CitySize, rng: np.random.Generator) -> _Density:
        radius = np.sqrt(spec.area_km2 * 1e6 / np.pi)
        ks = np.arange(2, 6)
        harmonics = np.column_stack([ks, rng.uniform(0.02, 0.12, len(ks)) / np.sqrt(ks - 1),
                                     rng.uniform(0, 2 * np.pi, len(ks))])
        if spec.kabupaten == 1:
            towns = np.array([[0.0, 0.0, 0.35 * radius, 1.0]])
            uniform = 0.35
        else:  # a dense kota in the middle and a small town per kabupaten
            angle = rng.uniform(0, 2 * np.pi, spec.kabupaten - 1)
            dist = rng.uniform(0.35, 0.8, spec.kabupaten - 1) * radius
            towns = np.vstack([[0.0, 0.0, 0.08 * radius, 0.3],
                               np.column_stack([dist * np.cos(angle), dist * np.sin(angle),
                                                np.full(len(angle), 0.04 * radius),
                                                np.full(len(angle), 0.25 / len(angle))])])
            uniform = 0.45
        return cls(radius, harmonics, uniform, towns)

    def edge(self, theta: np.ndarray) -> np.ndarray:
        """Outline radius in direction theta."""
        k, amp, phase = self.harmonics.T
        return self.radius * (1 + (amp[:, None] * np.cos(k[:, None] * theta + phase[:, None])).sum(axis=0))

    def inside(self, xy: np.ndarray) -> np.ndarray:
        return np.hypot(xy[:, 0], xy[:, 1]) < self.edge(np.arctan2(xy[:, 1], xy[:, 0]))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """N points inside the outline, drawn from the mixture (rejection sampling)."""
        out = []
        have = 0
        town_p = self.towns[:, 3] / self.towns[:, 3].sum()
        while have < n:
            m = 2 * (n - have) + 16
            pick_uniform = rng.random(m) < self.uniform
            box = rng.uniform(-1.5 * self.radius, 1.5 * self.radius, (m, 2))
            town = rng.choice(len(self.towns), size=m, p=town_p)
            gauss = self.towns[town, :2] + rng.normal(size=(m, 2)) * self.towns[town, 2:3]
            xy = np.where(pick_uniform[:, None], box, gauss)
            xy = xy[self.inside(xy)]
            out.append(xy)
            have += len(xy)
        return np.vstack(out)[:n]

    def pdf(self, xy: np.ndarray) -> np.ndarray:
        """Relative density (people per m2, up to a constant) at xy."""
        dx = xy[:, None, :2] - self.towns[None, :, :2]
        sigma2 = self.towns[:, 2] ** 2
        gauss = (self.towns[:, 3] / (2 * np.pi * sigma2) * np.exp(-(dx ** 2).sum(axis=2) / (2 * sigma2))).sum(axis=1)
        gauss = gauss / self.towns[:, 3].sum()
        return self.uniform / (np.pi * self.radius ** 2) + (1 - self.uniform) * gauss


def _tessellate(spec: CitySize, density: _Density, rng: np.random.Generator):
    """Kelurahan polygons: Voronoi cells of random seeds, bounded by a ring of ghost seeds.

    Ghost seeds just outside the outline close the outer cells, so the city edge is made of
    Voronoi edges too: cells tile the city exactly (no clipping, no slivers, shared vertices).
    """
    n = spec.kelurahan
    seeds = density.sample(n, rng)
    spacing = np.sqrt(spec.area_km2 * 1e6 / n)
    perimeter = 2 * np.pi * density.radius * 1.1
    n_ghost = max(48, int(perimeter / (0.5 * spacing)))
    theta = (np.arange(n_ghost) + rng.uniform(-0.3, 0.3, n_ghost)) * (2 * np.pi / n_ghost)
    ghost_r = density.edge(theta) + 0.3 * spacing
    far = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    ghosts = np.vstack([np.column_stack([ghost_r * np.cos(theta), ghost_r * np.sin(theta)]),
                        3 * density.radius * np.column_stack([np.cos(far), np.sin(far)])])
    for _ in range(2):  # half a Lloyd step twice: rounder cells, same overall density
        cells = _voronoi(np.vstack([seeds, ghosts]))[:n]
        moved = 0.5 * seeds + 0.5 * shapely.get_coordinates(shapely.centroid(cells))
        seeds = np.where(density.inside(moved)[:, None], moved, seeds)  # never drift out of town
    cells = _voronoi(np.vstack([seeds, ghosts]))[:n]
    outline = shapely.coverage_union_all(cells)
    if outline.geom_type != "Polygon" or len(outline.interiors):
        raise RuntimeError("generated city outline is not one polygon without holes; try another seed")
    return seeds, cells, outline


def _voronoi(points: np.ndarray) -> np.ndarray:
    """Voronoi cells in the order of the points."""
    diagram = shapely.voronoi_polygons(shapely.multipoints(points), ordered=True)
    return np.asarray(shapely.get_parts(diagram))


def _adjacency(cells: np.ndarray) -> sparse.coo_matrix:
    """Symmetric 0/1 matrix of cells sharing an edge (not just a corner)."""
    tree = shapely.STRtree(cells)
    left, right = tree.query(cells, predicate="touches")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.length(shapely.intersection(cells[left], cells[right]))
    left, right = left[shared > 1e-6], right[shared > 1e-6]
    n = len(cells)
    data = np.ones(2 * len(left))
    return sparse.coo_matrix((data, (np.r_[left, right], np.r_[right, left])), shape=(n, n))


def _pairs_to_matrix(pairs, n: int) -> sparse.coo_matrix:
    pairs = np.array(sorted(pairs), dtype=int).reshape(-1, 2)
    rows = np.r_[pairs[:, 0], pairs[:, 1]]
    cols = np.r_[pairs[:, 1], pairs[:, 0]]
    return sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def _grow_regions(adjacency: sparse.coo_matrix, xy: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Group n cells into k contiguous regions of similar size.

    Regions start at cells near k-means centres and grow one neighbouring cell at a time, the
    smallest region first, taking the free neighbour nearest its start: contiguous by
    construction and balanced in the number of cells.
    """
    n = len(xy)
    if k == 1:
        return np.zeros(n, dtype=int)
    csr = adjacency.tocsr()
    centres, _ = kmeans2(xy, k, minit="++", seed=rng, iter=20)
    label = np.full(n, -1)
    starts = []
    for c in centres:
        order = np.argsort(np.hypot(*(xy - c).T))
        start = next(i for i in order if label[i] < 0)
        label[start] = len(starts)
        starts.append(start)
    frontier = [set(csr.indices[csr.indptr[s]:csr.indptr[s + 1]]) for s in starts]
    heap = [(1, r) for r in range(k)]
    sizes = np.ones(k, dtype=int)
    while heap:
        _, r = heapq.heappop(heap)
        free = [i for i in frontier[r] if label[i] < 0]
        if not free:
            continue  # boxed in: this region is done
        free.sort()
        here = xy[starts[r]]
        pick = free[int(np.argmin([np.hypot(*(xy[i] - here)) for i in free]))]
        label[pick] = r
        sizes[r] += 1
        frontier[r] = set(free) - {pick}
        frontier[r].update(csr.indices[csr.indptr[pick]:csr.indptr[pick + 1]])
        heapq.heappush(heap, (sizes[r], r))
    if (label < 0).any():
        raise RuntimeError(f"{int((label < 0).sum())} cells could not be reached from any region")
    return label


# ---- codes and names ---------------------------------------------------------------------------
def _codes_and_names(spec: CitySize, seeds, kec_of, kab_of, kec_xy, rng):  # noqa: C901  (one generator/solver loop read top to bottom; splitting it scatters its state)
    """Kemendagri-style codes (province 99) and plausible, fictional Indonesian names.

    Returns the kelurahan table (one row per cell, in cell order) and the kecamatan table (one
    row per kecamatan label, with its kab/kota code and name).
    """
    n_kec = len(kec_xy)
    # The kab/kota holding the kecamatan nearest the centre is the kota; the others go round it.
    kota = kab_of[int(np.argmin(np.hypot(*kec_xy.T)))]
    kab_xy = np.array([kec_xy[kab_of == b].mean(axis=0) for b in range(spec.kabupaten)])
    angle = np.arctan2(kab_xy[:, 1], kab_xy[:, 0])
    others = [b for b in np.argsort(angle, kind="stable") if b != kota]
    kab_code = {kota: KOTA_CODE}
    for i, b in enumerate(others, start=1):
        kab_code[b] = f"{PROVINCE}.{i:02d}" if spec.rural else f"{PROVINCE}.{71 + i}"
    kab_xy[kota] = 0.0
    kab_name = {kota: NAME}
    for b in others:
        while (name := f"{'Kabupaten' if spec.rural else 'Kota'} {_place_name(rng, spaced=rng.random() < 0.5)}") \
                in kab_name.values():
            pass
        kab_name[b] = name

    kec_code = np.empty(n_kec, dtype=object)
    for b in range(spec.kabupaten):
        members = np.flatnonzero(kab_of == b)
        order = members[np.argsort(np.hypot(*(kec_xy[members] - kab_xy[b]).T), kind="stable")]
        if len(order) > 99:
            raise InputError(f"kab/kota {kab_code[b]} got {len(order)} kecamatan (codes allow 99): "
                             f"use more kabupaten")
        for i, k in enumerate(order, start=1):
            kec_code[k] = f"{kab_code[b]}.{i:02d}"

    used: set[str] = set()
    kec_name = np.empty(n_kec, dtype=object)
    kec_base = np.empty(n_kec, dtype=object)
    for k in np.argsort(kec_code.astype(str)):
        while True:
            base = _place_name(rng, spaced=kec_code[k].endswith(".01") or rng.random() < 0.4)
            if kec_code[k] == f"{KOTA_CODE}.01":
                name = f"{base} Pusat"  # always one three-word name that offices abbreviate (TKP-style)
            elif rng.random() < 0.3:
                name = f"{base} {_DIRECTIONS[rng.integers(len(_DIRECTIONS))]}"
            else:
                name = base
            if name not in used and base not in used:
                used.update({name, base})
                break
        kec_name[k], kec_base[k] = name, base

    kel_rows = {}
    shared_name = _COMMON[0]
    for rank, k in enumerate(np.argsort(kec_code.astype(str))):
        members = np.flatnonzero(kec_of == k)
        order = members[np.argsort(np.hypot(*(seeds[members] - kec_xy[k]).T), kind="stable")]
        if len(order) > 999:
            raise InputError(f"kecamatan {kec_code[k]} got {len(order)} areas (codes allow 999)")
        rural = spec.rural and not kec_code[k].startswith(KOTA_CODE)
        names: list[str] = []
        if rng.random() < 0.5:
            names.append(kec_base[k])  # the kecamatan is named after its main kelurahan
        if rank < 2 and n_kec > 1:
            names.append(shared_name)  # at least one name used in two kecamatan
        elif rng.random() < 0.35:
            names.append(_COMMON[rng.integers(len(_COMMON))])
        names = list(dict.fromkeys(names))
        while len(names) < len(order):
            name = _place_name(rng, spaced=rng.random() < 0.5)
            if rng.random() < 0.12:
                name += " " + ["Baru", "Indah", "Ilir", "Ulu", "Raya", "Permai"][rng.integers(6)]
            if name not in names:
                names.append(name)
        for i, (cell, name) in enumerate(zip(order, names[:len(order)]), start=1):
            # In a kabupaten the town centre (first two areas of the first kecamatan) is kelurahan.
            desa = rural and not (kec_code[k].endswith(".01") and i <= 2)
            kel_rows[cell] = (f"{kec_code[k]}.{(2000 if desa else 1000) + i}", name, kec_code[k], kec_name[k])
    kel = pd.DataFrame([kel_rows[c] for c in range(len(seeds))], columns=["kode", "nama", "kode_kec", "nama_kec"])
    kec = pd.DataFrame({"kode": kec_code.astype(str), "nama": kec_name.astype(str),
                        "kode_kab": [kab_code[b] for b in kab_of], "nama_kab": [kab_name[b] for b in kab_of]})
    return kel, kec


def _place_name(rng: np.random.Generator, spaced: bool) -> str:
    suffix = _SUFFIXES[rng.integers(len(_SUFFIXES))]
    if spaced:
        return f"{_SPACED[rng.integers(len(_SPACED))]} {suffix.capitalize()}"
    return _JOINED[rng.integers(len(_JOINED))] + suffix


# ---- people ------------------------------------------------------------------------------------
def _population(spec: CitySize, seeds, cells, density: _Density, kel: pd.DataFrame, rng) -> pd.DataFrame:
    """Residents, wajib KTP and unrecorded per kelurahan.

    Dense areas hold more people (population grows faster than the seed density), and the
    recording gap is larger away from the centre, where the office is far: the demo then shows
    the familiar picture of gaps at the edge of the city.
    """
    pdf = density.pdf(seeds)
    weight = shapely.area(cells) * pdf ** 1.6 * rng.lognormal(0.0, 0.3, len(seeds))
    penduduk = rng.multinomial(spec.total_population, weight / weight.sum())
    wajib = rng.binomial(penduduk, rng.uniform(0.68, 0.76, len(seeds)))
    remote = np.hypot(*seeds.T) / density.radius
    gap = wajib * (0.5 + 1.5 * remote) * rng.lognormal(0.0, 0.4, len(seeds))
    unrecorded = rng.multinomial(spec.residents, gap / gap.sum()) if gap.sum() > 0 else np.zeros(len(seeds), int)
    over = unrecorded > wajib
    if over.any():
        raise InputError(f"{spec.residents} unrecorded residents do not fit in a population of "
                         f"{spec.total_population}: raise CitySize.population")
    frame = pd.DataFrame({"kode_kel": kel["kode"], "kode_kec": kel["kode_kec"], "penduduk": penduduk,
                          "wajib_ktp": wajib, "unrecorded": unrecorded})
    return frame.sort_values("kode_kel").set_index("kode_kel")


# ---- candidate session sites -------------------------------------------------------------------
_SITE_COLUMNS = [c for c in SITE_COLUMNS if c != "geometry"]


def _sites(seeds, cells, kel: pd.DataFrame, kec: pd.DataFrame, rng):
    """Kantor camat (one per kecamatan), kantor lurah (most kelurahan), a few schools, the depot.

    Ids follow ``planner.sites``: ``<kode_kec>-camat``, ``<kode_kel>-lurah``, ``<kode_kel>-sekolah``.

    Each point lies on the segment from the cell's seed towards one of its corners; cells are
    convex, so the point is inside its kelurahan by construction.
    """
    rows, points = [], []

    def point_in(cell: int, t: float) -> np.ndarray:
        corners = shapely.get_coordinates(shapely.get_exterior_ring(cells[cell]))[:-1]
        corner = corners[rng.integers(len(corners))]
        return seeds[cell] + t * (corner - seeds[cell])

    def add(site_id, name, kind, cell, t, open_days="01234", hours=("08:00", "16:00"), max_days=5):
        rows.append((site_id, name, kind, kel.at[cell, "kode"], kel.at[cell, "kode_kec"], open_days,
                     hours[0], hours[1], max_days))
        points.append(point_in(cell, t))

    first = kel["kode"].str[9:].astype(int) % 1000 == 1  # the kecamatan's main kelurahan
    for cell in np.flatnonzero(first.to_numpy()):
        add(f"{kel.at[cell, 'kode_kec']}-camat", f"Kantor Camat {kel.at[cell, 'nama_kec']}", "kantor_camat", cell, 0.4)
    for cell in range(len(kel)):
        if rng.random() < 0.85:
            desa = kel.at[cell, "kode"][9] == "2"
            name = f"{'Kantor Kepala Desa' if desa else 'Kantor Lurah'} {kel.at[cell, 'nama']}"
            add(f"{kel.at[cell, 'kode']}-lurah", name, "kantor_lurah", cell, 0.15, max_days=2)
    n_school = max(2, len(kel) // 8)
    schools = rng.choice(len(kel), size=min(n_school, len(kel)), replace=False)
    for i, cell in enumerate(sorted(schools, key=lambda c: kel.at[c, "kode"]), start=1):
        add(f"{kel.at[cell, 'kode']}-sekolah", f"SMA Negeri {i} {kel.at[cell, 'nama_kec']}", "sekolah", cell, 0.6,
            open_days="012345", hours=("08:00", "13:00"), max_days=1)
    centre = int(np.argmin(np.hypot(*seeds.T)))
    add("DEPOT", f"Disdukcapil {NAME}", "depot", centre, 0.3)
    return np.array(points), pd.DataFrame(rows, columns=_SITE_COLUMNS)


# ---- roads -------------------------------------------------------------------------------------
def _roads(spec: CitySize, density: _Density, outline, sites_xy, sites: pd.DataFrame, kec_pairs, kec, rng):
    """A planar street network with BIG RBI road classes.

    Junctions are random points (denser where people live) plus every site; streets are the
    Gabriel graph of the junctions (planar: streets meet only at shared endpoints), thinned
    towards the edge but never below a spanning tree, so the network is one connected piece.
    Arterials are the shortest paths between neighbouring kecamatan offices, collectors those
    from each kantor lurah and school to its kantor camat.
    """
    junctions = density.sample(spec.n_road_nodes, rng)
    junctions = junctions[shapely.contains_xy(outline, junctions[:, 0], junctions[:, 1])]
    nodes = np.vstack([junctions, sites_xy])
    site_node = len(junctions) + np.arange(len(sites_xy))
    n = len(nodes)

    tri = Delaunay(nodes).simplices
    edges, gabriel = [], []
    for a, b, c in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        i, j, opposite = tri[:, a], tri[:, b], tri[:, c]
        dot = ((nodes[i] - nodes[opposite]) * (nodes[j] - nodes[opposite])).sum(axis=1)
        edges.append(np.sort(np.column_stack([i, j]), axis=1))
        gabriel.append(dot >= 0)  # the opposite corner is outside the circle on edge ij
    edges, gabriel = np.vstack(edges), np.concatenate(gabriel)
    key = edges[:, 0] * n + edges[:, 1]
    blocked = np.unique(key[~gabriel])
    keep = np.unique(key[~np.isin(key, blocked)])
    edges = np.column_stack([keep // n, keep % n])
    length = np.hypot(*(nodes[edges[:, 0]] - nodes[edges[:, 1]]).T)

    graph = sparse.coo_matrix((length, (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    tree = minimum_spanning_tree(graph).tocoo()
    in_tree = np.isin(keep, np.minimum(tree.row, tree.col) * n + np.maximum(tree.row, tree.col))
    middle = 0.5 * (nodes[edges[:, 0]] + nodes[edges[:, 1]])
    dense = pd.Series(density.pdf(middle)).rank(pct=True).to_numpy()
    inside = shapely.contains_xy(outline, middle[:, 0], middle[:, 1])
    chosen = in_tree | (inside & (rng.random(len(edges)) < 0.35 + 0.55 * dense))
    edges, length, dense = edges[chosen], length[chosen], dense[chosen]
    index = {(int(a), int(b)): e for e, (a, b) in enumerate(edges)}

    graph = sparse.coo_matrix((length, (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    camat = sites.index[sites["kind"] == "kantor_camat"].to_numpy()
    camat_node = site_node[camat]
    camat_of = dict(zip(sites.loc[camat, "kode_kec"], range(len(camat))))
    _, pred = dijkstra(graph, directed=False, indices=camat_node, return_predecessors=True)
    level = np.full(len(edges), 2)  # Jalan Lokal

    def mark(source: int, target: int, cls: int):
        while target != camat_node[source] and target >= 0:
            prev = pred[source, target]
            e = index[(min(prev, target), max(prev, target))]
            level[e] = min(level[e], cls)
            target = prev

    # Arterials: a spanning tree of the kecamatan neighbours plus a third of the other links.
    if len(kec_pairs):
        pairs = np.array(sorted(kec_pairs))
        camat_xy = sites_xy[camat]
        kec_index = {code: camat_of[code] for code in kec["kode"]}
        a = np.array([kec_index[kec.at[p, "kode"]] for p in pairs[:, 0]])
        b = np.array([kec_index[kec.at[p, "kode"]] for p in pairs[:, 1]])
        dist = np.hypot(*(camat_xy[a] - camat_xy[b]).T)
        kec_tree = minimum_spanning_tree(sparse.coo_matrix((dist, (a, b)), shape=(len(camat),) * 2)).tocoo()
        tree_pairs = set(zip(np.minimum(kec_tree.row, kec_tree.col), np.maximum(kec_tree.row, kec_tree.col)))
        for x, y in zip(a, b):
            if (min(x, y), max(x, y)) in tree_pairs or rng.random() < 0.33:
                mark(x, camat_node[y], 0)
    for s in np.flatnonzero(sites["kind"].isin(["kantor_lurah", "sekolah", "depot"]).to_numpy()):
        mark(camat_of[sites.at[s, "kode_kec"]], site_node[s], 1)
    lain = (level == 2) & (rng.random(len(edges)) < 0.1 + 0.4 * (1 - dense))
    level[lain] = 3
    lines = shapely.linestrings(np.stack([nodes[edges[:, 0]], nodes[edges[:, 1]]], axis=1))
    return lines, np.array(ROAD_CLASSES, dtype=object)[level]
