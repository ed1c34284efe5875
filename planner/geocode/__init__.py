"""Geocoding: register rows onto kelurahan/kecamatan codes, every row in exactly one bucket.

The package is split by concept: `names` (normalising names and addresses to keys), `gazetteer`
(the keys of an area set), `resolver` (one reduced address -> a consistent kelurahan/kecamatan),
`cascade` (the steps a row goes through, one merge rule) and `report` (counts and files).
"""

from planner.geocode.cascade import STEPS, geocode
from planner.geocode.gazetteer import Gazetteer
from planner.geocode.names import name_key, reduce_address
from planner.geocode.report import BUCKETS, buckets, fit_warnings, summary, write_outputs
from planner.geocode.resolver import Match, Resolver

__all__ = ["BUCKETS", "STEPS", "Gazetteer", "Match", "Resolver", "buckets", "fit_warnings", "geocode", "name_key",
           "reduce_address", "summary", "write_outputs"]
