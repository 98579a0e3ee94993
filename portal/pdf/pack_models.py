"""State of the interview-pack batches: one row per batch, in the database.

Several app processes may serve a session's pages behind a load balancer: the process that
builds the packs writes its progress here, whichever process answers the htmx poll reads it.
The zip itself is a file under ``DATA_DIR/packs`` (``archive``), written once complete.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vae.orm import Base, UTCDateTime, utcnow


class BatchStatus(enum.StrEnum):
    RUNNING = "en_cours"
    DONE = "termine"
    FAILED = "echec"


class PackBatch(Base):
    __tablename__ = "pack_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("jury_sessions.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=BatchStatus.RUNNING.value)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)  # heartbeat
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archive: Mapped[str] = mapped_column(String(120), default="")  # zip under DATA_DIR/packs
    error: Mapped[str] = mapped_column(Text, default="")
