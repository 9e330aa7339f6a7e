"""A search-strategy starter: the request's concepts, candidate MeSH headings and a Boolean draft.

A knowledge specialist turns a clinician's question into a search by splitting it into its
parts (PICO: population, intervention, comparison, outcome; PEO: population, exposure, outcome
for questions about experiences), finding subject headings and free-text words for each, and
combining them. This module drafts that first step from the request as it was stored (already
privacy-redacted: it is never given the raw text), so the specialist starts from an editable
draft instead of a blank page. It is a suggestion for the specialist only: never shown to the
requester and never advice.

How concepts are found: the question's content words are matched, longest phrase first, against
MeSH heading names and the reviewable entry terms (knowledge/mesh.py), with the FAQ matcher's
normalisation, so "pulmonary hypertension" meets "Hypertension, Pulmonary" and "anaemia" meets
"Anemia". A phrase that is not a whole heading may still be most of one ("type 2 diabetes" in
"Diabetes Mellitus, Type 2"): those are offered with a lower confidence, at most three.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from knowledge.mesh import (
    BROWSER_URL,
    Heading,
    MeshVocabulary,
    content_words,
    load_mesh,
    uninverted,
    us_spelling,
)
from knowledge.normalize import fold

if TYPE_CHECKING:
    from bot.desk.tickets.views import TicketView

FORMAT_VERSION: Final = 1
MAX_HEADINGS: Final = 3
MAX_SYNONYMS: Final = 4
#: The longest phrase tried against heading names, in content words.
MAX_PHRASE: Final = 6
#: A partial match must cover at least this share of a heading's words.
MIN_PARTIAL: Final = 0.5

SLOT_LABELS: Final = {
    "P": "Population",
    "I": "Intervention",
    "C": "Comparison",
    "E": "Exposure",
    "O": "Outcome",
}
_ORDER: Final = {"P": 0, "I": 1, "E": 1, "C": 2, "O": 3}

#: Words that say the question is about experiences, views or feelings: PEO, not PICO.
_QUALITATIVE = re.compile(
    r"\b(experiences?|perceptions?|perspectives?|views|attitudes?|feelings?|feel|lived|"
    r"barriers|facilitators|qualitative|beliefs|understanding of)\b"
)
#: What comes after these is compared against: the comparison slot.
_COMPARISON = re.compile(r"\b(versus|vs\.?|compared (?:to|with)|rather than|instead of)\b")
#: What comes after these is what the intervention should change: the outcome slot.
_OUTCOME_CUE = re.compile(
    r"\b(reduces?|reducing|improves?|improving|prevents?|preventing|affects?|affecting|"
    r"impacts? on|effects? on|increases?|decreases?|lowers?|outcomes? (?:of|for|in|on)|"
    r"risk of|rates? of|incidence of|lead to|leads to|associated with|help with|helps? with)\b"
)
#: A concept straight after these words is usually who the question is about.
_POPULATION_CUE = re.compile(r"\b(in|among|amongst|for|with|of)\s*$")
_PUNCTUATION = re.compile(r"[.,;:?!()\[\]/\n]+")
_REDACTION = re.compile(r"\[[a-z ]+ removed\]")
_WORD = re.compile(r"[a-z0-9]+")

#: The words that frame a question rather than name a concept: never matched to a heading.
_FRAME: Final = frozenset(
    """reduce reduces reducing reduced reduction improve improves improving improved improvement
    prevent prevents preventing prevention effective effectiveness efficacy effect effects
    effectively safe safer safety better best worse good evidence impact impacts increase
    increases increased decrease decreases lower lowers lead leads predict predicts predicting
    associated association help helps helping support way ways use used using standard
    interventions intervention outcome outcomes needed need work works working compared
    versus vs rather instead equivalent general structured conversations whether benefit
    benefits role quick""".split()
)

#: Headings too general for a search, however often their word appears in a question.
_TOO_GENERAL: Final = frozenset(
    {
        "Patients",
        "Humans",
        "Persons",
        "Research",
        "Methods",
        "Time",
        "Role",
        "Evidence Gaps",
        "Publications",
        "Literature",
        "Knowledge",
        "Practice",
        "Review",
        "Set",
        "Hospitals",
        "Therapeutics",
        "Health",
        "Disease",
        "Work",
        "Control Groups",
        "Data",
        "Use",
        "Safety",
        "Weights and Measures",
        "Guidelines as Topic",
        "Evidence-Based Practice",
        "Evidence-Based Medicine",
    }
)


@dataclass(frozen=True)
class SuggestedHeading:
    ui: str
    name: str
    #: 0..1: 1.0 a heading's own name, 0.9 a listed entry term, less for part of a name.
    confidence: float

    @property
    def url(self) -> str:
        return BROWSER_URL + self.ui

    @property
    def confidence_label(self) -> str:
        if self.confidence >= 0.85:
            return "high"
        return "medium" if self.confidence >= 0.6 else "low"


@dataclass(frozen=True)
class Concept:
    """One idea in the question, in the requester's words, with its headings and synonyms."""

    phrase: str
    slot: str
    headings: tuple[SuggestedHeading, ...] = ()
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class StrategyStarter:
    """The draft: concepts in PICO/PEO slots, and the Boolean string that combines them."""

    framework: str
    concepts: tuple[Concept, ...]
    years: tuple[int, int] | None = None
    version: int = field(default=FORMAT_VERSION)

    @property
    def headings(self) -> tuple[SuggestedHeading, ...]:
        return tuple(h for c in self.concepts for h in c.headings)

    def boolean(self) -> str:
        """Headings OR synonyms within a concept, AND between concepts (comparisons are left
        out: ANDing them keeps only studies that name both), then the date limit."""
        blocks = []
        for concept in self.concepts:
            if concept.slot == "C":
                continue
            terms = [f'"{h.name}"[Mesh]' for h in concept.headings]
            terms += [f'"{s}"[tiab]' for s in concept.synonyms]
            if terms:
                blocks.append("(" + " OR ".join(terms) + ")")
        text = " AND ".join(blocks)
        if self.years is not None and text:
            text += f" AND {self.years[0]}:{self.years[1]}[dp]"
        return text

    def to_text(self) -> str:
        """Plain text, the same on every platform and in `tickets show`: easy to copy."""
        lines = [
            "Search strategy starter: a machine-made draft for the knowledge specialist. "
            "Check and edit before searching; it is not advice and the requester does not see it.",
            f"Framework: {self.framework}",
        ]
        if not self.concepts:
            lines.append("No concepts recognised in the question: start from its words.")
        for concept in self.concepts:
            lines.append(f"{concept.slot} ({SLOT_LABELS[concept.slot]}): {concept.phrase}")
            for h in concept.headings:
                # The id only inside the link: bare, "D000058" has a hospital number's shape.
                lines.append(f"  MeSH: {h.name} ({h.confidence_label}) {h.url}")
            if concept.synonyms:
                lines.append("  Free text: " + "; ".join(concept.synonyms))
        if self.years is not None:
            lines.append(f"Years: {self.years[0]} to {self.years[1]}")
        boolean = self.boolean()
        if boolean:
            lines += ["Boolean (PubMed syntax):", boolean]
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> StrategyStarter:
        data: dict[str, Any] = json.loads(text)
        years = data.get("years")
        return cls(
            framework=str(data["framework"]),
            concepts=tuple(
                Concept(
                    phrase=str(c["phrase"]),
                    slot=str(c["slot"]),
                    headings=tuple(
                        SuggestedHeading(str(h["ui"]), str(h["name"]), float(h["confidence"]))
                        for h in c["headings"]
                    ),
                    synonyms=tuple(str(s) for s in c["synonyms"]),
                )
                for c in data["concepts"]
            ),
            years=(int(years[0]), int(years[1])) if years else None,
            version=int(data.get("version", FORMAT_VERSION)),
        )


# ---- finding concepts ---------------------------------------------------------------------


@dataclass
class _Token:
    word: str  # folded, as written (for the phrase)
    stem: str
    start: int  # in the segment's text
    end: int


@dataclass
class _Match:
    first: int
    last: int  # inclusive token indexes
    headings: list[SuggestedHeading]
    start: int  # character offsets in the segment
    end: int


def _tokens(text: str, vocabulary: MeshVocabulary) -> list[_Token]:
    """Content words with their places; stop words are skipped, so "length of stay" is one
    phrase, as the heading's name is."""
    tokens = [
        _Token(m.group(0), "", m.start(), m.end())
        for m in _WORD.finditer(text)
        if content_words(m.group(0))
    ]
    stems = vocabulary.stems([us_spelling(t.word) for t in tokens])
    for token, stem in zip(tokens, stems, strict=True):
        token.stem = stem
    return tokens


def _whole(
    key: tuple[str, ...], vocabulary: MeshVocabulary, phrase: str = ""
) -> list[SuggestedHeading]:
    """Headings whose name, or a listed entry term, is exactly these words. When one heading's
    name is the phrase as written ("nurses": Nurses), the others that merely share its stems
    (Nursing) are left out."""
    found: list[SuggestedHeading] = []
    for heading in vocabulary.exact.get(key, ()):
        if heading.name not in _TOO_GENERAL:
            found.append(SuggestedHeading(heading.ui, heading.name, 1.0))
    for heading in vocabulary.entries.get(key, ()):
        if all(f.ui != heading.ui for f in found):
            found.append(SuggestedHeading(heading.ui, heading.name, 0.9))
    written = _plain(phrase)
    same = [f for f in found if written and _plain(f.name) == written]
    return (same or found)[:MAX_HEADINGS]


def _plain(text: str) -> str:
    """Folded, US-spelt words without a plural s: "Nurses" and "nurse" are the same."""
    return " ".join(us_spelling(w).removesuffix("s") for w in content_words(text))


def _partial(
    key: tuple[str, ...], vocabulary: MeshVocabulary, phrase: str = ""
) -> list[SuggestedHeading]:
    """Headings these words are most of ("type 2 diabetes" in "Diabetes Mellitus, Type 2");
    none when too many headings are equally close (the words then say too little)."""
    wanted = set(key)
    pools = [vocabulary.containing.get(stem, []) for stem in key]
    if not pools or any(not pool for pool in pools):
        return []
    smallest = min(pools, key=len)
    scored: dict[str, tuple[float, Heading]] = {}
    for heading, size in smallest:
        if size <= len(wanted) or heading.name in _TOO_GENERAL:
            continue
        share = len(wanted) / size
        if share < MIN_PARTIAL:
            continue
        if not wanted <= set(vocabulary.key(heading.name)):
            continue
        scored[heading.ui] = (share, heading)
    if not scored:
        return []
    best = max(share for share, _ in scored.values())
    top = sorted(
        (item for item in scored.values() if item[0] >= best - 1e-9),
        key=lambda item: (len(item[1].name), item[1].name),
    )
    if len(top) > MAX_HEADINGS:
        return []
    return [SuggestedHeading(h.ui, h.name, round(0.8 * share, 2)) for share, h in top]


def _matches(tokens: Sequence[_Token], vocabulary: MeshVocabulary) -> list[_Match]:
    """Longest phrases first; at each length a whole heading or entry term, else (two words or
    more) most of a heading's name. Phrases made only of frame words are never matched."""
    covered = [False] * len(tokens)
    found: list[_Match] = []
    for length in range(min(MAX_PHRASE, len(tokens)), 0, -1):
        finders = (_whole, _partial) if length > 1 else (_whole,)
        for finder in finders:
            for first in range(len(tokens) - length + 1):
                last = first + length - 1
                span = tokens[first : last + 1]
                if any(covered[first : last + 1]) or all(t.word in _FRAME for t in span):
                    continue
                phrase = " ".join(t.word for t in span)
                headings = finder(tuple(sorted({t.stem for t in span})), vocabulary, phrase)
                if headings:
                    found.append(_Match(first, last, headings, span[0].start, span[-1].end))
                    for i in range(first, last + 1):
                        covered[i] = True
    return sorted(found, key=lambda m: m.first)


def _synonyms(
    phrase: str, headings: Iterable[SuggestedHeading], vocabulary: MeshVocabulary
) -> tuple[str, ...]:
    """The requester's words, then each heading's name as people write it, then its entry
    terms: distinct by their stems, at most MAX_SYNONYMS."""
    seen: set[tuple[str, ...]] = set()
    chosen: list[str] = []
    candidates = [phrase]
    for h in headings:
        name = uninverted(h.name)
        if ", " not in name:
            candidates.append(name.lower())
        candidates += vocabulary.synonyms.get(h.ui, [])
    for candidate in candidates:
        key = vocabulary.key(candidate)
        if not key or key in seen or len(candidate) < 3:
            continue
        seen.add(key)
        chosen.append(candidate)
        if len(chosen) == MAX_SYNONYMS:
            break
    return tuple(chosen)


_COMPARISON_END = re.compile(r"\b(for|in|among|amongst|on|to|at|after|before|during)\b")


def _compared(segment: str, cue: re.Match[str] | None, start: int) -> bool:
    """Whether a concept at `start` is what the question compares against: after "versus"
    and before the next preposition ("paracetamol versus ibuprofen for fever")."""
    if cue is None or start < cue.end():
        return False
    end = _COMPARISON_END.search(segment, cue.end())
    return end is None or start < end.start()


def _slot(
    match: _Match,
    segment: str,
    *,
    comparison: bool,
    after_outcome_cue: bool,
    qualitative: bool,
    vocabulary: MeshVocabulary,
) -> str:
    usual = {vocabulary.usual_slot.get(h.ui) for h in match.headings[:1]}
    if comparison:
        return "C"
    if "population" in usual:
        return "P"
    if after_outcome_cue or "outcome" in usual:
        return "O"
    if _POPULATION_CUE.search(segment[: match.start]):
        return "P"
    return "E" if qualitative else "I"


def _concepts_in(
    text: str, vocabulary: MeshVocabulary, *, qualitative: bool, population_field: bool
) -> list[Concept]:
    concepts: list[Concept] = []
    text = _REDACTION.sub(" . ", fold(text).replace("'", ""))
    for segment in _PUNCTUATION.split(text):
        comparison_at = _COMPARISON.search(segment)
        outcome_at = _OUTCOME_CUE.search(segment)
        tokens = _tokens(segment, vocabulary)
        for match in _matches(tokens, vocabulary):
            phrase = segment[match.start : match.end]
            if population_field:
                slot = "P"
            else:
                slot = _slot(
                    match,
                    segment,
                    comparison=_compared(segment, comparison_at, match.start),
                    after_outcome_cue=outcome_at is not None and match.start >= outcome_at.end(),
                    qualitative=qualitative,
                    vocabulary=vocabulary,
                )
            concepts.append(
                Concept(
                    phrase=phrase,
                    slot=slot,
                    headings=tuple(match.headings),
                    synonyms=_synonyms(phrase, match.headings, vocabulary),
                )
            )
    return concepts


# ---- years --------------------------------------------------------------------------------

_YEAR_SPAN = re.compile(r"\b((?:19|20)\d\d)\s*(?:-|\u2013|to|until|and)\s*((?:19|20)\d\d)\b")
_SINCE = re.compile(
    r"\b(?:since|from|after)\s+((?:19|20)\d\d)\b|\b((?:19|20)\d\d)\s*(?:onwards|\+|-\s*$|to date|to present)"
)
_LAST = re.compile(r"\b(?:last|past|previous)\s+(\d{1,2}|one|two|three|five|ten|twenty)\s+years?\b")
_NUMBERS: Final = {"one": 1, "two": 2, "three": 3, "five": 5, "ten": 10, "twenty": 20}
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")


def years_from(text: str | None, today: date) -> tuple[int, int] | None:
    """The form's "Years" answer as a publication-date range: "2015-2024", "since 2018",
    "last 5 years" (counted back from today, this year included), or one year."""
    if not text:
        return None
    folded = fold(text)
    if m := _YEAR_SPAN.search(folded):
        first, last = sorted((int(m.group(1)), int(m.group(2))))
        return first, last
    if m := _SINCE.search(folded):
        return int(m.group(1) or m.group(2)), today.year
    if m := _LAST.search(folded):
        count = _NUMBERS.get(m.group(1)) or int(m.group(1))
        return today.year - count + 1, today.year
    years = [int(y) for y in _YEAR.findall(folded)]
    if len(years) == 1:
        return years[0], today.year
    return None


# ---- the starter --------------------------------------------------------------------------


def build_starter(
    vocabulary: MeshVocabulary,
    question: str,
    *,
    population: str | None = None,
    date_range: str | None = None,
    today: date,
) -> StrategyStarter:
    """The draft for a stored (redacted) request. Concepts named twice (in the question and in
    the population answer) are kept once, in the slot the population answer gives them."""
    qualitative = bool(_QUALITATIVE.search(fold(question)))
    found = _concepts_in(
        population or "", vocabulary, qualitative=qualitative, population_field=True
    )
    found += _concepts_in(question, vocabulary, qualitative=qualitative, population_field=False)
    concepts: list[Concept] = []
    seen: set[str] = set()
    for concept in found:
        uis = {h.ui for h in concept.headings}
        if uis and uis <= seen:
            continue
        seen |= uis
        concepts.append(concept)
    concepts.sort(key=lambda c: _ORDER[c.slot])  # stable: the question's order within a slot
    return StrategyStarter(
        framework="PEO" if qualitative else "PICO",
        concepts=tuple(concepts),
        years=years_from(date_range, today),
    )


def from_ticket(ticket: TicketView) -> StrategyStarter:
    """The starter for a ticket as stored (its text already redacted), with the installed MeSH."""
    return build_starter(
        load_mesh(),
        ticket.question,
        population=ticket.population,
        date_range=ticket.date_range,
        today=ticket.created_at.date(),
    )
