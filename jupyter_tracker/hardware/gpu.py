"""GPU metrics through NVML: the `pynvml` module of the optional nvidia-ml-py package, imported lazily.

Without it, or without a driver or a GPU, there are no GPU metrics and no error; `NvmlState.status` says why.
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

from .metrics import GPU_MEM_TOTAL, GPU_MEM_USED, GPU_POWER, GPU_PROC_MEM, GPU_TEMP, GPU_UTIL, Probe

NOT_INSTALLED = "no GPU metrics: nvidia-ml-py is not installed (pip install 'jupyter-tracker[gpu]')"


@dataclass
class NvmlState:
    """The outcome of starting NVML: the module and device handles, or why there are none."""

    status: str
    module: Any = None
    handles: list = field(default_factory=list)
    names: list[str] = field(default_factory=list)


_nvml_lock = threading.Lock()
_nvml_started: NvmlState | None = None  # NVML is started once per process and left running


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def nvml_state(nvml: Any = None) -> NvmlState:
    """Start NVML (once per module object) and list the GPUs; `nvml` replaces the `pynvml` import."""
    global _nvml_started
    if nvml is None:
        try:
            with warnings.catch_warnings():  # the old `pynvml` wrapper package warns on import
                warnings.simplefilter("ignore")
                import pynvml as nvml  # type: ignore[no-redef]
        except ImportError:
            return NvmlState(NOT_INSTALLED)
        except Exception as exc:
            return NvmlState(f"no GPU metrics: pynvml could not be imported ({_why(exc)})")
    with _nvml_lock:
        if _nvml_started is not None and _nvml_started.module is nvml:
            return _nvml_started
        try:
            nvml.nvmlInit()
        except Exception as exc:
            return NvmlState(f"no GPU metrics: NVML could not start ({_why(exc)})")
        try:
            handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())]
            names = [_text(nvml.nvmlDeviceGetName(h)) for h in handles]
        except Exception as exc:
            handles, names, problem = [], [], f"NVML could not list the GPUs ({_why(exc)})"
        else:
            problem = "NVML found no GPU"
        if not handles:
            with contextlib.suppress(Exception):
                nvml.nvmlShutdown()
            return NvmlState(f"no GPU metrics: {problem}")
        count = f"{len(handles)} GPU" + ("s" if len(handles) > 1 else "")
        _nvml_started = NvmlState(f"NVML: {count} ({', '.join(names)})", nvml, handles, names)
        return _nvml_started


class GpuProbe(Probe):
    """Per GPU: utilization, memory used/total, temperature, power, and this process's memory."""

    name = "gpu"

    def __init__(self, state: NvmlState):
        self.status = state.status
        self._nvml = state.module
        self._handles = list(state.handles)
        self._pid = os.getpid()
        self._off: set[tuple[int, str]] = set()  # (device, reading) the device does not support
        # NVML errors that mean "this reading is not available here" rather than "the GPU broke"
        self._error = getattr(self._nvml, "NVMLError", Exception)
        self._unavailable = {
            getattr(self._nvml, "NVML_ERROR_NOT_SUPPORTED", 3),
            getattr(self._nvml, "NVML_ERROR_NO_PERMISSION", 4),
            getattr(self._nvml, "NVML_ERROR_FUNCTION_NOT_FOUND", 13),  # an older driver
        }
        self._names = [
            {
                t: t.format(index=i)
                for t in (GPU_UTIL, GPU_MEM_USED, GPU_MEM_TOTAL, GPU_TEMP, GPU_POWER, GPU_PROC_MEM)
            }
            for i in range(len(self._handles))
        ]

    def _read(self, index: int, reading: str, fn, *args):
        if (index, reading) in self._off:
            return None
        try:
            return fn(*args)
        except self._error as exc:
            if getattr(exc, "value", None) not in self._unavailable:
                raise
            self._off.add((index, reading))
            return None

    def sample(self, now: float) -> list[tuple[str, float]]:
        nv, out = self._nvml, []
        for i, handle in enumerate(self._handles):
            names = self._names[i]
            util = self._read(i, "util", nv.nvmlDeviceGetUtilizationRates, handle)
            if util is not None:
                out.append((names[GPU_UTIL], float(util.gpu)))
            mem = self._read(i, "memory", nv.nvmlDeviceGetMemoryInfo, handle)
            if mem is not None:
                out += [(names[GPU_MEM_USED], float(mem.used)), (names[GPU_MEM_TOTAL], float(mem.total))]
            temp = self._read(i, "temperature", nv.nvmlDeviceGetTemperature, handle, nv.NVML_TEMPERATURE_GPU)
            if temp is not None:
                out.append((names[GPU_TEMP], float(temp)))
            milliwatts = self._read(i, "power", nv.nvmlDeviceGetPowerUsage, handle)
            if milliwatts is not None:
                out.append((names[GPU_POWER], milliwatts / 1000.0))
            procs = self._read(i, "processes", nv.nvmlDeviceGetComputeRunningProcesses, handle)
            # Inside a container NVML lists host pids, so this process may not be found: then no value.
            mine = [
                p.usedGpuMemory for p in procs or () if p.pid == self._pid and p.usedGpuMemory is not None
            ]
            if mine:
                out.append((names[GPU_PROC_MEM], float(sum(mine))))
        return out


def gpu_snapshot(state: NvmlState) -> dict:
    """GPU names and total memory, driver and CUDA driver versions, for the machine snapshot."""
    nv = state.module
    if nv is None:
        return {"gpus": [], "gpu_driver": None, "cuda_driver": None}
    gpus = []
    for i, (handle, name) in enumerate(zip(state.handles, state.names, strict=True)):
        gpus.append(
            {
                "index": i,
                "name": name,
                "memory_total_bytes": _safe(lambda h=handle: nv.nvmlDeviceGetMemoryInfo(h).total),
            }
        )
    cuda = _safe(nv.nvmlSystemGetCudaDriverVersion)
    return {
        "gpus": gpus,
        "gpu_driver": _safe(lambda: _text(nv.nvmlSystemGetDriverVersion())),
        "cuda_driver": None if cuda is None else f"{cuda // 1000}.{cuda % 1000 // 10}",
    }


def _safe(fn):
    try:
        return fn()
    except Exception:
        return None
