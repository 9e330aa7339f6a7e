"""Listening mode on a realistic channel transcript: how often the bot speaks unasked, how often
it was right to, and how often it interrupted ordinary conversation.

    python benchmarks/listening.py [TRANSCRIPT.jsonl] [--errors]

Default transcript: benchmarks/data/channel_transcript.jsonl (questions mixed with handovers,
rota talk, jokes, thanks and clinical chatter; each line labelled `speak`). The baseline, in the
same run, is the same bot speaking whenever it would answer if asked (the ordinary threshold):
the ratio shows what the stricter "unasked" rules buy.
Targets: interrupts in under 1% of ordinary messages; catches at least 80% of FAQs and search
requests.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.config import Settings
from bot.messages import Intent
from handlers.answers import Answerer
from handlers.listening import Listener
from knowledge.embeddings import load_embedder
from knowledge.store import KnowledgeStore

DEFAULT = Path(__file__).resolve().parent / "data" / "channel_transcript.jsonl"


class _NoStore:
    """Listener.verdict needs no storage; this stands in for it in the benchmark."""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("transcript", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--errors", action="store_true")
    args = parser.parse_args()
    settings = Settings()
    store = KnowledgeStore.from_directory(
        settings.kb_dir,
        embedder=load_embedder(
            settings.embedding_model, settings.cache_dir, settings.embedding_compute
        ),
    )
    answerer = Answerer(store, settings)
    strict = Listener(answerer, _NoStore(), settings.unasked_threshold, 1)  # type: ignore[arg-type]
    lines = [json.loads(line) for line in args.transcript.read_text().splitlines() if line.strip()]

    def asked(text: str) -> bool:
        reply = answerer.answer(text).reply
        return reply.intent in (Intent.FAQ, Intent.SEARCH_REQUEST)

    rows = []
    for name, speaks in (("listening (unasked rules)", lambda t: strict.verdict(t) is not None),
                         ("baseline (answer as if asked)", asked)):  # fmt: skip
        spoke_chatter = caught = wanted = chatter = spoke = right = 0
        for line in lines:
            said = speaks(line["text"])
            spoke += said
            if line["speak"]:
                wanted += 1
                caught += said
                right += said
            else:
                chatter += 1
                spoke_chatter += said
                if said and args.errors and name.startswith("listening"):
                    print(f"  INTERRUPTED: {line['text']}")
            if line["speak"] and not said and args.errors and name.startswith("listening"):
                print(f"  MISSED ({line['kind']}): {line['text']}")
        rows.append((name, spoke, right, wanted, caught, chatter, spoke_chatter))
    print(f"{len(lines)} messages from {args.transcript.name}")
    print(
        f"{'':<32}{'spoke':>7}{'right to':>10}{'caught':>10}{'recall':>8}{'interrupted':>13}{'rate':>8}"
    )
    for name, spoke, right, wanted, caught, chatter, spoke_chatter in rows:
        print(f"{name:<32}{spoke:>7}{right / max(spoke, 1):>10.2f}{caught:>6}/{wanted:<4}{caught / max(wanted, 1):>7.2f}"
              f"{spoke_chatter:>7}/{chatter:<5}{spoke_chatter / max(chatter, 1):>8.2%}")  # fmt: skip
    print(
        "targets: interrupts under 1% of ordinary messages; catches at least 80% of FAQs and requests"
    )


if __name__ == "__main__":
    main()
