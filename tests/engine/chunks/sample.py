"""A label table for the chunk-store tests: ids, labels from a thousand values, scores."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def label_rows(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "id": pa.array(np.arange(rows, dtype=np.int64)),
            "label": pa.array([f"lbl_{v:06d}" for v in rng.integers(0, 1000, rows)]),
            "score": pa.array(rng.random(rows)),
        }
    )
