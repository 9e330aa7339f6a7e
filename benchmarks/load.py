"""Load: signed Slack events at rising rates against one server process, on SQLite and PostgreSQL.

    python benchmarks/load.py [--rates 100,250,500] [--seconds 5] [--postgres URL]

Starts `evidence-desk serve` as a separate process (Slack in HTTP mode, its Web API pointed at
a fake Slack API in this process), sends signed `app_mention` events (FAQ questions) at each
rate, and reports acknowledgement latency p50/p99, answers delivered per second, and the same
acknowledgement figures for a bare slack-bolt app that only acknowledges, measured in the same
run (the ratio is the cost of our work before the ack). Loopback only; every loop is bounded.
Target: 500 events/s acknowledged with p99 under 100 ms, within 1.5x of the bare app's p99.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fakes.slack_api import FakeSlackApi

SECRET = "load-test-secret"  # noqa: S105 - signs requests to a loopback test server
QUESTIONS = [
    "forgot my athens password", "library opening hours", "how do I renew my books",
    "what is the knowledge and library hub", "can I get an article the library doesn't have",
    "critical appraisal training", "how do I contact the library", "help",
]  # fmt: skip

BARE_APP = textwrap.dedent(
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
        for _ in range(200):
            try:
                async with session.post(url, data="{}") as response:
                    if response.status in (200, 400, 401, 404):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"server at {url} did not start")


async def blast(url: str, rate: int, seconds: float, prefix: str) -> list[float]:
    latencies: list[float] = []
    total = int(rate * seconds)
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(n: int) -> None:
            body = json.dumps({
                "type": "event_callback", "team_id": "T0", "api_app_id": "A0", "event_id": f"{prefix}{n}",
                "event": {"type": "app_mention", "user": f"U{n % 50}", "channel": "C0LOAD",
                          "ts": f"1700000000.{n:06d}", "text": f"<@UBOTUSER> {QUESTIONS[n % len(QUESTIONS)]}"},
            })  # fmt: skip
            started = time.perf_counter()
            async with session.post(url, data=body, headers=signed(body)) as response:
                await response.read()
                if response.status == 200:
                    latencies.append(time.perf_counter() - started)

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


async def run(label: str, database_url: str, rates: list[int], seconds: float) -> list[str]:
    api = FakeSlackApi()
    await api.start()
    ours_port, bare_port = free_port(), free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-load", "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": api.url, "EVIDENCE_DESK_DATABASE_URL": database_url,
           "EVIDENCE_DESK_AUTO_MIGRATE": "true", "EVIDENCE_DESK_KB_RELOAD_SECONDS": "0",
           "EVIDENCE_DESK_LOG_LEVEL": "WARNING", "EVIDENCE_DESK_FEEDBACK_SALT": "x"}  # fmt: skip
    ours = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--port", str(ours_port), env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    bare = await asyncio.create_subprocess_exec(
        sys.executable, "-c", BARE_APP, str(bare_port), env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    lines = []
    try:
        await wait_ready(f"http://127.0.0.1:{ours_port}/slack/events")
        await wait_ready(f"http://127.0.0.1:{bare_port}/slack/events")
        for rate in rates:
            before = len(api.of("chat.postMessage"))
            started = time.perf_counter()
            mine = await blast(
                f"http://127.0.0.1:{ours_port}/slack/events", rate, seconds, f"E{rate}x"
            )
            # Every acknowledged event answered (bounded), so the bare app is then measured on
            # an idle machine, not beside our server still working through a backlog.
            deadline = time.perf_counter() + 120
            while len(api.of("chat.postMessage")) - before < len(mine):
                if time.perf_counter() > deadline:
                    break  # report what did arrive
                await asyncio.sleep(0.05)
            answered = len(api.of("chat.postMessage")) - before
            drained = time.perf_counter() - started
            answers_per_s = answered / drained
            theirs = await blast(
                f"http://127.0.0.1:{bare_port}/slack/events", rate, seconds, f"B{rate}x"
            )
            line = (
                f"{label:<11}{rate:>6}/s  ack p50 {pct(mine, 50):6.1f} ms  p99 {pct(mine, 99):6.1f} ms  "
                f"answered {answered:>5}/{len(mine):<5} in {drained:5.1f} s ({answers_per_s:4.0f}/s)  | bare bolt p50 "
                f"{pct(theirs, 50):6.1f} p99 {pct(theirs, 99):6.1f} ms  | p99 ratio {pct(mine, 99) / pct(theirs, 99):5.2f}"
            )
            print(line, flush=True)
            lines.append(line)
    finally:
        for process in (ours, bare):
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                print(f"{label}: a server did not stop within 30 s of SIGTERM; killed", flush=True)
                process.kill()
                await process.wait()
        await api.close()
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", default="100,250,500")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--postgres", default=os.environ.get("EVIDENCE_DESK_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        lines += await run(
            "sqlite", f"sqlite+aiosqlite:///{Path(tmp) / 'load.sqlite3'}", rates, args.seconds
        )
    if args.postgres:
        async with scratch_database(args.postgres) as url:
            lines += await run("postgresql", url, rates, args.seconds)
    print("\n".join(lines))
    print("target: 500 events/s acknowledged, p99 < 100 ms, within 1.5x of the bare Bolt app's p99")


if __name__ == "__main__":
    asyncio.run(main())
