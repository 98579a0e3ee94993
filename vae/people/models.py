"""Organisations, people and the roles they hold.

They live in the domain because the rules need them (a jury member may not come from the
candidate's organisme nor sit in their management line); sign-in lives in ``portal.accounts``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vae.orm import Base, UTCDateTime, utcnow


class OrganisationKind(enum.StrEnum):
    ORGANISME = "organisme"  # an employer of the Régime général (CPAM, CAF…)
    CERTIFICATEUR = "certificateur"  # Ucanss or its delegates (Institut 4.10, caisses nationales)


class OrganisationType(enum.StrEnum):
    CPAM = "CPAM"
    CAF = "CAF"
    CARSAT = "CARSAT"
    URSSAF = "URSSAF"
    CGSS = "CGSS"
    CNAM = "CNAM"
    CNAF = "CNAF"
    CNAV = "CNAV"
    URSSAF_CN = "URSSAF Caisse nationale"
    UCANSS = "Ucanss"
    INSTITUT_410 = "Institut 4.10"
    AUTRE = "Autre"


class Branche(enum.StrEnum):
    MALADIE = "Maladie"
    FAMILLE = "Famille"
    RETRAITE = "Retraite"
    RECOUVREMENT = "Recouvrement"


class Role(enum.StrEnum):
    CANDIDAT = "candidat"
    TUTEUR = "tuteur"
    MANAGER = "manager"
    REFERENT = "referent"
    JURY_PRO = "jury_pro"
    JURY_NATIONAL = "jury_national"
    ADMIN = "admin"


ROLE_LABELS: dict[Role, str] = {
    Role.CANDIDAT: "Candidat",
    Role.TUTEUR: "Tuteur",
    Role.MANAGER: "Manager",
    Role.REFERENT: "Référent",
    Role.JURY_PRO: "Membre de jury professionnel",
    Role.JURY_NATIONAL: "Membre du jury paritaire national",
    Role.ADMIN: "Administrateur certification",
}


class Civility(enum.StrEnum):
    MME = "Mme"
    M = "M."


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(40))
    branche: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")

    @property
    def is_certifying_body(self) -> bool:
        return self.kind == OrganisationKind.CERTIFICATEUR


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    civility: Mapped[str] = mapped_column(String(5))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    job_title: Mapped[str] = mapped_column(String(200), default="")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    jury_training_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship(back_populates="users")
    manager: Mapped[User | None] = relationship(remote_side=[id])
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.role_rows)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="role_rows")
