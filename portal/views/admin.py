"""Administration of organisations (administrators) and accounts (administrators, référents)."""

from __future__ import annotations

import unicodedata
from datetime import date
from urllib.parse import urlencode

from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload
from starlette.responses import Response
from starlette.routing import Route

from portal import listing
from portal.accounts.models import TokenPurpose
from portal.accounts.service import AuthError, create_link, set_active, set_roles
from portal.mail import send_mail, send_reset_mail
from portal.permissions import (
    REFERENT_GRANTABLE,
    Action,
    grantable_roles,
    manageable_users_clause,
    user_manageable,
)
from portal.templating import render
from portal.web import Ctx, clean_text, redirect, view
from vae.people.models import (
    ROLE_LABELS,
    Branche,
    Civility,
    Organisation,
    OrganisationKind,
    OrganisationType,
    Role,
    User,
    UserRole,
)
from vae.people.service import PeopleError, create_organisation, create_user

# the column sizes: longer text is refused next to its field, never cut nor left to the database
USER_LIMITS = {"first_name": 100, "last_name": 100, "job_title": 200}
ORGANISATION_LIMITS = {"name": 200, "city": 100}


def _length_errors(ctx: Ctx, limits: dict[str, int]) -> dict[str, str]:
    return {
        name: f"Ce champ ne doit pas dépasser {limit} caractères."
        for name, limit in limits.items()
        if len(ctx.field(name)) > limit
    }


def _email_error(ctx: Ctx) -> dict[str, str]:
    """Invisible and direction characters make one address look like another: refused."""
    email = ctx.field("email")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in email):
        return {"email": "Saisissez une adresse électronique valide."}
    return {}


def _organisations_for(ctx: Ctx) -> list[Organisation]:
    assert ctx.user is not None
    if ctx.user.has_role(Role.ADMIN):
        return list(ctx.db.scalars(select(Organisation).order_by(Organisation.name)))
    return [ctx.user.organisation]


@view(Action.MANAGE_ORGANISATIONS)
def organisations(ctx: Ctx) -> Response:
    errors: dict[str, str] = {}
    status = 200
    if ctx.request.method == "POST":
        try:
            kind = OrganisationKind(ctx.field("kind"))
            org_type = OrganisationType(ctx.field("type"))
            branche = Branche(ctx.field("branche")) if ctx.field("branche") else None
        except ValueError:
            errors = {"type": "Choisissez un type et une branche dans les listes."}
        else:
            errors = _length_errors(ctx, ORGANISATION_LIMITS)
            if not errors:
                try:
                    create_organisation(
                        session=ctx.db,
                        actor=ctx.actor,
                        name=ctx.field("name"),
                        kind=kind,
                        type=org_type,
                        branche=branche,
                        city=ctx.field("city"),
                    )
                    ctx.db.commit()
                    return redirect("/admin/organisations")
                except PeopleError as error:
                    errors = {error.field: error.message}
        status = 400
    return render(
        ctx.request,
        "admin/organisations.html",
        {
            "organisations": _organisations_for(ctx),
            "errors": errors,
            "form": ctx.form,
            "kinds": list(OrganisationKind),
            "types": list(OrganisationType),
            "branches": list(Branche),
        },
        status_code=status,
    )


@view(Action.LIST_USERS)
def users(ctx: Ctx) -> Response:
    assert ctx.user is not None
    params = ctx.request.query_params
    is_admin = ctx.user.has_role(Role.ADMIN)
    query = clean_text(params.get("q", "")).strip()[: listing.MAX_SEARCH]
    roles = [r for r in Role if is_admin or r in REFERENT_GRANTABLE | {Role.REFERENT}]
    role = next((r for r in roles if r.value == params.get("role")), None)
    organisations: list[tuple[int, str]] = []
    organisation_id = None
    if is_admin:
        organisations = [
            (row.id, row.name)
            for row in ctx.db.execute(
                select(Organisation.id, Organisation.name).order_by(Organisation.name)
            )
        ]
        wanted = params.get("organisation", "")
        organisation_id = next((i for i, _ in organisations if str(i) == wanted), None)

    conditions = [manageable_users_clause(ctx.user)]
    search = listing.people_search_clause(query, ctx.db.get_bind().dialect.name)
    if search is not None:
        conditions.append(search)
    if role is not None:
        conditions.append(exists().where(UserRole.user_id == User.id, UserRole.role == role))
    if organisation_id is not None:
        conditions.append(User.organisation_id == organisation_id)

    total = ctx.db.scalar(select(func.count()).select_from(User).where(*conditions)) or 0
    pages = max(1, -(-total // listing.PAGE_SIZE))
    page = listing.page_number(params.get("page", "1"), pages)
    people = list(
        ctx.db.scalars(
            select(User)
            .where(*conditions)
            .options(joinedload(User.organisation))  # role_rows: selectin, one statement
            .order_by(User.last_name, User.first_name, User.id)
            .offset((page - 1) * listing.PAGE_SIZE)
            .limit(listing.PAGE_SIZE)
        )
    )

    filters = {
        "q": query,
        "organisation": str(organisation_id or ""),
        "role": role.value if role else "",
    }

    def page_url(number: int) -> str:
        kept = {k: v for k, v in filters.items() if v}
        if number > 1:
            kept["page"] = str(number)
        return f"{ctx.request.url.path}?{urlencode(kept)}" if kept else ctx.request.url.path

    return render(
        ctx.request,
        "admin/users.html",
        {
            "people": people,
            "role_labels": ROLE_LABELS,
            "roles": roles,
            "organisations": organisations,
            "q": query,
            "role": role,
            "organisation_id": organisation_id,
            "filtered": any(filters.values()),
            "total": total,
            "page": page,
            "pages": pages,
            "window": listing.page_window(page, pages),
            "page_url": page_url,
        },
    )


def _invite(ctx: Ctx, person: User) -> str:
    token = create_link(
        session=ctx.db,
        actor=ctx.actor,
        user=person,
        purpose=TokenPurpose.INVITATION,
        now=ctx.now,
        settings=ctx.settings,
    )
    return f"{ctx.settings.base_url}/invitation/{token}"


def _send_invitation(ctx: Ctx, person: User, link: str) -> None:
    send_mail(
        ctx.settings,
        to=person.email,
        subject="Votre accès à la plateforme des CQP",
        body=(
            f"Bonjour {person.first_name},\n\nUn compte a été ouvert pour vous sur la plateforme "
            "des CQP de la Sécurité sociale. Pour choisir votre mot de passe, ouvrez ce lien "
            f"(valable {ctx.settings.token_hours} heures, une seule fois) :\n{link}\n"
        ),
    )


def _roles_from_form(ctx: Ctx) -> tuple[set[Role], str | None]:
    assert ctx.user is not None
    allowed = grantable_roles(ctx.user)
    roles: set[Role] = set()
    for value in ctx.fields("roles"):
        try:
            role = Role(value)
        except ValueError:
            return set(), "Rôle inconnu."
        if role not in allowed:
            return set(), f"Vous ne pouvez pas attribuer le rôle « {ROLE_LABELS[role]} »."
        roles.add(role)
    return roles, None


@view(Action.MANAGE_USERS)
def user_new(ctx: Ctx) -> Response:
    assert ctx.user is not None
    organisations = _organisations_for(ctx)
    context = {
        "organisations": organisations,
        "roles": sorted(grantable_roles(ctx.user)),
        "role_labels": ROLE_LABELS,
        "civilities": list(Civility),
        "errors": {},
        "form": ctx.form,
    }
    if ctx.request.method == "GET":
        return render(ctx.request, "admin/user_new.html", context)
    errors: dict[str, str] = {}
    roles, role_error = _roles_from_form(ctx)
    org = next((o for o in organisations if str(o.id) == ctx.field("organisation")), None)
    training = None
    if role_error:
        errors["roles"] = role_error
    if org is None:
        errors["organisation"] = "Choisissez l'organisation de la personne."
    if ctx.field("civility") not in {c.value for c in Civility}:
        errors["civility"] = "Choisissez une civilité."
    if ctx.field("jury_training_date"):
        try:
            training = date.fromisoformat(ctx.field("jury_training_date"))
        except ValueError:
            errors["jury_training_date"] = "Saisissez une date au format jj/mm/aaaa."
    errors.update(_length_errors(ctx, USER_LIMITS) | _email_error(ctx))
    if not errors and org is not None:
        try:
            person = create_user(
                session=ctx.db,
                actor=ctx.actor,
                email=ctx.field("email"),
                civility=Civility(ctx.field("civility")),
                first_name=ctx.field("first_name"),
                last_name=ctx.field("last_name"),
                organisation=org,
                roles=roles,
                job_title=ctx.field("job_title"),
                jury_training_date=training,
            )
        except PeopleError as error:
            errors[error.field] = error.message
        else:
            link = _invite(ctx, person)
            ctx.db.commit()
            _send_invitation(ctx, person, link)
            return render(ctx.request, "admin/invited.html", {"person": person, "link": link})
    context["errors"] = errors
    return render(ctx.request, "admin/user_new.html", context, status_code=400)


def _manageable(ctx: Ctx) -> User:
    assert ctx.user is not None
    person = ctx.db.get(User, ctx.path_int("user_id"))
    if person is None or not user_manageable(ctx.user, person):
        raise ctx.not_found()
    return person


def _user_page(
    ctx: Ctx,
    person: User,
    errors: dict[str, str] | None = None,
    link: str | None = None,
    status_code: int = 200,
    notice: str = "",
) -> Response:
    assert ctx.user is not None
    return render(
        ctx.request,
        "admin/user.html",
        {
            "person": person,
            "roles": sorted(grantable_roles(ctx.user) | person.roles),
            "grantable": grantable_roles(ctx.user),
            "role_labels": ROLE_LABELS,
            "errors": errors or {},
            "link": link,
            "notice": notice,
        },
        status_code=status_code,
    )


@view(Action.MANAGE_USERS)
def user_detail(ctx: Ctx) -> Response:
    return _user_page(ctx, _manageable(ctx))


@view(Action.MANAGE_USERS)
def user_roles(ctx: Ctx) -> Response:
    assert ctx.user is not None
    person = _manageable(ctx)
    if person.id == ctx.user.id:
        # nobody changes their own roles: a référent could otherwise name themself tutor, an
        # administrator remove the last administration role
        raise ctx.forbidden("self-roles")
    roles, role_error = _roles_from_form(ctx)
    # Roles the actor may not grant are kept as they are.
    roles |= person.roles - grantable_roles(ctx.user)
    try:
        if role_error:
            raise AuthError("roles", role_error)
        set_roles(session=ctx.db, actor=ctx.actor, user=person, roles=roles, now=ctx.now)
    except AuthError as error:
        return _user_page(ctx, person, {error.field: error.message}, status_code=400)
    ctx.db.commit()
    return redirect(f"/admin/utilisateurs/{person.id}")


@view(Action.MANAGE_USERS)
def user_active(ctx: Ctx) -> Response:
    assert ctx.user is not None
    person = _manageable(ctx)
    if person.id == ctx.user.id:
        raise ctx.forbidden("self-disable")
    set_active(
        session=ctx.db, actor=ctx.actor, user=person, active=ctx.field("active") == "1", now=ctx.now
    )
    ctx.db.commit()
    return redirect(f"/admin/utilisateurs/{person.id}")


@view(Action.MANAGE_USERS)
def user_invite(ctx: Ctx) -> Response:
    """Re-send an invitation to someone who never chose a password. For an account already in
    use, only its owner gets a reset link by mail: an administrator or a référent never sees a
    link that would let them sign in as someone else."""
    person = _manageable(ctx)
    if not person.is_active:
        return _user_page(ctx, person, {"invite": "Réactivez d'abord le compte."}, status_code=400)
    if person.password_hash:
        token = create_link(
            session=ctx.db,
            actor=ctx.actor,
            user=person,
            purpose=TokenPurpose.RESET,
            now=ctx.now,
            settings=ctx.settings,
        )
        ctx.db.commit()
        send_reset_mail(ctx.settings, person, token)
        return _user_page(
            ctx,
            person,
            notice=(
                f"Ce compte est déjà activé : un lien pour choisir un nouveau mot de passe a été "
                f"envoyé à {person.email}, et à personne d'autre."
            ),
        )
    link = _invite(ctx, person)
    ctx.db.commit()
    _send_invitation(ctx, person, link)
    return _user_page(ctx, person, link=link)


routes = [
    Route(
        "/admin/organisations", organisations, methods=["GET", "POST"], name="admin_organisations"
    ),
    Route("/admin/utilisateurs", users, methods=["GET"], name="admin_users"),
    Route("/admin/utilisateurs/nouveau", user_new, methods=["GET", "POST"], name="admin_user_new"),
    Route("/admin/utilisateurs/{user_id:int}", user_detail, methods=["GET"], name="admin_user"),
    Route(
        "/admin/utilisateurs/{user_id:int}/roles",
        user_roles,
        methods=["POST"],
        name="admin_user_roles",
    ),
    Route(
        "/admin/utilisateurs/{user_id:int}/activation",
        user_active,
        methods=["POST"],
        name="admin_user_active",
    ),
    Route(
        "/admin/utilisateurs/{user_id:int}/invitation",
        user_invite,
        methods=["POST"],
        name="admin_user_invite",
    ),
]
