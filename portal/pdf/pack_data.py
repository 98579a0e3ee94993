"""Read model of an interview pack: what its page and its PDF show, loaded in a fixed number
of queries, so that rendering never touches the database.

The situations come from the frozen snapshot of the livret's submitted edition (never from the
working copy: the jury reads what the candidate signed); the carnet's evidence from the
signatures that still match their content (``carnet.queries.load_carnet``); the plan and the
weak points from the pure functions of ``vae.jury.pack``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carnet.queries import CarnetData, load_carnet
from carnet.rules import BlocProgress
from vae.jury.models import QUALITY_LABELS, Convocation, JuryMember, JurySession, MemberQuality
from vae.jury.pack import (
    BlocToAssess,
    Evidence,
    InterviewPlan,
    WeakCompetence,
    competence_level,
    interview_plan,
    weak_count,
    weak_evidence,
)
from vae.jury.rules import MONTHS_FR
from vae.livret.models import Annex, Livret, LivretSubmission
from vae.livret.rules import BlocCoverage, SituationFacts, coverage
from vae.parcours.models import ROUTE_LABELS, Parcours, Route
from vae.people.models import Organisation, User
from vae.referentiel.model import Certification, CertificationBloc, Referentiel

PARIS = ZoneInfo("Europe/Paris")
TITLE = "Dossier d'entretien"
ROLES = ("tuteur", "manager")


@dataclass(frozen=True, slots=True)
class PackMember:
    name: str
    quality: str  # French label
    organisation: str
    job_title: str


@dataclass
class PackBloc:
    cert_bloc: CertificationBloc
    coverage: BlocCoverage
    progress: BlocProgress
    situations: list[Mapping[str, Any]]  # snapshot situations of the bloc, in order
    weak: list[WeakCompetence]
    levels: dict[str, str]  # competence key → vae.jury.pack level
    minutes: tuple[int, int]  # (presentation, questions)

    @property
    def key(self) -> str:
        return self.cert_bloc.key

    def summary(self, *, has_livret: bool) -> str:
        """What the dossier shows of the bloc, for the jury (the livret's own wording speaks to
        the candidate)."""
        total = len(self.coverage.competences)
        carnet = f"le carnet en atteste {self.progress.both} par le tuteur et le manager"
        rule = f"la règle des 80 % en demande {self.coverage.required}"
        if not has_livret:
            return f"Sur {total} compétences, {carnet} ; {rule}."
        return (
            f"Sur {total} compétences, les situations du livret en revendiquent "
            f"{self.coverage.shown}, {carnet} ; {rule}."
        )


@dataclass
class PackData:
    convocation: Convocation
    jury_session: JurySession
    parcours: Parcours
    candidate: User
    employer: Organisation
    referentiel: Referentiel
    certification: Certification
    members: list[PackMember]
    carnet: CarnetData
    livret: Livret | None
    submission: LivretSubmission | None
    livret_note: str  # French: why there are no situations, or "" when there are
    plan: InterviewPlan
    weak: list[WeakCompetence]
    generated_at: datetime
    blocs: list[PackBloc] = field(default_factory=list)
    annex_ids: dict[str, int] = field(default_factory=dict)  # stored name → Annex.id

    @property
    def has_livret(self) -> bool:
        return self.parcours.route == Route.VAE.value

    @property
    def content(self) -> Mapping[str, Any] | None:
        return self.submission.snapshot if self.submission is not None else None

    @property
    def candidate_name(self) -> str:
        return f"{self.candidate.civility} {self.candidate.full_name}"

    @property
    def route_label(self) -> str:
        return ROUTE_LABELS.get(self.parcours.route, self.parcours.route)

    @property
    def session_day(self) -> str:
        return long_date(self.jury_session.day)

    @property
    def convocation_time(self) -> str:
        return paris_time(self.convocation.at)

    @property
    def held(self) -> list[str]:
        return [h.bloc_key for h in self.parcours.held_blocs]


def long_date(day: date) -> str:
    return f"{day.day} {MONTHS_FR[day.month]} {day.year}"


def paris_time(moment: datetime) -> str:
    local = moment.astimezone(PARIS)
    return f"{local.hour} h {local.minute:02d}"


def load_pack(
    session: Session, convocation: Convocation, *, presentation_minutes: int, now: datetime
) -> PackData:
    parcours = convocation.parcours
    carnet = load_carnet(session, parcours)
    jury_session = session.scalars(
        select(JurySession)
        .where(JurySession.id == convocation.session_id)
        .options(
            selectinload(JurySession.members)
            .selectinload(JuryMember.user)
            .selectinload(User.organisation)
        )
    ).one()
    livret = session.scalar(
        select(Livret)
        .where(Livret.parcours_id == parcours.id)
        .options(selectinload(Livret.submissions))
    )
    submission, note = _edition(parcours, livret)
    situations = list((submission.snapshot if submission else {}).get("situations") or [])
    certification = carnet.certification
    held = parcours.held_bloc_keys
    assessed = [cb for cb in certification.blocs if cb.key not in held]
    evidence = _evidence(carnet, assessed, situations)
    has_livret = parcours.route == Route.VAE.value
    weak = weak_evidence([cb.bloc for cb in assessed], evidence, has_livret=has_livret)
    plan = interview_plan(
        [
            BlocToAssess(cb.key, cb.title, len(cb.bloc.competences), weak_count(weak, cb.key))
            for cb in assessed
        ],
        total=carnet.referentiel.vae.interview_minutes,
        presentation=presentation_minutes,
    )
    data = PackData(
        convocation=convocation,
        jury_session=jury_session,
        parcours=parcours,
        candidate=parcours.candidate,
        employer=parcours.employer,
        referentiel=carnet.referentiel,
        certification=certification,
        members=_members(jury_session.members),
        carnet=carnet,
        livret=livret,
        submission=submission,
        livret_note=note,
        plan=plan,
        weak=weak,
        generated_at=now,
    )
    data.blocs = _blocs(data, assessed, situations, evidence)
    data.annex_ids = _annex_ids(session, situations)
    return data


def _blocs(
    data: PackData,
    assessed: Sequence[CertificationBloc],
    situations: list[Mapping[str, Any]],
    evidence: Mapping[str, Evidence],
) -> list[PackBloc]:
    facts = [_facts(s) for s in situations]
    summaries = {
        status.key: status.summary
        for progress in data.carnet.progress.values()
        for status in progress.competences
        if status.attested_by
    }
    held = data.parcours.held_bloc_keys
    matrix = coverage(data.certification, facts, held_blocs=held, carnet=summaries)
    by_key = {c.key: c for c in matrix}
    return [
        PackBloc(
            cert_bloc=cert_bloc,
            coverage=by_key[cert_bloc.key],
            progress=data.carnet.progress[cert_bloc.key],
            situations=[s for s in situations if s.get("bloc") == cert_bloc.key],
            weak=[w for w in data.weak if w.bloc_key == cert_bloc.key],
            levels={
                c.key: competence_level(evidence.get(c.key, Evidence()), has_livret=data.has_livret)
                for c in cert_bloc.bloc.competences
            },
            minutes=data.plan.minutes_for(cert_bloc.key),
        )
        for cert_bloc in assessed
    ]


def _edition(parcours: Parcours, livret: Livret | None) -> tuple[LivretSubmission | None, str]:
    """The submitted edition the jury reads, or why there is none."""
    if parcours.route != Route.VAE.value:
        return None, (
            "Voie formation : pas de livret 2. Le dossier repose sur le carnet de suivi et "
            "l'observation en situation de travail."
        )
    if livret is None or not livret.submissions:
        return None, (
            "Aucune édition du livret 2 n'a été soumise : le dossier ne contient pas de situation."
        )
    latest = livret.submissions[-1]
    if latest.returned_at is not None or livret.editable:
        return None, (
            f"L'édition n° {latest.edition} du livret 2 a été renvoyée pour correction et aucune "
            "édition n'est soumise depuis : le dossier ne contient pas de situation."
        )
    return latest, ""


def _facts(situation: Mapping[str, Any]) -> SituationFacts:
    return SituationFacts(
        id=int(situation.get("id") or 0),
        bloc_key=str(situation.get("bloc") or ""),
        title=str(situation.get("title") or "").strip() or "Situation sans titre",
        competence_keys=tuple(situation.get("competence_keys") or ()),
        missing=(),
    )


def _evidence(
    carnet: CarnetData, assessed: Sequence[CertificationBloc], situations: list[Mapping[str, Any]]
) -> dict[str, Evidence]:
    found = {}
    for cert_bloc in assessed:
        statuses = {s.key: s for s in carnet.progress[cert_bloc.key].competences}
        mine = [s for s in situations if s.get("bloc") == cert_bloc.key]
        for competence in cert_bloc.bloc.competences:
            claiming = [s for s in mine if competence.key in (s.get("competence_keys") or ())]
            ticked = {k for s in claiming for k in s.get("criterion_keys") or ()}
            observed: dict[str, int] = {}
            for role in ROLES:
                version = carnet.latest_signed(competence.key, role)
                if version is None or not carnet.counts(version):
                    continue
                for key in set(version.observed_criteria):
                    observed[key] = observed.get(key, 0) + 1
            status = statuses.get(competence.key)
            found[competence.key] = Evidence(
                situations=tuple(
                    str(s.get("title") or "").strip() or "Situation sans titre" for s in claiming
                ),
                claimed_criteria=frozenset(ticked & set(competence.criterion_keys)),
                attested_by=status.attested_by if status else 0,
                observed=observed,
                carnet_summary=status.summary if status else "",
            )
    return found


def _members(members: Sequence[JuryMember]) -> list[PackMember]:
    ordered = sorted(members, key=lambda m: (m.quality != MemberQuality.PRESIDENT.value, m.id))
    return [
        PackMember(
            name=f"{m.user.civility} {m.user.full_name}",
            quality=QUALITY_LABELS.get(m.quality, m.quality),
            organisation=m.user.organisation.name,
            job_title=m.user.job_title,
        )
        for m in ordered
    ]


def _annex_ids(session: Session, situations: list[Mapping[str, Any]]) -> dict[str, int]:
    """Annex rows still holding the files of the snapshot (same name and SHA-256)."""
    wanted = {
        str(a.get("stored")): str(a.get("sha256"))
        for s in situations
        for a in s.get("annexes") or ()
        if a.get("stored")
    }
    if not wanted:
        return {}
    rows = session.execute(
        select(Annex.stored_name, Annex.id, Annex.sha256).where(Annex.stored_name.in_(wanted))
    )
    return {name: id_ for name, id_, sha in rows if wanted.get(name) == sha}
