"""Several real processes against one database file, and a kernel killed mid-run."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import jupyter_tracker as jt

WRITER = textwrap.dedent("""
    import sys, time
    import jupyter_tracker as jt
    name, steps = sys.argv[1], int(sys.argv[2])
    # All writers start together so their transactions really overlap.
    while time.time() < float(sys.argv[3]):
        time.sleep(0.005)
    with jt.start_run(name=name, project="race", params={"worker": name}, system=False) as run:
        for step in range(steps):
            run.log(loss=1.0 / (step + 1), acc=step / steps, lr=0.1)
            run.log_event(f"step {step}") if step % 500 == 0 else None
            if step % 1000 == 0:
                time.sleep(0.01)
    print("done", name)
""")


def test_concurrent_writers_lose_nothing(db):
    workers, steps = 6, 5000
    start_at = time.time() + 2.0
    env = {**os.environ, "TRACKER_DB": str(db)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, f"w{i}", str(steps), str(start_at)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(workers)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (_out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err and "retrying" not in err, err
    frame = jt.runs(project="race")
    assert len(frame) == workers and set(frame.status) == {"finished"}
    for name in frame.name:
        record = jt.load_run(name, project="race")
        counts = record.summary()["count"]
        assert counts.to_dict() == {"loss": steps, "acc": steps, "lr": steps}
        assert len(record.events()) == steps // 500


OPENER = textwrap.dedent("""
    import sys, time
    from jupyter_tracker.store import open_store
    while time.time() < float(sys.argv[2]):
        time.sleep(0.001)
    open_store(sys.argv[1])
""")


@pytest.mark.slow  # 5 rounds of 8 fresh Python processes: 15-50 s on 2 cores
def test_processes_creating_one_new_database_at_once_all_succeed(tmp_path):
    # Switching a brand-new file to WAL answers "locked" at once, without waiting, to all but one.
    for trial in range(5):
        db = tmp_path / f"fresh-{trial}.db"
        start_at = time.time() + 1.0
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", OPENER, str(db), str(start_at)], stderr=subprocess.PIPE, text=True
            )
            for _ in range(8)
        ]
        for proc in procs:
            _out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
        assert jt.runs(db=db).empty


KILLED = textwrap.dedent("""
    import time
    import jupyter_tracker as jt
    run = jt.start_run(name="doomed", system=False)
    for step in range(100):
        run.log(loss=step)
    assert run.flush()
    print("flushed", flush=True)
    time.sleep(60)
""")


def test_a_killed_process_leaves_its_flushed_points_and_reads_as_crashed(db):
    env = {**os.environ, "TRACKER_DB": str(db)}
    with subprocess.Popen([sys.executable, "-c", KILLED], env=env, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout.readline().strip() == "flushed"
        assert jt.load_run("doomed").status == "running"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    record = jt.load_run("doomed")
    assert record.status == "crashed"
    assert record.summary().loc["loss", "count"] == 100
    assert "crashed" in jt.runs().status.tolist()


def test_a_kernel_killed_mid_cell_leaves_a_crashed_run(db):
    from jupyter_client.manager import start_new_kernel

    env = {**os.environ, "TRACKER_DB": str(db)}
    km, kc = start_new_kernel(kernel_name="python3", env=env, cwd=str(db.parent))
    try:
        kc.execute_interactive("%load_ext tracker", timeout=60)
        kc.execute(
            "%%track_run name=killed-kernel --no-panel\n"
            "import time\n"
            "for i in range(100):\n"
            "    run.log(loss=1 / (i + 1))\n"
            "assert run.flush()\n"
            "print('flushed', flush=True)\n"
            "time.sleep(60)"
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            message = kc.get_iopub_msg(timeout=60)
            if message["msg_type"] == "stream" and "flushed" in message["content"]["text"]:
                break
        assert jt.load_run("killed-kernel").status == "running"
        os.kill(km.provisioner.process.pid, signal.SIGKILL)
        km.provisioner.process.wait(timeout=10)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    record = jt.load_run("killed-kernel")
    assert record.status == "crashed"
    assert record.summary().loc["loss", "count"] == 100
