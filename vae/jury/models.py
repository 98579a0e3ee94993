"""Jury sessions."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vae.orm import Base, UTCDateTime, utcnow
from vae.parcours.models import Parcours
from vae.people.models import User


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

    members: Mapped[list[JuryMember]] = relationship(order_by="JuryMember.id")
    convocations: Mapped[list[Convocation]] = relationship(order_by="Convocation.at")


class MemberQuality(enum.StrEnum):
    PRESIDENT = "president"
    EXPERT = "expert"


QUALITY_LABELS = {MemberQuality.PRESIDENT: "Président(e)", MemberQuality.EXPERT: "Expert(e) métier"}


class JuryMember(Base):
    __tablename__ = "jury_members"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("jury_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    quality: Mapped[str] = mapped_column(String(20))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()


class Convocation(Base):
    """A candidate convened to a session, at a time and place; date changes keep the former one."""

    __tablename__ = "convocations"
    __table_args__ = (UniqueConstraint("session_id", "parcours_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("jury_sessions.id"), index=True)
    parcours_id: Mapped[int] = mapped_column(ForeignKey("parcours.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(Text)
    previous_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parcours: Mapped[Parcours] = relationship()
