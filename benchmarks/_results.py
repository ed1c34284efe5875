"""Write one benchmark's section of benchmarks/RESULTS.md, leaving the other sections alone.

Each benchmark owns the text between `<!-- BEGIN name -->` and `<!-- END name -->`; the section
header names the machine and the date, so figures are never read without their context.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem_gib = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):
        pass
    return f"{os.cpu_count()} cores {cpu}{mem_gib}, Python {platform.python_version()}, {platform.system()}"


def write_section(name: str, title: str, body: str) -> None:
    """Replace (or append) the section `name` in RESULTS.md."""
    stamp = f"Measured {dt.date.today().isoformat()} on {machine()}."
    block = f"<!-- BEGIN {name} -->\n## {title}\n\n{stamp}\n\n{body.strip()}\n<!-- END {name} -->"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n\n"
    pattern = re.compile(rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")
