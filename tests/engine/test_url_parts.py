"""core/engine/url_parts.py gives exactly what urllib.parse gives: its own
answer for the plain case, urllib's for the rest."""

from __future__ import annotations

from urllib.parse import quote as urllib_quote
from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st
from stepbox.core.engine.url_parts import query_string, quote

# Plain characters most of the time (the case answered without urllib), and
# now and then one that urllib escapes.
text = st.text(
    st.one_of(st.sampled_from("abcXYZ019_.-~"), st.sampled_from(" /:@&=+?#%é\u00a0\n"), st.characters()),
    max_size=12,
)
value = st.one_of(
    text,
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.lists(st.one_of(text, st.integers()), max_size=3),
)


def outcome(function, *args, **kwargs):
    """What a call gives: its value, or the kind of error it raises -- a lone
    surrogate (a command-line argument that was not UTF-8) cannot be encoded,
    and then both must refuse it the same way."""
    try:
        return ("value", function(*args, **kwargs))
    except UnicodeEncodeError as error:
        return ("error", type(error), error.reason)


@given(text, st.sampled_from(["", "/", "/:@"]))
def test_quote_is_urllibs(segment, safe):
    assert outcome(quote, segment, safe) == outcome(urllib_quote, segment, safe=safe)


@given(st.lists(st.tuples(text, value), max_size=4))
def test_query_string_is_urlencodes(pairs):
    assert outcome(query_string, pairs) == outcome(urlencode, pairs, doseq=True)


def test_a_lone_surrogate_is_refused_as_urllib_refuses_it():
    assert outcome(quote, "\ud800", "")[0] == "error"
    assert outcome(quote, "\ud800", "") == outcome(urllib_quote, "\ud800", safe="")
    assert outcome(query_string, [("a", "\ud800")]) == outcome(urlencode, [("a", "\ud800")], doseq=True)


def test_the_plain_case_needs_no_urllib():
    assert query_string([("stream", "1"), ("condition", "removed"), ("t", 10)]) == (
        "stream=1&condition=removed&t=10"
    )
    assert quote("4f2c" * 16, safe="") == "4f2c" * 16
