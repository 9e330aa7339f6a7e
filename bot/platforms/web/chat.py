"""The local web chat: a third adapter on the same core as Slack and Teams.

The page (GET /) posts what a person types to POST /chat/api/message and the buttons they
press and forms they submit to POST /chat/api/action; both hand a neutral `IncomingMessage` or
`UserAction` to `EvidenceDesk`, exactly as the Slack listeners do, and answer with the
reply or form rendered as HTML (bot/platforms/web/render.py). What the bot says on its own initiative
(a ticket's progress, a specialist's question, a new card for the specialist) arrives through
the outbox and the `WebMessenger`, and the page polls GET /chat/api/messages for it.

Identities: in demo mode the page chooses its user id (a random one per browser, or the demo
specialist's in the specialist view). Outside demo mode the id comes from an HttpOnly cookie
the server issues and signs (bot/platforms/web/identity.py); one it did not sign is refused with 403,
so nobody can speak as someone else.
specialist's in the specialist view). Outside demo mode, with "Sign in with Microsoft" set up
(bot/platforms/web/sso/), the page needs a sign-in and the id is the signed-in person's; without it, the
id comes from an HttpOnly cookie the server issues and signs (bot/platforms/web/identity.py). Either
way, a request without one is refused with 403, so nobody can speak as someone else.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any, Final
from uuid import uuid4

from aiohttp import web
from pydantic import TypeAdapter

from bot.delivery.inbox import InboundEvent
from bot.delivery.outbox import Destination
from bot.delivery.web_messages import StoredMessage, WebMessenger
from bot.keys import ANSWERER, DESK, INBOX, SIGNER
from bot.messages import IncomingMessage, Platform, Reply, UserAction
from bot.platforms.web.clients import secure_cookies
from bot.platforms.web.identity import CHAT_COOKIE, identity, issue, set_identity_cookie
from bot.platforms.web.keys import SSO_ON, WEB_MESSENGER, WEB_SETTINGS
from bot.platforms.web.pages import render
from bot.platforms.web.render import form_html, reply_html
from bot.platforms.web.sso.routes import PERSON, current_person

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
_ACTION = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_REPLY = TypeAdapter(Reply)
MAX_VALUE = 10_000
#: How long a message's POST waits for its answer to be delivered before leaving it to polling.
DELIVERY_WAIT_SECONDS: Final = 2.0


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=f'{{"error": "{message}"}}', content_type="application/json")


def _identifier(value: Any, name: str, *, optional: bool = False) -> str | None:
    if value in (None, "") and optional:
        return None
    if not isinstance(value, str) or not _ID.match(value):
        raise _bad(f"{name} must be 1 to 100 letters, digits or _.:-")
    return value


def _text(value: Any, name: str, limit: int = MAX_VALUE) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise _bad(f"{name} must be text of at most {limit} characters")
    return value


async def _json(request: web.Request) -> dict[str, Any]:
    # Only JSON is accepted: a cross-site form cannot send it without a CORS preflight.
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="send application/json")
    try:
        body = await request.json()
    except ValueError as exc:
        raise _bad("the body is not JSON") from exc
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    return body


def _user(request: web.Request, claimed: Any) -> str:
    """The person speaking: as the page says in demo mode, from the signed cookie otherwise."""
    if request.app[WEB_SETTINGS].demo:
        return _identifier(claimed, "user") or ""
    if request.app.get(SSO_ON, False):
        if PERSON not in request:
            raise web.HTTPForbidden(
                text='{"error": "not signed in, or the session has ended: sign in again"}',
                content_type="application/json",
            )
        return request[PERSON].user_id
    user = identity(request.app[SIGNER], request.cookies.get(CHAT_COOKIE))
    if user is None:
        raise web.HTTPForbidden(
            text='{"error": "no chat identity this server issued: open the chat page first"}',
            content_type="application/json",
        )
    return user


def _conversation(request: web.Request, body: dict[str, Any]) -> str:
    settings = request.app[WEB_SETTINGS]
    conversation = _identifier(body.get("conversation") or settings.conversation, "conversation")
    if not settings.demo and conversation != settings.conversation:
        raise web.HTTPForbidden(text="only the chat's own conversation")
    return conversation or settings.conversation


def _thread(request: web.Request, body: dict[str, Any], user: str) -> str | None:
    """Each person's thread in the chat: theirs to choose in demo mode, their id otherwise."""
    if not request.app[WEB_SETTINGS].demo:
        return user
    return _identifier(body.get("thread"), "thread", optional=True)


def reply_json(reply: Reply) -> dict[str, Any]:
    return {"html": str(reply_html(reply)), "reply": _REPLY.dump_python(reply, mode="json")}


def message_json(message: StoredMessage) -> dict[str, Any]:
    if message.author is not None:  # what the person typed: the page shows it as text
        return {
            "id": message.id,
            "revision": message.revision,
            "thread": message.thread,
            "at": message.at.isoformat(),
            "author": message.author,
            "message_id": message.client_message_id,
            "text": message.reply.text,
        }
    return {
        "id": message.id,
        "revision": message.revision,
        "thread": message.thread,
        "at": message.at.isoformat(),
        "author": None,
        **reply_json(message.reply),
    }


async def chat_page(request: web.Request) -> web.Response:
    settings = request.app[WEB_SETTINGS]
    person = None
    if not settings.demo and request.app.get(SSO_ON, False):
        person = await current_person(request)
        if person is None:
            raise web.HTTPSeeOther(f"/auth/login?next={request.path}")
    response = render(
        "chat.html",
        demo=settings.demo,
        conversation=settings.conversation,
        specialist=settings.specialist_user,
        poll_ms=settings.chat_poll_ms,
        person=person,
    )
    signer = request.app[SIGNER]
    if (
        not settings.demo
        and person is None
        and identity(signer, request.cookies.get(CHAT_COOKIE)) is None
    ):
        set_identity_cookie(response, issue(signer)[1], secure_cookies(request))
    return response


async def post_message(request: web.Request) -> web.Response:
    """Journal the message in the core inbox and answer it before responding (the page has no
    retry of its own to wait for). The answer reaches the page the way every answer reaches
    every platform, through the outbox (the web messenger stores it and the page polls for
    it); a message sent twice under one `message_id` is answered once."""
    body = await _json(request)
    user = _user(request, body.get("user"))
    text = _text(body.get("text"), "text", 100_000)  # the core refuses over-long text itself
    conversation = _conversation(request, body)
    thread = _thread(request, body, user)
    message_id = _identifier(body.get("message_id"), "message_id", optional=True)
    message = IncomingMessage(
        Platform.WEB,
        user,
        text,
        conversation_id=conversation,
        thread_id=thread,
        message_id=message_id,
        user_name=_text(body.get("user_name"), "user_name", 200) or None,
        is_direct=True,
    )
    inbox, messenger = request.app[INBOX], request.app[WEB_MESSENGER]
    event = InboundEvent(
        "web",
        f"{conversation}|{user}|{message_id or uuid4().hex}",
        Destination("web", conversation, thread),
        message,
    )
    # Kept (redacted) beside the answers, so a reload shows the whole conversation; once,
    # however often the page sends it.
    sent = await messenger.record_person(
        conversation, thread, request.app[ANSWERER].scanner.redact(text), message_id
    )
    journal_id = await inbox.accept(event)
    if journal_id is None:  # sent twice: answered the first time
        return web.json_response({"queued": False, "sent": message_json(sent), "replies": []})
    await inbox.answer(journal_id, event)
    delivered = await _delivered_after(messenger, conversation, thread, sent.id)
    return web.json_response(
        {
            "queued": True,
            "sent": message_json(sent),
            "replies": [message_json(m) for m in delivered if m.author is None],
        }
    )


async def _delivered_after(
    messenger: WebMessenger, conversation: str, thread: str | None, seen: int
) -> list[StoredMessage]:
    """The answer, once the outbox worker (woken by the commit) has delivered it: usually
    within milliseconds. If it takes longer, the page's polling picks it up instead."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DELIVERY_WAIT_SECONDS
    while True:
        found = [
            m
            for m in await messenger.messages(conversation, thread=thread, after=seen)
            if m.author is None
        ]
        if found or loop.time() >= deadline:
            return found
        await asyncio.sleep(0.02)


async def post_action(request: web.Request) -> web.Response:
    body = await _json(request)
    name = body.get("action")
    if not isinstance(name, str) or not _ACTION.match(name):
        raise _bad("action must be an action name")
    raw_values = body.get("values") or {}
    if not isinstance(raw_values, dict):
        raise _bad("values must be an object of field: text")
    values = tuple(
        (_identifier(k, "field name") or "", _text(v, f"field {k}")) for k, v in raw_values.items()
    )
    submission = body.get("submission_id")
    user = _user(request, body.get("user"))
    action = UserAction(
        Platform.WEB,
        user,
        name,
        value=_text(body.get("value"), "value", 2000),
        user_name=_text(body.get("user_name"), "user_name", 200) or None,
        channel_id=_conversation(request, body),
        thread_id=_thread(request, body, user),
        values=values,
        form_state=_text(body.get("form_state"), "form_state", 4000),
        event_id=(
            f"web:{_identifier(submission, 'submission_id')}" if submission is not None else None
        ),
    )
    # A shared reply (a request's confirmation) goes through the outbox with the change it
    # reports; only what is for this person alone (a form again, a note) comes back here.
    outcome = await request.app[INBOX].act(
        action, Destination("web", action.channel_id, action.thread_id)
    )
    return web.json_response(
        {
            "reply": reply_json(outcome.reply) if outcome.reply else None,
            "queued": outcome.queued,
            "form": {"html": str(form_html(outcome.form)), "form_id": outcome.form.form_id}
            if outcome.form
            else None,
        }
    )


async def get_messages(request: web.Request) -> web.Response:
    query = request.query
    settings = request.app[WEB_SETTINGS]
    conversation = _conversation(request, {"conversation": query.get("conversation")})
    thread = _identifier(query.get("thread"), "thread", optional=True)
    if not settings.demo:
        thread = _user(request, None)  # a person sees their own thread only
    try:
        after = int(query.get("after") or 0)
        since = datetime.fromisoformat(query["since"]) if query.get("since") else None
    except ValueError as exc:
        raise _bad("after must be a number and since a time") from exc
    if since is not None and since.tzinfo is None:
        raise _bad("since needs a time zone")
    now = datetime.now().astimezone()
    found = await request.app[WEB_MESSENGER].messages(
        conversation, thread=thread, after=after, since=since
    )
    return web.json_response(
        {"messages": [message_json(m) for m in found], "server_time": now.isoformat()}
    )


async def get_home(request: web.Request) -> web.Response:
    user = _user(request, request.query.get("user"))
    sections = await request.app[DESK].home(Platform.WEB, user)
    return web.json_response({"sections": [reply_json(s) for s in sections]})


def add_chat_routes(app: web.Application) -> None:
    app.router.add_get("/", chat_page)
    app.router.add_get("/chat", chat_page)
    app.router.add_post("/chat/api/message", post_message)
    app.router.add_post("/chat/api/action", post_action)
    app.router.add_get("/chat/api/messages", get_messages)
    app.router.add_get("/chat/api/home", get_home)
