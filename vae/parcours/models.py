"""Parcours and the blocs a candidate already holds when it opens."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vae.orm import Base, UTCDateTime, utcnow
from vae.people.models import Organisation, User
from vae.referentiel.models import CertificationRecord


class Route(enum.StrEnum):
    FORMATION = "formation"
    VAE = "vae"


ROUTE_LABELS = {Route.FORMATION: "Formation", Route.VAE: "VAE"}


class ParcoursStatus(enum.StrEnum):
    OPEN = "en_cours"
    CLOSED = "clos"


parcours_trainers = Table(
    "parcours_trainers",
    Base.metadata,
    Column("parcours_id", ForeignKey("parcours.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
)


class Parcours(Base):
    __tablename__ = "parcours"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certifications.id"))
    route: Mapped[str] = mapped_column(String(20))
    employer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    tutor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=ParcoursStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    candidate: Mapped[User] = relationship(foreign_keys=[candidate_id])
    tutor: Mapped[User | None] = relationship(foreign_keys=[tutor_id])
    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id])
    employer: Mapped[Organisation] = relationship()
    certification: Mapped[CertificationRecord] = relationship()
    trainers: Mapped[list[User]] = relationship(secondary=parcours_trainers, order_by="User.id")
    held_blocs: Mapped[list[HeldBloc]] = relationship(
        back_populates="parcours", cascade="all, delete-orphan", order_by="HeldBloc.id"
    )

    @property
    def held_bloc_keys(self) -> frozenset[str]:
        return frozenset(h.bloc_key for h in self.held_blocs)


class HeldBloc(Base):
    """A bloc held before the parcours opened: an earlier CCP, or the other CQP's shared bloc.

    Held by bloc key, since a bloc is acquired for good and GRU / MDR are the same bloc in both
    certifications (passerelle).
    """

    __tablename__ = "held_blocs"
    __table_args__ = (UniqueConstraint("parcours_id", "bloc_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parcours_id: Mapped[int] = mapped_column(ForeignKey("parcours.id", ondelete="CASCADE"))
    bloc_key: Mapped[str] = mapped_column(String(10))
    origin: Mapped[str] = mapped_column(Text)
    obtained_on: Mapped[date | None] = mapped_column(Date)

    parcours: Mapped[Parcours] = relationship(back_populates="held_blocs")
