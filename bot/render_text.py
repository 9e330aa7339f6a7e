"""A reply as plain text, for the terminal: what a person would see, minus the buttons' looks."""

from __future__ import annotations

import textwrap

from bot.messages import Reply


def render_text(reply: Reply, prefix: str = "") -> str:
    lines: list[str] = []
    if reply.title:
        lines.append(reply.title.upper())
    lines.extend(reply.text.replace("**", "").splitlines())
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
        wrapped.extend(
            textwrap.wrap(line, 96, subsequent_indent="  " if line.startswith(("-", "*")) else "")
            or [""]
        )
    return "\n".join((prefix if i == 0 else indent) + line for i, line in enumerate(wrapped))
