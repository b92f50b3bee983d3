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


#: Environment of a process measured "on one core": every thread pool of the stack at 1.
SINGLE_THREAD_ENV = {
    "POLARS_MAX_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "RAYON_NUM_THREADS": "1",
    "ARROW_NUM_THREADS": "1",  # not read by pyarrow itself; harmless
}


def pin(cpu: int | None) -> str:
    """Pin this process to ``cpu`` (Linux); says what happened."""
    if cpu is None:
        return "not pinned"
    try:
        os.sched_setaffinity(0, {cpu})
        return f"cpu {cpu}"
    except (AttributeError, OSError) as e:  # not Linux
        return f"not pinned ({e})"


def status_mb(key: str) -> float | None:
    """A memory line of /proc/self/status (``VmRSS``, ``VmHWM``), MB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def rusage_maxrss_mb() -> float:
    import resource
    import sys

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / (1 << 20) if sys.platform == "darwin" else r / 1024  # bytes on macOS, KiB on Linux


def peak_mb() -> float:
    """Peak resident set of this process, MB: VmHWM on Linux (``ru_maxrss`` of a child started
    by fork+exec also covers the parent's resident set at fork time), ``ru_maxrss`` elsewhere."""
    v = status_mb("VmHWM")
    return v if v is not None else rusage_maxrss_mb()
