"""One inbox for every platform: private outbox messages; Teams' own de-duplication table goes.

Teams activities are now journalled in `inbound_events` like Slack's and the web chat's (one
de-duplication table for all platforms, pruned by the journal), so `processed_events` is
dropped. Outbox rows gain `visible_to`: a message only that person may see. Web messages
gain the outbox row they were delivered for, so a retried delivery is not stored twice.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("visible_to", sa.String(length=255), nullable=True))
    with op.batch_alter_table("web_messages") as batch:
        batch.add_column(sa.Column("outbox_id", sa.Integer(), nullable=True))
        batch.create_unique_constraint(op.f("uq_web_messages_outbox_id"), ["outbox_id"])
    op.drop_index(op.f("ix_processed_events_received_at"), table_name="processed_events")
    op.drop_table("processed_events")


def downgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processed_events")),
        sa.UniqueConstraint(
            "platform", "event_id", name=op.f("uq_processed_events_platform_event_id")
        ),
    )
    op.create_index(
        op.f("ix_processed_events_received_at"), "processed_events", ["received_at"], unique=False
    )
    with op.batch_alter_table("web_messages") as batch:
        batch.drop_constraint(op.f("uq_web_messages_outbox_id"), type_="unique")
        batch.drop_column("outbox_id")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("visible_to")
