"""Revoking a CCP revokes the CQPs resting on its bloc; a second revocation is told, not done."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.settings import Settings
from tests.portal.policy_certificates import issue_certificate
from tests.portal.world import World, build_world, sign_in_as
from vae.audit.models import AuditEntry
from vae.audit.service import Actor
from vae.decision import certificates as service
from vae.decision.models import Certificate, CertificateKind
from vae.referentiel.service import get_referentiel

NOW = datetime(2027, 3, 2, 9, 30, tzinfo=UTC)
REASON = "Fraude constatée au dossier"


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


def _actor(world: World) -> Actor:
    admin = world.people["admin"]
    return Actor(admin.id, admin.full_name)


def _cqp(db: Session, settings: Settings, world: World, short: str = "COS") -> Certificate:
    """A CQP of world.own's candidate: COS (the parcours' certification) or GC."""
    cqp = issue_certificate(db, settings, world.own, kind=CertificateKind.CQP, store=False)
    if short != "COS":
        referentiel = get_referentiel(db)
        assert referentiel is not None
        certification = referentiel.certification(short)
        cqp.certification_code = certification.code
        cqp.certification_short = certification.short
        cqp.certification_title = certification.title
        db.flush()
    return cqp


def _revocations(db: Session) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action == "certificate.revoke")
    return list(db.scalars(query.order_by(AuditEntry.seq)))


def _main(html: str) -> str:
    match = re.search(r"<main.*?</main>", html, re.S)
    assert match is not None
    return match.group(0)


def test_a_revoked_ccp_revokes_every_cqp_containing_its_bloc(
    db: Session, settings: Settings, world: World
) -> None:
    gru = issue_certificate(db, settings, world.own, bloc_key="GRU", store=False)
    pos = issue_certificate(db, settings, world.own, bloc_key="POS", store=False)
    cos, gc = _cqp(db, settings, world), _cqp(db, settings, world, "GC")
    others = _cqp(db, settings, world, "GC")
    others.holder_id = world.foreign.candidate_id  # another holder's CQP is not touched
    db.flush()
    assert service.cascade_targets(db, gru) == [cos, gc]  # GRU is a bloc of both CQPs
    assert service.cascade_targets(db, pos) == [cos]  # POS only of COS
    assert service.cascade_targets(db, cos) == []  # a CQP revokes nothing else

    service.revoke(session=db, actor=_actor(world), certificate=gru, reason=REASON, now=NOW)

    assert gru.revoked and cos.revoked and gc.revoked
    assert not pos.revoked and not others.revoked
    cascade = f"CCP RNCP35543BC01 révoqué le 2 mars 2027 à 10:30 : {REASON}"
    assert cos.revoked_reason == gc.revoked_reason == cascade
    assert cos.revoked_at == gc.revoked_at == NOW
    assert cos.revoked_by_id == world.people["admin"].id
    entries = _revocations(db)
    assert [e.object_id for e in entries] == [str(gru.id), str(cos.id), str(gc.id)]
    assert "cascade_from" not in entries[0].details
    for entry, cqp in zip(entries[1:], (cos, gc), strict=True):
        assert entry.details == {
            "code": cqp.code,
            "kind": "cqp",
            "reason": cascade,
            "cascade_from": gru.code,
            "cascade_bloc": "RNCP35543BC01",
        }
        assert entry.subject_id == cqp.holder_id
        assert service.cascade_source(db, cqp) == gru
    assert service.cascaded_from(db, gru) == [cos, gc]
    assert service.cascade_source(db, gru) is None
    # the POS CCP, revoked afterwards, has nothing left to revoke
    assert service.cascade_targets(db, pos) == []


def test_no_cascade_while_another_valid_ccp_holds_the_bloc(
    db: Session, settings: Settings, world: World
) -> None:
    first = issue_certificate(db, settings, world.own, bloc_key="MDR", store=False)
    second = issue_certificate(db, settings, world.own, bloc_key="MDR", store=False)
    cos = _cqp(db, settings, world)
    service.revoke(session=db, actor=_actor(world), certificate=first, reason=REASON, now=NOW)
    assert not cos.revoked  # still rests on a valid CCP MDR
    service.revoke(session=db, actor=_actor(world), certificate=second, reason=REASON, now=NOW)
    assert cos.revoked and service.cascade_source(db, cos) == second


def test_the_admin_pages_tell_the_cascade_and_the_public_page_only_the_date(
    client: TestClient, db: Session, settings: Settings, world: World
) -> None:
    gru = issue_certificate(db, settings, world.own, bloc_key="GRU", store=False)
    cos = _cqp(db, settings, world)
    token = sign_in_as(client, db, settings, world.people["admin"])
    url = f"/admin/certificats/{gru.id}"
    before = _main(client.get(url).text)
    assert "il sera révoqué avec lui" in before
    assert f'href="/admin/certificats/{cos.id}"' in before and "CQP RNCP35543" in before

    done = client.post(url, data={"csrf_token": token, "reason": REASON}, follow_redirects=False)
    assert done.status_code == 303
    shown = _main(client.get(done.headers["location"]).text)
    assert "Le CQP qui reposait sur ce bloc a été révoqué avec lui." in shown
    assert "Révoqués avec lui" in shown and f'href="/admin/certificats/{cos.id}"' in shown

    cqp_page = _main(client.get(f"/admin/certificats/{cos.id}").text)
    assert "(CCP RNCP35543BC01 révoqué)" in cqp_page
    assert f'href="/admin/certificats/{gru.id}">CCP RNCP35543BC01</a> révoqué' in cqp_page
    assert "CCP RNCP35543BC01 révoqué le 2" in cqp_page  # the reason, for the administration
    assert "Révoquer ce certificat" not in cqp_page

    client.cookies.clear()
    public = _main(client.get(f"/verifier/{cos.code}").text)
    assert "Certificat révoqué" in public and "il n'est plus valable" in public
    assert "RNCP35543BC01 révoqué" not in public and REASON not in public


def test_a_second_revocation_says_when_and_by_whom(
    client: TestClient, db: Session, settings: Settings, world: World
) -> None:
    certificate = issue_certificate(db, settings, world.own, store=False)
    token = sign_in_as(client, db, settings, world.people["admin"])
    url = f"/admin/certificats/{certificate.id}"
    form = {"csrf_token": token, "reason": REASON}
    assert client.post(url, data=form, follow_redirects=False).status_code == 303
    db.refresh(certificate)
    assert certificate.revoked_at is not None
    # the same form again (a double click, or a tab left open)
    again = client.post(url, data={**form, "reason": "Un autre motif, plus tard"})
    assert again.status_code == 200
    page = _main(again.text)
    assert 'class="alert info" role="status"' in page
    assert re.search(
        r"Ce certificat a déjà été révoqué le \d{1,2}(er)? \w+ \d{4} à \d\d:\d\d "
        r"par Admin Test : rien n&#39;a été modifié\.",
        page,
    ), page
    assert REASON in page and "Un autre motif" not in page  # the first revocation stands
    db.refresh(certificate)
    assert certificate.revoked_reason == REASON
    assert len(_revocations(db)) == 1
