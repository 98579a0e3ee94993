"""Use cases on the référentiel: load a version into the database, read it back, export it."""

from __future__ import annotations

import threading
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from vae.referentiel.loader import ReferentielError
from vae.referentiel.model import (
    Bloc,
    Certification,
    CertificationBloc,
    Competence,
    Criterion,
    FormationModality,
    Referentiel,
    VaeModality,
)
from vae.referentiel.models import (
    BlocRecord,
    CertificationBlocRecord,
    CertificationRecord,
    CompetenceRecord,
    CriterionRecord,
    ReferentielVersion,
)

_cache: dict[tuple[int, str], Referentiel] = {}
_cache_lock = threading.Lock()


def load_version(*, session: Session, referentiel: Referentiel) -> tuple[ReferentielVersion, bool]:
    """Store a référentiel version; idempotent. Returns the version row and whether it was new.

    A version already loaded with the same content is left alone. The same version label with
    different content is refused: rows that parcours refer to are never rewritten, so changed
    data needs a new version folder.
    """
    existing = session.scalar(
        select(ReferentielVersion).where(ReferentielVersion.version == referentiel.version)
    )
    if existing is not None:
        if existing.content_hash != referentiel.content_hash:
            raise ReferentielError(
                f"data/{referentiel.version}",
                "version",
                f"version {referentiel.version} is already loaded with different content; "
                "loaded versions are never rewritten, put the changed data in a new version folder",
            )
        return existing, False

    version = ReferentielVersion(
        version=referentiel.version,
        title=referentiel.title,
        content_hash=referentiel.content_hash,
        rules=list(referentiel.rules),
        vae=asdict(referentiel.vae),
        sources=list(referentiel.sources),
        notes=list(referentiel.notes),
    )
    session.add(version)
    session.flush()
    bloc_rows: dict[str, BlocRecord] = {}
    for bloc in referentiel.blocs.values():
        bloc_row = BlocRecord(
            version_id=version.id,
            key=bloc.key,
            title=bloc.title,
            activity=bloc.activity,
            formation=_formation_to_json(bloc.formation),
            notes=list(bloc.notes),
        )
        for position, competence in enumerate(bloc.competences):
            competence_row = CompetenceRecord(
                key=competence.key,
                number=competence.number,
                label=competence.label,
                position=position,
                notes=list(competence.notes),
            )
            competence_row.criteria = [
                CriterionRecord(key=c.key, label=c.label, position=i, notes=list(c.notes))
                for i, c in enumerate(competence.criteria)
            ]
            bloc_row.competences.append(competence_row)
        session.add(bloc_row)
        bloc_rows[bloc.key] = bloc_row
    for certification in referentiel.certifications:
        cert_row = CertificationRecord(
            version_id=version.id,
            code=certification.code,
            short=certification.short,
            level=certification.level,
            title=certification.title,
            objective=certification.objective,
            registration_end=certification.registration_end,
            notes=list(certification.notes),
        )
        cert_row.blocs = [
            CertificationBlocRecord(
                bloc=bloc_rows[cb.key], code=cb.code, title=cb.title, position=position
            )
            for position, cb in enumerate(certification.blocs)
        ]
        session.add(cert_row)
    session.flush()
    return version, True


def current_version(session: Session) -> ReferentielVersion | None:
    """The most recently loaded version: the one new parcours start on."""
    return session.scalar(select(ReferentielVersion).order_by(ReferentielVersion.id.desc()))


def get_referentiel(session: Session, version_id: int | None = None) -> Referentiel | None:
    """The référentiel of a version (the current one by default), from a per-process cache.

    Loaded versions are immutable, so caching them per (id, content hash) is safe across
    processes and requests.
    """
    # The key alone (two columns, no ORM object), once per database session and version (a
    # list of parcours asks for the same version many times); the version row on a miss only.
    keys: dict[int, tuple[int, str]] = session.info.setdefault("referentiel_keys", {})
    cache_key = keys.get(version_id) if version_id is not None else None
    if cache_key is None:
        query = select(ReferentielVersion.id, ReferentielVersion.content_hash)
        if version_id is None:
            query = query.order_by(ReferentielVersion.id.desc()).limit(1)
        else:
            query = query.where(ReferentielVersion.id == version_id)
        row = session.execute(query).first()
        if row is None:
            return None
        cache_key = keys[row.id] = (row.id, row.content_hash)
    cached = _cache.get(cache_key)
    if cached is not None:
        return cached
    version = session.get(ReferentielVersion, cache_key[0])
    assert version is not None
    referentiel = _read(session, version)
    with _cache_lock:
        _cache[cache_key] = referentiel
    return referentiel


def _read(session: Session, version: ReferentielVersion) -> Referentiel:
    bloc_rows = session.scalars(
        select(BlocRecord)
        .where(BlocRecord.version_id == version.id)
        .options(selectinload(BlocRecord.competences).selectinload(CompetenceRecord.criteria))
        .order_by(BlocRecord.id)
    ).all()
    blocs = {row.key: _bloc_from_row(row) for row in bloc_rows}
    cert_rows = session.scalars(
        select(CertificationRecord)
        .where(CertificationRecord.version_id == version.id)
        .options(selectinload(CertificationRecord.blocs).selectinload(CertificationBlocRecord.bloc))
        .order_by(CertificationRecord.id)
    ).all()
    certifications = tuple(
        Certification(
            code=row.code,
            short=row.short,
            level=row.level,
            title=row.title,
            objective=row.objective,
            registration_end=row.registration_end,
            blocs=tuple(
                CertificationBloc(code=cb.code, title=cb.title, bloc=blocs[cb.bloc.key])
                for cb in row.blocs
            ),
            notes=tuple(row.notes),
        )
        for row in cert_rows
    )
    return Referentiel(
        version=version.version,
        title=version.title,
        rules=tuple(version.rules),
        vae=VaeModality(**{**version.vae, "notes": tuple(version.vae.get("notes", ()))}),
        certifications=certifications,
        blocs=blocs,
        sources=tuple(version.sources),
        notes=tuple(version.notes),
        content_hash=version.content_hash,
    )


def _bloc_from_row(row: BlocRecord) -> Bloc:
    formation = dict(row.formation)
    formation["evaluators"] = tuple(formation["evaluators"])
    formation["notes"] = tuple(formation.get("notes", ()))
    return Bloc(
        key=row.key,
        title=row.title,
        activity=row.activity,
        formation=FormationModality(**formation),
        competences=tuple(
            Competence(
                key=c.key,
                number=c.number,
                label=c.label,
                criteria=tuple(
                    Criterion(key=k.key, label=k.label, notes=tuple(k.notes)) for k in c.criteria
                ),
                notes=tuple(c.notes),
            )
            for c in row.competences
        ),
        notes=tuple(row.notes),
    )


def _formation_to_json(formation: FormationModality) -> dict[str, Any]:
    data = asdict(formation)
    data["evaluators"] = list(formation.evaluators)
    data["notes"] = list(formation.notes)
    return data


def export(referentiel: Referentiel) -> dict[str, Any]:
    """The export contract read by other tools (see README): a shared bloc appears under both
    certifications with the same competence and criterion keys."""
    return {
        "version": referentiel.version,
        "rules": {"competence_threshold_percent": 80, "bloc_threshold_percent": 80},
        "certifications": [
            {
                "code": cert.code,
                "short": cert.short,
                "level": cert.level,
                "title": cert.title,
                "blocs": [
                    {
                        "code": cb.code,
                        "key": cb.key,
                        "title": cb.title,
                        "shared_with": [
                            other.code
                            for other in referentiel.certifications
                            if other.code != cert.code and cb.key in other.bloc_keys
                        ],
                        "competences": [
                            {
                                "key": comp.key,
                                "number": comp.number,
                                "label": comp.label,
                                "criteria": [
                                    {"key": crit.key, "label": crit.label} for crit in comp.criteria
                                ],
                            }
                            for comp in cb.bloc.competences
                        ],
                    }
                    for cb in cert.blocs
                ],
            }
            for cert in referentiel.certifications
        ],
    }
