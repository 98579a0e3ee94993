"""Database copy of the référentiel, one set of rows per version.

Rows of a loaded version are never rewritten: parcours, attestations and grids point at the
rows of the version they started with, and a new version gets new rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vae.orm import Base, UTCDateTime, utcnow


class ReferentielVersion(Base):
    __tablename__ = "referentiel_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    rules: Mapped[list[str]] = mapped_column(JSON)
    vae: Mapped[dict[str, Any]] = mapped_column(JSON)
    sources: Mapped[list[str]] = mapped_column(JSON)
    notes: Mapped[list[str]] = mapped_column(JSON)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    certifications: Mapped[list[CertificationRecord]] = relationship(
        back_populates="version", order_by="CertificationRecord.id"
    )


class CertificationRecord(Base):
    __tablename__ = "certifications"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("referentiel_versions.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    short: Mapped[str] = mapped_column(String(10))
    level: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    objective: Mapped[str] = mapped_column(Text)
    registration_end: Mapped[str] = mapped_column(String(20))
    notes: Mapped[list[str]] = mapped_column(JSON)

    version: Mapped[ReferentielVersion] = relationship(back_populates="certifications")
    blocs: Mapped[list[CertificationBlocRecord]] = relationship(
        back_populates="certification", order_by="CertificationBlocRecord.position"
    )


class BlocRecord(Base):
    __tablename__ = "blocs"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("referentiel_versions.id"), index=True)
    key: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(Text)
    activity: Mapped[str] = mapped_column(Text)
    formation: Mapped[dict[str, Any]] = mapped_column(JSON)
    notes: Mapped[list[str]] = mapped_column(JSON)

    competences: Mapped[list[CompetenceRecord]] = relationship(
        back_populates="bloc", order_by="CompetenceRecord.position"
    )


class CertificationBlocRecord(Base):
    """A bloc in a certification. GRU and MDR rows of both CQPs point at the same bloc row."""

    __tablename__ = "certification_blocs"
    __table_args__ = (
        UniqueConstraint("certification_id", "bloc_id"),
        UniqueConstraint("certification_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certifications.id"))
    bloc_id: Mapped[int] = mapped_column(ForeignKey("blocs.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)

    certification: Mapped[CertificationRecord] = relationship(back_populates="blocs")
    bloc: Mapped[BlocRecord] = relationship()


class CompetenceRecord(Base):
    __tablename__ = "competences"
    __table_args__ = (UniqueConstraint("bloc_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bloc_id: Mapped[int] = mapped_column(ForeignKey("blocs.id"))
    key: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(5))
    label: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    notes: Mapped[list[str]] = mapped_column(JSON)

    bloc: Mapped[BlocRecord] = relationship(back_populates="competences")
    criteria: Mapped[list[CriterionRecord]] = relationship(
        back_populates="competence", order_by="CriterionRecord.position"
    )


class CriterionRecord(Base):
    __tablename__ = "criteria"
    __table_args__ = (UniqueConstraint("competence_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"))
    key: Mapped[str] = mapped_column(String(24))
    label: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    notes: Mapped[list[str]] = mapped_column(JSON)

    competence: Mapped[CompetenceRecord] = relationship(back_populates="criteria")
