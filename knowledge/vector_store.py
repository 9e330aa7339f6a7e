"""The KB phrasings' sentence vectors on disk, so a process that starts does not embed them again.

Why: building the hybrid index runs the model over every phrasing of every entry (~850 for
the shipped KB), which was most of the CPU of `evidence-desk ask` (docs/performance.md,
"CLI start-up"). The vectors depend only on the model and the text, so they are kept in one
file per model identity (`Embedder.identity`: the model's and tokenizer's bytes, the runtime
versions, the CPU), each row under the SHA-256 of its text. A row read back is the bytes the
model gave, so an answer from a loaded vector is the answer a fresh run gives.

Only curated text reaches this file: the KB's titles and questions and the intent examples
(`Embedder.encode`). People's messages are embedded by `Embedder.encode_fresh`, which keeps
their vectors in memory only. The file is a cache: one that is missing, corrupt, written for
another model or in a directory that cannot be written is recomputed (logged at DEBUG, with the
path and error class, never a text), never an error.

Layout (`knowledge.cachefile`, little-endian): magic, row count and dimensions (`<II`), the
rows' text digests (32 bytes each), the rows' float32 vectors, then the SHA-256 of all that.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge import cachefile

Vector = npt.NDArray[np.float32]

MAGIC = b"EDVEC01\n"
_HEADER = struct.Struct("<II")
_DIGEST = 32
#: Most rows one file keeps (~75 MB at 384 dimensions), the most recently used first: the
#: shipped KB has ~850 phrasings, and KB versions that are no longer served age out.
ROW_LIMIT = 50_000


def text_key(text: str) -> bytes:
    """The digest a phrasing is stored under (the file holds no text)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class VectorStore:
    """One model's vectors in `directory`; loaded at most once, rewritten when rows are added."""

    def __init__(self, directory: Path, identity: str, dimensions: int) -> None:
        self.path = directory / f"vectors-{identity}.bin"
        self.dimensions = dimensions
        self._rows: dict[bytes, Vector] | None = None

    def _load(self) -> dict[bytes, Vector]:
        if self._rows is None:
            self._rows = self._read()
        return self._rows

    def _read(self) -> dict[bytes, Vector]:
        payload = cachefile.read(self.path, MAGIC)
        rows = None if payload is None else self._parse(payload)
        return rows if rows is not None else {}

    def _parse(self, payload: bytes) -> dict[bytes, Vector] | None:
        if len(payload) < _HEADER.size:
            return None
        count, dimensions = _HEADER.unpack_from(payload)
        start = _HEADER.size
        keys_end = start + count * _DIGEST
        if dimensions != self.dimensions or len(payload) != keys_end + count * 4 * dimensions:
            return None
        vectors = np.frombuffer(payload, dtype="<f4", offset=keys_end).reshape(count, dimensions)
        vectors = vectors.astype(np.float32, copy=False)
        return {
            payload[start + i * _DIGEST : start + (i + 1) * _DIGEST]: vectors[i]
            for i in range(count)
        }

    def get(self, keys: Iterable[bytes]) -> dict[bytes, Vector]:
        """The stored vectors of those keys that have one."""
        rows = self._load()
        return {key: rows[key] for key in keys if key in rows}

    def keys(self) -> frozenset[bytes]:
        """The digests of the texts stored (for tests and diagnostics)."""
        return frozenset(self._load())

    def put(self, used: Mapping[bytes, Vector]) -> None:
        """Store `used` (the rows a caller just needed, new or not) ahead of the older rows.

        A file that cannot be written leaves the cache as it was (`cachefile.write`)."""
        older = self._load()
        rows = dict(used)
        for key, vector in older.items():
            if len(rows) >= ROW_LIMIT:
                break
            rows.setdefault(key, vector)
        if len(rows) > ROW_LIMIT:
            rows = dict(list(rows.items())[:ROW_LIMIT])
        self._rows = rows
        keys = b"".join(rows)
        matrix = np.asarray(list(rows.values()), dtype="<f4").reshape(len(rows), self.dimensions)
        cachefile.write(
            self.path, MAGIC, _HEADER.pack(len(rows), self.dimensions) + keys + matrix.tobytes()
        )
