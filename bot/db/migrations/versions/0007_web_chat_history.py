"""The web chat keeps the person's own messages beside the bot's, so a reload shows the whole
conversation: `author` is "person" for what they typed (stored redacted), NULL for the bot;
`client_message_id` is the page's id for the message, so the page that sent it knows it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("web_messages") as batch:
        batch.add_column(sa.Column("author", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("client_message_id", sa.String(length=100), nullable=True))
        # A message sent again (a resend after a dropped connection) is kept once.
        batch.create_unique_constraint(
            op.f("uq_web_messages_conversation_client_message_id"),
            ["conversation", "client_message_id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("web_messages") as batch:
        batch.drop_constraint(
            op.f("uq_web_messages_conversation_client_message_id"), type_="unique"
        )
        batch.drop_column("client_message_id")
        batch.drop_column("author")
