"""Listening mode: opted-in channels, who switched them, and the threads the bot spoke in.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "listening_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=255), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.String(length=255), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listening_channels")),
        sa.UniqueConstraint(
            "platform", "channel_id", name=op.f("uq_listening_channels_platform_channel_id")
        ),
    )
    op.create_table(
        "listening_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=255), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listening_audit")),
    )
    op.create_table(
        "listening_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=255), nullable=False),
        sa.Column("thread_id", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listening_replies")),
        sa.UniqueConstraint(
            "platform",
            "channel_id",
            "thread_id",
            name=op.f("uq_listening_replies_platform_channel_id_thread_id"),
        ),
    )
    op.create_index(op.f("ix_listening_replies_at"), "listening_replies", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_listening_replies_at"), table_name="listening_replies")
    op.drop_table("listening_replies")
    op.drop_table("listening_audit")
    op.drop_table("listening_channels")
