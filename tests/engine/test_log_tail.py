"""``tail`` of ``GET /containers/{id}/logs`` as dockerd reads it (Go's
``strconv.Atoi``; a failure or a negative number means every line) -- the
answers of docker 28's dockerd to ``docker logs --tail VALUE``."""

from __future__ import annotations

import pytest
from stepbox.core.engine.containers import tail_count


@pytest.mark.parametrize(
    ("text", "count"),
    [
        (None, None),
        ("", None),
        ("all", None),
        ("ALL", None),
        ("x", None),
        ("1.5", None),
        ("0x2", None),
        (" 2", None),
        ("２", None),  # a digit, but not an ASCII one
        ("1_0", None),
        ("-1", None),
        ("-5", None),
        ("0", 0),
        ("1", 1),
        ("+2", 2),
    ],
)
def test_tail_is_read_as_dockerd_reads_it(text, count):
    assert tail_count(text) == count
