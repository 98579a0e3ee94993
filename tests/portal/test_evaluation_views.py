"""The evaluation grid, its signature and the candidate's avis page, through the app."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.settings import Settings
from tests.decision import Jury, branche_peer, certification, jury_for, marks
from tests.portal.world import World, build_world, sign_in_as
from vae.audit.models import AuditEntry
from vae.decision.models import Evaluation, NationalDossier
from vae.jury.models import JuryMember, JurySession
from vae.orm import utcnow
from vae.parcours.models import HeldBloc
from vae.people.models import Civility, Role
from vae.people.service import create_user


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


@pytest.fixture
def jury(db: Session, world: World) -> Jury:
    """The candidate convened yesterday: the grid is open (it opens on the interview's day)."""
    jury = jury_for(db, world.own, world.people["jury_pro"], branche_peer(db, world.own))
    jury.convocation.at = utcnow() - timedelta(days=1)
    db.flush()
    return jury


def url(jury: Jury, suffix: str = "") -> str:
    return f"/jury/evaluations/{jury.convocation.id}{suffix}"


def complete_form(db: Session, token: str, lock: int, **extra: str) -> dict[str, str]:
    cos = certification(db, "COS")
    form = {f"c-{key}": "1" for key in marks(cos)}
    form.update({f"avis-{key}": "favorable" for key in cos.bloc_keys})
    return {"csrf_token": token, "lock_version": str(lock), **form, **extra}


def stored(db: Session, jury: Jury) -> Evaluation | None:
    db.expire_all()
    return db.scalar(select(Evaluation).where(Evaluation.convocation_id == jury.convocation.id))


def test_the_grid_shows_every_bloc_competence_and_criterion_with_its_modality(
    client: TestClient, db: Session, settings: Settings, world: World, jury: Jury
) -> None:
    db.add(HeldBloc(parcours_id=world.own.id, bloc_key="GRU", origin="CCP GRU (CQP GC)"))
    db.flush()
    sign_in_as(client, db, settings, jury.president)
    page = client.get(url(jury))
    assert page.status_code == 200
    html = page.text
    assert "Bloc GRU" in html and "déjà détenu, non évalué" in html
    assert 'name="c-GRU-C1-1"' not in html  # held: not evaluated
    assert "<legend>C7 – " in html  # MDR's first competence, in its fieldset
    assert 'name="c-MDR-C7-1" value="1"' in html and 'name="c-MDR-C7-1" value="0"' in html
    assert "Le candidat se présente au jury VAE" in html  # the VAE modality
    assert "La grille donne : <strong>bloc non validé</strong>" in html
    assert 'hx-post="/jury/evaluations/' in html and 'hx-trigger="change"' in html
    assert "Préparer la signature" in html


def test_the_formation_route_shows_the_observation_and_the_mdr_presentation(
    client: TestClient, db: Session, settings: Settings, world: World
) -> None:
    jury = jury_for(db, world.foreign, world.people["jury_pro"], world.cpam.id)
    sign_in_as(client, db, settings, jury.president)
    html = client.get(url(jury)).text
    assert "Observation en situation réelle de travail" in html
    assert "Présentation orale d'une situation professionnelle" in html
    assert "présentation 10 min" in html


def test_who_may_see_the_grid(
    client: TestClient, db: Session, settings: Settings, world: World, jury: Jury
) -> None:
    other = JurySession(kind="professionnel", day=jury.session.day, place="Lyon", capacity=4)
    db.add(other)
    db.flush()
    outsider = create_user(
        session=db,
        actor=__import__("vae.audit.service", fromlist=["Actor"]).Actor.system("t"),
        email="ailleurs@test.fr",
        civility=Civility.M,
        first_name="Jean",
        last_name="Ailleurs",
        organisation=world.ucanss,
        roles={Role.JURY_PRO},
    )
    db.add(JuryMember(session_id=other.id, user_id=outsider.id, quality="expert"))
    colleague = create_user(
        session=db,
        actor=__import__("vae.audit.service", fromlist=["Actor"]).Actor.system("t"),
        email="collegue@test.fr",
        civility=Civility.MME,
        first_name="Léa",
        last_name="Collègue",
        organisation=world.cpam,  # the candidate's employer
        roles={Role.JURY_PRO},
    )
    db.add(JuryMember(session_id=jury.session.id, user_id=colleague.id, quality="expert"))
    db.flush()
    for user in (outsider, colleague):
        token = sign_in_as(client, db, settings, user)
        assert client.get(url(jury)).status_code == 404
        form = {"csrf_token": token, "lock_version": "0", "c-MDR-C7-1": "1"}
        assert client.post(url(jury), data=form).status_code == 404
    sign_in_as(client, db, settings, world.people["admin"])
    admin_view = client.get(url(jury))
    assert admin_view.status_code == 200 and "Consultation seule" in admin_view.text
    assert "Préparer la signature" not in admin_view.text and " disabled" in admin_view.text
    sign_in_as(client, db, settings, world.people["jury_national"])
    assert client.get(url(jury)).status_code == 404


def test_a_plain_post_saves_and_redirects(
    client: TestClient, db: Session, settings: Settings, jury: Jury
) -> None:
    token = sign_in_as(client, db, settings, jury.president)
    form = {
        "csrf_token": token,
        "lock_version": "0",
        "c-GRU-C1-1": "1",
        "c-GRU-C1-2": "0",
        "comment-GRU-C1": "Reformule bien la demande.\r\nÀ l'aise.",
        "action": "save",
    }
    response = client.post(url(jury), data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == url(jury)
    evaluation = stored(db, jury)
    assert evaluation is not None and evaluation.lock_version == 1
    assert evaluation.marks == {"GRU-C1-1": True, "GRU-C1-2": False}
    assert evaluation.comments == {"GRU-C1": "Reformule bien la demande.\nÀ l'aise."}
    html = client.get(url(jury)).text
    assert 'name="c-GRU-C1-1" value="1" checked' in html
    assert 'id="lock-version" value="1"' in html


def test_an_htmx_change_answers_the_result_regions_only(
    client: TestClient, db: Session, settings: Settings, jury: Jury
) -> None:
    token = sign_in_as(client, db, settings, jury.president)
    gru_c1 = certification(db, "COS").bloc("GRU").bloc.competences[0]
    form = {"csrf_token": token, "lock_version": "0"}
    form.update({f"c-{key}": "1" for key in gru_c1.criterion_keys})
    response = client.post(url(jury), data=form, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.text
    assert "<html" not in html and "Grille enregistrée" in html
    assert (
        '<input type="hidden" name="lock_version" id="lock-version" value="1" hx-swap-oob="true">'
        in html
    )
    result = re.search(r'<p class="result" id="res-GRU-C1"[^>]*>(.*?)</p>', html, re.S)
    assert result is not None and 'hx-swap-oob="innerHTML"' in result.group(0)
    assert "acquise" in result.group(1) and "C1 acquise" in result.group(1)
    assert 'id="res-bloc-GRU"' in html and "Bloc GRU non validé" in html
    assert 'name="c-GRU-C1-1"' not in html  # the fields are not swapped: the focus stays


def test_a_stale_form_answers_409_with_both_versions(
    client: TestClient, db: Session, settings: Settings, jury: Jury
) -> None:
    token = sign_in_as(client, db, settings, jury.president)
    client.post(url(jury), data={"csrf_token": token, "lock_version": "0", "c-GRU-C1-1": "1"})
    token = sign_in_as(client, db, settings, jury.expert)
    stale = {"csrf_token": token, "lock_version": "0", "c-GRU-C1-1": "0"}
    response = client.post(url(jury), data=stale)
    assert response.status_code == 409
    assert "La grille a changé depuis que vous l'avez ouverte" in response.text
    row = re.search(r"<th scope=\"row\">GRU-C1-1 – .*?</tr>", response.text, re.S)
    assert row is not None
    assert '<td class="pre">validé</td><td class="pre">non validé</td>' in row.group(0)
    htmx = client.post(url(jury), data=stale, headers={"HX-Request": "true"})
    assert htmx.status_code == 409 and "<html" not in htmx.text
    assert stored(db, jury).marks == {"GRU-C1-1": True}  # type: ignore[union-attr]


def test_bad_input_answers_400_with_french_messages(
    client: TestClient, db: Session, settings: Settings, jury: Jury
) -> None:
    token = sign_in_as(client, db, settings, jury.president)
    unknown = client.post(
        url(jury), data={"csrf_token": token, "lock_version": "0", "c-GDU-C1-1": "1"}
    )
    assert unknown.status_code == 400
    assert "Critère inconnu dans cette certification : GDU-C1-1." in unknown.text
    long = {"csrf_token": token, "lock_version": "0", "comment-POS-C12": "x" * 4001}
    response = client.post(url(jury), data=long)
    assert response.status_code == 400
    assert re.search(
        r'id="comment-POS-C12-error">Le commentaire ne doit pas dépasser 4000 caractères',
        response.text,
    )
    assert re.search(r'id="f-comment-POS-C12"[^>]*aria-invalid="true"', response.text)
    assert stored(db, jury) is None


def test_preparing_an_incomplete_signature_lists_what_is_missing(
    client: TestClient, db: Session, settings: Settings, jury: Jury
) -> None:
    token = sign_in_as(client, db, settings, jury.president)
    form = complete_form(db, token, 0, action="prepare")
    del form["c-TD-C16-2"]
    form["avis-POS"] = "defavorable"
    response = client.post(url(jury), data=form, follow_redirects=False)
    assert response.status_code == 400
    html = response.text
    assert "La signature n'est pas possible" in html
    assert "Bloc TD : 1 critère(s) non renseigné(s) : TD-C16-2." in html
    assert 'id="miss-TD-C16-2">À renseigner.' in html
    assert (
        "Bloc POS : La grille donne ce bloc validé : justifiez l&#39;avis qui s&#39;en écarte."
        in html
    )
    assert "Les préconisations sont obligatoires" in html
    assert stored(db, jury).marks.get("TD-C16-1") is True  # type: ignore[union-attr]  # saved


def test_both_members_sign_and_the_grid_freezes(
    client: TestClient, db: Session, settings: Settings, world: World, jury: Jury
) -> None:
    token = sign_in_as(client, db, settings, jury.president)
    prepared = client.post(
        url(jury), data=complete_form(db, token, 0, action="prepare"), follow_redirects=False
    )
    assert prepared.status_code == 303 and prepared.headers["location"] == url(jury, "/signature")
    confirm = client.get(url(jury, "/signature"))
    digest = re.search(r'name="content_hash" value="([0-9a-f]{64})"', confirm.text)
    assert confirm.status_code == 200 and digest is not None
    assert "La grille donne" in confirm.text or "Bloc GRU validé" in confirm.text
    signed = client.post(
        url(jury, "/signature"),
        data={"csrf_token": token, "content_hash": digest.group(1)},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    again = client.post(
        url(jury, "/signature"),
        data={"csrf_token": token, "content_hash": digest.group(1)},
        follow_redirects=False,
    )
    assert again.status_code == 303  # a double submission: still one signature
    evaluation = stored(db, jury)
    assert evaluation is not None and evaluation.content_hash == digest.group(1)
    assert len(evaluation.signatures) == 1 and evaluation.signed_at is None
    frozen = client.post(
        url(jury), data=complete_form(db, token, evaluation.lock_version, **{"c-GRU-C1-1": "0"})
    )
    assert frozen.status_code == 409
    assert "L&#39;avis est signé par Jurypro Test : il ne peut plus être modifié." in frozen.text
    session_page = client.get(f"/jury/sessions/{jury.session.id}")
    assert (
        'grille d\'évaluation<span class="visually-hidden"> de Candidat Test</span>'
        in session_page.text
    )
    assert "signée 1/2" in session_page.text

    token = sign_in_as(client, db, settings, jury.expert)
    page = client.get(url(jury))
    assert " disabled" in page.text and "Relire et signer l'avis" in page.text
    confirm = client.get(url(jury, "/signature"))
    assert digest.group(1) in confirm.text
    client.post(
        url(jury, "/signature"), data={"csrf_token": token, "content_hash": digest.group(1)}
    )
    evaluation = stored(db, jury)
    assert evaluation is not None and evaluation.signed_at is not None
    html = client.get(url(jury)).text
    assert "avis définitif" in html and "Paul Expert" in html and "Expert(e) métier" in html
    assert html.count(digest.group(1)) >= 3  # the frozen hash and both signatures
    actions = [e.action for e in db.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert actions.count("evaluation.sign") == 2 and actions.count("evaluation.signed") == 1
    assert "signée 2/2" in client.get(f"/jury/sessions/{jury.session.id}").text
    # the national jury reads it once the dossier is on its agenda
    national = JurySession(
        kind="national", day=jury.session.day + timedelta(days=30), place="Paris", capacity=50
    )
    db.add(national)
    db.flush()
    db.add(
        NationalDossier(
            session_id=national.id, evaluation_id=evaluation.id, parcours_id=world.own.id
        )
    )
    db.flush()
    sign_in_as(client, db, settings, world.people["jury_national"])
    read = client.get(url(jury))
    assert read.status_code == 200 and "avis définitif" in read.text
    assert "Relire et signer" not in read.text and " disabled" in read.text


def _sign_all(client: TestClient, db: Session, settings: Settings, jury: Jury, **avis: str) -> None:
    token = sign_in_as(client, db, settings, jury.president)
    client.post(url(jury), data=complete_form(db, token, 0, **avis))
    for user in (jury.president, jury.expert):
        token = sign_in_as(client, db, settings, user)
        digest = re.search(
            r'name="content_hash" value="([0-9a-f]{64})"', client.get(url(jury, "/signature")).text
        )
        assert digest is not None
        client.post(
            url(jury, "/signature"), data={"csrf_token": token, "content_hash": digest.group(1)}
        )
    assert stored(db, jury).signed  # type: ignore[union-attr]


RECOURS = "Je conteste l'avis défavorable sur le bloc TD : ma situation couvrait C16 et C17."


def test_the_candidate_reads_the_avis_and_files_one_recours(
    client: TestClient, db: Session, settings: Settings, world: World, jury: Jury
) -> None:
    avis_url = f"/parcours/{world.own.id}/avis"
    token = sign_in_as(client, db, settings, world.people["candidat"])
    assert "L'avis du jury n'est pas encore disponible." in client.get(avis_url).text
    _sign_all(
        client,
        db,
        settings,
        jury,
        **{
            "avis-TD": "defavorable",
            "justification-TD": "Exposé confus.",
            "recommendations-TD": "Reprendre la conduite d'entretien.",
        },
    )
    token = sign_in_as(client, db, settings, world.people["candidat"])
    page = client.get(avis_url).text
    assert "défavorable" in page and "Exposé confus." in page
    assert "Reprendre la conduite d&#39;entretien." in page
    assert "Bloc TD validé" in page  # the computed result beside the avis
    assert "C15 – " in page and "acquise" in page
    assert "Motifs du recours" in page and "(heure de Paris)" in page
    short = client.post(avis_url, data={"csrf_token": token, "text": "Pas d'accord."})
    assert short.status_code == 400 and "50 caractères au moins" in short.text
    assert 'aria-invalid="true"' in short.text and "Pas d&#39;accord." in short.text
    filed = client.post(
        avis_url, data={"csrf_token": token, "text": RECOURS}, follow_redirects=False
    )
    assert filed.status_code == 303
    page = client.get(avis_url).text
    assert "Recours déposé le" in page and "Motifs du recours" not in page
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "recours.file")) is not None
    sign_in_as(client, db, settings, world.people["tuteur"])
    tutor = client.get(avis_url)
    assert (
        tutor.status_code == 200
        and "Exposé confus." in tutor.text
        and "<textarea" not in tutor.text
    )
    sign_in_as(client, db, settings, jury.president)
    assert "Recours du candidat" in client.get(url(jury)).text
    sign_in_as(client, db, settings, world.people["other_candidat"])
    assert client.get(avis_url).status_code == 404


def test_after_the_deadline_the_form_gives_way(
    client: TestClient, db: Session, settings: Settings, world: World, jury: Jury
) -> None:
    _sign_all(client, db, settings, jury)
    evaluation = stored(db, jury)
    assert evaluation is not None and evaluation.signed_at is not None
    evaluation.signed_at = evaluation.signed_at - timedelta(days=settings.recours_days, minutes=1)
    db.flush()
    token = sign_in_as(client, db, settings, world.people["candidat"])
    page = client.get(f"/parcours/{world.own.id}/avis").text
    assert "Délai expiré" in page and "<textarea" not in page
    late = client.post(
        f"/parcours/{world.own.id}/avis", data={"csrf_token": token, "text": RECOURS}
    )
    assert late.status_code == 400 and "Le délai de recours est expiré." in late.text
