"""The Teams bot: Bot Framework activities in, neutral messages to the desk, cards back.

It translates and delegates; what to answer, which form to show and whether a submission is
valid are all decided by `EvidenceDesk`. Per turn:

1. the conversation reference is stored (so the bot can write here later, after a restart);
2. a redelivered activity (same id in the same conversation) is dropped;
3. a message becomes an `IncomingMessage` (bot mention removed), a card's Action.Submit a
   `UserAction`; the desk's reply or form goes back as an Adaptive Card within the turn.

With resource-specific consent (`ChannelMessage.Read.Group` in the manifest) Teams delivers
every message in a team's channels, not only those that @mention the bot. A channel message
that does not mention the bot is *overheard*: it goes to `EvidenceDesk.on_overheard`, which
answers only in a channel that opted in to listening mode (or relays a requester's answer to a
specialist), and otherwise nothing at all is sent. Messages from bots (itself included) and
edits are never acted on.

A form's submit that produced the form again (with errors) updates that card in place; a
shared (non-ephemeral) reply to a form submission replaces the form too, so it cannot be sent
twice. Anything that takes longer than a Bot Framework turn allows goes through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

from botbuilder.core import ActivityHandler, TurnContext  # type: ignore[import-untyped]
from botbuilder.schema import ActivityTypes, ChannelAccount  # type: ignore[import-untyped]

from bot.messages import IncomingMessage, Intent, Platform, Reply, UserAction
from bot.teams.activities import (
    form_activity,
    is_channel,
    is_from_a_bot,
    is_personal,
    location_of,
    mentions_recipient,
    message_text,
    reply_activity,
    text_activity,
    user_id_of,
)
from bot.teams.cards import FORM_WARNING_NOTE, Submission, parse_submission, shared_form
from bot.teams.conversations import ConversationStore, event_key
from bot.teams.private import tell_privately
from handlers.desk import EvidenceDesk

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

# Activities that act (and that Teams may deliver twice); invokes need an answer every time.
_DEDUPLICATED: Final = frozenset({ActivityTypes.message, ActivityTypes.conversation_update})


class EvidenceDeskBot(ActivityHandler):  # type: ignore[misc]
    def __init__(
        self,
        desk: EvidenceDesk,
        conversations: ConversationStore,
        kick: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__()
        self._desk = desk
        self._conversations = conversations
        self._kick = kick

    # ---- every turn ---------------------------------------------------------------------

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.type == ActivityTypes.message and is_from_a_bot(activity):
            return  # not even remembered: a bot is nobody the desk writes to
        await self._remember(activity)
        if activity.type in _DEDUPLICATED and activity.id and not await self._first_time(activity):
            log.info("Teams activity %s was already handled; ignoring the redelivery", activity.id)
            return
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

    async def _first_time(self, activity: Any) -> bool:
        conversation_id, _ = location_of(activity)
        try:
            return await self._conversations.first_time(event_key(conversation_id, activity.id))
        except Exception:
            log.exception("could not check Teams activity %s for redelivery", activity.id)
            return True

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
        if is_channel(activity) and not mentions_recipient(activity):
            try:
                heard = await self._desk.on_overheard(message)
            except Exception:
                # Never the turn's apology in reply to a post that was not addressed to the bot.
                log.exception("could not handle an overheard Teams channel message")
                return
            if heard is None:
                return  # not for the bot: say nothing, keep nothing of what was said
            self._kick()
            await self._show(turn_context, heard)  # a reply to the post, so in its thread
            return
        reply = await self._desk.on_message(message)
        self._kick()
        await self._show(turn_context, reply)

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
            event_id=event_key(conversation_id, activity.id) if activity.id else None,
        )
        outcome = await self._desk.on_action(action)
        self._kick()
        card_id = activity.reply_to_id if submission.from_form else None
        if outcome.form is not None:
            form = outcome.form
            if not is_personal(activity):  # others can read it: no raw answers, warning apart
                shared = shared_form(form, self._desk.router.scanner)
                form = shared.form
                if shared.warning:
                    await self._tell(action.user_id, f"{shared.warning} {FORM_WARNING_NOTE}")
            await self._send(turn_context, form_activity(form), replace=card_id)
        elif outcome.reply is not None:
            # An ephemeral reply is for the sender only: it never overwrites a shared card.
            await self._show(
                turn_context, outcome.reply, replace=None if outcome.reply.ephemeral else card_id
            )

    # ---- conversation updates -------------------------------------------------------------

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        recipient = turn_context.activity.recipient
        bot_id = recipient.id if recipient is not None else None
        if bot_id and any(member.id == bot_id for member in members_added or []):
            await self._send(turn_context, reply_activity(WELCOME))

    # ---- sending --------------------------------------------------------------------------

    async def _show(
        self, turn_context: TurnContext, reply: Reply, replace: str | None = None
    ) -> None:
        if reply.warning and (
            is_personal(turn_context.activity)
            or not await self._tell(user_id_of(turn_context.activity), str(reply.warning))
        ):
            await self._send(turn_context, text_activity(_warning_text(turn_context, reply)))
        await self._send(turn_context, reply_activity(reply), replace=replace)
        if reply.form is not None:
            await self._send(turn_context, form_activity(reply.form))

    async def _tell(self, user_id: str, text: str) -> bool:
        """To the person alone, in their chat with the bot (bot/teams/private.py); False if
        that cannot be done now (no such chat, or the database is down: answers go on)."""
        try:
            told = await tell_privately(
                self._conversations, self._desk.requests.outbox, user_id, text
            )
        except Exception:
            log.exception("could not queue a private Teams message")
            return False
        if told:
            self._kick()
        return told

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


def _user_name(activity: Any) -> str | None:
    sender = activity.from_property
    return str(sender.name) if sender is not None and sender.name else None


def _warning_text(turn_context: TurnContext, reply: Reply) -> str:
    """Teams has no private replies in a channel or group chat: there the warning is its own
    message, before the answer, saying who it is for."""
    warning = str(reply.warning)
    if is_personal(turn_context.activity):
        return warning
    name = _user_name(turn_context.activity) or "the sender"
    return f"{warning} (For {name}: Teams cannot show this privately in a channel or group chat.)"
