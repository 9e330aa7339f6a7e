"""Read the KB folder into a `KnowledgeBase`, reporting every problem with its file and line.

Loading and validation are one pass: the bot refuses to load content that `kb validate` would
reject, so what passes review is exactly what runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from knowledge import yamlio
from knowledge.models import (
    CATEGORIES,
    TOPIC_SLOT,
    FaqEntry,
    KnowledgeBase,
    KnowledgeBaseInvalid,
    Link,
    OutOfScopeTopic,
    Problem,
    SearchLink,
    Severity,
)
from knowledge.urgent import key_lines, parse_urgent

#: Slack refuses a section block whose text is longer than this.
MAX_ANSWER_CHARS = 3000
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
#: An entry's front matter fields, in the order the shipped files (and the admin console's
#: editor, bot/platforms/web/entries.py) write them.
REQUIRED_FIELDS = (
    "id",
    "title",
    "category",
    "questions",
    "links",
    "owner",
    "reviewed",
    "review_by",
)
KNOWN_FIELDS = frozenset(REQUIRED_FIELDS)
MAX_QUESTION_CHARS = 300
#: A chat answer is read in a thread between other messages: past this it should be shortened
#: and point to its source for the rest (a warning, not an error).
MAX_ANSWER_WORDS = 80
#: The key in site.yaml that holds the signposting search links (a list, not a placeholder).
SEARCH_LINKS_KEY = "search_links"
#: Values shipped in the example site.yaml that a library must replace before going live:
#: reserved example domains, the made-up phone number and the "Example ..." names. Only that
#: exact number is matched, because 01234 is also a real dialling code (Bedford).
EXAMPLE_VALUE = re.compile(
    r"(?i:(?:^|[@./\s])example\.(?:nhs\.uk|org|com|net)\b)|\b01234\s*567\s*890\b|\bExample\b"
)
_WORD = re.compile(r"\S*[A-Za-z0-9]\S*")
_DOUBLED_THE = re.compile(r"\bthe\s+(?:\*\*)?the\b", re.IGNORECASE)


@dataclass(frozen=True)
class SourceFile:
    """An entry's text and the name to report problems against (a path or a database version)."""

    name: str
    text: str


def _line_of(node: yaml.Node | None, key: str, default: int) -> int:
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return key_node.start_mark.line + 2  # +1 for 1-based, +1 for the opening ---
    return default


def split_front_matter(source: SourceFile, problems: list[Problem]) -> tuple[str, str, int] | None:
    """Return (front matter, body, line where the body starts) or record why not. The admin
    console's editor reads stored entries with it too, so both agree on where the answer starts."""
    lines = source.text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        problems.append(Problem(source.name, 1, "file must start with a '---' front matter line"))
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    problems.append(Problem(source.name, 1, "front matter is not closed by a '---' line"))
    return None


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _valid_url(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in {"https", "http", "mailto"} and bool(parsed.netloc or parsed.path)


def fill_placeholders(
    template: str, site: Mapping[str, str], name: str, first_line: int, problems: list[Problem]
) -> str:
    """Fill `{{key}}` from the site profile; an unknown or empty key is an error at its line."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        value = site.get(key)
        if not value:
            line = first_line + template.count("\n", 0, match.start())
            problems.append(
                Problem(name, line, f"placeholder {{{{{key}}}}} has no value in site.yaml")
            )
            return match.group(0)
        return str(value)

    return PLACEHOLDER.sub(replace, template)


def parse_entry(
    source: SourceFile, site: Mapping[str, str], problems: list[Problem], today: date
) -> FaqEntry | None:
    """Parse one Markdown entry; returns None (with problems recorded) when it is unusable."""
    start_errors = sum(p.severity is Severity.ERROR for p in problems)
    split = split_front_matter(source, problems)
    if split is None:
        return None
    front, body, body_line = split
    try:
        node = yamlio.compose(front)
        data = yamlio.safe_load(front)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        reason = getattr(exc, "problem", None) or "invalid YAML"
        problems.append(Problem(source.name, line, f"front matter is not valid YAML: {reason}"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(source.name, 2, "front matter must be a mapping of fields"))
        return None

    def at(key: str) -> int:
        return _line_of(node, key, 2)

    def error(key: str, message: str) -> None:
        problems.append(Problem(source.name, at(key), message))

    for key in data:
        if key not in KNOWN_FIELDS:
            error(str(key), f"unknown field '{key}'")
    for key in REQUIRED_FIELDS:
        if data.get(key) in (None, "", []):
            problems.append(Problem(source.name, 2, f"missing required field '{key}'"))

    entry_id = str(data.get("id") or "")
    if entry_id and not ID_PATTERN.match(entry_id):
        error("id", f"id '{entry_id}' must be lower-case letters, digits and single hyphens")
    stem = Path(source.name).stem
    if entry_id and source.name.endswith(".md") and stem != entry_id:
        error("id", f"id '{entry_id}' does not match the file name '{stem}.md'")
    for key in ("title", "owner", "category"):
        if key in data and not isinstance(data[key], str):
            error(key, f"'{key}' must be text")
    category = data.get("category")
    if isinstance(category, str) and category and category not in CATEGORIES:
        error("category", f"category '{category}' is not one of {', '.join(sorted(CATEGORIES))}")

    questions: list[str] = []
    raw_questions = data.get("questions")
    if raw_questions is not None and not isinstance(raw_questions, list):
        error("questions", "'questions' must be a list of phrasings")
    elif raw_questions:
        for question in raw_questions:
            if not isinstance(question, str) or not question.strip():
                error("questions", "every question must be non-empty text")
            elif len(question) > MAX_QUESTION_CHARS:
                error("questions", f"question longer than {MAX_QUESTION_CHARS} characters")
            else:
                questions.append(question.strip())
        seen: set[str] = set()
        for question in questions:
            if question.lower() in seen:
                problems.append(
                    Problem(
                        source.name,
                        at("questions"),
                        f"question repeated: {question!r}",
                        Severity.WARNING,
                    )
                )
            seen.add(question.lower())

    links: list[Link] = []
    raw_links = data.get("links")
    if raw_links is not None and not isinstance(raw_links, list):
        error("links", "'links' must be a list of {title, url}")
    elif raw_links:
        for raw in raw_links:
            if not isinstance(raw, dict) or not raw.get("title") or not raw.get("url"):
                error("links", "every link needs a 'title' and a 'url'")
                continue
            url = str(raw["url"]).strip()
            if not _valid_url(url):
                error("links", f"link url is not well formed: {url!r}")
                continue
            links.append(Link(title=str(raw["title"]).strip(), url=url))

    reviewed = _as_date(data.get("reviewed"))
    review_by = _as_date(data.get("review_by"))
    if data.get("reviewed") is not None and reviewed is None:
        error("reviewed", "'reviewed' must be a date (YYYY-MM-DD)")
    if data.get("review_by") is not None and review_by is None:
        error("review_by", "'review_by' must be a date (YYYY-MM-DD)")
    if reviewed and review_by:
        if review_by <= reviewed:
            error("review_by", "'review_by' must be after 'reviewed'")
        elif review_by < today:
            problems.append(
                Problem(
                    source.name, at("review_by"), f"review was due on {review_by}", Severity.WARNING
                )
            )
    if reviewed and reviewed > today:
        error("reviewed", "'reviewed' is in the future")

    template = body.strip()
    if not template:
        problems.append(
            Problem(source.name, body_line, "the answer (text after the front matter) is empty")
        )
    answer = fill_placeholders(template, site, source.name, body_line, problems)
    if len(answer) > MAX_ANSWER_CHARS:
        problems.append(
            Problem(
                source.name,
                body_line,
                f"answer is {len(answer)} characters once filled; the limit is {MAX_ANSWER_CHARS}",
            )
        )
    words = answer_words(answer)
    if words > MAX_ANSWER_WORDS:
        problems.append(
            Problem(
                source.name,
                body_line,
                f"answer is {words} words once filled; chat answers should stay under "
                f"{MAX_ANSWER_WORDS} and link to the source for more",
                Severity.WARNING,
            )
        )
    if _DOUBLED_THE.search(answer) and not _DOUBLED_THE.search(template):
        problems.append(
            Problem(
                source.name,
                body_line,
                "'the the' once placeholders are filled: a site.yaml value starts with 'the' "
                "and the answer puts 'the' before it; keep the article in one place",
                Severity.WARNING,
            )
        )

    if sum(p.severity is Severity.ERROR for p in problems) > start_errors:
        return None
    assert reviewed is not None and review_by is not None  # noqa: S101 - guaranteed by the checks above
    return FaqEntry(
        id=entry_id,
        title=str(data["title"]).strip(),
        category=str(data["category"]),
        questions=tuple(questions),
        answer=answer,
        links=tuple(links),
        owner=str(data["owner"]).strip(),
        reviewed=reviewed,
        review_by=review_by,
        answer_template=template,
        source=source.name,
    )


def _load_yaml_file(path: Path, problems: list[Problem]) -> Any:
    if not path.is_file():
        problems.append(Problem(str(path), 1, "file is missing"))
        return None
    try:
        return yamlio.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problems.append(Problem(str(path), line, f"not valid YAML: {getattr(exc, 'problem', exc)}"))
        return None


def answer_words(answer: str) -> int:
    """Words as a reader counts them: Markdown bullets and lone symbols are not words."""
    return len(_WORD.findall(answer))


def parse_site(data: Any, name: str, problems: list[Problem]) -> dict[str, str]:
    """The placeholder values; the search links are read by `parse_search_links`."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(Problem(name, 1, "site profile must be a mapping of key: value"))
        return {}
    values: dict[str, str] = {}
    for key, value in data.items():
        if value is None or key == SEARCH_LINKS_KEY:
            continue
        if isinstance(value, (dict, list)):
            problems.append(Problem(name, 1, f"'{key}' must be text, not a list or mapping"))
            continue
        values[str(key)] = str(value).strip()
    return values


def parse_search_links(
    data: Any, name: str, problems: list[Problem], text: str = ""
) -> tuple[SearchLink, ...]:
    """The places offered to a requester while they wait, each a name and a URL template.

    A template must be a well-formed https URL with `{topic}` in it and no spaces or
    parentheses, and a name must have no brackets or '|', so the filled link survives every
    platform's link markup.
    """
    if not isinstance(data, dict) or data.get(SEARCH_LINKS_KEY) is None:
        return ()
    line = _site_key_line(text, SEARCH_LINKS_KEY)
    raw = data[SEARCH_LINKS_KEY]
    if not isinstance(raw, list):
        problems.append(Problem(name, line, f"'{SEARCH_LINKS_KEY}' must be a list of name and url"))
        return ()
    links: list[SearchLink] = []
    for item in raw:
        if not isinstance(item, dict) or not item.get("name") or not item.get("url"):
            problems.append(
                Problem(name, line, f"every {SEARCH_LINKS_KEY} item needs a name and a url")
            )
            continue
        label = str(item["name"]).strip()
        template = str(item["url"]).strip()
        if re.search(r"[\[\]<>|]", label):
            problems.append(
                Problem(name, line, f"search link name has a bracket or '|': {label!r}")
            )
        elif (
            TOPIC_SLOT not in template
            or urlparse(template).scheme != "https"
            or not urlparse(template).netloc
            or re.search(r"[\s()<>|]", template)
        ):
            problems.append(
                Problem(
                    name,
                    line,
                    f"search link url must be an https address containing {TOPIC_SLOT} "
                    f"and no spaces or brackets: {template!r}",
                )
            )
        else:
            links.append(SearchLink(label, template))
    return tuple(links)


def _site_key_line(text: str, key: str) -> int:
    match = re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def warn_example_values(
    site: Mapping[str, str],
    links: Iterable[SearchLink],
    name: str,
    text: str,
    problems: list[Problem],
) -> None:
    """Warn, at its line, about every value still holding the shipped example's details.

    Answers would otherwise send staff to library@example.nhs.uk and a made-up phone number.
    """
    for key, value in site.items():
        if EXAMPLE_VALUE.search(value):
            problems.append(
                Problem(
                    name,
                    _site_key_line(text, key),
                    f"'{key}' still has the example value {value!r}; put in your library's own",
                    Severity.WARNING,
                )
            )
    for link in links:
        if EXAMPLE_VALUE.search(link.url_template):
            problems.append(
                Problem(
                    name,
                    _site_key_line(text, SEARCH_LINKS_KEY),
                    f"search link '{link.name}' still has the example address "
                    f"{link.url_template!r}; put in your library's own",
                    Severity.WARNING,
                )
            )


def read_site(
    data: Any, text: str, name: str, problems: list[Problem]
) -> tuple[dict[str, str], tuple[SearchLink, ...]]:
    """Everything site.yaml holds, checked: placeholder values and search links."""
    site = parse_site(data, name, problems)
    links = parse_search_links(data, name, problems, text)
    warn_example_values(site, links, name, text, problems)
    return site, links


def parse_synonyms(data: Any, name: str, problems: list[Problem]) -> dict[str, tuple[str, ...]]:
    """Each variant may stand for one canonical form only, or rewriting would depend on order."""
    if data is None:
        return {}
    table = data.get("synonyms") if isinstance(data, dict) else None
    if not isinstance(table, dict):
        problems.append(Problem(name, 1, "expected a 'synonyms:' mapping of canonical: [variants]"))
        return {}
    result: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for canonical, variants in table.items():
        if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
            problems.append(Problem(name, 1, f"variants of '{canonical}' must be a list of text"))
            continue
        # Capitals are kept: an all-capitals variant ("ILL") is matched case-sensitively.
        cleaned = tuple(v.strip() for v in variants if v.strip())
        for variant in cleaned:
            if variant in owner and owner[variant] != str(canonical).lower():
                problems.append(
                    Problem(
                        name,
                        1,
                        f"'{variant}' is a variant of both '{owner[variant]}' and '{canonical}'",
                    )
                )
            owner[variant] = str(canonical).lower()
        result[str(canonical).lower()] = cleaned
    return result


def parse_out_of_scope(
    data: Any, name: str, problems: list[Problem]
) -> tuple[OutOfScopeTopic, ...]:
    if data is None:
        return ()
    topics = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(topics, list):
        problems.append(Problem(name, 1, "expected a 'topics:' list"))
        return ()
    result = []
    for topic in topics:
        if (
            not isinstance(topic, dict)
            or not topic.get("id")
            or not topic.get("redirect")
            or not isinstance(topic.get("questions"), list)
        ):
            problems.append(Problem(name, 1, "every topic needs an id, a redirect and questions"))
            continue
        questions = tuple(str(q).strip() for q in topic["questions"] if str(q).strip())
        result.append(OutOfScopeTopic(str(topic["id"]), str(topic["redirect"]), questions))
    return tuple(result)


def build_knowledge_base(
    sources: Iterable[SourceFile],
    site: Mapping[str, str],
    synonyms: Mapping[str, tuple[str, ...]],
    out_of_scope: tuple[OutOfScopeTopic, ...],
    problems: list[Problem],
    today: date,
    source_dir: Path | None = None,
    search_links: tuple[SearchLink, ...] = (),
) -> KnowledgeBase | None:
    """Check entries against each other (unique ids) and assemble the KB, or None on any error."""
    entries: list[FaqEntry] = []
    first_seen: dict[str, str] = {}
    for source in sources:
        entry = parse_entry(source, site, problems, today)
        if entry is None:
            continue
        if entry.id in first_seen:
            problems.append(
                Problem(
                    source.name, 2, f"duplicate id '{entry.id}' (also in {first_seen[entry.id]})"
                )
            )
            continue
        first_seen[entry.id] = source.name
        entries.append(entry)
    if not entries and not any(p.severity is Severity.ERROR for p in problems):
        problems.append(Problem(str(source_dir or "."), 1, "the knowledge base has no entries"))
    if any(p.severity is Severity.ERROR for p in problems):
        return None
    return KnowledgeBase(
        entries=tuple(sorted(entries, key=lambda e: e.id)),
        site=dict(site),
        synonyms=dict(synonyms),
        out_of_scope=out_of_scope,
        source_dir=source_dir,
        search_links=search_links,
    )


def read_directory(
    directory: Path, today: date | None = None
) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Read and check a whole KB folder: the result is a KB only if there is no error."""
    today = today or date.today()
    problems: list[Problem] = []
    directory = Path(directory)
    if not directory.is_dir():
        return None, [Problem(str(directory), 1, "knowledge base folder does not exist")]
    site_path = directory / "site.yaml"
    site_data = _load_yaml_file(site_path, problems)
    site_text = site_path.read_text(encoding="utf-8", errors="replace") if site_data else ""
    site, search_links = read_site(site_data, site_text, str(site_path), problems)
    synonyms_path = directory / "synonyms.yaml"
    synonyms = parse_synonyms(
        _load_yaml_file(synonyms_path, problems) if synonyms_path.exists() else None,
        str(synonyms_path),
        problems,
    )
    scope_path = directory / "out_of_scope.yaml"
    out_of_scope = parse_out_of_scope(
        _load_yaml_file(scope_path, problems) if scope_path.exists() else None,
        str(scope_path),
        problems,
    )
    # Checked with the rest so that `kb validate` and a reload report it; the answerer reads it.
    urgent_path = directory / "urgent.yaml"
    if urgent_path.exists():
        urgent_data = _load_yaml_file(urgent_path, problems)
        if urgent_data is not None:
            lines = key_lines(urgent_path.read_text(encoding="utf-8"))
            parse_urgent(urgent_data, str(urgent_path), problems, today, lines)
    faq_dir = directory / "faqs"
    sources = []
    for path in sorted(faq_dir.glob("*.md")):
        try:
            sources.append(SourceFile(str(path), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), 1, f"cannot read file: {exc.__class__.__name__}"))
    kb = build_knowledge_base(
        sources, site, synonyms, out_of_scope, problems, today, directory, search_links
    )
    return kb, problems


def load_knowledge_base(directory: Path, today: date | None = None) -> KnowledgeBase:
    """Load a KB or raise `KnowledgeBaseInvalid` listing every problem."""
    kb, problems = read_directory(directory, today)
    if kb is None:
        raise KnowledgeBaseInvalid(problems)
    return kb
