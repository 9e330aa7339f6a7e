"""Answer quality: intent accuracy and FAQ top-1 for four matchers on the same KB, in one run.

    python benchmarks/answer_quality.py [LABELS.jsonl ...] [--errors] [--fusion rrf ...]

Defaults to every labelled set: ../shared/eval/dev.jsonl and benchmarks/data/holdout*.jsonl.
The matchers: `lexical` (the bot's TF-IDF views and rules, as without a model), `bm25` (what a
developer would build first: `rank_bm25` over each entry's title, questions and answer,
answering the best entry when any word overlaps and `unknown` when none does), `embeddings`
alone (nearest title or question by all-MiniLM-L6-v2) and `hybrid` (the bot as it runs: both
fused, with the rules). They run in the same process on the same KB, so the differences between
them are what to read. `--fusion`, `--semantic-weight`, `--floor`, `--ceiling`, `--rrf-k` and
the thresholds try other settings for the hybrid (docs/performance.md has how they were chosen).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rank_bm25 import BM25Okapi

from bot.config import Settings
from handlers.answers import Answerer
from knowledge.embeddings import Embedder, load_embedder
from knowledge.hybrid import DEFAULT_FUSION, Fusion, HybridIndex, SemanticIndex
from knowledge.index import Target
from knowledge.models import KnowledgeBase
from knowledge.store import KnowledgeSnapshot, KnowledgeStore

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
#: Every labelled set: the shared dev sample and the three held-out sets.
DEFAULT_LABELS = [
    ROOT.parent / "shared" / "eval" / "dev.jsonl",
    DATA / "holdout.jsonl",
    DATA / "holdout_b.jsonl",
    DATA / "holdout_c.jsonl",
]
INTENTS = ("faq", "search_request", "smalltalk", "unknown", "urgent")


@dataclass(frozen=True)
class Case:
    q: str
    intent: str
    faq: str | None
    alt: tuple[str, ...]
    alt_intent: tuple[str, ...]


def load_cases(path: Path) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            cases.append(
                Case(d["q"], d["intent"], d.get("faq"), tuple(d.get("alt") or ()),
                     tuple(d.get("alt_intent") or ()))
            )  # fmt: skip
    return cases


class Bm25Baseline:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.ids = [e.id for e in kb.entries]
        docs = [" ".join([e.title, *e.questions, e.answer]) for e in kb.entries]
        self.bm25 = BM25Okapi([self._tokens(d) for d in docs])

    @staticmethod
    def _tokens(text: str) -> list[str]:
        return re.findall(r"[a-z0-9]+", text.lower())

    def predict(self, text: str) -> tuple[str, str | None]:
        scores = self.bm25.get_scores(self._tokens(text))
        best = max(range(len(scores)), key=lambda i: scores[i])
        if scores[best] <= 0:
            return "unknown", None
        return "faq", self.ids[best]


@dataclass
class Tally:
    total: int = 0
    intent_ok: int = 0
    faq_total: int = 0
    faq_ok: int = 0
    unknown_as_faq: int = 0

    def add(self, case: Case, intent: str, faq_id: str | None) -> bool:
        self.total += 1
        intent_right = intent == case.intent or intent in case.alt_intent
        right = intent_right
        if case.intent == "faq":
            self.faq_total += 1
            faq_right = intent == "faq" and faq_id in (case.faq, *case.alt)
            self.faq_ok += faq_right
            right = faq_right or (intent_right and intent != "faq")
        if case.intent == "unknown" and intent == "faq":
            self.unknown_as_faq += 1
        self.intent_ok += right
        return right


Predictor = Callable[[str], tuple[str, str | None, float, list[str]]]


def answerer_predictor(answerer: Answerer) -> Predictor:
    def predict(text: str) -> tuple[str, str | None, float, list[str]]:
        answer = answerer.answer(text)
        score = answer.classification.score if answer.classification else 0.0
        suggestions = [s.faq_id for s in answer.reply.suggestions]
        return str(answer.reply.intent), answer.reply.faq_id, score, suggestions

    return predict


class EmbeddingBaseline:
    """Embeddings alone, as plainly as BM25 above: the entry (or out-of-scope topic) whose title
    or question is nearest the message; an out-of-scope topic nearest means `unknown`."""

    def __init__(self, kb: KnowledgeBase, embedder: Embedder) -> None:
        self.targets = [(e.id, True) for e in kb.entries] + [(t.id, False) for t in kb.out_of_scope]
        phrasings = [[e.title, *e.questions] for e in kb.entries] + [
            list(t.questions) for t in kb.out_of_scope
        ]
        self.index = SemanticIndex([Target(i, s) for i, s in self.targets], phrasings, embedder)

    def predict(self, text: str) -> tuple[str, str | None]:
        scores = self.index.scores(text)
        target_id, in_scope = self.targets[int(scores.argmax())]
        return ("faq", target_id) if in_scope else ("unknown", None)


def evaluate(
    systems: dict[str, Predictor], cases: list[Case], show_errors: bool
) -> dict[str, float]:
    tallies: dict[str, dict[str, Tally]] = {name: defaultdict(Tally) for name in systems}
    for case in cases:
        for name, predict in systems.items():
            intent, faq_id, score, suggestions = predict(case.q)
            ok = tallies[name][case.intent].add(case, intent, faq_id)
            tallies[name]["overall"].add(case, intent, faq_id)
            if show_errors and not ok and name == ERRORS_OF:
                print(f"  MISS {case.intent}/{case.faq} -> {intent}/{faq_id} "
                      f"({score:.2f}) {suggestions}: {case.q}")  # fmt: skip
    names = list(systems)
    print(f"{'group':<16}{'n':>5}" + "".join(f"{n:>13}" for n in names))
    for group in (*INTENTS, "overall"):
        first = tallies[names[0]]
        if group not in first:
            continue
        row = "".join(
            f"{tallies[n][group].intent_ok / tallies[n][group].total:>13.3f}" for n in names
        )
        print(f"{group:<16}{first[group].total:>5}{row}")
    overall = {n: tallies[n]["overall"] for n in names}
    top1: dict[str, float] = {}
    if overall[names[0]].faq_total:
        top1 = {n: o.faq_ok / o.faq_total for n, o in overall.items()}
        row = "".join(f"{top1[n]:>13.3f}" for n in names)
        print(f"{'faq top-1':<16}{overall[names[0]].faq_total:>5}{row}")
    row = "".join(f"{overall[n].unknown_as_faq:>13}" for n in names)
    print(f"{'unknown as faq':<16}{tallies[names[0]]['unknown'].total:>5}{row}")
    return top1


#: Whose misses `--errors` lists.
ERRORS_OF = "hybrid"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("labels", nargs="*", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--errors", action="store_true", help="list every miss of the hybrid")
    parser.add_argument("--fusion", choices=("rrf", "weighted"), default=DEFAULT_FUSION.kind)
    parser.add_argument("--semantic-weight", type=float, default=DEFAULT_FUSION.semantic_weight)
    parser.add_argument("--floor", type=float, default=DEFAULT_FUSION.floor)
    parser.add_argument("--ceiling", type=float, default=DEFAULT_FUSION.ceiling)
    parser.add_argument("--rrf-k", type=float, default=DEFAULT_FUSION.rrf_k)
    parser.add_argument("--answer-threshold", type=float)
    parser.add_argument("--suggest-threshold", type=float)
    args = parser.parse_args()
    overrides = {
        k: v
        for k, v in (("answer_threshold", args.answer_threshold),
                     ("suggest_threshold", args.suggest_threshold))
        if v is not None
    }  # fmt: skip
    settings = Settings(**overrides)  # type: ignore[arg-type]
    lexical_settings = Settings()
    embedder = load_embedder(
        settings.embedding_model, settings.cache_dir, settings.embedding_compute
    )
    if embedder is None:
        raise SystemExit("the embedding model could not be loaded (see the warning above)")
    fusion = Fusion(args.fusion, args.rrf_k, args.semantic_weight, args.floor, args.ceiling)
    lexical_store = KnowledgeStore.from_directory(settings.kb_dir)
    kb = lexical_store.current.kb
    hybrid_store = KnowledgeStore(
        KnowledgeSnapshot(kb, HybridIndex(kb, embedder, fusion)), embedder=embedder
    )
    bm25 = Bm25Baseline(kb)
    embeddings = EmbeddingBaseline(kb, embedder)
    systems: dict[str, Predictor] = {
        "lexical": answerer_predictor(Answerer(lexical_store, lexical_settings)),
        "bm25": lambda q: (*bm25.predict(q), 0.0, []),
        "embeddings": lambda q: (*embeddings.predict(q), 0.0, []),
        "hybrid": answerer_predictor(Answerer(hybrid_store, settings)),
    }
    print(f"knowledge base {kb.version}: {len(kb.entries)} entries; {fusion}; thresholds "
          f"lexical {lexical_settings.answer_threshold}/{lexical_settings.suggest_threshold}, "
          f"hybrid {settings.answer_threshold}/{settings.suggest_threshold}")  # fmt: skip
    for path in args.labels:
        if not path.is_file():
            print(f"\n{path}: not found, skipped")
            continue
        cases = load_cases(path)
        print(f"\n{path} ({len(cases)} questions)")
        evaluate(systems, cases, args.errors)


if __name__ == "__main__":
    main()
