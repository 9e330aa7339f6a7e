"""From what a clinician typed to the terms the matcher compares.

People type "athens pw", "lit serach" and "e-journals" in a hurry; the KB says "OpenAthens",
"password", "literature search". This module rewrites the reviewable synonyms, corrects typos
against the KB's own vocabulary, drops function words and stems, so both sides meet.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

import snowballstemmer
from rapidfuzz import fuzz, process

_TOKEN = re.compile(r"[a-z0-9]+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})

#: Words that carry no topic. Question words that do carry one ("where", "when", "who") are kept.
STOPWORDS = frozenset(
    """a about above after again all also am an and any anyone anybody are as at be been being
    but by can cannot could did do does doing done for from get got had has have having he her
    here hers him his i i'm im ive id if in into is it its it's just let lets me might more most
    must my myself need no nor not of off on once only or other our ours ourselves out own please
    pls plz really same shall she should so some someone somebody such than that the their theirs
    them then there these they this those through to too under until up us very was we were what
    whats which while whom why will with would you your yours yourself hi hello hey thanks thank
    ta cheers morning afternoon evening dear team guys all quick question q wondering wonder
    help tell know want wanted like way ok okay yes yeah hiya just still ever anything something
    one bit s t d ll re ve m""".split()
)
_STEMMER = snowballstemmer.stemmer("english")


def fold(text: str) -> str:
    """Lower-case ASCII with typographic quotes straightened, so curly and straight apostrophes meet."""
    if text.isascii():
        return text.replace("`", "'").lower()
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def _alternation(variants: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for all variants, longest first, matching whole words only."""
    escaped = [re.escape(v) for v in variants]
    if not escaped:
        return None
    return re.compile(r"(?<![A-Za-z0-9])(" + "|".join(escaped) + r")(?![A-Za-z0-9])")


class Normalizer:
    """Turns text into stemmed content terms, consistently for KB questions and user messages."""

    def __init__(self, synonyms: Mapping[str, Iterable[str]]) -> None:
        """Variants written with capitals ("ILL", "OA") match only as capitals, because in lower
        case they are ordinary words ("an ill child"); all other variants ignore case."""
        exact = sorted(
            ((v, fold(c)) for c, variants in synonyms.items() for v in variants if v != v.lower()),
            key=lambda pair: -len(pair[0]),
        )
        folded = sorted(
            (
                (fold(v), fold(c))
                for c, variants in synonyms.items()
                for v in variants
                if v == v.lower()
            ),
            key=lambda pair: -len(pair[0]),
        )
        self._exact = dict(exact)
        self._canonical = dict(folded)
        self._exact_re = _alternation(v for v, _ in exact)
        self._synonym_re = _alternation(v for v, _ in folded)
        self._vocabulary: list[str] = []
        self._known: frozenset[str] = frozenset()
        self._corrections: dict[str, str] = {}
        # The pure-Python stemmer costs ~70 µs a word; KB text repeats words endlessly.
        self._stems: dict[str, str] = {}

    def rewrite(self, text: str) -> str:
        """Folded text with every synonym variant replaced by its canonical form."""
        if self._exact_re is not None:
            text = self._exact_re.sub(lambda m: self._exact[m.group(1)], text)
        folded = fold(text)
        if self._synonym_re is None:
            return folded
        return self._synonym_re.sub(lambda m: self._canonical[m.group(1)], folded)

    def words(self, text: str) -> list[str]:
        """Content words, synonyms applied, before stemming (used for typo-correction vocabulary)."""
        return [
            w
            for w in _TOKEN.findall(self.rewrite(text).replace("'", ""))
            if w not in STOPWORDS and (len(w) > 1 or w.isdigit())
        ]

    def set_vocabulary(self, words: Iterable[str]) -> None:
        """Words the KB uses; unknown words in a message are corrected towards these."""
        self._known = frozenset(words)
        self._vocabulary = sorted(w for w in self._known if len(w) >= 4 and not w.isdigit())
        self._corrections = {}

    def correct(self, word: str) -> str:
        """The KB word this is probably a typo of, or the word itself.

        Short words and numbers are left alone: "ill" or "ward" corrected to a near neighbour
        would invent meaning.
        """
        if word in self._known or len(word) < 5 or word.isdigit() or not self._vocabulary:
            return word
        cached = self._corrections.get(word)
        if cached is not None:
            return cached
        best = process.extractOne(
            word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=84 if len(word) < 8 else 80
        )
        corrected = best[0] if best is not None else word
        if len(self._corrections) < 50_000:
            self._corrections[word] = corrected
        return corrected

    def terms(self, text: str, *, correct: bool = True) -> list[str]:
        """Stemmed content terms in order (order matters for bigrams)."""
        words = self.words(text)
        if correct:
            words = [self.correct(w) for w in words]
        return self.stem(words)

    def stem(self, words: Iterable[str]) -> list[str]:
        cache = self._stems
        stems = []
        for word in words:
            stem = cache.get(word)
            if stem is None:
                stem = _STEMMER.stemWord(word)
                if len(cache) < 200_000:
                    cache[word] = stem
            stems.append(stem)
        return stems
