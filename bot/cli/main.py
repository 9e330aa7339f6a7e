"""`evidence-desk`: run the server, ask questions, chat, and check or export the knowledge base.

A command imports only what it needs: `ask` must not pay for the web server, Teams' SDK, the
admin console or the migrations (they were 1.7 s of its 2.7 s). So this module imports
little at the top, the commands import their own modules when they run, and the command
groups that live in other modules (`bot.cli.admin`, `bot.cli.web_admin`, `bot.cli.teams`)
are registered only when their command is the one being run; otherwise they appear in
`--help` by name and help line alone (`LAZY_COMMANDS`).
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import importlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final

from pydantic import AliasChoices, ValidationError

from bot.config import Settings
from bot.config.oidc import OidcSettings
from bot.config.slack import SlackSettings
from bot.config.teams import TeamsSettings
from bot.config.web import WebSettings

if TYPE_CHECKING:
    from aiohttp import web

    from handlers.answers import Answer, Answerer
    from knowledge.models import KnowledgeBase
    from knowledge.store import KnowledgeStore

    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

#: Command groups registered by other modules: command -> (help line, "module:function").
#: Only the group of the command being run is imported; `tests/unit/test_cli_lazy.py`
#: checks these help lines are the registering modules' own.
LAZY_COMMANDS: Final[dict[str, tuple[str, str]]] = {
    "db": ("database schema", "bot.cli.admin:register"),
    "routes": (
        "map chat channels to a specialty and its specialists",
        "bot.cli.admin:register",
    ),
    "specialists": ("the knowledge specialists who take requests", "bot.cli.admin:register"),
    "tickets": ("look at requests", "bot.cli.admin:register"),
    "escalations": (
        "unclaimed, nearly due and overdue requests",
        "bot.cli.admin:register",
    ),
    "report": ("activity and impact between two dates", "bot.cli.admin:register"),
    "privacy": ("retention", "bot.cli.admin:register"),
    "teams": ("Microsoft Teams: build the app package", "bot.cli.teams:register_cli"),
    "admin": ("accounts for the admin console (/admin)", "bot.cli.web_admin:register_cli"),
}


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        print("Configuration error:", file=sys.stderr)
        for line in setting_errors(exc):
            print(f"  {line}", file=sys.stderr)
        raise SystemExit(2) from exc


def setting_errors(exc: ValidationError) -> list[str]:
    """Each problem named by the environment variable the person set (not pydantic's field
    name), with the value's problem, never the value (it may be a secret)."""
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        lines.append(f"{_variable(field)}: {error['msg']}")
    return lines


def _variable(name: str) -> str:
    """`name` is a field's name, or one of its aliases (pydantic reports the first), in the
    core settings or a platform's (each platform's variables have their own prefix)."""
    if not name:
        return "settings"
    for cls, prefix in (
        (Settings, "EVIDENCE_DESK_"),
        (SlackSettings, ""),
        (TeamsSettings, "EVIDENCE_DESK_TEAMS_"),
        (WebSettings, "EVIDENCE_DESK_WEB_"),
        (OidcSettings, "EVIDENCE_DESK_OIDC_"),
    ):
        for field, info in cls.model_fields.items():
            alias = info.validation_alias
            choices = [str(c) for c in alias.choices] if isinstance(alias, AliasChoices) else []
            if isinstance(alias, str):
                choices = [alias]
            if name != field and name not in choices:
                continue
            names = [c for c in choices if c != field]
            if names:  # the one the person set, if they set one
                return next((n for n in names if n in os.environ), " or ".join(names))
            return f"{prefix}{field.upper()}"
    return name


def _published(settings: Settings) -> KnowledgeBase | None:
    """The knowledge base the server answers from: the latest version published in the
    database (the admin console publishes there), so the terminal gives the same answers.
    None when there is no database yet or nothing published; the files are used then."""
    url = settings.database_url
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1].split("?", 1)[0]
        if not path or path == ":memory:" or not Path(path).is_file():
            return None  # never create a database just to answer a question
    from sqlalchemy.exc import SQLAlchemyError

    from bot.db.session import Database
    from bot.desk.kb_versions import published_knowledge

    async def read() -> KnowledgeBase | None:
        db = Database.from_url(url)
        try:
            found = await published_knowledge(db)
        finally:
            await db.dispose()
        return None if found is None else found[1]

    try:
        return asyncio.run(read())
    except (SQLAlchemyError, OSError) as exc:
        print(
            f"Answering from the files in {settings.kb_dir}: the published knowledge base "
            f"could not be read from the database ({type(exc).__name__}).",
            file=sys.stderr,
        )
        return None


def _store(settings: Settings) -> KnowledgeStore:
    from knowledge.embeddings import load_embedder
    from knowledge.models import KnowledgeBaseInvalid
    from knowledge.store import KnowledgeSnapshot, KnowledgeStore, build_index

    published = _published(settings)
    embedder = load_embedder(
        settings.embedding_model, settings.cache_dir, settings.embedding_compute
    )
    if published is not None:  # the same matcher as the server's, on the same version
        snapshot = KnowledgeSnapshot(published, build_index(published, embedder))
        return KnowledgeStore(snapshot, embedder=embedder)
    try:
        return KnowledgeStore.from_directory(settings.kb_dir, embedder=embedder)
    except KnowledgeBaseInvalid as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(
            f"The knowledge base in {settings.kb_dir} has errors; nothing started.", file=sys.stderr
        )
        raise SystemExit(1) from exc


def _answerer(settings: Settings) -> Answerer:
    from handlers.answers import Answerer

    return Answerer(_store(settings), settings)


ASK_JSON_KEYS = ("intent", "faq_id", "score", "answer", "suggestions", "topic")


def _as_json(answer: Answer) -> dict[str, object]:
    from bot.messages import Intent

    result = answer.classification
    reply = answer.reply
    return {
        "intent": str(reply.intent),
        "faq_id": reply.faq_id,
        "score": round(result.score, 4) if result is not None else None,
        # An FAQ's answer, or the urgent-care signposting (which a caller must show as it is).
        "answer": reply.text if reply.faq_id or reply.intent is Intent.URGENT else None,
        "suggestions": [s.faq_id for s in reply.suggestions] or None,
        "topic": reply.prefill.topic if reply.prefill else None,
    }


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.messages import Intent
    from bot.render_text import render_text

    answerer = _answerer(_settings())
    if args.text:
        answer = answerer.answer(" ".join(args.text))
        if args.json:
            print(json.dumps(_as_json(answer)))
        else:
            print(render_text(answer.reply))
        return 0
    if not args.json:
        print(
            "Give a question, or use --json to read one question a line from stdin.",
            file=sys.stderr,
        )
        return 2
    for question in _input_lines(sys.stdin.buffer):
        if question.strip():
            row = _as_json(answerer.answer(question))
        else:
            row = dict.fromkeys(ASK_JSON_KEYS) | {"intent": str(Intent.UNKNOWN)}
        print(json.dumps(row), flush=True)
    return 0


def _input_lines(stream: BinaryIO) -> Iterator[str]:
    """One question per input line, so output row N always answers input line N.

    Lines are split at newline bytes only (a stray carriage return or Unicode line separator
    must not make two rows of one line), and bytes that are not UTF-8 are replaced rather than
    ending the run with the remaining questions unanswered.
    """
    for raw in stream:
        yield raw.decode("utf-8", errors="replace").removesuffix("\n").removesuffix("\r")


def cmd_chat(args: argparse.Namespace) -> int:
    """The terminal chat on the whole desk (bot/cli/chat.py), on the configured database; its
    imports are made here, so `ask` does not pay for them."""
    import logging

    from sqlalchemy.exc import SQLAlchemyError

    from bot.cli.chat import Terminal
    from bot.db.migrate import upgrade
    from bot.db.session import Database
    from bot.platforms.terminal import LocalChat
    from bot.services import assemble_desk
    from bot.signing import Signer

    settings = _settings()
    # The terminal is the chat: the server's warnings (no secret key, no feedback salt) and
    # log lines are not for it; errors still show.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    store = _store(settings)

    async def chat() -> int:
        if settings.migrate_at_start:
            await upgrade(settings.database_url)
        db = Database.from_url(settings.database_url)
        secret = settings.secret_key.get_secret_value() if settings.secret_key else None
        try:
            desk = assemble_desk(settings, db, store, signer=Signer.from_secret(secret))
            terminal = Terminal(LocalChat(desk, db), input, print)
            if args.user:
                terminal.user = args.user
            terminal.channel = args.channel
            terminal.chat.messenger.shown = terminal.show
            return await terminal.run()
        finally:
            await db.dispose()

    try:
        return asyncio.run(chat())
    except (SQLAlchemyError, OSError) as exc:
        print(
            f"The chat needs the database ({type(exc).__name__}); for PostgreSQL run "
            "`evidence-desk db upgrade` first.",
            file=sys.stderr,
        )
        return 1


def cmd_kb_validate(args: argparse.Namespace) -> int:
    from knowledge.loader import read_directory
    from knowledge.models import Severity

    directory = Path(args.dir) if args.dir else _settings().kb_dir
    kb, problems = read_directory(directory)
    for problem in problems:
        print(problem)
    errors = sum(p.severity is Severity.ERROR for p in problems)
    warnings = len(problems) - errors
    if kb is None:
        print(f"{directory}: {errors} error(s), {warnings} warning(s)", file=sys.stderr)
        return 1
    print(f"{directory}: {len(kb.entries)} entries OK, {warnings} warning(s)", file=sys.stderr)
    return 0


def cmd_kb_export(args: argparse.Namespace) -> int:
    from knowledge.loader import read_directory

    directory = Path(args.dir) if args.dir else _settings().kb_dir
    kb, problems = read_directory(directory)
    if kb is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    for entry in kb.entries:
        record = {
            "id": entry.id,
            "title": entry.title,
            "category": entry.category,
            "questions": list(entry.questions),
            "answer": entry.answer,
            "links": [{"title": link.title, "url": link.url} for link in entry.links],
            "owner": entry.owner,
            "reviewed": entry.reviewed.isoformat(),
            "review_by": entry.review_by.isoformat(),
        }
        print(json.dumps(record, ensure_ascii=False))
    return 0


#: How long a thread may hold the GIL while another waits for it (see cmd_serve).
GIL_SWITCH_INTERVAL_SECONDS = 0.0005


def _nowhere_to_go(settings: Settings) -> str | None:
    """In production (not the web demo), a desk with no general queue would leave requests
    from unrouted channels with no one: refuse to start unless told that is intended."""
    if settings.general_queue or settings.allow_no_general_queue or settings.web.demo:
        return None

    return (
        "Configuration error: EVIDENCE_DESK_GENERAL_QUEUE is not set, so a request from a "
        "channel with no route would reach no specialist. Set it (e.g. slack:C0LIBRARY), or "
        "set EVIDENCE_DESK_ALLOW_NO_GENERAL_QUEUE=true if every channel that takes requests "
        "is routed."
    )


def serve_app(args: argparse.Namespace) -> tuple[Settings, web.Application] | int:
    """What `serve` would run with these arguments: its settings and app, or an exit code
    after printing why it cannot start."""
    from bot.app import create_app
    from bot.observability import configure_logging
    from knowledge.models import KnowledgeBaseInvalid

    settings = _settings()
    updates: dict[str, object] = {k: v for k, v in (("host", args.host), ("port", args.port)) if v}
    if args.demo:  # the same as EVIDENCE_DESK_WEB_DEMO=true
        updates["web"] = settings.web.model_copy(update={"demo": True})
    if updates:
        settings = settings.model_copy(update=updates)
    configure_logging(settings.log_level, settings.log_format == "json")
    if refusal := _nowhere_to_go(settings):
        print(refusal, file=sys.stderr)
        return 2
    try:
        return settings, create_app(settings)
    except KnowledgeBaseInvalid as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except ValueError as exc:  # an adapter's settings do not fit together
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2


def cmd_serve(args: argparse.Namespace) -> int:
    built = serve_app(args)
    if isinstance(built, int):
        return built
    settings, app = built
    from aiohttp import web

    from bot.db.startup import DatabaseUnreachable
    from bot.observability import QuietPollingAccessLogger

    # SQLite runs in a thread per connection (aiosqlite): every statement hands work to it and
    # back. While the event loop is busy, the thread that wants the GIL waits up to the switch
    # interval (5 ms by default) for it, per hand-over, so under load a few statements added
    # tens of milliseconds to each answer while the CPU sat idle. 0.5 ms: 1.2-1.7x the answers/s
    # on SQLite in benchmarks/load.py (docs/performance.md).
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
    print(f"Evidence Desk is starting on http://{settings.host}:{settings.port}/", flush=True)
    try:
        web.run_app(
            app,
            host=settings.host,
            port=settings.port,
            print=None,
            access_log_class=QuietPollingAccessLogger,
            loop=_event_loop(settings.event_loop),
        )
    except DatabaseUnreachable as exc:
        print(exc, file=sys.stderr)
        return 1
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            print(_listen_error(exc.errno, settings.host, settings.port), file=sys.stderr)
            return 1
        raise
    return 0


def _event_loop(kind: str) -> asyncio.AbstractEventLoop:
    """uvloop unless asked otherwise or not installed (it has no Windows build): one event loop
    runs every acknowledgement, journal hand-over and Web API call of the process, and
    uvloop's, written in C on libuv, spends less CPU on each (docs/performance.md)."""
    if kind == "uvloop":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def _listen_error(code: int, host: str, port: int) -> str:
    if code == errno.EADDRINUSE:
        problem = f"Port {port} on {host} is already in use (is Evidence Desk already running?)."
    elif code == errno.EACCES:
        problem = f"Not allowed to listen on port {port} on {host}."
    else:
        problem = f"{host} is not an address of this machine."
    return (
        f"{problem} Choose another with EVIDENCE_DESK_PORT / EVIDENCE_DESK_HOST or --port / --host."
    )


def _register(target: str, sub: Subparsers) -> None:
    module, _, function = target.partition(":")
    register: Callable[[Subparsers], None] = getattr(importlib.import_module(module), function)
    register(sub)


def _command_in(argv: Sequence[str]) -> str | None:
    """The command being run: the first argument that is not an option (the top-level parser
    has none but --help)."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv`'s command: every command is listed, but only that command's group
    (all groups when `argv` is None) is imported and registered in full."""
    parser = argparse.ArgumentParser(
        prog="evidence-desk",
        description=__doc__.split("\n", 1)[0] if __doc__ else None,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    command = None if argv is None else _command_in(argv)
    full = {t for c, (_, t) in LAZY_COMMANDS.items() if argv is None or c == command}
    if argv is None or command == "kb":
        full.add("bot.cli.web_admin:register_cli")

    serve = sub.add_parser("serve", help="run the web server (health check; adapters mount here)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--demo",
        action="store_true",
        help="web chat demo mode: anyone can act as anyone; loopback host only",
    )
    serve.set_defaults(func=cmd_serve)

    ask = sub.add_parser("ask", help="answer one question, or many as JSON lines from stdin")
    ask.add_argument("text", nargs="*")
    ask.add_argument("--json", action="store_true", help="print the verdict as a JSON object")
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser(
        "chat", help="interactive terminal chat on the whole desk: answers, requests, listening"
    )
    chat.add_argument("--user", help="who you are (default: your login name)")
    chat.add_argument("--channel", help="talk in this channel instead of a direct chat")
    chat.set_defaults(func=cmd_chat)

    kb = sub.add_parser("kb", help="check or export the knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    validate = kb_sub.add_parser("validate", help="check every file; exit 1 on any error")
    validate.add_argument("dir", nargs="?")
    validate.set_defaults(func=cmd_kb_validate)
    export = kb_sub.add_parser("export", help="print every entry, placeholders filled")
    export.add_argument("--format", choices=["jsonl"], default="jsonl")
    export.add_argument("--dir")
    export.set_defaults(func=cmd_kb_export)
    for target in dict.fromkeys(t for _, t in LAZY_COMMANDS.values()):
        if target in full:
            _register(target, sub)
    if "bot.cli.web_admin:register_cli" in full:
        _register("bot.cli.web_admin:extend_kb_parser", kb_sub)
    for name, (help_line, target) in LAZY_COMMANDS.items():
        if target not in full:
            sub.add_parser(name, help=help_line)  # listed; never parsed (not the command run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    try:
        if getattr(args, "admin", None) is not None:
            from bot.cli.admin import run_admin

            return run_admin(args.admin, args, _settings())
        result: int = args.func(args)
        return result
    except BrokenPipeError:
        # The reader went away (`kb export | head`): that is not an error of ours. Point
        # stdout at nothing so the interpreter's final flush does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
