"""Read model of a dossier de certification: what the national jury's page and the dossier PDF
show, loaded in a bounded number of queries so that rendering never touches the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carnet.queries import load_carnet
from carnet.rules import BlocProgress
from vae.decision.models import (
    AvisSignature,
    BlocAvis,
    Deliberation,
    Evaluation,
    NationalDossier,
    Recours,
)
from vae.decision.national import decisions_version, proclamation_of
from vae.decision.rules import RecoursStatus, grid_result, recours_status
from vae.decision.signing import SignatureState, signature_state
from vae.jury.models import QUALITY_LABELS
from vae.livret.models import Livret, Situation
from vae.parcours.models import Parcours
from vae.parcours.models import Route as ParcoursRoute
from vae.people.models import User
from vae.referentiel.model import Certification, CertificationBloc
from vae.referentiel.service import get_referentiel
from vae.rules import BlocResult, CertificationResult

QUALITIES: dict[str, str] = {str(k): v for k, v in QUALITY_LABELS.items()}
SITUATION_TEXTS = ("context", "actions", "means", "collaborators", "result", "learnings")


@dataclass(frozen=True)
class GridBloc:
    """One evaluated bloc: the grid's computed result, the avis and the national decision."""

    cert_bloc: CertificationBloc
    result: BlocResult
    avis: BlocAvis
    decision: Deliberation | None

    @property
    def key(self) -> str:
        return self.cert_bloc.key

    @property
    def departs(self) -> bool:
        """The avis departs from the computed result (a justification was required)."""
        return bool(self.avis.favourable) != self.result.validated


@dataclass(frozen=True)
class SituationSummary:
    bloc_key: str
    title: str
    characters: int
    annexes: int


@dataclass(frozen=True)
class LivretSummary:
    edition: int
    status: str
    submitted_at: datetime | None
    content_hash: str | None
    situations: tuple[SituationSummary, ...]


@dataclass(frozen=True)
class Signatory:
    name: str
    quality: str
    signed_at: datetime
    content_hash: str


@dataclass
class DossierData:
    dossier: NationalDossier
    parcours: Parcours
    evaluation: Evaluation
    certification: Certification
    result: CertificationResult
    blocs: list[GridBloc]
    signatures: list[Signatory]
    recours: Recours | None
    recours_status: RecoursStatus
    signature: SignatureState  # re-verified against the signed hash: "broken" when altered
    version: str  # the decisions' version token the form carries
    proclaimed_at: datetime | None
    livret: LivretSummary | None = None
    carnet: dict[str, BlocProgress] | None = None

    @property
    def held(self) -> list[str]:
        return [h.bloc_key for h in self.parcours.held_blocs]

    @property
    def held_by_ccp(self) -> list[str]:
        """Blocs the evaluation did not evaluate because of a CCP issued on the platform."""
        declared = self.parcours.held_bloc_keys
        keys = self.certification.bloc_keys
        return [k for k in keys if k in self.evaluation.held and k not in declared]


def certification_for(session: Session, parcours: Parcours) -> Certification:
    referentiel = get_referentiel(session, parcours.certification.version_id)
    assert referentiel is not None
    return referentiel.certification(parcours.certification.code)


def load_dossier(
    session: Session,
    dossier_id: int,
    *,
    now: datetime,
    recours_days: int,
    summaries: bool = False,
) -> DossierData | None:
    """The dossier with everything shown (the recours as it stands at ``now``); ``summaries``
    adds the livret and carnet summaries (the PDF)."""
    dossier = session.scalar(
        select(NationalDossier)
        .where(NationalDossier.id == dossier_id)
        .options(
            selectinload(NationalDossier.decisions),
            selectinload(NationalDossier.session),
            selectinload(NationalDossier.evaluation).selectinload(Evaluation.avis),
            selectinload(NationalDossier.evaluation).selectinload(Evaluation.recours),
            selectinload(NationalDossier.evaluation)
            .selectinload(Evaluation.signatures)
            .selectinload(AvisSignature.user),
            selectinload(NationalDossier.parcours).options(
                selectinload(Parcours.held_blocs),
                selectinload(Parcours.employer),
                # the people named in the dossier: nothing reads their roles
                *(
                    selectinload(person).raiseload(User.role_rows)
                    for person in (Parcours.candidate, Parcours.tutor, Parcours.manager)
                ),
            ),
        )
    )
    if dossier is None:
        return None
    parcours, evaluation = dossier.parcours, dossier.evaluation
    certification = certification_for(session, parcours)
    result = grid_result(certification, evaluation.marks, evaluation.held)
    by_key = {b.key: b for b in result.blocs}
    blocs = [
        GridBloc(
            cert_bloc=certification.bloc(avis.bloc_key),
            result=by_key[avis.bloc_key],
            avis=avis,
            decision=dossier.decision_for(avis.bloc_key),
        )
        for avis in sorted(evaluation.avis, key=lambda a: certification.bloc_keys.index(a.bloc_key))
    ]
    proclamation = proclamation_of(session, dossier.session_id)
    data = DossierData(
        dossier=dossier,
        parcours=parcours,
        evaluation=evaluation,
        certification=certification,
        result=result,
        blocs=blocs,
        signatures=[
            Signatory(
                name=s.user.full_name,
                quality=QUALITIES.get(s.quality, s.quality),
                signed_at=s.signed_at,
                content_hash=s.content_hash,
            )
            for s in evaluation.signatures
        ],
        recours=evaluation.recours,
        recours_status=recours_status(
            signed_at=evaluation.signed_at,
            filed=evaluation.recours is not None,
            waived=evaluation.recours is not None and evaluation.recours.waived,
            now=now,
            days=recours_days,
        ),
        signature=signature_state(evaluation),
        version=decisions_version(dossier),
        proclaimed_at=proclamation.proclaimed_at if proclamation else None,
    )
    if summaries:
        data.livret = _livret_summary(session, parcours)
        data.carnet = load_carnet(session, parcours).progress
    return data


def _livret_summary(session: Session, parcours: Parcours) -> LivretSummary | None:
    if parcours.route != ParcoursRoute.VAE.value:
        return None
    livret = session.scalar(
        select(Livret)
        .where(Livret.parcours_id == parcours.id)
        .options(
            selectinload(Livret.situations).selectinload(Situation.annexes),
            selectinload(Livret.submissions),
        )
    )
    if livret is None:
        return None
    last = livret.submissions[-1] if livret.submissions else None
    return LivretSummary(
        edition=last.edition if last else livret.edition,
        status=livret.status,
        submitted_at=last.submitted_at if last else None,
        content_hash=last.content_hash if last else None,
        situations=tuple(
            SituationSummary(
                bloc_key=s.bloc_key,
                title=s.title,
                characters=sum(len(getattr(s, name) or "") for name in SITUATION_TEXTS),
                annexes=len(s.annexes),
            )
            for s in livret.situations
        ),
    )
