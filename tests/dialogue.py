"""Dialogues with the whole desk, written as scripts (in the spirit of botbuilder's TestAdapter
and errbot's testbot):

    chat = await Dialogue.start(database, clock)
    await (
        chat.send("can you find evidence on falls prevention by Friday?")
        .expect_reply(contains="search for you")
        .click("Ask a librarian")
        .expect_form("Request")
        .submit_form(purpose="research")
        .expect_reply(contains="is with Sam Librarian")
        .as_specialist()
        .expect_reply(contains="falls prevention", buttons=["Claim", ...])
        .click("Claim")
        .expect_reply(contains="You have claimed", private=True)
    )

Nothing is stubbed: every step goes through the core inbox, the desk, the outbox and the
database (bot/platforms/terminal.py, the terminal chat's own platform), and a person sees what the
outbox delivered to the conversations they are in, plus what was shown to them alone (a form,
a private note). `expect_reply` takes the first message not yet expected that fits, because
messages to different conversations are delivered in parallel; `expect_nothing_more` then
checks that nothing else came, so one message too many fails a test.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.config import Settings
from bot.db.session import Database
from bot.delivery.outbox import Destination
from bot.desk.tickets.routing import Identity, NewSpecialist, RoutingService
from bot.messages import Form, Intent, Reply
from bot.platforms.terminal import PLATFORM, Delivery, LocalChat
from bot.services import assemble_desk
from knowledge import SHIPPED_KB_DIR
from knowledge.store import KnowledgeStore
from tests.signed import TEST_SIGNER

#: The ward's channel, routed to Sam Librarian, whose cards go to the library's queue channel.
WARD, QUEUE = "C_WARD", "C_LIBRARY"


@dataclass(frozen=True)
class Seen:
    """A message a person has: delivered to a conversation they are in, or shown to them
    alone when they acted (`destination` None)."""

    key: str
    reply: Reply
    destination: Destination | None
    edit: bool = False

    @property
    def private(self) -> bool:
        return self.destination is None or self.destination.visible_to is not None

    def describe(self) -> str:
        kind = "edit" if self.edit else "private" if self.private else "message"
        buttons = f" {[b.label for b in self.reply.buttons]}" if self.reply.buttons else ""
        return f"{kind}: {self.reply.text[:160]!r}{buttons}"


@dataclass(eq=False)
class Person:
    """Someone in the dialogue: who they are, where they talk, what they have been sent."""

    dialogue: Dialogue
    user: str
    name: str
    conversation: str
    direct: bool = False
    thread: str | None = None
    unseen: list[Seen] = field(default_factory=list)
    received: list[Seen] = field(default_factory=list)
    form: Form | None = None
    #: The last message an expectation matched (to read a reference from, for example).
    last: Seen | None = None

    def sees(self, delivery: Delivery) -> bool:
        where = delivery.destination
        return where.channel_id in (self.conversation, self.user) and where.visible_to in (
            None,
            self.user,
        )

    def receive(self, seen: Seen) -> None:
        self.unseen.append(seen)
        self.received.append(seen)

    def flow(self) -> Flow:
        return Flow(self.dialogue, self)

    @property
    def reply(self) -> Reply:
        """The reply the last expectation matched, to look at more closely."""
        assert self.last is not None, f"nothing was expected of {self.name} yet"
        return self.last.reply


Step = Callable[[Person], Awaitable[None]]


class Flow:
    """A script of steps, run in order when awaited; each step acts or checks as the person
    the flow speaks as at that point (`as_specialist`, `as_requester`, `as_`)."""

    def __init__(self, dialogue: Dialogue, actor: Person) -> None:
        self.dialogue = dialogue
        self._actor = actor
        self._steps: list[tuple[Person, Step]] = []

    def __await__(self) -> Generator[Any, None, None]:
        return self._run().__await__()

    async def _run(self) -> None:
        for actor, step in self._steps:
            await step(actor)

    def _then(self, step: Step) -> Flow:
        self._steps.append((self._actor, step))
        return self

    # ---- who speaks -----------------------------------------------------------------------

    def as_(self, person: Person) -> Flow:
        self._actor = person
        return self

    def as_specialist(self) -> Flow:
        return self.as_(self.dialogue.specialist)

    def as_requester(self) -> Flow:
        return self.as_(self.dialogue.requester)

    # ---- acting -------------------------------------------------------------------------

    def send(self, text: str) -> Flow:
        """Say something to the bot (mentioning it in a channel, or in a direct chat)."""

        async def step(person: Person) -> None:
            await self.dialogue.said(person, text, addressed=True)

        return self._then(step)

    def overhear(self, text: str) -> Flow:
        """Say something in the person's channel without addressing the bot."""

        async def step(person: Person) -> None:
            await self.dialogue.said(person, text, addressed=False)

        return self._then(step)

    def click(self, label: str) -> Flow:
        """Press the button with this label on the newest message the person has that shows
        one (a card's latest version, not one it has moved past)."""

        async def step(person: Person) -> None:
            latest: dict[str, Seen] = {}
            for seen in person.received:
                latest.pop(seen.key, None)
                latest[seen.key] = seen
            for seen in reversed(latest.values()):
                for button in seen.reply.buttons:
                    if button.label == label:
                        where = seen.destination
                        await self.dialogue.acted(
                            person,
                            button.action,
                            value=button.value,
                            conversation=where.channel_id if where else person.conversation,
                            thread=where.thread_id if where else person.thread,
                        )
                        return
            raise AssertionError(
                f"{person.name} has no message with a {label!r} button; they have:\n"
                + "\n".join(s.describe() for s in latest.values())
            )

        return self._then(step)

    def submit_form(self, **values: str) -> Flow:
        """Submit the form the person was last shown, with its own values (prefilled ones)
        and these."""

        async def step(person: Person) -> None:
            form = person.form
            assert form is not None, f"{person.name} has no form open"
            answers = {f.name: f.value for f in form.fields if f.value} | values
            await self.dialogue.acted(
                person,
                form.form_id,
                values=tuple(answers.items()),
                form_state=form.state,
                conversation=person.conversation,
                thread=person.thread,
            )

        return self._then(step)

    # ---- expecting ----------------------------------------------------------------------

    def expect_reply(
        self,
        contains: str | None = None,
        *,
        intent: Intent | None = None,
        faq_id: str | None = None,
        private: bool | None = None,
        buttons: Sequence[str] | None = None,
        warning: str | None = None,
    ) -> Flow:
        """The person has a new message (not an edit) with all of this; `buttons` is the
        exact list of labels (Ellipsis at the end: at least these first)."""

        def fits(seen: Seen) -> bool:
            reply = seen.reply
            labels = [b.label for b in reply.buttons]
            return (
                not seen.edit
                and (contains is None or contains in reply.text)
                and (intent is None or reply.intent is intent)
                and (faq_id is None or reply.faq_id == faq_id)
                and (private is None or seen.private is private)
                and (buttons is None or _labels_fit(labels, buttons))
                and (warning is None or warning in (reply.warning or reply.text))
            )

        return self._then(_expect(fits, f"a reply {_wanted(contains, intent, faq_id, buttons)}"))

    def expect_edit(
        self, contains: str | None = None, *, buttons: Sequence[str] | None = None
    ) -> Flow:
        """A message the person has was changed in place (a ticket's card)."""

        def fits(seen: Seen) -> bool:
            labels = [b.label for b in seen.reply.buttons]
            return (
                seen.edit
                and (contains is None or contains in seen.reply.text)
                and (buttons is None or _labels_fit(labels, buttons))
            )

        return self._then(_expect(fits, f"an edit {_wanted(contains, None, None, buttons)}"))

    def expect_form(self, title: str | None = None, *, errors: Sequence[str] = ()) -> Flow:
        """The person is shown a form (its title containing `title`), with errors beside
        exactly these fields."""

        async def step(person: Person) -> None:
            form = person.form
            assert form is not None, f"{person.name} was shown no form"
            assert title is None or title in form.title, f"form {form.title!r}, not {title!r}"
            assert sorted(name for name, _ in form.errors) == sorted(errors), form.errors

        return self._then(step)

    def expect_no_form(self) -> Flow:
        async def step(person: Person) -> None:
            assert person.form is None, f"{person.name} was shown {person.form}"

        return self._then(step)

    def expect_nothing_more(self) -> Flow:
        """Every message the person was sent (edits included) has been expected."""

        async def step(person: Person) -> None:
            assert not person.unseen, f"{person.name} was also sent:\n" + "\n".join(
                s.describe() for s in person.unseen
            )

        return self._then(step)


def _labels_fit(labels: list[str], wanted: Sequence[Any]) -> bool:
    if wanted and wanted[-1] is Ellipsis:
        head = list(wanted[:-1])
        return labels[: len(head)] == head
    return labels == list(wanted)


def _wanted(
    contains: str | None, intent: Intent | None, faq_id: str | None, buttons: Sequence[Any] | None
) -> str:
    parts = [
        f"{name}={value!r}"
        for name, value in (
            ("containing", contains),
            ("intent", intent),
            ("faq_id", faq_id),
            ("buttons", buttons),
        )
        if value is not None
    ]
    return ", ".join(parts)


def _expect(fits: Callable[[Seen], bool], wanted: str) -> Step:
    async def step(person: Person) -> None:
        for seen in person.unseen:
            if fits(seen):
                person.unseen.remove(seen)
                person.last = seen
                return
        raise AssertionError(
            f"{person.name} expected {wanted}; unexpected so far:\n"
            + ("\n".join(s.describe() for s in person.unseen) or "(nothing)")
        )

    return step


class Dialogue:
    """The desk, a requester in the ward's channel and the specialist the ward is routed to.
    Steps started on the dialogue itself speak as the requester."""

    def __init__(self, chat: LocalChat) -> None:
        self.chat = chat
        self.people: list[Person] = []
        self.requester = self.person("U_REQ", "Dr Requester", WARD)
        self.specialist = self.person("U_SPEC", "Sam Librarian", QUEUE)

    @classmethod
    async def start(
        cls,
        database: Database,
        clock: Callable[[], datetime],
        store: KnowledgeStore | None = None,
    ) -> Dialogue:
        """The whole desk (bot/services.py, as the server builds it) on this database, with
        Sam Librarian as the ward's specialist; `store` defaults to the shipped KB with the
        lexical matcher."""
        settings = Settings(kb_dir=SHIPPED_KB_DIR, feedback_salt=secrets.token_hex(8))
        desk = assemble_desk(
            settings,
            database,
            store or KnowledgeStore.from_directory(SHIPPED_KB_DIR),
            signer=TEST_SIGNER,
            clock=clock,
            today=lambda: clock().date(),
        )
        routing = RoutingService(database, clock)
        sam = await routing.add_specialist(
            NewSpecialist("Sam Librarian", identities=(Identity(str(PLATFORM), "U_SPEC"),))
        )
        route = await routing.add_route(
            str(PLATFORM), WARD, "Elderly care", notify_platform=str(PLATFORM),
            notify_channel_id=QUEUE,
        )  # fmt: skip
        await routing.link(route.id, sam.id)
        return cls(LocalChat(desk, database))

    def person(self, user: str, name: str, conversation: str, *, direct: bool = False) -> Person:
        """Someone else in the dialogue (`direct`: they talk to the bot in a direct chat)."""
        found = Person(self, user, name, conversation, direct)
        self.people.append(found)
        return found

    # ---- what the steps do ----------------------------------------------------------------

    async def said(self, person: Person, text: str, *, addressed: bool) -> None:
        self._delivered(
            await self.chat.say(
                person.user,
                text,
                conversation=person.conversation,
                thread=person.thread,
                direct=person.direct,
                addressed=addressed,
                user_name=person.name,
            )
        )

    async def acted(self, person: Person, action: str, **where: Any) -> None:
        """`where`: the rest of TerminalChat.act's keywords (conversation, value, thread,
        values, form_state); the person's name is theirs."""
        outcome, delivered = await self.chat.act(
            person.user, action, user_name=person.name, **where
        )
        person.form = outcome.form
        if outcome.reply is not None:
            person.receive(Seen(f"shown-{secrets.token_hex(4)}", outcome.reply, None))
        self._delivered(delivered)

    def _delivered(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            for person in self.people:
                if person.sees(delivery):
                    person.receive(
                        Seen(
                            delivery.message_id, delivery.reply, delivery.destination, delivery.edit
                        )
                    )

    # ---- steps started on the dialogue speak as the requester -------------------------------

    def as_(self, person: Person) -> Flow:
        return self.requester.flow().as_(person)

    def as_specialist(self) -> Flow:
        return self.requester.flow().as_specialist()

    def send(self, text: str) -> Flow:
        return self.requester.flow().send(text)

    def overhear(self, text: str) -> Flow:
        return self.requester.flow().overhear(text)

    def click(self, label: str) -> Flow:
        return self.requester.flow().click(label)
