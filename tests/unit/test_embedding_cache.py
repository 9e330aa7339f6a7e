"""The KB phrasings' vectors kept on disk between processes (`knowledge.vector_store`): a start
that reads them must answer exactly as one that runs the model, a file that does not fit is
recomputed, and no person's message ever reaches the disk."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from handlers.answers import Answerer
from handlers.semantic_intents import REQUEST_EXAMPLES, SERVICE_EXAMPLES
from knowledge import SHIPPED_KB_DIR, vector_store
from knowledge.embeddings import Embedder, FloatMatrix, ModelFiles
from knowledge.loader import read_directory
from knowledge.models import KnowledgeBase
from knowledge.store import KnowledgeStore
from knowledge.vector_store import VectorStore, text_key
from tests.conftest import TODAY, KbFolder, entry_text
from tests.unit.test_cli import run

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"


class Spy:
    """Records the texts an embedder actually runs through the model."""

    def __init__(self, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        real = embedder._run

        def run(texts: Sequence[str]) -> FloatMatrix:
            self.texts.extend(texts)
            return real(texts)

        monkeypatch.setattr(embedder, "_run", run)


@pytest.fixture(scope="module")
def uncached() -> Embedder:
    """What the model gives, with no disk cache anywhere near it."""
    return Embedder(ModelFiles.resolve("packaged"))


def phrasings(kb: KnowledgeBase) -> list[str]:
    """The texts the hybrid index embeds for a KB (knowledge.hybrid.HybridIndex)."""
    return [t for e in kb.entries for t in (e.title, *e.questions)] + [
        q for topic in kb.out_of_scope for q in topic.questions
    ]


def read_kb(folder: Path) -> KnowledgeBase:
    kb, problems = read_directory(folder, TODAY)
    assert kb is not None, problems
    return kb


def cached(directory: Path, source: str = "packaged") -> Embedder:
    """A new embedder on the cache directory, as a new process would make it."""
    return Embedder(ModelFiles.resolve(source), cache_dir=directory)


def test_a_second_start_reads_the_vectors_bit_for_bit_instead_of_running_the_model(
    kb_folder: KbFolder, tmp_path: Path, uncached: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = phrasings(read_kb(kb_folder.path))
    first = cached(tmp_path / "cache").encode(texts)
    second = cached(tmp_path / "cache")
    spy = Spy(second, monkeypatch)
    loaded = second.encode(texts)
    assert spy.texts == []
    model = uncached.encode(texts)
    assert loaded.dtype == model.dtype == np.float32
    assert loaded.tobytes() == model.tobytes() == first.tobytes()


def test_a_cached_start_answers_the_shipped_kb_exactly_as_an_uncached_one(
    tmp_path: Path, answerer: Answerer, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "cache"
    settings = Settings(kb_dir=SHIPPED_KB_DIR)
    cold = KnowledgeStore.from_directory(SHIPPED_KB_DIR, embedder=cached(directory))
    Answerer(cold, settings)  # embeds the intent examples too: the cache is now full
    embedder = cached(directory)
    spy = Spy(embedder, monkeypatch)
    store = KnowledgeStore.from_directory(SHIPPED_KB_DIR, embedder=embedder)
    warm = Answerer(store, settings, today=lambda: TODAY)
    assert spy.texts == []  # the KB and the intent examples came from the disk
    lines = (DATA / "holdout_c.jsonl").read_text().splitlines()
    questions = [json.loads(line)["q"] for line in lines if line.strip()]
    questions += ["library opening hours", "forgot my athens password"]
    for question in questions:
        got, expected = warm.answer(question), answerer.answer(question)
        assert got.reply == expected.reply, question
        assert got.classification is not None and expected.classification is not None
        assert got.classification.score == expected.classification.score, question
        assert got.classification.intent == expected.classification.intent, question


def test_a_changed_kb_phrasing_is_the_only_text_run_again(
    kb_folder: KbFolder, tmp_path: Path, uncached: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached(tmp_path / "cache").encode(phrasings(read_kb(kb_folder.path)))
    kb_folder.write(
        "faqs/sample-entry.md",
        entry_text(questions=("how do I borrow a book", "can I take books home overnight")),
    )
    texts = phrasings(read_kb(kb_folder.path))
    embedder = cached(tmp_path / "cache")
    spy = Spy(embedder, monkeypatch)
    vectors = embedder.encode(texts)
    assert spy.texts == ["can I take books home overnight"]
    assert vectors.tobytes() == uncached.encode(texts).tobytes()


def test_a_different_model_file_does_not_read_another_models_vectors(
    kb_folder: KbFolder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = phrasings(read_kb(kb_folder.path))
    packaged = cached(tmp_path / "cache")
    packaged.encode(texts)
    # The packaged model with another description (protobuf field 6, doc_string): other
    # bytes, so another model as far as the cache can know, though it computes the same.
    other = tmp_path / "other-model"
    other.mkdir()
    description = b"another model"
    (other / "model.onnx").write_bytes(
        packaged.files.onnx.read_bytes() + bytes([0x32, len(description)]) + description
    )
    embedder = cached(tmp_path / "cache", str(other))
    assert embedder.identity != packaged.identity
    spy = Spy(embedder, monkeypatch)
    embedder.encode(texts)
    assert sorted(spy.texts) == sorted(set(texts))
    assert len(list((tmp_path / "cache").glob("vectors-*.bin"))) == 2


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[:-100], id="truncated"),
        pytest.param(lambda data: data[:200] + bytes([data[200] ^ 1]) + data[201:], id="flipped"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: b"not a vector file at all", id="garbage"),
    ],
)
def test_a_corrupt_cache_file_is_recomputed_and_rewritten(
    damage: Callable[[bytes], bytes],
    kb_folder: KbFolder,
    tmp_path: Path,
    uncached: Embedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = phrasings(read_kb(kb_folder.path))
    first = cached(tmp_path / "cache")
    first.encode(texts)
    assert first.store is not None
    first.store.path.write_bytes(damage(first.store.path.read_bytes()))
    embedder = cached(tmp_path / "cache")
    spy = Spy(embedder, monkeypatch)
    assert embedder.encode(texts).tobytes() == uncached.encode(texts).tobytes()
    assert sorted(spy.texts) == sorted(set(texts))
    again = cached(tmp_path / "cache")
    spy = Spy(again, monkeypatch)
    again.encode(texts)
    assert spy.texts == []  # the recomputed vectors were written back


def test_an_unwritable_cache_directory_still_answers_and_warns_no_one(
    kb_folder: KbFolder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings = Settings(kb_dir=kb_folder.path, cache_dir=blocker / "cache")
    caplog.set_level(logging.DEBUG)
    embedder = cached(blocker / "cache")
    store = KnowledgeStore.from_directory(kb_folder.path, TODAY, embedder=embedder)
    answer = Answerer(store, settings, today=lambda: TODAY).answer("how do I borrow a book")
    assert answer.reply.faq_id == "sample-entry"
    assert not blocker.is_dir()
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    debug = [r.getMessage() for r in caplog.records if r.name == "knowledge.cachefile"]
    assert debug and all("borrow" not in line for line in debug)


def test_no_message_vector_reaches_the_disk_cache(kb_folder: KbFolder, tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    embedder = cached(directory)
    store = KnowledgeStore.from_directory(kb_folder.path, TODAY, embedder=embedder)
    answerer = Answerer(store, Settings(kb_dir=kb_folder.path), today=lambda: TODAY)
    messages = [
        "how do I borrow a book",
        "could someone pull together what is known about falls for our governance meeting",
        "what does the literature search service deliver",
        "my patient in bed 4 is asking about the library, can I borrow a book for her",
    ]
    answerer.prepare(messages)
    for message in messages:
        answerer.answer(message)
    assert embedder.store is not None
    curated = [*phrasings(store.current.kb), *REQUEST_EXAMPLES, *SERVICE_EXAMPLES]
    assert embedder.store.keys() == {text_key(t) for t in curated}
    on_disk = cached(directory).store
    assert on_disk is not None and on_disk.keys() == embedder.store.keys()
    # Besides the vectors, only the model's int8 rewrite (knowledge/int8_model.py).
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [embedder.store.path.name, "models"]
    )
    assert [p.suffix for p in (directory / "models").iterdir()] == [".onnx"]


def test_cache_dir_is_under_the_xdg_cache_home_unless_set_or_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("EVIDENCE_DESK_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert Settings().cache_dir == tmp_path / "xdg" / "evidence-desk"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert Settings().cache_dir == tmp_path / "home" / ".cache" / "evidence-desk"
    monkeypatch.setenv("EVIDENCE_DESK_CACHE_DIR", str(tmp_path / "mine"))
    assert Settings().cache_dir == tmp_path / "mine"
    monkeypatch.setenv("EVIDENCE_DESK_CACHE_DIR", "off")
    assert Settings().cache_dir is None


def test_a_second_ask_reads_the_vectors_the_first_one_stored(tmp_path: Path) -> None:
    env = {"EVIDENCE_DESK_CACHE_DIR": str(tmp_path / "cache")}
    first = run("ask", "--json", "library opening hours", env=env)
    assert first.returncode == 0, first.stderr
    (stored,) = (tmp_path / "cache").glob("vectors-*.bin")
    written = stored.stat().st_mtime_ns
    second = run("ask", "--json", "library opening hours", env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert json.loads(second.stdout)["faq_id"] == "library-opening-hours"
    assert stored.stat().st_mtime_ns == written  # read, not computed and written again


def test_the_cache_keeps_the_rows_used_last_when_it_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vector_store, "ROW_LIMIT", 3)
    rows = {text_key(str(i)): np.full(4, i, dtype=np.float32) for i in range(5)}
    store = VectorStore(tmp_path, "model", 4)
    store.put({k: rows[k] for k in list(rows)[:3]})  # 0 1 2
    store.put({k: rows[k] for k in list(rows)[3:]})  # 3 4, then the first of the older file
    again = VectorStore(tmp_path, "model", 4)
    assert again.keys() == {text_key("3"), text_key("4"), text_key("0")}
    assert again.get([text_key("4")])[text_key("4")].tolist() == [4.0] * 4
    assert VectorStore(tmp_path, "model", 8).keys() == frozenset()  # other dimensions: ignored
