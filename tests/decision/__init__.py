"""Shared builders for the decision tests: a jury session of two members with one convocation,
and complete grids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from vae.audit.service import Actor
from vae.decision.evaluation import AvisInput, GridInput
from vae.jury.models import Convocation, JuryMember, JurySession
from vae.parcours.models import Parcours
from vae.people.models import Civility, Role, User
from vae.people.service import create_user
from vae.referentiel.model import Certification
from vae.referentiel.service import get_referentiel

NOW = datetime(2027, 2, 9, 15, 0, tzinfo=UTC)


@dataclass
class Jury:
    session: JurySession
    convocation: Convocation
    president: User
    expert: User


def jury_for(db: Session, parcours: Parcours, president: User, expert_org_id: int) -> Jury:
    """A jury professionnel session with ``president`` and a new expert, ``parcours`` convened."""
    from vae.people.models import Organisation

    organisation = db.get(Organisation, expert_org_id)
    assert organisation is not None
    expert = create_user(
        session=db,
        actor=Actor.system("tests"),
        email=f"expert{parcours.id}@test.fr",
        civility=Civility.M,
        first_name="Paul",
        last_name="Expert",
        organisation=organisation,
        roles={Role.JURY_PRO},
    )
    jury = JurySession(kind="professionnel", day=date(2027, 2, 9), place="Montreuil", capacity=8)
    db.add(jury)
    db.flush()
    db.add(JuryMember(session_id=jury.id, user_id=president.id, quality="president"))
    db.add(JuryMember(session_id=jury.id, user_id=expert.id, quality="expert"))
    convocation = Convocation(
        session_id=jury.id,
        parcours_id=parcours.id,
        at=datetime(2027, 2, 9, 9, tzinfo=UTC),
        place="Montreuil",
    )
    db.add(convocation)
    db.flush()
    db.refresh(jury)
    return Jury(jury, convocation, president, expert)


def certification(db: Session, short: str) -> Certification:
    referentiel = get_referentiel(db)
    assert referentiel is not None
    return referentiel.certification(short)


def marks(
    cert: Certification, value: bool = True, held: frozenset[str] = frozenset()
) -> dict[str, bool]:
    return {
        criterion.key: value
        for cert_bloc, competence in cert.competences()
        if cert_bloc.key not in held
        for criterion in competence.criteria
    }


def complete(cert: Certification, held: frozenset[str] = frozenset()) -> GridInput:
    """Every criterion validated, every avis favourable."""
    return GridInput(
        marks=marks(cert, True, held),
        comments={},
        avis={k: AvisInput(True) for k in cert.bloc_keys if k not in held},
    )
