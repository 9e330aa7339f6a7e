"""Knowledge-base pages: entries (list, search, edit with live preview), site profile and the
other profile files, history, diff and rollback. Every change is a new published version."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Final
from urllib.parse import quote

from aiohttp import web
from markupsafe import Markup

from bot.desk.kb_versions import (
    OUT_OF_SCOPE_FILE,
    PROFILE_FILES,
    SITE_FILE,
    SYNONYMS_FILE,
    KbContent,
    KbInvalid,
    VersionConflict,
    diff,
    entry_file,
)
from bot.keys import KB_SYNC, KNOWLEDGE
from bot.messages import Intent, Reply, SourceLink
from bot.platforms.web.admin.common import ADMIN, form_data, page, protected
from bot.platforms.web.auth import Session
from bot.platforms.web.entries import FIELD_ORDER, EntryForm, EntryText, from_markdown, to_markdown
from bot.platforms.web.pages import render
from bot.platforms.web.render import reply_html
from handlers.replies import faq_reply
from knowledge.loader import fill_placeholders
from knowledge.models import CATEGORIES, FaqEntry, KnowledgeBase, Problem, Severity

FILE_TITLES: Final = {
    SITE_FILE: "Site profile",
    SYNONYMS_FILE: "Synonyms",
    OUT_OF_SCOPE_FILE: "Out-of-scope topics",
}
FILE_HELP: Final = {
    SITE_FILE: "The library's local details (name, email, phone, hours, location, links) as "
    "key: value lines. Answers use them as {{key}}; every key an answer uses needs a value.",
    SYNONYMS_FILE: "Abbreviations and misspellings the matcher rewrites: "
    "canonical: [variant, variant].",
    OUT_OF_SCOPE_FILE: "Topics that belong to other services, with where to send people.",
}
_QUOTED = re.compile(r"'([a-z_]+)'")
#: The id a draft is checked under before it has one of its own.
NEW_ENTRY: Final = "new-entry"
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class EntryCheck:
    """The edit form, checked against the whole KB it would be published into."""

    form: EntryForm
    content: KbContent
    kb: KnowledgeBase | None
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    other_problems: list[Problem] = field(default_factory=list)
    #: A blank draft nobody has checked yet: what it lacks is not an error yet.
    fresh: bool = False

    @property
    def ok(self) -> bool:
        return self.kb is not None and not self.field_errors

    def error_summary(self) -> list[tuple[str, str]]:
        return [
            (name, message) for name, messages in self.field_errors.items() for message in messages
        ]


def _field_for(problem: Problem, text: EntryText) -> str:
    for name in _QUOTED.findall(problem.message):
        if name in FIELD_ORDER:
            return str(name)
    return text.field_at(problem.line) or "id"


def check_entry(
    content: KbContent, form: EntryForm, today: date, extra_errors: dict[str, str] | None = None
) -> EntryCheck:
    text = to_markdown(form)
    kb, problems = content.build(today)
    check = EntryCheck(form, content, kb)
    for name, message in (extra_errors or {}).items():
        check.field_errors.setdefault(name, []).append(message)
    mine = entry_file(form.id or NEW_ENTRY)  # a draft without an id is checked as NEW_ENTRY
    for problem in problems:
        if problem.file == mine:
            if problem.severity is Severity.WARNING:
                check.warnings.append(problem.message)
            else:
                check.field_errors.setdefault(_field_for(problem, text), []).append(problem.message)
        elif problem.severity is Severity.ERROR:
            check.other_problems.append(problem)
    return check


def preview(check: EntryCheck) -> Markup:
    """How the entry will look in the chat: the real reply if it builds, else a best effort."""
    entry: FaqEntry | None = check.kb.get(check.form.id) if check.kb else None
    if entry is not None:
        return reply_html(faq_reply(entry, 1.0))
    # The rest of the knowledge base, without this entry, builds: its site values fill the
    # {{placeholders}} while this entry still has problems.
    site_kb, _ = check.content.without_entry(check.form.id or NEW_ENTRY).build()
    if site_kb is None:
        site_kb, _ = KbContent({}, check.content.site).build()
    site = site_kb.site if site_kb else {}
    text = fill_placeholders(check.form.answer, site, "", 1, [])
    sources = tuple(
        SourceLink(link["title"] or link["url"], link["url"])
        for link in check.form.link_list()
        if link["url"].startswith(("https://", "http://", "mailto:"))
    )
    return reply_html(
        Reply(
            text=text or "(no answer yet)",
            intent=Intent.FAQ,
            title=check.form.title or "(no title yet)",
            faq_id=check.form.id or NEW_ENTRY,
            sources=sources,
        )
    )


def suggested_id(question: str) -> str:
    words = _SLUG.sub(" ", question.lower()).split()[:6]
    return "-".join(words)[:60].strip("-")


async def kb_list(request: web.Request, session: Session) -> web.Response:
    services = request.app[ADMIN]
    today = services.today()
    info, content = await services.versions.current()
    kb, _ = content.build(today)
    entries = list((kb or request.app[KNOWLEDGE].current.kb).entries)
    query = request.query.get("q", "").strip()
    if query:
        needle = query.lower()
        entries = [
            e
            for e in entries
            if needle in e.id
            or needle in e.title.lower()
            or needle in e.answer.lower()
            or any(needle in q.lower() for q in e.questions)
        ]
    return page(
        request,
        session,
        "admin/kb_list.html",
        entries=entries,
        query=query,
        today=today,
        soon=today + timedelta(days=30),
        version=info,
    )


def _editor(
    request: web.Request,
    session: Session,
    check: EntryCheck,
    *,
    previous_id: str,
    base_version: int | None,
    status: int = 200,
    note: str = "",
    message: str | None = None,
    conflict: str | None = None,
) -> web.Response:
    return page(
        request,
        session,
        "admin/kb_edit.html",
        status=status,
        check=check,
        form=check.form,
        previous_id=previous_id,
        base_version=base_version,
        categories=sorted(CATEGORIES),
        preview=preview(check),
        note=note,
        message=message,
        conflict=conflict,
    )


async def kb_edit(request: web.Request, session: Session) -> web.Response:
    services = request.app[ADMIN]
    entry_id = request.match_info["entry_id"]
    info, current = await services.versions.current()
    if entry_id not in current.entries:
        raise web.HTTPNotFound(text=f"There is no entry {entry_id!r} in the knowledge base.")
    form = from_markdown(current.entries[entry_id])
    added = request.query.get("add_question", "").strip()[:300]
    if added:
        form = form.with_question(added)
    content = current.with_entry(entry_id, to_markdown(form).text)
    published = request.query.get("published")
    message = (
        f"Published as version {published}. The bot is answering from it now."
        if published
        else None
    )
    if added:
        message = f"Added “{added}” as a question. Check it and publish."
    return _editor(
        request,
        session,
        check_entry(content, form, services.today()),
        previous_id=entry_id,
        base_version=info.id if info else None,
        message=message,
    )


async def kb_new(request: web.Request, session: Session) -> web.Response:
    services = request.app[ADMIN]
    today = services.today()
    question = request.query.get("question", "").strip()[:300]
    info, content = await services.versions.current()
    form = EntryForm(
        id=suggested_id(question),
        category="library",
        questions=question,
        owner=session.admin.email,
        reviewed=today.isoformat(),
        review_by=(today + timedelta(days=365)).isoformat(),
    )
    check = replace(
        check_entry(content.with_entry(form.id or NEW_ENTRY, to_markdown(form).text), form, today),
        field_errors={},
        other_problems=[],
        warnings=[],
        fresh=True,
    )
    return _editor(
        request,
        session,
        check,
        previous_id="",
        base_version=info.id if info else None,
        message="A new draft entry: write the answer, check the preview, then publish."
        if question
        else None,
    )


def _base_version(data: dict[str, str]) -> int | None:
    try:
        return int(data["base_version"]) if data.get("base_version") else None
    except ValueError:
        return None


async def _checked_change(
    request: web.Request, data: dict[str, str]
) -> tuple[EntryCheck, str, int | None, str | None]:
    """The posted form applied to the latest content and checked; with a conflict message."""
    services = request.app[ADMIN]
    form = EntryForm.from_post(data)
    previous_id = data.get("previous_id", "").strip()
    base_version = _base_version(data)
    _, current = await services.versions.current()
    extra: dict[str, str] = {}
    if form.id and form.id != previous_id and form.id in current.entries:
        extra["id"] = f"There is already an entry '{form.id}'; choose another id."
    conflict = None
    try:
        content = await services.versions.entry_change(
            form.id or NEW_ENTRY,
            to_markdown(form).text,
            base_version=base_version,
            previous_id=previous_id or None,
        )
    except VersionConflict as exc:
        conflict = f"{exc} Reload the entry to see the change, then make yours again."
        content = current.with_entry(form.id or NEW_ENTRY, to_markdown(form).text)
    return check_entry(content, form, services.today(), extra), previous_id, base_version, conflict


async def kb_save(request: web.Request, session: Session) -> web.Response:
    services = request.app[ADMIN]
    data = await form_data(request)
    intent = data.get("intent", "preview")
    note = data.get("note", "").strip()[:500]
    if intent == "remove":
        return await _remove(request, session, data, note)
    check, previous_id, base_version, conflict = await _checked_change(request, data)
    if intent != "publish" or conflict or not check.ok:
        status = 200 if intent != "publish" else (409 if conflict else 422)
        return _editor(
            request,
            session,
            check,
            previous_id=previous_id,
            base_version=base_version,
            status=status,
            note=note,
            conflict=conflict,
        )
    try:
        info, kb = await services.versions.publish(
            check.content, session.admin.email, note or f"Edited {check.form.id}"
        )
    except KbInvalid:  # changed between the check and now
        raise web.HTTPSeeOther(f"/admin/kb/entry/{previous_id or check.form.id}") from None
    request.app[KB_SYNC].apply(info.id, kb)
    raise web.HTTPSeeOther(f"/admin/kb/entry/{check.form.id}?published={info.id}")


async def _remove(
    request: web.Request, session: Session, data: dict[str, str], note: str
) -> web.Response:
    services = request.app[ADMIN]
    previous_id = data.get("previous_id", "").strip()
    if not previous_id:
        raise web.HTTPSeeOther("/admin/kb")
    try:
        content = await services.versions.entry_change(
            previous_id, None, base_version=_base_version(data)
        )
        info, kb = await services.versions.publish(
            content, session.admin.email, note or f"Removed {previous_id}"
        )
    except (VersionConflict, KbInvalid) as exc:
        raise web.HTTPConflict(text=f"The entry could not be removed: {exc}") from exc
    request.app[KB_SYNC].apply(info.id, kb)
    raise web.HTTPSeeOther(f"/admin/kb?removed={previous_id}&version={info.id}")


async def kb_preview(request: web.Request, session: Session) -> web.Response:
    """The live preview: the editor's script posts the form as it changes."""
    data = await form_data(request)
    check, *_rest = await _checked_change(request, data)
    return render("admin/_preview.html", check=check, preview=preview(check))


async def kb_add_question(request: web.Request, session: Session) -> web.Response:
    """From the learning loop: open an entry's editor with a question added (not yet saved)."""
    entry_id = request.query.get("entry", "")
    question = request.query.get("question", "")
    if not re.fullmatch(r"[a-z0-9-]{1,200}", entry_id):
        raise web.HTTPSeeOther("/admin/learning")
    raise web.HTTPSeeOther(
        f"/admin/kb/entry/{entry_id}?" + f"add_question={quote(question[:300], safe='')}"
    )


async def history(request: web.Request, session: Session) -> web.Response:
    versions = await request.app[ADMIN].versions.list(limit=200)
    return page(
        request,
        session,
        "admin/history.html",
        versions=versions,
        rolled=request.query.get("rolled"),
    )


async def version_diff(request: web.Request, session: Session) -> web.Response:
    services = request.app[ADMIN]
    try:
        new_id = int(request.query.get("to") or (await services.versions.latest_id() or 0))
        old_id = int(request.query.get("from") or new_id - 1)
    except ValueError as exc:
        raise web.HTTPBadRequest(text="from and to are version numbers") from exc
    new = await services.versions.get(new_id)
    old = await services.versions.get(old_id) if old_id > 0 else None
    if new is None:
        raise web.HTTPNotFound(text=f"There is no version {new_id}.")
    changes = diff(old[1] if old else KbContent({}), new[1])
    return page(
        request,
        session,
        "admin/diff.html",
        old=old[0] if old else None,
        new=new[0],
        changes=changes,
        versions=await services.versions.list(limit=200),
    )


async def rollback(request: web.Request, session: Session) -> web.Response:
    services = request.app[ADMIN]
    data = await form_data(request)
    try:
        version_id = int(data.get("version", ""))
        info, kb = await services.versions.rollback(version_id, session.admin.email)
    except (ValueError, LookupError) as exc:
        raise web.HTTPBadRequest(text=f"Cannot roll back: {exc}") from exc
    except KbInvalid as exc:
        raise web.HTTPConflict(
            text=f"Version {data.get('version')} no longer passes the checks: {exc}"
        ) from exc
    request.app[KB_SYNC].apply(info.id, kb)
    raise web.HTTPSeeOther(f"/admin/kb/history?rolled={info.id}")


async def profile_file(request: web.Request, session: Session) -> web.Response:
    services = request.app[ADMIN]
    name = request.match_info["name"]
    if name not in PROFILE_FILES:
        raise web.HTTPNotFound()
    info, content = await services.versions.current()
    text = content.file_text(name)
    problems: list[Problem] = []
    status = 200
    message = (
        f"Published as version {request.query['published']}."
        if request.query.get("published")
        else None
    )
    if request.method == "POST":
        data = await form_data(request)
        text = data.get("text", "").replace("\r\n", "\n")
        changed = content.with_file(name, text)
        kb, problems = changed.build(services.today())
        problems = [p for p in problems if p.severity is Severity.ERROR]
        if data.get("intent") == "publish" and kb is not None:
            info, built = await services.versions.publish(
                changed, session.admin.email, data.get("note", "").strip() or f"Edited {name}"
            )
            request.app[KB_SYNC].apply(info.id, built)
            raise web.HTTPSeeOther(f"/admin/kb/files/{name}?published={info.id}")
        status = 422 if problems else 200
        if not problems:
            message = "No problems found. Publish to make it live."
    return page(
        request,
        session,
        "admin/file.html",
        status=status,
        name=name,
        title=FILE_TITLES[name],
        help=FILE_HELP[name],
        text=text,
        problems=problems,
        message=message,
        base_version=info.id if info else None,
        files=FILE_TITLES,
    )


def add_kb_routes(app: web.Application) -> None:
    app.router.add_get("/admin/kb", protected(kb_list))
    app.router.add_get("/admin/kb/new", protected(kb_new))
    app.router.add_get("/admin/kb/add-question", protected(kb_add_question))
    app.router.add_get(r"/admin/kb/entry/{entry_id:[a-z0-9-]{1,200}}", protected(kb_edit))
    app.router.add_post("/admin/kb/entry", protected(kb_save))
    app.router.add_post("/admin/kb/preview", protected(kb_preview))
    app.router.add_get("/admin/kb/history", protected(history))
    app.router.add_get("/admin/kb/diff", protected(version_diff))
    app.router.add_post("/admin/kb/rollback", protected(rollback))
    app.router.add_get(r"/admin/kb/files/{name}", protected(profile_file))
    app.router.add_post(r"/admin/kb/files/{name}", protected(profile_file))
