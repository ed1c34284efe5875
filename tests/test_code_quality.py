"""The code's own contracts (#16): lint and type check clean, one orchestrator, small modules."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "planner"
MAX_LINES = 700


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is installed with .[dev]")
def test_ruff_is_clean():
    result = subprocess.run(["ruff", "check", "planner", "tests", "benchmarks"], cwd=REPO, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def test_type_check_is_clean():
    pytest.importorskip("mypy")
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def test_no_stage_imports_the_orchestrator():
    """Only the CLI and the package's front door may use pipeline; stages never reach back up."""
    allowed = {"pipeline.py", "cli.py", "__init__.py", "outputs.py", "checks.py", "rolling.py", "province.py"}
    offenders = []
    for path in _modules():
        if path.name in allowed and path.parent == PACKAGE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "planner.pipeline" or n.endswith(".pipeline") for n in names):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_cli_catches_only_the_planner_error_tree():
    tree = ast.parse((PACKAGE / "cli.py").read_text(encoding="utf-8"))
    caught, swallowed = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            caught |= {ast.unparse(t) for t in types}
            reraises = isinstance(node.body[-1], ast.Raise) and node.body[-1].exc is None
            if ast.unparse(node.type) == "Exception" and not reraises:
                swallowed.append(node.lineno)
    assert "ValueError" not in caught, caught
    assert swallowed == [], "a bug must keep its traceback (print REPORT, then raise)"


def test_no_module_over_700_lines():
    long = {str(p.relative_to(REPO)): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
