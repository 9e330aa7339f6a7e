"""The words the bot says for each verdict, built from KB content and the site profile.

Kept apart from classification so wording can change without touching matching, and so every
adapter renders the same reply.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.messages import Button, Intent, Reply, RequestPrefill, SourceLink, Suggestion
from handlers.actions import OPEN_REQUEST
from handlers.classify import Classification
from handlers.intake import prefill_value
from handlers.urgent import Urgency
from knowledge.models import FaqEntry, KnowledgeBase
from knowledge.urgent import UrgentGuide

ACTION_HELPFUL = "faq_helpful"
ACTION_NOT_HELPFUL = "faq_not_helpful"
ACTION_SHOW_FAQ = "faq_show"
ACTION_OPEN_REQUEST = OPEN_REQUEST  # the same button as on every "Ask a librarian" offer

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


#: The first words of the reply to a clinical question not asked as a request for evidence, and
#: to any question about treating a patient.
CANT_ADVISE = "I can't advise on patient care"


def urgent_reply(urgency: Urgency, guide: UrgentGuide) -> Reply:
    """Signposting only: no buttons, no form, no ticket; the NHS pages it follows as sources."""
    if urgency is Urgency.MENTAL_HEALTH:
        text, links = guide.mental_health_reply, guide.mental_health_sources
    else:
        text, links = guide.emergency_reply, guide.emergency_sources
    return Reply(
        text=text,
        intent=Intent.URGENT,
        title="Urgent help",
        sources=tuple(SourceLink(link.title, link.url) for link in links),
    )


#: The last line of every offer of the request form.
_NO_IDENTIFIERS = (
    "Please leave out patient-identifiable details (names, NHS numbers, dates of birth)."
)


def _wanted(result: Classification) -> str:
    """What the search would be on, in bold, with the deadline the person gave if any."""
    when = f" (needed {result.deadline_text})" if result.deadline_text else ""
    return f"**{result.topic or ''}**{when}"


def clinical_reply(result: Classification) -> Reply:
    """A clinical question is not answered, but always gets the offer of a search request."""
    text = (
        f"{CANT_ADVISE}, and I won't answer clinical questions from the library's knowledge "
        "base. For a decision about a patient now, ask a senior colleague, your pharmacist or the "
        "on-call team.\n"
        f"A knowledge specialist can search the evidence for you on {_wanted(result)}: open the "
        "request form (question, purpose, deadline) and you'll get a reference number.\n"
        + _NO_IDENTIFIERS
    )
    return _form_offer(result, text, button_value=result.topic or "")


def search_request_reply(result: Classification, site: Mapping[str, str]) -> Reply:
    if result.inferred or result.patient_care:
        return clinical_reply(result)
    text = (
        "It sounds like you would like a knowledge specialist to find evidence on "
        f"{_wanted(result)}.\n"
        "I can't give clinical advice myself, but a short request form (question, purpose, "
        "deadline, scope) gets your question to the right specialist with a reference number.\n"
        + _NO_IDENTIFIERS
    )
    prefill = RequestPrefill(result.topic or "", result.deadline_text, result.deadline)
    return _form_offer(result, text, button_value=prefill_value(prefill))


def _form_offer(result: Classification, text: str, *, button_value: str) -> Reply:
    """A reply that offers the search-request form, prefilled with the topic and deadline."""
    return Reply(
        text=text,
        intent=Intent.SEARCH_REQUEST,
        score=result.score,
        prefill=RequestPrefill(result.topic or "", result.deadline_text, result.deadline),
        buttons=(
            Button("Open the request form", ACTION_OPEN_REQUEST, button_value, style="primary"),
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


def build_reply(
    result: Classification, kb: KnowledgeBase, urgent: UrgentGuide | None = None
) -> Reply:
    if result.intent is Intent.URGENT and result.urgency is not None and urgent is not None:
        return urgent_reply(result.urgency, urgent)
    if result.intent is Intent.FAQ and result.faq_id is not None:
        entry = kb.get(result.faq_id)
        if entry is not None:
            return faq_reply(entry, result.score)
    if result.intent is Intent.SEARCH_REQUEST:
        return search_request_reply(result, kb.site)
    if result.intent is Intent.SMALLTALK:
        return smalltalk_reply(result)
    return unknown_reply(result, kb)
