"""The carnet de suivi: self-assessment, attestations (versioned, signed), milestones."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vae.orm import Base, UTCDateTime, utcnow
from vae.parcours.models import Parcours
from vae.people.models import User
from vae.referentiel.models import CompetenceRecord


class SelfLevel(enum.StrEnum):
    MAITRISEE = "maitrisee"
    EN_COURS = "en_cours"
    A_ACQUERIR = "a_acquerir"


SELF_LEVEL_LABELS = {
    SelfLevel.MAITRISEE: "Maîtrisée",
    SelfLevel.EN_COURS: "En cours",
    SelfLevel.A_ACQUERIR: "À acquérir",
}


class Verdict(enum.StrEnum):
    MAITRISEE = "maitrisee"
    EN_COURS = "en_cours"
    NON_OBSERVEE = "non_observee"


VERDICT_LABELS = {
    Verdict.MAITRISEE: "Maîtrisée",
    Verdict.EN_COURS: "En cours d'acquisition",
    Verdict.NON_OBSERVEE: "Non observée",
}


class SituationKind(enum.StrEnum):
    ACCUEIL_TELEPHONIQUE = "accueil_telephonique"
    ACCUEIL_PHYSIQUE = "accueil_physique"
    COURRIER_COURRIEL = "courrier_courriel"
    TRAITEMENT_DONNEES = "traitement_donnees"
    AUTRE = "autre"


SITUATION_LABELS = {
    SituationKind.ACCUEIL_TELEPHONIQUE: "Accueil téléphonique",
    SituationKind.ACCUEIL_PHYSIQUE: "Accueil physique",
    SituationKind.COURRIER_COURRIEL: "Courrier / courriel",
    SituationKind.TRAITEMENT_DONNEES: "Traitement de données",
    SituationKind.AUTRE: "Autre situation",
}


class AttesterRole(enum.StrEnum):
    TUTEUR = "tuteur"
    MANAGER = "manager"


ATTESTER_LABELS = {AttesterRole.TUTEUR: "Tuteur", AttesterRole.MANAGER: "Manager"}


class MilestoneKind(enum.StrEnum):
    POSITIONNEMENT = "positionnement"
    MI_PARCOURS = "mi_parcours"
    BILAN_FINAL = "bilan_final"


MILESTONE_LABELS = {
    MilestoneKind.POSITIONNEMENT: "Positionnement",
    MilestoneKind.MI_PARCOURS: "Bilan à mi-parcours",
    MilestoneKind.BILAN_FINAL: "Bilan final",
}


class Carnet(Base):
    """Handed over when the parcours opens."""

    __tablename__ = "carnets"

    id: Mapped[int] = mapped_column(primary_key=True)
    parcours_id: Mapped[int] = mapped_column(ForeignKey("parcours.id"), unique=True)
    handed_over_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parcours: Mapped[Parcours] = relationship()


class SelfAssessment(Base):
    """Pré-positionnement: the candidate's own view, never an evaluation."""

    __tablename__ = "self_assessments"
    __table_args__ = (UniqueConstraint("parcours_id", "competence_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parcours_id: Mapped[int] = mapped_column(ForeignKey("parcours.id"), index=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"))
    level: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    competence: Mapped[CompetenceRecord] = relationship()


class Attestation(Base):
    """One attester's thread for one competence of one parcours; its content is in versions."""

    __tablename__ = "attestations"
    __table_args__ = (UniqueConstraint("parcours_id", "competence_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parcours_id: Mapped[int] = mapped_column(ForeignKey("parcours.id"), index=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"))
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    competence: Mapped[CompetenceRecord] = relationship()
    versions: Mapped[list[AttestationVersion]] = relationship(
        back_populates="attestation", order_by="AttestationVersion.number"
    )


class AttestationVersion(Base):
    """A version of an attestation. Once signed it never changes: a correction is a new version.

    ``content_hash`` is the SHA-256 of the canonical content at signing time
    (``carnet.signing.canonical_content``); the signature's audit entry records it too.
    """

    __tablename__ = "attestation_versions"
    __table_args__ = (UniqueConstraint("attestation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attestation_id: Mapped[int] = mapped_column(ForeignKey("attestations.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    attester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    situation_date: Mapped[date] = mapped_column(Date)
    situation_kind: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text)
    observed_criteria: Mapped[list[str]] = mapped_column(JSON)
    verdict: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signer_role: Mapped[str | None] = mapped_column(String(10))
    signer_ip: Mapped[str | None] = mapped_column(String(45))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    audit_seq: Mapped[int | None] = mapped_column(Integer)

    attestation: Mapped[Attestation] = relationship(back_populates="versions")
    attester: Mapped[User] = relationship(foreign_keys=[attester_id])
    signer: Mapped[User | None] = relationship(foreign_keys=[signer_id])

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


class Milestone(Base):
    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("parcours_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parcours_id: Mapped[int] = mapped_column(ForeignKey("parcours.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date)
    participant_ids: Mapped[list[int]] = mapped_column(JSON)
    other_participants: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
