"""Answer quality: intent accuracy and FAQ top-1 for Evidence Desk and a plain BM25 baseline.

    python benchmarks/answer_quality.py [LABELS.jsonl ...] [--errors]

Defaults to ../shared/eval/dev.jsonl. Both systems run in the same process on the same KB, so
the ratio between them is what to read, not either figure alone. The baseline is what a
developer would build first: `rank_bm25` over each entry's title, questions and answer, answering
the best entry when any word overlaps and `unknown` when none does.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from rank_bm25 import BM25Okapi

from bot.config import Settings
from handlers.router import Router
from knowledge.models import KnowledgeBase
from knowledge.store import KnowledgeStore

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LABELS = ROOT.parent / "shared" / "eval" / "dev.jsonl"
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


def evaluate(router: Router, baseline: Bm25Baseline, cases: list[Case], show_errors: bool) -> None:
    ours: dict[str, Tally] = defaultdict(Tally)
    base: dict[str, Tally] = defaultdict(Tally)
    for case in cases:
        answer = router.answer(case.q)
        intent = str(answer.reply.intent)
        ok = ours[case.intent].add(case, intent, answer.reply.faq_id)
        ours["overall"].add(case, intent, answer.reply.faq_id)
        b_intent, b_faq = baseline.predict(case.q)
        base[case.intent].add(case, b_intent, b_faq)
        base["overall"].add(case, b_intent, b_faq)
        if show_errors and not ok:
            score = answer.classification.score if answer.classification else 0.0
            print(f"  MISS {case.intent}/{case.faq} -> {intent}/{answer.reply.faq_id} "
                  f"({score:.2f}) {[s.faq_id for s in answer.reply.suggestions]}: {case.q}")  # fmt: skip

    print(f"{'group':<16}{'n':>5}{'evidence-desk':>15}{'bm25':>10}{'difference':>12}")
    for group in (*INTENTS, "overall"):
        if group not in ours:
            continue
        o, b = ours[group], base[group]
        print(f"{group:<16}{o.total:>5}{o.intent_ok / o.total:>15.3f}{b.intent_ok / b.total:>10.3f}"
              f"{(o.intent_ok - b.intent_ok) / o.total:>+12.3f}")  # fmt: skip
    o, b = ours["overall"], base["overall"]
    if o.faq_total:
        print(f"{'faq top-1':<16}{o.faq_total:>5}{o.faq_ok / o.faq_total:>15.3f}"
              f"{b.faq_ok / b.faq_total:>10.3f}{(o.faq_ok - b.faq_ok) / o.faq_total:>+12.3f}")  # fmt: skip
    print(
        f"{'unknown as faq':<16}{ours['unknown'].total:>5}{o.unknown_as_faq:>15}{b.unknown_as_faq:>10}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("labels", nargs="*", type=Path, default=[DEFAULT_LABELS])
    parser.add_argument("--errors", action="store_true", help="list every miss")
    args = parser.parse_args()
    settings = Settings()
    store = KnowledgeStore.from_directory(settings.kb_dir)
    router = Router(store, settings)
    baseline = Bm25Baseline(store.current.kb)
    print(f"knowledge base {store.current.kb.version}: {len(store.current.kb.entries)} entries; "
          f"thresholds answer {settings.answer_threshold} suggest {settings.suggest_threshold}")  # fmt: skip
    for path in args.labels:
        cases = load_cases(path)
        print(f"\n{path} ({len(cases)} questions)")
        evaluate(router, baseline, cases, args.errors)


if __name__ == "__main__":
    main()
