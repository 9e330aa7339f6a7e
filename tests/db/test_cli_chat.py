"""`evidence-desk chat` works the whole desk: a request typed in the terminal reaches the
specialist, who can claim it from the terminal too (bot/cli/chat.py, through the inbox and
outbox like any platform)."""

from __future__ import annotations

from bot.cli.chat import Terminal
from tests.dialogue import QUEUE, WARD, Dialogue


async def chat_in_terminal(dialogue: Dialogue, *lines: str) -> str:
    """Type `lines` into the terminal chat as the ward's requester; everything printed."""
    typed, printed = list(lines), []

    def read(prompt: str) -> str:
        printed.append(prompt)
        if not typed:
            raise EOFError
        return typed.pop(0)

    terminal = Terminal(dialogue.chat, read, printed.append, user="U_REQ", channel=WARD)
    dialogue.chat.messenger.shown = terminal.show
    assert await terminal.run() == 0
    return "\n".join(printed)


async def test_a_request_typed_in_the_terminal_reaches_the_specialists_queue(
    dialogue: Dialogue,
) -> None:
    printed = await chat_in_terminal(
        dialogue,
        "can you find evidence on falls prevention by Friday?",
        "[Open the request form]",
        "",  # the question, as prefilled
        "3",  # the purpose: the third choice (research)
        *[""] * 8,  # the rest as they are
    )
    assert "is with Sam Librarian" in printed
    assert f"bot -> {QUEUE}> " in printed  # the card, in the specialists' queue


async def test_the_specialist_claims_a_request_from_the_terminal(dialogue: Dialogue) -> None:
    printed = await chat_in_terminal(
        dialogue,
        "can you find evidence on falls prevention by Friday?",
        "[Open the request form]",
        "",
        "3",
        *[""] * 8,
        "/as U_SPEC Sam Librarian",
        f"/in {QUEUE}",
        "[Claim]",
    )
    assert "You have claimed" in printed
    assert f"bot -> {WARD}> Sam Librarian has picked up your request" in printed


async def test_a_form_can_be_left_without_sending_anything(dialogue: Dialogue) -> None:
    printed = await chat_in_terminal(
        dialogue, "can you find evidence on falls prevention?", "[Open the request form]", "."
    )
    assert "nothing was sent" in printed
    assert "is with Sam Librarian" not in printed


async def test_a_button_that_is_not_on_show_is_not_pressed(dialogue: Dialogue) -> None:
    printed = await chat_in_terminal(dialogue, "[Claim]")
    assert "No [Claim] button here" in printed
