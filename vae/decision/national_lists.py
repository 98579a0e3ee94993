"""The national jury's lists read as plain rows, in a fixed number of statements whatever
their length: a session's agenda (every signature re-verified on each read), the certificates
a proclaimed session issued, the dossiers counted per session."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from vae.decision.models import (
    AvisSignature,
    BlocAvis,
    Certificate,
    Deliberation,
    Evaluation,
    NationalDossier,
    Recours,
)
from vae.decision.rules import DossierFacts, recours_deadline
from vae.decision.signing import (
    AvisContent,
    anonymised_content,
    canonical_content,
    content_hash,
    verified_state,
)
from vae.parcours.models import HeldBloc, Parcours
from vae.people.models import Organisation, User
from vae.referentiel.models import CertificationRecord


@dataclass(frozen=True, slots=True)
class AgendaRow:
    """One dossier of a session's agenda as its page lists it, read without ORM objects."""

    id: int
    candidate: str
    certification_short: str
    route: str
    employer: str
    recours_waived: bool | None  # None: no recours filed nor waived
    cqp_withheld_reason: str | None
    facts: DossierFacts


# the dossier's parcours is the one shown, the evaluation's one is part of the signed content
# (the same in practice); built once: an alias made per call costs more than the query
_SHOWN_PARCOURS = aliased(Parcours, name="shown_parcours")
_SHOWN_CERTIFICATION = aliased(CertificationRecord, name="shown_certification")
_SIGNED_PARCOURS = aliased(Parcours, name="signed_parcours")
_SIGNED_CERTIFICATION = aliased(CertificationRecord, name="signed_certification")


def agenda_rows(session: Session, session_id: int, *, recours_days: int) -> list[AgendaRow]:
    """The agenda of a session for its page, in a fixed number of statements whatever its
    length. Every signature is re-verified on each call, as ``signature_state`` does, from the
    columns the signed content is made of (the grids' marks and comments included)."""
    on_agenda = NationalDossier.session_id == session_id
    shown, shown_cert = _SHOWN_PARCOURS, _SHOWN_CERTIFICATION
    signed, signed_cert = _SIGNED_PARCOURS, _SIGNED_CERTIFICATION
    rows = session.execute(
        select(
            NationalDossier.id,
            NationalDossier.cqp_withheld_reason,
            User.first_name,
            User.last_name,
            shown_cert.short,
            shown.route,
            Organisation.name,
            Recours.waived,
            Evaluation.id,
            Evaluation.convocation_id,
            Evaluation.parcours_id,
            Evaluation.session_id,
            Evaluation.held_blocs,
            Evaluation.marks,
            Evaluation.comments,
            Evaluation.content_hash,
            Evaluation.signed_at,
            signed_cert.code,
        )
        .join(Evaluation, Evaluation.id == NationalDossier.evaluation_id)
        .join(shown, shown.id == NationalDossier.parcours_id)
        .join(User, User.id == shown.candidate_id)
        .join(shown_cert, shown_cert.id == shown.certification_id)
        .join(Organisation, Organisation.id == shown.employer_id)
        .join(signed, signed.id == Evaluation.parcours_id)
        .join(signed_cert, signed_cert.id == signed.certification_id)
        .outerjoin(Recours, Recours.evaluation_id == Evaluation.id)
        .where(on_agenda)
        .order_by(NationalDossier.id)
    ).all()
    avis: dict[int, list[AvisContent]] = defaultdict(list)
    for evaluation_id, bloc_key, favourable, justification, recommendations in session.execute(
        select(
            BlocAvis.evaluation_id,
            BlocAvis.bloc_key,
            BlocAvis.favourable,
            BlocAvis.justification,
            BlocAvis.recommendations,
        )
        .join(NationalDossier, NationalDossier.evaluation_id == BlocAvis.evaluation_id)
        .where(on_agenda)
        .order_by(BlocAvis.id)
    ):
        content = AvisContent(bloc_key, favourable, justification, recommendations)
        avis[evaluation_id].append(content)
    signature_hashes: dict[int, list[str]] = defaultdict(list)
    for evaluation_id, digest in session.execute(
        select(AvisSignature.evaluation_id, AvisSignature.content_hash)
        .join(NationalDossier, NationalDossier.evaluation_id == AvisSignature.evaluation_id)
        .where(on_agenda)
        .distinct()
    ):
        signature_hashes[evaluation_id].append(digest)
    decided: dict[int, set[str]] = defaultdict(set)
    for dossier_id, bloc_key in session.execute(
        select(Deliberation.dossier_id, Deliberation.bloc_key)
        .join(NationalDossier, NationalDossier.id == Deliberation.dossier_id)
        .where(on_agenda)
    ):
        decided[dossier_id].add(bloc_key)
    held: dict[int, set[str]] = defaultdict(set)
    if any(r.held_blocs is None for r in rows):  # evaluations opened before the snapshot
        for parcours_id, bloc_key in session.execute(
            select(HeldBloc.parcours_id, HeldBloc.bloc_key)
            .join(Evaluation, Evaluation.parcours_id == HeldBloc.parcours_id)
            .join(NationalDossier, NationalDossier.evaluation_id == Evaluation.id)
            .where(on_agenda, Evaluation.held_blocs.is_(None))
        ):
            held[parcours_id].add(bloc_key)

    def row(r: Any) -> AgendaRow:
        (dossier_id, withheld, first, last, short, route, employer, waived) = r[:8]
        (evaluation_id, convocation_id, parcours_id, evaluation_session_id) = r[8:12]
        (held_blocs, marks, comments, frozen_hash, signed_at, certification_code) = r[12:]
        evaluation_avis = avis[evaluation_id]
        state = verified_state(
            frozen_hash=frozen_hash,
            signature_hashes=lambda: signature_hashes[evaluation_id],
            signed=signed_at is not None,
            current_hash=lambda: content_hash(
                canonical_content(
                    evaluation_id=evaluation_id,
                    convocation_id=convocation_id,
                    parcours_id=parcours_id,
                    session_id=evaluation_session_id,
                    certification_code=certification_code,
                    held_blocs=held_blocs if held_blocs is not None else held[parcours_id],
                    marks=marks or {},
                    comments=comments or {},
                    avis=evaluation_avis,
                )
            ),
            anonymised=lambda: anonymised_content(comments, evaluation_avis),
        )
        candidate = f"{first} {last}"  # User.full_name
        return AgendaRow(
            id=dossier_id,
            candidate=candidate,
            certification_short=short,
            route=route,
            employer=employer,
            recours_waived=waived,
            cqp_withheld_reason=withheld,
            facts=DossierFacts(
                candidate=candidate,
                avis_signed=signed_at is not None,
                evaluated_blocs=tuple(a.bloc_key for a in evaluation_avis),
                decided_blocs=frozenset(decided[dossier_id]),
                recours_deadline=(recours_deadline(signed_at, recours_days) if signed_at else None),
                recours_closed=waived is not None,
                signature_broken=state == "broken",
            ),
        )

    return [row(r) for r in rows]


def certificates_by_dossier(session: Session, session_id: int) -> dict[int, list[Any]]:
    """The certificates a proclaimed session issued, per dossier (what the agenda shows)."""
    by_dossier: dict[int, list[Any]] = defaultdict(list)
    for c in session.execute(
        select(
            Certificate.dossier_id,
            Certificate.kind,
            Certificate.certification_short,
            Certificate.bloc_key,
            Certificate.code,
        )
        .where(Certificate.session_id == session_id)
        .order_by(Certificate.id)
    ):
        by_dossier[c.dossier_id].append(c)
    return by_dossier


def session_counts(session: Session, session_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per national session: the dossiers on its agenda and those with every evaluated bloc
    decided, counted in one statement whatever their number."""
    decided_bloc = (
        select(Deliberation.id)
        .where(
            Deliberation.dossier_id == NationalDossier.id,
            Deliberation.bloc_key == BlocAvis.bloc_key,
        )
        .correlate_except(Deliberation)
        .exists()
    )
    undecided_bloc = (
        select(BlocAvis.id)
        .where(BlocAvis.evaluation_id == NationalDossier.evaluation_id, ~decided_bloc)
        .correlate_except(BlocAvis)
        .exists()
    )
    return {
        session_id: (dossiers, decided or 0)
        for session_id, dossiers, decided in session.execute(
            select(
                NationalDossier.session_id,
                func.count(NationalDossier.id),
                func.sum(case((undecided_bloc, 0), else_=1)),
            )
            .where(NationalDossier.session_id.in_(session_ids))
            .group_by(NationalDossier.session_id)
        )
    }
