"""Peak memory of a load in a fresh process: the growth of anonymous RSS (resident
minus file-backed pages, so the repository's mapped LMDB file is not counted) while
``Repo.write``, ``INSERT ... SELECT`` from Parquet or CSV, or ``arbor table import``
loads a file of ``n`` rows of 400-character text. A load that streams grows by
about the same at N and 3N rows; one that holds its input grows with the file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

HOW = ("write", "insert-parquet", "insert-csv", "import-parquet", "import-csv")

_LOADS = {
    "write": """
file = pq.ParquetFile(PARQUET, pre_buffer=False)
reader = file.iter_batches(batch_size=4096)
repo.write("docs", pa.RecordBatchReader.from_batches(file.schema_arrow, reader), primary_key=["id"])
""",
    "insert-parquet": """
cur.execute(f"INSERT INTO docs SELECT * FROM read_parquet('{PARQUET}')")
""",
    "insert-csv": """
cur.execute(f"INSERT INTO docs SELECT * FROM read_csv('{CSV}')")
""",
    "import-parquet": """
assert main(["-C", STORE, "table", "import", "--create", "--pk", "id", "docs", PARQUET]) == 0
""",
    "import-csv": """
assert main(["-C", STORE, "table", "import", "--create", "--pk", "id", "docs", CSV]) == 0
""",
}

_SCRIPT = """
import json, os, threading
import pyarrow as pa
import pyarrow.parquet as pq
import arbordb
from arbordb.cli.main import main
from arbordb.engine import repo as repo_module
from arbordb.sql.write import insert as insert_module
repo_module.LOAD_BATCH_ROWS = 4096
insert_module.STREAM_BATCH_ROWS = 4096
from arbordb.cli import importer as importer_module
importer_module.STREAM_BATCH_ROWS = 4096
page = os.sysconf("SC_PAGE_SIZE")

def rss():
    with open("/proc/self/statm") as f:
        fields = f.read().split()
    return (int(fields[1]) - int(fields[2])) * page

{setup}
before = peak = rss()
done = threading.Event()

def sample():
    global peak
    while not done.wait(0.002):
        peak = max(peak, rss())

sampler = threading.Thread(target=sample)
sampler.start()
{load}
done.set()
sampler.join()
grew = max(peak, rss()) - before
print(json.dumps({{"grew": grew}}))
"""

# each load runs once on a small file first, so that imports and caches are warm
_SETUP = {
    "write": """
repo = arbordb.Repo(STORE)
repo.write("warm", pq.read_table(SMALL), primary_key=["id"])
""",
    "insert": """
con = arbordb.connect(STORE)
cur = con.cursor()
cur.execute("CREATE TABLE warm (id BIGINT PRIMARY KEY, text VARCHAR)")
cur.execute(f"INSERT INTO warm SELECT * FROM read_parquet('{SMALL}')")
cur.execute(f"INSERT INTO warm SELECT id + 100000000, text FROM read_csv('{SMALL_CSV}')")
cur.execute("CREATE TABLE docs (id BIGINT PRIMARY KEY, text VARCHAR)")
""",
    "import": """
arbordb.Repo(STORE).close()
assert main(["-C", STORE, "table", "import", "--create", "--pk", "id", "warm", SMALL]) == 0
assert main(["-C", STORE, "table", "import", "--create", "--pk", "id", "warm2", SMALL_CSV]) == 0
""",
}


def make_files(directory: Path, n: int) -> tuple[Path, Path, int]:
    """A Parquet and a CSV file of ``n`` rows (id, 400-character text) and the rows'
    Arrow size."""
    rng = np.random.default_rng(3)
    pool = "".join(chr(97 + v) for v in rng.integers(0, 26, 1_000_000))
    starts = rng.integers(0, len(pool) - 500, n)
    text = pa.array([pool[s : s + 400] for s in starts.tolist()])
    data = pa.table({"id": pa.array(np.arange(n, dtype=np.int64)), "text": text})
    parquet, csv = directory / f"docs{n}.parquet", directory / f"docs{n}.csv"
    pq.write_table(data, parquet, row_group_size=8192)
    pacsv.write_csv(data, csv)
    return parquet, csv, data.nbytes


def load_growth(directory: Path, n: int, how: str) -> tuple[int, int]:
    """(anonymous RSS growth of loading ``n`` rows the way ``how`` names, Arrow size of
    the rows), measured in a fresh process."""
    parquet, csv, size = make_files(directory, n)
    small, small_csv, _ = make_files(directory, 2_000)
    kind = how.split("-")[0]
    script = _SCRIPT.format(setup=_SETUP[kind], load=_LOADS[how])
    names = {
        "STORE": str(directory / f"{how}{n}"),
        "PARQUET": str(parquet),
        "CSV": str(csv),
        "SMALL": str(small),
        "SMALL_CSV": str(small_csv),
    }
    head = "".join(f"{k} = {v!r}\n" for k, v in names.items())
    out = subprocess.run(
        [sys.executable, "-c", head + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])["grew"], size
