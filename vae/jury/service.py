"""Planning jury sessions."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy.orm import Session

from vae.audit.service import Actor, record
from vae.jury.models import Convocation, JuryMember, JurySession, MemberQuality, SessionKind
from vae.jury.rules import (
    CandidateFacts,
    MemberFacts,
    Problem,
    Review,
    branch_gap,
    calendar_problem,
    conflicts,
    member_problems,
    review,
)
from vae.parcours.models import Parcours
from vae.people.models import OrganisationKind, Role, User
from vae.people.service import management_line


class JuryError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def plan_session(
    *,
    session: Session,
    actor: Actor,
    kind: SessionKind,
    day: date,
    place: str,
    capacity: int,
    months: Collection[int],
    exam_days: int,
) -> JurySession:
    if kind == SessionKind.PROFESSIONNEL:
        problem = calendar_problem(day, months=months, exam_days=exam_days)
        if problem:
            raise JuryError("day", problem)
    if not place.strip():
        raise JuryError("place", "Indiquez le lieu de la session.")
    if not 1 <= capacity <= 200:
        raise JuryError("capacity", "La capacité doit être comprise entre 1 et 200 candidats.")
    jury_session = JurySession(kind=kind.value, day=day, place=place.strip(), capacity=capacity)
    session.add(jury_session)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="jury_session.plan",
        object_type="jury_session",
        object_id=jury_session.id,
        details={"kind": kind.value, "day": day.isoformat()},
    )
    return jury_session


# --- composition and convocations ----------------------------------------------------------


class JuryRuleViolation(ValueError):
    """Refused by a composition rule: each problem names the rule and the people concerned."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(" ".join(p.message for p in problems))


def member_facts(user: User, quality: str) -> MemberFacts:
    organisation = user.organisation
    return MemberFacts(
        user_id=user.id,
        name=user.full_name,
        quality=quality,
        organisation_id=organisation.id,
        certifying_body=organisation.kind == OrganisationKind.CERTIFICATEUR.value,
        branche=organisation.branche,
        trained_on=user.jury_training_date,
        civility=user.civility,
    )


def candidate_facts(parcours: Parcours) -> CandidateFacts:
    candidate = parcours.candidate
    line = {m.id for m in management_line(candidate)}
    if parcours.manager_id is not None:
        line.add(parcours.manager_id)
    return CandidateFacts(
        parcours_id=parcours.id,
        name=candidate.full_name,
        employer_id=parcours.employer_id,
        employer_name=parcours.employer.name,
        branche=parcours.employer.branche,
        management_line=frozenset(line),
        tutor_id=parcours.tutor_id,
        trainer_ids=frozenset(t.id for t in parcours.trainers),
    )


def session_review(jury_session: JurySession) -> Review:
    return review(
        [member_facts(m.user, m.quality) for m in jury_session.members],
        [candidate_facts(c.parcours) for c in jury_session.convocations],
    )


def assign_member(
    *,
    session: Session,
    actor: Actor,
    jury_session: JurySession,
    user: User,
    quality: str,
    now: datetime,
) -> JuryMember:
    if jury_session.kind != SessionKind.PROFESSIONNEL.value:
        raise JuryError("member", "Seules les sessions de jury professionnel ont des membres.")
    if quality not in {q.value for q in MemberQuality}:
        raise JuryError("quality", "Choisissez président(e) ou expert(e) métier.")
    if not user.has_role(Role.JURY_PRO) or not user.is_active:
        raise JuryError("member", f"{user.full_name} n'est pas membre de jury professionnel.")
    if any(m.user_id == user.id for m in jury_session.members):
        raise JuryError("member", f"{user.full_name} siège déjà dans cette session.")
    if quality == MemberQuality.PRESIDENT.value and any(
        m.quality == MemberQuality.PRESIDENT.value for m in jury_session.members
    ):
        raise JuryError("quality", "La session a déjà un(e) président(e).")
    facts = member_facts(user, quality)
    problems = member_problems(facts)
    for convocation in jury_session.convocations:
        problems.extend(conflicts(facts, candidate_facts(convocation.parcours)))
    if problems:
        record(
            session=session,
            actor=actor,
            action="jury.member_refused",
            object_type="jury_session",
            object_id=jury_session.id,
            outcome="refused",
            now=now,
            details={"user": user.id, "rules": sorted({p.rule for p in problems})},
        )
        raise JuryRuleViolation(problems)
    member = JuryMember(session_id=jury_session.id, user=user, quality=quality, assigned_at=now)
    jury_session.members.append(member)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="jury.member_assign",
        object_type="jury_session",
        object_id=jury_session.id,
        subject_id=user.id,
        now=now,
        details={"quality": quality},
    )
    return member


def convene(
    *,
    session: Session,
    actor: Actor,
    jury_session: JurySession,
    parcours: Parcours,
    at: datetime,
    not_ready: str | None,
    now: datetime,
) -> Convocation:
    """Convene a candidate; ``not_ready`` says why the dossier cannot go to a jury yet."""
    if jury_session.kind != SessionKind.PROFESSIONNEL.value:
        raise JuryError(
            "parcours", "On convoque les candidats à une session de jury professionnel."
        )
    if not_ready:
        raise JuryError("parcours", not_ready)
    if any(c.parcours_id == parcours.id for c in jury_session.convocations):
        raise JuryError("parcours", f"{parcours.candidate.full_name} est déjà convoqué(e).")
    if len(jury_session.convocations) >= jury_session.capacity:
        raise JuryError("parcours", f"La session est complète ({jury_session.capacity} candidats).")
    if at.date() != jury_session.day:
        raise JuryError("at", "L'heure de passage doit être le jour de la session.")
    facts = candidate_facts(parcours)
    members = [member_facts(m.user, m.quality) for m in jury_session.members]
    problems = [p for m in members for p in conflicts(m, facts)]
    gap = branch_gap(members, facts)
    if gap is not None:
        problems.append(gap)
    if problems:
        raise JuryRuleViolation(problems)
    convocation = Convocation(
        session_id=jury_session.id,
        parcours=parcours,
        at=at,
        place=jury_session.place,
        created_at=now,
        updated_at=now,
    )
    jury_session.convocations.append(convocation)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="jury.convene",
        object_type="convocation",
        object_id=convocation.id,
        subject_id=parcours.candidate_id,
        now=now,
        details={"session": jury_session.id, "at": at.isoformat()},
    )
    return convocation


def reschedule(
    *, session: Session, actor: Actor, convocation: Convocation, at: datetime, now: datetime
) -> Convocation:
    if at == convocation.at:
        return convocation
    convocation.previous_at = convocation.at
    convocation.at = at
    convocation.updated_at = now
    session.flush()
    record(
        session=session,
        actor=actor,
        action="jury.reschedule",
        object_type="convocation",
        object_id=convocation.id,
        subject_id=convocation.parcours.candidate_id,
        now=now,
        details={"from": convocation.previous_at.isoformat(), "to": at.isoformat()},
    )
    return convocation
