"""The carnet de suivi pages: the carnet, pré-positionnement, attest and sign, history,
milestones, the PDF, and the worklists."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from carnet.models import (
    ATTESTER_LABELS,
    MILESTONE_LABELS,
    SELF_LEVEL_LABELS,
    SITUATION_LABELS,
    VERDICT_LABELS,
    Attestation,
    AttestationVersion,
    MilestoneKind,
    SelfLevel,
    SituationKind,
    Verdict,
)
from carnet.queries import CarnetData, load_carnet
from carnet.service import (
    AttestationInput,
    CarnetConflict,
    CarnetValidation,
    NotAllowed,
    attester_role,
    can_record_milestone,
    save_draft,
    save_milestone,
    save_self_assessment,
    sign,
    version_hash,
)
from portal.permissions import Action, parcours_visible, visible_parcours
from portal.templating import render
from portal.web import Ctx, redirect, view
from vae.parcours.models import Parcours
from vae.referentiel.model import Competence
from vae.referentiel.models import CompetenceRecord

LABELS = {
    "self_levels": SELF_LEVEL_LABELS,
    "self_level_choices": [(level.value, SELF_LEVEL_LABELS[level]) for level in SelfLevel],
    "verdicts": VERDICT_LABELS,
    "situations": SITUATION_LABELS,
    "attesters": ATTESTER_LABELS,
    "milestones": MILESTONE_LABELS,
    "SelfLevel": SelfLevel,
    "Verdict": Verdict,
    "SituationKind": SituationKind,
    "MilestoneKind": MilestoneKind,
}


def _parcours(ctx: Ctx) -> Parcours:
    assert ctx.user is not None
    parcours = parcours_visible(ctx.db, ctx.user, ctx.path_int("parcours_id"))
    if parcours is None:
        raise ctx.not_found()
    return parcours


def _competence(ctx: Ctx, data: CarnetData) -> tuple[Competence, CompetenceRecord]:
    key = ctx.request.path_params.get("key", "")
    for cert_bloc, competence in data.certification.competences():
        if competence.key == key and cert_bloc.key not in data.parcours.held_bloc_keys:
            row = ctx.db.get(CompetenceRecord, data.competence_ids[key])
            assert row is not None
            return competence, row
    raise ctx.not_found()


def _conflict(
    ctx: Ctx,
    parcours: Parcours,
    competence: Competence | None,
    kind: str,
    current: object,
    mine: object,
) -> Response:
    """409: what is stored now beside what the person sent, nothing overwritten nor lost."""
    template = "carnet/_conflict.html" if ctx.htmx else "carnet/conflict.html"
    context = {
        "parcours": parcours,
        "competence": competence,
        "kind": kind,
        "current": current,
        "mine": mine,
        **LABELS,
    }
    return render(ctx.request, template, context, status_code=409)


def _carnet_context(ctx: Ctx, data: CarnetData, **extra: Any) -> dict[str, Any]:
    assert ctx.user is not None
    return {
        "data": data,
        "parcours": data.parcours,
        "checks": data.checks,
        "my_role": attester_role(ctx.user, data.parcours),
        "is_candidate": data.parcours.candidate_id == ctx.user.id,
        "can_milestone": can_record_milestone(ctx.user, data.parcours),
        "errors": {},
        **LABELS,
        **extra,
    }


@view(Action.VIEW_PARCOURS)
def carnet_page(ctx: Ctx) -> Response:
    data = load_carnet(ctx.db, _parcours(ctx), history=False)  # the page shows no history
    return render(ctx.request, "carnet/carnet.html", _carnet_context(ctx, data))


@view(Action.SELF_ASSESS)
def self_assess(ctx: Ctx) -> Response:
    assert ctx.user is not None
    parcours = _parcours(ctx)
    data = load_carnet(ctx.db, parcours)
    competence, row = _competence(ctx, data)
    try:
        save_self_assessment(
            session=ctx.db,
            actor=ctx.actor,
            user=ctx.user,
            parcours=parcours,
            competence=row,
            level=ctx.field("level"),
            comment=ctx.field("comment"),
            lock_version=ctx.int_field("lock_version"),
            now=ctx.now,
        )
    except NotAllowed:
        raise ctx.forbidden() from None
    except CarnetValidation as error:
        return _self_row(ctx, data, competence, error.errors, status_code=400)
    except CarnetConflict as conflict:
        ctx.db.rollback()
        current = conflict.current
        return _conflict(
            ctx,
            parcours,
            competence,
            "self",
            current,
            {"level": ctx.field("level"), "comment": ctx.field("comment")},
        )
    ctx.db.commit()
    if ctx.htmx:
        return _self_row(ctx, load_carnet(ctx.db, parcours), competence, {}, saved=True)
    return redirect(f"/parcours/{parcours.id}/carnet#c-{competence.key}")


def _self_row(
    ctx: Ctx,
    data: CarnetData,
    competence: Competence,
    errors: dict[str, str],
    status_code: int = 200,
    saved: bool = False,
) -> Response:
    context = _carnet_context(
        ctx,
        data,
        errors=errors,
        competence=competence,
        saved=saved,
        posted=ctx.form,
        self_errors_for=competence.key,
    )
    if ctx.htmx:
        return render(ctx.request, "carnet/_self_form.html", context, status_code=status_code)
    return render(ctx.request, "carnet/carnet.html", context, status_code=status_code)


@view(Action.ATTEST)
def attest(ctx: Ctx) -> Response:
    assert ctx.user is not None
    parcours = _parcours(ctx)
    role = attester_role(ctx.user, parcours)
    if role is None:
        raise ctx.not_found()  # attesting for a candidate one is not assigned to
    data = load_carnet(ctx.db, parcours)
    competence, row = _competence(ctx, data)
    latest = data.latest(competence.key, role.value)
    context = _carnet_context(ctx, data, competence=competence, latest=latest, role=role)
    template = "carnet/_attest_form.html" if ctx.htmx else "carnet/attest.html"
    if ctx.request.method == "GET":
        return render(ctx.request, template, context)
    submitted = AttestationInput(
        situation_date=ctx.field("situation_date"),
        situation_kind=ctx.field("situation_kind"),
        description=ctx.field("description"),
        observed=ctx.fields("observed"),
        verdict=ctx.field("verdict"),
        comment=ctx.field("comment"),
    )
    try:
        version = save_draft(
            session=ctx.db,
            actor=ctx.actor,
            user=ctx.user,
            parcours=parcours,
            competence_row=row,
            competence=competence,
            data=submitted,
            base_number=ctx.int_field("base_number"),
            lock_version=ctx.int_field("lock_version"),
            now=ctx.now,
        )
    except NotAllowed:
        raise ctx.not_found() from None
    except CarnetValidation as error:
        context.update(errors=error.errors, posted=ctx.form)
        return render(ctx.request, template, context, status_code=400)
    except CarnetConflict as conflict:
        ctx.db.rollback()
        return _conflict(ctx, parcours, competence, "attestation", conflict.current, submitted)
    ctx.db.commit()
    return redirect(f"/parcours/{parcours.id}/carnet/versions/{version.id}/signer")


def _own_version(ctx: Ctx, parcours: Parcours) -> tuple[AttestationVersion, str]:
    assert ctx.user is not None
    version = ctx.db.get(AttestationVersion, ctx.path_int("version_id"))
    role = attester_role(ctx.user, parcours)
    if (
        version is None
        or role is None
        or version.attestation.parcours_id != parcours.id
        or version.attestation.role != role.value
    ):
        raise ctx.not_found()
    competence = ctx.db.get(CompetenceRecord, version.attestation.competence_id)
    assert competence is not None
    return version, competence.key


@view(Action.ATTEST)
def sign_version(ctx: Ctx) -> Response:
    assert ctx.user is not None
    parcours = _parcours(ctx)
    version, key = _own_version(ctx, parcours)
    data = load_carnet(ctx.db, parcours)
    competence = next(c for _, c in data.certification.competences() if c.key == key)
    digest = version_hash(version, parcours.id, key)
    template = "carnet/_confirm.html" if ctx.htmx else "carnet/confirm.html"
    context = _carnet_context(ctx, data, competence=competence, version=version, digest=digest)
    if ctx.request.method == "GET":
        if version.signed:
            return redirect(f"/parcours/{parcours.id}/carnet/{key}")
        return render(ctx.request, template, context)
    try:
        sign(
            session=ctx.db,
            actor=ctx.actor,
            user=ctx.user,
            parcours=parcours,
            version=version,
            competence_key=key,
            confirmed_hash=ctx.field("content_hash"),
            now=ctx.now,
        )
    except NotAllowed:
        raise ctx.not_found() from None
    except CarnetConflict:
        ctx.db.rollback()
        return _conflict(
            ctx, parcours, competence, "signature", ctx.db.get(AttestationVersion, version.id), None
        )
    ctx.db.commit()
    return redirect(f"/parcours/{parcours.id}/carnet#c-{key}")


@view(Action.VIEW_PARCOURS)
def competence_history(ctx: Ctx) -> Response:
    parcours = _parcours(ctx)
    data = load_carnet(ctx.db, parcours)
    competence, _ = _competence(ctx, data)
    return render(
        ctx.request, "carnet/history.html", _carnet_context(ctx, data, competence=competence)
    )


@view(Action.RECORD_MILESTONE)
def milestone(ctx: Ctx) -> Response:
    assert ctx.user is not None
    parcours = _parcours(ctx)
    kind = ctx.request.path_params["kind"]
    try:
        save_milestone(
            session=ctx.db,
            actor=ctx.actor,
            user=ctx.user,
            parcours=parcours,
            kind=kind,
            day=ctx.field("day"),
            participant_ids=[int(v) for v in ctx.fields("participants") if v.isdigit()],
            other_participants=ctx.field("other_participants"),
            notes=ctx.field("notes"),
            lock_version=ctx.int_field("lock_version"),
            now=ctx.now,
        )
    except NotAllowed:
        raise ctx.forbidden() from None
    except CarnetValidation as error:
        data = load_carnet(ctx.db, parcours)
        context = _carnet_context(
            ctx,
            data,
            errors={f"{kind}-{k}": v for k, v in error.errors.items()},
            posted=ctx.form,
            posted_kind=kind,
        )
        return render(ctx.request, "carnet/carnet.html", context, status_code=400)
    except CarnetConflict as conflict:
        ctx.db.rollback()
        return _conflict(
            ctx,
            parcours,
            None,
            "milestone",
            conflict.current,
            {"day": ctx.field("day"), "notes": ctx.field("notes")},
        )
    ctx.db.commit()
    return redirect(f"/parcours/{parcours.id}/carnet#jalons")


@view(Action.VIEW_PARCOURS)
def carnet_pdf(ctx: Ctx) -> Response:
    from portal.pdf.carnet import carnet_pdf as render_pdf

    parcours = _parcours(ctx)
    data = load_carnet(ctx.db, parcours)
    pdf = render_pdf(data, generated_at=ctx.now, signature_checks=data.checks)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="carnet-{parcours.id}.pdf"'},
    )


@view(Action.LIST_CARNETS)
def worklist(ctx: Ctx) -> Response:
    assert ctx.user is not None
    parcours_list = visible_parcours(ctx.db, ctx.user, limit=500)
    ids = [p.id for p in parcours_list]
    signed_by_me: dict[int, int] = {}
    if ids:
        rows = ctx.db.execute(
            select(Attestation.parcours_id, Attestation.id)
            .join(AttestationVersion, AttestationVersion.attestation_id == Attestation.id)
            .where(Attestation.parcours_id.in_(ids), AttestationVersion.signer_id == ctx.user.id)
            .distinct()
        ).all()
        for parcours_id, _ in rows:
            signed_by_me[parcours_id] = signed_by_me.get(parcours_id, 0) + 1
    lines = []
    for p in parcours_list:
        role = attester_role(ctx.user, p)
        total = _competence_count(ctx, p)
        lines.append(
            {
                "parcours": p,
                "role": role,
                "total": total,
                "pending": total - signed_by_me.get(p.id, 0) if role else None,
            }
        )
    return render(ctx.request, "carnet/worklist.html", {"lines": lines, **LABELS})


def _competence_count(ctx: Ctx, parcours: Parcours) -> int:
    from vae.referentiel.service import get_referentiel

    referentiel = get_referentiel(ctx.db, parcours.certification.version_id)
    assert referentiel is not None
    cert = referentiel.certification(parcours.certification.code)
    held = parcours.held_bloc_keys
    return sum(len(cb.bloc.competences) for cb in cert.blocs if cb.key not in held)


routes = [
    Route("/carnets", worklist, methods=["GET"], name="carnets"),
    Route("/parcours/{parcours_id:int}/carnet", carnet_page, methods=["GET"], name="carnet"),
    Route("/parcours/{parcours_id:int}/carnet.pdf", carnet_pdf, methods=["GET"], name="carnet_pdf"),
    Route(
        "/parcours/{parcours_id:int}/carnet/positionnement/{key}",
        self_assess,
        methods=["POST"],
        name="carnet_self",
    ),
    Route(
        "/parcours/{parcours_id:int}/carnet/jalons/{kind}",
        milestone,
        methods=["POST"],
        name="carnet_milestone",
    ),
    Route(
        "/parcours/{parcours_id:int}/carnet/versions/{version_id:int}/signer",
        sign_version,
        methods=["GET", "POST"],
        name="carnet_sign",
    ),
    Route(
        "/parcours/{parcours_id:int}/carnet/{key}/attester",
        attest,
        methods=["GET", "POST"],
        name="carnet_attest",
    ),
    Route(
        "/parcours/{parcours_id:int}/carnet/{key}",
        competence_history,
        methods=["GET"],
        name="carnet_competence",
    ),
]
