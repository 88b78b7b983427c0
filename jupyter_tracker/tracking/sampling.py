"""The hardware sampler of a run: started with it, feeding `system/...` points at the run's current step."""

from __future__ import annotations

from typing import Any, cast

from .. import config


def start_sampling(run: Any, interval: float | None) -> Any:
    """Start a HardwareSampler for `run` (interval: the argument, else configure()'s, else the default).

    Contract: `run` takes the samples through `_record_sample(time, values)` and a switched-off probe is
    recorded through its `_log_event()`; the machine snapshot lands in its environment from its writer."""
    from ..hardware.machine import process_machine_snapshot
    from ..hardware.sampler import HardwareSampler

    interval = cast("float | None", config.setting("interval", None)) if interval is None else interval
    kwargs: dict[str, Any] = {} if interval is None else {"interval": float(interval)}

    def probe_failed(probe: str, exc: BaseException) -> None:
        run._log_event(
            f"hardware probe {probe!r} switched off: {type(exc).__name__}: {exc}", "warning", probe=probe
        )

    sampler = HardwareSampler(run._record_sample, on_error=probe_failed, **kwargs)
    run._writer.submit(
        lambda: run.store.merge_json(
            run.id, "environment", {"machine": process_machine_snapshot(), "gpu": sampler.gpu_status}
        )
    )
    sampler.start()
    return sampler
