"""Telling a request for evidence from a question about the search service, by meaning.

The grammar rules in `intents` see verbs and nouns: "find papers on X" is a request, "how long
does a search take" is not. They miss requests that use neither ("could someone pull together
what's known about X for our governance meeting") and can mistake a question about the service
for a request when it borrows a request's words ("what do you send back when you run a search
for me"). Sentence embeddings compare the message with a few examples of each kind, written
here so they can be reviewed; the nearer kind wins when it is near enough and clearly nearer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

import numpy as np

from knowledge.embeddings import Embedder, FloatMatrix

#: Asking the library to gather evidence on a subject, worded every way but "find"/"search".
REQUEST_EXAMPLES = (
    "could someone pull together what is known about this for our meeting",
    "can the library put together the evidence on this for our business case",
    "please could you gather the latest research on this subject for me",
    "would the knowledge team be able to review what has been published on this",
    "we need a summary of the evidence on this intervention by next week",
    "can you collate the literature about this for our governance group",
    "please look into what the evidence says about this treatment for our audit",
    "could you send me recent papers about this condition",
    "I'd like an evidence review on this service change for the board",
    "can the librarian get me the best evidence on this for a guideline we are writing",
    "would it be possible to get a rundown of what is known about this before our away day",
    "we are changing our practice on this, can you help us with the evidence",
    "could you look at what other trusts have published about this",
)
#: Asking about the search service itself: what it delivers, how long it takes, who may use it.
SERVICE_EXAMPLES = (
    "what does the literature search service deliver",
    "what will I receive when the librarians do a search for me",
    "how long does the library take to finish a literature search",
    "how quickly will I get my search results back",
    "who is allowed to use the evidence search service",
    "can students and non-clinical staff ask for a literature search",
    "is there a charge for the library doing a search",
    "what details does the librarian need before starting a search",
    "how does requesting a literature search work",
)
#: Nearest example's cosine needed before the meaning overrides the rules, and by how much it
#: must beat the other kind. Set high on purpose: a library question taken for a request
#: costs the asker a form they did not want.
MIN_REQUEST_SIMILARITY = 0.53
REQUEST_MARGIN = 0.15
MIN_SERVICE_SIMILARITY = 0.55
SERVICE_MARGIN = 0.05
_TOPIC = re.compile(
    r"\b(?:about|on|into|regarding|around|re|for)\s+(?P<topic>.+?)"
    r"(?:\s+(?:for|by|before|ahead\s+of)\s+(?:our|the|my|a|next|this|tomorrow|monday|tuesday|"
    r"wednesday|thursday|friday)\b.*)?[\s?.!]*$",
    re.IGNORECASE,
)


class Kind(Enum):
    REQUEST = "request"
    SERVICE_QUESTION = "service_question"
    NEITHER = "neither"


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    request: float
    service: float


class IntentExamples:
    """The two sets of examples as vectors, embedded once per embedder (a few milliseconds)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._request: FloatMatrix = embedder.encode(REQUEST_EXAMPLES)
        self._service: FloatMatrix = embedder.encode(SERVICE_EXAMPLES)

    def judge(self, text: str) -> Verdict:
        """The subject is replaced by "this" first, as in the examples: what is compared is the
        way of asking, not the subject (which would otherwise dominate the vector)."""
        vector = self._embedder.encode_one(mask_topic(text))
        request = float(np.max(self._request @ vector))
        service = float(np.max(self._service @ vector))
        kind = Kind.NEITHER
        if request >= MIN_REQUEST_SIMILARITY and request >= service + REQUEST_MARGIN:
            kind = Kind.REQUEST
        elif service >= MIN_SERVICE_SIMILARITY and service >= request + SERVICE_MARGIN:
            kind = Kind.SERVICE_QUESTION
        return Verdict(kind, request, service)


def mask_topic(text: str) -> str:
    match = _TOPIC.search(text)
    if match is None:
        return text
    return text[: match.start("topic")] + "this" + text[match.end("topic") :]


def request_topic(text: str) -> str | None:
    """The subject of a request the rules did not read: what follows "about"/"on", without a
    trailing purpose or deadline; None when no subject is named that way."""
    match = _TOPIC.search(text)
    if match is None:
        return None
    return match.group("topic").strip(" ?.!,") or None


@lru_cache(maxsize=4)
def examples_for(embedder: Embedder) -> IntentExamples:
    """One set of example vectors per model per process (every answerer and test shares it)."""
    return IntentExamples(embedder)
