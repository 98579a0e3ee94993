"""Who may do what: one table of role × action, plus the rules on objects.

Handlers declare their action (``portal.web.view``), which is checked before the handler runs;
write services check object rules again. An object one may not see answers 404 (its existence
is not leaked); a forbidden action on a visible object answers 403.
"""

from __future__ import annotations

import enum

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session, selectinload

from vae.decision.models import NationalDossier
from vae.jury.models import Convocation, JuryMember
from vae.parcours.models import Parcours
from vae.people.models import Role, User, UserRole


class Action(enum.StrEnum):
    PUBLIC = "public"  # anyone, signed in or not
    SIGNED_IN = "signed_in"  # any signed-in person: dashboard, own account
    VIEW_PARCOURS = "view_parcours"
    LIST_USERS = "list_users"
    MANAGE_USERS = "manage_users"
    MANAGE_ORGANISATIONS = "manage_organisations"
    ENROL = "enrol"  # open a parcours (and its carnet)
    LIST_CARNETS = "list_carnets"  # worklists: my candidates / my organisme / all
    SELF_ASSESS = "self_assess"
    ATTEST = "attest"
    RECORD_MILESTONE = "record_milestone"
    EDIT_LIVRET = "edit_livret"  # the candidate writes their livret 2
    RETURN_LIVRET = "return_livret"  # an administrator returns a submitted livret
    VIEW_JURY_SESSIONS = "view_jury_sessions"  # the sessions one sits on (all: administrators)
    MANAGE_JURY = "manage_jury"  # plan sessions, compose juries, convene candidates
    VIEW_CONVOCATION = "view_convocation"  # a candidate's own convocation
    EVALUATE = "evaluate"  # fill the grid, write and sign the avis (members of the session)
    VIEW_EVALUATION = "view_evaluation"  # read a grid and its avis
    FILE_RECOURS = "file_recours"  # the candidate appeals against the avis
    RECORD_PREREQUISITE = "record_prerequisite"  # Pass, Prem'ss… on the parcours
    DELIBERATE = "deliberate"  # national jury: decisions per bloc
    PROCLAIM = "proclaim"  # national jury: proclaim a session
    MANAGE_NATIONAL = "manage_national"  # put signed dossiers on a national session's agenda
    VIEW_CERTIFICATE = "view_certificate"  # download one's own CCP / CQP (and its badge)
    REVOKE_CERTIFICATE = "revoke_certificate"
    VIEW_STATISTICS = "view_statistics"


ALL_ROLES = frozenset(Role)

POLICY: dict[Action, frozenset[Role]] = {
    Action.PUBLIC: ALL_ROLES,
    Action.SIGNED_IN: ALL_ROLES,
    Action.VIEW_PARCOURS: ALL_ROLES,
    Action.LIST_USERS: frozenset({Role.REFERENT, Role.ADMIN}),
    Action.MANAGE_USERS: frozenset({Role.REFERENT, Role.ADMIN}),
    Action.MANAGE_ORGANISATIONS: frozenset({Role.ADMIN}),
    Action.ENROL: frozenset({Role.REFERENT, Role.ADMIN}),
    Action.LIST_CARNETS: frozenset({Role.TUTEUR, Role.MANAGER, Role.REFERENT, Role.ADMIN}),
    Action.SELF_ASSESS: frozenset({Role.CANDIDAT}),
    Action.ATTEST: frozenset({Role.TUTEUR, Role.MANAGER}),
    Action.RECORD_MILESTONE: frozenset({Role.TUTEUR, Role.MANAGER, Role.REFERENT, Role.ADMIN}),
    Action.EDIT_LIVRET: frozenset({Role.CANDIDAT}),
    Action.RETURN_LIVRET: frozenset({Role.ADMIN}),
    Action.VIEW_JURY_SESSIONS: frozenset({Role.JURY_PRO, Role.ADMIN}),
    Action.MANAGE_JURY: frozenset({Role.ADMIN}),
    Action.VIEW_CONVOCATION: frozenset({Role.CANDIDAT, Role.ADMIN}),
    Action.EVALUATE: frozenset({Role.JURY_PRO}),
    Action.VIEW_EVALUATION: frozenset({Role.JURY_PRO, Role.JURY_NATIONAL, Role.ADMIN}),
    Action.FILE_RECOURS: frozenset({Role.CANDIDAT}),
    Action.RECORD_PREREQUISITE: frozenset({Role.REFERENT, Role.ADMIN}),
    Action.DELIBERATE: frozenset({Role.JURY_NATIONAL, Role.ADMIN}),
    Action.PROCLAIM: frozenset({Role.JURY_NATIONAL, Role.ADMIN}),
    Action.MANAGE_NATIONAL: frozenset({Role.ADMIN}),
    Action.VIEW_CERTIFICATE: frozenset({Role.CANDIDAT, Role.ADMIN}),
    Action.REVOKE_CERTIFICATE: frozenset({Role.ADMIN}),
    Action.VIEW_STATISTICS: frozenset({Role.ADMIN}),
}

# A référent enrols people of their organisme; jury and administration roles are Ucanss's.
REFERENT_GRANTABLE = frozenset({Role.CANDIDAT, Role.TUTEUR, Role.MANAGER})


def can(user: User | None, action: Action) -> bool:
    if action is Action.PUBLIC:
        return True
    if user is None or not user.is_active:
        return False
    return bool(user.roles & POLICY[action])


# --- object rules --------------------------------------------------------------------------


def parcours_clause(user: User) -> ColumnElement[bool]:
    """SQL condition selecting the parcours ``user`` may see (union over their roles)."""
    roles = user.roles
    if Role.ADMIN in roles:
        return Parcours.id.is_not(None)
    clauses: list[ColumnElement[bool]] = []
    if Role.CANDIDAT in roles:
        clauses.append(Parcours.candidate_id == user.id)
    if Role.TUTEUR in roles:
        clauses.append(Parcours.tutor_id == user.id)
    if Role.MANAGER in roles:
        clauses.append(Parcours.manager_id == user.id)
    if Role.REFERENT in roles:
        clauses.append(Parcours.employer_id == user.organisation_id)
    if Role.JURY_PRO in roles:
        # the candidates convened to the sessions they sit on, never one of their own organisme
        sits_on = (
            select(Convocation.parcours_id)
            .join(JuryMember, JuryMember.session_id == Convocation.session_id)
            .where(JuryMember.user_id == user.id)
        )
        clauses.append(and_(Parcours.id.in_(sits_on), Parcours.employer_id != user.organisation_id))
    if Role.JURY_NATIONAL in roles:
        # the jury paritaire national is one standing body: it sees the dossiers on its agenda
        clauses.append(Parcours.id.in_(select(NationalDossier.parcours_id)))
    return or_(*clauses) if clauses else false()


def visible_parcours(session: Session, user: User, *, limit: int) -> list[Parcours]:
    """The parcours ``user`` may see, newest first, with what lists show already loaded."""
    return list(
        session.scalars(
            select(Parcours)
            .where(parcours_clause(user))
            .options(
                # lists show the candidate's name, not their roles
                selectinload(Parcours.candidate).raiseload(User.role_rows),
                selectinload(Parcours.certification),
                selectinload(Parcours.employer),
                selectinload(Parcours.held_blocs),
            )
            .order_by(Parcours.start_date.desc(), Parcours.id.desc())
            .limit(limit)
        )
    )


def parcours_visible(session: Session, user: User, parcours_id: int) -> Parcours | None:
    """The parcours if ``user`` may see it, else None (the caller answers 404)."""
    return session.scalar(select(Parcours).where(Parcours.id == parcours_id, parcours_clause(user)))


def user_manageable(actor: User, target: User) -> bool:
    """Whether ``actor`` may see and administer ``target``'s account."""
    if Role.ADMIN in actor.roles:
        return True
    if Role.REFERENT in actor.roles:
        return (
            target.organisation_id == actor.organisation_id
            and target.roles <= REFERENT_GRANTABLE | {Role.REFERENT}
        )
    return False


def manageable_users_clause(actor: User) -> ColumnElement[bool]:
    """SQL twin of ``permissions.user_manageable(actor, User)``: the accounts ``actor`` may see
    and administer. A référent: the accounts of their organisation holding no role beyond
    those they manage (an account with no role at all included, as ``<=`` does)."""
    if Role.ADMIN in actor.roles:
        return true()
    if Role.REFERENT in actor.roles:
        allowed = sorted(REFERENT_GRANTABLE | {Role.REFERENT})
        other_role = exists().where(UserRole.user_id == User.id, UserRole.role.not_in(allowed))
        return and_(User.organisation_id == actor.organisation_id, ~other_role)
    return false()


def grantable_roles(actor: User) -> frozenset[Role]:
    if Role.ADMIN in actor.roles:
        return ALL_ROLES
    if Role.REFERENT in actor.roles:
        return REFERENT_GRANTABLE
    return frozenset()
