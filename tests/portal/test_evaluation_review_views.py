"""Through the app, what the review of issue 8 found on the evaluation: the grid before the day of
the interview, the member who does not sit for the candidate, the administrator's reopening, the
broken signature, the candidate's mail, the waiver, the avis page once proclaimed, and who reads
the recours."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.settings import Settings
from tests.decision import Jury, branche_peer, ccp, certification, jury_for, marks
from tests.portal.world import World, build_world, sign_in_as
from vae.audit.models import AuditEntry
from vae.audit.service import Actor
from vae.decision.models import AvisSignature, Evaluation, NationalDossier, Proclamation
from vae.jury.models import JuryMember, JurySession
from vae.orm import utcnow
from vae.people.models import Civility, Role
from vae.people.service import create_user

RECOURS = "Je conteste l'avis défavorable sur le bloc TD : ma situation couvrait C16 et C17."
BROKEN = "Signature rompue : le contenu ne correspond plus à ce qui a été signé."


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


@pytest.fixture
def jury(db: Session, world: World) -> Jury:
    jury = jury_for(db, world.own, world.people["jury_pro"], branche_peer(db, world.own))
    jury.convocation.at = utcnow() - timedelta(days=1)
    db.flush()
    return jury


@pytest.fixture
def mails(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr("portal.notify_avis.send_mail", lambda settings, **mail: sent.append(mail))
    return sent


def url(jury: Jury, suffix: str = "") -> str:
    return f"/jury/evaluations/{jury.convocation.id}{suffix}"


def complete_form(db: Session, token: str, lock: int, **extra: str) -> dict[str, str]:
    cos = certification(db, "COS")
    form = {f"c-{key}": "1" for key in marks(cos)}
    form.update({f"avis-{key}": "favorable" for key in cos.bloc_keys})
    return {"csrf_token": token, "lock_version": str(lock), **form, **extra}


def stored(db: Session, jury: Jury) -> Evaluation:
    db.expire_all()
    evaluation = db.scalar(
        select(Evaluation).where(Evaluation.convocation_id == jury.convocation.id)
    )
    assert evaluation is not None
    return evaluation


def sign_as(client: TestClient, db: Session, settings: Settings, jury: Jury, user) -> int:  # type: ignore[no-untyped-def]
    token = sign_in_as(client, db, settings, user)
    page = client.get(url(jury, "/signature")).text
    digest = re.search(r'name="content_hash" value="([0-9a-f]{64})"', page)
    assert digest is not None
    response = client.post(
        url(jury, "/signature"),
        data={"csrf_token": token, "content_hash": digest.group(1)},
        follow_redirects=False,
    )
    return response.status_code


def fill_and_sign(client: TestClient, db: Session, settings: Settings, jury: Jury) -> None:
    token = sign_in_as(client, db, settings, jury.president)
    client.post(url(jury), data=complete_form(db, token, 0))
    assert sign_as(client, db, settings, jury, jury.president) == 303
    assert sign_as(client, db, settings, jury, jury.expert) == 303
    assert stored(db, jury).signed


def test_before_the_day_of_the_interview_the_grid_is_closed(
    client: TestClient, db: Session, settings: Settings, jury: Jury
) -> None:
    jury.convocation.at = datetime(2099, 2, 9, 8, 30, tzinfo=utcnow().tzinfo)
    db.flush()
    token = sign_in_as(client, db, settings, jury.president)
    message = (
        "L&#39;entretien a lieu le 9 février 2099 : "
        "la grille s&#39;ouvre le jour de l&#39;entretien."
    )
    page = client.get(url(jury)).text
    assert message in page and "Préparer la signature" not in page and " disabled" in page
    refused = client.post(url(jury), data=complete_form(db, token, 0))
    assert refused.status_code == 400 and message in refused.text
    htmx = client.post(url(jury), data=complete_form(db, token, 0), headers={"HX-Request": "true"})
    assert htmx.status_code == 400 and message in htmx.text
    assert db.scalar(select(Evaluation)) is None


def test_a_member_who_does_not_sit_for_the_candidate_may_not_sign(
    client: TestClient, db: Session, settings: Settings, world: World, jury: Jury, mails: list
) -> None:
    other = create_user(
        session=db,
        actor=Actor.system("t"),
        email="famille@test.fr",
        civility=Civility.M,
        first_name="Marc",
        last_name="Famille",
        organisation=world.caf,  # famille; the candidate is of the maladie branche
        roles={Role.JURY_PRO},
    )
    db.add(JuryMember(session_id=jury.session.id, user_id=other.id, quality="expert"))
    db.flush()
    token = sign_in_as(client, db, settings, jury.president)
    client.post(url(jury), data=complete_form(db, token, 0))
    assert sign_as(client, db, settings, jury, jury.president) == 303
    token = sign_in_as(client, db, settings, other)
    page = client.get(url(jury)).text
    assert "Vous ne siégez pas pour ce candidat" in page and "Relire et signer" not in page
    assert "Signatures requises : <strong>1/2</strong>" in page
    refused = client.post(
        url(jury, "/signature"),
        data={"csrf_token": token, "content_hash": stored(db, jury).content_hash},
    )
    assert refused.status_code == 403
    assert "votre signature n&#39;est pas requise" in refused.text
    assert "signée 1/2" in client.get(f"/jury/sessions/{jury.session.id}").text
    assert sign_as(client, db, settings, jury, jury.expert) == 303
    assert stored(db, jury).signed  # the two required signers: final
    assert "signée 2/2" in client.get(f"/jury/sessions/{jury.session.id}").text
    assert len(mails) == 1


def test_the_administrator_reopens_a_frozen_avis(
    client: TestClient, db: Session, settings: Settings, world: World, jury: Jury
) -> None:
    token = sign_in_as(client, db, settings, jury.president)
    client.post(url(jury), data=complete_form(db, token, 0))
    assert sign_as(client, db, settings, jury, jury.president) == 303
    frozen_hash = stored(db, jury).content_hash
    token = sign_in_as(client, db, settings, world.people["admin"])
    page = client.get(url(jury)).text
    assert "Rouvrir l'avis" in page and 'name="reason"' in page
    short = client.post(url(jury, "/rouvrir"), data={"csrf_token": token, "reason": "Refus"})
    assert short.status_code == 400
    assert re.search(r'id="reason-error">Indiquez le motif de la réouverture', short.text)
    assert re.search(r'id="f-reason"[^>]*aria-invalid="true"', short.text)
    assert "Refus</textarea>" in short.text
    assert stored(db, jury).content_hash == frozen_hash
    reopened = client.post(
        url(jury, "/rouvrir"),
        data={"csrf_token": token, "reason": "L'expert refuse de signer cet avis."},
        follow_redirects=False,
    )
    assert reopened.status_code == 303
    evaluation = stored(db, jury)
    assert evaluation.content_hash is None and evaluation.signatures == []
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "evaluation.reopen"))
    assert entry is not None and entry.details["content_hash"] == frozen_hash
    assert entry.details["signatures"][0]["user_id"] == jury.president.id
    assert "Rouvrir l'avis" not in client.get(url(jury)).text
    # the members edit again
    token = sign_in_as(client, db, settings, jury.president)
    assert "Préparer la signature" in client.get(url(jury)).text
    # the reopening is refused once on a national agenda
    fill_and_sign_again(client, db, settings, jury)
    national = JurySession(kind="national", day=date(2099, 3, 9), place="Paris", capacity=50)
    db.add(national)
    db.flush()
    db.add(
        NationalDossier(
            session_id=national.id, evaluation_id=stored(db, jury).id, parcours_id=world.own.id
        )
    )
    db.flush()
    token = sign_in_as(client, db, settings, world.people["admin"])
    assert "ordre du jour d&#39;une session nationale" in client.get(url(jury)).text
    late = client.post(
        url(jury, "/rouvrir"), data={"csrf_token": token, "reason": "Un membre conteste."}
    )
    assert late.status_code == 409 and "il ne peut plus être rouvert" in late.text
    assert len(stored(db, jury).signatures) == 2


def fill_and_sign_again(client: TestClient, db: Session, settings: Settings, jury: Jury) -> None:
    assert sign_as(client, db, settings, jury, jury.president) == 303
    assert sign_as(client, db, settings, jury, jury.expert) == 303
    assert stored(db, jury).signed


def test_a_tampered_avis_shows_a_broken_signature_and_stops_the_recours(
    client: TestClient, db: Session, settings: Settings, world: World, jury: Jury, mails: list
) -> None:
    fill_and_sign(client, db, settings, jury)
    avis_url = f"/parcours/{world.own.id}/avis"
    token = sign_in_as(client, db, settings, world.people["candidat"])
    assert BROKEN not in client.get(avis_url).text
    db.execute(text("UPDATE bloc_avis SET recommendations = 'TAMPERED' WHERE bloc_key = 'TD'"))
    db.flush()
    page = client.get(avis_url).text
    assert BROKEN in page and "Motifs du recours" not in page
    refused = client.post(avis_url, data={"csrf_token": token, "text": RECOURS})
    assert refused.status_code == 400 and BROKEN in refused.text
    sign_in_as(client, db, settings, jury.president)
    assert BROKEN in client.get(url(jury)).text
    assert "signature rompue" in client.get(f"/jury/sessions/{jury.session.id}").text


def test_the_candidate_is_mailed_when_the_avis_is_final(
    client: TestClient, db: Session, settings: Settings, world: World, jury: Jury, mails: list
) -> None:
    token = sign_in_as(client, db, settings, jury.president)
    client.post(url(jury), data=complete_form(db, token, 0))
    assert sign_as(client, db, settings, jury, jury.president) == 303
    assert mails == []  # one of two signatures: not final
    assert sign_as(client, db, settings, jury, jury.expert) == 303
    assert len(mails) == 1
    mail = mails[0]
    assert mail["to"] == "candidat@test.fr"
    assert mail["subject"] == "L'avis du jury professionnel est disponible"
    assert f"{settings.base_url}/parcours/{world.own.id}/avis" in mail["body"]
    assert "(heure de Paris)" in mail["body"] and "ne souhaitez pas" in mail["body"]
    deadline = re.search(r"jusqu'au (\d+(?:er)? \w+ \d{4} à \d\d:\d\d)", mail["body"])
    assert deadline is not None


def test_a_failing_mail_never_undoes_the_signature(
    client: TestClient,
    db: Session,
    settings: Settings,
    jury: Jury,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(settings: Settings, **mail: Any) -> None:
        raise OSError("smtp down")

    monkeypatch.setattr("portal.notify_avis.send_mail", broken)
    with caplog.at_level(logging.ERROR, logger="vae_portal.notify"):
        fill_and_sign(client, db, settings, jury)
    assert "avis mail to candidat@test.fr failed" in caplog.text
    assert len(db.scalars(select(AvisSignature)).all()) == 2


def test_the_candidate_waives_the_recours_on_the_avis_page(
    client: TestClient, db: Session, settings: Settings, world: World, jury: Jury, mails: list
) -> None:
    fill_and_sign(client, db, settings, jury)
    avis_url = f"/parcours/{world.own.id}/avis"
    token = sign_in_as(client, db, settings, world.people["candidat"])
    page = client.get(avis_url).text
    assert "Je ne souhaite pas former de recours contre cet avis." in page
    unconfirmed = client.post(avis_url, data={"csrf_token": token, "action": "waive"})
    assert unconfirmed.status_code == 400
    assert re.search(r'id="confirm-error">Cochez la case', unconfirmed.text)
    assert re.search(r'id="f-confirm"[^>]*aria-invalid="true"', unconfirmed.text)
    waived = client.post(
        avis_url,
        data={"csrf_token": token, "action": "waive", "confirm": "1"},
        follow_redirects=False,
    )
    assert waived.status_code == 303
    page = client.get(avis_url).text
    assert "Vous avez déclaré le" in page and "ne pas former de recours" in page
    assert "Motifs du recours" not in page
    late = client.post(avis_url, data={"csrf_token": token, "text": RECOURS})
    assert late.status_code == 400 and "Vous avez renoncé au recours contre cet avis." in late.text
    evaluation = stored(db, jury)
    assert evaluation.recours is not None and evaluation.recours.waived
    sign_in_as(client, db, settings, jury.president)
    assert "Le candidat a déclaré le" in client.get(url(jury)).text


def test_once_proclaimed_the_avis_page_points_to_the_result(
    client: TestClient, db: Session, settings: Settings, world: World, jury: Jury, mails: list
) -> None:
    fill_and_sign(client, db, settings, jury)
    national = JurySession(kind="national", day=date(2027, 3, 9), place="Paris", capacity=50)
    db.add(national)
    db.flush()
    db.add(
        NationalDossier(
            session_id=national.id, evaluation_id=stored(db, jury).id, parcours_id=world.own.id
        )
    )
    db.add(Proclamation(session_id=national.id, proclaimed_at=utcnow()))
    db.flush()
    avis_url = f"/parcours/{world.own.id}/avis"
    token = sign_in_as(client, db, settings, world.people["candidat"])
    page = client.get(avis_url).text
    assert "La décision du jury paritaire national a été proclamée le" in page
    assert 'voir votre résultat sur le <a href="/tableau-de-bord">tableau de bord</a>' in page
    assert "pas encore une décision de certification" not in page
    assert "Motifs du recours" not in page and "le recours n&#39;est plus possible" in page
    refused = client.post(avis_url, data={"csrf_token": token, "text": RECOURS})
    assert refused.status_code == 400
    assert "La décision a été proclamée : le recours n&#39;est plus possible." in refused.text


def test_the_recours_text_is_read_by_the_candidate_the_jury_and_admins_only(
    client: TestClient, db: Session, settings: Settings, world: World, jury: Jury, mails: list
) -> None:
    fill_and_sign(client, db, settings, jury)
    avis_url = f"/parcours/{world.own.id}/avis"
    token = sign_in_as(client, db, settings, world.people["candidat"])
    client.post(avis_url, data={"csrf_token": token, "text": RECOURS})
    for role in ("candidat", "admin"):
        sign_in_as(client, db, settings, world.people[role])
        assert "ma situation couvrait C16 et C17" in client.get(avis_url).text, role
    for role in ("tuteur", "manager", "referent"):
        sign_in_as(client, db, settings, world.people[role])
        page = client.get(avis_url).text
        assert "Un recours a été déposé le" in page, role
        assert "ma situation couvrait C16 et C17" not in page, role
    sign_in_as(client, db, settings, jury.expert)
    assert "ma situation couvrait C16 et C17" in client.get(url(jury)).text


def test_the_grid_counts_the_ccps_already_issued_as_held(
    client: TestClient, db: Session, settings: Settings, world: World, jury: Jury
) -> None:
    ccp(db, world.own, "GRU")
    ccp(db, world.own, "MDR", revoked=True)
    token = sign_in_as(client, db, settings, jury.president)
    html = client.get(url(jury)).text
    assert 'name="c-GRU-C1-1"' not in html and 'name="c-MDR-C7-1"' in html
    assert re.search(r"Bloc GRU.*?déjà détenu, non évalué", html, re.S)
    form = complete_form(db, token, 0)
    refused = client.post(url(jury), data=form)
    assert refused.status_code == 400 and "Le bloc GRU est déjà détenu" in refused.text
    form = {k: v for k, v in form.items() if "GRU" not in k}
    assert client.post(url(jury), data=form, follow_redirects=False).status_code == 303
    assert stored(db, jury).held_blocs == ["GRU"]
