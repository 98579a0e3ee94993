"""Policy expectations for issued certificates, their verification and revocation.

own: a CCP of world.own's candidate; foreign: a CCP of the other candidate. Also holds
``issue_certificate``, which the certificate tests use to make rows (and sealed files).
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from portal.certificates import new_code, store_certificate_pdf
from portal.seal import ensure_generated_key, generated_key_path
from portal.settings import Settings
from tests.portal.world import World
from vae.decision.models import Certificate, CertificateKind
from vae.parcours.models import Parcours

ROLES = ("candidat", "tuteur", "manager", "referent", "jury_pro", "jury_national", "admin")


def _table(anonymous: int, default: int, **allowed: tuple[int, int]) -> dict[str, tuple[int, int]]:
    table = {"anonymous": (anonymous, anonymous)} | {r: (default, default) for r in ROLES}
    return table | allowed


HOLDER_OR_ADMIN = _table(303, 403, candidat=(200, 404), admin=(200, 200))
ADMIN_ONLY = _table(303, 403, admin=(200, 200))

EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("certificate_pdf", "GET"): HOLDER_OR_ADMIN,
    ("certificate_badge", "GET"): HOLDER_OR_ADMIN,
    ("verify", "GET"): _table(200, 200),
    # no file in the form: the page again, with the message next to the field
    ("verify", "POST"): _table(400, 400),
    # own: a real code; foreign: a code nobody holds
    ("verify_code", "GET"): _table(200, 200) | {r: (200, 404) for r in ("anonymous", *ROLES)},
    ("openbadges_issuer", "GET"): _table(200, 200),
    # own: a bloc's code; foreign: a certification's (an unknown code: JSON 404, tested apart)
    ("openbadges_achievement", "GET"): _table(200, 200),
    ("openbadges_revocations", "GET"): _table(200, 200),
    ("admin_certificates", "GET"): ADMIN_ONLY,
    ("admin_certificate", "GET"): ADMIN_ONLY,
    ("admin_certificate", "POST"): _table(303, 403, admin=(400, 400)),  # no reason given
}


@functools.cache
def _test_seal_key() -> Path:
    """One generated seal key per test run (RSA-3072 takes a while to generate)."""
    folder = Path(tempfile.mkdtemp(prefix="seal-key-"))
    return ensure_generated_key(folder / "seal.pem")


def seed_seal_key(settings: Settings) -> None:
    """Give ``settings.data_dir`` the run's seal key, as if generated there earlier."""
    target = generated_key_path(settings)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(_test_seal_key(), target)


def issue_certificate(
    db: Session,
    settings: Settings,
    parcours: Parcours,
    *,
    kind: CertificateKind = CertificateKind.CCP,
    bloc_key: str | None = "POS",
    issued_on: date = date(2027, 3, 1),
    store: bool = True,
    national_session_id: int | None = None,
) -> Certificate:
    """A certificate as the proclamation issues it: the row, then its sealed PDF."""
    seed_seal_key(settings)
    certification = parcours.certification
    bloc = None
    if kind is CertificateKind.CCP:
        bloc = next(b for b in certification.blocs if b.bloc.key == bloc_key)
    holder = parcours.candidate
    certificate = Certificate(
        code=new_code(),
        kind=kind.value,
        holder_id=holder.id,
        parcours_id=parcours.id,
        session_id=national_session_id,
        certification_code=certification.code,
        certification_short=certification.short,
        certification_title=certification.title,
        bloc_key=bloc.bloc.key if bloc else None,
        bloc_code=bloc.code if bloc else None,
        bloc_title=bloc.title if bloc else None,
        route=parcours.route,
        issued_on=issued_on,
        holder_first_name=holder.first_name,
        holder_last_name=holder.last_name,
    )
    certificate.parcours = parcours
    db.add(certificate)
    db.flush()
    if store:
        store_certificate_pdf(settings=settings, certificate=certificate)
        db.flush()
    return certificate


def url(name: str, world: World, role: str, own: bool, db: Session, settings: Settings) -> str:
    if name == "verify":
        return "/verifier"
    if name == "openbadges_issuer":
        return "/openbadges/issuer"
    if name == "openbadges_achievement":
        return f"/openbadges/achievements/{'RNCP35543BC03' if own else 'RNCP35729'}"
    if name == "openbadges_revocations":
        return "/openbadges/revocations"
    if name == "admin_certificates":
        return "/admin/certificats"
    # only the download needs the sealed file (sealing costs time: 144 cases here)
    parcours = world.own if own else world.foreign
    certificate = issue_certificate(db, settings, parcours, store=name == "certificate_pdf")
    if name == "verify_code":
        return f"/verifier/{certificate.code}" if own else "/verifier/AAAA-BBBB-CCCC-DDDD"
    return {
        "certificate_pdf": f"/certificats/{certificate.id}.pdf",
        "certificate_badge": f"/certificats/{certificate.id}/badge.json",
        "admin_certificate": f"/admin/certificats/{certificate.id}",
    }[name]
