"""letters in the file storage, PDF letters, and responses on a landing page: a letter
run's ZIP and CSV move from the row to the core's file storage (``kyklos.files_dir``),
the run records its format and when it finished, a recipient keeps the message and the
source of a response, and posts of the response page are counted for the rate limit

Revision ID: campaigns_0006
Revises: campaigns_0005
"""

import os
import secrets
from pathlib import Path

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "campaigns_0006"
down_revision = "campaigns_0005"
branch_labels = None
depends_on = None

RUN = "campaigns_letterrun"


def _files_root() -> Path | None:
    settings = op.get_context().config.attributes.get("settings") or {}
    root = settings.get("kyklos.files_dir") or ""
    return Path(root).resolve() if root else None


def _store(root: Path, data: bytes) -> str:
    """``data`` under a new key, laid out as the core's storage lays out attachments."""
    key = secrets.token_hex(16)
    path = root / key[:2] / key[2:4] / key
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return key


def upgrade():
    with op.batch_alter_table(RUN) as batch:
        batch.add_column(sa.Column("finished_at", kyklos_sdk.UTCDateTime()))
        batch.add_column(sa.Column("format", sa.String(4), nullable=False, server_default="docx"))
        batch.add_column(sa.Column("archive_key", sa.String(64)))
        batch.add_column(sa.Column("archive_size", sa.BigInteger()))
        batch.add_column(sa.Column("csv_key", sa.String(64)))

    # existing runs: their bytes go to the file storage, one row at a time
    conn = op.get_bind()
    run = sa.table(
        RUN,
        sa.column("id", sa.Integer()),
        sa.column("created_at", kyklos_sdk.UTCDateTime()),
        sa.column("finished_at", kyklos_sdk.UTCDateTime()),
        sa.column("archive", sa.LargeBinary()),
        sa.column("addresses_csv", sa.Text()),
        sa.column("archive_key", sa.String()),
        sa.column("archive_size", sa.BigInteger()),
        sa.column("csv_key", sa.String()),
    )
    ids = [r[0] for r in conn.execute(sa.select(run.c.id).order_by(run.c.id))]
    root = _files_root() if ids else None
    if ids and root is None:
        raise RuntimeError(
            "campaigns_0006 moves the letters made so far to the file storage: "
            "set kyklos.files_dir and run the migration with the deployment's settings"
        )
    for rid in ids:
        archive, text, created = conn.execute(
            sa.select(run.c.archive, run.c.addresses_csv, run.c.created_at).where(run.c.id == rid)
        ).one()
        values = {"finished_at": created}
        if archive is not None:
            values["archive_key"] = _store(root, bytes(archive))
            values["archive_size"] = len(archive)
        if text is not None:
            values["csv_key"] = _store(root, text.encode("utf-8"))
        conn.execute(run.update().where(run.c.id == rid).values(**values))

    with op.batch_alter_table(RUN) as batch:
        batch.drop_column("archive")
        batch.drop_column("addresses_csv")

    with op.batch_alter_table("campaigns_recipient") as batch:
        batch.add_column(sa.Column("response_message", sa.Text()))
        batch.add_column(sa.Column("response_source", sa.String(12)))

    op.create_table(
        "campaigns_landinghit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client", sa.String(64), nullable=False, index=True),
        sa.Column("at", kyklos_sdk.UTCDateTime(), nullable=False, index=True),
    )


def downgrade():
    op.drop_table("campaigns_landinghit")
    with op.batch_alter_table("campaigns_recipient") as batch:
        batch.drop_column("response_source")
        batch.drop_column("response_message")
    with op.batch_alter_table(RUN) as batch:
        batch.add_column(sa.Column("archive", sa.LargeBinary()))
        batch.add_column(sa.Column("addresses_csv", sa.Text()))
    # the bytes come back into the rows when the storage is reachable
    conn = op.get_bind()
    root = _files_root()
    run = sa.table(
        RUN,
        sa.column("id", sa.Integer()),
        sa.column("archive", sa.LargeBinary()),
        sa.column("addresses_csv", sa.Text()),
        sa.column("archive_key", sa.String()),
        sa.column("csv_key", sa.String()),
    )
    if root is not None:
        rows = conn.execute(sa.select(run.c.id, run.c.archive_key, run.c.csv_key)).all()
        for rid, akey, ckey in rows:
            values = {}
            for col, key in (("archive", akey), ("addresses_csv", ckey)):
                path = root / key[:2] / key[2:4] / key if key else None
                if path is not None and path.is_file():
                    data = path.read_bytes()
                    values[col] = data if col == "archive" else data.decode("utf-8")
            if values:
                conn.execute(run.update().where(run.c.id == rid).values(**values))
    with op.batch_alter_table(RUN) as batch:
        batch.drop_column("csv_key")
        batch.drop_column("archive_size")
        batch.drop_column("archive_key")
        batch.drop_column("format")
        batch.drop_column("finished_at")
