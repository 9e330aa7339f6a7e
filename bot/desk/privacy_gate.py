"""The one place every message and action passes through the privacy scanner on its way in.

Adapters build a neutral `IncomingMessage` or `UserAction` and hand it to the core; the core
scrubs it here before anything else sees it, so a field added to an adapter tomorrow cannot
carry an identifier past the scanner by forgetting to call it. What is scrubbed here are the
fields nobody is warned about: display names and button values. A message's text and a form's
answers are not changed here, because the person must be told what was found (the answerer's
private warning, the form's field errors and "send with them removed" choice); they are
redacted where they are stored (tickets, unanswered questions, the inbound journal), the
storage layer being the second line for everything.

A form's state is not scanned: it holds platform ids, which redaction would corrupt (the first
ten digits of a Slack timestamp such as ``1700000000.000100`` pass the NHS check one time in
eleven; a Teams channel id, ``19:...@thread.tacv2``, is shaped like an email address). It is
the server's own value, handed back by the platform; making it tamper-proof is what keeps a
client from writing there.
"""

from __future__ import annotations

from dataclasses import replace

from bot.desk.privacy import PrivacyScanner
from bot.messages import IncomingMessage, UserAction

__all__ = ["scrub_action", "scrub_message"]


def _scrubbed(text: str | None, scanner: PrivacyScanner) -> str | None:
    if not text:
        return text
    findings = scanner.scan(text)
    return scanner.redact(text, findings) if findings else text


def scrub_message(message: IncomingMessage, scanner: PrivacyScanner) -> IncomingMessage:
    """The message with its sender's display name redacted (the text is left to the answerer)."""
    name = _scrubbed(message.user_name, scanner)
    return message if name == message.user_name else replace(message, user_name=name)


def scrub_action(action: UserAction, scanner: PrivacyScanner) -> UserAction:
    """The action with its display name and button value redacted (a vote's value becomes an
    FAQ id in the feedback table; an "open the form" value becomes the form's prefill)."""
    name = _scrubbed(action.user_name, scanner)
    value = _scrubbed(action.value, scanner) or ""
    if name == action.user_name and value == action.value:
        return action
    return replace(action, user_name=name, value=value)
