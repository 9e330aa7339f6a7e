"""Neutral replies and forms as HTML: the web chat's rendering, and the admin console's preview.

Pure functions returning `Markup`. Reply text is rendered by `bot.render.html` (escaped, links
only http(s) or mailto); everything else from a person or the KB is escaped here, so neither KB
content nor a chat message can inject script.
Controls carry their meaning in data attributes (`data-action`, `data-value`), which the
page's script sends back as a `UserAction`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from markupsafe import Markup, escape

from bot.messages import Button, Form, FormField, Reply
from bot.render.html import inline_html, link, markdown_html

#: Shown under a suggestion-style reply as its own list, so not repeated as buttons.
SHOW_FAQ = "faq_show"


def button(control: Button, extra_class: str = "") -> Markup:
    style = {"primary": " ed-button--primary", "danger": " ed-button--warning"}.get(
        control.style or "", " ed-button--secondary"
    )
    return Markup(
        '<button type="button" class="ed-button{}{}" data-action="{}" data-value="{}">{}</button>'
    ).format(style, extra_class, control.action, control.value, control.label)


def reply_html(reply: Reply) -> Markup:
    """One reply: its warning, title (for FAQ answers), text, sources, suggestions, buttons."""
    parts: list[Markup] = []
    if reply.warning:
        parts.append(
            Markup(
                '<div class="ed-warning" role="alert"><strong>Important: </strong>{}</div>'
            ).format(inline_html(reply.warning))
        )
    if reply.title and reply.faq_id:
        parts.append(Markup('<h3 class="ed-reply__title">{}</h3>').format(reply.title))
    parts.append(Markup('<div class="ed-reply__body">{}</div>').format(markdown_html(reply.text)))
    if reply.sources:
        links = Markup(" · ").join(link(s.url, escape(s.title)) for s in reply.sources)
        parts.append(Markup('<p class="ed-sources">Source: {}</p>').format(links))
    if reply.suggestions:
        items = Markup("").join(
            Markup("<li>{}</li>").format(
                button(Button(s.title, SHOW_FAQ, s.faq_id), " ed-button--link")
            )
            for s in reply.suggestions
        )
        parts.append(Markup('<ul class="ed-suggestions">{}</ul>').format(items))
    shown = [b for b in reply.buttons if not (reply.suggestions and b.action == SHOW_FAQ)]
    if shown:
        controls = Markup("").join(button(b) for b in shown)
        parts.append(Markup('<div class="ed-actions">{}</div>').format(controls))
    kind = " ed-reply--private" if reply.ephemeral else ""
    return Markup('<article class="ed-reply{}" data-intent="{}"{}>{}</article>').format(
        kind,
        str(reply.intent),
        Markup(' data-faq-id="{}"').format(reply.faq_id) if reply.faq_id else Markup(""),
        Markup("").join(parts),
    )


def _describedby(*ids: str | None) -> Markup:
    present = " ".join(i for i in ids if i)
    return Markup(' aria-describedby="{}"').format(present) if present else Markup("")


def _choices(field: FormField, base: str, described: Markup) -> Markup:
    chosen = set(field.value.split(",")) if field.kind == "multichoice" else {field.value}
    if field.kind == "multichoice" or len(field.choices) == 1:
        kind = "checkbox"
    elif len(field.choices) <= 3:
        kind = "radio"
    else:
        options = [Markup('<option value="">Choose one</option>')]
        options += [
            Markup('<option value="{}"{}>{}</option>').format(
                c.value, Markup(" selected") if c.value in chosen else Markup(""), c.label
            )
            for c in field.choices
        ]
        return Markup('<select class="ed-select" id="{}" name="{}"{}{}>{}</select>').format(
            base,
            field.name,
            described,
            Markup(" required") if field.required else Markup(""),
            Markup("").join(options),
        )
    items = []
    for index, choice in enumerate(field.choices):
        item_id = f"{base}-{index}"
        items.append(
            Markup(
                '<div class="ed-choice"><input class="ed-choice__input" type="{}" id="{}" '
                'name="{}" value="{}"{}><label class="ed-choice__label" for="{}">{}</label></div>'
            ).format(
                kind,
                item_id,
                field.name,
                choice.value,
                Markup(" checked") if choice.value in chosen else Markup(""),
                item_id,
                choice.label,
            )
        )
    return Markup('<div class="ed-choices" data-kind="{}">{}</div>').format(
        field.kind, Markup("").join(items)
    )


def field_html(field: FormField, error: str | None, prefix: str) -> Markup:
    base = f"{prefix}-{field.name}"
    hint_id = f"{base}-hint" if field.hint else None
    error_id = f"{base}-error" if error else None
    described = _describedby(hint_id, error_id)
    required = (
        Markup(' <span class="ed-required">(required)</span>')
        if field.required
        else Markup(' <span class="ed-optional">(optional)</span>')
    )
    hint = (
        Markup('<div class="ed-hint" id="{}">{}</div>').format(hint_id, field.hint)
        if field.hint
        else Markup("")
    )
    message = (
        Markup(
            '<p class="ed-error-message" id="{}"><span class="ed-visually-hidden">Error:</span> {}</p>'
        ).format(error_id, error)
        if error
        else Markup("")
    )
    invalid = Markup(' aria-invalid="true"') if error else Markup("")
    needed = Markup(" required") if field.required else Markup("")
    if field.kind == "textarea":
        control = Markup(
            '<textarea class="ed-textarea" id="{}" name="{}" rows="4" maxlength="{}"{}{}{}>{}</textarea>'
        ).format(base, field.name, field.max_length, described, invalid, needed, field.value)
    elif field.kind in {"choice", "multichoice"}:
        control = _choices(field, base, described)
    else:
        kind = "date" if field.kind == "date" else "text"
        control = Markup(
            '<input class="ed-input" type="{}" id="{}" name="{}" value="{}" maxlength="{}"{}{}{}>'
        ).format(kind, base, field.name, field.value, field.max_length, described, invalid, needed)
    grouped = field.kind in {"multichoice"} or (field.kind == "choice" and len(field.choices) <= 3)
    group = " ed-form-group--error" if error else ""
    if grouped:
        return Markup(
            '<fieldset class="ed-form-group ed-fieldset{}"{}><legend class="ed-label">{}{}</legend>'
            "{}{}{}</fieldset>"
        ).format(group, described, field.label, required, hint, message, control)
    return Markup(
        '<div class="ed-form-group{}"><label class="ed-label" for="{}">{}{}</label>{}{}{}</div>'
    ).format(group, base, field.label, required, hint, message, control)


def form_html(form: Form) -> Markup:
    """A form the page's script submits as a `UserAction` named `form.form_id`, with
    `form.state` sent back unchanged. Errors are listed in a summary at the top (each a link
    to its field) and shown beside their fields, as the NHS design system does."""
    prefix = f"f{secrets.token_hex(4)}"
    errors = dict(form.errors)
    parts: list[Markup] = [Markup('<h3 class="ed-form__title">{}</h3>').format(form.title)]
    if errors:
        labels = {f.name: f for f in form.fields}
        items = Markup("").join(
            Markup('<li><a href="#{}">{}</a></li>').format(
                f"{prefix}-{name}" + ("-0" if _grouped(labels.get(name)) else ""), message
            )
            for name, message in form.errors
        )
        parts.append(
            Markup(
                '<div class="ed-error-summary" role="alert" tabindex="-1">'
                '<h4 class="ed-error-summary__title">There is a problem</h4>'
                '<ul class="ed-error-summary__list">{}</ul></div>'
            ).format(items)
        )
    if form.notice:
        parts.append(
            Markup('<div class="ed-warning" role="alert">{}</div>').format(inline_html(form.notice))
        )
    parts.extend(field_html(f, errors.get(f.name), prefix) for f in form.fields)
    parts.append(
        Markup(
            '<div class="ed-form__buttons"><button type="submit" class="ed-button '
            'ed-button--primary">{}</button><button type="button" class="ed-button '
            'ed-button--secondary" data-cancel>Cancel</button></div>'
        ).format(form.submit_label)
    )
    return Markup(
        '<form class="ed-form" data-form-id="{}" data-state="{}" novalidate>{}</form>'
    ).format(form.form_id, form.state, Markup("").join(parts))


def _grouped(field: FormField | None) -> bool:
    if field is None:
        return False
    return field.kind == "multichoice" or (field.kind == "choice" and len(field.choices) <= 3)


def replies_html(replies: Iterable[Reply]) -> Markup:
    return Markup("").join(reply_html(r) for r in replies)
