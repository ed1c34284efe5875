"""The errors a user can act on: one tree, so the CLI can tell them from bugs.

Every stage raises a `PlannerError` subclass for input it cannot use (a file, a setting, a table);
the CLI prints those as one clear message and exits 2. Anything else is a bug in planner and is
shown with its traceback and a "please report" line. `InputError` is also a `ValueError` and
`SolverError` a `RuntimeError`, so code that caught the built-in types keeps working.
"""

from __future__ import annotations

from pathlib import Path


class PlannerError(Exception):
    """Base of every error planner raises on purpose (the message says what to do)."""


class InputError(PlannerError, ValueError):
    """A file, value or table given to planner that cannot be used."""


class MissingFileError(InputError, FileNotFoundError):
    """A file named in a scenario or on the command line does not exist."""

    def __init__(self, path: str | Path, what: str = "file"):
        self.path = Path(path)
        super().__init__(f"{what} not found: {path}")

    def __str__(self) -> str:  # FileNotFoundError would print its errno tuple
        return self.args[0]


class ScenarioError(InputError):
    """A scenario file that cannot be used; `problems` lists every reason (see planner.scenario)."""

    def __init__(self, problems: list):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class AreaError(InputError):
    """Area files that cannot be used; `problems` lists every reason found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("area files have problems:\n- " + "\n- ".join(self.problems))


class RegisterError(InputError):
    """A register file (or a progress list) that cannot be read as one."""


class TableError(InputError):
    """A table passed between stages lacks a column or breaks its contract (planner.contracts)."""


class PlanFileError(InputError):
    """A plan.json (or another saved output) that cannot be read back."""


class NetworkError(InputError):
    """A road network that cannot be built or loaded (bad file, no internet for a download)."""


class SolverError(PlannerError, RuntimeError):
    """A solver could not answer; the message says which setting to change."""
