"""The national deliberation through HTTP after the review of issue 8: bounded reasons, stale
decision forms (409), the recours state and a broken signature on the dossier page and PDF, a
withheld CQP delivered later, a dossier taken off the agenda, the candidate's convocations."""

from __future__ import annotations

import io
import re
import time
from datetime import date, timedelta
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal import notify
from portal.certificates import certificate_path
from portal.settings import Settings
from tests.portal.policy_national import national_session, on_agenda, signed_evaluation
from tests.portal.world import World, build_world, sign_in_as
from vae.audit.models import AuditEntry
from vae.decision.models import (
    BlocAvis,
    Certificate,
    Deliberation,
    NationalDossier,
    Prerequisite,
)
from vae.decision.rules import paris_day
from vae.jury.models import Convocation, JurySession
from vae.orm import utcnow

VERSION = re.compile(r'name="version" value="([0-9a-f]{64})"')


@pytest.fixture
def mails(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(notify, "send_mail", lambda settings, **kw: sent.append(kw))
    return sent


def _agenda(db: Session, world: World, parcours: Any = None, *, days: int = 20, **kw: Any) -> Any:
    """A dossier on today's national session, its avis signed ``days`` ago."""
    jury = national_session(db, paris_day(utcnow()))
    evaluation = signed_evaluation(
        db,
        parcours or world.own,
        signer=world.people["jury_pro"],
        signed_at=utcnow() - timedelta(days=days),
        **kw,
    )
    return on_agenda(db, jury, evaluation)


def _decisions(dossier: NationalDossier, **changed: tuple[str, str]) -> dict[str, str]:
    form = {
        f"validated-{a.bloc_key}": "oui" if a.favourable else "non" for a in dossier.evaluation.avis
    }
    for key, (answer, reason) in changed.items():
        form |= {f"validated-{key}": answer, f"reason-{key}": reason}
    return form


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_a_two_megabyte_reason_is_refused_fast_and_nothing_is_saved(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    dossier = _agenda(db, world)
    token = sign_in_as(client, db, settings, world.people["jury_national"])
    page = client.get(f"/national/dossiers/{dossier.id}")
    assert 'maxlength="4000"' in page.text and "4000 caractères au plus." in page.text
    huge = "x" * (2 * 1024 * 1024 - 1000)
    started = time.monotonic()
    refused = client.post(
        f"/national/dossiers/{dossier.id}/decisions",
        data={"csrf_token": token, **_decisions(dossier, GRU=("non", huge))},
    )
    assert time.monotonic() - started < 5
    assert refused.status_code == 400
    assert (
        f'id="reason-GRU-error">Le motif ne doit pas dépasser 4000 caractères ({len(huge)} saisis).'
        in refused.text
    )
    assert 'aria-invalid="true" aria-describedby="reason-GRU-hint reason-GRU-error"' in refused.text
    assert db.scalars(select(Deliberation)).all() == []


def test_a_stale_decisions_form_answers_409_and_keeps_what_was_typed(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    dossier = _agenda(db, world)
    url = f"/national/dossiers/{dossier.id}/decisions"
    admin = world.people["admin"]
    admin_token = sign_in_as(client, db, settings, admin)
    client.post(url, data={"csrf_token": admin_token, **_decisions(dossier)})
    # the national jury member opens the form on the first decisions...
    token = sign_in_as(client, db, settings, world.people["jury_national"])
    match = VERSION.search(client.get(f"/national/dossiers/{dossier.id}").text)
    assert match is not None
    seen = match.group(1)
    # ...the administrator changes TD meanwhile...
    with TestClient(client.app) as other:
        other_token = sign_in_as(other, db, settings, admin)
        changed = _decisions(dossier, TD=("non", "Le jury national suit la préconisation."))
        assert (
            other.post(
                url,
                data={"csrf_token": other_token, "version": seen, **changed},
                follow_redirects=False,
            ).status_code
            == 303
        )
    # ...and the member's form, built on the first ones, is refused
    typed = _decisions(dossier, POS=("non", "Situation POS insuffisante."))
    stale = client.post(url, data={"csrf_token": token, "version": seen, **typed})
    assert stale.status_code == 409
    assert (
        f"Les décisions ont été modifiées par {admin.full_name} pendant que vous les saisissiez."
        in stale.text
    )
    assert "Situation POS insuffisante.</textarea>" in stale.text  # typed text kept
    assert "Le jury national suit la préconisation." in stale.text  # what was recorded
    saved = {d.bloc_key: d.validated for d in db.scalars(select(Deliberation))}
    assert saved == {"GRU": True, "MDR": True, "POS": True, "TD": False}
    # sent again from the conflict page (its token is the current one): recorded
    current = VERSION.search(stale.text)
    assert current is not None and current.group(1) != seen
    again = client.post(
        url,
        data={"csrf_token": token, "version": current.group(1), **typed},
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert db.scalar(select(Deliberation.validated).where(Deliberation.bloc_key == "POS")) is False


@pytest.mark.parametrize(
    ("days", "kw", "page_text", "pdf_text"),
    [
        (2, {}, "Délai de recours en cours jusqu'au", "Délai de recours en cours jusqu'au"),
        (2, {"waived": True}, "Le candidat a renoncé au recours le", "a renoncé au recours le"),
        (
            2,
            {"recours": "L'entretien a été écourté."},
            "L&#39;entretien a été écourté.",
            "L'entretien a été écourté.",
        ),
        (20, {}, "Aucun recours déposé : le délai a expiré le", "le délai a expiré le"),
    ],
)
def test_the_recours_state_on_the_dossier_page_and_pdf(
    client: TestClient,
    db: Session,
    settings: Settings,
    days: int,
    kw: dict[str, Any],
    page_text: str,
    pdf_text: str,
) -> None:
    world = build_world(db)
    dossier = _agenda(db, world, days=days, **kw)
    token = sign_in_as(client, db, settings, world.people["admin"])
    assert page_text in client.get(f"/national/dossiers/{dossier.id}").text
    assert pdf_text in _pdf_text(client.get(f"/national/dossiers/{dossier.id}.pdf").content)
    client.post(
        f"/national/dossiers/{dossier.id}/decisions",
        data={"csrf_token": token, **_decisions(dossier)},
    )
    proclaimed = client.post(
        f"/national/sessions/{dossier.session_id}/proclamer",
        data={"csrf_token": token, "confirm": "oui"},
        follow_redirects=False,
    )
    if days == 2 and not kw:
        assert proclaimed.status_code == 400
        assert "Candidat Test : le délai de recours court jusqu&#39;au" in proclaimed.text
        assert "(ni recours ni renonciation)." in proclaimed.text
    else:
        assert proclaimed.status_code == 303


def test_a_broken_signature_is_shown_and_blocks_the_proclamation(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    dossier = _agenda(db, world)
    token = sign_in_as(client, db, settings, world.people["admin"])
    client.post(
        f"/national/dossiers/{dossier.id}/decisions",
        data={"csrf_token": token, **_decisions(dossier)},
    )
    db.execute(
        update(BlocAvis)
        .where(BlocAvis.evaluation_id == dossier.evaluation_id)
        .values(recommendations="TAMPERED")
    )
    db.expire_all()
    page = client.get(f"/national/dossiers/{dossier.id}")
    assert 'id="signature-broken"><strong>Signature rompue</strong>' in page.text
    assert "Signature rompue" in _pdf_text(
        client.get(f"/national/dossiers/{dossier.id}.pdf").content
    )
    session_page = client.get(f"/national/sessions/{dossier.session_id}")
    assert "signature rompue</span>" in session_page.text
    refused = client.post(
        f"/national/sessions/{dossier.session_id}/proclamer",
        data={"csrf_token": token, "confirm": "oui"},
    )
    assert refused.status_code == 400
    assert (
        "Candidat Test : signature de l&#39;avis rompue, le contenu a changé depuis la signature."
        in refused.text
    )
    assert db.scalars(select(Certificate)).all() == []


def test_no_proclamation_before_the_session_day(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    dossier = _agenda(db, world)
    tomorrow = paris_day(utcnow()) + timedelta(days=1)
    dossier.session.day = tomorrow
    db.flush()
    token = sign_in_as(client, db, settings, world.people["admin"])
    client.post(
        f"/national/dossiers/{dossier.id}/decisions",
        data={"csrf_token": token, **_decisions(dossier)},
    )
    refused = client.post(
        f"/national/sessions/{dossier.session_id}/proclamer",
        data={"csrf_token": token, "confirm": "oui"},
    )
    assert refused.status_code == 400
    assert (
        f'id="confirm-error">La session nationale a lieu le {tomorrow:%d/%m/%Y} : '
        "la proclamation se fait ce jour-là ou après." in refused.text
    )


def test_a_withheld_cqp_is_delivered_from_the_dossier_page(
    client: TestClient, db: Session, settings: Settings, mails: list[dict[str, Any]]
) -> None:
    world = build_world(db)  # world.foreign: formation, Pass and Prem'ss required
    dossier = _agenda(db, world, world.foreign)
    token = sign_in_as(client, db, settings, world.people["admin"])
    client.post(
        f"/national/dossiers/{dossier.id}/decisions",
        data={"csrf_token": token, **_decisions(dossier)},
    )
    client.post(
        f"/national/sessions/{dossier.session_id}/proclamer",
        data={"csrf_token": token, "confirm": "oui"},
    )
    tutor_mail = next(m["body"] for m in mails if m["to"] == "autretuteur@test.fr")
    assert "les résultats du parcours de Autrecandidat Test" in tutor_mail
    candidate_mail = next(m["body"] for m in mails if m["to"] == "autrecandidat@test.fr")
    assert "les résultats de votre parcours" in candidate_mail
    mails.clear()
    url = f"/national/dossiers/{dossier.id}/cqp"
    page = client.get(f"/national/dossiers/{dossier.id}")
    assert "CQP COS non délivré : prérequis manquant(s)" in page.text
    assert f'action="{url}"' in page.text and "Délivrer le CQP</button>" in page.text
    missing = client.post(url, data={"csrf_token": token})
    assert missing.status_code == 400
    assert (
        'id="cqp-error" role="alert">Prérequis toujours manquant(s) : Formation Pass'
        in missing.text
    )
    assert db.scalars(select(Certificate).where(Certificate.kind == "cqp")).all() == []

    sign_in_as(client, db, settings, world.people["jury_national"])  # reads, does not deliver
    read_only = client.get(f"/national/dossiers/{dossier.id}")
    assert "CQP COS non délivré" in read_only.text and f'action="{url}"' not in read_only.text

    for key in ("pass", "premss"):
        db.add(Prerequisite(parcours_id=world.foreign.id, key=key, completed_on=date(2026, 11, 2)))
    db.flush()
    token = sign_in_as(client, db, settings, world.people["admin"])
    delivered = client.post(url, data={"csrf_token": token}, follow_redirects=False)
    assert delivered.status_code == 303
    cqp = db.scalars(select(Certificate).where(Certificate.kind == "cqp")).one()
    path = certificate_path(settings, cqp)
    assert cqp.holder_id == world.foreign.candidate_id and path is not None and path.exists()
    assert [m["to"] for m in mails] == ["autrecandidat@test.fr"]
    assert cqp.code in mails[0]["body"] and mails[0]["subject"] == "Votre CQP COS est délivré"
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "certificate.issue_withheld_cqp")
    ).one()
    assert entry.details["certificate"] == cqp.code
    after = client.get(f"/national/dossiers/{dossier.id}")
    assert "Délivrer le CQP" not in after.text
    twice = client.post(url, data={"csrf_token": token})
    assert twice.status_code == 400 and "Aucun CQP n&#39;est retenu pour ce dossier." in twice.text


def test_an_administrator_takes_a_dossier_off_the_agenda(
    client: TestClient, db: Session, settings: Settings, mails: list[dict[str, Any]]
) -> None:
    world = build_world(db)
    dossier = _agenda(db, world)
    jury_id, evaluation = dossier.session_id, dossier.evaluation
    token = sign_in_as(client, db, settings, world.people["admin"])
    page = client.get(f"/national/dossiers/{dossier.id}")
    assert "Retirer de l'ordre du jour</button>" in page.text
    client.post(
        f"/national/dossiers/{dossier.id}/decisions",
        data={"csrf_token": token, **_decisions(dossier)},
    )
    removed = client.post(
        f"/national/dossiers/{dossier.id}/retirer",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert (
        removed.status_code == 303
        and removed.headers["location"] == f"/national/sessions/{jury_id}"
    )
    assert db.scalars(select(NationalDossier)).all() == []
    assert db.scalars(select(Deliberation)).all() == []
    assert db.scalars(
        select(AuditEntry).where(AuditEntry.action == "national.remove_dossier")
    ).one()
    # on the agenda again, proclaimed: it stays
    db.expunge(dossier)  # deleted by the request's session
    jury = db.get(JurySession, jury_id)
    assert jury is not None
    again = on_agenda(db, jury, evaluation)
    client.post(
        f"/national/dossiers/{again.id}/decisions", data={"csrf_token": token, **_decisions(again)}
    )
    client.post(
        f"/national/sessions/{jury_id}/proclamer", data={"csrf_token": token, "confirm": "oui"}
    )
    refused = client.post(f"/national/dossiers/{again.id}/retirer", data={"csrf_token": token})
    assert refused.status_code == 400
    assert 'id="remove-error" role="alert">La session a déjà été proclamée le' in refused.text
    assert db.get(NationalDossier, again.id) is not None


def test_the_dashboard_shows_only_the_convocations_ahead(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    now = utcnow()

    def convocation(days: int) -> Convocation:
        jury = JurySession(
            kind="professionnel", day=(now + timedelta(days=days)).date(), place="Lille", capacity=8
        )
        db.add(jury)
        db.flush()
        row = Convocation(
            session_id=jury.id,
            parcours_id=world.own.id,
            at=now + timedelta(days=days),
            place=f"Salle {days}",
        )
        db.add(row)
        db.flush()
        return row

    convocation(10)
    convocation(-3)
    sign_in_as(client, db, settings, world.people["candidat"])
    page = client.get("/tableau-de-bord").text
    assert "Salle 10" in page and "Salle -3" not in page
    # the avis of that interview is signed: the convocation is moot
    evaluation = signed_evaluation(db, world.own, signer=world.people["jury_pro"], signed_at=now)
    ahead = db.scalars(select(Convocation).where(Convocation.place == "Salle 10")).one()
    evaluation.convocation_id = ahead.id
    db.flush()
    assert "Vous êtes convoqué(e)" not in client.get("/tableau-de-bord").text
