"""A fixed, hand-written /proc tree for comparing our /proc readers with psutil's on the same bytes.

`FakeProc(root).write(state)` writes the files both sides read, in the formats of a Linux 5.x/6.x kernel:
stat, meminfo, vmstat, diskstats, net/dev, and for this process self/status plus <pid>/{stat,statm,status}
(psutil reads the process by pid, our ProcessProbe reads /proc/self). Every number comes from `state`, so
a test knows the expected values exactly and nothing moves between two reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
BOOT_TIME = 1_700_000_000


@dataclass(frozen=True)
class ProcState:
    # per core: user nice system idle iowait irq softirq steal guest guest_nice (clock ticks)
    cpu: tuple = ((1000, 10, 300, 5000, 40, 0, 20, 5, 0, 0), (2000, 0, 500, 4000, 60, 3, 10, 0, 7, 1))
    mem_total_kib: int = 16_384_000
    mem_free_kib: int = 2_000_000
    mem_available_kib: int = 9_500_000
    swap_total_kib: int = 4_000_000
    swap_free_kib: int = 3_500_000
    # (sectors read, sectors written) per device; only sda and nvme0n1 are whole physical disks
    disks: dict = field(
        default_factory=lambda: {
            "sda": (10_000, 20_000),
            "sda1": (9_000, 19_000),  # a partition: already counted in sda
            "nvme0n1": (500, 700),
            "nvme0n1p1": (400, 600),
            "loop0": (123_456, 0),  # a loop device: not a physical disk
            "dm-0": (8_000, 8_000),  # device mapper over sda: would count sda twice
        }
    )
    # (received, sent) bytes per interface
    nics: dict = field(
        default_factory=lambda: {
            "lo": (9_999_999, 9_999_999),
            "eth0": (1_000_000, 200_000),
            "wlan0": (30, 40),
        }
    )
    rss_pages: int = 25_000
    hwm_kib: int = 200_000
    threads: int = 7

    def advanced(self) -> ProcState:
        """The same machine a little later: every counter has moved by a known amount."""
        return replace(
            self,
            cpu=(
                (1050, 10, 310, 5040, 40, 0, 20, 5, 0, 0),  # 60 busy of 100 ticks
                (2010, 0, 505, 4085, 60, 3, 10, 0, 9, 1),  # 15 busy of 100 (guest is already in user)
            ),
            mem_available_kib=9_000_000,
            swap_free_kib=3_400_000,
            disks={
                **self.disks,
                "sda": (10_400, 21_000),
                "sda1": (9_400, 20_000),
                "nvme0n1": (600, 700),
                "loop0": (200_000, 0),
            },
            nics={
                **self.nics,
                "lo": (20_000_000, 20_000_000),
                "eth0": (1_400_000, 200_100),
                "wlan0": (30, 80),
            },
            rss_pages=30_000,
            hwm_kib=260_000,
            threads=9,
        )


MEMINFO = """\
MemTotal:       {mem_total_kib} kB
MemFree:        {mem_free_kib} kB
MemAvailable:   {mem_available_kib} kB
Buffers:          200000 kB
Cached:          6000000 kB
SwapCached:        10000 kB
Active:          5000000 kB
Inactive:        4000000 kB
Shmem:            300000 kB
Slab:             500000 kB
SReclaimable:     400000 kB
SUnreclaim:       100000 kB
SwapTotal:      {swap_total_kib} kB
SwapFree:       {swap_free_kib} kB
Dirty:               100 kB
HugePages_Total:       0
HugePages_Free:        0
Hugepagesize:       2048 kB
"""

NET_HEADER = (
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo "
    "colls carrier compressed\n"
)


class FakeProc:
    def __init__(self, root: Path, pid: int | None = None):
        self.root = Path(root)
        self.pid = pid or os.getpid()
        self.state = ProcState()

    def path(self, real: str) -> str:
        """Where a /proc path of our readers lives in this tree."""
        assert real.startswith("/proc/"), real
        return str(self.root / real.removeprefix("/proc/"))

    def write(self, state: ProcState) -> None:
        self.state = state
        (self.root / "net").mkdir(parents=True, exist_ok=True)
        total = [sum(column) for column in zip(*state.cpu, strict=True)]
        lines = ["cpu  " + " ".join(map(str, total))]
        lines += [f"cpu{i} " + " ".join(map(str, ticks)) for i, ticks in enumerate(state.cpu)]
        lines += [
            "intr 0",
            "ctxt 0",
            f"btime {BOOT_TIME}",
            "processes 100",
            "procs_running 1",
            "procs_blocked 0",
        ]
        self._put("stat", "\n".join(lines) + "\n")
        self._put("meminfo", MEMINFO.format(**vars(state)))
        self._put("vmstat", "nr_free_pages 500000\npswpin 12\npswpout 34\n")
        disk_lines = []
        for minor, (name, (read, written)) in enumerate(state.disks.items()):
            # 20 fields (kernel 5.5+): major minor name, then reads merged sectors ms, writes merged sectors ms,
            # in-flight, io ms, weighted ms, discards (4), flushes (2)
            numbers = [7, 3, read, 11, 13, 2, written, 17, 0, 19, 23, 0, 0, 0, 0, 0, 0]
            disk_lines.append(f" 259 {minor:7d} {name} " + " ".join(map(str, numbers)))
        self._put("diskstats", "\n".join(disk_lines) + "\n")
        nic_lines = [
            f"{name:>6}: {received} 100 0 0 0 0 0 0 {sent} 90 0 0 0 0 0 0"
            for name, (received, sent) in state.nics.items()
        ]
        self._put("net/dev", NET_HEADER + "\n".join(nic_lines) + "\n")
        rss_kib = state.rss_pages * PAGE // 1024
        status = (
            f"Name:\tpython\nState:\tR (running)\nTgid:\t{self.pid}\nPid:\t{self.pid}\nPPid:\t1\n"
            f"VmPeak:\t 900000 kB\nVmSize:\t 800000 kB\nVmHWM:\t{state.hwm_kib} kB\nVmRSS:\t{rss_kib} kB\n"
            f"Threads:\t{state.threads}\nvoluntary_ctxt_switches:\t10\n"
        )
        stat = f"{self.pid} (python) R 1 {self.pid} {self.pid} 0 -1 4194304 " + " ".join(
            ["100", "0", "0", "0", "250", "50", "0", "0", "20", "0", str(state.threads), "0", "4300"]
            + ["3133440", str(state.rss_pages)]
            + ["0"] * 29
        )
        for folder in ("self", str(self.pid)):
            self._put(f"{folder}/status", status)
        self._put(f"{self.pid}/stat", stat + "\n")
        self._put(f"{self.pid}/statm", f"200000 {state.rss_pages} 3000 500 0 60000 0\n")

    def _put(self, name: str, text: str) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
