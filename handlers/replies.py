"""The words the bot says for each verdict, built from KB content and the site profile.

Kept apart from classification so wording can change without touching matching, and so every
adapter renders the same reply.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.messages import Button, Intent, Reply, RequestPrefill, SourceLink, Suggestion
from handlers.classify import Classification
from handlers.intake import prefill_value
from knowledge.models import FaqEntry, KnowledgeBase

ACTION_HELPFUL = "faq_helpful"
ACTION_NOT_HELPFUL = "faq_not_helpful"
ACTION_SHOW_FAQ = "faq_show"
ACTION_OPEN_REQUEST = "request_open"

_THANKS = ("thank", "cheers", "ta ", "appreciate", "brilliant", "perfect", "great", "helpful")
_BYE = ("bye", "see ya", "cya", "night", "later")


def _contact_line(site: Mapping[str, str]) -> str:
    parts = [f"**{site.get('library_name', 'your library')}**"]
    if site.get("library_email"):
        parts.append(f"email {site['library_email']}")
    if site.get("library_phone"):
        parts.append(f"phone {site['library_phone']}")
    return ", ".join(parts)


def faq_reply(entry: FaqEntry, score: float) -> Reply:
    return Reply(
        text=entry.answer,
        intent=Intent.FAQ,
        title=entry.title,
        faq_id=entry.id,
        score=score,
        sources=tuple(SourceLink(link.title, link.url) for link in entry.links),
        buttons=(
            Button("Helpful", ACTION_HELPFUL, entry.id),
            Button("Not helpful", ACTION_NOT_HELPFUL, entry.id),
            Button("Ask a librarian", ACTION_OPEN_REQUEST, ""),
        ),
    )


def search_request_reply(result: Classification, site: Mapping[str, str]) -> Reply:
    topic = result.topic or ""
    when = f" (needed {result.deadline_text})" if result.deadline_text else ""
    text = (
        f"It sounds like you would like a knowledge specialist to find evidence on **{topic}**{when}.\n"
        "I can't give clinical advice myself, but a short request form (question, purpose, "
        "deadline, scope) gets your question to the right specialist with a reference number.\n"
        "Please leave out patient-identifiable details (names, NHS numbers, dates of birth)."
    )
    return Reply(
        text=text,
        intent=Intent.SEARCH_REQUEST,
        score=result.score,
        prefill=RequestPrefill(topic, result.deadline_text, result.deadline),
        buttons=(
            Button(
                "Open the request form",
                ACTION_OPEN_REQUEST,
                prefill_value(RequestPrefill(topic, result.deadline_text, result.deadline)),
                style="primary",
            ),
        ),
    )


def smalltalk_reply(result: Classification) -> Reply:
    lowered = result.text.lower()
    if any(word in lowered for word in _THANKS):
        text = "You're welcome. Ask me any time about library services, OpenAthens or evidence searches."
    elif any(word in lowered for word in _BYE):
        text = "Bye for now."
    else:
        text = (
            "Hello! I'm Evidence Desk. Ask me about library services or NHS OpenAthens, or ask a "
            "knowledge specialist to find evidence for you (for example: *can you find evidence "
            "on falls prevention by Friday?*)."
        )
    return Reply(text=text, intent=Intent.SMALLTALK)


def unknown_reply(result: Classification, kb: KnowledgeBase) -> Reply:
    contact = _contact_line(kb.site)
    if result.suggestions:
        suggestions = tuple(
            Suggestion(entry.id, entry.title)
            for entry in (kb.get(i) for i in result.suggestions)
            if entry is not None
        )
        return Reply(
            text="I'm not sure I've understood. Did you mean one of these?",
            intent=Intent.UNKNOWN,
            score=result.score,
            suggestions=suggestions,
            buttons=(
                *(Button(s.title, ACTION_SHOW_FAQ, s.faq_id) for s in suggestions),
                Button("Ask a librarian", ACTION_OPEN_REQUEST, ""),
            ),
        )
    if result.redirect:
        text = (
            f"That's one for **{result.redirect}** rather than the library, so I can't help with "
            f"it here.\nFor library services, OpenAthens or evidence searches, ask me or contact {contact}."
        )
    else:
        text = (
            "Sorry, I can't help with that. I answer questions about library services and NHS "
            "OpenAthens, and I pass requests for evidence to your knowledge specialist. I never "
            f"give clinical advice.\nTo reach a person, contact {contact}."
        )
    return Reply(text=text, intent=Intent.UNKNOWN, score=result.score)


def too_long_reply(length: int, limit: int) -> Reply:
    return Reply(
        text=(
            f"That message is too long for me ({length:,} characters; the limit is {limit:,}). "
            "Please send a shorter question, or ask for the request form to describe a search."
        ),
        intent=Intent.UNKNOWN,
        ephemeral=True,
    )


def build_reply(result: Classification, kb: KnowledgeBase) -> Reply:
    if result.intent is Intent.FAQ and result.faq_id is not None:
        entry = kb.get(result.faq_id)
        if entry is not None:
            return faq_reply(entry, result.score)
    if result.intent is Intent.SEARCH_REQUEST:
        return search_request_reply(result, kb.site)
    if result.intent is Intent.SMALLTALK:
        return smalltalk_reply(result)
    return unknown_reply(result, kb)
