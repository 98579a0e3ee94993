"""Jury sessions."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vae.orm import Base, UTCDateTime, utcnow


class SessionKind(enum.StrEnum):
    PROFESSIONNEL = "professionnel"
    NATIONAL = "national"


class JurySession(Base):
    __tablename__ = "jury_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(Text)
    capacity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
