"""Binary key columns as numpy arrays, for vectorised hashing and searching.

Keys are opaque byte strings compared bytewise (memcmp). numpy's ``S`` dtype
compares its values as if zero-padded to a common width, which differs from
memcmp only when one key equals another plus trailing zero bytes. The key codec
makes every field self-delimiting, so among keys of one tree no key is another
key plus zeros, and ``S`` order is memcmp order there.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def key_buffers(keys: pa.BinaryArray) -> tuple[np.ndarray, np.ndarray]:
    """(offsets as int64 starting at 0, data bytes) of a binary array, zero-copy where possible."""
    buffers = keys.buffers()
    wide = keys.type == pa.large_binary()
    offsets = np.frombuffer(buffers[1], np.int64 if wide else np.int32)
    offsets = offsets[keys.offset : keys.offset + len(keys) + 1]
    data = np.frombuffer(buffers[2], np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    offsets = offsets.astype(np.int64)
    if len(offsets) and offsets[0]:
        data = data[offsets[0] :]
        offsets = offsets - offsets[0]
    return offsets, data


def padded_matrix(keys: pa.BinaryArray, multiple: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Keys as rows of a zero-padded (n, W) uint8 matrix (W a multiple of ``multiple``)
    and their lengths."""
    offsets, data = key_buffers(keys)
    n = len(offsets) - 1
    lengths = np.diff(offsets)
    width = int(lengths.max()) if n else 0
    padded = max(-(-width // multiple) * multiple, multiple)
    if n and (lengths == width).all() and padded == width:
        return data[: n * width].reshape(n, width), lengths
    matrix = np.zeros((n, padded), np.uint8)
    if n and width:
        if (lengths == width).all():
            matrix[:, :width] = data[: n * width].reshape(n, width)
        else:  # scatter every key's bytes to the start of its row
            total = int(offsets[-1])
            starts = np.arange(n, dtype=np.int64) * padded - offsets[:-1]
            matrix.ravel()[np.arange(total) + np.repeat(starts, lengths)] = data[:total]
    return matrix, lengths


def sortable(keys: pa.BinaryArray, width: int = 1) -> np.ndarray:
    """Keys as a numpy ``S`` array (at least ``width`` wide) whose order is memcmp order.

    Never turn the result back into keys: numpy drops trailing zero bytes.
    """
    matrix, _ = padded_matrix(keys)
    if matrix.shape[1] < width:
        matrix = np.pad(matrix, ((0, 0), (0, width - matrix.shape[1])))
    return np.ascontiguousarray(matrix).view(f"S{matrix.shape[1]}").reshape(len(matrix))


def comparable(*arrays: pa.BinaryArray) -> list[np.ndarray]:
    """Key arrays as numpy arrays of ONE dtype whose order is memcmp order.

    Fast path: when every key has the same width and, past the prefix bytes all
    keys share, at most 8 bytes remain (a BIGINT key: marker byte + 8), keys
    become big-endian uint64 values, which numpy compares and searches several
    times faster than byte strings. Otherwise ``S`` arrays of a common width.
    """
    matrices = [padded_matrix(a)[0] for a in arrays]
    widths = {m.shape[1] for m in matrices if len(m)}
    lengths_ok = all(
        (np.diff(key_buffers(a)[0]) == m.shape[1]).all()
        for a, m in zip(arrays, matrices, strict=True)
    )
    if len(widths) == 1 and lengths_ok:
        (width,) = widths
        prefix = 0
        first = next(m[0] for m in matrices if len(m))
        while width - prefix > 8 and all(
            (m[:, prefix] == first[prefix]).all() for m in matrices if len(m)
        ):
            prefix += 1
        if width - prefix <= 8:
            out = []
            for m in matrices:
                if not len(m):
                    out.append(np.zeros(0, np.uint64))
                    continue
                tail = np.zeros((len(m), 8), np.uint8)
                tail[:, : width - prefix] = m[:, prefix:]
                out.append(tail.view(">u8").reshape(len(m)).astype(np.uint64))
            return out
    width = max([m.shape[1] for m in matrices] + [1])
    return [sortable(a, width) for a in arrays]
