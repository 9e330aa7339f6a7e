"""Where a server's CPU goes: py-spy's raw samples grouped into the parts of answering an event.

    python benchmarks/cpu_profile.py PROFILE.txt [CPU_MS_PER_ANSWER]

PROFILE.txt is what `benchmarks/load.py --py-spy PREFIX` (py-spy record --format raw) wrote:
one line per distinct stack, `frame;frame;...;frame COUNT`. Each stack goes to the group of its
innermost frame that belongs to one (code of ours that runs a statement counts as the
database, the outbox posting through slack_sdk as Slack, Bolt calling our journal as the
journal); a frame belonging to several groups takes the first of them in the order below. With the CPU milliseconds per answer that load.py measured in
the same run, each group's share is also turned into milliseconds per answer.

Samples of threads that are only waiting are left out: py-spy's idle detection does not see a
thread blocked on a queue, so aiosqlite's connection threads waiting for their next statement
and the model's worker thread waiting for work would otherwise count as busy (before this
filter they were a quarter of a SQLite profile's samples, counted as "database"). The event
loop's own frame as the innermost one (`run_app`) is uvloop's C code: its socket I/O and its
wait for events, which py-spy cannot tell apart; it is a group of its own.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

#: Innermost frames of threads that wait for work (not CPU).
IDLE_LEAVES = (
    "_connection_worker_thread (aiosqlite/core.py:59)",
    "_worker (concurrent/futures/thread.py:81)",
)
#: Innermost frame of the event loop running in C (uvloop): its I/O, or waiting for events.
LOOP_LEAF = "run_app (aiohttp/web.py:"

GROUPS: list[tuple[str, tuple[str, ...]]] = [
    ("event loop in C: uvloop's socket I/O, or waiting for events", (LOOP_LEAF,)),
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
            "bot/delivery/",
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
    frames = stack.split(";")
    if frames[-1].startswith(LOOP_LEAF):
        return GROUPS[0][0]
    for frame in reversed(frames):
        for name, needles in GROUPS[1:-1]:
            if any(needle in frame for needle in needles):
                return name
    return GROUPS[-1][0]


def main() -> None:
    path = Path(sys.argv[1])
    cpu_ms = float(sys.argv[2]) if len(sys.argv) > 2 else None
    counts: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit() and not stack.endswith(IDLE_LEAVES):
            counts[group(stack)] += int(count)
    total = sum(counts.values())
    print(f"{path.name}: {total} samples")
    for name, _ in GROUPS:
        share = counts[name] / total if total else 0.0
        ms = f" {share * cpu_ms:5.2f} ms/answer" if cpu_ms is not None else ""
        print(f"  {share:6.1%}{ms}  {name}")


if __name__ == "__main__":
    main()
