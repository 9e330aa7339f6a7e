"""The FAQ matcher: a TF-IDF index over every phrasing of every entry, words and characters.

Why this technique: it runs on the CPU from PyPI packages alone, builds in well under a second
for thousands of entries, and answers in a fraction of a millisecond. Word terms (stems and
bigrams, IDF counted per entry so a word shared by many phrasings of one entry stays
distinctive) carry meaning; character n-grams catch the typos and word forms the typo corrector
misses. Each entry is scored by its best single phrasing and by all its phrasings together, so
a short message that matches one phrasing exactly and a long one that matches the entry's
vocabulary in general both score well. Words the KB has never seen count against a match, so
"where do I park" does not become a library answer because of one shared word.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from knowledge.models import KnowledgeBase
from knowledge.normalize import Normalizer

FloatArray = npt.NDArray[np.float64]

#: How much each view contributes to an entry's score (they sum to 1).
WEIGHT_BEST_PHRASING = 0.40
WEIGHT_WHOLE_ENTRY = 0.20
WEIGHT_CHARACTERS = 0.25
WEIGHT_ANSWER = 0.15
#: Words the KB has never seen weigh this share of the highest IDF in the query's length.
UNSEEN_WORD_WEIGHT = 0.8


@dataclass(frozen=True)
class Target:
    """Something a message can match: an FAQ entry, or an out-of-scope topic (`in_scope=False`)."""

    id: str
    in_scope: bool


@dataclass(frozen=True)
class Match:
    target: Target
    score: float


def _char_grams(term: str) -> list[str]:
    padded = f" {term} "
    return [padded[i : i + n] for n in (3, 4) for i in range(len(padded) - n + 1)]


def _word_features(terms: Sequence[str]) -> list[str]:
    return list(terms) + [f"{a} {b}" for a, b in itertools.pairwise(terms)]


class _Space:
    """One vector space (words or characters): vocabulary, IDF and row-normalised matrices."""

    def __init__(self, docs: list[list[str]], doc_target: list[int], n_targets: int) -> None:
        vocab: dict[str, int] = {}
        for features in docs:
            for f in features:
                vocab.setdefault(f, len(vocab))
        # Document frequency per *target*: all phrasings of one entry count once.
        target_sets: dict[int, set[int]] = {}
        for features, target in zip(docs, doc_target, strict=True):
            target_sets.setdefault(target, set()).update(vocab[f] for f in features)
        df = np.zeros(len(vocab))
        for ids in target_sets.values():
            df[list(ids)] += 1
        self.idf: FloatArray = np.log((n_targets + 1) / (df + 1)) + 1.0
        self.max_idf = float(math.log(n_targets + 1) + 1.0)
        self.vocab = vocab

    def _matrix(self, docs: list[list[str]]) -> sparse.csr_matrix:
        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        for features in docs:
            counts = Counter(self.vocab[f] for f in features if f in self.vocab)
            weights = {i: (1.0 + math.log(c)) * self.idf[i] for i, c in counts.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for i, w in weights.items():
                indices.append(i)
                data.append(w / norm)
            indptr.append(len(indices))
        matrix = sparse.csr_matrix(
            (np.array(data), np.array(indices, dtype=np.int64), np.array(indptr, dtype=np.int64)),
            shape=(len(docs), len(self.vocab)),
        )
        return matrix

    def transposed(self, docs: list[list[str]]) -> sparse.csr_matrix:
        """Feature-major matrix: a query reads only the rows of its own features."""
        return self._matrix(docs).T.tocsr()

    def query(self, features: list[str]) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """Known feature ids and their weights, normalised including the unseen features' weight."""
        counts = Counter(features)
        ids: list[int] = []
        weights: list[float] = []
        unseen = 0.0
        for f, c in counts.items():
            tf = 1.0 + math.log(c)
            i = self.vocab.get(f)
            if i is None:
                unseen += (tf * self.max_idf * UNSEEN_WORD_WEIGHT) ** 2
            else:
                ids.append(i)
                weights.append(tf * float(self.idf[i]))
        values = np.array(weights)
        norm = math.sqrt(float(values @ values) + unseen) or 1.0
        return np.array(ids, dtype=np.int64), values / norm


class FaqIndex:
    """Scores a message against every target; build once per KB version, query many times."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.normalizer = Normalizer(kb.synonyms)
        self.targets: list[Target] = [Target(e.id, True) for e in kb.entries] + [
            Target(t.id, False) for t in kb.out_of_scope
        ]
        phrasings: list[list[str]] = [[e.title, *e.questions] for e in kb.entries] + [
            list(t.questions) for t in kb.out_of_scope
        ]
        answer_texts = [f"{e.title} {e.answer}" for e in kb.entries] + [""] * len(kb.out_of_scope)
        self.normalizer.set_vocabulary(
            w
            for texts in [*phrasings, answer_texts]
            for text in texts
            for w in self.normalizer.words(text)
        )

        doc_terms: list[list[str]] = []
        doc_target: list[int] = []
        for target_index, texts in enumerate(phrasings):
            for text in texts:
                doc_terms.append(self.normalizer.terms(text, correct=False))
                doc_target.append(target_index)
        n = len(self.targets)
        word_docs = [_word_features(t) for t in doc_terms]
        char_docs = [[g for term in t for g in _char_grams(term)] for t in doc_terms]
        # The answer text names things people ask about but no phrasing mentions ("CASP",
        # "Vancouver", "fines"); it counts for less because it also says much that is not asked.
        answer_docs = [
            _word_features(self.normalizer.terms(t, correct=False)) for t in answer_texts
        ]
        self._words = _Space(word_docs + answer_docs, doc_target + list(range(n)), n)
        self._chars = _Space(char_docs, doc_target, n)
        bag_docs: list[list[str]] = [[] for _ in range(n)]
        for features, target in zip(word_docs, doc_target, strict=True):
            bag_docs[target].extend(features)
        self._words_t = self._words.transposed(word_docs)
        self._bag_t = self._words.transposed(bag_docs)
        self._answers_t = self._words.transposed(answer_docs)
        self._chars_t = self._chars.transposed(char_docs)
        # Phrasings are stored target by target, so each target's rows are one contiguous run.
        self._starts = np.searchsorted(np.array(doc_target), np.arange(n))
        self._doc_count = len(doc_terms)

    def _scores(
        self, transposed: sparse.csr_matrix, space: _Space, features: list[str], size: int
    ) -> FloatArray:
        ids, values = space.query(features)
        if ids.size == 0:
            return np.zeros(size)
        result: FloatArray = np.asarray(transposed[ids].T @ values).ravel()
        return result

    def search(self, text: str, limit: int = 5) -> list[Match]:
        """The best targets for a message, highest score first (scores between 0 and 1)."""
        terms = self.normalizer.terms(text)
        if not terms or not self.targets:
            return []
        words = _word_features(terms)
        chars = [g for term in terms for g in _char_grams(term)]
        best_phrasing = np.maximum.reduceat(
            self._scores(self._words_t, self._words, words, self._doc_count), self._starts
        )
        best_chars = np.maximum.reduceat(
            self._scores(self._chars_t, self._chars, chars, self._doc_count), self._starts
        )
        whole = self._scores(self._bag_t, self._words, words, len(self.targets))
        answers = self._scores(self._answers_t, self._words, words, len(self.targets))
        total = (
            WEIGHT_BEST_PHRASING * best_phrasing
            + WEIGHT_WHOLE_ENTRY * whole
            + WEIGHT_CHARACTERS * best_chars
            + WEIGHT_ANSWER * answers
        )
        limit = min(limit, len(self.targets))
        top = np.argpartition(-total, limit - 1)[:limit]
        ranked = sorted(top, key=lambda i: -total[i])
        return [Match(self.targets[i], float(min(1.0, total[i]))) for i in ranked]
