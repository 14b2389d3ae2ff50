"""Shared helpers for the ``bench.<name>`` workloads: timing, metrics, machine, results.

A workload measures each ArborDB figure beside a comparison run in the same process,
alternating the two run by run (``time_pair``) so that noise from a busy machine falls
on both sides; it reports medians. Each workload then prints its JSON to stdout and a
text table to stderr (``emit``), and rewrites its own section of ``bench/RESULTS.md``.

``RESULTS.md`` layout: a fixed header, then one section per workload between marker
lines, so that each workload replaces only its own text::

    <!-- bench:storage -->
    ## storage ...
    <!-- /bench:storage -->

Invariants:
  (1) ``write_section`` leaves every byte outside the named section's markers as it was;
      a section not yet present is appended at the end.
  (2) A timed call runs with the garbage collector off, after a full collection, so a
      collection triggered by earlier allocations is not charged to it (as ``timeit``).
  (3) A run's result is released before the next call starts (only a summary and the
      last result are kept), so that memory held by old results does not change what
      later runs cost; the freeing itself is not timed.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS_PATH = Path(__file__).resolve().parent / "RESULTS.md"
RESULTS_HEADER = (
    "# Benchmark results\n\n"
    "Written by the workloads in `bench/` (see `bench/README.md`); each section is\n"
    "replaced by the next run of its workload. Figures are medians of several runs,\n"
    "each beside its comparison measured in the same run.\n"
)
_VERSIONED = ("pyarrow", "duckdb", "numpy", "lmdb", "prollytree")


class WrongAnswer(Exception):
    """A measured operation returned a wrong result, so its timing means nothing."""


def check(ok: bool, message: str) -> None:
    """Raise ``WrongAnswer(message)`` unless ``ok`` (unlike ``assert``, never skipped)."""
    if not ok:
        raise WrongAnswer(message)


# --- timing -------------------------------------------------------------------------


def time_call(fn: Callable[[Any], Any], arg: Any = None) -> tuple[float, Any]:
    """Seconds that ``fn(arg)`` takes, and its result (invariant (2))."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        result = fn(arg)
        elapsed = time.perf_counter() - start
    finally:
        if was_enabled:
            gc.enable()
    return elapsed, result


@dataclass
class Runs:
    """The seconds of each timed run of one call, a summary of each run's result, and
    the last run's result (invariant (3))."""

    seconds: list[float] = field(default_factory=list)
    summaries: list[Any] = field(default_factory=list)
    result: Any = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def _run_once(
    fn: Callable[[Any], Any],
    setup: Callable[[int], Any] | None,
    summary: Callable[[Any], Any] | None,
    i: int,
    out: Runs,
) -> None:
    out.result = None  # invariant (3)
    seconds, result = time_call(fn, setup(i) if setup else None)
    if i >= 0:
        out.seconds.append(seconds)
        out.summaries.append(summary(result) if summary else None)
        out.result = result


def time_runs(
    fn: Callable[[Any], Any],
    runs: int,
    setup: Callable[[int], Any] | None = None,
    warmup: int = 1,
    summary: Callable[[Any], Any] | None = None,
) -> Runs:
    """Time ``fn(setup(i))`` for i in range(runs), after ``warmup`` untimed calls.

    ``setup`` is never timed; warm-up calls get negative ``i`` (-warmup .. -1), so a
    setup that indexes a list of per-run inputs reuses the last ones for them.
    ``summary(result)`` of each timed run is kept in ``Runs.summaries``.
    """
    out = Runs()
    for i in range(-warmup, runs):
        _run_once(fn, setup, summary, i, out)
    return out


def time_pair(
    fn_a: Callable[[Any], Any],
    fn_b: Callable[[Any], Any],
    runs: int,
    setup_a: Callable[[int], Any] | None = None,
    setup_b: Callable[[int], Any] | None = None,
    warmup: int = 1,
    summary_a: Callable[[Any], Any] | None = None,
) -> tuple[Runs, Runs]:
    """Time two calls alternately, run by run, so a noisy moment hits both sides.

    Warm-up, ``setup`` and ``summary`` as in ``time_runs``; the first-run costs of a
    process (allocator growth, lazy imports, cold OS caches) fall on the warm-up.
    """
    a, b = Runs(), Runs()
    for i in range(-warmup, runs):
        _run_once(fn_a, setup_a, summary_a, i, a)
        _run_once(fn_b, setup_b, None, i, b)
    return a, b


def time_interleaved(
    calls: dict[str, Callable[[Any], Any]], inputs: Sequence[Any], warmup: int
) -> tuple[dict[str, list[float]], dict[str, list[Any]]]:
    """Seconds and result of each call on each input, the calls interleaved input by
    input (so a noisy moment hits all of them); garbage collector off while timing.
    The first ``warmup`` inputs are run but not kept."""
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    results: dict[str, list[Any]] = {name: [] for name in calls}
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for n, value in enumerate(inputs):
            for name, call in calls.items():
                start = time.perf_counter()
                result = call(value)
                elapsed = time.perf_counter() - start
                if n >= warmup:
                    seconds[name].append(elapsed)
                    results[name].append(result)
    finally:
        if was_enabled:
            gc.enable()
    return seconds, results


# --- metrics ------------------------------------------------------------------------


@dataclass
class Metric:
    """One measured figure beside its comparison.

    ``value`` and ``comparison_value`` are medians in seconds (``per`` > 1 divides both
    into a per-operation time). A target applies to the value itself
    (``target_on="value"``, seconds) or to ``value / comparison_value`` (``"ratio"``).
    """

    name: str
    value: float
    comparison: str = ""
    comparison_value: float | None = None
    target: float | None = None
    target_on: str = "value"
    runs: int = 0
    note: str = ""
    samples: list[float] = field(default_factory=list)
    comparison_samples: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.comparison_value is None or self.comparison_value <= 0:
            return None
        return self.value / self.comparison_value

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        measured = self.ratio if self.target_on == "ratio" else self.value
        return None if measured is None else measured <= self.target

    def miss(self) -> str:
        """How far the figure is past its target, in words ('' when met or no target)."""
        if self.met is not False:
            return ""
        if self.target_on == "ratio":
            assert self.ratio is not None
            over = self.ratio / self.target
            return f"{self.name}: {self.ratio:.2f}x against <= {self.target:g}x ({over:.2f}x over)"
        over = self.value / self.target
        return (
            f"{self.name}: {fmt_seconds(self.value)} against <= {fmt_seconds(self.target)} "
            f"({over:.2f}x over)"
        )

    def target_text(self) -> str:
        if self.target is None:
            return "-"
        return (
            f"<= {self.target:g}x"
            if self.target_on == "ratio"
            else f"<= {fmt_seconds(self.target)}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "median_s": self.value,
            "comparison": self.comparison or None,
            "comparison_median_s": self.comparison_value,
            "ratio": self.ratio,
            "target": self.target,
            "target_on": self.target_on if self.target is not None else None,
            "met": self.met,
            "runs": self.runs,
            "note": self.note or None,
            "samples_s": self.samples,
            "comparison_samples_s": self.comparison_samples,
        }


def metric(
    name: str,
    ours: Runs,
    comparison: str = "",
    theirs: Runs | None = None,
    *,
    per: int = 1,
    target: float | None = None,
    target_on: str = "value",
    note: str = "",
) -> Metric:
    """A ``Metric`` from timed runs; ``per`` turns run times into per-operation times."""
    return Metric(
        name=name,
        value=ours.median / per,
        comparison=comparison,
        comparison_value=theirs.median / per if theirs is not None else None,
        target=target,
        target_on=target_on,
        runs=len(ours.seconds),
        note=note,
        samples=[s / per for s in ours.seconds],
        comparison_samples=[s / per for s in theirs.seconds] if theirs is not None else [],
    )


def fmt_seconds(seconds: float | None) -> str:
    """``0.25 s``, ``12.3 ms`` or ``4.1 us``: three significant figures."""
    if seconds is None:
        return "-"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us")):
        if abs(seconds) >= scale or unit == "us":
            return f"{seconds / scale:.3g} {unit}"
    raise AssertionError("unreachable")


def fmt_bytes(n: int) -> str:
    """``12,345,678 B (11.8 MiB)``."""
    return f"{n:,} B ({n / 2**20:.1f} MiB)"


# --- rendering ----------------------------------------------------------------------

_COLUMNS = ("metric", "arbordb", "comparison", "ratio", "target", "met")


def _cells(m: Metric) -> list[str]:
    theirs = fmt_seconds(m.comparison_value) if m.comparison_value is not None else "-"
    if m.comparison:
        theirs = f"{theirs} ({m.comparison})"
    ratio = f"{m.ratio:.2f}x" if m.ratio is not None else "-"
    met = {True: "yes", False: "NO", None: "-"}[m.met]
    return [m.name, fmt_seconds(m.value), theirs, ratio, m.target_text(), met]


def text_table(metrics: list[Metric]) -> str:
    """The metrics as a fixed-width text table."""
    rows = [list(_COLUMNS), *(_cells(m) for m in metrics)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(metrics: list[Metric]) -> str:
    """The metrics as a Markdown table."""
    lines = ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in _cells(m)) + " |" for m in metrics]
    return "\n".join(lines)


# --- machine ------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """Cores, CPU model, OS, Python and library versions, load average and the date."""
    versions = {}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "os": platform.platform(),
        "python": platform.python_version(),
        **versions,
        "load_avg_1m": load_average(),
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def load_average() -> float | None:
    """The 1-minute load average (call it again at the end: ``machine_line`` shows both)."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else platform.processor() or "unknown"


def machine_line(info: dict[str, Any]) -> str:
    libs = ", ".join(f"{n} {info[n]}" for n in _VERSIONED if info.get(n))
    return (
        f"{info['cores']} cores, {info['cpu']}; {info['os']}; Python {info['python']}, {libs}; "
        f"load average {info['load_avg_1m']} at start, {info.get('load_avg_1m_end', '?')} at end; "
        f"{info['date']}"
    )


# --- results ------------------------------------------------------------------------


def write_section(path: Path, name: str, body: str) -> None:
    """Replace (or append) the section ``name`` of the results file (invariant (1))."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = path.read_text() if path.exists() else RESULTS_HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n")


def workload_parser(name: str, doc: str | None, runs: int) -> argparse.ArgumentParser:
    """The command line every workload shares: --rows, --runs, --results, --no-results,
    --workdir; a workload adds its own flags to what this returns."""
    parser = argparse.ArgumentParser(
        prog=f"python -m bench.{name}", description=(doc or "").split("\n")[0]
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="table size (default 1,000,000)"
    )
    parser.add_argument(
        "--runs", type=int, default=runs, help=f"timed runs per figure (default {runs})"
    )
    parser.add_argument("--results", type=Path, default=RESULTS_PATH, help="results file to update")
    parser.add_argument("--no-results", action="store_true", help="do not write the results file")
    parser.add_argument("--workdir", type=Path, default=None, help="where the temporary stores go")
    return parser


def add_parts_option(parser: argparse.ArgumentParser, flag: str, parts: Sequence[str]) -> None:
    """``flag`` takes some of ``parts``, comma-separated; the choice comes back in the
    order of ``parts`` (all of them by default)."""

    def chosen(text: str) -> tuple[str, ...]:
        given = [p.strip() for p in text.split(",") if p.strip()]
        picked = tuple(p for p in parts if p in given)
        if set(given) - set(parts) or not picked:
            raise argparse.ArgumentTypeError(
                f"{flag} takes some of {','.join(parts)}, comma-separated; got {text!r}"
            )
        return picked

    parser.add_argument(
        flag,
        type=chosen,
        default=tuple(parts),
        help=f"which parts to run, comma-separated (default: all of {','.join(parts)})",
    )


def results_path(args: argparse.Namespace) -> Path | None:
    """Where the parsed command line asks the results to go (None: nowhere)."""
    return None if args.no_results else args.results


def emit(payload: dict[str, Any], metrics: list[Metric]) -> None:
    """Print the JSON payload to stdout and the text table to stderr."""
    print(text_table(metrics), file=sys.stderr)
    json.dump(payload, sys.stdout, indent=2)
    sys.stdout.write("\n")
