"""The livret 2 of a VAE parcours.

Editable parts carry a ``lock_version`` for optimistic locking (two tabs never silently
overwrite each other). Submitting freezes an edition: its full content and annex hashes are
copied into ``LivretSubmission.snapshot``, which never changes afterwards.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vae.orm import Base, UTCDateTime, utcnow
from vae.parcours.models import Parcours


class LivretStatus(enum.StrEnum):
    DRAFT = "brouillon"
    SUBMITTED = "soumis"


class Livret(Base):
    __tablename__ = "livrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    parcours_id: Mapped[int] = mapped_column(ForeignKey("parcours.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=LivretStatus.DRAFT.value)
    edition: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # candidate and career data (front of the livret)
    current_job: Mapped[str] = mapped_column(Text, default="")
    current_service: Mapped[str] = mapped_column(Text, default="")
    career: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    trainings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    profile_lock: Mapped[int] = mapped_column(Integer, default=1)
    profile_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    parcours: Mapped[Parcours] = relationship()
    situations: Mapped[list[Situation]] = relationship(
        back_populates="livret", order_by="Situation.id"
    )
    submissions: Mapped[list[LivretSubmission]] = relationship(
        back_populates="livret", order_by="LivretSubmission.edition"
    )

    @property
    def editable(self) -> bool:
        return self.status == LivretStatus.DRAFT.value


class Situation(Base):
    """A significant work situation showing competences of one bloc."""

    __tablename__ = "situations"

    id: Mapped[int] = mapped_column(primary_key=True)
    livret_id: Mapped[int] = mapped_column(ForeignKey("livrets.id"), index=True)
    bloc_key: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(Text, default="")
    period_from: Mapped[date | None] = mapped_column(Date)
    period_to: Mapped[date | None] = mapped_column(Date)
    organisme_service: Mapped[str] = mapped_column(Text, default="")
    context: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[str] = mapped_column(Text, default="")
    means: Mapped[str] = mapped_column(Text, default="")
    collaborators: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    learnings: Mapped[str] = mapped_column(Text, default="")
    competence_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    criterion_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    livret: Mapped[Livret] = relationship(back_populates="situations")
    annexes: Mapped[list[Annex]] = relationship(back_populates="situation", order_by="Annex.id")


class Annex(Base):
    """An anonymised PDF attached to a situation, stored under a generated name."""

    __tablename__ = "annexes"

    id: Mapped[int] = mapped_column(primary_key=True)
    situation_id: Mapped[int] = mapped_column(ForeignKey("situations.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    situation: Mapped[Situation] = relationship(back_populates="annexes")


class LivretSubmission(Base):
    """A frozen edition: content snapshot, hashes, sworn statement signature, and its return."""

    __tablename__ = "livret_submissions"
    __table_args__ = (UniqueConstraint("livret_id", "edition"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    livret_id: Mapped[int] = mapped_column(ForeignKey("livrets.id"), index=True)
    edition: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signer_ip: Mapped[str] = mapped_column(String(45), default="")
    audit_seq: Mapped[int | None] = mapped_column(Integer)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    return_reason: Mapped[str] = mapped_column(Text, default="")

    livret: Mapped[Livret] = relationship(back_populates="submissions")
