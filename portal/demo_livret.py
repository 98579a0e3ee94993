"""Demo livret: Julie Fabre's livret 2 (GC, VAE) written and submitted through the services,
so that a jury session can convene her."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.service import actor_for
from vae.livret import service
from vae.livret.models import Livret
from vae.parcours.models import Parcours
from vae.people.models import User
from vae.referentiel.service import get_referentiel

SITUATIONS = {
    "GRU": (
        "Accompagner un cotisant en difficulté au téléphone",
        "Un travailleur indépendant appelle, inquiet d'une majoration de retard sur ses "
        "cotisations ; il est agacé et parle de fermer son activité.",
        "J'ai identifié le cotisant et vérifié son compte, reformulé sa demande, expliqué le "
        "calcul de la majoration et la possibilité d'un délai de paiement. Je lui ai proposé "
        "l'échéancier en ligne et l'ai accompagné pendant la saisie, puis j'ai tracé l'échange "
        "dans l'outil de gestion de la relation.",
        "La demande d'échéancier a été déposée pendant l'appel ; le cotisant a remercié.",
    ),
    "MDR": (
        "Signaler une suspicion de fraude aux cotisations",
        "En traitant une déclaration, je remarque trois entreprises au même siège avec des "
        "salariés identiques.",
        "J'ai vérifié les éléments dans les portails partenaires, rassemblé les pièces sans "
        "consulter d'autres dossiers que nécessaire, puis alerté mon manager et transmis le "
        "signalement au service de lutte contre la fraude selon la procédure.",
        "Le contrôle a confirmé un montage ; le signalement a été cité en exemple en réunion.",
    ),
    "GDU": (
        "Régulariser un compte après une cessation d'activité",
        "Un employeur a cessé son activité sans déclaration de radiation ; des appels de "
        "cotisations continuent d'être émis.",
        "J'ai instruit le dossier à partir des pièces reçues, analysé la situation dans le "
        "système d'information, appliqué la législation sur la radiation, saisi les données "
        "et contrôlé la cohérence du résultat avant de valider, puis transmis au service "
        "contentieux la part qui relevait de lui.",
        "Le compte a été régularisé et les appels indus annulés en dix jours.",
    ),
}


def fill_demo_livret(session: Session, candidate: User, now: datetime) -> bool:
    parcours = session.scalar(select(Parcours).where(Parcours.candidate_id == candidate.id))
    if parcours is None:
        return False
    livret = service.get_or_open(session, parcours)
    if livret.situations or livret.submissions:
        return False
    referentiel = get_referentiel(session, parcours.certification.version_id)
    assert referentiel is not None
    certification = referentiel.certification(parcours.certification.code)
    actor = actor_for(candidate, "127.0.0.1")
    _profile(session, actor, candidate, livret, now)
    for cert_bloc in certification.blocs:
        title, context, actions, result = SITUATIONS[cert_bloc.key]
        situation = service.add_situation(
            session=session,
            actor=actor,
            user=candidate,
            livret=livret,
            certification=certification,
            bloc_key=cert_bloc.key,
            now=now,
        )
        service.save_situation(
            session=session,
            actor=actor,
            user=candidate,
            situation=situation,
            certification=certification,
            lock_version=situation.lock_version,
            now=now,
            data=service.SituationInput(
                title=title,
                period_from="2025-09-01",
                period_to="2026-06-30",
                organisme_service="URSSAF Île-de-France, service cotisants",
                context=context,
                actions=actions,
                means="Outils de gestion des comptes, portails partenaires, bases documentaires.",
                collaborators="Mon manager, le service contentieux.",
                result=result,
                learnings="Anticiper et tracer.",
                competence_keys=[c.key for c in cert_bloc.bloc.competences],
            ),
        )
    service.submit(
        session=session,
        actor=actor,
        user=candidate,
        livret=livret,
        certification=certification,
        sworn=True,
        now=now,
    )
    return True


def _profile(
    session: Session, actor: object, candidate: User, livret: Livret, now: datetime
) -> None:
    service.save_profile(
        session=session,
        actor=actor_for(candidate, "127.0.0.1"),
        user=candidate,
        livret=livret,
        current_job="Gestionnaire du recouvrement",
        current_service="Service cotisants",
        career=[
            {
                "job": "Gestionnaire du recouvrement",
                "employer": "URSSAF Île-de-France",
                "from": "2019-03-01",
                "to": "",
            },
            {
                "job": "Conseillère offres de services",
                "employer": "CAF de Paris",
                "from": "2015-09-01",
                "to": "2019-02-28",
            },
        ],
        trainings=[{"title": "Formation Pass", "body": "Institut 4.10", "date": "2019-06-14"}],
        lock_version=livret.profile_lock,
        now=now,
    )
