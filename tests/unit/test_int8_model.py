"""The sentence model computes in int8 (knowledge/int8_model.py): made once, kept in the cache
directory, close to the float model's vectors and giving the same answers; without what it
needs, the model runs in float as shipped."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from handlers.answers import Answerer
from knowledge import SHIPPED_KB_DIR
from knowledge import int8_model as int8_module
from knowledge.embeddings import FLOAT, INT8, Embedder, ModelFiles
from knowledge.int8_model import int8_model
from knowledge.store import KnowledgeStore
from tests.conftest import TODAY

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"


def blind_questions() -> list[str]:
    lines = (DATA / "holdout_c.jsonl").read_text().splitlines()
    return [json.loads(line)["q"] for line in lines if line.strip()]


@pytest.fixture(scope="module")
def in_float() -> Embedder:
    return Embedder(ModelFiles.resolve("packaged"), cache_dir=Settings().cache_dir, compute=FLOAT)


@pytest.fixture(scope="module")
def in_int8() -> Embedder:
    return Embedder(ModelFiles.resolve("packaged"), cache_dir=Settings().cache_dir, compute=INT8)


@pytest.mark.slow
def test_the_int8_model_is_made_once_and_then_read_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(int8_module, "_KNOWN", {})
    source = ModelFiles.resolve("packaged").onnx
    made = int8_model(source, tmp_path)
    first = made.stat().st_mtime_ns
    assert int8_model(source, tmp_path) == made
    assert made.stat().st_mtime_ns == first
    assert [p.name for p in tmp_path.iterdir()] == [made.name]  # no scratch files left


def test_the_bot_computes_in_int8_by_default(in_int8: Embedder) -> None:
    assert Settings().embedding_compute == INT8
    assert in_int8.compute == INT8
    assert "computing in int8" in in_int8.describe()


def test_int8_vectors_stay_close_to_the_float_models(in_float: Embedder, in_int8: Embedder) -> None:
    texts = blind_questions()
    cosines = (in_float.encode_fresh(texts) * in_int8.encode_fresh(texts)).sum(axis=1)
    assert float(np.min(cosines)) > 0.97


@pytest.mark.slow
def test_int8_gives_every_blind_set_question_the_answer_float_gives(
    in_float: Embedder, in_int8: Embedder
) -> None:
    def answers(embedder: Embedder) -> list[tuple[object, ...]]:
        store = KnowledgeStore.from_directory(SHIPPED_KB_DIR, embedder=embedder)
        router = Answerer(store, Settings(kb_dir=SHIPPED_KB_DIR), today=lambda: TODAY)
        out: list[tuple[object, ...]] = []
        for text in blind_questions():
            result = router.answer(text).classification
            assert result is not None
            out.append((result.intent, result.faq_id, result.suggestions))
        return out

    assert answers(in_int8) == answers(in_float)


def test_without_the_onnx_package_the_model_runs_in_float_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` raises ImportError
    with caplog.at_level(logging.WARNING, logger="knowledge.embeddings"):
        embedder = Embedder(ModelFiles.resolve("packaged"), cache_dir=tmp_path, compute=INT8)
    assert embedder.compute == FLOAT
    assert embedder.encode_fresh(["library opening hours"]).shape == (1, embedder.dimensions)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "runs in float" in warnings[0].getMessage()
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_under_a_small_memory_limit_the_model_is_not_rewritten_and_runs_in_float(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    limit = tmp_path / "memory.max"
    limit.write_text("536870912\n")  # a 512 MiB container, as deploy/k8s sets
    monkeypatch.setattr(int8_module, "MEMORY_LIMIT_FILES", (limit,))
    monkeypatch.setattr(int8_module, "_KNOWN", {})  # a new process: nothing made before
    with caplog.at_level(logging.WARNING, logger="knowledge.embeddings"):
        embedder = Embedder(
            ModelFiles.resolve("packaged"), cache_dir=tmp_path / "cache", compute=INT8
        )
    assert embedder.compute == FLOAT
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "memory limit is 512 MiB" in warnings[0]


@pytest.mark.slow
def test_a_rewrite_made_earlier_is_used_under_a_small_memory_limit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    limit = tmp_path / "memory.max"
    limit.write_text("max\n")  # no limit where it is made (an image's build)
    monkeypatch.setattr(int8_module, "MEMORY_LIMIT_FILES", (limit,))
    monkeypatch.setattr(int8_module, "_KNOWN", {})
    source = ModelFiles.resolve("packaged").onnx
    made = int8_model(source, tmp_path / "models")
    limit.write_text("536870912\n")
    assert int8_model(source, tmp_path / "models") == made


def test_a_second_directory_in_the_same_process_gets_a_copy_of_the_rewrite(tmp_path: Path) -> None:
    source = ModelFiles.resolve("packaged").onnx
    first = int8_model(source, tmp_path / "one")
    second = int8_model(source, tmp_path / "two")
    assert second.parent == tmp_path / "two"
    assert second.read_bytes() == first.read_bytes()
