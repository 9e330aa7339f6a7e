"""The core's two entry points for every adapter: a message arrived, a person acted.

`on_message` and `on_action` are where a Slack event, a Teams activity or a web-chat post ends
up once translated; they return neutral replies and forms. A newcomer looking for "where does
a button click go" starts at `on_action`: `_dispatch`, then `_ticket_step`, map each name in
handlers/actions.py to a step.

Where a ticket changes state: bot/desk/tickets/service.py (one method a step: claim, ask,
complete ...), by the rules in bot/desk/tickets/lifecycle.py. The steps that call it are in
handlers/specialist.py (a specialist's buttons), handlers/ticket_desk.py (submitting a request,
the requester's replies) and handlers/impact.py; handlers/ticket_desk.py's docstring maps the
rest of a request's journey.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bot.db.session import Database
from bot.desk.feedback import FeedbackStore
from bot.desk.privacy_gate import scrub_action, scrub_message
from bot.desk.tickets.lifecycle import TicketStatus
from bot.desk.tickets.lookup import awaiting_reply_in, may_be_a_reply, requests_of
from bot.desk.tickets.posts import card_in_thread
from bot.desk.tickets.values import Origin, Person
from bot.errors import UserFacingError
from bot.messages import (
    GENERIC_APOLOGY,
    IncomingMessage,
    Intent,
    Outcome,
    Platform,
    Reply,
    UserAction,
)
from handlers.actions import (
    ASK,
    CANCEL,
    CLAIM,
    COMPLETE,
    IMPACT,
    NOTE,
    OPEN_REQUEST,
    REASSIGN,
    REOPEN,
    STRATEGY,
    SUBMIT_ASK,
    SUBMIT_CANCEL,
    SUBMIT_COMPLETE,
    SUBMIT_IMPACT,
    SUBMIT_NOTE,
    SUBMIT_REASSIGN,
    SUBMIT_REQUEST,
    SUBMIT_STRATEGY,
    SUBMIT_UPDATE,
    UPDATE,
)
from handlers.answers import Answerer
from handlers.cards import card
from handlers.intake import prefill_from_value
from handlers.listening import LISTEN_NOT_NOW, LISTEN_STOP, PER_CHANNEL, Listener, listen_word
from handlers.replies import ACTION_HELPFUL, ACTION_NOT_HELPFUL, ACTION_SHOW_FAQ
from handlers.ticket_desk import TicketDesk
from handlers.wording import wording

log = logging.getLogger(__name__)


def _ignore(intent: str) -> None:
    """The default observer of answers: metrics are wired in by the app."""


@dataclass
class EvidenceDesk:
    answerer: Answerer
    requests: TicketDesk
    feedback: FeedbackStore
    db: Database
    listener: Listener | None = None
    answered: Callable[[str], None] = _ignore

    def prepare(self, messages: Sequence[IncomingMessage]) -> None:
        """Do ahead, in one batch, the costly part of answering these messages (embedding
        them, `Answerer.prepare`): blocking, for a worker thread. `on_message` answers the same
        with or without it."""
        self.answerer.prepare([message.text for message in messages])

    async def on_message(self, message: IncomingMessage) -> Reply:
        """Answer a message, or relay it when it answers a specialist's question.

        "listen on|off|status" is a command to the bot, not a question, on every platform: in a
        channel it switches listening mode there (the sender named in the audit trail); in a
        direct chat there is no channel to switch, so the reply says where to say it."""
        message = scrub_message(message, self.answerer.scanner)
        if self.listener is not None:
            word = listen_word(message.text)
            if word is not None:
                if message.is_direct:
                    return replace(PER_CHANNEL, text=wording(message.platform).listen_where)
                platform = str(message.platform)
                return await self.listener.command(
                    platform, message.conversation_id, f"{platform}:{message.user_id}", word
                )
        person = Person(str(message.platform), message.user_id, message.user_name)
        origin = Origin(str(message.platform), message.conversation_id, message.thread_id)
        try:
            ticket = (
                await awaiting_reply_in(self.db, origin, person, direct=message.is_direct)
                if may_be_a_reply(message)
                else None
            )
        except Exception:
            # The FAQ answer needs no database: keep answering while it is down.
            log.exception("could not check for a ticket awaiting this reply")
            ticket = None
        if ticket is not None:
            relayed = await self.requests.requester_replied(ticket, message.text)
            return self.answerer.signposting(message.text) or relayed
        answer = self.answerer.answer(message.text)
        reply = answer.reply
        self.answered(str(reply.intent))
        result = answer.classification
        if reply.intent is Intent.UNKNOWN and result is not None and not result.redirect:
            try:
                if result.text:
                    await self.feedback.record_unanswered(result.text)
            except Exception:
                log.exception("could not record an unanswered question")
        return reply

    async def on_overheard(self, message: IncomingMessage) -> Reply | None:
        """A channel message not addressed to the bot: relayed if it answers a specialist's
        question in a request's thread; kept as an internal note if a specialist wrote it in
        a ticket card's thread; in a channel that opted in to listening, perhaps answered
        unasked (see handlers/listening.py); otherwise ignored and not stored."""
        message = scrub_message(message, self.answerer.scanner)
        person = Person(str(message.platform), message.user_id, message.user_name)
        origin = Origin(str(message.platform), message.conversation_id, message.thread_id)
        ticket = (
            await awaiting_reply_in(self.db, origin, person) if may_be_a_reply(message) else None
        )
        if ticket is not None:
            relayed = await self.requests.requester_replied(ticket, message.text)
            return self.answerer.signposting(message.text) or relayed
        carded = await card_in_thread(self.db, origin.platform, origin.channel_id, origin.thread_id)
        if carded is not None:
            return await self.requests.specialist.note_from_thread(carded, person, message.text)
        if self.listener is not None:
            return await self.listener.overheard(message)
        return None

    async def home(self, platform: Platform, user_id: str) -> list[Reply]:
        """A person's home view: their requests, and for specialists their queue and the
        unclaimed requests they can take."""
        person = Person(str(platform), user_id)
        mine = await requests_of(self.db, person)
        lines = [
            f"**{t.reference}**: {t.question[:80]} ({t.status.value.replace('_', ' ')}, due {t.due_date:%-d %b})"
            for t in mine
        ]
        sections = [
            Reply(
                text="**Your evidence requests**\n"
                + (
                    "\n".join(lines)
                    if lines
                    else "You have not made any requests yet. " + wording(platform).how_to_ask
                ),
                intent=Intent.SEARCH_REQUEST,
            )
        ]
        specialist = await self.requests.routing.specialist_for(str(platform), user_id)
        if specialist is None or not specialist.is_active:
            return sections
        tickets = self.requests.tickets
        assigned = [t for t in await tickets.list(assignee=specialist.id, limit=20) if t.is_open]
        unclaimed = await tickets.list(status=TicketStatus.NEW, limit=10)
        sections.append(
            Reply(text=f"**Your queue** ({len(assigned)} open)", intent=Intent.SEARCH_REQUEST)
        )
        sections.extend(card(t) for t in assigned[:10])
        sections.append(
            Reply(
                text=f"**Waiting to be claimed** ({len(unclaimed)})", intent=Intent.SEARCH_REQUEST
            )
        )
        sections.extend(card(t) for t in unclaimed)
        return sections

    async def on_action(self, action: UserAction) -> Outcome:
        """Do what a button or form means; a person's mistake gets a clear reply, a bug an
        apology (logged with its trace), and neither loses what they sent."""
        action = scrub_action(action, self.answerer.scanner)
        try:
            # One unit of work (a savepoint of the caller's, if it has one): a ticket's change
            # and the messages it causes commit together, and a failure half-way undoes both.
            async with self.db.unit_of_work():
                return await self._dispatch(action)
        except UserFacingError as exc:
            return Outcome(reply=Reply(text=str(exc), intent=Intent.UNKNOWN, ephemeral=True))
        except Exception:
            log.exception("action %s failed", action.action)
            return Outcome(reply=Reply(text=GENERIC_APOLOGY, intent=Intent.UNKNOWN, ephemeral=True))

    async def _dispatch(self, action: UserAction) -> Outcome:
        person = Person(str(action.platform), action.user_id, action.user_name)
        answers = action.answers()
        name = action.action
        if name in (ACTION_HELPFUL, ACTION_NOT_HELPFUL):
            await self.feedback.record_vote(
                action.value, name == ACTION_HELPFUL, str(action.platform), action.user_id
            )
            thanks = "Thanks for the feedback." + (
                "" if name == ACTION_HELPFUL else " Ask a librarian if you still need help."
            )
            return Outcome(reply=Reply(text=thanks, intent=Intent.SMALLTALK, ephemeral=True))
        if name == LISTEN_NOT_NOW:
            return Outcome(
                reply=Reply(
                    text="OK, I'll stay out of this one.", intent=Intent.SMALLTALK, ephemeral=True
                )
            )
        if name == LISTEN_STOP and self.listener is not None:
            stopped = await self.listener.command(
                str(action.platform),
                action.channel_id,
                f"{action.platform}:{action.user_id}",
                "off",
            )
            who = action.user_name or "Someone"
            return Outcome(
                reply=replace(stopped, text=f"{who} turned listening off. {stopped.text}")
            )
        if name == ACTION_SHOW_FAQ:
            reply = self.answerer.show_faq(action.value)
            if reply is None:
                raise UserFacingError("That answer is no longer in the knowledge base.")
            return Outcome(reply=reply)
        if name == OPEN_REQUEST:
            prefill = prefill_from_value(action.value)
            origin = Origin(str(action.platform), action.channel_id, action.thread_id)
            return Outcome(form=self.requests.open_form(prefill, origin))
        if name == SUBMIT_REQUEST:
            return await self.requests.submit(person, answers, action.form_state, action.event_id)
        return await self._ticket_step(name, action, person)

    async def _ticket_step(self, name: str, action: UserAction, person: Person) -> Outcome:
        """A button on a ticket opens the form for its step (`action.value` is the ticket's
        reference); the submitted form does the step (`action.form_state` carries it back)."""
        specialist, impact = self.requests.specialist, self.requests.impact
        reference, answers = action.value, action.answers()
        opens_form = {
            ASK: specialist.ask_form,
            COMPLETE: specialist.complete_form,
            NOTE: specialist.note_form,
            UPDATE: specialist.update_form,
            CANCEL: specialist.cancel_form,
            IMPACT: impact.impact_form,
        }
        submits = {
            SUBMIT_ASK: specialist.ask,
            SUBMIT_COMPLETE: specialist.complete,
            SUBMIT_NOTE: specialist.add_note,
            SUBMIT_STRATEGY: specialist.add_note,  # the edited starter is kept as a note
            SUBMIT_UPDATE: specialist.send_update,
            SUBMIT_REASSIGN: specialist.reassign,
            SUBMIT_CANCEL: specialist.cancel,
            SUBMIT_IMPACT: impact.record_impact,
        }
        if name in opens_form:
            return Outcome(form=opens_form[name](reference))
        if name in submits:
            return await submits[name](action.form_state, person, answers)
        if name == CLAIM:
            return Outcome(reply=await specialist.claim(reference, person))
        if name == REOPEN:
            return Outcome(reply=await specialist.reopen(reference, person))
        if name == STRATEGY:
            return Outcome(form=await specialist.strategy_form(reference, person))
        if name == REASSIGN:
            return Outcome(form=await specialist.reassign_form(reference))
        raise UserFacingError("I don't recognise that button any more; please ask again.")
