"""Messages answered together are embedded together first (`Answerer.prepare`, called by the
inbox in a worker thread), and messages' vectors are remembered for a while: neither may change
an answer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from handlers.answers import Answerer
from knowledge import SHIPPED_KB_DIR
from knowledge import embeddings as embeddings_module
from knowledge.embeddings import Embedder, ModelFiles
from knowledge.hybrid import HybridIndex
from knowledge.store import KnowledgeStore
from tests.conftest import TODAY

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"
#: FAQ questions worded as people word them, two of them with a preamble (several sentences).
FAQ_QUESTIONS = [
    "forgot my athens password",
    "library opening hours",
    "how do I renew my books",
    "Hi there. I'm new on the ward - how do I join the library?",
    "I have a presentation next week. Can I get an article the library doesn't have?",
]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    """A model of this module's own, so what it remembers is this module's doing; the KB's
    vectors it reads from the run's cache directory (they are the same model's)."""
    return Embedder(ModelFiles.resolve("packaged"), cache_dir=Settings().cache_dir)


@pytest.fixture(scope="module")
def router(embedder: Embedder) -> Answerer:
    store = KnowledgeStore.from_directory(SHIPPED_KB_DIR, embedder=embedder)
    return Answerer(store, Settings(kb_dir=SHIPPED_KB_DIR), today=lambda: TODAY)


def questions() -> list[str]:
    """Every question of the blind set: FAQs, requests, clinical and unknown ones."""
    lines = (DATA / "holdout_c.jsonl").read_text().splitlines()
    return [json.loads(line)["q"] for line in lines if line.strip()]


def verdicts(router: Answerer, texts: list[str]) -> list[tuple[object, ...]]:
    out = []
    for text in texts:
        answer = router.answer(text)
        result = answer.classification
        assert result is not None
        out.append(
            (
                result.intent,
                result.faq_id,
                round(result.score, 5),
                result.suggestions,
                result.topic,
                answer.reply.text,
            )
        )
    return out


def forget(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch, router: Answerer | None = None
) -> None:
    """Start with nothing remembered, no vector and (with the router) no search's matches: a
    limit of 0 drops everything at the next embedding or search."""
    with monkeypatch.context() as patch:
        patch.setattr(embeddings_module, "RECENT_LIMIT", 0)
        embedder.encode_fresh(["nothing"])
        if router is not None:
            index = router.store.current.index
            assert isinstance(index, HybridIndex)
            index.search("nothing")
            assert index.recently_searched() == 0
    assert embedder.recently_embedded() == 0


def test_a_batch_gives_each_text_the_vector_it_gets_alone(embedder: Embedder) -> None:
    texts = questions()[:24]
    together = embedder._run(texts)
    alone = np.stack([embedder._run([text])[0] for text in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_prepared_messages_get_the_answers_they_get_alone(
    router: Answerer, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = questions()
    alone = []
    for text in texts:
        forget(embedder, monkeypatch, router)
        alone.extend(verdicts(router, [text]))
    forget(embedder, monkeypatch, router)
    router.prepare(texts)
    assert verdicts(router, texts) == alone


def test_answering_prepared_faq_questions_runs_the_model_no_more(
    router: Answerer, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    forget(embedder, monkeypatch, router)
    router.prepare(FAQ_QUESTIONS)
    prepared = embedder.recently_embedded()
    assert prepared >= len(FAQ_QUESTIONS)
    verdicts(router, FAQ_QUESTIONS)
    assert embedder.recently_embedded() == prepared


def test_a_question_asked_again_is_not_embedded_again(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    forget(embedder, monkeypatch)
    first = embedder.encode_one("where can I print a poster")
    again = embedder.encode_fresh(["where can I print a poster", "where can I print a poster"])
    assert embedder.recently_embedded() == 1
    np.testing.assert_array_equal(again, np.stack([first, first]))


def test_only_the_most_recent_messages_are_remembered_and_not_as_text(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    forget(embedder, monkeypatch)
    monkeypatch.setattr(embeddings_module, "RECENT_LIMIT", 3)
    texts = [f"question number {word}" for word in ("one", "two", "three", "four", "five")]
    embedder.encode_fresh(texts)
    assert embedder.recently_embedded() == 3
    kept = list(embedder._recent)
    assert all(text.encode() not in key for key in kept for text in texts)


def test_a_text_searched_again_gets_the_matches_it_got_then(router: Answerer) -> None:
    index = router.store.current.index
    assert isinstance(index, HybridIndex)
    texts = questions()[:20]
    first = [index.search(text, limit=6) for text in texts]
    kept = index.recently_searched()
    again = index.search_many(texts, limit=6)
    assert again == first
    assert index.recently_searched() == kept


def test_remembered_matches_are_the_ones_a_fresh_index_finds(router: Answerer) -> None:
    index = router.store.current.index
    assert isinstance(index, HybridIndex)
    texts = questions()[:20]
    index.search_many(texts, limit=6)
    fresh = HybridIndex(router.store.current.kb, index.semantic._embedder)
    assert fresh.recently_searched() == 0
    remembered = index.search_many(texts, limit=6)
    for text, again in zip(texts, remembered, strict=True):
        found = fresh.search(text, limit=6)
        # The same entries in the same order; scores equal but for the float noise of a
        # vector computed in a batch (padded) rather than alone.
        assert [m.target for m in found] == [m.target for m in again], text
        np.testing.assert_allclose([m.score for m in found], [m.score for m in again], atol=1e-4)
