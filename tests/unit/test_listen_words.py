"""Which messages are the "listen" command (handlers/listening.py): the same words on every
platform, whatever markup the platform wrapped them in, and nothing that is really a question."""

from __future__ import annotations

import pytest

from handlers.listening import listen_word


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("listen on", "on"),
        ("listen off", "off"),
        ("listen status", "status"),
        ("listen", "status"),
        ("Listen ON.", "on"),
        ("<@U0BOTUSER> listen on", "on"),
        ("<at>Evidence Desk</at> listen off", "off"),
        ("  listen   status!", "status"),
    ],
)
def test_listen_words_are_recognised(text: str, word: str) -> None:
    assert listen_word(text) == word


@pytest.mark.parametrize(
    "text",
    [
        "listen, can you find evidence on falls prevention?",
        "listen to this podcast on sepsis",
        "listen onward",
        "please listen on",
        "library opening hours",
        "",
    ],
)
def test_other_messages_are_not_the_listen_command(text: str) -> None:
    assert listen_word(text) is None
