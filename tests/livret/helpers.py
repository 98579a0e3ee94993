"""Building livrets for tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from tests.portal.world import World
from vae.audit.service import Actor
from vae.livret import service
from vae.livret.models import Livret, Situation
from vae.referentiel.model import Certification, Referentiel

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def certification_of(referentiel: Referentiel, world: World) -> Certification:
    return referentiel.certification(world.own.certification.code)


def actor(world: World, who: str = "candidat") -> Actor:
    user = world.people[who]
    return Actor(user.id, user.full_name, "10.0.0.2")


def full_input(bloc: str, referentiel: Referentiel, title: str = "") -> service.SituationInput:
    competences = [c.key for c in referentiel.blocs[bloc].competences]
    return service.SituationInput(
        title=title or f"Situation {bloc}",
        period_from="2026-01-05",
        period_to="2026-02-10",
        organisme_service="CPAM Test, accueil",
        context="Un assuré sans droits ouverts.",
        actions="J'ai vérifié sa situation et ouvert ses droits.",
        means="Outils du SI.",
        collaborators="Mon manager.",
        result="Droits ouverts en 48 h.",
        learnings="Anticiper.",
        competence_keys=competences,
    )


def complete_livret(db: Session, world: World, referentiel: Referentiel) -> Livret:
    """A livret ready to submit: profile plus one complete situation per bloc."""
    cert = certification_of(referentiel, world)
    user = world.people["candidat"]
    livret = service.get_or_open(db, world.own)
    service.save_profile(
        session=db,
        actor=actor(world),
        user=user,
        livret=livret,
        current_job="Conseillère offres de services",
        current_service="Accueil",
        career=[{"job": "Conseillère", "employer": "CPAM Test", "from": "2019-01-01", "to": ""}],
        trainings=[],
        lock_version=1,
        now=NOW,
    )
    for cert_bloc in cert.blocs:
        if cert_bloc.key in world.own.held_bloc_keys:
            continue
        situation = add(db, world, referentiel, livret, cert_bloc.key)
        service.save_situation(
            session=db,
            actor=actor(world),
            user=user,
            situation=situation,
            certification=cert,
            data=full_input(cert_bloc.key, referentiel),
            lock_version=1,
            now=NOW,
        )
    return livret


def add(
    db: Session, world: World, referentiel: Referentiel, livret: Livret, bloc: str
) -> Situation:
    return service.add_situation(
        session=db,
        actor=actor(world),
        user=world.people["candidat"],
        livret=livret,
        certification=certification_of(referentiel, world),
        bloc_key=bloc,
        now=NOW,
    )
