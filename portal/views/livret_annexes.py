"""Annexes of the livret 2: upload, download, delete.

Writes are the candidate's (``Action.EDIT_LIVRET``) on their own draft livret; someone else's
situation or annex answers 404, a submitted livret 409. Downloads go to whoever may see the
parcours, always as an attachment (never rendered inline), and are audited.

The upload body is capped before it is parsed (``MAX_REQUEST_BYTES``, 413): Starlette spools
file parts to disk without a limit of its own. Below that cap, a file over 10 Mo gets the same
French message, next to the field, as any other refused file.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import unicodedata
from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from portal.bodylimit import LimitedBody
from portal.permissions import Action, parcours_visible
from portal.templating import render
from portal.web import Ctx, redirect, view
from vae.audit.service import record
from vae.livret.annexes import (
    MAX_FILE_BYTES,
    AnnexRefused,
    add_annex,
    annex_folder,
    annex_path,
    check_pdf,
    check_size,
    delete_annex,
    precheck_annex,
)
from vae.livret.models import Annex, Situation
from vae.livret.service import Frozen, NotAllowed

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024 * 1024  # a whole upload request, multipart overhead included
SIZE_CODES = frozenset({"too_big", "livret_full"})
FROZEN_MESSAGE = "Ce livret est soumis : ses annexes ne peuvent plus changer."
NO_FILE_MESSAGE = "Choisissez le fichier PDF à joindre."


def _is_htmx(ctx: Ctx) -> bool:
    return ctx.request.headers.get("hx-request") == "true"


def _editor_url(situation_id: int) -> str:
    return f"/livret/situations/{situation_id}"


def _own_situation(ctx: Ctx) -> Situation:
    assert ctx.user is not None
    situation = ctx.db.get(Situation, ctx.path_int("situation_id"))
    if situation is None or situation.livret.parcours.candidate_id != ctx.user.id:
        raise ctx.not_found()
    return situation


def _own_annex(ctx: Ctx) -> Annex:
    assert ctx.user is not None
    annex = ctx.db.get(Annex, ctx.path_int("annex_id"))
    if annex is None or annex.situation.livret.parcours.candidate_id != ctx.user.id:
        raise ctx.not_found()
    return annex


def _annexes(
    ctx: Ctx,
    situation: Situation,
    *,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> Response:
    """The annex list and form: the fragment for htmx, a small page otherwise."""
    assert ctx.user is not None
    livret = situation.livret
    context: dict[str, Any] = {
        "situation": situation,
        "livret": livret,
        "parcours": livret.parcours,
        "editable": livret.editable and livret.parcours.candidate_id == ctx.user.id,
        "errors": errors or {},
        "annex_notice": notice,
    }
    template = "livret/_annexes.html" if _is_htmx(ctx) else "livret/annexes.html"
    return render(ctx.request, template, context, status_code=status_code)


def _refused(ctx: Ctx, situation: Situation, refusal: AnnexRefused, upload: UploadFile) -> Response:
    """Audit the refusal (nothing of the file is kept) and answer with the message."""
    assert ctx.user is not None
    ctx.db.rollback()
    record(
        session=ctx.db,
        actor=ctx.actor,
        action="livret.annex_refused",
        object_type="situation",
        object_id=situation.id,
        outcome="refused",
        subject_id=ctx.user.id,
        now=ctx.now,
        details={"reason": refusal.code, "size": upload.size or 0},
    )
    ctx.db.commit()
    status = 413 if refusal.code in SIZE_CODES and not _is_htmx(ctx) else 400
    return _annexes(ctx, situation, errors={"annex": refusal.message}, status_code=status)


def _sent_name(filename: str) -> str:
    """Undo the escapes browsers apply to a multipart file name (WHATWG: ``"``, CR, LF);
    ``clean_filename`` then drops control characters."""
    for escaped, char in (("%22", '"'), ("%0D", "\r"), ("%0A", "\n")):
        filename = filename.replace(escaped, char)
    return filename


@view(Action.EDIT_LIVRET)
def upload(ctx: Ctx) -> Response:
    assert ctx.user is not None
    situation = _own_situation(ctx)
    sent = ctx.form.get("file") if ctx.form is not None else None
    if not isinstance(sent, UploadFile) or (not sent.filename and not sent.size):
        return _annexes(ctx, situation, errors={"annex": NO_FILE_MESSAGE}, status_code=400)
    try:
        if sent.size is not None:
            check_size(sent.size)  # before reading a file that is too big
        sent.file.seek(0)
        data = sent.file.read(MAX_FILE_BYTES + 1)
        precheck_annex(session=ctx.db, user=ctx.user, situation=situation, data=data)
        ctx.db.rollback()  # no transaction (no SQLite write lock) during the full parse
        facts = check_pdf(data, _sent_name(sent.filename or ""))
        annex = add_annex(
            session=ctx.db,
            actor=ctx.actor,
            user=ctx.user,
            situation=situation,
            data=data,
            filename=facts.clean_name,
            folder=annex_folder(ctx.settings.data_dir),
            now=ctx.now,
            facts=facts,
        )
    except NotAllowed:
        raise ctx.not_found() from None
    except Frozen:
        ctx.db.rollback()
        return _annexes(ctx, situation, errors={"annex": FROZEN_MESSAGE}, status_code=409)
    except AnnexRefused as refusal:
        return _refused(ctx, situation, refusal, sent)
    if _is_htmx(ctx):
        notice = f"Annexe « {annex.original_name} » jointe ({annex.pages} p.)."
        return _annexes(ctx, situation, notice=notice)
    return redirect(f"{_editor_url(situation.id)}#annexes-{situation.id}")


@view(Action.EDIT_LIVRET)
def delete(ctx: Ctx) -> Response:
    assert ctx.user is not None
    annex = _own_annex(ctx)
    situation = annex.situation
    try:
        name = delete_annex(
            session=ctx.db,
            actor=ctx.actor,
            user=ctx.user,
            annex=annex,
            folder=annex_folder(ctx.settings.data_dir),
            now=ctx.now,
        )
    except NotAllowed:
        raise ctx.not_found() from None
    except Frozen:
        ctx.db.rollback()
        return _annexes(ctx, situation, errors={"annex": FROZEN_MESSAGE}, status_code=409)
    if _is_htmx(ctx):
        return _annexes(ctx, situation, notice=f"Annexe « {name} » retirée.")
    return redirect(f"{_editor_url(situation.id)}#annexes-{situation.id}")


@view(Action.VIEW_PARCOURS)
def download(ctx: Ctx) -> Response:
    assert ctx.user is not None
    annex = ctx.db.get(Annex, ctx.path_int("annex_id"))
    if annex is None:
        raise ctx.not_found()
    parcours = parcours_visible(ctx.db, ctx.user, annex.situation.livret.parcours_id)
    if parcours is None:
        raise ctx.not_found()
    annex_id, name, expected = annex.id, annex.original_name, annex.sha256
    details = {"situation": annex.situation_id, "sha256": expected}
    candidate_id = parcours.candidate_id
    try:
        data = annex_path(annex_folder(ctx.settings.data_dir), annex.stored_name).read_bytes()
    except (OSError, ValueError):
        data = None
    problem = ""
    if data is None:
        problem = "missing"
    elif hashlib.sha256(data).hexdigest() != expected:
        problem = "altered"
    ctx.db.rollback()  # a read transaction until here: write the audit entry in a fresh one
    record(
        session=ctx.db,
        actor=ctx.actor,
        action="livret.annex_download",
        object_type="annex",
        object_id=annex_id,
        outcome=problem or "ok",
        subject_id=candidate_id,
        now=ctx.now,
        details=details,
    )
    ctx.db.commit()
    if data is None or problem:
        log.error("annex %s is %s on disk", annex_id, problem)
        detail = (
            "Le fichier de cette annexe est introuvable ou altéré sur le serveur : il n'est pas "
            "servi. Prévenez l'administrateur de la plateforme."
        )
        return render(
            ctx.request, "error.html", {"status_code": 500, "detail": detail}, status_code=500
        )
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(name),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = re.sub(r"[^A-Za-z0-9 ._()+,-]", "_", fallback).strip(" .") or "annexe"
    if not fallback.lower().endswith(".pdf"):
        fallback += ".pdf"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _too_large(request: Request) -> Response:
    detail = (
        f"Le fichier dépasse {MAX_FILE_BYTES // (1024 * 1024)} Mo : il n'a pas été joint. "
        "Revenez à la situation pour joindre un fichier plus léger."
    )
    if request.headers.get("hx-request") == "true":
        # htmx swaps 400 (not 413): put the message on top of the annex list, in place
        situation_id = int(request.path_params.get("situation_id", 0))
        return HTMLResponse(
            f'<p class="alert error" role="alert">{html.escape(detail)}</p>',
            status_code=400,
            headers={"HX-Retarget": f"#annexes-{situation_id}", "HX-Reswap": "afterbegin"},
        )
    return render(request, "error.html", {"status_code": 413, "detail": detail}, 413)


routes = [
    Route(
        "/livret/situations/{situation_id:int}/annexes",
        LimitedBody(upload, limit=MAX_REQUEST_BYTES, too_large=_too_large),
        methods=["POST"],
        name="livret_annex_upload",
    ),
    Route("/livret/annexes/{annex_id:int}", download, methods=["GET"], name="livret_annex"),
    Route(
        "/livret/annexes/{annex_id:int}/supprimer",
        delete,
        methods=["POST"],
        name="livret_annex_delete",
    ),
]
