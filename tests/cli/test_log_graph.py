"""``arbor log --graph`` lines lead to the right parents: the drawing is read back as a
plotter would follow it and every commit's drawn edges are compared with its parents."""

from __future__ import annotations

import itertools
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbordb.cli import logview
from tests.cli.helpers import arbor, ok


def drawn_parents(rows: list[dict], drawing: list[list[str]]) -> dict[str, set[str]]:
    """Follow the drawing (per commit: its ``*`` line, then its connector lines) and
    return the commits each commit's lines reach. Each character reads what reaches it
    from the line above: ``|``/``*`` straight, ``\\`` from above-left, ``/`` from
    above-right, ``X`` both. A character that nothing reaches is a stray line."""
    reached: dict[str, set[str]] = defaultdict(set)
    flows: dict[int, set[str]] = {}
    for row, lines in zip(rows, drawing, strict=True):
        for n, line in enumerate(lines):
            after: dict[int, set[str]] = defaultdict(set)
            for q, ch in enumerate(line):
                if ch == "*":
                    assert n == 0, f"a * on a connector line: {line!r}"
                    for origin in flows.get(q, set()):
                        reached[origin].add(row["commit_hash"])
                    after[q].add(row["commit_hash"])
                    continue
                sources = {"|": [(q, q)], "\\": [(q - 1, q + 1)], "/": [(q + 1, q - 1)]}
                sources["X"] = [(q - 1, q + 1), (q + 1, q - 1)]
                if ch == " ":
                    continue
                assert ch in sources, f"unknown character {ch!r} in {line!r}"
                for source, target in sources[ch]:
                    incoming = flows.get(source, set())
                    assert incoming, f"stray {ch!r} at {q} in {line!r} (nothing above leads here)"
                    after[target] |= incoming
            lost = {q for q, f in flows.items() if f} - _read_positions(line)
            for q in lost:  # a line that stops short: only a commit's own lane may end
                assert line == lines[0] or all(not _has_parents(rows, o) for o in flows[q]), (
                    f"a line stops at {q} before {line!r}"
                )
            flows = after
    return reached


def _read_positions(line: str) -> set[int]:
    read = set()
    for q, ch in enumerate(line):
        read |= {"|": {q}, "*": {q}, "\\": {q - 1}, "/": {q + 1}, "X": {q - 1, q + 1}}.get(
            ch, set()
        )
    return read


def _has_parents(rows: list[dict], commit: str) -> bool:
    return any(r["commit_hash"] == commit and r["parents"] for r in rows)


def _check(rows: list[dict]) -> None:
    drawing = [[star, *connectors] for star, connectors, _ in logview.graph_lines(rows)]
    reached = drawn_parents(rows, drawing)
    shown = {r["commit_hash"] for r in rows}
    for row in rows:
        parents = {p for p in row["parents"].split() if p in shown}
        assert reached[row["commit_hash"]] == parents, (
            row["commit_hash"],
            "\n".join(line for lines in drawing for line in lines),
        )


@st.composite
def histories(draw) -> list[dict]:
    """A random commit graph, newest first: each commit has 0 (a root, rarely) to 4
    parents among older commits (merges of merges, octopus merges)."""
    count = draw(st.integers(1, 18))
    rows = []
    for i in range(count):
        older = [f"c{j:02d}" for j in range(i)]
        if not older:
            parents = []
        else:
            size = draw(st.sampled_from([0, 1, 1, 1, 2, 2, 3, 4]) if i > 2 else st.just(1))
            parents = draw(
                st.lists(
                    st.sampled_from(older),
                    min_size=min(size, len(older)),
                    max_size=min(size, len(older)),
                    unique=True,
                )
            )
        rows.append({"commit_hash": f"c{i:02d}", "parents": " ".join(parents), "message": "m"})
    return rows[::-1]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(histories())
def test_every_drawn_line_leads_to_a_real_parent(rows):
    _check(rows)


def test_merge_of_merges_and_octopus_by_hand():
    def row(name: str, *parents: str) -> dict:
        return {"commit_hash": name, "parents": " ".join(parents), "message": name}

    # a lane that waits for a commit two lanes to the left must cross the lane between
    crossing = [
        row("m", "a", "b", "c"),
        row("c", "a"),
        row("b", "x"),
        row("x", "a"),
        row("a"),
    ]
    _check(crossing)
    lines = logview.log_text(crossing, short=True, graph=True)
    assert "X" in lines or "|/" in lines
    merges = [
        row("top", "m1", "m2"),
        row("m2", "m1", "f2"),
        row("f2", "base"),
        row("m1", "base", "f1"),
        row("f1", "base"),
        row("base"),
    ]
    _check(merges)


def test_graph_of_a_real_repository_with_merges_of_merges(labels):
    def sql(text: str) -> None:
        ok(arbor(labels, "sql", "-q", text))

    ok(arbor(labels, "branch", "a"))
    ok(arbor(labels, "branch", "b"))
    for branch, key in (("a", 10), ("b", 20)):
        ok(arbor(labels, "checkout", branch))
        sql(f"INSERT INTO labels VALUES ({key}, 'x', 0.1)")
        ok(arbor(labels, "commit", "-Am", f"on {branch}"))
    ok(arbor(labels, "checkout", "a"))
    ok(arbor(labels, "merge", "b", "-m", "a takes b"))
    ok(arbor(labels, "checkout", "main"))
    sql("INSERT INTO labels VALUES (30, 'y', 0.2)")
    ok(arbor(labels, "commit", "-Am", "on main"))
    ok(arbor(labels, "merge", "a", "-m", "main takes a"))
    out = ok(arbor(labels, "log", "--graph", "--oneline", "--parents"))
    rows, drawing = [], []
    for line in out.splitlines():  # the printed drawing, read back
        graph = line[: len(line) - len(line.lstrip("|/\\*X "))]
        if "*" in graph:
            words = line[len(graph) :].split(" (")[0].split()
            hashes = list(itertools.takewhile(lambda w: len(w) == logview.SHORT_HASH, words))
            rows.append({"commit_hash": hashes[0], "parents": " ".join(hashes[1:])})
            drawing.append([graph.rstrip()])
        else:
            drawing[-1].append(graph.rstrip())
    assert len(rows) == 7  # the first commit, the import, two branch commits, two merges
    assert sum(len(r["parents"].split()) == 2 for r in rows) == 2
    reached = drawn_parents(rows, drawing)
    for row in rows:
        assert reached[row["commit_hash"]] == set(row["parents"].split()), out
