"""Demo livrets written and submitted through the services, so that jury sessions can convene
them: Julie Fabre's (GC, VAE) and Inès Moreau's (COS, VAE, GRU and MDR held from the GC)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
    "POS": (
        "Accompagner une allocataire vers le simulateur de prime d'activité",
        "Une allocataire reçue à l'accueil ne sait pas si elle peut prétendre à la prime "
        "d'activité ; elle n'a jamais utilisé l'espace en ligne.",
        "J'ai analysé sa situation à partir de son dossier, présenté les offres de services "
        "adaptées, lancé avec elle le simulateur puis créé son espace personnel. Je lui ai "
        "montré comment déclarer ses ressources et lui ai remis la fiche pratique.",
        "La demande a été déposée en ligne le jour même ; elle déclare seule depuis.",
    ),
    "TD": (
        "Fiabiliser les données d'un dossier avant calcul des droits",
        "Un dossier présente des ressources incohérentes entre deux déclarations "
        "trimestrielles, ce qui bloque le calcul de l'aide au logement.",
        "J'ai identifié l'anomalie, demandé les pièces justificatives, vérifié les données "
        "dans les échanges partenaires, corrigé la saisie et contrôlé le résultat du calcul "
        "avant de valider, en traçant chaque étape dans le dossier.",
        "Les droits ont été calculés sans indu ; le dossier est cité en exemple au service.",
    ),
}

PROFILES = {
    "candidat.gc.vae.soumis": {
        "service": "URSSAF Île-de-France, service cotisants",
        "current_job": "Gestionnaire du recouvrement",
        "current_service": "Service cotisants",
        "career": [
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
    },
    "candidat.cos.passerelle": {
        "service": "CAF du Rhône, accueil de Lyon-Part-Dieu",
        "current_job": "Conseillère offres de services",
        "current_service": "Accueil et plateforme téléphonique",
        "career": [
            {
                "job": "Conseillère offres de services",
                "employer": "CAF du Rhône",
                "from": "2024-09-01",
                "to": "",
            },
            {
                "job": "Gestionnaire conseil",
                "employer": "CAF du Rhône",
                "from": "2019-01-07",
                "to": "2024-08-31",
            },
        ],
    },
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
    profile = PROFILES[candidate.email.split("@")[0]]
    _profile(session, candidate, livret, profile, now)
    for cert_bloc in certification.blocs:
        if cert_bloc.key in parcours.held_bloc_keys:
            continue
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
                organisme_service=str(profile["service"]),
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
    session: Session, candidate: User, livret: Livret, profile: dict[str, Any], now: datetime
) -> None:
    service.save_profile(
        session=session,
        actor=actor_for(candidate, "127.0.0.1"),
        user=candidate,
        livret=livret,
        current_job=profile["current_job"],
        current_service=profile["current_service"],
        career=profile["career"],
        trainings=[{"title": "Formation Pass", "body": "Institut 4.10", "date": "2019-06-14"}],
        lock_version=livret.profile_lock,
        now=now,
    )
