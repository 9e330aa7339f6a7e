"""A reply as plain text, for the terminal: what a person would see, minus the buttons' looks."""

from __future__ import annotations

import re
import textwrap

from bot.messages import Reply
from bot.render.text import plain_text

#: A list item's marker, so that its wrapped lines hang under the item's words.
_MARKER = re.compile(r"^\s*(?:-|\d+\.)\s")


def render_text(reply: Reply, prefix: str = "") -> str:
    lines: list[str] = []
    if reply.title:
        lines.append(reply.title.upper())
    lines.extend(plain_text(reply.text).splitlines())
    for source in reply.sources:
        lines.append(f"Source: {source.title} <{source.url}>")
    for number, suggestion in enumerate(reply.suggestions, start=1):
        lines.append(f"  {number}. {suggestion.title}")
    controls = [b.label for b in reply.buttons if b.action != "faq_show"]
    if controls:
        lines.append("[" + "] [".join(controls) + "]")
    indent = " " * len(prefix)
    wrapped = []
    for line in lines:
        marker = _MARKER.match(line)
        hang = " " * (marker.end() if marker else len(line) - len(line.lstrip()))
        wrapped.extend(textwrap.wrap(line, 96, subsequent_indent=hang) or [""])
    return "\n".join((prefix if i == 0 else indent) + line for i, line in enumerate(wrapped))
