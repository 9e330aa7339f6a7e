"""Files of derived data kept between runs (EVIDENCE_DESK_CACHE_DIR), read whole or not at all.

A cache file is the payload between a magic line naming its format and the SHA-256 of both,
so a truncated, damaged or foreign file is told apart from a good one and ignored; it is
written to a temporary file and renamed over the old one, so a reader never sees half of one.
Nothing here raises: a file that cannot be read or written is logged at DEBUG (its path and
the error's class, never its contents) and the caller computes what it would have held.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

_CHECKSUM = 32


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes: what derived data is keyed by (not its path, since the
    same file moved is the same input). Raises OSError when it cannot be read."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def read(path: Path, magic: bytes) -> bytes | None:
    """The payload of a good cache file of this format; None for any other."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.debug("cache file %s unreadable (%s): recomputing", path, type(exc).__name__)
        return None
    body, checksum = data[:-_CHECKSUM], data[-_CHECKSUM:]
    if (
        len(data) < len(magic) + _CHECKSUM
        or not body.startswith(magic)
        or hashlib.sha256(body).digest() != checksum
    ):
        log.debug("cache file %s is damaged or of another format: recomputing", path)
        return None
    return body[len(magic) :]


def write(path: Path, magic: bytes, payload: bytes) -> bool:
    """Replace the file with this payload; False (and the old file kept) when it cannot be."""
    body = magic + payload
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(body + hashlib.sha256(body).digest())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.debug("cache file %s not written (%s)", path, type(exc).__name__)
        return False
    return True
