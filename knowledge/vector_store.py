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

Layout (little-endian): magic, row count and dimensions (`<II`), the rows' text digests (32
bytes each), the rows' float32 vectors, then the SHA-256 of everything before it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

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
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            log.debug(
                "embedding cache %s unreadable (%s): recomputing", self.path, type(exc).__name__
            )
            return {}
        rows = self._parse(data)
        if rows is None:
            log.debug("embedding cache %s is not valid: recomputing", self.path)
            return {}
        return rows

    def _parse(self, data: bytes) -> dict[bytes, Vector] | None:
        start = len(MAGIC) + _HEADER.size
        if len(data) < start + _DIGEST or not data.startswith(MAGIC):
            return None
        body, checksum = data[:-_DIGEST], data[-_DIGEST:]
        if hashlib.sha256(body).digest() != checksum:
            return None
        count, dimensions = _HEADER.unpack_from(data, len(MAGIC))
        if dimensions != self.dimensions or len(body) != start + count * (_DIGEST + 4 * dimensions):
            return None
        keys_end = start + count * _DIGEST
        vectors = np.frombuffer(body, dtype="<f4", offset=keys_end).reshape(count, dimensions)
        vectors = vectors.astype(np.float32, copy=False)
        return {
            body[start + i * _DIGEST : start + (i + 1) * _DIGEST]: vectors[i] for i in range(count)
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

        Written to a temporary file and renamed over the old one, so a reader sees the old file
        or the new one, never half of one; a failure leaves the cache as it was."""
        older = self._load()
        rows = dict(used)
        for key, vector in older.items():
            if len(rows) >= ROW_LIMIT:
                break
            rows.setdefault(key, vector)
        if len(rows) > ROW_LIMIT:
            rows = dict(list(rows.items())[:ROW_LIMIT])
        self._rows = rows
        try:
            self._write(rows)
        except OSError as exc:
            log.debug("embedding cache %s not written (%s)", self.path, type(exc).__name__)

    def _write(self, rows: Mapping[bytes, Vector]) -> None:
        keys = b"".join(rows)
        matrix = np.asarray(list(rows.values()), dtype="<f4").reshape(len(rows), self.dimensions)
        body = MAGIC + _HEADER.pack(len(rows), self.dimensions) + keys + matrix.tobytes()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temporary = tempfile.mkstemp(prefix=".vectors-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(body + hashlib.sha256(body).digest())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
