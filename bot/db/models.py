"""The schema, as SQLAlchemy 2 declarative classes, portable between SQLite and PostgreSQL.

Choices that keep the two databases interchangeable:

* Enumerations (statuses, purposes, directions ...) are stored as short strings, not native
  enums, so adding a value needs no migration and SQLite and PostgreSQL hold the same thing.
  The ticket layer (`bot.desk.tickets`) owns the valid values and converts at its edge.
* Every timestamp is `UTCDateTime`: timezone-aware in Python, UTC in the database. SQLite has
  no time zones, so values are normalised to UTC on the way in and marked UTC on the way out;
  a naive datetime is refused rather than guessed at.
* Constraint names come from one naming convention, so that Alembic's batch mode (which
  rebuilds SQLite tables) can find and alter them.

Free text that may have come from a requester (question, scope, messages, comments) is always
redacted by the ticket service before it reaches these classes; audit rows hold no free text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION: Final[dict[str, str]] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Column widths shared by several tables.
PLATFORM_LEN: Final = 16
EXTERNAL_ID_LEN: Final = 255  # Slack/Teams user, channel and conversation ids
ACTOR_LEN: Final = 300  # "slack:U123", "specialist:7" or "system"
STATUS_LEN: Final = 24


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python and UTC in the database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given for a UTC column; attach a time zone")
        value = value.astimezone(UTC)
        # SQLite stores text without an offset; dropping it keeps stored values comparable.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


route_specialists: Final = Table(
    "route_specialists",
    Base.metadata,
    Column("route_id", ForeignKey("routes.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "specialist_id",
        ForeignKey("specialists.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Route(Base):
    """A chat channel or team whose requests go to one specialty's specialists."""

    __tablename__ = "routes"
    __table_args__ = (UniqueConstraint("platform", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(PLATFORM_LEN))
    channel_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))
    specialty: Mapped[str] = mapped_column(String(200))
    notify_platform: Mapped[str | None] = mapped_column(String(PLATFORM_LEN))
    notify_channel_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LEN))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Specialist(Base):
    """A knowledge specialist (librarian) who claims and answers requests."""

    __tablename__ = "specialists"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    is_lead: Mapped[bool] = mapped_column(Boolean)
    is_active: Mapped[bool] = mapped_column(Boolean)
    work_start: Mapped[time] = mapped_column(Time)
    work_end: Mapped[time] = mapped_column(Time)
    work_days: Mapped[list[int]] = mapped_column(JSON)  # Monday = 0, as date.weekday()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # Always wanted with the specialist and never more than a handful, so loaded eagerly;
    # async sessions cannot lazy-load.
    identities: Mapped[list[SpecialistIdentity]] = relationship(
        back_populates="specialist", lazy="selectin", cascade="all, delete-orphan"
    )


class SpecialistIdentity(Base):
    """Who a specialist is on one platform; a platform user is at most one specialist."""

    __tablename__ = "specialist_identities"
    __table_args__ = (UniqueConstraint("platform", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    specialist_id: Mapped[int] = mapped_column(
        ForeignKey("specialists.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(PLATFORM_LEN))
    user_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))

    specialist: Mapped[Specialist] = relationship(back_populates="identities", lazy="raise")


class ReferenceCounter(Base):
    """The last sequence number handed out for one prefix and year (KLS-2026-00042)."""

    __tablename__ = "reference_counters"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    """A request for evidence, from intake to closure."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        Index("ix_tickets_status_due_date", "status", "due_date"),
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_requester", "requester_platform", "requester_user_id"),
        Index("ix_tickets_route_id", "route_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)

    requester_platform: Mapped[str] = mapped_column(String(PLATFORM_LEN))
    requester_user_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))
    requester_name: Mapped[str | None] = mapped_column(String(200))
    origin_platform: Mapped[str] = mapped_column(String(PLATFORM_LEN))
    origin_channel_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))
    origin_thread_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LEN))

    question: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(32))
    deadline: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(Integer)  # lower first; patient care is 1

    date_range: Mapped[str | None] = mapped_column(Text)
    population: Mapped[str | None] = mapped_column(Text)
    study_types: Mapped[str | None] = mapped_column(Text)
    key_papers: Mapped[str | None] = mapped_column(Text)
    output_format: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)

    status: Mapped[str] = mapped_column(String(STATUS_LEN))
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("specialists.id", ondelete="SET NULL")
    )
    route_id: Mapped[int | None] = mapped_column(ForeignKey("routes.id", ondelete="SET NULL"))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # closed or cancelled

    source_event_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LEN), unique=True)
    privacy_redacted: Mapped[bool] = mapped_column(Boolean)
    text_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The search-strategy starter (JSON, handlers/strategy.py), for specialists only.
    strategy: Mapped[str | None] = mapped_column(Text)


class TicketEvent(Base):
    """One line of a ticket's audit trail. `details` holds ids and counts, never free text."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(ACTOR_LEN))
    action: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(STATUS_LEN))
    to_status: Mapped[str | None] = mapped_column(String(STATUS_LEN))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class TicketMessage(Base):
    """A message relayed on a ticket: to or from the requester, an internal note, a deliverable."""

    __tablename__ = "ticket_messages"
    __table_args__ = (Index("ix_ticket_messages_ticket_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(24))
    author: Mapped[str] = mapped_column(String(ACTOR_LEN))
    text: Mapped[str] = mapped_column(Text)
    links: Mapped[list[str]] = mapped_column(JSON)
    attachment_ref: Mapped[str | None] = mapped_column(String(1000))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketImpact(Base):
    """One requester's answer to the impact questions about a finished ticket."""

    __tablename__ = "ticket_impacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    helped: Mapped[bool] = mapped_column(Boolean)
    how_used: Mapped[list[str]] = mapped_column(JSON)
    time_saved_hours: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    respondent: Mapped[str] = mapped_column(String(ACTOR_LEN))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class EscalationRecord(Base):
    """That an escalation of one kind was raised for a ticket; the unique key stops repeats."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("ticket_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConversationRef(Base):
    """Where to reach a person later (proactive messages); `reference` is Teams' own JSON."""

    __tablename__ = "conversation_refs"
    __table_args__ = (UniqueConstraint("platform", "user_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(PLATFORM_LEN))
    user_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))
    conversation_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))
    thread_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LEN))
    service_url: Mapped[str | None] = mapped_column(String(1000))
    reference: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FaqFeedback(Base):
    """A thumbs up or down on an FAQ answer; the person is a salted hash, never a raw id."""

    __tablename__ = "faq_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    faq_id: Mapped[str] = mapped_column(String(200), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    platform: Mapped[str] = mapped_column(String(PLATFORM_LEN))
    user_hash: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class UnansweredQuestion(Base):
    """A question the KB could not answer (already redacted), counted to guide new entries."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    normalized_text: Mapped[str] = mapped_column(String(1000), unique=True)
    count: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """A message waiting to be sent (or sent): see bot/delivery/outbox.py."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(PLATFORM_LEN))
    channel_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))
    thread_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LEN))
    #: Only this user may see it (an ephemeral post); None: everyone in the conversation.
    visible_to: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LEN))
    card_key: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    message_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LEN))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PostedMessage(Base):
    """Where a living message (a ticket card) was posted, so later versions update it."""

    __tablename__ = "posted_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_key: Mapped[str] = mapped_column(String(200), unique=True)
    platform: Mapped[str] = mapped_column(String(PLATFORM_LEN))
    channel_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))
    thread_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LEN))
    message_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))


class KbVersion(Base):
    """One published version of the knowledge base (bot/desk/kb_versions.py); never changed.

    The site profile, synonyms and out-of-scope topics are held whole, as the text of their
    YAML files; the entries are rows of `kb_entries`. Rollback publishes an old version's
    content as a new version, so history only grows.
    """

    __tablename__ = "kb_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    author: Mapped[str] = mapped_column(String(320))
    note: Mapped[str] = mapped_column(String(500))
    site_text: Mapped[str] = mapped_column(Text)
    synonyms_text: Mapped[str] = mapped_column(Text)
    out_of_scope_text: Mapped[str] = mapped_column(Text)


class KbEntryText(Base):
    """One entry of one KB version: the text of its Markdown file, front matter and answer."""

    __tablename__ = "kb_entries"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("kb_versions.id", ondelete="CASCADE"), primary_key=True
    )
    entry_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class WebMessage(Base):
    """A message the bot sent to a web-chat conversation (the outbox's web messenger); the
    page polls for them. Updating a living card bumps `revision`. `outbox_id` names the
    outbox row it was delivered for: unique, so a delivery retried after a crash finds the
    message instead of storing it twice. What the person typed is kept too (`author`
    "person", redacted), so a reload shows the whole conversation."""

    __tablename__ = "web_messages"
    __table_args__ = (
        Index("ix_web_messages_conversation", "conversation", "id"),
        Index("ix_web_messages_updated_at", "conversation", "updated_at"),
        UniqueConstraint("conversation", "client_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    conversation: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))
    thread: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LEN))
    payload: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    author: Mapped[str | None] = mapped_column(String(16))
    client_message_id: Mapped[str | None] = mapped_column(String(100))


class AdminUser(Base):
    """Someone who may sign in to the admin console. `password_hash` is Argon2id; it is empty
    for an account that signs in only through single sign-on. `source` is "sso" for an account
    single sign-on made because the identity provider granted it (so losing the grant ends
    it), NULL for one made with `evidence-desk admin add`."""

    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    source: Mapped[str | None] = mapped_column(String(16))


class AdminSession(Base):
    """A signed-in session: the console's (password or single sign-on) and the web chat's
    (single sign-on). Only a hash of the cookie's token is stored. `admin_id` is set only when
    the session may use the console; `user_id` is a single sign-on session's web chat
    identity, `role` its "specialist" or "requester"."""

    __tablename__ = "admin_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    admin_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_users.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LEN))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str | None] = mapped_column(String(16))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LoginFailure(Base):
    """A failed admin sign-in, for the rate limit (failures per email and address)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key", "email", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ListeningChannel(Base):
    """A channel that opted in to the bot listening and helping unasked (off by default)."""

    __tablename__ = "listening_channels"
    __table_args__ = (UniqueConstraint("platform", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(PLATFORM_LEN))
    channel_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))
    enabled: Mapped[bool] = mapped_column(Boolean)
    changed_by: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ListeningAudit(Base):
    """Who switched listening on or off in a channel, and when."""

    __tablename__ = "listening_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(PLATFORM_LEN))
    channel_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))
    actor: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))
    action: Mapped[str] = mapped_column(String(16))  # on | off
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ListeningReply(Base):
    """A thread the bot spoke in unasked: at most once a thread, and a per-channel rate limit.

    Only ids and times are kept, never the text of what was heard.
    """

    __tablename__ = "listening_replies"
    __table_args__ = (UniqueConstraint("platform", "channel_id", "thread_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(PLATFORM_LEN))
    channel_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))
    thread_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class InboundEvent(Base):
    """A platform event journalled before it is acknowledged, so a restart finishes the work.

    The payload is stored with patient identifiers already replaced by labels, and emptied
    when the event is finished (the id stays, to recognise retries); `done_at` is set in the
    same transaction that queues the event's answer, so an answer goes out once.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("platform", "event_id"),
        Index("ix_inbound_events_pending", "done_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(PLATFORM_LEN))
    event_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LEN))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
