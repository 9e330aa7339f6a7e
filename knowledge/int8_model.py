"""The sentence model rewritten to compute in int8: about half the CPU for each new message.

Why: the packaged all-MiniLM-L6-v2 stores its weights as int8, but ONNX Runtime turns them
back into floats when it loads the model and multiplies in float32; its matrix products are
most of a run, and a run is most of the CPU of answering a question the bot has not seen
before. ONNX Runtime's own dynamic quantisation (`quantize_dynamic`, int8 weights per output
channel, activations quantised on each run) rewrites those products as integer ones. On the
development machine a message then takes 2.0-2.5 ms of CPU instead of 5.3-5.6 ms (3.1 ms in a
float batch), and the vectors stay within cosine 0.98 of the float ones; the matcher gives the same answers on every labelled set
(docs/performance.md, "The model in int8"). `EVIDENCE_DESK_EMBEDDING_COMPUTE=float` runs the
model as shipped.

The rewrite is made from the model's bytes, once: with a cache directory it is kept there
under a name of those bytes, this recipe and the libraries' versions, so later starts (and
other processes) load it directly; without one it is made at each start (~2.5 s). It needs
the `onnx` package and, for the few seconds it takes, about 500 MB of memory (it is not tried
under a smaller container limit); if it cannot be made the caller runs the model in float.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Final

from knowledge.cachefile import file_digest

#: Changes whenever the rewrite below changes, so an older rewrite is not loaded as this one.
RECIPE: Final = "dynamic-qint8-per-channel-v1"
#: Making the rewrite peaks at about 500 MB resident for a while (the model unfolded to float
#: and quantised): under a smaller memory limit it is not attempted, since the kernel would kill
#: the process for it. Once made (in the image, say) it is only read.
MEMORY_NEEDED: Final = 1 << 30
#: Where the container's memory limit is read (cgroup v2, then v1); absent outside containers.
MEMORY_LIMIT_FILES: tuple[Path, ...] = (
    Path("/sys/fs/cgroup/memory.max"),
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
)


#: Rewrites this process has made or read, by key: another directory (a second embedder, a
#: scratch directory when there is no cache) gets a copy instead of a rewrite of its own.
_KNOWN: dict[str, Path] = {}


class NotEnoughMemory(Exception):
    """The process's memory limit is too small to make the rewrite safely."""


def memory_limit() -> int | None:
    """The container's memory limit in bytes, or None when there is none (or it is unknown)."""
    for path in MEMORY_LIMIT_FILES:
        try:
            value = path.read_text().strip()
        except OSError:
            continue
        if value.isdigit():
            return int(value)
        return None  # "max": no limit
    return None


def int8_model(source: Path, directory: Path) -> Path:
    """The int8-compute version of the ONNX model at `source`, made in `directory` unless it
    is there already. Raises (ImportError, onnx's or ONNX Runtime's errors, OSError) when it
    cannot be made: the caller then runs `source` as it is."""
    import onnx
    import onnxruntime

    key = hashlib.sha256(
        ":".join((file_digest(source), RECIPE, onnxruntime.__version__, onnx.__version__)).encode()
    ).hexdigest()[:32]
    target = directory / f"minilm-int8-{key}.onnx"
    if target.is_file():
        _KNOWN[key] = target
        return target
    known = _KNOWN.get(key)
    copy_of = known if known is not None and known.is_file() else None
    limit = memory_limit()
    if copy_of is None and limit is not None and limit < MEMORY_NEEDED:
        raise NotEnoughMemory(
            f"making it takes about 500 MB once and the memory limit is {limit >> 20} MiB; "
            "make it where memory allows (the image's build does: evidence-desk ask) and "
            "keep EVIDENCE_DESK_CACHE_DIR"
        )
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".int8-") as work:
        made = Path(work) / "int8.onnx"
        if copy_of is not None:
            shutil.copyfile(copy_of, made)
        else:
            _rewrite(source, Path(work) / "folded.onnx", made)
        # Atomic: a process starting beside this one finds the whole file or none.
        os.replace(made, target)
    _KNOWN[key] = target
    return target


def _rewrite(source: Path, folded: Path, made: Path) -> None:
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The packaged model computes each weight from int8 and a scale at load time;
    # quantisation needs plain weights, so let ONNX Runtime fold those first (its basic
    # optimisations only: the result stays a standard ONNX graph).
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(folded)
    options.log_severity_level = 3
    onnxruntime.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    root = logging.getLogger()
    root.addFilter(_no_preprocessing_advice)
    try:
        quantize_dynamic(folded, made, weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.removeFilter(_no_preprocessing_advice)


def _no_preprocessing_advice(record: logging.LogRecord) -> bool:
    """`quantize_dynamic` logs advice for image models on the root logger at every call; it
    does not apply to a sentence model and would be the only warning of a normal start."""
    return "pre-processing before quantization" not in record.getMessage()
