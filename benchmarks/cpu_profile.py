"""Where a server's CPU goes: py-spy's raw samples grouped into the parts of answering an event.

    python benchmarks/cpu_profile.py PROFILE.txt [CPU_MS_PER_ANSWER]

PROFILE.txt is what `benchmarks/load.py --py-spy PREFIX` (py-spy record --format raw) wrote:
one line per distinct stack, `frame;frame;...;frame COUNT`. Each stack goes to the first group
below that any of its frames matches, in this order, so the model's run counts as the model
even though the inbox called it. With the CPU milliseconds per answer that load.py measured in
the same run, each group's share is also turned into milliseconds per answer.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

GROUPS: list[tuple[str, tuple[str, ...]]] = [
    ("model: tokenizer + ONNX Runtime (knowledge/embeddings.py)", ("embeddings.py",)),
    ("privacy scan (bot/desk/privacy.py)", ("bot/desk/privacy.py",)),
    (
        "matcher: lexical scores, rules, reply (handlers/, knowledge/)",
        ("handlers/", "knowledge/"),
    ),
    (
        "database: SQLAlchemy, aiosqlite/SQLite, asyncpg",
        ("sqlalchemy/", "aiosqlite/", "sqlite3", "asyncpg/", "greenlet"),
    ),
    (
        "journal, inbox, outbox (our code, not its statements)",
        (
            "bot/delivery/journal.py",
            "bot/delivery/group_commit.py",
            "bot/delivery/inbox.py",
            "bot/outbox",
        ),
    ),
    (
        "Teams: botbuilder, msrest",
        ("botbuilder/", "botframework/", "msrest/", "bot/platforms/teams/"),
    ),
    ("Slack: Bolt, slack_sdk", ("slack_bolt/", "slack_sdk/", "bot/platforms/slack/")),
    ("HTTP: aiohttp server and client", ("aiohttp/", "yarl/", "multidict/")),
    ("asyncio, logging, other", ("",)),
]


def group(stack: str) -> str:
    for name, needles in GROUPS:
        if any(needle in stack for needle in needles):
            return name
    return GROUPS[-1][0]


def main() -> None:
    path = Path(sys.argv[1])
    cpu_ms = float(sys.argv[2]) if len(sys.argv) > 2 else None
    counts: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[group(stack)] += int(count)
    total = sum(counts.values())
    print(f"{path.name}: {total} samples")
    for name, _ in GROUPS:
        share = counts[name] / total if total else 0.0
        ms = f" {share * cpu_ms:5.2f} ms/answer" if cpu_ms is not None else ""
        print(f"  {share:6.1%}{ms}  {name}")


if __name__ == "__main__":
    main()
