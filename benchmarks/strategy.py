"""Search-strategy starter: are the suggested MeSH headings the ones a specialist would choose?

    python benchmarks/strategy.py [benchmarks/data/strategy_requests.jsonl] [--show]

Each line of the labelled set is a realistic NHS search request (question, population, years)
with the MeSH headings a knowledge specialist would put in the strategy. Every heading the
starter suggests (all concepts, all candidates shown) is compared with those: precision is the
share of suggestions the specialist chose, recall the share of the specialist's headings
suggested (micro-averaged over all requests). The baseline, in the same run, is plain string
matching: every heading whose name, lower-cased, is a run of the question's words as written.
The set is split by line (odd lines "dev", even lines "holdout"): the matcher and its entry
terms were tuned looking at dev only, so holdout is the honest figure.
Targets: recall >= 0.7 with precision >= 0.6.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from handlers.strategy import build_starter
from knowledge.mesh import MeshVocabulary, load_mesh
from knowledge.normalize import fold

DEFAULT_SET = Path(__file__).resolve().parent / "data" / "strategy_requests.jsonl"
TODAY = date(2026, 12, 2)


@dataclass(frozen=True)
class Request:
    question: str
    population: str
    date_range: str
    expected: frozenset[str]  # heading uis
    split: str


def load(path: Path, vocabulary: MeshVocabulary) -> list[Request]:
    requests = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        row = json.loads(line)
        expected = set()
        for name in row["headings"]:
            heading = vocabulary.named(name)
            if heading is None:
                raise SystemExit(f"line {number + 1}: {name!r} is not a MeSH heading")
            expected.add(heading.ui)
        requests.append(
            Request(
                row["question"],
                row.get("population", ""),
                row.get("date_range", ""),
                frozenset(expected),
                "dev" if number % 2 == 0 else "holdout",
            )
        )
    return requests


def string_baseline(vocabulary: MeshVocabulary) -> Callable[[Request], set[str]]:
    """Headings whose lower-cased name is a run of the request's words, exactly."""
    names = {fold(h.name): h.ui for h in vocabulary.headings}

    def suggest(request: Request) -> set[str]:
        found = set()
        for text in (request.question, request.population):
            words = re.findall(r"[a-z0-9'-]+", fold(text))
            for n in range(1, 7):
                for i in range(len(words) - n + 1):
                    ui = names.get(" ".join(words[i : i + n]))
                    if ui is not None:
                        found.add(ui)
        return found

    return suggest


def starter(vocabulary: MeshVocabulary) -> Callable[[Request], set[str]]:
    def suggest(request: Request) -> set[str]:
        built = build_starter(
            vocabulary,
            request.question,
            population=request.population,
            date_range=request.date_range,
            today=TODAY,
        )
        return {h.ui for h in built.headings}

    return suggest


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    ms_per_request: float


def score(requests: Sequence[Request], suggest: Callable[[Request], set[str]]) -> Score:
    hits = suggested = expected = 0
    times = []
    for request in requests:
        start = time.perf_counter()
        found = suggest(request)
        times.append((time.perf_counter() - start) * 1000)
        hits += len(found & request.expected)
        suggested += len(found)
        expected += len(request.expected)
    return Score(
        hits / suggested if suggested else 0.0,
        hits / expected if expected else 0.0,
        statistics.median(times),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("labels", nargs="?", type=Path, default=DEFAULT_SET)
    parser.add_argument("--show", action="store_true", help="print misses and extras per request")
    args = parser.parse_args()
    start = time.perf_counter()
    vocabulary = load_mesh()
    loaded_ms = (time.perf_counter() - start) * 1000
    requests = load(args.labels, vocabulary)
    methods = {
        "string match (baseline)": string_baseline(vocabulary),
        "starter": starter(vocabulary),
    }
    print(f"MeSH descriptors: {len(vocabulary)}, loaded in {loaded_ms:.0f} ms (once a process)")
    print(f"requests: {len(requests)} ({sum(r.split == 'dev' for r in requests)} dev)")
    print()
    print("| set | method | precision | recall | F1 | median ms/request |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for split in ("dev", "holdout", "all"):
        chosen = [r for r in requests if split in ("all", r.split)]
        scores = {name: score(chosen, suggest) for name, suggest in methods.items()}
        for name, s in scores.items():
            f1 = (
                2 * s.precision * s.recall / (s.precision + s.recall)
                if s.precision + s.recall
                else 0
            )
            print(
                f"| {split} | {name} | {s.precision:.2f} | {s.recall:.2f} | {f1:.2f} "
                f"| {s.ms_per_request:.2f} |"
            )
        base, ours = scores["string match (baseline)"], scores["starter"]
        print(
            f"| {split} | starter / baseline | {ours.precision / max(base.precision, 1e-9):.2f}x "
            f"| {ours.recall / max(base.recall, 1e-9):.2f}x | | |"
        )
    if args.show:
        suggest = methods["starter"]
        for request in requests:
            found = suggest(request)
            missed = [vocabulary.by_ui[u].name for u in request.expected - found]
            extra = [vocabulary.by_ui[u].name for u in found - request.expected]
            if missed or extra:
                print(
                    f"\n[{request.split}] {request.question}\n  missed: {missed}\n  extra: {extra}"
                )


if __name__ == "__main__":
    main()
