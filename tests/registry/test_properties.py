"""Property tests (Hypothesis, profiles from tests/conftest.py): the name
grammar keeps paths inside the registry, and Range answers match slicing."""

from __future__ import annotations

import os
import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stepbox.core.registry.errors import RegistryError
from stepbox.core.registry.http_range import RangeNotSatisfiable, parse_chunk_range, parse_range
from stepbox.core.registry.names import NAME_RE, is_valid_name
from stepbox.core.registry.routes import paginate, route

component = st.from_regex(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*", fullmatch=True).filter(
    lambda c: len(c) < 40
)
valid_names = st.lists(component, min_size=1, max_size=5).map("/".join).filter(lambda n: len(n) <= 255)
hostile_text = st.text(alphabet=st.sampled_from(list("ab./_-%2eE:A\\~ ")), max_size=30)


@given(valid_names)
def test_valid_names_are_accepted_and_stay_under_the_root(name):
    assert is_valid_name(name)
    joined = posixpath.normpath(posixpath.join("/root/repositories", name))
    assert joined.startswith("/root/repositories/")
    assert not any(part in ("", ".", "..") or part.startswith("_") for part in name.split("/"))


@given(hostile_text)
def test_any_routed_name_matches_the_grammar(text):
    try:
        where = route(f"/v2/{text}/tags/list")
    except RegistryError as e:
        assert e.code == "NAME_INVALID"
        return
    if where is not None and where.name:
        assert NAME_RE.fullmatch(where.name)
        assert ".." not in where.name.split("/")


@given(st.text(max_size=20))
def test_route_never_crashes(text):
    try:
        route("/v2/" + text)
    except RegistryError as e:
        assert e.code == "NAME_INVALID"


@given(
    size=st.integers(0, 5000),
    first=st.one_of(st.none(), st.integers(0, 6000)),
    last=st.one_of(st.none(), st.integers(0, 6000)),
)
def test_range_agrees_with_slicing(size, first, last):
    header = f"bytes={'' if first is None else first}-{'' if last is None else last}"
    data = bytes(size)
    try:
        wanted = parse_range(header, size)
    except RangeNotSatisfiable:
        # Unsatisfiable: the range starts past the end, or asks for a suffix of nothing.
        assert (first is not None and first >= size) or (first is None and (last == 0 or size == 0))
        return
    if wanted is None:  # ignored: whole body
        assert (first is None and last is None) or (first is not None and last is not None and last < first)
        return
    assert 0 <= wanted.start <= wanted.end < size
    if first is None:
        expected = data[-last:]
    else:
        expected = data[first : (last + 1 if last is not None else None)]
    assert wanted.length == len(expected)


@given(st.integers(0, 10**9), st.integers(0, 10**6))
def test_chunk_range_round_trip(start, length):
    parsed = parse_chunk_range(f"{start}-{start + length}")
    assert parsed.start == start and parsed.length == length + 1


@pytest.mark.parametrize("header", ["", "bogus", "0-x", "5-1", "-1-3"])
def test_malformed_chunk_ranges(header):
    assert parse_chunk_range(header) is None


@given(st.lists(st.text(alphabet="abc", min_size=1, max_size=3), unique=True), st.integers(1, 5))
def test_pagination_visits_everything_once(items, n):
    items = sorted(items)
    seen, last = [], None
    while True:
        page, last = paginate(items, str(n), last)
        assert len(page) <= n
        seen += page
        if last is None:
            break
    assert seen == items


def test_no_directory_is_made_for_an_invalid_name(tmp_path):
    from stepbox.core.registry.storage import RegistryStorage

    storage = RegistryStorage(str(tmp_path))
    assert storage.repositories() == []
    assert os.listdir(tmp_path / "repositories") == []
