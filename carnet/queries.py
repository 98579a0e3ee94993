"""Read model of a carnet: everything its pages and its PDF show, in a fixed number of queries.

``load_carnet`` loads the whole carnet (every version of every attestation, its attester and
signer, every signature re-verified): the carnet page, the history, the PDF. ``load_progress``
loads only what the progress per bloc is made of (the latest signed version of each attestation,
re-verified): the livret's coverage matrix and situation editor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Select, Subquery, bindparam, case, func, or_, select
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from carnet.models import Attestation, AttestationVersion, Carnet, Milestone, SelfAssessment
from carnet.rules import BlocProgress, Signed, bloc_progress
from carnet.service import SignatureCheck, verify_signature
from vae.audit.models import AuditEntry
from vae.parcours.models import Parcours
from vae.people.models import User
from vae.referentiel.model import Certification, Referentiel
from vae.referentiel.models import CertificationBlocRecord, CompetenceRecord
from vae.referentiel.service import get_referentiel


@dataclass
class CarnetData:
    parcours: Parcours
    carnet: Carnet | None
    referentiel: Referentiel
    certification: Certification
    competence_ids: dict[str, int]  # competence key → row id in the parcours' version
    self_assessments: dict[str, SelfAssessment]  # by competence key
    attestations: dict[tuple[str, str], Attestation]  # by (competence key, role)
    milestones: dict[str, Milestone]  # by kind
    people: dict[int, User]
    progress: dict[str, BlocProgress] = field(default_factory=dict)  # by bloc key
    checks: dict[int, SignatureCheck] = field(default_factory=dict)  # by signed version id
    # Loaded without history: (key, role) → (latest version, latest signed version).
    shown: dict[tuple[str, str], Shown] | None = None

    def latest(self, key: str, role: str) -> AttestationVersion | None:
        if self.shown is not None:
            shown = self.shown.get((key, role))
            return shown.latest if shown is not None else None
        attestation = self.attestations.get((key, role))
        return attestation.versions[-1] if attestation and attestation.versions else None

    def latest_signed(self, key: str, role: str) -> AttestationVersion | None:
        if self.shown is not None:
            shown = self.shown.get((key, role))
            return shown.signed if shown is not None else None
        attestation = self.attestations.get((key, role))
        if attestation is None:
            return None
        for version in reversed(attestation.versions):
            if version.signed_at is not None:
                return version
        return None

    def counts(self, version: AttestationVersion) -> bool:
        """A signed version counts only while its signature still matches its content."""
        check = self.checks.get(version.id)
        return check is not None and check.valid


@dataclass(frozen=True, slots=True)
class Shown:
    latest: AttestationVersion
    signed: AttestationVersion | None


def _certification(session: Session, parcours: Parcours) -> tuple[Referentiel, Certification]:
    referentiel = get_referentiel(session, parcours.certification.version_id)
    assert referentiel is not None
    return referentiel, referentiel.certification(parcours.certification.code)


def _progress(
    certification: Certification, parcours: Parcours, signed: dict[tuple[str, str], Signed]
) -> dict[str, BlocProgress]:
    held = parcours.held_bloc_keys
    return {
        cb.key: bloc_progress(cb.bloc, signed, held=cb.key in held) for cb in certification.blocs
    }


def _audit(
    seq: int | None, actor_id: int | None, details: object
) -> tuple[object, int | None] | None:
    """What ``verify_signature`` needs of a signature's audit entry, from the columns of an
    outer join (``seq`` is ``None`` when the version has no such entry)."""
    if seq is None:
        return None
    return (details.get("content_hash") if isinstance(details, dict) else None), actor_id


def _users(session: Session, ids: Iterable[int | None]) -> dict[int, User]:
    """The people a carnet names, in one query. Their roles are not what a carnet shows: they
    are not loaded with them (``User.role_rows`` would add a query; it loads if ever read)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {user.id: user for user in session.scalars(_users_query(), {"ids": wanted})}


# The statements are built once (building one costs about as much as running it here); the
# parcours (or certification) is a bound parameter.


@cache
def _users_query() -> Select[User]:
    return (
        select(User)
        .where(User.id.in_(bindparam("ids", expanding=True)))
        .options(lazyload(User.role_rows))
    )


@cache
def _competences_query() -> Select[str, int]:
    """Key → row id of the competences of a certification's blocs."""
    return (
        select(CompetenceRecord.key, CompetenceRecord.id)
        .join(CertificationBlocRecord, CertificationBlocRecord.bloc_id == CompetenceRecord.bloc_id)
        .where(CertificationBlocRecord.certification_id == bindparam("certification_id"))
    )


@cache
def _by_parcours(entity: type[SelfAssessment | Milestone | Carnet]) -> Select[Any]:
    return select(entity).where(entity.parcours_id == bindparam("parcours_id"))


def _shown_numbers() -> Subquery:
    """Per attestation of the parcours: its latest version's number and its latest signed
    version's number (null when none is signed)."""
    return (
        select(
            AttestationVersion.attestation_id,
            func.max(AttestationVersion.number).label("latest"),
            func.max(
                case((AttestationVersion.signed_at.is_not(None), AttestationVersion.number))
            ).label("signed"),
        )
        .join(Attestation, Attestation.id == AttestationVersion.attestation_id)
        .where(Attestation.parcours_id == bindparam("parcours_id"))
        .group_by(AttestationVersion.attestation_id)
        .subquery()
    )


@cache
def _attestations_query(history: bool) -> Select[Any]:
    """The attestations of the parcours with their versions (all, or only the latest and the
    latest signed) and each version's signature audit entry (content hash, actor); an
    attestation without a version comes once, with nulls."""
    version_join = AttestationVersion.attestation_id == Attestation.id
    query = select(
        Attestation, AttestationVersion, AuditEntry.seq, AuditEntry.actor_id, AuditEntry.details
    ).select_from(Attestation)
    if not history:
        numbers = _shown_numbers()
        query = query.outerjoin(numbers, numbers.c.attestation_id == Attestation.id)
        version_join &= or_(
            AttestationVersion.number == numbers.c.latest,
            AttestationVersion.number == numbers.c.signed,
        )
    return (
        query.outerjoin(AttestationVersion, version_join)
        .outerjoin(AuditEntry, AuditEntry.seq == AttestationVersion.audit_seq)
        .where(Attestation.parcours_id == bindparam("parcours_id"))
        .order_by(Attestation.id, AttestationVersion.number)
    )


@cache
def _signed_query() -> Select[Any]:
    """The latest signed version of each attestation of the parcours, with the attestation's
    role and competence key and the signature's audit entry (content hash, actor)."""
    numbers = _shown_numbers()
    return (
        select(
            AttestationVersion,
            Attestation.role,
            CompetenceRecord.key,
            AuditEntry.seq,
            AuditEntry.actor_id,
            AuditEntry.details,
        )
        .join(
            numbers,
            (numbers.c.attestation_id == AttestationVersion.attestation_id)
            & (numbers.c.signed == AttestationVersion.number),
        )
        .join(Attestation, Attestation.id == AttestationVersion.attestation_id)
        .join(CompetenceRecord, CompetenceRecord.id == Attestation.competence_id)
        .outerjoin(AuditEntry, AuditEntry.seq == AttestationVersion.audit_seq)
    )


def load_carnet(session: Session, parcours: Parcours, *, history: bool = True) -> CarnetData:
    """The carnet of a parcours; rendering it (the pages, the PDF, off the session) makes no
    query. Every signed version loaded is re-verified against its content and its audit entry.

    ``history=False`` loads only what the carnet page shows: each attestation's latest version
    and latest signed version (``latest`` / ``latest_signed``, ``checks`` for the latter); the
    earlier versions are neither loaded nor verified, and ``Attestation.versions`` is left
    unloaded (read in the session, it would load).
    """
    referentiel, certification = _certification(session, parcours)
    of_parcours = {"parcours_id": parcours.id}
    competence_ids = {
        key: cid
        for key, cid in session.execute(
            _competences_query(), {"certification_id": parcours.certification_id}
        )
    }
    key_of = {cid: key for key, cid in competence_ids.items()}
    assessments = session.scalars(_by_parcours(SelfAssessment), of_parcours).all()
    loaded_rows = session.execute(_attestations_query(history), of_parcours).all()
    attestations: list[Attestation] = list(dict.fromkeys(row[0] for row in loaded_rows))
    rows = [row[1:] for row in loaded_rows if row[1] is not None]
    by_id = {a.id: a for a in attestations}
    people = _users(
        session,
        [parcours.candidate_id, parcours.tutor_id, parcours.manager_id]
        + [row[0].attester_id for row in rows]
        + [row[0].signer_id for row in rows],
    )
    # Relationships set from what was just loaded (what selectinload would do, without its
    # queries); one already loaded in this session is left as it is, as selectinload would.
    versions_of: dict[int, list[AttestationVersion]] = {a.id: [] for a in attestations}
    for row in rows:
        version = row[0]
        versions_of[version.attestation_id].append(version)
        loaded = version.__dict__
        if "attester" not in loaded:
            set_committed_value(version, "attester", people[version.attester_id])
        if "signer" not in loaded:
            signer = people[version.signer_id] if version.signer_id is not None else None
            set_committed_value(version, "signer", signer)
        if "attestation" not in loaded:
            set_committed_value(version, "attestation", by_id[version.attestation_id])
    shown: dict[tuple[str, str], Shown] | None = None
    if history:
        for attestation in attestations:
            if "versions" not in attestation.__dict__:
                set_committed_value(attestation, "versions", versions_of[attestation.id])
    else:
        shown = {}
        for attestation in attestations:
            versions = versions_of[attestation.id]
            if versions:
                signed = [v for v in versions if v.signed_at is not None]
                shown[(key_of[attestation.competence_id], attestation.role)] = Shown(
                    versions[-1], signed[-1] if signed else None
                )
    milestones = session.scalars(_by_parcours(Milestone), of_parcours).all()
    if history:
        _ = parcours.employer  # loaded here: rendering must not query (PDF runs off the session)
    data = CarnetData(
        parcours=parcours,
        carnet=session.scalar(_by_parcours(Carnet), of_parcours),
        referentiel=referentiel,
        certification=certification,
        competence_ids=competence_ids,
        self_assessments={key_of[a.competence_id]: a for a in assessments},
        attestations={(key_of[a.competence_id], a.role): a for a in attestations},
        milestones={m.kind: m for m in milestones},
        people={
            p.id: p for p in (parcours.candidate, parcours.tutor, parcours.manager) if p is not None
        },
        shown=shown,
    )
    for version, seq, actor_id, details in rows:
        if version.signed_at is not None:
            attestation = by_id[version.attestation_id]
            data.checks[version.id] = verify_signature(
                version,
                attestation.role,
                parcours.id,
                key_of[attestation.competence_id],
                _audit(seq, actor_id, details),
            )
    # Only signatures that still match their content count towards progress.
    signed_content: dict[tuple[str, str], Signed] = {}
    for key, role in data.attestations:
        version = data.latest_signed(key, role)
        if version is not None and data.counts(version):
            observed = frozenset(version.observed_criteria)
            signed_content[(key, role)] = Signed(role, version.verdict, observed)
    data.progress = _progress(certification, parcours, signed_content)
    return data


def load_progress(
    session: Session, parcours: Parcours, certification: Certification | None = None
) -> dict[str, BlocProgress]:
    """``load_carnet(...).progress`` without the rest of the carnet: only the latest signed
    version of each attestation is loaded (the only one progress is made of) and re-verified,
    with its audit entry, in one query. ``certification``: the parcours', when already at hand.
    """
    if certification is None:
        _, certification = _certification(session, parcours)
    rows = session.execute(_signed_query(), {"parcours_id": parcours.id}).all()
    signed: dict[tuple[str, str], Signed] = {}
    for version, role, key, seq, actor_id, details in rows:
        audit = _audit(seq, actor_id, details)
        if verify_signature(version, role, parcours.id, key, audit).valid:
            observed = frozenset(version.observed_criteria)
            signed[(key, role)] = Signed(role, version.verdict, observed)
    return _progress(certification, parcours, signed)
