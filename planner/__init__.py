"""planner: plan e-KTP outreach (jemput bola) for a Disdukcapil office.

The public API re-exports the stage functions so notebooks can run a whole plan or any stage.
"""

__version__ = "0.1.0"

# name -> (module, attribute); imported on first use so `import planner` stays fast
_EXPORTS = {
    "Scenario": ("planner.scenario", "Scenario"),
    "load_scenario": ("planner.scenario", "load"),
    "BlangkoConfig": ("planner.scenario", "BlangkoConfig"),
    "AreaSet": ("planner.areas", "AreaSet"),
    "load_areas": ("planner.areas", "load_areas"),
    "read_register": ("planner.register", "read_register"),
    "make_register": ("planner.synth_register", "make_register"),
    "geocode_register": ("planner.geocode", "geocode"),
    "compute_gaps": ("planner.demand", "gaps"),
    "Plan": ("planner.plan", "Plan"),
    "Run": ("planner.pipeline", "Run"),
    "run": ("planner.pipeline", "run"),
    "write_outputs": ("planner.outputs", "write_outputs"),
    "plan_map": ("planner.maps", "plan_map"),
    # the weekly loop and forecasts
    "initial_state": ("planner.progress", "initial_state"),
    "apply_progress": ("planner.progress", "apply"),
    "read_state": ("planner.progress", "read_state"),
    "write_state": ("planner.progress", "write_state"),
    "Capacity": ("planner.forecast", "Capacity"),
    "Forecast": ("planner.forecast", "Forecast"),
    "simulate": ("planner.forecast", "simulate"),
    "what_if": ("planner.forecast", "what_if"),
    "scenario_gaps": ("planner.pipeline", "scenario_gaps"),
    "plot_forecast": ("planner.forecast", "plot"),
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        module, attribute = _EXPORTS[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'planner' has no attribute {name!r}")
