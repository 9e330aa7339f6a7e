"""Sign in with Microsoft (OpenID Connect): one session table for every signed-in person.

`admin_sessions` keeps the console's password sessions and now also holds single sign-on
sessions, for the web chat as well as the console: `admin_id` is set only when the session may
use the console; `user_id` is the person's web chat identity, `email` what the identity
provider vouched for, `role` "specialist" or "requester". `admin_users.source` is "sso" for an
account that single sign-on made (granted by a role, group or allow-list), so that losing the
grant at the identity provider ends it; NULL for an account made with `evidence-desk admin add`.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("admin_sessions") as batch:
        batch.alter_column("admin_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("user_id", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("email", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("role", sa.String(length=16), nullable=True))
    with op.batch_alter_table("admin_users") as batch:
        batch.add_column(sa.Column("source", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM admin_sessions WHERE admin_id IS NULL")
    with op.batch_alter_table("admin_users") as batch:
        batch.drop_column("source")
    with op.batch_alter_table("admin_sessions") as batch:
        batch.drop_column("role")
        batch.drop_column("email")
        batch.drop_column("user_id")
        batch.alter_column("admin_id", existing_type=sa.Integer(), nullable=False)
