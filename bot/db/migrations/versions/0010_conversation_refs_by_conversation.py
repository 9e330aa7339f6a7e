"""Conversation references are looked up by conversation for every Teams post: an index, so
the lookup does not scan every conversation the bot has heard from.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_conversation_refs_conversation",
        "conversation_refs",
        ["platform", "conversation_id", "updated_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_conversation_refs_conversation", table_name="conversation_refs")
