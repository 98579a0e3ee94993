"""Demo carnet content: Léa Martin's carnet (COS, formation) partly filled, through the services.

GRU C1–C5 attested and signed by both her tutor and her manager, C6 by the tutor only (a
disagreement), her pré-positionnement on GRU, and the positioning milestone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.models import Attestation
from carnet.service import (
    AttestationInput,
    save_draft,
    save_milestone,
    save_self_assessment,
    sign,
    version_hash,
)
from portal.accounts.service import actor_for
from vae.parcours.models import Parcours
from vae.people.models import User
from vae.referentiel.models import CompetenceRecord
from vae.referentiel.service import get_referentiel

SITUATIONS = {
    "GRU-C1": ("accueil_physique", "Accueil d'une assurée venue déclarer une naissance : "
               "ouverture des droits du nouveau-né et présentation du compte ameli."),
    "GRU-C2": ("accueil_telephonique", "Appel d'un assuré sur le délai de paiement de ses "
               "indemnités journalières ; vérification du dossier et explication du calcul."),
    "GRU-C3": ("courrier_courriel", "Réponse à un courriel de réclamation sur un remboursement "
               "de soins dentaires, dans le respect de la charte rédactionnelle."),
    "GRU-C4": ("accueil_physique", "Usager très agacé par un refus de prise en charge : "
               "reformulation, apaisement, puis orientation vers le service compétent."),
    "GRU-C5": ("accueil_telephonique", "Traçabilité de trois appels successifs dans l'outil de "
               "gestion de la relation client, avec transmission au service médical."),
    "GRU-C6": ("traitement_donnees", "Organisation d'une demi-journée de rappels sortants selon "
               "les priorités fixées par le manager."),
}


def fill_demo_carnet(session: Session, candidate: User, now: datetime) -> bool:
    """Fill the carnet once; returns False when it already has attestations."""
    parcours = session.scalar(select(Parcours).where(Parcours.candidate_id == candidate.id))
    if parcours is None or parcours.tutor is None or parcours.manager is None:
        return False
    if session.scalar(select(Attestation.id).where(Attestation.parcours_id == parcours.id)):
        return False
    referentiel = get_referentiel(session, parcours.certification.version_id)
    assert referentiel is not None
    gru = referentiel.blocs["GRU"]
    rows = {
        row.key: row
        for row in session.scalars(
            select(CompetenceRecord).where(CompetenceRecord.key.in_(SITUATIONS))
            .where(CompetenceRecord.bloc.has(version_id=parcours.certification.version_id))
        )
    }
    for competence in gru.competences:
        kind, text = SITUATIONS[competence.key]
        attesters = [parcours.tutor] if competence.key == "GRU-C6" else [
            parcours.tutor, parcours.manager
        ]
        for attester in attesters:
            keys = list(competence.criterion_keys)
            verdict = "maitrisee"
            if attester is parcours.manager and competence.key == "GRU-C4":
                keys = keys[:3]  # the manager saw 3 of 4: verdict and criteria disagree
            actor = actor_for(attester, "127.0.0.1")
            draft = save_draft(
                session=session, actor=actor, user=attester, parcours=parcours,
                competence_row=rows[competence.key], competence=competence,
                data=AttestationInput(situation_date="2026-10-15", situation_kind=kind,
                                      description=text, observed=keys, verdict=verdict,
                                      comment=""),
                base_number=0, lock_version=0, now=now,
            )
            sign(session=session, actor=actor, user=attester, parcours=parcours, version=draft,
                 competence_key=competence.key,
                 confirmed_hash=version_hash(draft, parcours.id, competence.key), now=now)
        save_self_assessment(
            session=session, actor=actor_for(candidate, "127.0.0.1"), user=candidate,
            parcours=parcours, competence=rows[competence.key],
            level="maitrisee" if competence.key != "GRU-C6" else "en_cours",
            comment="", lock_version=0, now=now,
        )
    save_milestone(
        session=session, actor=actor_for(parcours.tutor, "127.0.0.1"), user=parcours.tutor,
        parcours=parcours, kind="positionnement", day=date(2026, 9, 8).isoformat(),
        participant_ids=[candidate.id, parcours.tutor.id, parcours.manager.id],
        other_participants="", notes="Pré-positionnement fait ensemble ; objectifs fixés sur GRU.",
        lock_version=0, now=now,
    )
    return True


DEMO_NOW = datetime(2026, 10, 16, 9, 30, tzinfo=UTC)
