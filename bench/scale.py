"""Reads and loads at scale: ArborDB beside a DuckDB table and DuckDB on the same
Parquet file, in the same run.

Two shapes: ``bench`` (id, 10-character label from 1,000 values, score) and ``llm``
(id, a 200-2,000-character text, source, lang, quality). For each: the load (time and
peak memory, each in a new process), the disk it takes beside the Parquet file, then
each query cold (the first query of a new process: open, query, fetch) and warm (the
same process again: the median of three repeats; the first repeat is also shown on
its own, since that is when ArborDB copies a twice-scanned table into DuckDB), with
the peak memory of the cold query. Memory is the growth of
the process's anonymous resident memory (resident minus file-backed pages, so a
memory-mapped store's page cache is not counted; sampled every millisecond) over
what it held just before.

    python -m bench.scale --sizes 1000000,4000000,16000000 --shape bench
    python -m bench.scale --sizes 1000000,3000000 --shape llm
    python -m bench.scale --rows 100000 --shape llm --runs 1 --no-results   # quick look
    python -m bench.scale --sizes 1000000,4000000 --parts group   # only the GROUP BY

``--parts`` picks what runs beside the load every query needs (Repo.write's and
DuckDB's): ``loads`` (the other ways in: INSERT ... SELECT and ``arbor table
import``), ``limit``, ``group``, ``filter`` (llm shape only).

With several ``--sizes`` the section also shows how each figure grows from the
smallest size to the largest (e.g. 16x rows -> 1.2x time for LIMIT 10), beside the
growth of the same figure for DuckDB.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from arbordb.sql.catalog import type_name

from .common import (
    add_parts_option,
    fmt_seconds,
    load_average,
    machine,
    machine_line,
    results_path,
    workload_parser,
    write_section,
)
from .storage import make_table

QUERIES = {
    "bench": {
        "LIMIT 10": "SELECT * FROM t LIMIT 10",
        "GROUP BY": (
            "SELECT label, count(*), round(avg(score), 9) FROM t GROUP BY label ORDER BY label"
        ),
    },
    "llm": {
        "LIMIT 10": "SELECT * FROM t LIMIT 10",
        "filter": (
            "SELECT count(*), round(avg(quality), 9) FROM t WHERE lang = 'en' AND quality > 0.8"
        ),
        "GROUP BY": (
            "SELECT source, count(*), round(avg(quality), 9) FROM t GROUP BY source ORDER BY source"
        ),
    },
}
PARTS = ("loads", "limit", "group", "filter")
PART_OF = {"LIMIT 10": "limit", "GROUP BY": "group", "filter": "filter"}  # query -> part
TARGET_LIMIT_COLD = 0.050
TARGET_GROUP_COLD, TARGET_GROUP_WARM = 2.0, 1.2
TARGET_FILTER_COLD = 3.0  # vs DuckDB on Parquet
TARGET_RSS = 2.0  # vs DuckDB on Parquet
TARGET_LOAD_RSS, TARGET_LOAD_TIME, TARGET_DISK = 2.0, 1.5, 1.2
TARGET_VS_RAW = 1.1  # a cold scan of the compressed store vs the same leaves stored raw

WORDS = np.array(
    "the of and to in is was for on that with as by at from his an were are which this be "
    "data model train label text token corpus learn layer query table branch merge commit "
    "version value index tree leaf node hash store stream batch column row key range".split()
)


def make_llm(rows: int, seed: int = 0) -> pa.Table:
    """``rows`` documents of 200-2,000 characters of words, with source, lang, quality."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(200, 2_001, rows)
    pool = " ".join(WORDS[rng.integers(0, len(WORDS), 800_000)].tolist())
    starts = rng.integers(0, len(pool) - 2_001, rows)
    text = [pool[s : s + n] for s, n in zip(starts.tolist(), lengths.tolist(), strict=True)]
    sources = pa.array(["web", "books", "code", "wiki", "news", "forum", "papers", "legal"])
    langs = pa.array(["en", "de", "fr", "es", "zh"])
    return pa.table(
        {
            "id": pa.array(np.arange(rows, dtype=np.int64)),
            "text": pa.array(text, pa.string()),
            "source": sources.take(pa.array(rng.integers(0, len(sources), rows))),
            "lang": langs.take(pa.array(rng.choice(5, rows, p=[0.6, 0.1, 0.1, 0.1, 0.1]))),
            "quality": pa.array(rng.random(rows)),
        }
    )


# Each measurement runs in a new process: this prelude samples its anonymous RSS.
PRELUDE = textwrap.dedent(
    """
    import json, os, sys, threading, time
    _page = os.sysconf("SC_PAGE_SIZE")

    def _anon():
        with open("/proc/self/statm") as f:
            fields = f.read().split()
        return (int(fields[1]) - int(fields[2])) * _page

    class Peak:
        def __enter__(self):
            self.before = self.peak = _anon()
            self._done = threading.Event()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
            self.start = time.perf_counter()
            self.cpu_start = time.process_time()
            return self

        def _sample(self):
            while not self._done.wait(0.001):
                self.peak = max(self.peak, _anon())

        def __exit__(self, *exc):
            self.seconds = time.perf_counter() - self.start
            self.cpu = time.process_time() - self.cpu_start  # every thread's CPU seconds
            self._done.set()
            self._thread.join()
            self.grew = max(self.peak, _anon()) - self.before
    """
)

# ArborDB reads the file as a stream of batches (as DuckDB's read_parquet does), and
# Repo.write builds the tree batch by batch. Modules are imported before the clock
# starts, as DuckDB's are (``import duckdb`` loads all of it; arbordb loads lazily).
LOAD = {
    "arbordb": """
import pyarrow as pa
import pyarrow.parquet as pq
import arbordb
from arbordb import Repo
with Peak() as p:
    repo = Repo(STORE)
    f = pq.ParquetFile(PARQUET)
    stream = pa.RecordBatchReader.from_batches(f.schema_arrow, f.iter_batches(batch_size=1 << 17))
    repo.write("t", stream, primary_key=["id"])
    repo.commit("load")
    repo.close()
""",
    "arbordb insert": """
import arbordb
import arbordb.sql.dbapi
with Peak() as p:
    con = arbordb.connect(STORE)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (" + COLUMNS + ", PRIMARY KEY (id))")
    cur.execute(f"INSERT INTO t SELECT * FROM read_parquet('{PARQUET}')")
    con.commit()
    con.close()
""",
    "arbordb import": """
import arbordb
from arbordb.cli.main import main
import arbordb.cli.commands.table
import arbordb.sql.dbapi  # the SQL layer the command connects with, as the INSERT's
arbordb.Repo(STORE).close()
with Peak() as p:
    assert main(["-C", STORE, "table", "import", "--create", "--pk", "id", "t", PARQUET]) == 0
""",
    "duckdb": """
import duckdb
with Peak() as p:
    con = duckdb.connect(STORE)
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{PARQUET}')")
    con.close()
""",
}

QUERY = {
    "arbordb": ("import arbordb", "con = arbordb.connect(STORE, read_only=True)"),
    "duckdb table": ("import duckdb", "con = duckdb.connect(STORE, read_only=True)"),
    "duckdb parquet": (
        "import duckdb",
        "con = duckdb.connect()\n"
        "con.execute(f\"CREATE VIEW t AS SELECT * FROM read_parquet('{PARQUET}')\")",
    ),
}


MARK = "@@scale@@"

# --compare-raw: the same repository with every leaf stored raw (records kind 0), as
# an uncompressed store keeps it, read by the same code: cold scans alternate between
# the two in one run (the compressed store may be at most 10% slower).
RAW_COPY = """
import shutil
import lmdb
from arbordb.engine.chunks.lmdb_store import LmdbChunkStore
from arbordb.engine.chunks.packs import decode_locator, is_locator, pack_key
from arbordb.engine.chunks.records import KIND_RAW, decode_record, encode_record
with LmdbChunkStore(STORE + "/.arbor") as store:
    store.compact()  # every record in ``chunks``, or in a pack a locator there names
shutil.copytree(STORE, RAW)
env = lmdb.open(RAW + "/.arbor", max_dbs=5, map_size=64 << 30)
chunks, packs = env.open_db(b"chunks"), env.open_db(b"packs")
with env.begin() as txn:
    keys = [bytes(k) for k in txn.cursor(db=chunks).iternext(values=False)]
for start in range(0, len(keys), 4096):
    with env.begin(write=True) as txn:
        for key in keys[start : start + 4096]:
            record = txn.get(key, db=chunks)
            if is_locator(record):
                number, begin, end = decode_locator(record)
                record = txn.get(pack_key(number), db=packs)[begin:end]
            if record[0] != KIND_RAW and record[0] != 2:
                txn.put(key, encode_record(decode_record(key, record)), db=chunks)
env.close()
print("@@scale@@" + json.dumps({}))
"""


def _run(script: str, **values: str) -> dict[str, Any]:
    names = "".join(f"{k} = {v!r}\n" for k, v in values.items())
    out = subprocess.run(
        [sys.executable, "-c", PRELUDE + names + script],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise RuntimeError(f"benchmark step failed:\n{out.stderr[-3000:]}")
    # the result is marked: DuckDB may draw a progress bar on stdout (ending in \r)
    return json.loads(out.stdout.rsplit(MARK, 1)[1].splitlines()[0])


def measure_load(engine: str, store: Path, parquet: Path) -> dict[str, Any]:
    script = (
        LOAD[engine]
        + f"\nprint({MARK!r} + json.dumps({{'s': p.seconds, 'grew': p.grew, 'cpu': p.cpu}}))\n"
    )
    columns = ", ".join(
        f"{f.name} {type_name(f.type)}" for f in pq.read_schema(parquet) if f.name != "__index"
    )
    return _run(script, STORE=str(store), PARQUET=str(parquet), COLUMNS=columns)


# the other ways into ArborDB, each loading the same file into a store of its own
# (removed once measured): beside Repo.write and DuckDB in the same run
OTHER_LOADS = {
    "arbordb insert": "INSERT ... SELECT read_parquet",
    "arbordb import": "arbor table import",
}
TARGET_IMPORT_TIME = 1.2  # vs Repo.write


def other_loads(base: Path, parquet: Path, arrow_bytes: int, writes: dict, row) -> dict:
    """Load time and peak memory of each of ``OTHER_LOADS`` (``writes``: Repo.write's
    and DuckDB's loads), as rows beside Repo.write's."""
    got = {}
    for engine, label in OTHER_LOADS.items():
        store = base / engine.replace(" ", "-")
        got[engine] = measure_load(engine, store, parquet)
        shutil.rmtree(store, ignore_errors=True)
        seconds, grew = got[engine]["s"], got[engine]["grew"]
        row(
            f"load time ({label})", seconds, writes["duckdb"]["s"], "DuckDB table", TARGET_LOAD_TIME
        )
        if engine == "arbordb import":
            row(
                f"load time ({label})",
                seconds,
                writes["arbordb"]["s"],
                "Repo.write",
                TARGET_IMPORT_TIME,
            )
        row(
            f"load peak memory ({label})",
            grew,
            arrow_bytes,
            "input's Arrow size",
            TARGET_LOAD_RSS,
            fmt=mib,
        )
    return got


def measure_query(engine: str, store: Path, parquet: Path, sql: str, warm: int) -> dict[str, Any]:
    imports, opening = QUERY[engine]
    fetch = "con.execute(SQL).fetchall()"
    script = f"""
{imports}
{opening}
with Peak() as p:
    rows = {fetch}
warm = []
for _ in range({warm}):
    t = time.perf_counter(); {fetch}; warm.append(time.perf_counter() - t)
print({MARK!r} + json.dumps({{"s": p.seconds, "grew": p.grew, "warm": warm, "rows": repr(rows)}}))
"""
    return _run(script, STORE=str(store), PARQUET=str(parquet), SQL=sql)


def _dir_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def load_and_disk(
    stores: dict[str, Path], parquet: Path, arrow_bytes: int, row, others: bool = True
) -> dict[str, Any]:
    """The load (time, peak memory) and disk rows: each engine loads the Parquet file
    in a new process; the disk it then takes beside the Parquet file and DuckDB's."""
    loads = {engine: measure_load(engine, store, parquet) for engine, store in stores.items()}
    row("load time", loads["arbordb"]["s"], loads["duckdb"]["s"], "DuckDB table", TARGET_LOAD_TIME)
    row(
        "load peak memory",
        loads["arbordb"]["grew"],
        arrow_bytes,
        "input's Arrow size",
        TARGET_LOAD_RSS,
        fmt=mib,
    )
    row(
        "load peak memory (DuckDB)",
        loads["duckdb"]["grew"],
        arrow_bytes,
        "input's Arrow size",
        fmt=mib,
    )
    disk = {k: _dir_bytes(v) for k, v in stores.items()}
    size = parquet.stat().st_size
    row("disk after load", disk["arbordb"], size, "Parquet file", TARGET_DISK, fmt=mib)
    row("disk after load (vs DuckDB)", disk["arbordb"], disk["duckdb"], "DuckDB file", fmt=mib)
    row("disk after load (DuckDB)", disk["duckdb"], size, "Parquet file", fmt=mib)
    others = other_loads(parquet.parent, parquet, arrow_bytes, loads, row) if others else {}
    return {"loads": {**loads, **others}, "disk": disk, "parquet_bytes": size}


def write_input(base: Path, rows: int, shape: str) -> tuple[Path, int]:
    """The table of ``shape`` as ``base``/t.parquet, and its size in Arrow (bytes)."""
    data = make_table(rows) if shape == "bench" else make_llm(rows)
    parquet = base / "t.parquet"
    pq.write_table(data, parquet)
    return parquet, data.nbytes


def run(
    rows: int,
    shape: str,
    runs: int,
    workdir: Path | None,
    compare_raw: bool = False,
    parts: tuple[str, ...] = PARTS,
) -> tuple[list[list[str]], list[str], dict]:
    base = Path(tempfile.mkdtemp(prefix="arbor-scale-", dir=workdir))
    try:
        parquet, arrow_bytes = write_input(base, rows, shape)
        stores = {"arbordb": base / "arbor", "duckdb": base / "t.duckdb"}
        table: list[list[str]] = []
        misses: list[str] = []
        figures: dict[str, Any] = {"rows": rows, "shape": shape, "arrow_bytes": arrow_bytes}

        def row(name, ours, theirs, label, target=None, ratio=None, fmt=fmt_seconds):
            r = ours / theirs if theirs else None
            met = (
                "-"
                if target is None
                else ("yes" if (ratio if ratio is not None else r) <= target else "NO")
            )
            shown = (
                "-"
                if target is None
                else f"<= {target:g}x"
                if ratio is None
                else f"<= {fmt(target)}"
            )
            table.append(
                [name, fmt(ours), f"{fmt(theirs)} ({label})", f"{r:.2f}x" if r else "-", shown, met]
            )
            if met == "NO":
                misses.append(f"{name}: {fmt(ours)} vs {fmt(theirs)} ({label}), target {shown}")

        figures.update(load_and_disk(stores, parquet, arrow_bytes, row, "loads" in parts))
        engines = list(QUERY)
        if compare_raw:
            stores["arbordb raw"] = base / "arbor-raw"
            _run(RAW_COPY, STORE=str(stores["arbordb"]), RAW=str(stores["arbordb raw"]))
            engines.append("arbordb raw")

        for label, sql in QUERIES[shape].items():
            if PART_OF[label] not in parts:
                continue
            got: dict[str, list[dict]] = {}
            for _ in range(runs):  # engines alternate run by run: noise falls on all
                for engine in engines:
                    store = stores[engine if engine.startswith("arbordb") else "duckdb"]
                    got.setdefault(engine, []).append(
                        measure_query(
                            "arbordb" if engine == "arbordb raw" else engine,
                            store,
                            parquet,
                            sql,
                            warm=3,
                        )
                    )
            answers = {e: {r["rows"] for r in rs} for e, rs in got.items()}
            if label != "LIMIT 10" and len({a for s in answers.values() for a in s}) != 1:
                raise RuntimeError(f"{label}: engines disagree: {answers}")
            cold = {e: statistics.median(r["s"] for r in rs) for e, rs in got.items()}
            warm = {e: statistics.median(w for r in rs for w in r["warm"]) for e, rs in got.items()}
            # the first repeat is where ArborDB copies a table into DuckDB (sql/read/kept.py)
            repeat = {e: statistics.median(r["warm"][0] for r in rs) for e, rs in got.items()}
            grew = {e: statistics.median(r["grew"] for r in rs) for e, rs in got.items()}
            figures[label] = {"cold": cold, "warm": warm, "repeat": repeat, "grew": grew}
            if label == "LIMIT 10":
                row(
                    f"{label} cold",
                    cold["arbordb"],
                    cold["duckdb table"],
                    "DuckDB table",
                    TARGET_LIMIT_COLD,
                    ratio=cold["arbordb"],
                )
            elif label == "filter":
                row(
                    f"{label} cold",
                    cold["arbordb"],
                    cold["duckdb parquet"],
                    "DuckDB on Parquet",
                    TARGET_FILTER_COLD,
                )
            else:
                row(
                    f"{label} cold",
                    cold["arbordb"],
                    cold["duckdb table"],
                    "DuckDB table",
                    TARGET_GROUP_COLD,
                )
                row(
                    f"{label} warm",
                    warm["arbordb"],
                    warm["duckdb table"],
                    "DuckDB table",
                    TARGET_GROUP_WARM,
                )
                row(
                    f"{label} first repeat",
                    repeat["arbordb"],
                    repeat["duckdb table"],
                    "DuckDB table",
                )
            row(
                f"{label} cold (DuckDB on Parquet)",
                cold["arbordb"],
                cold["duckdb parquet"],
                "DuckDB on Parquet",
            )
            if compare_raw:
                row(
                    f"{label} cold, leaves compressed",
                    cold["arbordb"],
                    cold["arbordb raw"],
                    "same leaves stored raw",
                    TARGET_VS_RAW,
                )
            baseline = 16 << 20  # allowance for the interpreter's own growth
            row(
                f"{label} peak memory",
                grew["arbordb"],
                grew["duckdb parquet"] + baseline,
                "DuckDB on Parquet + 16 MiB",
                TARGET_RSS,
                fmt=mib,
            )
        return table, misses, figures
    finally:
        shutil.rmtree(base, ignore_errors=True)


def growth(shape: str, figures: list[dict]) -> list[list[str]]:
    """How each figure grows from the smallest size to the largest, per engine:
    rows of (figure, engine, smallest, largest, growth)."""
    small, large = figures[0], figures[-1]
    out = []
    mib = lambda n: f"{n / 2**20:.0f} MiB"  # noqa: E731

    def add(name: str, engine: str, a: float, b: float, fmt=fmt_seconds) -> None:
        out.append([name, engine, fmt(a), fmt(b), f"{b / a:.2f}x" if a else "-"])

    for engine, store in (("arbordb", "arbordb"), ("duckdb table", "duckdb")):
        add("load time", engine, small["loads"][store]["s"], large["loads"][store]["s"])
        add(
            "load peak memory",
            engine,
            small["loads"][store]["grew"],
            large["loads"][store]["grew"],
            mib,
        )
        add("disk after load", engine, small["disk"][store], large["disk"][store], mib)
    for engine, label in OTHER_LOADS.items():
        if engine not in small["loads"]:
            continue  # --parts without loads
        add(
            f"load time ({label})", engine, small["loads"][engine]["s"], large["loads"][engine]["s"]
        )
        add(
            f"load peak memory ({label})",
            engine,
            small["loads"][engine]["grew"],
            large["loads"][engine]["grew"],
            mib,
        )
    for label in QUERIES[shape]:
        if label not in small:
            continue  # not among --parts
        for kind, name, fmt in (
            ("cold", "cold", fmt_seconds),
            ("warm", "warm", fmt_seconds),
            ("grew", "peak memory", mib),
        ):
            for engine in QUERY:
                add(
                    f"{label} {name}",
                    engine,
                    small[label][kind][engine],
                    large[label][kind][engine],
                    fmt,
                )
    return out


def markdown(
    info: dict, sizes: list[int], shape: str, runs: int, tables, misses, grown, extra: str = ""
) -> str:
    shown = ",".join(str(n) for n in sizes)
    flag = f"--rows {shown}" if len(sizes) == 1 else f"--sizes {shown}"
    return sized_markdown(
        f"scale ({shape}): `python -m bench.scale {flag} --shape {shape} --runs {runs}{extra}`",
        "Cold = the first query of a new process (open, query, fetch); warm = the same "
        "query again in that process. Memory = growth of anonymous RSS during the step.",
        info,
        sizes,
        tables,
        misses,
        grown,
        ["figure", "engine", "smallest", "largest", "growth"],
    )


def sized_markdown(
    title: str,
    explanation: str,
    info: dict,
    sizes: list[int],
    tables: list[list[list[str]]],
    misses: list[str],
    grown: list[list[str]],
    growth_head: list[str],
) -> str:
    """A results section: one table of metrics per size, then how each figure grew."""
    head = ["metric", "arbordb", "comparison", "ratio", "target", "met"]
    lines = [f"## {title}", "", f"Machine: {machine_line(info)}.", "", explanation]
    for rows, table in zip(sizes, tables, strict=True):
        lines += [
            "",
            f"### {rows:,} rows",
            "",
            "| " + " | ".join(head) + " |",
            "|" + "---|" * len(head),
        ]
        lines += ["| " + " | ".join(r) + " |" for r in table]
    if grown:
        factor = sizes[-1] / sizes[0]
        lines += [
            "",
            f"### Growth from {sizes[0]:,} to {sizes[-1]:,} rows ({factor:g}x rows)",
            "",
            "| " + " | ".join(growth_head) + " |",
            "|" + "---|" * len(growth_head),
        ]
        lines += ["| " + " | ".join(r) + " |" for r in grown]
    lines += ["", "Notes (targets missed):"]
    lines += [f"- {m}" for m in misses] or ["- every target met"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = workload_parser("scale", __doc__, runs=3)
    parser.add_argument("--shape", choices=sorted(QUERIES), default="bench")
    parser.add_argument(
        "--sizes",
        type=lambda text: sorted(int(n) for n in text.split(",")),
        default=None,
        help="comma-separated table sizes, smallest first in the output (overrides --rows)",
    )
    parser.add_argument(
        "--compare-raw",
        action="store_true",
        help="also time each cold query on a copy of the repository with raw leaves",
    )
    add_parts_option(parser, "--parts", PARTS)
    args = parser.parse_args(argv)
    sizes = args.sizes or [args.rows]
    info = machine()
    tables, misses, figures = [], [], []
    for rows in sizes:
        table, missed, figure = run(
            rows, args.shape, args.runs, args.workdir, args.compare_raw, args.parts
        )
        tables.append(table)
        misses += [f"{rows:,} rows: {m}" for m in missed]
        figures.append(figure)
        _print_table(table, f"{rows:,} rows")
    grown = growth(args.shape, figures) if len(sizes) > 1 else []
    if grown:
        _print_table(grown, f"growth from {sizes[0]:,} to {sizes[-1]:,} rows")
    info["load_avg_1m_end"] = load_average()
    json.dump(figures, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    path = results_path(args)
    if path is not None:
        extra = " --compare-raw" if args.compare_raw else ""
        if args.parts != PARTS:
            extra += " --parts " + ",".join(args.parts)
        text = markdown(info, sizes, args.shape, args.runs, tables, misses, grown, extra)
        write_section(path, f"scale-{args.shape}", text)


def _print_table(table: list[list[str]], title: str) -> None:
    print(title, file=sys.stderr)
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)), file=sys.stderr)


if __name__ == "__main__":
    main()
