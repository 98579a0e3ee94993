"""Read model of a carnet: everything its pages and its PDF show, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carnet.models import Attestation, AttestationVersion, Carnet, Milestone, SelfAssessment
from carnet.rules import BlocProgress, Signed, bloc_progress
from carnet.service import SignatureCheck, signature_check
from vae.audit.models import AuditEntry
from vae.parcours.models import Parcours
from vae.people.models import User
from vae.referentiel.model import Certification, Referentiel
from vae.referentiel.models import CompetenceRecord
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

    def latest(self, key: str, role: str) -> AttestationVersion | None:
        attestation = self.attestations.get((key, role))
        return attestation.versions[-1] if attestation and attestation.versions else None

    def latest_signed(self, key: str, role: str) -> AttestationVersion | None:
        attestation = self.attestations.get((key, role))
        if attestation is None:
            return None
        signed = [v for v in attestation.versions if v.signed]
        return signed[-1] if signed else None

    def counts(self, version: AttestationVersion) -> bool:
        """A signed version counts only while its signature still matches its content."""
        check = self.checks.get(version.id)
        return check is not None and check.valid


def load_carnet(session: Session, parcours: Parcours) -> CarnetData:
    referentiel = get_referentiel(session, parcours.certification.version_id)
    assert referentiel is not None
    certification = referentiel.certification(parcours.certification.code)
    bloc_ids = [cb.bloc_id for cb in parcours.certification.blocs]
    competence_ids = {
        key: cid
        for key, cid in session.execute(
            select(CompetenceRecord.key, CompetenceRecord.id).where(
                CompetenceRecord.bloc_id.in_(bloc_ids)
            )
        )
    }
    key_of = {cid: key for key, cid in competence_ids.items()}
    assessments = session.scalars(
        select(SelfAssessment).where(SelfAssessment.parcours_id == parcours.id)
    ).all()
    attestations = session.scalars(
        select(Attestation)
        .where(Attestation.parcours_id == parcours.id)
        .options(
            selectinload(Attestation.versions).selectinload(AttestationVersion.attester),
            selectinload(Attestation.versions).selectinload(AttestationVersion.signer),
        )
    ).all()
    milestones = session.scalars(select(Milestone).where(Milestone.parcours_id == parcours.id))
    _ = parcours.employer  # loaded here: rendering must not query (PDF runs off the session)
    people = {
        p.id: p for p in (parcours.candidate, parcours.tutor, parcours.manager) if p is not None
    }
    data = CarnetData(
        parcours=parcours,
        carnet=session.scalar(select(Carnet).where(Carnet.parcours_id == parcours.id)),
        referentiel=referentiel,
        certification=certification,
        competence_ids=competence_ids,
        self_assessments={key_of[a.competence_id]: a for a in assessments},
        attestations={(key_of[a.competence_id], a.role): a for a in attestations},
        milestones={m.kind: m for m in milestones},
        people=people,
    )
    signed_versions = [
        (key, v) for (key, _), a in data.attestations.items() for v in a.versions if v.signed
    ]
    seqs = [v.audit_seq for _, v in signed_versions if v.audit_seq is not None]
    entries = (
        {e.seq: e for e in session.scalars(select(AuditEntry).where(AuditEntry.seq.in_(seqs)))}
        if seqs
        else {}
    )
    data.checks = {
        v.id: signature_check(v, parcours.id, key, entries.get(v.audit_seq or 0))
        for key, v in signed_versions
    }
    # Only signatures that still match their content count towards progress.
    signed: dict[tuple[str, str], Signed] = {}
    for key, role in data.attestations:
        version = data.latest_signed(key, role)
        if version is not None and data.counts(version):
            observed = frozenset(version.observed_criteria)
            signed[(key, role)] = Signed(role, version.verdict, observed)
    held = parcours.held_bloc_keys
    data.progress = {
        cb.key: bloc_progress(cb.bloc, signed, held=cb.key in held) for cb in certification.blocs
    }
    return data
