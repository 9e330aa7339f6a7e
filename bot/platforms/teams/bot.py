"""The Teams bot: Bot Framework activities in, neutral events to the core inbox.

It translates and delegates; what to answer, which form to show and whether a submission is
valid are all decided by the core. Per turn:

1. the conversation reference is stored (so the bot can write here later, after a restart);
2. a message becomes an `IncomingMessage` (bot mention removed), a card's Action.Submit a
   `UserAction`, and either is journalled in the core inbox under its activity id before the
   turn ends (and so before Teams gets its 200): a redelivered activity is skipped there;
3. answers go through the outbox like every platform's (bot/platforms/teams/messenger.py posts them):
   a connector outage delays an answer and loses nothing. A message is answered after the
   turn; a card submission within it, since a form shown again with its errors replaces the
   card it came from.

With resource-specific consent (`ChannelMessage.Read.Group` in the manifest) Teams delivers
every message in a team's channels, not only those that @mention the bot. A channel message
that does not mention the bot is *overheard*: it goes to `EvidenceDesk.on_overheard`, which
answers only in a channel that opted in to listening mode (or relays a requester's answer to a
specialist), and otherwise nothing at all is sent. Messages from bots (itself included) and
edits are never acted on.

A form's submit that produced the form again (with errors) updates that card in place; once
a form is accepted, its card is replaced by a short receipt, so it cannot be sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final
from uuid import uuid4

from botbuilder.core import ActivityHandler, TurnContext  # type: ignore[import-untyped]
from botbuilder.schema import ActivityTypes, ChannelAccount  # type: ignore[import-untyped]

from bot.delivery.conversation_refs import ConversationStore
from bot.delivery.inbox import InboundEvent, Inbox
from bot.delivery.outbox import Destination
from bot.desk.privacy import PrivacyScanner
from bot.messages import IncomingMessage, Intent, Platform, Reply, UserAction
from bot.platforms.teams.activities import (
    form_activity,
    is_channel,
    is_from_a_bot,
    is_personal,
    location_of,
    mentions_recipient,
    message_text,
    reply_activity,
    user_id_of,
)
from bot.platforms.teams.cards import FORM_WARNING_NOTE, Submission, parse_submission, shared_form
from bot.platforms.teams.conversations import event_key

log = logging.getLogger(__name__)

WELCOME: Final = Reply(
    title="Hello, I'm Evidence Desk",
    text=(
        "I help with your library and knowledge service, right here in Teams.\n"
        "- Ask me about library services and NHS OpenAthens, for example: *forgot my athens "
        "password* or *library opening hours*. Every answer shows its source.\n"
        "- Ask for evidence, for example: *can you find evidence on falls prevention by "
        "Friday?*, and I'll open a short request form that goes to a knowledge specialist.\n"
        "In a channel, @mention me; in a chat with me, just type.\n"
        "I never give clinical advice. Please leave out patient-identifiable details "
        "(names, NHS numbers, dates of birth)."
    ),
    intent=Intent.SMALLTALK,
)

PLATFORM: Final = "teams"
RECEIPT: Final = Reply(
    text="Sent. The answer follows in this conversation.", intent=Intent.SMALLTALK
)


class EvidenceDeskBot(ActivityHandler):  # type: ignore[misc]
    def __init__(
        self, inbox: Inbox, conversations: ConversationStore, scanner: PrivacyScanner
    ) -> None:
        super().__init__()
        self._inbox = inbox
        self._conversations = conversations
        self._scanner = scanner
        #: Answers being worked on after their turn ended (kept so they are not collected).
        self._answering: set[asyncio.Task[None]] = set()

    # ---- every turn ---------------------------------------------------------------------

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.type == ActivityTypes.message and is_from_a_bot(activity):
            return  # not even remembered: a bot is nobody the desk writes to
        await self._remember(activity)
        await super().on_turn(turn_context)

    async def _remember(self, activity: Any) -> None:
        conversation_id, thread_id = location_of(activity)
        user_id = user_id_of(activity)
        if not conversation_id or not user_id or not activity.service_url:
            return
        reference = TurnContext.get_conversation_reference(activity).serialize()
        try:
            await self._conversations.remember(
                user_id, conversation_id, thread_id, activity.service_url, reference
            )
        except Exception:
            # Answering matters more than remembering: the next activity stores it again.
            log.exception("could not store the Teams conversation reference")

    async def drain(self) -> None:
        """Wait for the answers still being worked on (at shutdown, and in tests)."""
        while self._answering:
            await asyncio.gather(*self._answering, return_exceptions=True)

    # ---- messages and card submissions ----------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        submission = parse_submission(activity.value)
        if submission is not None:
            await self._on_submission(turn_context, submission)
            return
        conversation_id, thread_id = location_of(activity)
        message = IncomingMessage(
            platform=Platform.TEAMS,
            user_id=user_id_of(activity),
            text=message_text(activity),
            conversation_id=conversation_id,
            thread_id=thread_id,
            message_id=activity.id,
            user_name=_user_name(activity),
            is_direct=is_personal(activity),
        )
        # A reply to a channel post goes in its reply chain: the post's id names the chain.
        answer_in = thread_id or (activity.id if is_channel(activity) else None)
        event = InboundEvent(
            PLATFORM,
            _event_id(activity),
            Destination(PLATFORM, conversation_id, answer_in),
            message,
            overheard=is_channel(activity) and not mentions_recipient(activity),
        )
        journal_id = await self._inbox.accept(event)
        if journal_id is None:
            log.info("Teams activity %s was already handled; ignoring the redelivery", activity.id)
            return
        task = asyncio.create_task(self._inbox.answer(journal_id, event))
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def on_message_update_activity(self, turn_context: TurnContext) -> None:
        """An edit is not a new message: answering it would answer the same post twice, or
        answer words the bot has already been told to leave alone."""

    async def _on_submission(self, turn_context: TurnContext, submission: Submission) -> None:
        activity = turn_context.activity
        conversation_id, thread_id = location_of(activity)
        action = UserAction(
            platform=Platform.TEAMS,
            user_id=user_id_of(activity),
            action=submission.action,
            value=submission.value,
            user_name=_user_name(activity),
            channel_id=conversation_id,
            thread_id=thread_id,
            values=submission.values,
            form_state=submission.state,
            event_id=_event_id(activity),
        )
        here = Destination(PLATFORM, conversation_id, thread_id)
        journal_id = await self._inbox.accept(
            InboundEvent(PLATFORM, _event_id(activity), here, action=action)
        )
        if journal_id is None:
            log.info("Teams activity %s was already handled; ignoring the redelivery", activity.id)
            return
        outcome = await self._inbox.act(action, here, journal_id)
        card_id = activity.reply_to_id if submission.from_form else None
        if outcome.form is not None:
            form = outcome.form
            if not is_personal(activity):  # others can read it: no raw answers, warning apart
                shared = shared_form(form, self._scanner)
                form = shared.form
                # To the person alone, in their chat with the bot; with no such chat, not at
                # all (the shared card says answers were changed): saying in the channel that
                # someone typed patient details would be saying too much.
                if shared.warning and await self._conversations.personal_reference_for(
                    action.user_id
                ):
                    warning = f"{shared.warning} {FORM_WARNING_NOTE}"
                    await self._inbox.tell(
                        Reply(text=warning, intent=Intent.SMALLTALK, ephemeral=True),
                        here,
                        action.user_id,
                    )
            await self._send(turn_context, form_activity(form), replace=card_id)
            return
        if outcome.queued and card_id:
            # The form was accepted: its card becomes a receipt, so it cannot be sent twice.
            await self._send(turn_context, reply_activity(RECEIPT), replace=card_id)
        if outcome.reply is not None:  # for the person who acted only
            await self._inbox.tell(outcome.reply, here, action.user_id)

    # ---- conversation updates -------------------------------------------------------------

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        activity = turn_context.activity
        recipient = activity.recipient
        bot_id = recipient.id if recipient is not None else None
        if not (bot_id and any(member.id == bot_id for member in members_added or [])):
            return
        conversation_id, thread_id = location_of(activity)
        event = InboundEvent(
            PLATFORM, _event_id(activity), Destination(PLATFORM, conversation_id, thread_id),
            greeting=WELCOME,
        )  # fmt: skip
        journal_id = await self._inbox.accept(event)
        if journal_id is not None:
            await self._inbox.answer(journal_id, event)

    # ---- sending within the turn (a card replaced in place) --------------------------------

    async def _send(
        self, turn_context: TurnContext, activity: Any, replace: str | None = None
    ) -> None:
        if replace:
            activity.id = replace
            try:
                await turn_context.update_activity(activity)
                return
            except Exception:
                log.warning(
                    "could not update Teams card %s; sending a new one", replace, exc_info=True
                )
                activity.id = None
        await turn_context.send_activity(activity)


def _event_id(activity: Any) -> str:
    """The activity's key in the inbox; an activity without an id (only the Emulator sends
    them) cannot be recognised again, so it gets a key of its own."""
    conversation_id, _ = location_of(activity)
    return event_key(conversation_id, str(activity.id) if activity.id else f"no-id:{uuid4().hex}")


def _user_name(activity: Any) -> str | None:
    sender = activity.from_property
    return str(sender.name) if sender is not None and sender.name else None
