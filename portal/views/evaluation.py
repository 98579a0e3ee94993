"""The jury professionnel's evaluation grid and avis, their signature, and the candidate's page
with the signed avis and the recours.

Who sees a grid: the members of the convocation's session who may see the candidate's parcours
(never one of their own organisme) write it from the day of the interview, and those who sit for
the candidate sign it; administrators read it and may reopen a frozen avis; the national jury
reads it once signed, for the dossiers on its agenda. Anyone else gets a 404.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session, selectinload
from starlette.responses import Response
from starlette.routing import Route

from portal.notify_avis import notify_avis_signed
from portal.permissions import Action, parcours_visible
from portal.templating import render, templates
from portal.web import Ctx, clean_text, redirect, view
from vae.decision import evaluation as service
from vae.decision import reopen, rules
from vae.decision.models import Evaluation
from vae.decision.signing import BROKEN_MESSAGE, required_signer_ids, signature_state
from vae.jury.models import QUALITY_LABELS, Convocation, JuryMember, JurySession
from vae.people.models import Role, User
from vae.referentiel.service import get_referentiel

AVIS_VALUES = {"favorable": True, "defavorable": False}
log = logging.getLogger("vae_portal.evaluation")


# --- access ----------------------------------------------------------------------------------


def _access(ctx: Ctx, *, write: bool) -> tuple[Convocation, JuryMember | None]:
    """The convocation of the path and the user's seat on its session (None: read-only)."""
    assert ctx.user is not None
    convocation = ctx.db.get(Convocation, ctx.path_int("convocation_id"))
    if convocation is None:
        raise ctx.not_found()
    seat = service.membership(ctx.db, ctx.user, convocation)
    visible = parcours_visible(ctx.db, ctx.user, convocation.parcours_id) is not None
    if seat is not None and visible:
        return convocation, seat
    if write:
        raise ctx.not_found()
    if ctx.user.has_role(Role.ADMIN):
        return convocation, None
    if ctx.user.has_role(Role.JURY_NATIONAL) and visible:
        evaluation = service.find(ctx.db, convocation.id)
        if evaluation is not None and evaluation.signed:
            return convocation, None
    raise ctx.not_found()


# --- the grid page ---------------------------------------------------------------------------


def _values(evaluation: Evaluation | None) -> service.GridInput:
    if evaluation is None:
        return service.GridInput()
    return service.GridInput(
        marks=dict(evaluation.marks),
        comments=dict(evaluation.comments),
        avis={
            a.bloc_key: service.AvisInput(a.favourable, a.justification, a.recommendations)
            for a in evaluation.avis
        },
    )


def _context(
    ctx: Ctx,
    convocation: Convocation,
    seat: JuryMember | None,
    *,
    values: service.GridInput | None = None,
    **extra: Any,
) -> dict[str, Any]:
    assert ctx.user is not None
    evaluation = service.find(ctx.db, convocation.id)
    certification = service.certification_of(ctx.db, convocation)
    referentiel = get_referentiel(ctx.db, convocation.parcours.certification.version_id)
    held = service.held_blocs(ctx.db, convocation.parcours, evaluation)
    result = service.results(evaluation, certification, held)
    jury_session = ctx.db.scalar(
        select(JurySession)
        .where(JurySession.id == convocation.session_id)
        .options(  # who must sign: each member's organisation and branche, in one go
            selectinload(JurySession.members)
            .selectinload(JuryMember.user)
            .selectinload(User.organisation)
        )
    )
    assert jury_session is not None and referentiel is not None
    user_id = ctx.user.id
    signed_by_me = evaluation is not None and any(
        s.user_id == user_id for s in evaluation.signatures
    )
    required = required_signer_ids(jury_session, convocation.parcours)
    early = service.too_early(convocation, ctx.now)
    state = signature_state(evaluation) if evaluation is not None else "draft"
    is_admin = ctx.user.has_role(Role.ADMIN)
    context: dict[str, Any] = {
        "convocation": convocation,
        "parcours": convocation.parcours,
        "jury_session": jury_session,
        "evaluation": evaluation,
        "certification": certification,
        "referentiel": referentiel,
        "held": held,
        "results": {b.key: b for b in result.blocs},
        "values": values or _values(evaluation),
        "lock_version": evaluation.lock_version if evaluation else 0,
        "member": seat is not None,
        "editable": seat is not None and not (evaluation and evaluation.frozen) and not early,
        "can_sign": seat is not None and user_id in required and not signed_by_me and not early,
        "not_a_signer": seat is not None and user_id not in required,
        "not_a_signer_message": service.NOT_A_SIGNER,
        "too_early": early or "",
        "state": state,
        "broken_message": BROKEN_MESSAGE,
        "required_count": len(required),
        "signed_count": service.signed_count(evaluation, required) if evaluation else 0,
        "can_reopen": is_admin and evaluation is not None and evaluation.frozen,
        "reopen_problem": reopen.reopen_problem(ctx.db, evaluation)
        if is_admin and evaluation is not None and evaluation.frozen
        else None,
        "reopen_errors": {},
        "reason": "",
        "show_recours_text": True,  # members, administrators and the national jury
        "frozen_message": service.frozen_message(evaluation)
        if evaluation and evaluation.frozen
        else "",
        "qualities": QUALITY_LABELS,
        "errors": {},
        "problems": {},
        "unmarked": set(),
        "message": "",
    }
    context.update(extra)
    return context


def _with_problems(ctx: Ctx, convocation: Convocation, seat: JuryMember | None) -> dict[str, Any]:
    context = _context(ctx, convocation, seat)
    evaluation, certification = context["evaluation"], context["certification"]
    held = context["held"]
    context["problems"] = service.signature_problems(evaluation, certification, held)
    marks = service.marks_of(evaluation)
    context["unmarked"] = {
        key for keys in rules.unmarked_criteria(certification, marks, held).values() for key in keys
    }
    return context


@view(Action.VIEW_EVALUATION)
def grid_page(ctx: Ctx) -> Response:
    convocation, seat = _access(ctx, write=False)
    return render(ctx.request, "evaluation/grid.html", _context(ctx, convocation, seat))


def _grid_input(ctx: Ctx) -> service.GridInput:
    marks: dict[str, bool] = {}
    comments: dict[str, str] = {}
    avis: dict[str, dict[str, Any]] = {}
    assert ctx.form is not None
    for name, raw in ctx.form.multi_items():
        if not isinstance(raw, str) or "-" not in name:
            continue
        prefix, key = name.split("-", 1)
        value = clean_text(raw)
        if prefix == "c":
            if value not in ("1", "0"):
                raise service.GridRejected(f"Marque inconnue pour le critère {key}.")
            marks[key] = value == "1"
        elif prefix == "comment":
            comments[key] = value
        elif prefix == "avis":
            if value not in AVIS_VALUES:
                raise service.GridRejected(f"Avis inconnu pour le bloc {key}.")
            avis.setdefault(key, {})["favourable"] = AVIS_VALUES[value]
        elif prefix in ("justification", "recommendations"):
            avis.setdefault(key, {})[prefix] = value
    return service.GridInput(
        marks, comments, {k: service.AvisInput(**fields) for k, fields in avis.items()}
    )


def _refused(
    ctx: Ctx, convocation: Convocation, seat: JuryMember | None, status: int, **extra: Any
) -> Response:
    ctx.db.rollback()
    context = _context(ctx, convocation, seat, **extra)
    template = "evaluation/_saved.html" if ctx.htmx else "evaluation/grid.html"
    return render(ctx.request, template, context, status_code=status)


@view(Action.EVALUATE)
def grid_save(ctx: Ctx) -> Response:
    assert ctx.user is not None
    convocation, seat = _access(ctx, write=True)
    grid: service.GridInput | None = None
    try:
        grid = _grid_input(ctx)
        service.save_grid(
            session=ctx.db,
            actor=ctx.actor,
            user=ctx.user,
            convocation=convocation,
            grid=grid,
            lock_version=ctx.int_field("lock_version"),
            now=ctx.now,
        )
    except service.NotAllowed:
        raise ctx.not_found() from None
    except service.GridRejected as error:
        return _refused(ctx, convocation, seat, 400, message=str(error), values=grid)
    except service.GridInvalid as error:
        return _refused(ctx, convocation, seat, 400, errors=error.errors, values=grid)
    except service.Frozen as error:
        return _refused(ctx, convocation, seat, 409, message=str(error))
    except service.TooEarly as error:
        return _refused(ctx, convocation, seat, 400, message=str(error))
    except service.GridConflict as conflict:
        ctx.db.rollback()
        assert grid is not None
        return _conflict(ctx, convocation, conflict.current, grid)
    ctx.db.commit()
    if ctx.field("action") == "prepare":
        context = _with_problems(ctx, convocation, seat)
        if context["problems"]:
            return render(ctx.request, "evaluation/grid.html", context, status_code=400)
        return redirect(f"/jury/evaluations/{convocation.id}/signature")
    if ctx.htmx:
        return render(
            ctx.request, "evaluation/_saved.html", _context(ctx, convocation, seat, saved=True)
        )
    return redirect(f"/jury/evaluations/{convocation.id}")


def _conflict(
    ctx: Ctx, convocation: Convocation, current: Evaluation | None, mine: service.GridInput
) -> Response:
    """409: the stored grid beside what was sent, criterion by criterion where they differ."""
    certification = service.certification_of(ctx.db, convocation)
    stored = _values(current)
    labels = {None: "non renseigné", True: "validé", False: "non validé"}
    rows = []
    for _, competence in certification.competences():
        for criterion in competence.criteria:
            before, after = stored.marks.get(criterion.key), mine.marks.get(criterion.key)
            if before != after:
                rows.append((criterion.key, criterion.label, labels[before], labels[after]))
        before_text = stored.comments.get(competence.key, "")
        after_text = mine.comments.get(competence.key, "")
        if before_text != after_text:
            rows.append((competence.number, "Commentaire", before_text, after_text))
    for bloc_key in certification.bloc_keys:
        before_avis = stored.avis.get(bloc_key, service.AvisInput())
        after_avis = mine.avis.get(bloc_key, service.AvisInput())
        if before_avis != after_avis:
            rows.append((bloc_key, "Avis du jury", _avis_text(before_avis), _avis_text(after_avis)))
    context = {"convocation": convocation, "parcours": convocation.parcours, "rows": rows}
    template = "evaluation/_conflict.html" if ctx.htmx else "evaluation/conflict.html"
    return render(ctx.request, template, context, status_code=409)


def _avis_text(avis: service.AvisInput) -> str:
    verdict = {None: "non renseigné", True: "favorable", False: "défavorable"}[avis.favourable]
    parts = [verdict, avis.justification, avis.recommendations]
    return "\n".join(part for part in parts if part)


# --- the signature ---------------------------------------------------------------------------


@view(Action.EVALUATE)
def sign_page(ctx: Ctx) -> Response:
    convocation, seat = _access(ctx, write=True)
    context = _with_problems(ctx, convocation, seat)
    evaluation: Evaluation | None = context["evaluation"]
    if evaluation is None or (not evaluation.frozen and context["problems"]):
        return render(ctx.request, "evaluation/grid.html", context)
    if not context["can_sign"]:
        return redirect(f"/jury/evaluations/{convocation.id}")
    context["digest"] = service.content_digest(ctx.db, evaluation)
    return render(ctx.request, "evaluation/confirm.html", context)


@view(Action.EVALUATE)
def sign_post(ctx: Ctx) -> Response:
    assert ctx.user is not None
    convocation, seat = _access(ctx, write=True)
    evaluation = service.find(ctx.db, convocation.id)
    if evaluation is None:
        return render(
            ctx.request,
            "evaluation/grid.html",
            _with_problems(ctx, convocation, seat),
            status_code=400,
        )
    try:
        service.sign(
            session=ctx.db,
            actor=ctx.actor,
            user=ctx.user,
            evaluation=evaluation,
            confirmed_hash=ctx.field("content_hash"),
            now=ctx.now,
        )
    except service.NotAllowed:
        raise ctx.not_found() from None
    except service.TooEarly as error:
        ctx.db.rollback()
        context = _context(ctx, convocation, seat, message=str(error))
        return render(ctx.request, "evaluation/grid.html", context, status_code=400)
    except service.SignatureRefused as refusal:
        ctx.db.rollback()
        context = _with_problems(ctx, convocation, seat)
        context["message"] = refusal.message
        status = (
            403 if isinstance(refusal, service.NotASigner) else 400 if refusal.problems else 409
        )
        return render(ctx.request, "evaluation/grid.html", context, status_code=status)
    except service.GridConflict:
        ctx.db.rollback()
        context = _context(
            ctx,
            convocation,
            seat,
            message="Le contenu a changé depuis votre relecture : relisez-le avant de signer.",
        )
        return render(ctx.request, "evaluation/grid.html", context, status_code=409)
    final = evaluation.signed_at is not None and evaluation.signed_at == ctx.now
    ctx.db.commit()
    if final:  # this signature made the avis final: the candidate is told (never undone)
        try:
            notify_avis_signed(ctx.settings, evaluation)
        except Exception:  # noqa: BLE001 - the signature is committed whatever happens
            log.exception("avis notification failed for evaluation %s", evaluation.id)
    return redirect(f"/jury/evaluations/{convocation.id}#signatures")


# --- reopening a frozen avis (administrator) -------------------------------------------------


@view(Action.MANAGE_JURY)
def reopen_post(ctx: Ctx) -> Response:
    assert ctx.user is not None
    convocation, seat = _access(ctx, write=False)
    evaluation = service.find(ctx.db, convocation.id)
    reason = ctx.field("reason")
    try:
        reopen.reopen(
            session=ctx.db,
            actor=ctx.actor,
            user=ctx.user,
            evaluation=evaluation,
            reason=reason,
            now=ctx.now,
        )
    except service.NotAllowed:
        raise ctx.not_found() from None
    except service.GridInvalid as error:
        ctx.db.rollback()
        context = _context(ctx, convocation, seat, reopen_errors=error.errors, reason=reason)
        return render(ctx.request, "evaluation/grid.html", context, status_code=400)
    except reopen.ReopenRefused as refusal:
        ctx.db.rollback()
        context = _context(ctx, convocation, seat, message=str(refusal), reason=reason)
        return render(ctx.request, "evaluation/grid.html", context, status_code=409)
    ctx.db.commit()
    return redirect(f"/jury/evaluations/{convocation.id}#signatures")


# --- the session page's states (a template global: one query per session page) --------------


def _evaluation_states(jury_session: JurySession) -> dict[int, str]:
    session = object_session(jury_session)
    return service.session_states(session, jury_session) if session is not None else {}


templates.env.globals["evaluation_states"] = _evaluation_states


routes = [
    Route("/jury/evaluations/{convocation_id:int}", grid_page, methods=["GET"], name="evaluation"),
    Route("/jury/evaluations/{convocation_id:int}", grid_save, methods=["POST"], name="evaluation"),
    Route(
        "/jury/evaluations/{convocation_id:int}/signature",
        sign_page,
        methods=["GET"],
        name="evaluation_sign",
    ),
    Route(
        "/jury/evaluations/{convocation_id:int}/signature",
        sign_post,
        methods=["POST"],
        name="evaluation_sign",
    ),
    Route(
        "/jury/evaluations/{convocation_id:int}/rouvrir",
        reopen_post,
        methods=["POST"],
        name="evaluation_reopen",
    ),
]
