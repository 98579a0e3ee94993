"""Policy expectations of the national deliberation, and the builders its tests share.

own: a national session with world.own's signed dossier on its agenda; foreign: the same with
world.foreign's. The jury paritaire national is one standing body: it sees every national
session (own and foreign alike); nobody else but the administrators does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from portal.settings import Settings
from tests.portal.world import World
from vae.decision.held import current_held_blocs
from vae.decision.models import (
    AvisSignature,
    BlocAvis,
    Deliberation,
    Evaluation,
    NationalDossier,
    Recours,
)
from vae.decision.signing import evaluation_hash
from vae.jury.models import Convocation, JurySession
from vae.parcours.models import Parcours
from vae.people.models import User
from vae.referentiel.model import Certification
from vae.referentiel.service import get_referentiel

SIGNED_AT = datetime(2027, 2, 10, 16, tzinfo=UTC)


def _table(allowed: dict[str, tuple[int, int]], others: int = 403) -> dict[str, tuple[int, int]]:
    roles = ("candidat", "tuteur", "manager", "referent", "jury_pro", "jury_national", "admin")
    table = {"anonymous": (303, 303)} | {r: (others, others) for r in roles}
    return table | allowed


READ = _table({"jury_national": (200, 200), "admin": (200, 200)})
EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("national_sessions", "GET"): READ,
    ("national_session", "GET"): READ,
    ("national_dossier", "GET"): READ,
    ("national_dossier_pdf", "GET"): READ,
    # not proclaimed yet: no procès-verbal
    ("national_pv", "GET"): _table({"jury_national": (404, 404), "admin": (404, 404)}),
    # an empty form: no dossier chosen / no decision / confirmation not ticked
    ("national_add_dossier", "POST"): _table({"admin": (400, 400)}),
    ("national_decide", "POST"): _table({"jury_national": (400, 400), "admin": (400, 400)}),
    ("national_proclaim", "POST"): _table({"jury_national": (400, 400), "admin": (400, 400)}),
    # before proclamation an administrator takes the dossier off the agenda
    ("national_remove_dossier", "POST"): _table({"admin": (303, 303)}),
    # no CQP withheld on this dossier: refused with a message
    ("national_issue_cqp", "POST"): _table({"admin": (400, 400)}),
}


def certification_of(db: Session, parcours: Parcours) -> Certification:
    referentiel = get_referentiel(db, parcours.certification.version_id)
    assert referentiel is not None
    return referentiel.certification(parcours.certification.code)


def national_session(db: Session, day: date = date(2027, 3, 18)) -> JurySession:
    jury = JurySession(kind="national", day=day, place="Ucanss, Paris", capacity=50)
    db.add(jury)
    db.flush()
    return jury


def signed_evaluation(
    db: Session,
    parcours: Parcours,
    *,
    signer: User,
    favourable: dict[str, bool] | None = None,
    signed: bool = True,
    recours: str = "",
    waived: bool = False,
    signed_at: datetime = SIGNED_AT,
) -> Evaluation:
    """A jury professionnel's grid (every criterion validated unless its bloc's avis is
    unfavourable: then none) with an avis per evaluated bloc, signed by ``signer`` with the
    hash of its content; ``recours`` files one, ``waived`` waives it."""
    certification = certification_of(db, parcours)
    held = current_held_blocs(db, parcours)
    favourable = favourable or {}
    interview = signed_at - timedelta(days=1)  # the interview, the day before the signature
    jury = JurySession(kind="professionnel", day=interview.date(), place="Lille", capacity=8)
    db.add(jury)
    db.flush()
    convocation = Convocation(
        session_id=jury.id, parcours_id=parcours.id, at=interview, place="Lille"
    )
    db.add(convocation)
    db.flush()
    marks: dict[str, bool] = {}
    comments: dict[str, str] = {}
    blocs = [b for b in certification.blocs if b.key not in held]
    for cert_bloc in blocs:
        ok = favourable.get(cert_bloc.key, True)
        for competence in cert_bloc.bloc.competences:
            comments[competence.key] = f"Commentaire {competence.number}"
            for criterion in competence.criteria:
                marks[criterion.key] = ok
    evaluation = Evaluation(
        convocation_id=convocation.id,
        session_id=jury.id,
        parcours_id=parcours.id,
        marks=marks,
        comments=comments,
        held_blocs=sorted(held),
    )
    db.add(evaluation)
    db.flush()
    for cert_bloc in blocs:
        ok = favourable.get(cert_bloc.key, True)
        db.add(
            BlocAvis(
                evaluation_id=evaluation.id,
                bloc_key=cert_bloc.key,
                favourable=ok,
                justification="",
                recommendations="" if ok else f"Préconisation {cert_bloc.key} : se former.",
            )
        )
    db.flush()
    db.refresh(evaluation)
    if signed:
        content_hash = evaluation_hash(evaluation, certification_code=certification.code)
        evaluation.content_hash = content_hash
        evaluation.frozen_at = evaluation.signed_at = signed_at
        db.add(
            AvisSignature(
                evaluation_id=evaluation.id,
                user_id=signer.id,
                quality="president",
                signed_at=signed_at,
                ip="127.0.0.1",
                content_hash=content_hash,
            )
        )
    if recours or waived:
        db.add(
            Recours(
                evaluation_id=evaluation.id,
                text=recours,
                waived=waived,
                filed_at=signed_at,
                filed_by_id=parcours.candidate_id,
            )
        )
    db.flush()
    db.refresh(evaluation)
    return evaluation


def on_agenda(db: Session, jury: JurySession, evaluation: Evaluation) -> NationalDossier:
    dossier = NationalDossier(
        session_id=jury.id, evaluation_id=evaluation.id, parcours_id=evaluation.parcours_id
    )
    db.add(dossier)
    db.flush()
    return dossier


def decide_as_avis(db: Session, dossier: NationalDossier) -> None:
    for avis in dossier.evaluation.avis:
        db.add(
            Deliberation(dossier_id=dossier.id, bloc_key=avis.bloc_key, validated=avis.favourable)
        )
    db.flush()
    db.refresh(dossier)


def url(name: str, world: World, role: str, own: bool, db: Session, settings: Settings) -> str:
    jury = national_session(db)
    parcours = world.own if own else world.foreign
    evaluation = signed_evaluation(db, parcours, signer=world.people["jury_pro"])
    dossier = on_agenda(db, jury, evaluation)
    return {
        "national_sessions": "/national/sessions",
        "national_session": f"/national/sessions/{jury.id}",
        "national_add_dossier": f"/national/sessions/{jury.id}/dossiers",
        "national_proclaim": f"/national/sessions/{jury.id}/proclamer",
        "national_pv": f"/national/sessions/{jury.id}/pv.pdf",
        "national_dossier": f"/national/dossiers/{dossier.id}",
        "national_dossier_pdf": f"/national/dossiers/{dossier.id}.pdf",
        "national_decide": f"/national/dossiers/{dossier.id}/decisions",
        "national_remove_dossier": f"/national/dossiers/{dossier.id}/retirer",
        "national_issue_cqp": f"/national/dossiers/{dossier.id}/cqp",
    }[name]
