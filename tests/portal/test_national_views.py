"""The national deliberation through HTTP: agenda, decisions, proclamation, PV, mails and the
results on the dashboards."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal import notify
from portal.certificates import certificate_path
from portal.pdf.pv import pv_dir
from portal.seal import verify_pdf
from portal.settings import Settings
from tests.portal.policy_national import national_session, on_agenda, signed_evaluation
from tests.portal.world import World, build_world, sign_in_as
from vae.audit.models import AuditEntry
from vae.decision.models import Certificate, Deliberation, NationalDossier, Proclamation
from vae.decision.rules import paris_day
from vae.orm import utcnow


@pytest.fixture
def mails(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(notify, "send_mail", lambda settings, **kw: sent.append(kw))
    return sent


def _today(db: Session) -> Any:
    """A national session held today (Paris): it may be proclaimed now."""
    return national_session(db, paris_day(utcnow()))


def _signed(db: Session, world: World, parcours: Any, **kw: Any) -> Any:
    """An avis signed 20 days ago: its recours period is over."""
    at = utcnow() - timedelta(days=20)
    return signed_evaluation(db, parcours, signer=world.people["jury_pro"], signed_at=at, **kw)


def _agenda(db: Session, world: World, **kw: Any) -> tuple[Any, NationalDossier]:
    jury = _today(db)
    return jury, on_agenda(db, jury, _signed(db, world, world.own, **kw))


def test_admin_puts_signed_dossiers_on_the_agenda(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    jury = national_session(db)
    unsigned = signed_evaluation(db, world.own, signer=world.people["jury_pro"], signed=False)
    signed = signed_evaluation(db, world.foreign, signer=world.people["jury_pro"])
    token = sign_in_as(client, db, settings, world.people["admin"])
    page = client.get(f"/national/sessions/{jury.id}")
    assert "Autrecandidat Test – avis signé le" in page.text
    assert f'value="{unsigned.id}"' not in page.text
    refused = client.post(
        f"/national/sessions/{jury.id}/dossiers",
        data={"csrf_token": token, "evaluation_id": str(unsigned.id)},
    )
    assert refused.status_code == 400
    assert 'id="evaluation-error">L&#39;avis du jury professionnel de ce dossier' in refused.text
    added = client.post(
        f"/national/sessions/{jury.id}/dossiers",
        data={"csrf_token": token, "evaluation_id": str(signed.id)},
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert db.scalar(select(NationalDossier.parcours_id)) == world.foreign.id
    again = client.post(
        f"/national/sessions/{jury.id}/dossiers",
        data={"csrf_token": token, "evaluation_id": str(signed.id)},
    )
    assert again.status_code == 400 and "déjà inscrit" in again.text
    listing = client.get("/national/sessions")
    assert f"/national/sessions/{jury.id}" in listing.text and "0 / 1" in listing.text


def test_professionnel_session_is_not_a_national_one(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    _, dossier = _agenda(db, world)
    sign_in_as(client, db, settings, world.people["jury_national"])
    assert client.get(f"/national/sessions/{dossier.evaluation.session_id}").status_code == 404
    assert client.get("/national/dossiers/999999").status_code == 404


def test_decisions_with_errors_then_saved(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    _, dossier = _agenda(db, world, favourable={"POS": False}, recours="Je conteste l'avis POS.")
    token = sign_in_as(client, db, settings, world.people["jury_national"])
    page = client.get(f"/national/dossiers/{dossier.id}")
    assert "Bloc POS non validé" in page.text and "Préconisation POS : se former." in page.text
    assert "Je conteste l&#39;avis POS." in page.text and "Commentaire C1" in page.text
    form = {"csrf_token": token, "validated-GRU": "oui", "validated-MDR": "oui"}
    form |= {"validated-POS": "oui", "reason-POS": ""}
    bad = client.post(f"/national/dossiers/{dossier.id}/decisions", data=form)
    assert bad.status_code == 400
    assert 'id="reason-POS-error">L&#39;avis du jury professionnel est défavorable' in bad.text
    assert 'id="validated-TD-error">Indiquez si le bloc TD est validé ou non.' in bad.text
    assert db.scalars(select(Deliberation)).all() == []
    form |= {"validated-TD": "oui", "reason-POS": "Le recours est fondé."}
    ok = client.post(
        f"/national/dossiers/{dossier.id}/decisions", data=form, follow_redirects=False
    )
    assert ok.status_code == 303
    saved = {d.bloc_key: (d.validated, d.reason) for d in db.scalars(select(Deliberation))}
    assert saved["POS"] == (True, "Le recours est fondé.") and len(saved) == 4


def _decide_all(client: TestClient, token: str, dossier: NationalDossier) -> None:
    form = {"csrf_token": token}
    for avis in dossier.evaluation.avis:
        form[f"validated-{avis.bloc_key}"] = "oui" if avis.favourable else "non"
    response = client.post(
        f"/national/dossiers/{dossier.id}/decisions", data=form, follow_redirects=False
    )
    assert response.status_code == 303


def test_proclamation_refused_then_issued_sealed_and_notified(
    client: TestClient, db: Session, settings: Settings, mails: list[dict[str, Any]]
) -> None:
    world = build_world(db)
    jury, dossier = _agenda(db, world, favourable={"TD": False})
    token = sign_in_as(client, db, settings, world.people["jury_national"])
    url = f"/national/sessions/{jury.id}/proclamer"
    unconfirmed = client.post(url, data={"csrf_token": token})
    assert unconfirmed.status_code == 400 and 'id="confirm-error"' in unconfirmed.text
    missing = client.post(url, data={"csrf_token": token, "confirm": "oui"})
    assert missing.status_code == 400
    assert "Candidat Test : pas de décision pour GRU, MDR, POS, TD." in missing.text
    assert client.get(f"/national/sessions/{jury.id}/pv.pdf").status_code == 404

    _decide_all(client, token, dossier)
    done = client.post(url, data={"csrf_token": token, "confirm": "oui"}, follow_redirects=False)
    assert done.status_code == 303
    issued = db.scalars(select(Certificate).order_by(Certificate.id)).all()
    assert [(c.kind, c.bloc_key) for c in issued] == [
        ("ccp", "GRU"),
        ("ccp", "MDR"),
        ("ccp", "POS"),
    ]
    for certificate in issued:
        path = certificate_path(settings, certificate)
        assert path is not None and path.exists()
    proclamation = db.scalars(select(Proclamation)).one()
    pv = client.get(f"/national/sessions/{jury.id}/pv.pdf")
    assert pv.status_code == 200 and pv.headers["content-type"] == "application/pdf"
    assert verify_pdf(settings, pv.content).valid
    pv_text = " ".join(
        (page.extract_text() or "") for page in PdfReader(io.BytesIO(pv.content)).pages
    )
    pv_text = " ".join(pv_text.split())
    assert "Procès-verbal de délibération" in pv_text and "Candidat Test" in pv_text
    assert "non validé" in pv_text and all(c.code in pv_text for c in issued)
    assert "Validation partielle" in pv_text and "blocs manquants TD" in pv_text
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "session.proclaim")).one()
    assert entry.details["pv_sha256"] == proclamation.pv_sha256
    assert entry.details["certificates"] == [c.code for c in issued]

    to = sorted(m["to"] for m in mails)
    assert to == ["candidat@test.fr", "manager@test.fr", "referent@test.fr", "tuteur@test.fr"]
    body = next(m["body"] for m in mails if m["to"] == "candidat@test.fr")
    assert "validation partielle" in body and "Blocs manquants : TD." in body
    assert "Préconisation TD : se former." in body and issued[0].code in body
    assert "/tableau-de-bord" in body

    page = client.get(f"/national/sessions/{jury.id}")
    assert "Session proclamée le" in page.text and issued[0].code in page.text
    assert 'name="confirm"' not in page.text
    again = client.post(url, data={"csrf_token": token, "confirm": "oui"})
    assert again.status_code == 400 and "déjà proclamée le" in again.text
    frozen = client.post(
        f"/national/dossiers/{dossier.id}/decisions",
        data={
            "csrf_token": token,
            **{f"validated-{k}": "oui" for k in ("GRU", "MDR", "POS", "TD")},
        },
    )
    assert frozen.status_code == 400 and "déjà été proclamée" in frozen.text
    read_only = client.get(f"/national/dossiers/{dossier.id}")
    assert "les décisions ne sont plus modifiables" in read_only.text
    assert "Enregistrer les décisions" not in read_only.text and " disabled" in read_only.text
    assert db.scalar(select(Deliberation.validated).where(Deliberation.bloc_key == "TD")) is False

    # tampered PV on disk: not served
    path = pv_dir(settings) / str(proclamation.pv_file)
    path.write_bytes(path.read_bytes() + b"%")
    assert client.get(f"/national/sessions/{jury.id}/pv.pdf").status_code == 404


def test_a_failure_while_storing_rolls_everything_back(
    client: TestClient,
    db: Session,
    settings: Settings,
    mails: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from portal.certificates import store_certificate_pdf as real
    from portal.views import national as views

    world = build_world(db)
    jury, dossier = _agenda(db, world)
    token = sign_in_as(client, db, settings, world.people["admin"])
    _decide_all(client, token, dossier)
    calls: list[int] = []

    def failing(*, settings: Settings, certificate: Certificate) -> None:
        calls.append(certificate.id)
        if len(calls) == 3:
            raise OSError("disque plein")
        real(settings=settings, certificate=certificate)

    monkeypatch.setattr(views, "store_certificate_pdf", failing)
    with TestClient(client.app, raise_server_exceptions=False) as failing_client:
        failing_client.cookies = client.cookies
        response = failing_client.post(
            f"/national/sessions/{jury.id}/proclamer", data={"csrf_token": token, "confirm": "oui"}
        )
    assert response.status_code == 500
    assert db.scalars(select(Certificate)).all() == []
    assert db.scalars(select(Proclamation)).all() == []
    db.refresh(world.own)
    assert world.own.status == "en_cours"
    folder = settings.data_dir / "certificates"
    assert not folder.exists() or not any(folder.glob("*.pdf"))
    assert mails == []


def test_mail_failure_does_not_undo_the_proclamation(
    client: TestClient, db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(settings: Settings, **kw: Any) -> None:
        raise ConnectionRefusedError("smtp")

    monkeypatch.setattr(notify, "send_mail", broken)
    world = build_world(db)
    jury, dossier = _agenda(db, world)
    token = sign_in_as(client, db, settings, world.people["admin"])
    _decide_all(client, token, dossier)
    done = client.post(
        f"/national/sessions/{jury.id}/proclamer",
        data={"csrf_token": token, "confirm": "oui"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert db.scalars(select(Proclamation)).one().pv_sha256
    db.refresh(world.own)
    assert world.own.status == "clos"


def test_dashboards_show_the_results(
    client: TestClient, db: Session, settings: Settings, mails: list[dict[str, Any]]
) -> None:
    world = build_world(db)
    jury, dossier = _agenda(db, world, favourable={"TD": False})
    token = sign_in_as(client, db, settings, world.people["candidat"])
    before = client.get("/tableau-de-bord")
    assert f"/parcours/{world.own.id}/avis" in before.text and "Voir l'avis du jury" in before.text
    admin_token = sign_in_as(client, db, settings, world.people["admin"])
    _decide_all(client, admin_token, dossier)
    client.post(
        f"/national/sessions/{jury.id}/proclamer",
        data={"csrf_token": admin_token, "confirm": "oui"},
    )
    assert token
    sign_in_as(client, db, settings, world.people["candidat"])
    page = client.get("/tableau-de-bord")
    assert "Validation partielle" in page.text and "Blocs manquants : TD" in page.text
    assert "Préconisation TD : se former." in page.text
    assert f"/parcours/{world.own.id}/avis" in page.text and "ses préconisations" in page.text
    code = db.scalars(select(Certificate.code)).first()
    assert code and code in page.text
    sign_in_as(client, db, settings, world.people["tuteur"])
    followed = client.get("/tableau-de-bord")
    assert "Validation partielle" in followed.text and "acquis : GRU, MDR, POS" in followed.text
    sign_in_as(client, db, settings, world.people["jury_national"])
    assert "/national/sessions" in client.get("/tableau-de-bord").text


def test_jury_national_reads_the_livret_and_carnet_of_a_dossier(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    _, dossier = _agenda(db, world)
    sign_in_as(client, db, settings, world.people["jury_national"])
    page = client.get(f"/national/dossiers/{dossier.id}")
    for link in (f"/parcours/{world.own.id}/livret.pdf", f"/parcours/{world.own.id}/carnet.pdf"):
        assert link in page.text
        assert client.get(link).status_code == 200
    assert client.get(f"/parcours/{world.foreign.id}/carnet.pdf").status_code == 404


def test_dashboard_queries_do_not_grow_with_the_results(
    client: TestClient, db: Session, settings: Settings, mails: list[dict[str, Any]]
) -> None:
    from sqlalchemy import event

    world = build_world(db)
    admin = world.people["admin"]
    token = sign_in_as(client, db, settings, admin)

    def proclaimed(parcours_list: list[Any]) -> None:
        jury = _today(db)
        for parcours in parcours_list:
            _decide_all(client, token, on_agenda(db, jury, _signed(db, world, parcours)))
        client.post(
            f"/national/sessions/{jury.id}/proclamer", data={"csrf_token": token, "confirm": "oui"}
        )

    def count() -> int:
        statements: list[str] = []
        engine = db.get_bind()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            page = client.get("/tableau-de-bord")
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert page.status_code == 200
        return len(statements)

    proclaimed([world.own])
    one = count()
    proclaimed([world.foreign])
    assert count() == one
