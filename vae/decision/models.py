"""Evaluation grids, avis, recours, national deliberation, proclamation and certificates.

One ``Evaluation`` per convocation of a candidate to a jury professionnel: the grid (every
criterion validated or not, a comment per competence) and the avis per bloc. The first
signature freezes its content (``content_hash``); the avis is final once every member of the
session has signed the same hash. The national jury then records a sovereign decision per bloc
in a ``NationalDossier`` and proclaims the session, which issues the ``Certificate`` rows.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vae.jury.models import Convocation, JurySession
from vae.orm import Base, UTCDateTime, utcnow
from vae.parcours.models import Parcours
from vae.people.models import User


class Evaluation(Base):
    """The jury professionnel's grid and avis for one convocation."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    convocation_id: Mapped[int] = mapped_column(ForeignKey("convocations.id"), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("jury_sessions.id"), index=True)
    parcours_id: Mapped[int] = mapped_column(ForeignKey("parcours.id"), index=True)
    # criterion key → validated (True) or not (False); a criterion not yet marked is absent
    marks: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    # competence key → the jury's comment
    comments: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # the blocs held when the evaluation opened (earlier CCPs included): what is not evaluated,
    # kept so that a CCP issued later does not change what this grid was about
    held_blocs: Mapped[list[str] | None] = mapped_column(JSON)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # set by the first signature: from then on the grid and the avis are frozen
    content_hash: Mapped[str | None] = mapped_column(String(64))
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # set when every member of the session has signed: the avis is final
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    convocation: Mapped[Convocation] = relationship()
    session: Mapped[JurySession] = relationship()
    parcours: Mapped[Parcours] = relationship()
    avis: Mapped[list[BlocAvis]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan", order_by="BlocAvis.id"
    )
    signatures: Mapped[list[AvisSignature]] = relationship(
        back_populates="evaluation", order_by="AvisSignature.id"
    )
    recours: Mapped[Recours | None] = relationship(back_populates="evaluation")

    @property
    def frozen(self) -> bool:
        return self.content_hash is not None

    @property
    def held(self) -> frozenset[str]:
        if self.held_blocs is not None:
            return frozenset(self.held_blocs)
        return self.parcours.held_bloc_keys

    @property
    def signed(self) -> bool:
        return self.signed_at is not None

    def avis_for(self, bloc_key: str) -> BlocAvis | None:
        return next((a for a in self.avis if a.bloc_key == bloc_key), None)


class BlocAvis(Base):
    """The avis of the jury professionnel on one bloc: favourable or not."""

    __tablename__ = "bloc_avis"
    __table_args__ = (UniqueConstraint("evaluation_id", "bloc_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), index=True)
    bloc_key: Mapped[str] = mapped_column(String(10))
    favourable: Mapped[bool | None] = mapped_column(Boolean)
    # required when the avis departs from the result the rules compute from the grid
    justification: Mapped[str] = mapped_column(Text, default="")
    # préconisations: required for every bloc whose avis is not favourable
    recommendations: Mapped[str] = mapped_column(Text, default="")

    evaluation: Mapped[Evaluation] = relationship(back_populates="avis")


class AvisSignature(Base):
    """One member's signature of the frozen grid and avis (same hash for every member)."""

    __tablename__ = "avis_signatures"
    __table_args__ = (UniqueConstraint("evaluation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    quality: Mapped[str] = mapped_column(String(20))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str] = mapped_column(String(45), default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    audit_seq: Mapped[int | None] = mapped_column(Integer)

    evaluation: Mapped[Evaluation] = relationship(back_populates="signatures")
    user: Mapped[User] = relationship()


class Recours(Base):
    """The candidate's reasoned appeal against the avis, read by the national jury; or, when
    ``waived``, the candidate's statement that they will not appeal (the period then ends)."""

    __tablename__ = "recours"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    waived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    evaluation: Mapped[Evaluation] = relationship(back_populates="recours")


class NationalDossier(Base):
    """A dossier (signed avis) on the agenda of a national session."""

    __tablename__ = "national_dossiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("jury_sessions.id"), index=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), unique=True)
    parcours_id: Mapped[int] = mapped_column(ForeignKey("parcours.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # filled at proclamation: why the CQP was withheld although every bloc is validated
    cqp_withheld_reason: Mapped[str | None] = mapped_column(Text)

    session: Mapped[JurySession] = relationship()
    evaluation: Mapped[Evaluation] = relationship()
    parcours: Mapped[Parcours] = relationship()
    decisions: Mapped[list[Deliberation]] = relationship(
        back_populates="dossier", order_by="Deliberation.id"
    )

    def decision_for(self, bloc_key: str) -> Deliberation | None:
        return next((d for d in self.decisions if d.bloc_key == bloc_key), None)


class Deliberation(Base):
    """The national jury's sovereign decision on one bloc of one dossier."""

    __tablename__ = "deliberations"
    __table_args__ = (UniqueConstraint("dossier_id", "bloc_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("national_dossiers.id"), index=True)
    bloc_key: Mapped[str] = mapped_column(String(10))
    validated: Mapped[bool] = mapped_column(Boolean)
    # required when the decision differs from the jury professionnel's avis
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    dossier: Mapped[NationalDossier] = relationship(back_populates="decisions")


class Proclamation(Base):
    """The national session's proclamation, in one act, with its sealed procès-verbal."""

    __tablename__ = "proclamations"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("jury_sessions.id"), unique=True)
    proclaimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    proclaimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # the sealed procès-verbal, stored under DATA_DIR (generated name), and its SHA-256
    pv_file: Mapped[str | None] = mapped_column(String(200))
    pv_sha256: Mapped[str | None] = mapped_column(String(64))
    audit_seq: Mapped[int | None] = mapped_column(Integer)


class CertificateKind(enum.StrEnum):
    CCP = "ccp"
    CQP = "cqp"


class Certificate(Base):
    """An issued CCP (one validated bloc) or CQP (the whole certification)."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    # the public verification code (unguessable, printed with its QR code)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    holder_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    parcours_id: Mapped[int] = mapped_column(ForeignKey("parcours.id"), index=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("national_dossiers.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("jury_sessions.id"))
    certification_code: Mapped[str] = mapped_column(String(20))
    certification_short: Mapped[str] = mapped_column(String(10))
    certification_title: Mapped[str] = mapped_column(Text)
    bloc_key: Mapped[str | None] = mapped_column(String(10))
    bloc_code: Mapped[str | None] = mapped_column(String(30))
    bloc_title: Mapped[str | None] = mapped_column(Text)
    route: Mapped[str] = mapped_column(String(20))
    issued_on: Mapped[date] = mapped_column(Date, index=True)
    # holder's name as printed, kept even if the account changes
    holder_first_name: Mapped[str] = mapped_column(Text)
    holder_last_name: Mapped[str] = mapped_column(Text)
    # the sealed PDF, stored under DATA_DIR (generated name), and its SHA-256
    pdf_file: Mapped[str | None] = mapped_column(String(200))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_reason: Mapped[str | None] = mapped_column(Text)

    holder: Mapped[User] = relationship(foreign_keys=[holder_id])
    parcours: Mapped[Parcours] = relationship()

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class Prerequisite(Base):
    """A prerequisite of the CQP recorded by the référent on the parcours (Pass, Prem'ss…)."""

    __tablename__ = "parcours_prerequisites"
    __table_args__ = (UniqueConstraint("parcours_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parcours_id: Mapped[int] = mapped_column(ForeignKey("parcours.id"), index=True)
    key: Mapped[str] = mapped_column(String(20))
    completed_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
