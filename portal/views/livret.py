"""The livret 2 pages: overview, career data, situation editor, coverage, submission."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload
from starlette.responses import Response
from starlette.routing import Route

from carnet.queries import load_progress
from portal.permissions import Action, parcours_visible
from portal.templating import render
from portal.web import Ctx, redirect, view
from vae.livret import annexes, service
from vae.livret.models import Livret, Situation
from vae.livret.rules import PAGE_CHARS, RUBRICS, TARGET_PAGES, coverage
from vae.parcours.models import Parcours
from vae.parcours.models import Route as ParcoursRoute
from vae.people.models import Role
from vae.referentiel.model import Certification
from vae.referentiel.service import get_referentiel

MAX_ROWS = 40  # career and training lines read from one form

RUBRIC_LABELS = {
    "context": (
        "Contexte",
        "Le public, le canal (accueil, téléphone, courrier…), la situation de "
        "l'usager, ce qui rendait la situation significative.",
    ),
    "actions": (
        "Ce que j'ai fait",
        "Le cœur du récit : vos actions, dans l'ordre, avec vos raisons. Écrivez « je ».",
    ),
    "means": (
        "Moyens et outils",
        "Outils du système d'information, bases documentaires, procédures, législation appliquée.",
    ),
    "collaborators": ("Avec qui", "Collègues, manager, services internes, partenaires."),
    "result": ("Résultat", "Ce qui s'est passé ensuite pour l'usager et pour le dossier."),
    "learnings": ("Ce que j'en retiens", "Ce que vous avez appris ou feriez autrement."),
}


def _certification(ctx: Ctx, parcours: Parcours) -> Certification:
    referentiel = get_referentiel(ctx.db, parcours.certification.version_id)
    assert referentiel is not None
    return referentiel.certification(parcours.certification.code)


def _visible_parcours(ctx: Ctx, parcours_id: int) -> Parcours:
    assert ctx.user is not None
    parcours = parcours_visible(ctx.db, ctx.user, parcours_id)
    if parcours is None or parcours.route != ParcoursRoute.VAE.value:
        raise ctx.not_found()
    return parcours


def _livret(ctx: Ctx, parcours: Parcours) -> Livret | None:
    return ctx.db.scalar(select(Livret).where(Livret.parcours_id == parcours.id))


def _existing_livret(ctx: Ctx) -> tuple[Parcours, Livret]:
    """The visible parcours of the path and its livret (404 when there is none)."""
    parcours = _visible_parcours(ctx, ctx.path_int("parcours_id"))
    livret = _livret(ctx, parcours)
    if livret is None:
        raise ctx.not_found()
    return parcours, livret


def _situation(ctx: Ctx, *, for_editor: bool = False) -> tuple[Situation, Parcours]:
    """The situation of the path and its visible parcours. ``for_editor``: with what the
    editor shows (its livret's situations for the coverage, their annexes for the list and the
    livret's total), in one query each rather than one per situation."""
    situation = ctx.db.get(
        Situation,
        ctx.path_int("situation_id"),
        options=[
            joinedload(Situation.livret)
            .selectinload(Livret.situations)
            .selectinload(Situation.annexes)
        ]
        if for_editor
        else [],
    )
    if situation is None:
        raise ctx.not_found()
    return situation, _visible_parcours(ctx, situation.livret.parcours_id)


def _is_candidate(ctx: Ctx, parcours: Parcours) -> bool:
    return ctx.user is not None and ctx.user.id == parcours.candidate_id


def _carnet_summaries(
    ctx: Ctx, parcours: Parcours, certification: Certification
) -> dict[str, str]:
    return {
        status.key: status.summary
        for progress in load_progress(ctx.db, parcours, certification).values()
        for status in progress.competences
        if status.attested_by
    }


def _coverage(
    ctx: Ctx, parcours: Parcours, livret: Livret, certification: Certification
) -> list[Any]:
    return coverage(
        certification,
        [service.facts(s) for s in livret.situations],
        held_blocs=parcours.held_bloc_keys,
        carnet=_carnet_summaries(ctx, parcours, certification),
    )


def _overview_context(
    ctx: Ctx, parcours: Parcours, livret: Livret | None, **extra: Any
) -> dict[str, Any]:
    certification = _certification(ctx, parcours)
    return {
        "parcours": parcours,
        "livret": livret,
        "certification": certification,
        "is_candidate": _is_candidate(ctx, parcours),
        "is_admin": ctx.user is not None and ctx.user.has_role(Role.ADMIN),
        "sworn_statement": service.SWORN_STATEMENT,
        "problems": service.problems(livret, certification) if livret else [],
        "coverage": _coverage(ctx, parcours, livret, certification) if livret else [],
        "errors": {},
        **extra,
    }


@view(Action.VIEW_PARCOURS)
def overview(ctx: Ctx) -> Response:
    parcours = _visible_parcours(ctx, ctx.path_int("parcours_id"))
    livret = _livret(ctx, parcours)
    if ctx.request.method == "POST":  # the candidate opens a livret created before this feature
        if not _is_candidate(ctx, parcours):
            raise ctx.forbidden()
        service.get_or_open(ctx.db, parcours)
        ctx.db.commit()
        return redirect(f"/parcours/{parcours.id}/livret")
    return render(ctx.request, "livret/overview.html", _overview_context(ctx, parcours, livret))


@view(Action.EDIT_LIVRET)
def add_situation(ctx: Ctx) -> Response:
    assert ctx.user is not None
    parcours, livret = _existing_livret(ctx)
    try:
        situation = service.add_situation(
            session=ctx.db,
            actor=ctx.actor,
            user=ctx.user,
            livret=livret,
            certification=_certification(ctx, parcours),
            bloc_key=ctx.field("bloc"),
            now=ctx.now,
        )
    except service.NotAllowed:
        raise ctx.not_found() from None
    except service.Frozen:
        return _frozen(ctx, parcours)
    except service.LivretValidation as error:
        return render(
            ctx.request,
            "livret/overview.html",
            _overview_context(ctx, parcours, livret, errors=error.errors),
            status_code=400,
        )
    ctx.db.commit()
    return redirect(f"/livret/situations/{situation.id}")


def _frozen(ctx: Ctx, parcours: Parcours) -> Response:
    ctx.db.rollback()
    if ctx.htmx:
        return render(ctx.request, "livret/_frozen.html", {"parcours": parcours}, status_code=409)
    livret = _livret(ctx, parcours)
    return render(
        ctx.request,
        "livret/overview.html",
        _overview_context(
            ctx,
            parcours,
            livret,
            errors={
                "frozen": "Votre livret est soumis : il ne peut plus être modifié, sauf "
                "s'il vous est retourné pour correction."
            },
        ),
        status_code=409,
    )


def _input(ctx: Ctx) -> service.SituationInput:
    return service.SituationInput(
        **{name: ctx.field(name) for name in service.SITUATION_FIELDS},
        competence_keys=ctx.fields("competence_keys"),
        criterion_keys=ctx.fields("criterion_keys"),
    )


def _editor_context(
    ctx: Ctx, situation: Situation, parcours: Parcours, **extra: Any
) -> dict[str, Any]:
    certification = _certification(ctx, parcours)
    livret = situation.livret
    return {
        "situation": situation,
        "livret": livret,
        "parcours": parcours,
        "certification": certification,
        "cert_bloc": certification.bloc(situation.bloc_key),
        "editable": _is_candidate(ctx, parcours) and livret.editable,
        "rubrics": [(name, *RUBRIC_LABELS[name]) for name in RUBRICS],
        "page_chars": PAGE_CHARS,
        "target_pages": TARGET_PAGES,
        "length": sum(len(getattr(situation, name)) for name in RUBRICS),
        "coverage": [
            b
            for b in _coverage(ctx, parcours, livret, certification)
            if b.key == situation.bloc_key
        ],
        "errors": {},
        "saved": ctx.request.query_params.get("enregistre") == "1",
        **extra,
    }


@view(Action.VIEW_PARCOURS)
def situation_page(ctx: Ctx) -> Response:
    assert ctx.user is not None
    # a POST saves, then commits (everything reloads) or answers an error
    situation, parcours = _situation(ctx, for_editor=ctx.request.method == "GET")
    if ctx.request.method == "GET":
        return render(
            ctx.request, "livret/situation.html", _editor_context(ctx, situation, parcours)
        )
    return _save(ctx, situation, parcours, autosave=False)


@view(Action.EDIT_LIVRET)
def autosave(ctx: Ctx) -> Response:
    situation, parcours = _situation(ctx)
    return _save(ctx, situation, parcours, autosave=True)


def _save(ctx: Ctx, situation: Situation, parcours: Parcours, *, autosave: bool) -> Response:
    assert ctx.user is not None
    data = _input(ctx)
    try:
        service.save_situation(
            session=ctx.db,
            actor=ctx.actor,
            user=ctx.user,
            situation=situation,
            certification=_certification(ctx, parcours),
            data=data,
            lock_version=ctx.int_field("lock_version"),
            now=ctx.now,
            autosave=autosave,
        )
    except service.NotAllowed:
        raise ctx.forbidden() from None
    except service.Frozen:
        return _frozen(ctx, parcours)
    except service.LivretValidation as error:
        ctx.db.rollback()
        template = "livret/_save_status.html" if autosave else "livret/situation.html"
        context = _editor_context(ctx, situation, parcours, errors=error.errors, posted=ctx.form)
        return render(ctx.request, template, context, status_code=400)
    except service.LivretConflict as conflict:
        ctx.db.rollback()
        template = "livret/_conflict.html" if autosave else "livret/conflict.html"
        context = _editor_context(
            ctx, situation, parcours, mine=conflict.submitted, labels=_field_labels()
        )
        return render(ctx.request, template, context, status_code=409)
    ctx.db.commit()
    if autosave:
        return render(
            ctx.request,
            "livret/_save_status.html",
            _editor_context(ctx, situation, parcours, autosaved=True),
        )
    return redirect(f"/livret/situations/{situation.id}?enregistre=1")


def _field_labels() -> dict[str, str]:
    return {
        "title": "Titre",
        "period_from": "Début",
        "period_to": "Fin",
        "organisme_service": "Organisme et service",
        **{name: RUBRIC_LABELS[name][0] for name in RUBRICS},
    }


@view(Action.EDIT_LIVRET)
def delete_situation(ctx: Ctx) -> Response:
    """GET asks for confirmation (weeks of writing go with one click otherwise); POST deletes."""
    assert ctx.user is not None
    situation, parcours = _situation(ctx)
    if ctx.request.method == "GET":
        if situation.livret.parcours.candidate_id != ctx.user.id:
            raise ctx.forbidden()
        return render(ctx.request, "livret/delete.html",
                      {"situation": situation, "parcours": parcours})
    try:
        stored = service.delete_situation(
            session=ctx.db, actor=ctx.actor, user=ctx.user, situation=situation, now=ctx.now
        )
    except service.NotAllowed:
        raise ctx.forbidden() from None
    except service.Frozen:
        return _frozen(ctx, parcours)
    ctx.db.commit()
    annexes.discard_files(annexes.annex_folder(ctx.settings.data_dir), situation.livret, stored)
    return redirect(f"/parcours/{parcours.id}/livret")


@view(Action.VIEW_PARCOURS)
def profile(ctx: Ctx) -> Response:
    assert ctx.user is not None
    parcours, livret = _existing_livret(ctx)
    context = {
        "parcours": parcours,
        "livret": livret,
        "errors": {},
        "editable": _is_candidate(ctx, parcours) and livret.editable,
        "saved": ctx.request.query_params.get("enregistre") == "1",
    }
    if ctx.request.method == "GET":
        return render(ctx.request, "livret/profile.html", context)
    career = [
        {k: ctx.field(f"career-{i}-{k}") for k in ("job", "employer", "from", "to")}
        for i in range(min(ctx.int_field("career_rows", 0), MAX_ROWS))
    ]
    trainings = [
        {k: ctx.field(f"training-{i}-{k}") for k in ("title", "body", "date")}
        for i in range(min(ctx.int_field("training_rows", 0), MAX_ROWS))
    ]
    try:
        service.save_profile(
            session=ctx.db,
            actor=ctx.actor,
            user=ctx.user,
            livret=livret,
            current_job=ctx.field("current_job"),
            current_service=ctx.field("current_service"),
            career=career,
            trainings=trainings,
            lock_version=ctx.int_field("lock_version"),
            now=ctx.now,
        )
    except service.NotAllowed:
        raise ctx.forbidden() from None
    except service.Frozen:
        return _frozen(ctx, parcours)
    except service.LivretValidation as error:
        ctx.db.rollback()
        context.update(errors=error.errors, posted=ctx.form)
        return render(ctx.request, "livret/profile.html", context, status_code=400)
    except service.LivretConflict:
        ctx.db.rollback()
        context.update(
            errors={
                "conflict": "Ces informations ont été modifiées dans un autre "
                "onglet. Voici la version enregistrée ; votre saisie est "
                "reprise ci-dessous pour que rien ne soit perdu."
            },
            posted=ctx.form,
        )
        return render(ctx.request, "livret/profile.html", context, status_code=409)
    ctx.db.commit()
    return redirect(f"/parcours/{parcours.id}/livret/profil?enregistre=1")


@view(Action.VIEW_PARCOURS)
def coverage_page(ctx: Ctx) -> Response:
    parcours, livret = _existing_livret(ctx)
    template = "livret/_coverage.html" if ctx.htmx else "livret/coverage.html"
    coverage = _coverage(ctx, parcours, livret, _certification(ctx, parcours))
    return render(ctx.request, template, {"parcours": parcours, "coverage": coverage})


@view(Action.EDIT_LIVRET)
def submit(ctx: Ctx) -> Response:
    assert ctx.user is not None
    parcours, livret = _existing_livret(ctx)
    try:
        service.submit(
            session=ctx.db,
            actor=ctx.actor,
            user=ctx.user,
            livret=livret,
            certification=_certification(ctx, parcours),
            sworn=ctx.field("sworn") == "1",
            now=ctx.now,
        )
    except service.NotAllowed:
        raise ctx.forbidden() from None
    except service.Frozen:
        return _frozen(ctx, parcours)
    except service.LivretValidation as error:
        ctx.db.rollback()
        return render(
            ctx.request,
            "livret/overview.html",
            _overview_context(ctx, parcours, _livret(ctx, parcours), errors=error.errors),
            status_code=400,
        )
    ctx.db.commit()
    return redirect(f"/parcours/{parcours.id}/livret?soumis=1")


@view(Action.RETURN_LIVRET)
def return_livret(ctx: Ctx) -> Response:
    assert ctx.user is not None
    parcours, livret = _existing_livret(ctx)
    try:
        service.return_for_correction(
            session=ctx.db,
            actor=ctx.actor,
            user=ctx.user,
            livret=livret,
            reason=ctx.field("reason"),
            now=ctx.now,
        )
    except service.LivretValidation as error:
        ctx.db.rollback()
        return render(
            ctx.request,
            "livret/overview.html",
            _overview_context(ctx, parcours, _livret(ctx, parcours), errors=error.errors),
            status_code=400,
        )
    ctx.db.commit()
    return redirect(f"/parcours/{parcours.id}/livret")


routes = [
    Route("/parcours/{parcours_id:int}/livret", overview, methods=["GET", "POST"], name="livret"),
    Route(
        "/parcours/{parcours_id:int}/livret/situations",
        add_situation,
        methods=["POST"],
        name="livret_add_situation",
    ),
    Route(
        "/parcours/{parcours_id:int}/livret/profil",
        profile,
        methods=["GET", "POST"],
        name="livret_profile",
    ),
    Route(
        "/parcours/{parcours_id:int}/livret/couverture",
        coverage_page,
        methods=["GET"],
        name="livret_coverage",
    ),
    Route(
        "/parcours/{parcours_id:int}/livret/soumettre",
        submit,
        methods=["POST"],
        name="livret_submit",
    ),
    Route(
        "/parcours/{parcours_id:int}/livret/retour",
        return_livret,
        methods=["POST"],
        name="livret_return",
    ),
    Route(
        "/livret/situations/{situation_id:int}",
        situation_page,
        methods=["GET", "POST"],
        name="livret_situation",
    ),
    Route(
        "/livret/situations/{situation_id:int}/autosave",
        autosave,
        methods=["POST"],
        name="livret_autosave",
    ),
    Route(
        "/livret/situations/{situation_id:int}/supprimer",
        delete_situation,
        methods=["GET", "POST"],
        name="livret_situation_delete",
    ),
]
