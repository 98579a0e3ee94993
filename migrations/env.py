"""Alembic environment: the only way a schema is made, in tests too.

The connection comes from ``config.attributes["connection"]`` when the caller provides one
(tests, the CLI), otherwise from the application settings.
"""

from __future__ import annotations

from alembic import context

from portal.models import metadata
from portal.settings import load_settings
from vae.orm import UTCDateTime

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from portal.db import make_engine

    engine = make_engine(load_settings().database_url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _render_item(type_, obj, autogen_context):  # type: ignore[no-untyped-def]
    # Migrations must not depend on application types: UTCDateTime is DateTime(timezone=True)
    # in DDL, its UTC handling lives in Python only.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_item=_render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `vae-portal db upgrade`")
run_migrations()
