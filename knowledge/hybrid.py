"""Lexical and semantic evidence together: the matcher the bot answers with.

Why both: on questions worded in ways the KB never saw, the TF-IDF views and sentence
embeddings each get about 0.92 of FAQs right, and they miss different ones. Words catch names
and abbreviations ("BNF", "Harvard", "HLISD") that an embedding blurs; an embedding catches a
paraphrase that shares no word with any phrasing ("my login keeps bouncing me back"). Fused,
they do better than either (docs/performance.md, "Answer quality").

The semantic view scores an entry by the best cosine similarity between the message and the
entry's title or any of its alternate questions; out-of-scope topics are embedded the same way,
so "where do I park" still finds the estates topic. How the two are fused was chosen by
measurement (see `Fusion`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge import embeddings
from knowledge.embeddings import Embedder
from knowledge.index import FaqIndex, FloatArray, Match, Target, top_indices
from knowledge.models import KnowledgeBase
from knowledge.normalize import Normalizer


@dataclass(frozen=True)
class Fusion:
    """How lexical and semantic scores become one.

    `rrf`: reciprocal-rank fusion picks the order (1/(k+rank) summed over both views), and
    each target keeps its confidence from `weighted` below, so the thresholds mean one thing.
    `weighted`: (1 - semantic_weight) * lexical + semantic_weight * g(cosine), where g maps
    cosine `floor`..`ceiling` onto 0..1; a cosine at or below `floor` (an unrelated sentence)
    adds nothing, so a question the KB does not cover stays below the answer threshold.
    """

    kind: str = "weighted"
    rrf_k: float = 60.0
    semantic_weight: float = 0.45
    floor: float = 0.3
    ceiling: float = 1.0

    def confidence(self, lexical: FloatArray, semantic: FloatArray) -> FloatArray:
        lifted = np.clip((semantic - self.floor) / (self.ceiling - self.floor), 0.0, 1.0)
        result: FloatArray = (1.0 - self.semantic_weight) * lexical + self.semantic_weight * lifted
        return result

    def order(
        self, lexical: FloatArray, semantic: FloatArray, confidence: FloatArray
    ) -> FloatArray:
        """A key to sort targets by, highest first."""
        if self.kind != "rrf":
            return confidence
        fused = np.zeros(len(lexical))
        for scores in (lexical, semantic):
            ranks = np.empty(len(scores))
            ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
            fused += 1.0 / (self.rrf_k + ranks)
        return fused


#: The fusion the bot uses; docs/performance.md has the measurements that chose it.
DEFAULT_FUSION = Fusion()


class SemanticIndex:
    """Each target's phrasings as unit vectors; a message scores each target by its best one."""

    def __init__(
        self, targets: Sequence[Target], phrasings: Sequence[Sequence[str]], embedder: Embedder
    ) -> None:
        texts: list[str] = []
        starts: list[int] = []
        for target, group in zip(targets, phrasings, strict=True):
            starts.append(len(texts))
            # A target always needs one row, or the per-target maximum would misalign.
            texts.extend(group or [target.id.replace("-", " ")])
        self._embedder = embedder
        self._vectors = embedder.encode(texts)
        self._starts = np.array(starts, dtype=np.int64)
        self.size = len(targets)

    def scores(self, text: str) -> FloatArray:
        return self.scores_many([text])[0]

    def scores_many(self, texts: Sequence[str]) -> list[FloatArray]:
        """One row of target scores a text; the texts are embedded in one batch."""
        if self.size == 0:
            return [np.zeros(0) for _ in texts]
        queries = self._embedder.encode_fresh(texts)
        similarities = self._vectors @ queries.T
        best = np.maximum.reduceat(similarities, self._starts, axis=0).astype(np.float64)
        return [best[:, i] for i in range(len(texts))]


class HybridIndex:
    """The lexical `FaqIndex` and a `SemanticIndex` over the same targets, fused.

    Same interface as `FaqIndex` (`search`, `normalizer`, `targets`), so the classifier does
    not know which one it has.
    """

    def __init__(
        self, kb: KnowledgeBase, embedder: Embedder, fusion: Fusion = DEFAULT_FUSION
    ) -> None:
        self.lexical = FaqIndex(kb)
        self.targets: list[Target] = self.lexical.targets
        self.normalizer: Normalizer = self.lexical.normalizer
        self.fusion = fusion
        phrasings = [[e.title, *e.questions] for e in kb.entries] + [
            list(t.questions) for t in kb.out_of_scope
        ]
        self.semantic = SemanticIndex(self.targets, phrasings, embedder)
        #: The matches of recently searched texts, under a keyed hash of the text (as the
        #: embedder keeps messages' vectors, and for the same reason: FAQs are asked again and
        #: again). An index is built per KB version, so a reload starts afresh.
        self._recent: OrderedDict[tuple[bytes, int], list[Match]] = OrderedDict()
        self._recent_key = secrets.token_bytes(32)
        self._lock = threading.Lock()

    def views(self, text: str) -> tuple[FloatArray, FloatArray] | None:
        """Lexical and semantic scores of every target; None for a message with no content."""
        lexical = self.lexical.scores(text)
        if lexical is None:
            return None
        return lexical, self.semantic.scores(text)

    def search(self, text: str, limit: int = 5) -> list[Match]:
        """The best targets, ordered by the fusion, each with its fused confidence (0 to 1)."""
        return self.search_many([text], limit)[0]

    def search_many(self, texts: Sequence[str], limit: int = 5) -> list[list[Match]]:
        """`search` for each text, with one embedding batch for all of them; a text searched
        recently gets the matches it got then, which are what searching again would give."""
        keys = [
            (hmac.digest(self._recent_key, text.encode(), hashlib.sha256), limit) for text in texts
        ]
        with self._lock:
            found = [self._recent.get(key) for key in keys]
        missing = [i for i, matches in enumerate(found) if matches is None]
        if missing:
            fresh = self._search_many([texts[i] for i in missing], limit)
            with self._lock:
                for i, matches in zip(missing, fresh, strict=True):
                    found[i] = matches
                    self._recent[keys[i]] = matches
                while len(self._recent) > embeddings.RECENT_LIMIT:
                    self._recent.popitem(last=False)
        with self._lock:
            for key in keys:
                if key in self._recent:
                    self._recent.move_to_end(key)
        return [list(matches or []) for matches in found]

    def recently_searched(self) -> int:
        """How many texts' matches are kept (for tests and diagnostics)."""
        return len(self._recent)

    def _search_many(self, texts: Sequence[str], limit: int) -> list[list[Match]]:
        lexical = [self.lexical.scores(text) for text in texts]
        wanted = [t for t, scores in zip(texts, lexical, strict=True) if scores is not None]
        semantic = iter(self.semantic.scores_many(wanted) if wanted else [])
        return [
            [] if scores is None else self._fuse(scores, next(semantic), limit)
            for scores in lexical
        ]

    def _fuse(self, lexical: FloatArray, semantic: FloatArray, limit: int) -> list[Match]:
        confidence = self.fusion.confidence(lexical, semantic)
        order = self.fusion.order(lexical, semantic, confidence)
        return [
            Match(self.targets[i], float(min(1.0, confidence[i])))
            for i in top_indices(order, limit)
        ]
