"""The administration of issued certificates: the list (search by holder or code) and a
certificate's page, where an administrator revokes it.

Revoking a CCP revokes the CQPs that rest on its bloc (``vae.decision.certificates``): the
page says so before (the form lists them) and after (with links both ways). A second
revocation (a double click, a stale form) changes nothing and says when and by whom the
certificate was revoked.
"""

from __future__ import annotations

from starlette.responses import Response

from portal.permissions import Action
from portal.templating import render
from portal.web import Ctx, redirect, view
from vae.decision import certificates as service
from vae.decision.models import Certificate
from vae.people.models import User


@view(Action.REVOKE_CERTIFICATE)
def admin_certificates(ctx: Ctx) -> Response:
    params = ctx.request.query_params
    query = params.get("q", "")[: service.MAX_QUERY]
    page = int(params["page"]) if params.get("page", "").isdigit() else 1
    page = min(max(page, 1), 100_000)
    rows, total = service.search(ctx.db, query, page=page)
    pages = max(1, -(-total // service.PAGE_SIZE))
    context = {"certificates": rows, "total": total, "q": query, "page": page, "pages": pages}
    return render(ctx.request, "certificates/admin_list.html", context)


@view(Action.REVOKE_CERTIFICATE)
def admin_certificate(ctx: Ctx) -> Response:
    certificate = ctx.db.get(Certificate, ctx.path_int("certificate_id"))
    if certificate is None:
        raise ctx.not_found()
    errors: dict[str, str] = {}
    reason = ""
    already = ""
    if ctx.request.method == "POST":
        reason = ctx.field("reason")
        try:
            service.revoke(
                session=ctx.db,
                actor=ctx.actor,
                certificate=certificate,
                reason=reason,
                now=ctx.now,
            )
        except service.AlreadyRevoked as error:
            # a double click or a stale form: the page as it is now, and why nothing happened
            ctx.db.rollback()
            already = error.message
        except service.CertificateError as error:
            ctx.db.rollback()
            errors[error.field] = error.message
        else:
            ctx.db.commit()
            return redirect(f"/admin/certificats/{certificate.id}?revoque=1")
    revoked_by = ctx.db.get(User, certificate.revoked_by_id) if certificate.revoked_by_id else None
    revoked = certificate.revoked
    context = {
        "certificate": certificate,
        "revoked_by": revoked_by,
        "already": already,
        "cascade_source": service.cascade_source(ctx.db, certificate),
        # a revoked CCP: the CQPs revoked with it; a valid one: those its revocation would revoke
        "cascaded": service.cascaded_from(ctx.db, certificate) if revoked else [],
        "cascade_targets": [] if revoked else service.cascade_targets(ctx.db, certificate),
        "errors": errors,
        "reason": reason,
        "min_reason": service.MIN_REASON,
        "just_revoked": ctx.request.query_params.get("revoque") == "1",
    }
    return render(
        ctx.request,
        "certificates/admin_detail.html",
        context,
        status_code=400 if errors else 200,
    )
