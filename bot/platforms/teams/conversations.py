"""Teams conversation and activity identifiers, and what the bot makes of them.

The references themselves are stored by the core (bot/delivery/conversation_refs.py); a redelivered
activity is recognised by the core inbox (bot/delivery/inbox.py) under `event_key`.

Teams identifiers used here: a channel's conversation id is `19:...@thread.tacv2`, and a
message in a reply chain arrives with `;messageid=<root>` after it. The bot keeps those two
apart (`split_thread`): the conversation id names the channel (as routes and queues do) and
the thread id names the reply chain.
"""

from __future__ import annotations

import hashlib
from typing import Final

#: How long an event key may be (the journal's column).
EXTERNAL_ID_LEN: Final = 255

PLATFORM: Final = "teams"
THREAD_MARKER: Final = ";messageid="


def split_thread(conversation_id: str) -> tuple[str, str | None]:
    """`19:abc@thread.tacv2;messageid=17000` -> (`19:abc@thread.tacv2`, `17000`)."""
    base, marker, thread = conversation_id.partition(THREAD_MARKER)
    return (base, thread or None) if marker else (conversation_id, None)


def join_thread(conversation_id: str, thread_id: str | None) -> str:
    base, _ = split_thread(conversation_id)
    return f"{base}{THREAD_MARKER}{thread_id}" if thread_id else base


def event_key(conversation_id: str, activity_id: str) -> str:
    """A Teams activity id is unique within its conversation only (channel message ids are
    timestamps), so the key names both; hashed when too long for the column."""
    key = f"{split_thread(conversation_id)[0]}|{activity_id}"
    if len(key) <= EXTERNAL_ID_LEN:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
