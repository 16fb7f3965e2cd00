"""Small helpers: timers, percentiles, peak memory and a description of the machine."""

from __future__ import annotations

import math
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    xs = sorted(values)
    if len(xs) == 1:
        return float(xs[0])
    k = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return float(xs[lo] + (xs[hi] - xs[lo]) * (k - lo))


def ratio(better: float, worse: float) -> float:
    """worse / better, as "how many times better ours is" (NaN when undefined)."""
    if not better or not math.isfinite(better) or not math.isfinite(worse):
        return math.nan
    return worse / better


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def ms_samples(fn: Callable[[Any], Any], items: Sequence[Any]) -> tuple[list[float], list[Any]]:
    """Milliseconds per call of fn(item), and the results."""
    times, _cpu, results = cpu_ms_samples(fn, items)
    return times, results


def cpu_ms_samples(fn: Callable[[Any], Any], items: Sequence[Any]) -> tuple[list[float], list[float], list[Any]]:
    """Wall and CPU milliseconds per call of fn(item) (the calling thread's CPU time: what the call costs
    whatever else the machine runs), and the results."""
    times: list[float] = []
    cpu: list[float] = []
    results: list[Any] = []
    for item in items:
        c0 = time.thread_time()
        t0 = time.perf_counter()
        results.append(fn(item))
        times.append((time.perf_counter() - t0) * 1000.0)
        cpu.append((time.thread_time() - c0) * 1000.0)
    return times, cpu, results


def _status_kb(field: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb() -> float:
    kb = _status_kb("VmRSS")
    return round(kb / 1024, 1) if kb is not None else math.nan


def reset_peak() -> bool:
    """Reset the process's peak RSS (Linux: 5 > /proc/self/clear_refs); False when not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_mb() -> float:
    kb = _status_kb("VmHWM")
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kb / 1024, 1)


@contextmanager
def peak_memory() -> Iterator[dict[str, float]]:
    """{'peak_rss_mb'} of the block (the process high-water mark when it cannot be reset)."""
    out: dict[str, float] = {}
    exact = reset_peak()
    try:
        yield out
    finally:
        out["peak_rss_mb"] = peak_mb()
        out["peak_is_process_max"] = not exact


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_gb() -> float:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return math.nan


def mem_available_gb() -> float:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return math.inf


def _version(mod: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(mod)
    except Exception:
        return None


def machine() -> dict[str, Any]:
    import sqlite3

    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": _mem_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "loadavg_at_start": load,
        "versions": {m: _version(m) for m in ("polars", "numpy", "scipy", "sqlalchemy", "chromadb", "onnxruntime",
                                               "networkx", "tiktoken", "slack_bolt", "uvicorn")},
    }


def finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def clean(obj: Any) -> Any:
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python, tuples -> lists, floats rounded."""
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            obj = obj.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, float):
        return round(obj, 4) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    return obj
