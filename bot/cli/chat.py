"""`evidence-desk chat`: the whole desk in the terminal, not only its answers.

A line typed here goes where a Slack message goes: through the core inbox to the desk, its
replies through the outbox (bot/platforms/terminal.py), so requests, a specialist's questions, relayed
replies, listening mode and feedback all work, on the configured database. The terminal is a
platform of its own ("cli"): route a terminal channel with `evidence-desk routes add cli ...`
and give a specialist a `cli:NAME` identity to work a request from here too. What the desk sends
to other platforms (a card for a Slack queue) stays in the outbox for the server to deliver.
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.messages import Button, Form
from bot.platforms.terminal import Delivery, LocalChat
from bot.render_text import render_text

HELP = """\
Type to the bot. Buttons show as [Label]: type [Label] to press one ([1] for a suggestion).
  /as USER [NAME]   speak as someone else (a specialist with a cli:USER identity, say)
  /in CHANNEL       talk in a channel (routed with `routes add cli CHANNEL ...`); /in: back to
                    your direct chat with the bot
  /aside TEXT       say something in the channel without addressing the bot
  /help             this; quit (or Ctrl-D) to leave"""

_PRESS = re.compile(r"^\[(.+)\]$")


@dataclass
class Terminal:
    """Who is typing, where, and the buttons they can press now."""

    chat: LocalChat
    read: Callable[[str], str]
    write: Callable[[str], None]
    user: str = field(default_factory=getpass.getuser)
    name: str | None = None
    channel: str | None = None  # None: the person's direct chat with the bot
    #: The latest version of each message delivered, by message id, oldest first: where
    #: buttons are pressed from (a card's buttons, once someone has moved to its channel).
    delivered: dict[str, Delivery] = field(default_factory=dict)
    #: The buttons of what was shown to this person alone, just now.
    shown_buttons: list[Button] = field(default_factory=list)

    @property
    def conversation(self) -> str:
        return self.channel or f"direct:{self.user}"

    def show(self, delivery: Delivery) -> None:
        """Print a delivery: here, or tagged with where it went (someone else's chat, the
        specialists' queue), so a request can be followed from one terminal."""
        self.delivered.pop(delivery.message_id, None)
        self.delivered[delivery.message_id] = delivery
        where = delivery.destination
        if where.visible_to not in (None, self.user):
            return
        tag = "bot" if self._here(delivery) else f"bot -> {where.channel_id}"
        if delivery.edit:
            tag += " (updated)"
        if where.visible_to:
            tag += " (only you)"
        self.write(render_text(delivery.reply, f"{tag}> "))

    def _here(self, delivery: Delivery) -> bool:
        where = delivery.destination
        return where.channel_id in (self.conversation, self.user) and where.visible_to in (
            None,
            self.user,
        )

    def _buttons(self) -> list[Button]:
        """What can be pressed now: the newest message here that has buttons."""
        if self.shown_buttons:
            return self.shown_buttons
        for delivery in reversed(self.delivered.values()):
            if delivery.reply.buttons and self._here(delivery):
                return list(delivery.reply.buttons)
        return []

    async def run(self) -> int:
        self.write("Evidence Desk (terminal chat on the whole desk). /help for commands.")
        while True:
            try:
                line = self.read(f"{self.name or self.user}> ").strip()
            except (EOFError, KeyboardInterrupt):
                self.write("")
                return 0
            if line.lower() in {"quit", "exit"}:
                return 0
            if line:
                await self.turn(line)

    async def turn(self, line: str) -> None:
        command, _, rest = line.partition(" ")
        if command == "/help":
            self.write(HELP)
        elif command == "/as" and rest.strip():
            user, _, name = rest.strip().partition(" ")
            self.user, self.name, self.shown_buttons = user, name or None, []
        elif command == "/in":
            self.channel, self.shown_buttons = rest.strip() or None, []
        elif command == "/aside" and rest.strip():
            await self._say(rest.strip(), addressed=False)
        elif pressed := _PRESS.match(line):
            await self._press(pressed.group(1).strip())
        else:
            await self._say(line, addressed=True)

    async def _say(self, text: str, *, addressed: bool) -> None:
        self.shown_buttons = []
        await self.chat.say(
            self.user,
            text,
            conversation=self.conversation,
            direct=self.channel is None,
            addressed=addressed,
            user_name=self.name or self.user,
        )

    async def _press(self, label: str) -> None:
        buttons = self._buttons()
        suggestions = [b for b in buttons if b.action == "faq_show"]
        button = next((b for b in buttons if b.label.lower() == label.lower()), None)
        if button is None and label.isdigit() and 0 < int(label) <= len(suggestions):
            button = suggestions[int(label) - 1]
        if button is None:
            self.write(f"No [{label}] button here. /help for commands.")
            return
        await self._act(button.action, value=button.value)

    async def _act(
        self, action: str, *, value: str = "", values: dict[str, str] | None = None, state: str = ""
    ) -> None:
        self.shown_buttons = []
        outcome, _ = await self.chat.act(
            self.user,
            action,
            conversation=self.conversation,
            value=value,
            values=tuple((values or {}).items()),
            form_state=state,
            user_name=self.name or self.user,
        )
        if outcome.reply is not None:
            self.write(render_text(outcome.reply, "bot (only you)> "))
            self.shown_buttons = list(outcome.reply.buttons)
        if outcome.form is not None:
            answers = self._fill(outcome.form)
            if answers is not None:
                await self._act(outcome.form.form_id, values=answers, state=outcome.form.state)

    def _fill(self, form: Form) -> dict[str, str] | None:
        """Ask for each field in turn; Enter keeps the value shown, "." cancels the form."""
        self.write(f"-- {form.title} (Enter keeps [the value shown]; '.' cancels) --")
        if form.notice:
            self.write(form.notice)
        answers: dict[str, str] = {}
        for item in form.fields:
            if error := form.error_for(item.name):
                self.write(f"  ! {error}")
            for number, choice in enumerate(item.choices, start=1):
                self.write(f"    {number}. {choice.label}")
            shown = f" [{item.value}]" if item.value else ""
            try:
                typed = self.read(f"{item.label}{' *' if item.required else ''}{shown}: ").strip()
            except (EOFError, KeyboardInterrupt):
                typed = "."
            if typed == ".":
                self.write("Form cancelled; nothing was sent.")
                return None
            if typed.isdigit() and 0 < int(typed) <= len(item.choices):
                typed = item.choices[int(typed) - 1].value
            answers[item.name] = typed or item.value
        return answers
