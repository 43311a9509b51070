import pytest
from hypothesis import given
from hypothesis import strategies as st
from stepbox.core.image.reference import InvalidReference, parse_reference


@pytest.mark.parametrize(
    "text, full, familiar",
    [
        ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
        ("user/app", "docker.io/user/app:latest", "user/app:latest"),
        ("localhost:5000/x", "localhost:5000/x:latest", "localhost:5000/x:latest"),
        ("ghcr.io/a/b/c:v1", "ghcr.io/a/b/c:v1", "ghcr.io/a/b/c:v1"),
        (
            "busybox@sha256:" + "a" * 64,
            "docker.io/library/busybox@sha256:" + "a" * 64,
            "busybox@sha256:" + "a" * 64,
        ),
    ],
)
def test_normalises_like_docker(text, full, familiar):
    ref = parse_reference(text)
    assert str(ref) == full
    assert ref.familiar_str() == familiar


@pytest.mark.parametrize(
    "text, why",
    [
        ("", "empty"),
        ("Busybox", "lowercase"),
        ("busybox:", "bad tag"),
        ("busybox@sha256:123", "digest"),
        ("a/../b", "invalid reference"),
        ("busy box", "spaces"),
    ],
)
def test_rejects_bad_references_saying_why(text, why):
    with pytest.raises(InvalidReference, match=why):
        parse_reference(text)


@given(st.text(max_size=40))
def test_never_crashes_on_garbage(text):
    try:
        ref = parse_reference(text)
    except InvalidReference:
        return
    # whatever parses, re-parses to itself
    assert parse_reference(str(ref)) == ref
