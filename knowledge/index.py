"""The FAQ matcher: a TF-IDF index over every phrasing of every entry.

Why this technique: it runs on the CPU from PyPI packages alone, indexes thousands of entries in
seconds and answers in about a millisecond. Terms are stems and bigrams after synonyms and typo
correction (see `normalize`); IDF is counted per entry, so a word shared by many phrasings of one
entry stays distinctive. Each entry is scored three ways: its best single phrasing (a short
message that matches one way of asking), all its phrasings together (a long message that uses the
entry's vocabulary in general) and its answer text (names people ask about that no phrasing
mentions). Words the KB has never seen count against a match, so "where can I park" does not
become a library answer because of one shared word.
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from knowledge.models import KnowledgeBase
from knowledge.normalize import Normalizer

FloatArray = npt.NDArray[np.float64]

#: How much each view contributes to an entry's score (they sum to 1).
WEIGHT_BEST_PHRASING = 0.15
WEIGHT_WHOLE_ENTRY = 0.30
WEIGHT_ANSWER = 0.22
WEIGHT_CHARACTERS = 0.33
#: Words the KB has never seen weigh this share of the highest IDF in the query's length.
UNSEEN_WORD_WEIGHT = 0.5


@dataclass(frozen=True)
class Target:
    """Something a message can match: an FAQ entry, or an out-of-scope topic (`in_scope=False`)."""

    id: str
    in_scope: bool


@dataclass(frozen=True)
class Match:
    target: Target
    score: float


def _char_grams(terms: Sequence[str]) -> list[str]:
    """Character 3-grams of each distinct term: "subscrib" and "subscript" share most of them."""
    grams: list[str] = []
    for term in set(terms):
        padded = f" {term} "
        grams.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def _word_features(terms: Sequence[str]) -> list[str]:
    return list(terms) + [f"{a} {b}" for a, b in itertools.pairwise(terms)]


class _Space:
    """A vector space: vocabulary, IDF, and the raw term counts of the documents it was built on.

    Everything is done with sparse matrices rather than Python loops over the non-zeros, so that
    10,000 entries index in seconds.
    """

    def __init__(
        self, docs: Iterable[Iterable[str]], doc_target: list[int], n_targets: int
    ) -> None:
        # One pass, feature ids into a flat machine-int array: the feature strings (bigrams
        # above all) are made one document at a time and dropped, which keeps a 10,000-entry
        # build within its memory budget.
        vocab: dict[str, int] = {}
        flat = array("q")
        lengths = array("q")
        for features in docs:
            start = len(flat)
            flat.extend(vocab.setdefault(f, len(vocab)) for f in features)
            lengths.append(len(flat) - start)
        self.vocab = vocab
        counts_per_doc = np.frombuffer(lengths, dtype=np.int64)
        n_docs = len(counts_per_doc)
        rows = np.repeat(np.arange(n_docs, dtype=np.int64), counts_per_doc)
        cols = np.frombuffer(flat, dtype=np.int64)
        ones = np.ones(len(rows), dtype=np.float32)
        self.counts: sparse.csr_matrix | None = sparse.csr_matrix(
            (ones, (rows, cols)), shape=(n_docs, len(vocab))
        )
        self.counts.sum_duplicates()
        # Document frequency per *target*: all phrasings of one entry count once.
        targets = np.asarray(doc_target, dtype=np.int64)[rows]
        presence = sparse.csr_matrix((ones, (targets, cols)), shape=(n_targets, len(vocab)))
        presence.sum_duplicates()
        df = np.bincount(presence.indices, minlength=len(vocab)).astype(np.float64)
        self.n_targets = n_targets
        self.idf: FloatArray = np.log((n_targets + 1) / (df + 1)) + 1.0
        self.max_idf = float(math.log(n_targets + 1) + 1.0)

    def set_document_frequency(self, counts: sparse.csr_matrix, n_targets: int) -> None:
        """IDF from a targets x features count matrix built elsewhere (characters)."""
        df = np.diff(sparse.csc_matrix(counts).indptr).astype(np.float64)
        self.n_targets = n_targets
        self.idf = np.log((n_targets + 1) / (df + 1)) + 1.0
        self.max_idf = float(math.log(n_targets + 1) + 1.0)

    def take_counts(self) -> sparse.csr_matrix:
        """The raw counts, once: the space keeps only vocabulary and IDF after the build."""
        counts, self.counts = self.counts, None
        assert counts is not None, "counts were already taken"  # noqa: S101
        return counts

    def weigh(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """Sublinear TF times IDF, each row scaled to unit length, returned feature-major so that
        a query reads only the rows of its own features."""
        weighted = sparse.csr_matrix(counts, copy=True)
        weighted.data = (1.0 + np.log(weighted.data)) * self.idf[weighted.indices]
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        result: sparse.csr_matrix = sparse.csr_matrix(
            sparse.diags(1.0 / norms) @ weighted
        ).T.tocsr()
        return result

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
        # Words (before stemming) are computed once: they feed both the typo corrector's
        # vocabulary and the index.
        phrasing_words = [[self.normalizer.words(text) for text in texts] for texts in phrasings]
        answer_words = [self.normalizer.words(text) for text in answer_texts]
        self.normalizer.set_vocabulary(
            {w for group in phrasing_words for ws in group for w in ws}.union(
                *(set(ws) for ws in answer_words)
            )
        )
        doc_terms: list[list[str]] = []
        doc_target: list[int] = []
        for target_index, group in enumerate(phrasing_words):
            for ws in group:
                doc_terms.append(self.normalizer.stem(ws))
                doc_target.append(target_index)
        n = len(self.targets)
        answer_terms = [self.normalizer.stem(ws) for ws in answer_words]
        del phrasing_words, answer_words
        # The answer text names things people ask about but no phrasing mentions ("CASP",
        # "Vancouver", "fines"); it counts for less because it also says much that is not asked.
        # Single words only: an answer's word pairs are prose, not the way people ask.
        self._words = _Space(
            itertools.chain((_word_features(t) for t in doc_terms), answer_terms),
            doc_target + list(range(n)),
            n,
        )
        del answer_terms
        counts = self._words.take_counts()
        phrasing_counts = counts[: len(doc_target)]
        answer_counts = counts[len(doc_target) :]
        del counts
        by_target = sparse.csr_matrix(
            (np.ones(len(doc_target)), (doc_target, np.arange(len(doc_target)))),
            shape=(n, len(doc_target)),
        )
        self._words_t = self._words.weigh(phrasing_counts)
        self._bag_t = self._words.weigh(sparse.csr_matrix(by_target @ phrasing_counts))
        self._answers_t = self._words.weigh(answer_counts)
        # Characters are indexed per entry, not per phrasing: it keeps the typo- and word-form
        # view to one row an entry, so 10,000 entries stay within the memory budget.
        # Entry x gram counts as (entry x distinct term) @ (term x gram): each distinct term is
        # cut into grams once, not once per entry that uses it.
        term_ids: dict[str, int] = {}
        entry_rows: list[int] = []
        entry_cols: list[int] = []
        for terms, target in zip(doc_terms, doc_target, strict=True):
            for term in terms:
                entry_rows.append(target)
                entry_cols.append(term_ids.setdefault(term, len(term_ids)))
        presence = sparse.csr_matrix(
            (np.ones(len(entry_rows), dtype=np.float32), (entry_rows, entry_cols)),
            shape=(n, len(term_ids)),
        )
        presence.sum_duplicates()
        presence.data[:] = 1.0
        self._chars = _Space(
            (_char_grams([t]) for t in term_ids), list(range(len(term_ids))), len(term_ids)
        )
        grams_of_terms = self._chars.take_counts()
        char_counts = sparse.csr_matrix(presence @ grams_of_terms)
        self._chars.set_document_frequency(char_counts, n)
        self._chars_t = self._chars.weigh(char_counts)
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
        total = self.scores(text)
        if total is None:
            return []
        return top_matches(self.targets, total, limit)

    def search_many(self, texts: Sequence[str], limit: int = 5) -> list[list[Match]]:
        """`search` for each text (the hybrid index batches these; here they are just a loop)."""
        return [self.search(text, limit) for text in texts]

    def scores(self, text: str) -> FloatArray | None:
        """Every target's score, in `targets` order; None when the message has no content word."""
        terms = self.normalizer.terms(text)
        if not terms or not self.targets:
            return None
        words = _word_features(terms)
        best_phrasing = np.maximum.reduceat(
            self._scores(self._words_t, self._words, words, self._doc_count), self._starts
        )
        whole = self._scores(self._bag_t, self._words, words, len(self.targets))
        answers = self._scores(self._answers_t, self._words, words, len(self.targets))
        chars = self._scores(self._chars_t, self._chars, _char_grams(terms), len(self.targets))
        total = (
            WEIGHT_BEST_PHRASING * best_phrasing
            + WEIGHT_WHOLE_ENTRY * whole
            + WEIGHT_ANSWER * answers
            + WEIGHT_CHARACTERS * chars
        )
        result: FloatArray = total
        return result


def top_indices(order: FloatArray, limit: int) -> list[int]:
    """Positions of the `limit` highest values, highest first."""
    limit = min(limit, len(order))
    if limit <= 0:
        return []
    top = np.argpartition(-order, limit - 1)[:limit]
    return sorted((int(i) for i in top), key=lambda i: -order[i])


def top_matches(targets: Sequence[Target], total: FloatArray, limit: int) -> list[Match]:
    """The `limit` best targets by score, highest first, scores capped at 1."""
    return [Match(targets[i], float(min(1.0, total[i]))) for i in top_indices(total, limit)]
