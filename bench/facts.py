"""Rows of the national-scale dataset: people, parcours, carnets, livrets, the audit chain."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from bench.rows import Rows
from bench.text import paragraphs, text
from carnet.signing import canonical_content, content_hash
from portal.models import metadata
from vae.audit.service import GENESIS, canonical

TRAINED = date(2025, 6, 1)
KINDS = ("accueil_telephonique", "accueil_physique", "courrier_courriel", "traitement_donnees")
LEVELS = ("maitrisee", "en_cours", "a_acquerir")
RUBRICS = ("context", "actions", "means", "collaborators", "result", "learnings")


@dataclass(frozen=True)
class Person:
    id: int
    organisation_id: int
    label: str


@dataclass
class ParcoursFacts:
    id: int
    candidate: Person
    employer_id: int
    branche: str | None
    certification: Any  # vae.referentiel.model.Certification
    route: str
    progress: float
    held: list[str] = field(default_factory=list)


class People:
    def __init__(self, rows: Rows, password_hash: str) -> None:
        self.rows = rows
        self.password_hash = password_hash
        self.branches: dict[int, str | None] = {}

    def organisation(self, name: str, kind: str, type_: str, branche: str | None, city: str) -> int:
        org = self.rows.add(
            "organisations",
            name=name,
            kind=kind,
            type=type_,
            branche=branche,
            city=city,
            created_at=datetime(2025, 1, 1, tzinfo=UTC),
        )
        self.branches[org] = branche
        return org

    def user(
        self, org: int, email: str, first: str, last: str, roles: set[str], **extra: Any
    ) -> Person:
        user = self.rows.add(
            "users",
            email=email,
            civility="Mme" if len(last) % 2 else "M.",
            first_name=first,
            last_name=last,
            job_title="",
            organisation_id=org,
            password_hash=self.password_hash,
            is_active=True,
            created_at=datetime(2025, 1, 1, tzinfo=UTC),
            manager_id=extra.get("manager_id"),
            jury_training_date=extra.get("trained"),
        )
        for role in sorted(roles):
            self.rows.add("user_roles", user_id=user, role=role)
        return Person(user, org, f"{first} {last} <{email}>")


class Audit:
    """Appends to the real hash chain, so ``vae-portal audit verify`` passes on the dataset."""

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        entries, head = metadata.tables["audit_entries"], metadata.tables["audit_head"]
        with rows.engine.connect() as connection:
            last = connection.execute(select(head.c.seq, head.c.hash)).first()
            top = connection.scalar(select(entries.c.id).order_by(entries.c.id.desc()).limit(1))
        self.had_head = last is not None
        self.seq: int = int(last[0]) if last else 0
        self.hash: str = str(last[1]) if last else GENESIS
        rows.next_ids["audit_entries"] = (top or 0) + 1

    def record(
        self,
        *,
        at: datetime,
        actor: Person,
        action: str,
        object_type: str,
        object_id: int,
        subject_id: int | None,
        details: dict[str, Any],
    ) -> int:
        self.seq += 1
        entry = SimpleNamespace(
            seq=self.seq,
            at=at,
            actor_id=actor.id,
            actor_label=actor.label[:300],
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            subject_id=subject_id,
            ip="10.1.2.3",
            outcome="ok",
            details=details,
            prev_hash=self.hash,
        )
        entry.hash = hashlib.sha256(canonical(entry)).hexdigest()  # type: ignore[arg-type]
        self.hash = entry.hash
        self.rows.add("audit_entries", **vars(entry))
        return self.seq

    def finish(self, rows: Rows) -> None:
        rows.flush()
        head = metadata.tables["audit_head"]
        with rows.engine.begin() as connection:
            if self.had_head:
                connection.execute(head.update().values(seq=self.seq, hash=self.hash))
            else:
                connection.execute(head.insert().values(id=1, seq=self.seq, hash=self.hash))


class Carnets:
    def __init__(
        self,
        rows: Rows,
        rng: random.Random,
        referentiel: Any,
        competence_ids: dict[str, int],
        cert_ids: dict[str, int],
    ) -> None:
        self.rows, self.rng, self.referentiel = rows, rng, referentiel
        self.competence_ids, self.cert_ids = competence_ids, cert_ids
        self.audit = Audit(rows)

    def parcours(
        self,
        *,
        org: int,
        candidate: Person,
        tutor: Person,
        manager: Person,
        referent: Person,
        certification: str,
        route: str,
        progress: float,
    ) -> ParcoursFacts:
        rng = self.rng
        cert = self.referentiel.certification(certification)
        start = date(2025, 9, 1) + timedelta(days=rng.randrange(240))
        created = datetime.combine(start, datetime.min.time(), UTC) + timedelta(hours=9)
        parcours_id = self.rows.add(
            "parcours",
            candidate_id=candidate.id,
            certification_id=self.cert_ids[certification],
            route=route,
            employer_id=org,
            tutor_id=tutor.id,
            manager_id=manager.id,
            start_date=start,
            status="en_cours",
            created_at=created,
            created_by_id=referent.id,
        )
        facts = ParcoursFacts(parcours_id, candidate, org, None, cert, route, progress)
        if rng.random() < 0.1:  # an earlier CCP for the shared bloc GRU
            facts.held.append("GRU")
            self.rows.add(
                "held_blocs",
                parcours_id=parcours_id,
                bloc_key="GRU",
                origin="CCP obtenu lors d'un parcours précédent",
                obtained_on=date(2023, 6, 30),
            )
        if route == "formation":
            for key in ("pass", "premss"):
                self.rows.add(
                    "parcours_prerequisites",
                    parcours_id=parcours_id,
                    key=key,
                    completed_on=start + timedelta(days=30),
                    recorded_at=created,
                    recorded_by_id=referent.id,
                )
        self.rows.add("carnets", parcours_id=parcours_id, handed_over_on=start, created_at=created)
        for _, competence in cert.competences():
            self._competence(facts, competence, tutor, manager, created)
        if route == "vae":
            self._livret(facts, created)
        return facts

    def _competence(
        self,
        facts: ParcoursFacts,
        competence: Any,
        tutor: Person,
        manager: Person,
        created: datetime,
    ) -> None:
        rng, rows = self.rng, self.rows
        competence_id = self.competence_ids[competence.key]
        rows.add(
            "self_assessments",
            parcours_id=facts.id,
            competence_id=competence_id,
            level=rng.choice(LEVELS),
            comment=text(rng, 40, 220),
            updated_at=created,
            lock_version=1,
        )
        for role, attester in (("tuteur", tutor), ("manager", manager)):
            if rng.random() > 0.5 + 0.5 * facts.progress:
                continue
            attestation = rows.add(
                "attestations",
                parcours_id=facts.id,
                competence_id=competence_id,
                role=role,
                created_at=created,
            )
            versions = rng.choice((1, 2, 2, 3, 3, 4))
            for number in range(1, versions + 1):
                signed = number < versions or rng.random() < 0.85
                self._version(
                    facts, competence, attestation, role, attester, number, signed, created
                )

    def _version(
        self,
        facts: ParcoursFacts,
        competence: Any,
        attestation: int,
        role: str,
        attester: Person,
        number: int,
        signed: bool,
        created: datetime,
    ) -> None:
        rng = self.rng
        keys = competence.criterion_keys
        observed = sorted(k for k in keys if rng.random() < 0.85)
        values: dict[str, Any] = {
            "situation_date": created.date() + timedelta(days=10 * number + rng.randrange(9)),
            "situation_kind": rng.choice(KINDS),
            "description": text(rng, 200, 700),
            "observed_criteria": observed,
            "verdict": "maitrisee" if 5 * len(observed) >= 4 * len(keys) else "en_cours",
            "comment": text(rng, 40, 240),
        }
        at = created + timedelta(days=10 * number + 10, hours=rng.randrange(8))
        version_id = self.rows.next_ids["attestation_versions"]
        values.update(
            signed_at=None,
            signer_id=None,
            signer_role=None,
            signer_ip=None,
            content_hash=None,
            audit_seq=None,
        )
        if signed:
            digest = content_hash(
                canonical_content(
                    parcours_id=facts.id,
                    competence_key=competence.key,
                    role=role,
                    number=number,
                    attester_id=attester.id,
                    situation_date=values["situation_date"].isoformat(),
                    situation_kind=values["situation_kind"],
                    description=values["description"],
                    observed_criteria=observed,
                    verdict=values["verdict"],
                    comment=values["comment"],
                )
            )
            seq = self.audit.record(
                at=at,
                actor=attester,
                action="carnet.attestation_sign",
                object_type="attestation_version",
                object_id=version_id,
                subject_id=facts.candidate.id,
                details={
                    "competence": competence.key,
                    "role": role,
                    "version": number,
                    "content_hash": digest,
                },
            )
            values.update(
                signed_at=at,
                signer_id=attester.id,
                signer_role=role,
                signer_ip="10.1.2.3",
                content_hash=digest,
                audit_seq=seq,
            )
        self.rows.add(
            "attestation_versions",
            id=version_id,
            attestation_id=attestation,
            number=number,
            attester_id=attester.id,
            created_at=at,
            updated_at=at,
            lock_version=1,
            **values,
        )

    def _livret(self, facts: ParcoursFacts, created: datetime) -> None:
        rng = self.rng
        livret = self.rows.add(
            "livrets",
            parcours_id=facts.id,
            status="brouillon",
            edition=1,
            created_at=created,
            current_job="Conseiller offres de services",
            current_service="Accueil et relation usagers",
            career=[{"from": "2015", "to": "2026", "employer": "Organisme", "job": "Technicien"}],
            trainings=[],
            profile_lock=1,
            profile_saved_at=created,
        )
        for cert_bloc in facts.certification.blocs:
            if cert_bloc.key in facts.held:
                continue
            for _ in range(2 if rng.random() < 0.1 else 1):
                competences = cert_bloc.bloc.competences
                chosen = [c for c in competences if rng.random() < 0.7] or [competences[0]]
                rubrics = {name: paragraphs(rng, 300, 1600) for name in RUBRICS}
                self.rows.add(
                    "situations",
                    livret_id=livret,
                    bloc_key=cert_bloc.key,
                    title=text(rng, 30, 90),
                    period_from=date(2024, 1, 1),
                    period_to=date(2024, 6, 30),
                    organisme_service="Accueil, agence centrale",
                    competence_keys=[c.key for c in chosen],
                    criterion_keys=[
                        k for c in chosen for k in c.criterion_keys if rng.random() < 0.8
                    ],
                    lock_version=1,
                    created_at=created,
                    updated_at=created,
                    **rubrics,
                )


from bench.juries import Juries  # noqa: E402  (re-exported for bench.dataset)

__all__ = ["Audit", "Carnets", "Juries", "ParcoursFacts", "People", "Person", "TRAINED"]
