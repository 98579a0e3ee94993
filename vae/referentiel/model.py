"""Immutable in-memory référentiel: certifications → blocs → competences → criteria.

A bloc is one object shared by every certification that contains it (GRU and MDR belong to
both CQPs): certifications hold references to the same ``Bloc``, never copies. What differs
per certification (the bloc's RNCP code and title) lives on ``CertificationBloc``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Criterion:
    key: str
    label: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Competence:
    key: str
    number: str
    label: str
    criteria: tuple[Criterion, ...]
    notes: tuple[str, ...] = ()

    @property
    def criterion_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.criteria)


@dataclass(frozen=True, slots=True)
class FormationModality:
    """How a bloc is evaluated on the formation route (observation or oral presentation)."""

    method: str
    carnet: str
    evaluation: str
    observed: str
    observation_minutes: int
    interview_minutes: int
    presentation_minutes: int
    evaluators: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VaeModality:
    """The VAE route, common to every bloc: livret 2 and a 45-minute interview."""

    summary: str
    interview: str
    situations_min: int
    situations_max: int
    interview_minutes: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Bloc:
    key: str
    title: str
    activity: str
    formation: FormationModality
    competences: tuple[Competence, ...]
    notes: tuple[str, ...] = ()

    def competence(self, key: str) -> Competence:
        for competence in self.competences:
            if competence.key == key:
                return competence
        raise KeyError(key)

    @property
    def criteria_count(self) -> int:
        return sum(len(c.criteria) for c in self.competences)


@dataclass(frozen=True, slots=True)
class CertificationBloc:
    """A bloc as it appears in one certification: its RNCP code there, and the bloc itself."""

    code: str
    title: str
    bloc: Bloc

    @property
    def key(self) -> str:
        return self.bloc.key


@dataclass(frozen=True, slots=True)
class Certification:
    code: str
    short: str
    level: int
    title: str
    objective: str
    registration_end: str
    blocs: tuple[CertificationBloc, ...]
    notes: tuple[str, ...] = ()

    @property
    def bloc_keys(self) -> tuple[str, ...]:
        return tuple(b.key for b in self.blocs)

    def bloc(self, key: str) -> CertificationBloc:
        for cert_bloc in self.blocs:
            if cert_bloc.key == key:
                return cert_bloc
        raise KeyError(key)

    def competences(self) -> Iterator[tuple[CertificationBloc, Competence]]:
        for cert_bloc in self.blocs:
            for competence in cert_bloc.bloc.competences:
                yield cert_bloc, competence


@dataclass(frozen=True, slots=True)
class Referentiel:
    version: str
    title: str
    rules: tuple[str, ...]
    vae: VaeModality
    certifications: tuple[Certification, ...]
    blocs: dict[str, Bloc] = field(hash=False, compare=False)
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    content_hash: str = ""

    def certification(self, code_or_short: str) -> Certification:
        for certification in self.certifications:
            if code_or_short in (certification.code, certification.short):
                return certification
        raise KeyError(code_or_short)
