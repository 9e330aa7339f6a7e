"""Load: signed Slack events at rising rates against one server process, on SQLite and PostgreSQL.

    python benchmarks/load.py [--rates 100,250,500] [--seconds 5] [--postgres URL] [--teams]

Starts `evidence-desk serve` as a separate process (Slack in HTTP mode, its Web API pointed at
a fake Slack API in this process), sends signed `app_mention` events (FAQ questions) at each
rate, and reports acknowledgement latency p50/p99, answers delivered per second (from the first
event sent until the last answer reached the fake Slack) and the server's CPU time per answered
event. Two baselines are measured in the same run, on the same machine:

* a bare slack-bolt app that only acknowledges (the ack p99 ratio is the cost of our work
  before the ack: journalling the event);
* a bare slack-bolt app that *answers*: `rank_bm25` over the KB's entries, the best entry's
  answer posted with chat.postMessage to the same fake Slack API, no journal, no outbox (what a
  developer would build first). Our answers/s as a ratio of its answers/s is the price of the
  guarantees (journal before ack, answer + outbox row + done mark in one transaction).

Our server runs on uvloop, as `serve` does by default (EVIDENCE_DESK_EVENT_LOOP); the baselines
run on asyncio's own loop, as a first build would, unless `--baseline-uvloop` puts them on
uvloop too (the ratio is then the price of the guarantees alone).

With `--teams`, the same questions are then sent to our server as Teams personal-chat
activities (unsigned, the adapter's local mode), answered through botbuilder's connector client
to a fake Bot Framework connector, and to a Teams baseline measured in the same run: a bare
botbuilder `CloudAdapter` bot (local mode too) that answers within the turn with `rank_bm25`,
no journal, no outbox.

By default the 8 questions repeat, as FAQs do; `--distinct` makes every message a different
question (FAQ questions of benchmarks/data/holdout*.jsonl, each numbered), so nothing can be
answered from memory of an earlier message.

Each server gets a short warm-up first (its first queries compile statements, configure the
ORM and fill caches), not counted. Loopback only; every loop is bounded.
Targets: 500 events/s acknowledged with p99 under 100 ms; at least 300 answered events/s per
process; at least 0.5x the answering baseline's answers/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import hmac
import itertools
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlackApi

SECRET = "load-test-secret"  # noqa: S105 - signs requests to a loopback test server
QUESTIONS = [
    "forgot my athens password", "library opening hours", "how do I renew my books",
    "what is the knowledge and library hub", "can I get an article the library doesn't have",
    "critical appraisal training", "how do I contact the library", "help",
]  # fmt: skip
#: With --distinct: FAQ questions of the labelled sets, each made unique by a number, so that
#: no message is ever seen twice (the worst case for the embedder's memory of recent messages).
DISTINCT: list[str] = []
_asked = itertools.count(1)
#: With --baseline-uvloop: the bare apps run on uvloop, as our server does by default.
BASELINE_UVLOOP = False


def question(n: int) -> str:
    if DISTINCT:
        return f"{DISTINCT[n % len(DISTINCT)]} ({next(_asked)})"
    return QUESTIONS[n % len(QUESTIONS)]


BARE_ACK_APP = textwrap.dedent(
    """
    import os, sys
    from aiohttp import web
    from slack_bolt.async_app import AsyncApp
    from slack_bolt.adapter.aiohttp import to_bolt_request, to_aiohttp_response
    from slack_sdk.web.async_client import AsyncWebClient
    bolt = AsyncApp(client=AsyncWebClient(token="xoxb-x", base_url=os.environ["SLACK_API_URL"]),
                    signing_secret=os.environ["SLACK_SIGNING_SECRET"])
    @bolt.event("app_mention")
    async def mention(event):
        return None
    async def handle(request):
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))
    app = web.Application()
    app.router.add_post("/slack/events", handle)
    if os.environ.get("LOAD_BASELINE_UVLOOP"):
        import uvloop
        uvloop.install()
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
    """
)

#: The answering baseline: the same questions answered with BM25 over the KB, posted at once.
#: Its Web API client keeps one HTTP session (connection reuse), as ours does.
BARE_ANSWER_APP = textwrap.dedent(
    """
    import os, re, sys
    import aiohttp
    from aiohttp import web
    from rank_bm25 import BM25Okapi
    from slack_bolt.async_app import AsyncApp
    from slack_bolt.adapter.aiohttp import to_bolt_request, to_aiohttp_response
    from slack_sdk.web.async_client import AsyncWebClient
    from bot.config import Settings
    from knowledge.store import KnowledgeStore

    entries = KnowledgeStore.from_directory(Settings().kb_dir).current.kb.entries
    tokens = lambda text: re.findall(r"[a-z0-9]+", text.lower())
    bm25 = BM25Okapi([tokens(" ".join([e.title, *e.questions, e.answer])) for e in entries])
    FALLBACK = "Sorry, I don't know that one. Try asking the library team."

    def answer(text):
        scores = bm25.get_scores(tokens(re.sub(r"<@[A-Z0-9]+>", "", text)))
        best = max(range(len(scores)), key=lambda i: scores[i])
        return entries[best].answer if scores[best] > 0 else FALLBACK

    async def main():
        client = AsyncWebClient(token="xoxb-x", base_url=os.environ["SLACK_API_URL"],
                                session=aiohttp.ClientSession())
        bolt = AsyncApp(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"])

        @bolt.event("app_mention")
        async def mention(event, client):
            await client.chat_postMessage(channel=event["channel"],
                                          thread_ts=event.get("thread_ts") or event["ts"],
                                          text=answer(event["text"]))

        async def handle(request):
            return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

        app = web.Application()
        app.router.add_post("/slack/events", handle)
        return app

    if os.environ.get("LOAD_BASELINE_UVLOOP"):
        import uvloop
        uvloop.install()
    web.run_app(main(), host="127.0.0.1", port=int(sys.argv[1]), print=None)
    """
)


#: The Teams baseline: a bare CloudAdapter bot (local mode: no app id, no token checked, as
#: ours in the benchmark) answering the same questions with BM25 within the turn.
BARE_TEAMS_APP = textwrap.dedent(
    """
    import os, re, sys
    from aiohttp import web
    from botbuilder.core import ActivityHandler
    from botbuilder.integration.aiohttp import (
        CloudAdapter, ConfigurationBotFrameworkAuthentication)
    from rank_bm25 import BM25Okapi
    from bot.config import Settings
    from knowledge.store import KnowledgeStore

    entries = KnowledgeStore.from_directory(Settings().kb_dir).current.kb.entries
    tokens = lambda text: re.findall(r"[a-z0-9]+", text.lower())
    bm25 = BM25Okapi([tokens(" ".join([e.title, *e.questions, e.answer])) for e in entries])
    FALLBACK = "Sorry, I don't know that one. Try asking the library team."

    def answer(text):
        scores = bm25.get_scores(tokens(text))
        best = max(range(len(scores)), key=lambda i: scores[i])
        return entries[best].answer if scores[best] > 0 else FALLBACK

    class Local:
        APP_ID = ""
        APP_PASSWORD = ""
        APP_TYPE = "MultiTenant"
        APP_TENANTID = ""

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Local()))

    class Bot(ActivityHandler):
        async def on_message_activity(self, turn_context):
            await turn_context.send_activity(answer(turn_context.activity.text or ""))

    bot = Bot()

    async def messages(request):
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    if os.environ.get("LOAD_BASELINE_UVLOOP"):
        import uvloop
        uvloop.install()
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


async def wait_ready(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(3600):  # three minutes: startup is slow on a busy two-core machine
            try:
                async with session.post(url, data="{}") as response:
                    if response.status not in (502, 503):  # it answers: it is up
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"server at {url} did not start")


def slack_event(n: int, prefix: str) -> tuple[str, dict[str, str]]:
    """A signed `app_mention` FAQ question."""
    body = json.dumps({
        "type": "event_callback", "team_id": "T0", "api_app_id": "A0", "event_id": f"{prefix}{n}",
        "event": {"type": "app_mention", "user": f"U{n % 50}", "channel": "C0LOAD",
                  "ts": f"1700000000.{n:06d}", "text": f"<@UBOTUSER> {question(n)}"},
    })  # fmt: skip
    return body, signed(body)


def teams_activity(n: int, prefix: str, service_url: str) -> tuple[str, dict[str, str]]:
    """A personal-chat Teams message as the Bot Framework posts it (unsigned: local mode)."""
    body = json.dumps({
        "type": "message", "id": f"f:{prefix}{n}", "channelId": "msteams", "serviceUrl": service_url,
        "timestamp": "2026-03-02T10:00:00.000Z",
        "from": {"id": f"29:user-{n % 50}", "name": "Load", "aadObjectId": f"aad-{n % 50}"},
        "recipient": {"id": "28:evidence-desk-bot", "name": "Evidence Desk"},
        "conversation": {"id": f"a:{prefix}{n}", "conversationType": "personal", "tenantId": "t1"},
        "channelData": {"tenant": {"id": "t1"}}, "text": question(n),
    })  # fmt: skip
    return body, {"Content-Type": "application/json"}


async def blast(
    url: str,
    rate: int,
    seconds: float,
    prefix: str,
    request: Callable[[int, str], tuple[str, dict[str, str]]] = slack_event,
) -> list[float]:
    latencies: list[float] = []
    total = int(rate * seconds)
    connector = aiohttp.TCPConnector(limit=200)
    # This process's own garbage collections must not pause the sender (or the fake Slack
    # API it serves) mid-burst: a 100 ms pause here showed as 100 ms more on the server's
    # acknowledgements. Collected before and after instead.
    gc.collect()
    gc.disable()
    try:
        return await _blast(url, rate, seconds, prefix, request, latencies, total, connector)
    finally:
        gc.enable()
        gc.collect()


async def _blast(
    url: str,
    rate: int,
    seconds: float,
    prefix: str,
    request: Callable[[int, str], tuple[str, dict[str, str]]],
    latencies: list[float],
    total: int,
    connector: aiohttp.TCPConnector,
) -> list[float]:
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(n: int) -> None:
            body, headers = request(n, prefix)
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if 200 <= response.status < 300:  # Bolt says 200, CloudAdapter 201
                        latencies.append(time.perf_counter() - started)
            except (aiohttp.ClientError, TimeoutError):
                pass  # not acknowledged (within aiohttp's 5 minutes): counted as not acked

        tasks = []
        begin = time.perf_counter()
        for n in range(total):
            delay = begin + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    return latencies


@contextlib.asynccontextmanager
async def scratch_database(server_url: str) -> AsyncIterator[str]:
    """A fresh database on the PostgreSQL server of `server_url`, dropped afterwards, so the
    run neither reads nor leaves rows in a database someone else uses."""
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"evidence_desk_load_{secrets.token_hex(4)}"
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def start_py_spy(
    prefix: str | None, name: str, pid: int, seconds: float
) -> asyncio.subprocess.Process | None:
    """With --py-spy, sample our server (100/s, raw collapsed stacks, idle threads left out)
    while the burst is sent and answered; the file is PREFIX-NAME.txt."""
    if prefix is None:
        return None
    return await asyncio.create_subprocess_exec(
        os.environ.get("PY_SPY", "py-spy"), "record", "--pid", str(pid), "--rate", "100",
        "--format", "raw", "--duration", "600", "--nonblocking",
        "--output", f"{prefix}-{name}.txt",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def stop_py_spy(spy: asyncio.subprocess.Process | None) -> None:
    if spy is not None:
        spy.send_signal(2)  # py-spy writes what it has on SIGINT
        await asyncio.wait_for(spy.wait(), 60)


@dataclass
class Measured:
    acks: list[float]
    sent: int = 0
    answered: int = 0
    seconds: float = float("nan")
    cpu: float = float("nan")

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds

    @property
    def cpu_ms_per_answer(self) -> float:
        return self.cpu / self.answered * 1000 if self.answered else float("nan")


async def measure(
    api: FakeSlackApi, url: str, pid: int, rate: int, seconds: float, prefix: str,
    answers: bool = True, teams: FakeBotConnector | None = None,
) -> Measured:  # fmt: skip
    """One burst (of Teams activities, answered to the fake connector, with `teams`); with
    `answers`, waits (bounded) until every acknowledged event is answered, so the next server
    is measured on an idle machine, not beside a backlog."""

    def delivered() -> int:
        return len(teams.posts) if teams is not None else len(api.of("chat.postMessage"))

    before, cpu_before = delivered(), cpu_seconds(pid)
    started = time.perf_counter()
    if teams is not None:
        service_url = teams.url
        acks = await blast(
            url, rate, seconds, prefix, lambda n, p: teams_activity(n, p, service_url)
        )
    else:
        acks = await blast(url, rate, seconds, prefix)
    result = Measured(acks, sent=int(rate * seconds))
    if not answers:
        return result
    deadline = time.perf_counter() + 180
    while delivered() - before < len(acks):
        if time.perf_counter() > deadline:
            break  # report what did arrive
        await asyncio.sleep(0.02)
    result.answered = delivered() - before
    result.seconds = time.perf_counter() - started
    result.cpu = cpu_seconds(pid) - cpu_before
    return result


async def run(
    label: str,
    database_url: str,
    rates: list[int],
    seconds: float,
    with_teams: bool,
    profile: str | None = None,
) -> list[str]:
    # The baselines post to fakes of their own: a late answer of one server is never
    # counted as another's.
    api, bare_api = FakeSlackApi(), FakeSlackApi()
    connector, bare_connector = FakeBotConnector(), FakeBotConnector()
    for fake in (api, bare_api, connector, bare_connector):
        await fake.start()
    ours_port, ack_port, answer_port = free_port(), free_port(), free_port()
    teams_port = free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-load", "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": api.url, "EVIDENCE_DESK_DATABASE_URL": database_url,
           "EVIDENCE_DESK_AUTO_MIGRATE": "true", "EVIDENCE_DESK_KB_RELOAD_SECONDS": "0",
           "EVIDENCE_DESK_LOG_LEVEL": "WARNING", "EVIDENCE_DESK_FEEDBACK_SALT": "x",
           "EVIDENCE_DESK_ALLOW_NO_GENERAL_QUEUE": "true",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}  # fmt: skip
    bare_env = {**env, "SLACK_API_URL": bare_api.url}
    if BASELINE_UVLOOP:
        bare_env["LOAD_BASELINE_UVLOOP"] = "1"
    processes = {}
    for name, args in (
        ("ours", ["-m", "bot", "serve", "--port", str(ours_port)]),
        ("ack", ["-c", BARE_ACK_APP, str(ack_port)]),
        ("answer", ["-c", BARE_ANSWER_APP, str(answer_port)]),
        *([("teams", ["-c", BARE_TEAMS_APP, str(teams_port)])] if with_teams else []),
    ):
        processes[name] = await asyncio.create_subprocess_exec(
            sys.executable, *args, env=env if name == "ours" else bare_env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    ours_url = f"http://127.0.0.1:{ours_port}/slack/events"
    ack_url = f"http://127.0.0.1:{ack_port}/slack/events"
    answer_url = f"http://127.0.0.1:{answer_port}/slack/events"
    teams_url = f"http://127.0.0.1:{teams_port}/api/messages"
    ours_pid, answer_pid = processes["ours"].pid, processes["answer"].pid
    lines = []
    try:
        for url in (ours_url, ack_url, answer_url, *([teams_url] if with_teams else [])):
            await wait_ready(url)
        # Warm-up, not counted: first queries, ORM configuration, connection pools.
        await measure(api, ours_url, ours_pid, 25, 2, "Wours")
        await measure(bare_api, answer_url, answer_pid, 25, 2, "Wbare")
        if with_teams:
            messages = ours_url.replace("/slack/events", "/api/messages")
            await measure(api, messages, ours_pid, 25, 2, "Wteams", teams=connector)
            await measure(bare_api, teams_url, processes["teams"].pid, 25, 2, "Wbteams",
                          teams=bare_connector)  # fmt: skip
        print(f"{label}: warmed up", flush=True)
        for rate in rates:
            spy = await start_py_spy(profile, f"{label}-{rate}-slack", ours_pid, seconds)
            mine = await measure(api, ours_url, ours_pid, rate, seconds, f"E{rate}x")
            await stop_py_spy(spy)
            acked = await measure(bare_api, ack_url, processes["ack"].pid, rate, seconds, f"A{rate}x",
                                  answers=False)  # fmt: skip
            bare = await measure(bare_api, answer_url, answer_pid, rate, seconds, f"B{rate}x")
            line = (
                f"{label:<11}{rate:>5}/s | ours: ack p50 {pct(mine.acks, 50):6.1f} p99 {pct(mine.acks, 99):6.1f} ms, "
                f"acked {len(mine.acks)}, answered {mine.answered:>5}/{mine.sent:<5} in {mine.seconds:5.1f} s = {mine.per_second:4.0f}/s, "
                f"CPU {mine.cpu_ms_per_answer:5.2f} ms/answer | bare ack-only bolt: p99 {pct(acked.acks, 99):6.1f} ms | "
                f"bare answering bolt (bm25): ack p99 {pct(bare.acks, 99):6.1f} ms, {bare.answered}/{bare.sent} "
                f"in {bare.seconds:5.1f} s = {bare.per_second:4.0f}/s, CPU {bare.cpu_ms_per_answer:5.2f} ms/answer "
                f"| answers/s ratio {mine.per_second / bare.per_second:4.2f} "
                f"| load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
            )  # fmt: skip
            print(line, flush=True)
            lines.append(line)
            if with_teams:
                messages = ours_url.replace("/slack/events", "/api/messages")
                spy = await start_py_spy(profile, f"{label}-{rate}-teams", ours_pid, seconds)
                teams = await measure(api, messages, ours_pid, rate, seconds, f"T{rate}x",
                                      teams=connector)  # fmt: skip
                await stop_py_spy(spy)
                bare_teams = await measure(bare_api, teams_url, processes["teams"].pid, rate,
                                           seconds, f"U{rate}x", teams=bare_connector)  # fmt: skip
                line = (
                    f"{label:<11}{rate:>5}/s | ours, Teams activities: ack p50 {pct(teams.acks, 50):6.1f} "
                    f"p99 {pct(teams.acks, 99):6.1f} ms, acked {len(teams.acks)}, answered {teams.answered:>5}/{teams.sent:<5} in "
                    f"{teams.seconds:5.1f} s = {teams.per_second:4.0f}/s, CPU {teams.cpu_ms_per_answer:5.2f} "
                    f"ms/answer | bare answering CloudAdapter bot (bm25): ack p99 "
                    f"{pct(bare_teams.acks, 99):6.1f} ms, {bare_teams.answered}/{bare_teams.sent} in "
                    f"{bare_teams.seconds:5.1f} s = {bare_teams.per_second:4.0f}/s, CPU "
                    f"{bare_teams.cpu_ms_per_answer:5.2f} ms/answer | Teams answers/s ratio "
                    f"{teams.per_second / bare_teams.per_second:4.2f} "
                    f"| load average {os.getloadavg()[0]:.1f}"
                )  # fmt: skip
                print(line, flush=True)
                lines.append(line)
    finally:
        await connector.close()
        await bare_connector.close()
        for process in processes.values():
            if process.returncode is not None:
                continue  # it died on its own (the other servers are still stopped)
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                print(f"{label}: a server did not stop within 30 s of SIGTERM; killed", flush=True)
                process.kill()
                await process.wait()
        await api.close()
        await bare_api.close()
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", default="100,250,500")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument(
        "--py-spy",
        metavar="PREFIX",
        help="profile our server with py-spy during each burst (set PY_SPY to its path)",
    )
    parser.add_argument("--postgres", default=os.environ.get("EVIDENCE_DESK_TEST_POSTGRES_URL"))
    parser.add_argument(
        "--teams",
        action="store_true",
        help="also send Teams activities (unsigned, local mode) answered to a fake connector",
    )
    parser.add_argument(
        "--baseline-uvloop",
        action="store_true",
        help="run the bare baselines on uvloop too (ours runs on it by default): the ratio "
        "then shows the price of the guarantees alone, not of the event loop",
    )
    parser.add_argument(
        "--distinct",
        action="store_true",
        help="every message a different FAQ question (default: the same 8 questions, as FAQs go)",
    )
    args = parser.parse_args()
    global BASELINE_UVLOOP
    BASELINE_UVLOOP = args.baseline_uvloop
    if args.distinct:
        for path in sorted((ROOT / "benchmarks" / "data").glob("holdout*.jsonl")):
            for line in path.read_text().splitlines():
                if line.strip() and json.loads(line).get("intent") == "faq":
                    DISTINCT.append(json.loads(line)["q"])
    rates = [int(r) for r in args.rates.split(",")]
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        lines += await run(
            "sqlite",
            f"sqlite+aiosqlite:///{Path(tmp) / 'load.sqlite3'}",
            rates,
            args.seconds,
            args.teams,
            args.py_spy,
        )
    if args.postgres:
        async with scratch_database(args.postgres) as url:
            lines += await run("postgresql", url, rates, args.seconds, args.teams, args.py_spy)
    print("\n".join(lines))
    print(
        "targets: 500 events/s acknowledged with p99 < 100 ms; >= 300 answered events/s per "
        "process; >= 0.5x the answering baseline's answers/s"
    )


if __name__ == "__main__":
    asyncio.run(main())
