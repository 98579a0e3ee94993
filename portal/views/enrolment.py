"""Opening a parcours (référents and administrators): the form, its checks, the enrolment.

The form offers only what the person may pick (a référent: the candidates, tutors and managers
of their organisme; an administrator: everyone, grouped by organisation), and every value sent
back is checked again here: a forged id gets a French error next to its field, never a 500.

The held blocs are listed per certification so that the form works without JavaScript (only
the chosen certification's list is read). With htmx, changing the certification (or, for an
administrator, the employer) asks this same URL again and swaps in the part that depends on
it (``hx-select``); an htmx request gets only the chosen certification's blocs / the chosen
employer's people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.datastructures import FormData, QueryParams
from starlette.responses import Response
from starlette.routing import Route

from carnet.service import enrol
from portal.permissions import Action
from portal.templating import render
from portal.web import Ctx, redirect, view
from vae.parcours.models import Parcours
from vae.parcours.models import Route as ParcoursRoute
from vae.parcours.service import HeldBlocInput, ParcoursError
from vae.people.models import Organisation, OrganisationKind, Role, User, UserRole
from vae.referentiel.models import CertificationBlocRecord, CertificationRecord
from vae.referentiel.service import current_version

MAX_ORIGIN = 300
EARLIEST_START = date(2000, 1, 1)
MAX_YEARS_AHEAD = 2
# form field → the role the person must hold, and its French noun
PEOPLE = {
    "candidate": (Role.CANDIDAT, "candidat"),
    "tutor": (Role.TUTEUR, "tuteur"),
    "manager": (Role.MANAGER, "manager"),
}


@dataclass
class Choices:
    """What the form offers the signed-in person."""

    is_admin: bool
    employers: list[Organisation]  # an administrator: every organisme; a référent: their own
    people: dict[str, list[User]]  # "candidate" / "tutor" / "manager" → active users
    certifications: list[CertificationRecord]  # at the current référentiel version


@dataclass
class Enrolment:
    """The checked form."""

    candidate: User
    certification: CertificationRecord
    route: ParcoursRoute
    employer: Organisation
    tutor: User
    manager: User
    start_date: date
    held: list[HeldBlocInput]


def _choices(ctx: Ctx, employer: str = "") -> Choices:
    assert ctx.user is not None
    is_admin = ctx.user.has_role(Role.ADMIN)
    if is_admin:
        employers = list(
            ctx.db.scalars(
                select(Organisation)
                .where(Organisation.kind == OrganisationKind.ORGANISME.value)
                .order_by(Organisation.name)
            )
        )
        # An htmx refresh after the employer changed: that employer's people only.
        scope = next((o.id for o in employers if str(o.id) == employer), None)
    else:
        employers = [ctx.user.organisation]
        scope = ctx.user.organisation_id
    people = {field: _people(ctx, role, scope) for field, (role, _) in PEOPLE.items()}
    version = current_version(ctx.db)
    certifications = []
    if version is not None:
        certifications = list(
            ctx.db.scalars(
                select(CertificationRecord)
                .where(CertificationRecord.version_id == version.id)
                .options(
                    selectinload(CertificationRecord.blocs).selectinload(
                        CertificationBlocRecord.bloc
                    )
                )
                .order_by(CertificationRecord.id)
            )
        )
    return Choices(is_admin, employers, people, certifications)


def _people(ctx: Ctx, role: Role, organisation_id: int | None) -> list[User]:
    query = (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(UserRole.role == role.value, User.is_active.is_(True))
        .options(selectinload(User.organisation))
        .order_by(Organisation.name, User.last_name, User.first_name, User.id)
    )
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    return list(ctx.db.scalars(query))


def _by_id(raw: str, rows: list[Organisation] | list[User]) -> Organisation | User | None:
    return next((row for row in rows if str(row.id) == raw.strip()), None)


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


def _check(ctx: Ctx, choices: Choices) -> tuple[Enrolment | None, dict[str, str]]:
    """Read and check the posted form; (the enrolment, {}) or (None, French errors)."""
    errors: dict[str, str] = {}
    employer = _check_employer(ctx, choices, errors)
    people: dict[str, User] = {}
    for field in PEOPLE:
        person = _check_person(ctx, choices, field, employer, errors)
        if person is not None:
            people[field] = person
    certification = next(
        (c for c in choices.certifications if c.code == ctx.field("certification")), None
    )
    if certification is None:
        errors["certification"] = (
            "Choisissez la certification : CQP Conseiller offres de services ou "
            "CQP Gestionnaire conseil."
        )
    route = next((r for r in ParcoursRoute if r.value == ctx.field("route")), None)
    if route is None:
        errors["route"] = "Choisissez la voie : formation ou VAE."
    start = _check_start(ctx, errors)
    held: list[HeldBlocInput] = []
    if certification is not None:
        held = _check_held(ctx, choices, certification, start, errors)
    if errors:
        return None, errors
    assert employer and certification and route and start
    return Enrolment(
        candidate=people["candidate"],
        certification=certification,
        route=route,
        employer=employer,
        tutor=people["tutor"],
        manager=people["manager"],
        start_date=start,
        held=held,
    ), {}


def _check_employer(ctx: Ctx, choices: Choices, errors: dict[str, str]) -> Organisation | None:
    raw = ctx.field("employer")
    if not choices.is_admin:
        own = choices.employers[0]
        if raw and raw != str(own.id):
            errors["employer"] = "Vous ne pouvez ouvrir un parcours que dans votre organisme."
            return None
        return own
    if not raw:
        errors["employer"] = "Choisissez l'organisme employeur."
        return None
    employer = _by_id(raw, choices.employers)
    if not isinstance(employer, Organisation):
        errors["employer"] = "Choisissez l'organisme employeur dans la liste."
        return None
    return employer


def _check_person(
    ctx: Ctx, choices: Choices, field: str, employer: Organisation | None, errors: dict[str, str]
) -> User | None:
    raw = ctx.field(field)
    noun = PEOPLE[field][1]
    if not raw:
        errors[field] = f"Choisissez le {noun}."
        return None
    person = _by_id(raw, choices.people[field])
    if not isinstance(person, User):
        # The same answer whether the id does not exist, lacks the role or (for a référent)
        # belongs to another organisme: nothing is learnt about other organismes.
        where = " de votre organisme" if not choices.is_admin else ""
        errors[field] = f"Choisissez un {noun}{where} dans la liste."
        return None
    if employer is not None and person.organisation_id != employer.id:
        errors[field] = f"Le {noun} doit être salarié de l'organisme employeur ({employer.name})."
        return None
    return person


def _check_start(ctx: Ctx, errors: dict[str, str]) -> date | None:
    raw = ctx.field("start_date")
    if not raw.strip():
        errors["start_date"] = "Indiquez la date de début du parcours."
        return None
    start = _date(raw)
    if start is None:
        errors["start_date"] = "Saisissez la date de début au format jj/mm/aaaa."
        return None
    latest = date(ctx.now.year + MAX_YEARS_AHEAD, 12, 31)
    if not EARLIEST_START <= start <= latest:
        errors["start_date"] = (
            "La date de début doit être comprise entre le 1er janvier 2000 et "
            f"le {latest.strftime('%d/%m/%Y')}."
        )
        return None
    return start


def _check_held(
    ctx: Ctx,
    choices: Choices,
    certification: CertificationRecord,
    start: date | None,
    errors: dict[str, str],
) -> list[HeldBlocInput]:
    """The blocs already held, from the chosen certification's list only."""
    short = certification.short
    keys = [cb.bloc.key for cb in certification.blocs]
    checked = ctx.fields(f"held-{short}")
    elsewhere = [
        other.short
        for other in choices.certifications
        if other.id != certification.id and ctx.fields(f"held-{other.short}")
    ]
    if any(key not in keys for key in checked):
        errors["held_blocs"] = f"Cochez uniquement des blocs du CQP {short}."
    elif elsewhere:
        # Without JavaScript every list is on the page; only the chosen one is read, so
        # blocs ticked in another list would be silently lost.
        errors["held_blocs"] = (
            f"Des blocs sont cochés dans la liste du CQP {elsewhere[0]}, mais la certification "
            f"choisie est le CQP {short} : décochez-les et cochez les blocs détenus dans la "
            f"liste du CQP {short}."
        )
    held: list[HeldBlocInput] = []
    for key in keys:
        origin = ctx.field(f"origin-{short}-{key}").strip()
        if key not in checked:
            if origin:
                errors[f"origin-{short}-{key}"] = (
                    f"Cochez « Bloc déjà détenu » pour le bloc {key}, ou effacez son origine."
                )
            continue
        if not origin:
            errors[f"origin-{short}-{key}"] = (
                f"Indiquez l'origine du bloc {key} (par exemple « CCP obtenu en 2024 »)."
            )
        elif len(origin) > MAX_ORIGIN:
            errors[f"origin-{short}-{key}"] = (
                f"L'origine ne doit pas dépasser {MAX_ORIGIN} caractères."
            )
        obtained = _check_obtained(ctx, f"obtained-{short}-{key}", start, errors)
        held.append(HeldBlocInput(bloc_key=key, origin=origin, obtained_on=obtained))
    if keys and len(held) == len(keys) and "held_blocs" not in errors:
        errors["held_blocs"] = (
            "Tous les blocs sont cochés comme déjà détenus : il n'y a rien à évaluer dans ce "
            "parcours."
        )
    return held


def _check_obtained(ctx: Ctx, name: str, start: date | None, errors: dict[str, str]) -> date | None:
    raw = ctx.field(name)
    if not raw.strip():
        return None
    obtained = _date(raw)
    if obtained is None:
        errors[name] = "Saisissez la date d'obtention au format jj/mm/aaaa."
    elif obtained > ctx.now.date():
        errors[name] = "La date d'obtention ne peut pas être dans le futur."
    elif start is not None and obtained > start:
        errors[name] = "Le bloc doit avoir été obtenu avant le début du parcours."
    else:
        return obtained
    return None


def _existing(ctx: Ctx, enrolment: Enrolment) -> int | None:
    """The parcours a previous submission of the same form opened, if any."""
    # Lock the candidate's row first: two submissions racing on PostgreSQL queue here, and the
    # second then sees the first's parcours. (SQLite already serialises writers.)
    ctx.db.scalar(select(User.id).where(User.id == enrolment.candidate.id).with_for_update())
    return ctx.db.scalar(
        select(Parcours.id)
        .where(
            Parcours.candidate_id == enrolment.candidate.id,
            Parcours.certification_id == enrolment.certification.id,
            Parcours.start_date == enrolment.start_date,
        )
        .order_by(Parcours.id)
        .limit(1)
    )


def _page(
    ctx: Ctx,
    choices: Choices,
    values: FormData | QueryParams,
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    chosen = [c for c in choices.certifications if c.code == values.get("certification")]
    if ctx.htmx and chosen:
        held_certifications = chosen  # htmx: only the chosen certification's blocs
    else:  # every list, the chosen one first: the page must work without JavaScript
        held_certifications = chosen + [c for c in choices.certifications if c not in chosen]
    keys = [cb.bloc.key for c in choices.certifications for cb in c.blocs]
    shared = sorted({key for key in keys if keys.count(key) > 1})
    return render(
        ctx.request,
        "enrolment/new.html",
        {
            "choices": choices,
            "held_certifications": held_certifications,
            "shared_keys": shared,
            "form": values,
            "errors": errors,
        },
        status_code=status_code,
    )


@view(Action.ENROL)
def new(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        params = ctx.request.query_params
        return _page(ctx, _choices(ctx, params.get("employer", "")), params, {})
    assert ctx.form is not None
    choices = _choices(ctx)
    enrolment, errors = _check(ctx, choices)
    if enrolment is not None:
        existing = _existing(ctx, enrolment)
        if existing is not None:
            ctx.db.rollback()
            return redirect(ctx.request.app.url_path_for("parcours", parcours_id=existing))
        try:
            parcours = enrol(
                session=ctx.db,
                actor=ctx.actor,
                candidate=enrolment.candidate,
                certification=enrolment.certification,
                route=enrolment.route,
                employer=enrolment.employer,
                tutor=enrolment.tutor,
                manager=enrolment.manager,
                start_date=enrolment.start_date,
                held_blocs=enrolment.held,
            )
        except ParcoursError as error:
            ctx.db.rollback()
            errors = {error.field: error.message}
        else:
            ctx.db.commit()
            return redirect(ctx.request.app.url_path_for("parcours", parcours_id=parcours.id))
    return _page(ctx, choices, ctx.form, errors, status_code=400)


routes = [Route("/parcours/nouveau", new, methods=["GET", "POST"], name="enrolment")]
