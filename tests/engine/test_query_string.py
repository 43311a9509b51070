"""The client's query strings are urllib.parse.urlencode's (doseq=True), whatever they hold."""

from urllib.parse import quote_plus as stdlib_quote_plus
from urllib.parse import urlencode as stdlib_urlencode

from hypothesis import given
from hypothesis import strategies as st
from stepbox.core.engine.client import EngineClient
from stepbox.core.engine.url_parts import query_string, quote_plus

# What a query holds: text (any Unicode but lone surrogates, which UTF-8 cannot
# encode and urlencode refuses too), bytes, numbers, and lists of them.
TEXT = st.text(st.characters(exclude_categories=["Cs"]))
SCALAR = TEXT | st.binary() | st.integers() | st.floats(allow_nan=False)
VALUE = SCALAR | st.lists(SCALAR, max_size=4) | st.tuples(TEXT, TEXT)


@given(st.lists(st.tuples(TEXT | st.binary() | st.integers(), VALUE), max_size=6))
def test_the_same_as_urlencode(pairs):
    assert query_string(pairs) == stdlib_urlencode(pairs, doseq=True)
    assert query_string(dict(pairs)) == stdlib_urlencode(dict(pairs), doseq=True)


@given(TEXT | st.binary())
def test_quote_plus(value):
    assert quote_plus(value) == stdlib_quote_plus(value)


def test_a_build_query():
    """What `stepbox build -t a -t b` sends, spelled as before."""
    client = EngineClient("/nonexistent.sock")
    query = {"t": ["app:1", "x y"], "dockerfile": "Dockerfile", "buildargs": '{"A": "ü"}', "nocache": False}
    assert client._path("/build", query) == (
        "/v1.44/build?t=app%3A1&t=x+y&dockerfile=Dockerfile&buildargs=%7B%22A%22%3A+%22%C3%BC%22%7D&nocache=false"
    )
