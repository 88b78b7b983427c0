"""Text people read: the same numbers, bytes, durations and tables in the terminal, notebooks and cards."""

import math

from jupyter_tracker.textfmt import DASH, duration, number, size, text_table


def test_numbers():
    assert number(None) == DASH and number(True) == "True" and number("adam") == "adam"
    assert number(12345) == "12,345" and number(3.0) == "3" and number(-0.5) == "-0.5"
    assert number(0.012345678) == "0.012346" and number(1.571e-06, 6) == "1.571e-06"
    assert number(1.2e-7) == "1.2e-07" and number(123456.789, 6) == "123457"
    assert number(99999.7) == "100,000"  # not 1e+05
    assert number(math.nan) == "NaN" and number(math.inf) == "∞" and number(-math.inf) == "−∞"


def test_sizes_and_durations():
    assert size(512) == "512 B" and size(1536) == "1.5 KiB" and size(3 * 1024**3) == "3.0 GiB"
    assert size(None) == DASH and size(math.nan) == DASH
    assert duration(0.85) == "850 ms" and duration(12.34) == "12.3 s" and duration(245) == "4m 05s"
    assert duration(3 * 3600 + 125) == "3h 02m" and duration(2 * 86400 + 3600) == "2d 01h"
    assert duration(None) == DASH and duration(-5) == DASH


def test_text_table_aligns_numbers_right_and_text_left():
    lines = text_table(["name", "loss", "tags"], [["a", "0.5", "x"], ["long-name", "12,345", "y, z"]])
    assert lines == [
        "name         loss  tags",
        "a             0.5  x",
        "long-name  12,345  y, z",
    ]
    assert text_table(["k", "v"], [["a", "1"]], indent="  ") == ["  k  v", "  a  1"]
