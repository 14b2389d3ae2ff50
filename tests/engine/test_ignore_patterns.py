"""dolt_ignore's patterns (engine/workspace/ignore.py) against a brute-force model:
matching every short name over a small alphabet, and the specificity rule."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbordb.engine.workspace.ignore import IgnoreConflict, IgnoreRules, _covers

ALPHABET = "ab_"
NAMES = ["".join(p) for n in range(6) for p in itertools.product(ALPHABET, repeat=n)]
PATTERNS = st.text(alphabet="ab_*%?", min_size=0, max_size=5)


def _model_matches(pattern: str, name: str) -> bool:
    regex = "".join(".*" if c in "*%" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name) is not None


@given(pattern=PATTERNS)
def test_a_pattern_matches_what_gitignore_style_globbing_matches(pattern):
    rules = IgnoreRules(((pattern, True),))
    for name in NAMES:
        assert rules.ignores(name) == _model_matches(pattern, name), name
        assert rules.ignores(name.upper()) == _model_matches(pattern, name)  # case aside


@given(wide=PATTERNS, narrow=PATTERNS)
def test_containment_is_never_claimed_wrongly(wide, narrow):
    if _covers(wide, narrow):
        for name in NAMES:
            if _model_matches(narrow, name):
                assert _model_matches(wide, name), (wide, narrow, name)


@pytest.mark.parametrize(
    ("wide", "narrow"),
    [("*", "a"), ("a*", "ab"), ("a*", "a?b"), ("*_*", "a_b*"), ("?*", "ab"), ("a%", "a*b")],
)
def test_containment_is_found(wide, narrow):
    assert _covers(wide, narrow) and not _covers(narrow, wide)


def test_the_most_specific_pattern_decides_and_a_tie_is_refused():
    rules = IgnoreRules((("generated_*", True), ("generated_exception", False)))
    assert rules.ignores("generated_foo") and not rules.ignores("generated_exception")
    assert not rules.ignores("foo")
    tied = IgnoreRules((("a*", True), ("*b", False)))
    assert rules.ignores("generated_b") and not tied.ignores("ba")
    with pytest.raises(IgnoreConflict, match=r"'ab' matches .*'a\*' \(ignored\), '\*b' \(not"):
        tied.ignores("ab")
    agreeing = IgnoreRules((("a*", True), ("*b", True)))
    assert agreeing.ignores("ab")
