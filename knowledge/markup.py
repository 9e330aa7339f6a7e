"""Turn chat-platform markup into the plain words a person typed.

Slack and Teams wrap mentions, links and emoji in markup; left in, `<@U0123ABC>` or
`<at>Evidence Desk</at>` would look like words to the matcher and to the topic extractor.
"""

from __future__ import annotations

import html
import re

_SLACK_USER = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_SLACK_CHANNEL = re.compile(r"<#C[A-Z0-9]+(?:\|([^>]*))?>")
_SLACK_SPECIAL = re.compile(
    r"<!(?:here|channel|everyone)(?:\|[^>]*)?>|<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>"
)
_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)(?:\|([^>]*))?>")
_TEAMS_AT = re.compile(r"<at[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-]{0,40}[a-z][a-z0-9_+\-]{0,40}:")
_FORMATTING = re.compile(r"(?<![\w])[*_~`]+|[*_~`]+(?![\w])")
_SPACES = re.compile(r"\s+")


def clean_markup(text: str) -> str:
    """Strip mentions, unwrap links to their label, drop emoji codes and formatting marks.

    A link keeps its label (what the person saw) or, with no label, its address, so a question
    such as "is <https://library.nhs.uk|the Hub> down?" still reads as a question about the Hub.
    """
    text = _SLACK_USER.sub(" ", text)
    text = _TEAMS_AT.sub(" ", text)
    text = _SLACK_CHANNEL.sub(lambda m: f" {m.group(1) or ''} ", text)
    text = _SLACK_SPECIAL.sub(" ", text)
    text = _SLACK_LINK.sub(lambda m: m.group(2) or m.group(1).removeprefix("mailto:"), text)
    text = _HTML_TAG.sub(" ", text)
    text = html.unescape(text)
    text = _EMOJI_CODE.sub(" ", text)
    text = _FORMATTING.sub(" ", text)
    return _SPACES.sub(" ", text).strip()
