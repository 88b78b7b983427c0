"""The hardware sampler as part of a run: samples land as system/ points with the run's step, failures
become one warning event, threads come and go with runs."""

import threading

from waiting import stored_points, wait_until

import jupyter_tracker as jt
from jupyter_tracker.hardware import sampler as sampler_module
from jupyter_tracker.hardware.metrics import PROC_RSS, Probe


def test_a_run_records_hardware_with_its_step(db):
    with jt.start_run(name="hw", interval=0.1) as run:
        for step in range(5):
            run.log(loss=1 / (step + 1))
            # a training step lasts until the sampler has recorded a sample at this step
            sampled = lambda step=step: any(s == step for _, s, _, _ in stored_points(run, PROC_RSS))  # noqa: E731
            wait_until(sampled, what=f"a sample at step {step}")
    record = jt.load_run("hw")
    frame = record.metrics(system=True)
    system = frame[frame.key.str.startswith("system/")]
    cpu = system[system.key == "system/cpu/percent"]
    assert len(cpu) >= 3 and cpu.value.between(0, 100).all()
    assert set(system.step) <= set(range(5)) and system.step.max() >= 3  # samples carry the training step
    hardware = record.summary().attrs["hardware"]
    assert hardware["samples"] >= 3 and hardware["peak_rss_bytes"] > 10_000_000
    machine = record.info.environment["machine"]
    assert machine["cpu_cores_logical"] >= 1 and machine["memory_total_bytes"] > 0
    assert "no GPU" in record.info.environment["gpu"] or "NVML" in record.info.environment["gpu"]


class Broken(Probe):
    name = "broken"

    def sample(self, now):
        raise OSError("sensor unplugged")


def test_a_failing_probe_is_one_warning_event_and_the_run_goes_on(db, monkeypatch):
    original = sampler_module.default_probes_and_status

    def with_a_broken_probe(nvml=None):
        found, status = original(nvml)
        return [*found, Broken()], status

    monkeypatch.setattr(sampler_module, "default_probes_and_status", with_a_broken_probe)
    with jt.start_run(name="flaky", interval=0.1) as run:
        run.log(x=1)
        # the first CPU rate comes with the second tick: by then the broken probe has failed
        wait_until(lambda: stored_points(run, "system/cpu/percent"), what="a CPU sample")
    record = jt.load_run("flaky")
    warnings = record.events()
    assert warnings.level.tolist() == ["warning"]
    assert "broken" in warnings.message[0] and "sensor unplugged" in warnings.message[0]
    assert record.status == "finished" and "system/cpu/percent" in record.summary(system=True).index


def test_sampler_threads_come_and_go_with_100_runs(db):
    before = threading.active_count()
    for _ in range(100):
        with jt.start_run(interval=0.1) as run:
            run.log(a=1)
    assert threading.active_count() == before
