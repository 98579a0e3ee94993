"""Issued certificates: the holder's downloads (sealed PDF, Open Badge), the public
verification (by code, by uploaded PDF), and revocation by an administrator.

The public pages show only what the certificate states: valid or revoked (and when), the
holder as "L. Martin", the certification, the bloc, the date. An unknown and a malformed code
get the same 404 page, which says nothing else.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

from pypdf import PdfReader
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal.bodylimit import LimitedBody
from portal.certificates import (
    certificate_path,
    download_name,
    normalise_code,
    sha256,
    store_certificate_pdf,
)
from portal.openbadges import badge_credential
from portal.pdf.certificate import KIND_TITLES
from portal.permissions import Action
from portal.seal import SealCheck, verify_pdf
from portal.templating import render
from portal.views.certificates_admin import admin_certificate, admin_certificates
from portal.views.openbadges import (
    openbadges_achievement,
    openbadges_issuer,
    openbadges_revocations,
)
from portal.web import Ctx, redirect, view
from vae.audit.service import record
from vae.decision import certificates as service
from vae.decision.models import Certificate
from vae.people.models import Role

log = logging.getLogger(__name__)

MAX_UPLOAD = 5 * 1024 * 1024
MAX_REQUEST = MAX_UPLOAD + 64 * 1024  # multipart overhead
# A code's page keeps its code (in the address) out of any Referer. Not the upload page: a
# document under "no-referrer" posts its forms with "Origin: null", which the cross-site check
# (portal.security) refuses, so nobody could verify a PDF.
PUBLIC_HEADERS = {"X-Robots-Tag": "noindex"}
CODE_PAGE_HEADERS = {**PUBLIC_HEADERS, "Referrer-Policy": "no-referrer"}
CODE_IN_PDF = re.compile(r"\b([A-Z2-9]{4}(?:-[A-Z2-9]{4}){3})\b")


def public_holder(first_name: str, last_name: str) -> str:
    """ "L. Martin", "J.-P. Durand": the first name's initials and the surname."""
    initials = "-".join(f"{part[0].upper()}." for part in first_name.split("-") if part.strip())
    return f"{initials} {last_name}".strip()


def _public(response: Response, *, code_page: bool = False) -> Response:
    response.headers.update(CODE_PAGE_HEADERS if code_page else PUBLIC_HEADERS)
    return response


# --- holder's downloads --------------------------------------------------------------------


def _own_certificate(ctx: Ctx) -> Certificate:
    """The certificate of the path if it is the user's (any, for an administrator); else 404."""
    assert ctx.user is not None
    certificate = ctx.db.get(Certificate, ctx.path_int("certificate_id"))
    if certificate is None or (
        certificate.holder_id != ctx.user.id and not ctx.user.has_role(Role.ADMIN)
    ):
        raise ctx.not_found()
    return certificate


def _audit(ctx: Ctx, certificate: Certificate, action: str, outcome: str = "ok") -> None:
    record(
        session=ctx.db,
        actor=ctx.actor,
        action=action,
        object_type="certificate",
        object_id=certificate.id,
        subject_id=certificate.holder_id,
        outcome=outcome,
        details={"code": certificate.code, "sha256": certificate.pdf_sha256 or ""},
        now=ctx.now,
    )


@view(Action.VIEW_CERTIFICATE)
def certificate_pdf(ctx: Ctx) -> Response:
    certificate = _own_certificate(ctx)
    path = certificate_path(ctx.settings, certificate)
    try:
        data = path.read_bytes() if path is not None else None
    except OSError:
        data = None
    if data is None:
        # lost (or never produced): the certificate stands, its PDF is sealed again
        log.warning("certificate %s: PDF missing, sealed again", certificate.id)
        store_certificate_pdf(settings=ctx.settings, certificate=certificate)
        _audit(ctx, certificate, "certificate.pdf_regenerated")
        resealed = certificate_path(ctx.settings, certificate)
        assert resealed is not None
        data = resealed.read_bytes()
    elif sha256(data) != certificate.pdf_sha256:
        log.error("certificate %s: stored PDF does not match its SHA-256", certificate.id)
        _audit(ctx, certificate, "certificate.download", outcome="altered")
        ctx.db.commit()
        detail = (
            "Le fichier de ce certificat est altéré sur le serveur : il n'est pas servi. "
            "L'incident a été enregistré ; prévenez l'administrateur de la plateforme."
        )
        return render(
            ctx.request, "error.html", {"status_code": 500, "detail": detail}, status_code=500
        )
    _audit(ctx, certificate, "certificate.download")
    ctx.db.commit()
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{download_name(certificate)}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@view(Action.VIEW_CERTIFICATE)
def certificate_badge(ctx: Ctx) -> Response:
    certificate = _own_certificate(ctx)
    if certificate.revoked:
        detail = "Ce certificat a été révoqué : son badge numérique n'est plus délivré."
        return render(
            ctx.request, "error.html", {"status_code": 410, "detail": detail}, status_code=410
        )
    credential = badge_credential(ctx.settings, certificate, now=ctx.now)
    _audit(ctx, certificate, "certificate.badge")
    ctx.db.commit()
    name = download_name(certificate).removesuffix(".pdf") + "-badge.json"
    return JSONResponse(
        credential,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


# --- public verification -------------------------------------------------------------------


def _facts(certificate: Certificate) -> dict[str, Any]:
    return {
        "certificate": certificate,
        "holder": public_holder(certificate.holder_first_name, certificate.holder_last_name),
    }


def _unknown(ctx: Ctx) -> Response:
    return _public(
        render(ctx.request, "certificates/unknown.html", {}, status_code=404), code_page=True
    )


@view(Action.PUBLIC)
def verify_code(ctx: Ctx) -> Response:
    code = normalise_code(str(ctx.request.path_params.get("code", "")))
    certificate = service.by_code(ctx.db, code) if code is not None else None
    if certificate is None:
        return _unknown(ctx)
    page = render(ctx.request, "certificates/verified.html", _facts(certificate))
    return _public(page, code_page=True)


def _verify_page(
    ctx: Ctx, *, errors: dict[str, str] | None = None, status_code: int = 200, **result: Any
) -> Response:
    context = {"errors": errors or {}, "max_mb": MAX_UPLOAD // (1024 * 1024), **result}
    return _public(render(ctx.request, "certificates/verify.html", context, status_code))


def _embedded_code(data: bytes) -> str | None:
    """The verification code a sealed certificate states in its metadata (keywords); None for
    any other document the platform seals (a procès-verbal names no single certificate)."""
    try:
        metadata = PdfReader(io.BytesIO(data)).metadata or {}
        subject = str(metadata.get("/Subject", ""))
        keywords = str(metadata.get("/Keywords", ""))
    except Exception:  # the seal was valid; unreadable metadata just means no code
        return None
    if subject not in KIND_TITLES.values():
        return None
    match = CODE_IN_PDF.search(keywords)
    return match.group(1) if match else None


def _check_upload(ctx: Ctx, data: bytes) -> Response:
    ctx.db.rollback()  # no transaction (no SQLite write lock) while the PDF is parsed
    check: SealCheck = verify_pdf(ctx.settings, data)
    certificate = service.by_sha256(ctx.db, sha256(data))
    earlier_edition = False
    if check.valid and certificate is None:
        code = _embedded_code(data)
        certificate = service.by_code(ctx.db, code) if code else None
        earlier_edition = certificate is not None
    if check.valid and certificate is not None:
        outcome = "authentic"
    elif check.valid or not check.sealed:
        outcome, certificate = "unknown", None
    else:
        outcome, certificate = "invalid", None
    result: dict[str, Any] = {"outcome": outcome, "check": check, "earlier": earlier_edition}
    if certificate is not None:
        result |= _facts(certificate)
    return _verify_page(ctx, **result)


@view(Action.PUBLIC)
def verify(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        typed = ctx.request.query_params.get("code", "")
        if typed.strip():
            # a code's page has its canonical address; a malformed code gets the same 404 page
            # as an unknown one (the format itself is no secret: it is printed on every PDF)
            code = normalise_code(typed)
            return redirect(f"/verifier/{code}") if code else _unknown(ctx)
        return _verify_page(ctx)
    sent = ctx.form.get("file") if ctx.form is not None else None
    if not isinstance(sent, UploadFile) or (not sent.filename and not sent.size):
        return _verify_page(
            ctx, errors={"file": "Choisissez le fichier PDF du certificat."}, status_code=400
        )
    sent.file.seek(0)
    data = sent.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        message = (
            f"Le fichier dépasse {MAX_UPLOAD // (1024 * 1024)} Mo : ce n'est pas un certificat."
        )
        return _verify_page(ctx, errors={"file": message}, status_code=400)
    if not data.startswith(b"%PDF-"):
        message = "Ce fichier n'est pas un PDF : choisissez le certificat au format PDF."
        return _verify_page(ctx, errors={"file": message}, status_code=400)
    return _check_upload(ctx, data)


def _too_large(request: Request) -> Response:
    detail = (
        f"Le fichier dépasse {MAX_UPLOAD // (1024 * 1024)} Mo : ce n'est pas un certificat "
        "de la plateforme. Revenez à la page de vérification pour choisir le bon fichier."
    )
    return render(request, "error.html", {"status_code": 413, "detail": detail}, 413)


routes = [
    Route(
        "/certificats/{certificate_id:int}.pdf",
        certificate_pdf,
        methods=["GET"],
        name="certificate_pdf",
    ),
    Route(
        "/certificats/{certificate_id:int}/badge.json",
        certificate_badge,
        methods=["GET"],
        name="certificate_badge",
    ),
    Route("/openbadges/issuer", openbadges_issuer, methods=["GET"], name="openbadges_issuer"),
    Route(
        "/openbadges/achievements/{code}",
        openbadges_achievement,
        methods=["GET"],
        name="openbadges_achievement",
    ),
    Route(
        "/openbadges/revocations",
        openbadges_revocations,
        methods=["GET"],
        name="openbadges_revocations",
    ),
    Route(
        "/verifier",
        LimitedBody(verify, limit=MAX_REQUEST, too_large=_too_large),
        methods=["GET", "POST"],
        name="verify",
    ),
    # any path under /verifier/ is a code (slashes included): one answer for every unknown one
    Route("/verifier/{code:path}", verify_code, methods=["GET"], name="verify_code"),
    Route("/admin/certificats", admin_certificates, methods=["GET"], name="admin_certificates"),
    Route(
        "/admin/certificats/{certificate_id:int}",
        admin_certificate,
        methods=["GET", "POST"],
        name="admin_certificate",
    ),
]
