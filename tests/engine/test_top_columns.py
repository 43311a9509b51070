"""ps -ef's STIME and TIME columns, as procps writes them (docker top)."""

from __future__ import annotations

import time

import pytest
from stepbox.core.engine.top import cpu_time, start_time


@pytest.mark.parametrize(
    "seconds, shown",
    [
        (0, "00:00:00"),
        (0.99, "00:00:00"),
        (61, "00:01:01"),
        (3600 * 23 + 59, "23:00:59"),
        (86400 * 2 + 5, "2-00:00:05"),
    ],
)
def test_cpu_time(seconds, shown):
    assert cpu_time(seconds) == shown


def test_start_time_is_the_time_of_day_then_the_day_then_the_year():
    now = time.mktime((2026, 12, 4, 22, 30, 0, 0, 0, -1))
    assert start_time(now - 90 * 60, now) == "21:00"
    assert start_time(now - 3 * 86400, now) == "Dec01"
    assert start_time(now - 400 * 86400, now) == "2025"
