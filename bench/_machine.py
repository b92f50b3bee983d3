"""What the benchmarks print about the machine and the code measured (shared by bench/*.py)."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return cpu


def code_version() -> dict:
    """git revision (``+dirty`` when seawatch/ has uncommitted changes) and a fingerprint of the
    seawatch sources actually measured (uncommitted work is common)."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "seawatch"], cwd=REPO,
                               capture_output=True, text=True).stdout.strip()
        rev = rev + ("+dirty" if dirty else "")
    except OSError:
        rev = None
    h = hashlib.sha256()
    for f in sorted((REPO / "seawatch").rglob("*.py")):
        h.update(str(f.relative_to(REPO)).encode() + b"\0" + f.read_bytes())
    return {"seawatch_git": rev, "seawatch_sources_sha256": h.hexdigest()[:12]}


def cpus_available() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
