"""Annexes through HTTP: upload, refusals that leave nothing, download headers and access,
deletion, the submitted livret, the 50 Mo cap and the request body cap."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.settings import REPO_ROOT, Settings
from portal.views import livret_annexes as views
from tests.fixtures import pdfs
from tests.livret.helpers import NOW, actor, add, complete_livret
from tests.portal.world import World, build_world, sign_in_as
from vae.audit.models import AuditEntry
from vae.livret import annexes, service
from vae.livret.models import Annex, Situation
from vae.people.models import Civility, Role
from vae.people.service import create_user
from vae.referentiel.model import Referentiel

MIB = 1024 * 1024


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


@pytest.fixture
def situation(db: Session, world: World, referentiel: Referentiel) -> Situation:
    return add(db, world, referentiel, service.get_or_open(db, world.own), "GRU")


def _folder(settings: Settings) -> Path:
    return annexes.annex_folder(settings.data_dir)


def _files(settings: Settings) -> list[str]:
    folder = _folder(settings)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _upload(
    client: TestClient,
    token: str,
    situation_id: int,
    data: bytes,
    name: str = "attestation.pdf",
    htmx: bool = False,
):  # type: ignore[no-untyped-def]
    return client.post(
        f"/livret/situations/{situation_id}/annexes",
        data={"csrf_token": token},
        files={"file": (name, data, "application/pdf")},
        headers={"HX-Request": "true"} if htmx else {},
        follow_redirects=False,
    )


def _count(db: Session, action: str) -> int:
    return db.scalar(select(func.count()).where(AuditEntry.action == action)) or 0


def test_upload_stores_the_file_under_a_generated_name_outside_static(
    client: TestClient, db: Session, settings: Settings, world: World, situation: Situation
) -> None:
    token = sign_in_as(client, db, settings, world.people["candidat"])
    data = pdfs.valid_pdf(3)
    response = _upload(client, token, situation.id, data, "Fiche de poste <b>.pdf")
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/livret/situations/{situation.id}#annexes-{situation.id}"
    )
    annex = db.scalars(select(Annex).where(Annex.situation_id == situation.id)).one()
    assert annex.original_name == "Fiche de poste <b>.pdf" and annex.pages == 3
    assert _files(settings) == [annex.stored_name]
    stored = _folder(settings) / annex.stored_name
    assert stored.read_bytes() == data
    assert "attestation" not in annex.stored_name and "Fiche" not in annex.stored_name
    assert not stored.resolve().is_relative_to(REPO_ROOT / "static")
    assert _count(db, "livret.annex_add") == 1
    page = client.get(f"/livret/situations/{situation.id}")
    assert "Fiche de poste &lt;b&gt;.pdf" in page.text
    assert f'href="/livret/annexes/{annex.id}"' in page.text


def test_htmx_upload_and_delete_refresh_the_list_in_place(
    client: TestClient, db: Session, settings: Settings, world: World, situation: Situation
) -> None:
    token = sign_in_as(client, db, settings, world.people["candidat"])
    added = _upload(client, token, situation.id, pdfs.valid_pdf(2), "bulletin.pdf", htmx=True)
    assert added.status_code == 200
    assert "<html" not in added.text and f'id="annexes-{situation.id}"' in added.text
    assert "Annexe « bulletin.pdf » jointe (2 p.)." in added.text
    annex = db.scalars(select(Annex)).one()
    removed = client.post(
        f"/livret/annexes/{annex.id}/supprimer",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert removed.status_code == 200 and "Annexe « bulletin.pdf » retirée." in removed.text
    assert "Aucune annexe pour cette situation." in removed.text
    assert _files(settings) == []


@pytest.mark.parametrize(
    ("data", "status", "says"),
    [
        (pdfs.html_page(), 400, "Ce fichier n&#39;est pas un PDF, c&#39;est une page web HTML"),
        (pdfs.zip_with_pdf(), 400, "n&#39;est pas un PDF, c&#39;est une archive ZIP"),
        (pdfs.encrypted("secret"), 400, "protégé par un mot de passe"),
        (pdfs.encrypted(""), 400, "chiffré"),
        (pdfs.truncated(), 400, "endommagé ou incomplet"),
        (pdfs.javascript_open_action(), 400, "JavaScript"),
        (pdfs.embedded_file(), 400, "fichiers joints"),
        (pdfs.decompression_bomb(), 400, "démesuré"),
        (b"", 400, "Ce fichier est vide."),
        (pdfs.padded_to(10 * MIB + 1), 413, "Le fichier dépasse 10 Mo (il fait 10,1 Mo)"),
    ],
    ids=[
        "html",
        "zip-polyglot",
        "password",
        "empty-password",
        "truncated",
        "javascript",
        "embedded",
        "bomb",
        "empty",
        "10MB+1",
    ],
)
def test_a_refused_file_leaves_nothing_and_says_why_next_to_the_field(
    client: TestClient,
    db: Session,
    settings: Settings,
    world: World,
    situation: Situation,
    data: bytes,
    status: int,
    says: str,
) -> None:
    token = sign_in_as(client, db, settings, world.people["candidat"])
    before = _files(settings)
    response = _upload(client, token, situation.id, data, "../../etc/passwd")
    assert response.status_code == status
    field = f"annex-file-{situation.id}"
    assert f'<p class="error-message" id="{field}-error">' in response.text
    assert says in response.text
    assert f'aria-describedby="{field}-hint {field}-error" aria-invalid="true"' in response.text
    assert db.scalar(select(func.count()).select_from(Annex)) == 0
    assert _files(settings) == before
    assert not any(name.endswith(".tmp") for name in _files(settings))
    assert _count(db, "livret.annex_refused") == 1


def test_no_file_chosen(
    client: TestClient, db: Session, settings: Settings, world: World, situation: Situation
) -> None:
    token = sign_in_as(client, db, settings, world.people["candidat"])
    response = client.post(
        f"/livret/situations/{situation.id}/annexes",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400 and "Choisissez le fichier PDF à joindre." in response.text


def test_download_headers_and_audit(
    client: TestClient, db: Session, settings: Settings, world: World, situation: Situation
) -> None:
    token = sign_in_as(client, db, settings, world.people["candidat"])
    data = pdfs.valid_pdf()
    _upload(client, token, situation.id, data, 'Relevé "final"\r\n; filename=evil.html')
    annex = db.scalars(select(Annex)).one()
    assert annex.original_name == 'Relevé "final"; filename=evil.html.pdf'
    response = client.get(f"/livret/annexes/{annex.id}")
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == (
        'attachment; filename="Releve _final__ filename_evil.html.pdf"; '
        "filename*=UTF-8''Relev%C3%A9%20%22final%22%3B%20filename%3Devil.html.pdf"
    )
    assert "sandbox" in response.headers["content-security-policy"]
    assert "no-store" in response.headers["cache-control"]
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "livret.annex_download")).one()
    assert entry.object_id == str(annex.id) and entry.outcome == "ok"


@pytest.mark.parametrize("who", ["candidat", "tuteur", "manager", "referent", "admin"])
def test_who_may_see_the_parcours_downloads(
    client: TestClient,
    db: Session,
    settings: Settings,
    world: World,
    situation: Situation,
    who: str,
) -> None:
    annex = annexes.add_annex(
        session=db,
        actor=actor(world),
        user=world.people["candidat"],
        situation=situation,
        data=pdfs.valid_pdf(),
        filename="a.pdf",
        folder=_folder(settings),
        now=NOW,
    )
    sign_in_as(client, db, settings, world.people[who])
    response = client.get(f"/livret/annexes/{annex.id}")
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")


@pytest.mark.parametrize("who", ["other_candidat", "caf_referent", "jury_pro", "other_tuteur"])
def test_others_get_404_everywhere(
    client: TestClient,
    db: Session,
    settings: Settings,
    world: World,
    situation: Situation,
    who: str,
) -> None:
    annex = annexes.add_annex(
        session=db,
        actor=actor(world),
        user=world.people["candidat"],
        situation=situation,
        data=pdfs.valid_pdf(),
        filename="a.pdf",
        folder=_folder(settings),
        now=NOW,
    )
    if who == "caf_referent":
        person = create_user(
            session=db,
            actor=actor(world, "admin"),
            email="referent.caf@test.fr",
            civility=Civility.M,
            first_name="Paul",
            last_name="Caf",
            organisation=world.caf,
            roles={Role.REFERENT},
        )
    else:
        person = world.people[who]
    token = sign_in_as(client, db, settings, person)
    assert client.get(f"/livret/annexes/{annex.id}").status_code == 404
    if who == "other_candidat":  # the other roles may not write a livret at all (403)
        assert _upload(client, token, situation.id, pdfs.valid_pdf()).status_code == 404
        deleted = client.post(f"/livret/annexes/{annex.id}/supprimer", data={"csrf_token": token})
        assert deleted.status_code == 404
    assert _files(settings) == [annex.stored_name]
    assert db.scalar(select(func.count()).select_from(Annex)) == 1


def test_a_submitted_livret_refuses_uploads_and_deletions(
    client: TestClient, db: Session, settings: Settings, referentiel: Referentiel
) -> None:
    world = build_world(db)
    livret = complete_livret(db, world, referentiel)
    situation = livret.situations[0]
    annex = annexes.add_annex(
        session=db,
        actor=actor(world),
        user=world.people["candidat"],
        situation=situation,
        data=pdfs.valid_pdf(),
        filename="a.pdf",
        folder=_folder(settings),
        now=NOW,
    )
    service.submit(
        session=db,
        actor=actor(world),
        user=world.people["candidat"],
        livret=livret,
        certification=referentiel.certification(world.own.certification.code),
        sworn=True,
        now=NOW,
    )
    db.commit()
    token = sign_in_as(client, db, settings, world.people["candidat"])
    refused = _upload(client, token, situation.id, pdfs.valid_pdf())
    assert refused.status_code == 409 and "Ce livret est soumis" in refused.text
    assert 'type="file"' not in refused.text
    deleted = client.post(f"/livret/annexes/{annex.id}/supprimer", data={"csrf_token": token})
    assert deleted.status_code == 409
    assert _files(settings) == [annex.stored_name]
    assert db.scalar(select(func.count()).select_from(Annex)) == 1
    assert client.get(f"/livret/annexes/{annex.id}").status_code == 200  # still readable


def test_the_livret_cap(
    client: TestClient,
    db: Session,
    settings: Settings,
    world: World,
    situation: Situation,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = pdfs.valid_pdf()
    monkeypatch.setattr(annexes, "MAX_LIVRET_BYTES", len(data) + 100)
    token = sign_in_as(client, db, settings, world.people["candidat"])
    assert _upload(client, token, situation.id, data).status_code == 303
    files = _files(settings)
    refused = _upload(client, token, situation.id, data)
    assert refused.status_code == 413
    assert "Les annexes d&#39;un livret ne peuvent dépasser 50 Mo au total" in refused.text
    assert _files(settings) == files
    assert db.scalar(select(func.count()).select_from(Annex)) == 1


def test_delete_removes_the_row_and_the_file(
    client: TestClient, db: Session, settings: Settings, world: World, situation: Situation
) -> None:
    token = sign_in_as(client, db, settings, world.people["candidat"])
    _upload(client, token, situation.id, pdfs.valid_pdf())
    annex = db.scalars(select(Annex)).one()
    response = client.post(
        f"/livret/annexes/{annex.id}/supprimer", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/livret/situations/{situation.id}")
    assert _files(settings) == []
    assert db.scalar(select(func.count()).select_from(Annex)) == 0
    assert client.get(f"/livret/annexes/{annex.id}").status_code == 404


def test_an_altered_file_is_not_served(
    client: TestClient, db: Session, settings: Settings, world: World, situation: Situation
) -> None:
    token = sign_in_as(client, db, settings, world.people["candidat"])
    _upload(client, token, situation.id, pdfs.valid_pdf())
    annex = db.scalars(select(Annex)).one()
    (_folder(settings) / annex.stored_name).write_bytes(pdfs.html_page())
    response = client.get(f"/livret/annexes/{annex.id}")
    assert response.status_code == 500 and "altéré" in response.text
    assert "<script>alert" not in response.text
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "livret.annex_download")).one()
    assert entry.outcome == "altered"


def _multipart(token: str, data: bytes) -> tuple[bytes, str]:
    boundary = "----annexe-test"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="gros.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversized_request_is_cut_before_it_is_parsed(
    client: TestClient,
    db: Session,
    settings: Settings,
    world: World,
    situation: Situation,
    monkeypatch: pytest.MonkeyPatch,
    chunked: bool,
) -> None:
    _cap_upload_requests(monkeypatch, 64 * 1024)
    token = sign_in_as(client, db, settings, world.people["candidat"])
    body, content_type = _multipart(token, b"%PDF-1.7\n" + b"0" * 200_000)
    chunks = [body[i : i + 16_384] for i in range(0, len(body), 16_384)]
    response = client.post(
        f"/livret/situations/{situation.id}/annexes",
        content=iter(chunks) if chunked else body,
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 413
    assert "Le fichier dépasse 10 Mo : il n&#39;a pas été joint." in response.text
    assert _files(settings) == []
    assert db.scalar(select(func.count()).select_from(Annex)) == 0


def _cap_upload_requests(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    upload = next(r for r in views.routes if getattr(r, "name", "") == "livret_annex_upload")
    monkeypatch.setattr(upload.endpoint, "limit", limit)  # type: ignore[attr-defined]


def test_an_oversized_htmx_request_gets_the_message_on_top_of_the_list(
    client: TestClient,
    db: Session,
    settings: Settings,
    world: World,
    situation: Situation,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _cap_upload_requests(monkeypatch, 64 * 1024)
    token = sign_in_as(client, db, settings, world.people["candidat"])
    response = _upload(client, token, situation.id, b"%PDF-1.7\n" + b"0" * 200_000, htmx=True)
    assert response.status_code == 400
    assert response.headers["hx-retarget"] == f"#annexes-{situation.id}"
    assert response.headers["hx-reswap"] == "afterbegin"
    assert "Le fichier dépasse 10 Mo : il n&#x27;a pas été joint." in response.text
    assert _files(settings) == []
