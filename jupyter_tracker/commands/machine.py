"""Output for programs: ISO-8601 times, strict JSON and CSV, written to stdout as UTF-8 whatever the locale."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any


def iso(epoch: float | None) -> str | None:
    """Epoch seconds as ISO-8601 in UTC, to the microsecond (None stays None)."""
    if epoch is None or epoch != epoch:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="microseconds")


def write_json(value: Any) -> None:
    """Strict JSON (non-finite numbers must already be text: see jsonsafe), indented, UTF-8."""
    _write(json.dumps(value, allow_nan=False, ensure_ascii=False, indent=2) + "\n")


def write_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """RFC 4180 CSV (quoted where needed, CRLF line ends), UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    _write(buffer.getvalue())


def _write(text: str) -> None:
    # The terminal's encoding (an ASCII locale, a Windows code page) must not decide what a program reads.
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()
