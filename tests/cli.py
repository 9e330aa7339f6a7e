"""`evidence-desk` run in the test's own process: `main(argv)` with an environment, standard
input, output and error of its own, for checks where a new process adds nothing but its
start-up (seconds each: the imports, and the embedding model run over the whole KB, which the
test process has already done once and remembers).

What only a real process shows is still tested with one: the exit status of `python -m bot`
and the `ask --json` stream (tests/unit/test_cli.py), what a command imports (test_cli_lazy.py),
a closed pipe and `serve` binding a port that is taken (test_cli_errors.py), and one admin
command per database (tests/db/test_cli_admin.py). Whatever a command sets for its whole
process (the environment, logging, the thread switch interval) is put back after it.

A command that is called from an async test must go through `asyncio.to_thread`: the commands
run their own event loop (`asyncio.run`), as they do in a process.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from bot.cli.main import main


@dataclass(frozen=True)
class Ran:
    """What a run of the command left: its exit status and everything it printed."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    unset: Iterable[str] = (),
    stdin: str | bytes = b"",
) -> Ran:
    """`evidence-desk ARGS` as `python -m bot ARGS` runs it, with `env` added to the environment
    (and `unset` taken out) for the run only. The exit status is what `main` returns or
    `SystemExit` carries; any other exception is a crash and propagates, failing the test with
    its traceback. Warnings and errors logged during the run are in `stderr`, as a process with
    no logging configured prints them (so a logged traceback is seen too)."""
    raw = stdin.encode() if isinstance(stdin, str) else stdin
    out, err = io.StringIO(), io.StringIO()
    with (
        _environment(env or {}, unset),
        _switch_interval(),
        _logging_to(err),
        _stdin(io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code: int | str | None = main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int | None) else 1
    return Ran(0 if code is None else int(code), out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _environment(env: Mapping[str, str], unset: Iterable[str]) -> Iterator[None]:
    saved = dict(os.environ)
    for name in unset:
        os.environ.pop(name, None)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _switch_interval() -> Iterator[None]:
    """`serve` sets the interpreter's thread switch interval for its process (bot/cli/main.py)."""
    saved = sys.getswitchinterval()
    try:
        yield
    finally:
        sys.setswitchinterval(saved)


@contextlib.contextmanager
def _stdin(stream: io.TextIOWrapper) -> Iterator[None]:
    saved = sys.stdin
    sys.stdin = stream
    try:
        yield
    finally:
        sys.stdin = saved


@contextlib.contextmanager
def _logging_to(err: io.StringIO) -> Iterator[None]:
    """WARNING and above to `err` (Python's last-resort handler in a process that configures
    no logging); the root logger's handlers and level as they were afterwards, since a command
    may configure logging for its process (`chat` does)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    printer = logging.StreamHandler(err)
    printer.setLevel(logging.WARNING)
    root.addHandler(printer)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
