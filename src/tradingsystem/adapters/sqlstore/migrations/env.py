"""Alembic environment of the SQL state store.

The store runs migrations programmatically and passes its connection in ``config.attributes``; the
``alembic`` command line also works with ``-x url=...`` or ``sqlalchemy.url`` (online or ``--sql``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from tradingsystem.adapters.sqlstore.tables import METADATA

config = context.config
version_table = config.get_main_option("version_table") or "sqlstore_version"
connection = config.attributes.get("connection")
url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")

if context.is_offline_mode():
    context.configure(url=url, target_metadata=METADATA, version_table=version_table, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
elif connection is not None:
    context.configure(connection=connection, target_metadata=METADATA, version_table=version_table,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    if not url:
        raise RuntimeError("no database: pass -x url=... or set sqlalchemy.url")
    engine = create_engine(url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=METADATA, version_table=version_table,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
