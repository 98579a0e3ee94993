"""Buffered Core inserts with ids chosen in Python, flushed parents first."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Engine, insert, text

from portal.models import metadata

# Parents before children (foreign keys are checked on SQLite too).
ORDER = (
    "organisations",
    "users",
    "user_roles",
    "parcours",
    "held_blocs",
    "parcours_prerequisites",
    "carnets",
    "self_assessments",
    "attestations",
    "attestation_versions",
    "livrets",
    "situations",
    "jury_sessions",
    "jury_members",
    "convocations",
    "evaluations",
    "bloc_avis",
    "avis_signatures",
    "national_dossiers",
    "deliberations",
    "proclamations",
    "certificates",
    "audit_entries",
    "audit_head",
)


class Rows:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.buffers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.next_ids: dict[str, int] = defaultdict(lambda: 1)
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, table: str, **values: Any) -> int:
        """Queue a row; returns its id (chosen here unless given)."""
        if "id" not in values:
            values["id"] = self.next_ids[table]
        self.next_ids[table] = max(self.next_ids[table], values["id"] + 1)
        self.buffers[table].append(values)
        self.counts[table] += 1
        if len(self.buffers[table]) >= 50_000:
            self.flush()
        return int(values["id"])

    def flush(self) -> None:
        with self.engine.begin() as connection:
            for name in ORDER:
                batch = self.buffers.pop(name, [])
                shapes: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
                for row in batch:  # executemany needs the same keys in every row
                    shapes[tuple(sorted(row))].append(row)
                for same in shapes.values():
                    connection.execute(insert(metadata.tables[name]), same)
        assert not self.buffers, f"tables missing from ORDER: {list(self.buffers)}"

    def finish(self) -> None:
        """PostgreSQL: move every id sequence past the ids given here; refresh statistics."""
        if self.engine.dialect.name != "postgresql":
            return
        with self.engine.begin() as connection:
            for name in ORDER:
                table = metadata.tables[name]
                if "id" in table.c:
                    # table names come from the metadata, never from input
                    sql = f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"  # noqa: E501, S608
                    connection.execute(text(sql))
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
