"""``CALL dolt_merge`` against a plain-Python model, beside the resolution paths of
``test_merge_resolution.py``: a keyed table merged cell by cell, a keyless table whose
rows both sides insert and delete (a multiset), fast-forwards (ours changed nothing),
and a column their side adds (every merged row shows it, NULL where theirs did not set
it)."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arbordb

from .conftest import rows
from .test_merge_resolution import load, model_merge, sides

PAIRS = st.tuples(st.integers(0, 3), st.integers(0, 3))


@st.composite
def keyless_sides(draw) -> tuple[list, set, set, list, list]:
    """Base rows (duplicates allowed), the distinct rows each side deletes (every copy),
    and the rows each side inserts (ours' x 100.., theirs' x 200..)."""
    base = draw(st.lists(PAIRS, max_size=8))
    present = sorted(set(base))
    ours_gone = set(draw(st.lists(st.sampled_from(present), max_size=3))) if present else set()
    theirs_gone = set(draw(st.lists(st.sampled_from(present), max_size=3))) if present else set()
    ours_new = [(100 + i, y) for i, (_, y) in enumerate(draw(st.lists(PAIRS, max_size=3)))]
    theirs_new = [(200 + i, y) for i, (_, y) in enumerate(draw(st.lists(PAIRS, max_size=3)))]
    return base, ours_gone, theirs_gone, ours_new, theirs_new


def keyless_after(base: list, gone: set, new: list) -> Counter:
    return Counter([r for r in base if r not in gone] + new)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sides(), keyless_sides(), st.booleans(), st.booleans())
def test_merge_matches_the_model(tmp_path_factory, keyed, keyless, fast_forward, add_column):
    base, ours, theirs = keyed
    if fast_forward:
        ours = base
    k_base, ours_gone, theirs_gone, ours_new, theirs_new = keyless
    if fast_forward:
        ours_gone, ours_new = set(), []
    con = arbordb.connect(tmp_path_factory.mktemp("merge"), autocommit=True)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT)")
    cur.execute("CREATE TABLE k (x INT, y INT)")
    load(cur, "t", base)
    if k_base:
        cur.executemany("INSERT INTO k VALUES (?, ?)", k_base)
    cur.execute("CALL dolt_commit('-Am', 'base')")

    def edit_keyless(gone: set, new: list) -> None:
        for x, y in sorted(gone):
            cur.execute("DELETE FROM k WHERE x = ? AND y = ?", [x, y])
        if new:
            cur.executemany("INSERT INTO k VALUES (?, ?)", new)

    cur.execute("CALL dolt_checkout('-b', 'f')")
    load(cur, "t", theirs)
    edit_keyless(theirs_gone, theirs_new)
    if add_column:
        cur.execute("ALTER TABLE t ADD COLUMN c INT")
    cur.execute("CALL dolt_commit('--allow-empty', '-Am', 'theirs')")
    cur.execute("CALL dolt_checkout('main')")
    if not fast_forward:
        load(cur, "t", ours)
        edit_keyless(ours_gone, ours_new)
        cur.execute("CALL dolt_commit('--allow-empty', '-Am', 'ours')")

    cur.execute("CALL dolt_merge('f')")
    (address, was_fast, conflicted, _message) = cur.fetchone()
    merged, conflicts = model_merge(base, ours, theirs)
    assert was_fast == int(fast_forward)
    assert conflicted == int(bool(conflicts))
    assert bool(address) == (not conflicts)
    columns = "id, a, b, c" if add_column else "id, a, b"
    found = rows(cur, f"SELECT {columns} FROM t ORDER BY id")
    assert {r[0]: tuple(r[1:3]) for r in found} == merged
    if add_column:
        assert all(r[3] is None for r in found)
    ids = rows(cur, "SELECT coalesce(our_id, their_id, base_id) FROM dolt_conflicts_t")
    assert sorted(i for (i,) in ids) == sorted(conflicts)
    expected_k = keyless_after(k_base, ours_gone | theirs_gone, ours_new + theirs_new)
    assert Counter(rows(cur, "SELECT x, y FROM k")) == expected_k
    con.close()
