"""Places a requester can search for themselves while a specialist works on their request.

The confirmation of a search request offers these links so the wait is not wasted. The search
words come only from the stored ticket, whose text has already been through the privacy
scanner, so an identifier typed into the form never reaches another site's address bar; the
scanner's "[... removed]" labels are dropped too, as they are not search words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import quote

from bot.messages import SourceLink
from knowledge.models import KnowledgeBase, SearchLink

#: Search boxes take keywords, not paragraphs: a longer question is cut at a word boundary.
MAX_SEARCH_CHARS = 200
_REMOVED_LABEL = re.compile(r"\[[^\[\]]*\bremoved\]")
_SPACES = re.compile(r"\s+")


def search_words(question: str) -> str:
    """The stored (redacted) question as words for a search box."""
    words = _SPACES.sub(" ", _REMOVED_LABEL.sub(" ", question)).strip()
    if len(words) <= MAX_SEARCH_CHARS:
        return words
    cut = words[:MAX_SEARCH_CHARS]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def search_links(links: Iterable[SearchLink], question: str) -> tuple[SourceLink, ...]:
    """Each configured search, filled with the URL-encoded words; none if no words are left."""
    words = search_words(question)
    if not words:
        return ()
    encoded = quote(words, safe="")
    return tuple(SourceLink(link.name, link.url_for(encoded)) for link in links)


def signpost_line(links: Iterable[SearchLink], question: str) -> str | None:
    """The sentence added to a request's confirmation, or None when there is nothing to offer."""
    found = search_links(links, question)
    if not found:
        return None
    listed = " · ".join(f"[{link.title}]({link.url})" for link in found)
    return f"While you wait, you can search for this topic yourself: {listed}"


class Signposts:
    """Reads the links from the knowledge base in use, so a site.yaml edit applies on reload."""

    def __init__(self, knowledge: Callable[[], KnowledgeBase]) -> None:
        self._knowledge = knowledge

    def __call__(self, question: str) -> str | None:
        return signpost_line(self._knowledge().search_links, question)
