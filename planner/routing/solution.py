"""What an engine returns: for each vehicle that works, its stops in order with their start times.

Engine-neutral on purpose: the renderer turns it into the schedule table and the checker never sees
an engine's own objects, so OR-Tools and PyVRP are compared on exactly the same terms.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class VehicleRoute:
    """One vehicle's day (or tour): when it leaves, each job (index into `active`) with its start, where it sleeps."""

    vehicle: int
    depart: int
    stops: list[tuple[int, int]]
    nights: list[int] = field(default_factory=list)  # a tour: the point it sleeps at each night, in order


@dataclass
class Solution:
    """The routes of one engine run, its objective (lower is better) and how the search went."""

    routes: list[VehicleRoute]
    objective: int = 0
    status: str = ""
    stats: dict = field(default_factory=dict)
