"""record.now / timestamp: Docker's time format, made from the second's text once per second."""

from __future__ import annotations

from datetime import UTC, datetime

from stepbox.core.container import record
from stepbox.core.container.record import timestamp


def _as_datetime_writes_it(ns: int) -> str:
    moment = datetime.fromtimestamp(ns // 1000 // 1_000_000, UTC).replace(microsecond=ns // 1000 % 1_000_000)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def test_timestamps_are_datetimes_isoformat_in_utc():
    moments = [
        0,
        1,
        999,
        1_000,
        999_999_999,
        1_000_000_000,
        1_704_067_200_000_000_000,  # 2024-01-01T00:00:00
        1_704_067_199_999_999_999,  # a nanosecond before: rounded down
        1_709_164_800_123_456_789,  # 2024-02-29
        4_102_444_800_000_001_000,  # 2100-01-01
    ]
    for ns in moments + moments[::-1]:  # the second's text is kept: each order
        assert timestamp(ns) == _as_datetime_writes_it(ns), ns


def test_now_is_the_time_now():
    before = datetime.now(UTC)
    made = datetime.fromisoformat(record.now().replace("Z", "+00:00"))
    after = datetime.now(UTC)
    assert before <= made <= after
