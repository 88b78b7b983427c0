"""What the machine is: OS, kernel, CPU model and cores, memory, GPUs/driver/CUDA, Python, packages."""

from __future__ import annotations

import functools
import platform
import subprocess
import sys
from typing import Any

import psutil

from .gpu import gpu_snapshot, nvml_state
from .packages import installed
from .probes import LINUX, _read, _safe


def _cpu_model() -> str:
    if LINUX:
        for line in _read("/proc/cpuinfo").decode(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware", "cpu model") and value.strip():
                return value.strip()
    elif sys.platform == "darwin":
        out = subprocess.run(
            ["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, timeout=5
        )
        if out.stdout.strip():
            return out.stdout.strip()
    return platform.processor() or platform.machine()


def _packages() -> dict[str, str]:
    return dict(installed().versions)  # scanned once per environment (see packages.py)


def machine_snapshot(nvml: Any = None) -> dict:
    """What the machine is (see the module's docstring); every part that cannot be read is None.

    `nvml` replaces the `pynvml` module (tests pass a fake one)."""
    state = nvml_state(nvml)
    snapshot = {
        "os": platform.system(),
        "os_release": platform.release(),
        "os_version": platform.version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": _safe(_cpu_model),
        "cpu_cores_physical": _safe(lambda: psutil.cpu_count(logical=False)),
        "cpu_cores_logical": _safe(psutil.cpu_count),
        "memory_total_bytes": _safe(lambda: psutil.virtual_memory().total),
        "swap_total_bytes": _safe(lambda: psutil.swap_memory().total),
        "gpu_status": state.status,
    }
    snapshot.update(gpu_snapshot(state))
    snapshot.update(
        {
            "python_implementation": platform.python_implementation(),
            "python_version": platform.python_version(),
            "packages": _safe(_packages),
        }
    )
    return snapshot


@functools.lru_cache(maxsize=1)
def process_machine_snapshot() -> dict:
    """machine_snapshot(), taken once per process: every run of a kernel shares it (listing the installed
    packages is cached per environment in packages.py). `run.log_system()` takes a fresh one."""
    return machine_snapshot()
