"""Answer speed: time per answer, index build time and peak memory, by KB size.

    python benchmarks/answer_speed.py [--queries N]

Runs each KB size in its own process so peak memory is that size's alone: the shipped KB, and
synthetic KBs of 1,000 and 10,000 entries made from the shipped entries' vocabulary (reworded
and recombined, so the index really holds that many distinct entries). The same questions are
also timed against `rank_bm25` over the same entries in the same process, as the baseline.
Each size runs with the lexical matcher and, for the sizes in `--hybrid-sizes`, with the hybrid
one (model load time and the model's resident memory reported). Targets: lexical p99 under 5 ms
at 1,000 entries and under 25 ms at 10,000; hybrid p99 under 25 ms at 1,000; build of 10,000
under 5 s; under 300 MB resident.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date

from rank_bm25 import BM25Okapi

from bot.config import Settings
from handlers.answers import Answerer
from knowledge import SHIPPED_KB_DIR
from knowledge.embeddings import load_embedder
from knowledge.models import FaqEntry, KnowledgeBase
from knowledge.store import KnowledgeStore

QUESTIONS = [
    "forgot my athens password",
    "how do I get an openathens account",
    "when is the library open at the weekend",
    "can you find papers on falls prevention in care homes by Friday",
    "Hi team, quick one - how do I renew my library books?",
    "is there critical appraisal training next month",
    "how do I book annual leave",
    "does early mobilisation reduce delirium in older inpatients?",
    "thanks!",
    "i cant get into the bmj from home with my athen login it keeps looping",
]


def synthetic_kb(base: KnowledgeBase, size: int, seed: int = 7) -> KnowledgeBase:
    """A KB of `size` entries shaped like a real one: each new entry rewords a shipped entry
    around its own subject (a named resource, service or place), keeping word order, so the
    vocabulary grows as a large real KB's would."""
    rng = random.Random(seed)
    syllables = [
        "med",
        "lib",
        "net",
        "care",
        "ora",
        "vita",
        "pro",
        "ex",
        "ana",
        "bio",
        "tel",
        "cor",
    ]
    entries: list[FaqEntry] = list(base.entries)
    while len(entries) < size:
        source = rng.choice(base.entries)
        n = len(entries)
        subject = "".join(rng.sample(syllables, 3)) + str(n)
        questions = []
        for question in source.questions:
            words = question.split()
            words.insert(rng.randrange(len(words) + 1), subject)
            questions.append(" ".join(words))
        entries.append(
            replace(
                source,
                id=f"{source.id}-{n}",
                title=f"{source.title}: {subject}",
                questions=tuple(questions),
                answer=f"{subject}: {source.answer}",
            )
        )
    return KnowledgeBase(tuple(entries), base.site, base.synonyms, base.out_of_scope)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def rss_mb() -> float:
    """Resident memory now (Linux), for the model's share of it."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def measure(size: int, rounds: int, matcher: str) -> dict[str, float]:
    settings = Settings(kb_reload_seconds=0)
    base = KnowledgeStore.from_directory(SHIPPED_KB_DIR, date.today()).current.kb
    kb = base if size == 0 else synthetic_kb(base, size)
    before_model = rss_mb()
    started = time.perf_counter()
    embedder = (
        load_embedder(settings.embedding_model, settings.cache_dir, settings.embedding_compute)
        if matcher == "hybrid"
        else None
    )
    model_load = time.perf_counter() - started
    model_mb = rss_mb() - before_model
    if matcher == "hybrid" and embedder is None:
        raise SystemExit("the embedding model could not be loaded")
    store = KnowledgeStore.from_directory(SHIPPED_KB_DIR, embedder=embedder)
    started = time.perf_counter()
    store.replace(kb)
    build = time.perf_counter() - started
    answerer = Answerer(store, settings)
    for q in QUESTIONS:
        answerer.answer(q)  # warm caches (typo corrections) as a running bot would have them
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the baseline
    ours: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for q in QUESTIONS:
            t = time.perf_counter()
            c = time.thread_time()
            answerer.answer(q)
            cpu.append(time.thread_time() - c)
            ours.append(time.perf_counter() - t)
    bm25_started = time.perf_counter()
    bm25 = BM25Okapi(
        [
            re.findall(r"[a-z0-9]+", " ".join([e.title, *e.questions, e.answer]).lower())
            for e in kb.entries
        ]
    )
    bm25_build = time.perf_counter() - bm25_started
    base_times: list[float] = []
    for _ in range(max(1, rounds // 5)):
        for q in QUESTIONS:
            t = time.perf_counter()
            scores = bm25.get_scores(re.findall(r"[a-z0-9]+", q.lower()))
            int(scores.argmax())
            base_times.append(time.perf_counter() - t)
    return {
        "entries": len(kb.entries),
        "model_load_s": model_load,
        "model_mb": model_mb,
        "build_s": build,
        "p50_ms": percentile(ours, 50) * 1000,
        "p99_ms": percentile(ours, 99) * 1000,
        # CPU time of the answering thread: what the answer costs without the other processes
        # of a shared machine (wall time includes waiting for a core).
        "cpu_p50_ms": percentile(cpu, 50) * 1000,
        "cpu_p99_ms": percentile(cpu, 99) * 1000,
        "bm25_build_s": bm25_build,
        "bm25_p50_ms": percentile(base_times, 50) * 1000,
        "bm25_p99_ms": percentile(base_times, 99) * 1000,
        "peak_rss_mb": peak_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=50, help="rounds over the question set")
    parser.add_argument(
        "--hybrid-sizes",
        default="0,1000",
        help="KB sizes to time with the hybrid matcher too (embedding 10,000 entries' ~170,000 "
        "phrasings takes many minutes on 2 cores)",
    )
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--matcher", default="lexical", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.size is not None:
        print(json.dumps(measure(args.size, args.queries, args.matcher)))
        return
    hybrid_sizes = {int(s) for s in args.hybrid_sizes.split(",") if s.strip()}
    rows = []
    for size in (0, 1000, 10000):
        for matcher in ("lexical", "hybrid"):
            if matcher == "hybrid" and size not in hybrid_sizes:
                continue
            out = subprocess.run(  # noqa: S603 - runs this same script
                [sys.executable, __file__, "--size", str(size), "--queries", str(args.queries),
                 "--matcher", matcher],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            rows.append({"matcher": matcher, **json.loads(out.stdout)})
    print(f"{'matcher':>8} {'entries':>8} {'model s':>8} {'model MB':>8} {'build s':>8} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'cpu p50':>8} {'cpu p99':>8} {'peak MB':>8} | "
          f"{'bm25 build':>10} {'bm25 p50':>9} {'bm25 p99':>9} {'p99 ratio':>9}")  # fmt: skip
    for r in rows:
        print(f"{r['matcher']:>8} {r['entries']:>8} {r['model_load_s']:>8.2f} {r['model_mb']:>8.0f} "
              f"{r['build_s']:>8.2f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
              f"{r['cpu_p50_ms']:>8.2f} {r['cpu_p99_ms']:>8.2f} "
              f"{r['peak_rss_mb']:>8.0f} | {r['bm25_build_s']:>10.3f} {r['bm25_p50_ms']:>9.2f} "
              f"{r['bm25_p99_ms']:>9.2f} {r['p99_ms'] / r['bm25_p99_ms']:>9.2f}")  # fmt: skip
    print(
        "targets: lexical p99 < 5 ms at 1,000 and < 25 ms at 10,000; hybrid p99 < 25 ms at "
        "1,000; build of 10,000 < 5 s; < 300 MB"
    )


if __name__ == "__main__":
    main()
