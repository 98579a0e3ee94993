"""Opening a parcours through /parcours/nouveau: success, every validation error, access."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from carnet.models import Carnet
from portal.settings import Settings
from tests.portal.world import SYSTEM, World, build_world, sign_in_as
from vae.audit.models import AuditEntry
from vae.parcours.models import HeldBloc, Parcours
from vae.people.models import Civility, Role
from vae.people.service import create_user

URL = "/parcours/nouveau"
GC, COS = "RNCP35729", "RNCP35543"
FormData = dict[str, str | list[str]]


def _count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Parcours)) or 0


def _error(page: str, name: str) -> str:
    """The French message shown next to field ``name`` ('' when there is none)."""
    match = re.search(rf'<p class="error-message" id="{re.escape(name)}-error">(.*?)</p>', page)
    return html.unescape(match.group(1)) if match else ""


def _invalid(page: str, name: str) -> bool:
    """The field is marked invalid and described by its error."""
    match = re.search(rf'<(?:select|input)[^>]*id="f-{re.escape(name)}"[^>]*>', page)
    tag = match.group(0) if match else ""
    return 'aria-invalid="true"' in tag and f"{name}-error" in tag


def _options(page: str, name: str) -> list[str]:
    """The option values of select ``name``."""
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    return re.findall(r'<option value="([^"]*)"', match.group(1)) if match else []


def _as_referent(client: TestClient, db: Session, settings: Settings) -> tuple[World, str]:
    world = build_world(db)
    return world, sign_in_as(client, db, settings, world.people["referent"])


def _as_admin(client: TestClient, db: Session, settings: Settings) -> tuple[World, str]:
    world = build_world(db)
    return world, sign_in_as(client, db, settings, world.people["admin"])


def _valid(world: World, token: str, **changes: Any) -> FormData:
    """A valid référent form: the CPAM candidate (already on a COS parcours) starts GC."""
    people = world.people
    form: FormData = {
        "csrf_token": token,
        "candidate": str(people["candidat"].id),
        "certification": GC,
        "route": "formation",
        "tutor": str(people["tuteur"].id),
        "manager": str(people["manager"].id),
        "start_date": "2026-10-05",
    }
    form.update(changes)
    return form


def _post(client: TestClient, form: Mapping[str, str | list[str]]):  # type: ignore[no-untyped-def]
    return client.post(URL, data=form, follow_redirects=False)


# --- success --------------------------------------------------------------------------------


def test_referent_sees_only_their_organisme_and_both_certifications(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world, _ = _as_referent(client, db, settings)
    page = client.get(URL)
    assert page.status_code == 200
    text = page.text
    assert "Organisme employeur :</strong> CPAM Test" in text
    assert 'name="employer"' not in text  # fixed, shown read-only
    people = world.people
    assert _options(text, "candidate") == ["", str(people["candidat"].id)]
    assert _options(text, "tutor") == ["", str(people["tuteur"].id)]
    assert _options(text, "manager") == ["", str(people["manager"].id)]
    assert f'value="{COS}"' in text and f'value="{GC}"' in text
    # Without JavaScript every certification's blocs are on the page, GRU / MDR said shared.
    for name, key in [("COS", "POS"), ("COS", "TD"), ("GC", "GDU"), ("GC", "GRU"), ("COS", "MDR")]:
        assert f'name="held-{name}" value="{key}"' in text
    assert "Les blocs GRU et MDR sont communs aux deux CQP" in text


def test_referent_enrols_a_candidate_with_a_held_bloc(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world, token = _as_referent(client, db, settings)
    before = _count(db)
    form = _valid(
        world,
        token,
        **{
            "held-GC": ["GRU"],
            "origin-GC-GRU": "  bloc GRU du CQP Conseiller offres de services  ",
            "obtained-GC-GRU": "2025-06-30",
        },
    )
    response = _post(client, form)
    assert response.status_code == 303, _error(response.text, "held_blocs") or response.text
    parcours = db.scalars(select(Parcours).order_by(Parcours.id.desc())).first()
    assert parcours is not None and _count(db) == before + 1
    assert response.headers["location"] == f"/parcours/{parcours.id}"
    assert parcours.candidate_id == world.people["candidat"].id
    assert parcours.certification.code == GC and parcours.route == "formation"
    assert parcours.employer_id == world.cpam.id
    assert (parcours.tutor_id, parcours.manager_id) == (
        world.people["tuteur"].id,
        world.people["manager"].id,
    )
    assert parcours.start_date == date(2026, 10, 5)
    assert parcours.created_by_id == world.people["referent"].id
    held = db.scalars(select(HeldBloc).where(HeldBloc.parcours_id == parcours.id)).all()
    assert [(h.bloc_key, h.origin, h.obtained_on) for h in held] == [
        ("GRU", "bloc GRU du CQP Conseiller offres de services", date(2025, 6, 30))
    ]
    carnet = db.scalar(select(Carnet).where(Carnet.parcours_id == parcours.id))
    assert carnet is not None and carnet.handed_over_on == date(2026, 10, 5)
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "parcours.open", AuditEntry.object_id == str(parcours.id)
        )
    )
    assert entry is not None and entry.actor_id == world.people["referent"].id
    assert entry.details["held_blocs"] == ["GRU"]
    shown = client.get(response.headers["location"])
    assert shown.status_code == 200 and "déjà détenu" in shown.text


def test_admin_enrols_in_any_organisme(client: TestClient, db: Session, settings: Settings) -> None:
    world, token = _as_admin(client, db, settings)
    page = client.get(URL)
    assert page.status_code == 200
    employers = _options(page.text, "employer")
    assert str(world.caf.id) in employers and str(world.cpam.id) in employers
    assert str(world.ucanss.id) not in employers  # not an organisme
    assert (
        '<optgroup label="CAF Test">' in page.text and '<optgroup label="CPAM Test">' in page.text
    )
    people = world.people
    form = {
        "csrf_token": token,
        "employer": str(world.caf.id),
        "candidate": str(people["other_candidat"].id),
        "certification": GC,  # their formation parcours is on COS
        "route": "vae",
        "tutor": str(people["other_tuteur"].id),
        "manager": str(people["other_manager"].id),
        "start_date": "2026-11-02",
    }
    response = _post(client, form)
    assert response.status_code == 303
    parcours = db.get(Parcours, int(response.headers["location"].rsplit("/", 1)[1]))
    assert parcours is not None
    assert (parcours.employer_id, parcours.route, parcours.certification.code) == (
        world.caf.id,
        "vae",
        GC,
    )
    assert parcours.held_blocs == []
    assert db.scalar(select(Carnet).where(Carnet.parcours_id == parcours.id)) is not None


def test_a_double_submission_opens_one_parcours(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world, token = _as_referent(client, db, settings)
    before = _count(db)
    first = _post(client, _valid(world, token))
    second = _post(client, _valid(world, token))
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert _count(db) == before + 1
    # Another start date is not a second parcours towards the same CQP while one is open.
    third = _post(client, _valid(world, token, start_date="2027-01-04"))
    assert third.status_code == 400 and "a déjà un parcours en cours vers ce CQP" in third.text
    assert _count(db) == before + 1


# --- validation ------------------------------------------------------------------------------


def test_an_empty_form_gets_a_french_error_next_to_every_field(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _, token = _as_admin(client, db, settings)
    before = _count(db)
    response = _post(client, {"csrf_token": token})
    assert response.status_code == 400
    page = response.text
    expected = {
        "employer": "Choisissez l'organisme employeur.",
        "candidate": "Choisissez le candidat.",
        "tutor": "Choisissez le tuteur.",
        "manager": "Choisissez le manager.",
        "certification": "Choisissez la certification : CQP Conseiller offres de services ou "
        "CQP Gestionnaire conseil.",
        "route": "Choisissez la voie : formation ou VAE.",
        "start_date": "Indiquez la date de début du parcours.",
    }
    for name, message in expected.items():
        assert _error(page, name) == message, name
        assert f'href="#f-{name}"' in page  # the error summary links to the field
    for name in ("employer", "candidate", "tutor", "manager", "certification", "start_date"):
        assert _invalid(page, name), name
    assert 'aria-describedby="route-error"' in page
    assert 'class="error-summary" role="alert"' in page
    assert "Le formulaire contient 7 erreurs" in page
    assert _count(db) == before


def test_unknown_values_are_errors_next_to_their_field_and_values_are_kept(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world, token = _as_admin(client, db, settings)
    before = _count(db)
    form = {
        "csrf_token": token,
        "employer": "999999",
        "candidate": "999999",
        "tutor": "pas-un-nombre",
        "manager": str(world.people["tuteur"].id),  # exists, but not a manager
        "certification": "RNCP99999",
        "route": "correspondance",
        "start_date": "31/02/2026",
    }
    response = _post(client, form)
    assert response.status_code == 400
    page = response.text
    assert _error(page, "employer") == "Choisissez l'organisme employeur dans la liste."
    assert _error(page, "candidate") == "Choisissez un candidat dans la liste."
    assert _error(page, "tutor") == "Choisissez un tuteur dans la liste."
    assert _error(page, "manager") == "Choisissez un manager dans la liste."
    assert _error(page, "certification").startswith("Choisissez la certification")
    assert _error(page, "route") == "Choisissez la voie : formation ou VAE."
    assert _error(page, "start_date") == "Saisissez la date de début au format jj/mm/aaaa."
    assert 'value="31/02/2026"' in page  # what was typed is kept
    assert _count(db) == before


def test_values_are_kept_when_one_field_is_wrong(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world, token = _as_referent(client, db, settings)
    form = _valid(
        world, token, route="", **{"held-GC": ["MDR"], "origin-GC-MDR": "CCP obtenu en 2024"}
    )
    response = _post(client, form)
    assert response.status_code == 400
    page = response.text
    assert _error(page, "route") and not _error(page, "candidate")
    assert f'<option value="{world.people["candidat"].id}" selected>' in page
    assert f'<option value="{world.people["tuteur"].id}" selected>' in page
    assert f'<option value="{GC}" selected>' in page
    assert 'value="2026-10-05"' in page
    assert 'name="held-GC" value="MDR" checked' in page
    assert 'value="CCP obtenu en 2024"' in page
    # The chosen certification's list comes first and carries the held_blocs anchor.
    assert page.index('id="f-held_blocs"') < page.index('name="held-COS"')


@pytest.mark.parametrize(
    ("field", "person"),
    [("candidate", "other_candidat"), ("tutor", "other_tuteur"), ("manager", "other_manager")],
)
def test_referent_cannot_use_someone_of_another_organisme(
    client: TestClient, db: Session, settings: Settings, field: str, person: str
) -> None:
    world, token = _as_referent(client, db, settings)
    before = _count(db)
    response = _post(client, _valid(world, token, **{field: str(world.people[person].id)}))
    assert response.status_code == 400
    noun = {"candidate": "un candidat", "tutor": "un tuteur", "manager": "un manager"}[field]
    assert _error(response.text, field) == f"Choisissez {noun} de votre organisme dans la liste."
    assert _invalid(response.text, field)
    assert _count(db) == before


def test_referent_cannot_open_a_parcours_in_another_organisme(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world, token = _as_referent(client, db, settings)
    before = _count(db)
    response = _post(client, _valid(world, token, employer=str(world.caf.id)))
    assert response.status_code == 400
    assert (
        _error(response.text, "employer")
        == "Vous ne pouvez ouvrir un parcours que dans votre organisme."
    )
    assert 'aria-describedby="employer-error"' in response.text
    assert _count(db) == before


def test_admin_picks_people_of_the_employer_only(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world, token = _as_admin(client, db, settings)
    before = _count(db)
    form = _valid(world, token, employer=str(world.cpam.id))
    form["tutor"] = str(world.people["other_tuteur"].id)
    form["candidate"] = str(world.people["other_candidat"].id)
    response = _post(client, form)
    assert response.status_code == 400
    assert (
        _error(response.text, "candidate")
        == "Le candidat doit être salarié de l'organisme employeur (CPAM Test)."
    )
    assert (
        _error(response.text, "tutor")
        == "Le tuteur doit être salarié de l'organisme employeur (CPAM Test)."
    )
    assert not _error(response.text, "manager")
    assert _count(db) == before


def test_the_domain_rules_come_back_next_to_the_field(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world, token = _as_referent(client, db, settings)
    both = create_user(
        session=db,
        actor=SYSTEM,
        email="tuteur.manager@test.fr",
        civility=Civility.M,
        first_name="Double",
        last_name="Casquette",
        organisation=world.cpam,
        roles={Role.TUTEUR, Role.MANAGER},
    )
    db.flush()
    before = _count(db)
    response = _post(client, _valid(world, token, tutor=str(both.id), manager=str(both.id)))
    assert response.status_code == 400
    assert (
        _error(response.text, "manager") == "Le tuteur et le manager attestent chacun de leur côté."
    )
    assert _count(db) == before


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("", "Indiquez la date de début du parcours."),
        ("demain", "Saisissez la date de début au format jj/mm/aaaa."),
        ("1999-12-31", "La date de début doit être comprise entre le 1er janvier 2000 et le "),
        ("2999-01-01", "La date de début doit être comprise entre le 1er janvier 2000 et le "),
    ],
)
def test_start_date_is_checked(
    client: TestClient, db: Session, settings: Settings, start: str, message: str
) -> None:
    world, token = _as_referent(client, db, settings)
    response = _post(client, _valid(world, token, start_date=start))
    assert response.status_code == 400
    assert _error(response.text, "start_date").startswith(message)
    assert _invalid(response.text, "start_date")


HELD_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "no origin",
        {"held-GC": ["GRU"], "origin-GC-GRU": "  "},
        "origin-GC-GRU",
        "Indiquez l'origine du bloc GRU (par exemple « CCP obtenu en 2024 »).",
    ),
    (
        "origin too long",
        {"held-GC": ["GRU"], "origin-GC-GRU": "x" * 301},
        "origin-GC-GRU",
        "L'origine ne doit pas dépasser 300 caractères.",
    ),
    (
        "origin without the tick",
        {"origin-GC-MDR": "CCP obtenu en 2023"},
        "origin-GC-MDR",
        "Cochez « Bloc déjà détenu » pour le bloc MDR, ou effacez son origine.",
    ),
    (
        "bad date",
        {"held-GC": ["GRU"], "origin-GC-GRU": "CCP 2024", "obtained-GC-GRU": "juin 2024"},
        "obtained-GC-GRU",
        "Saisissez la date d'obtention au format jj/mm/aaaa.",
    ),
    (
        "future date",
        {"held-GC": ["GRU"], "origin-GC-GRU": "CCP", "obtained-GC-GRU": "2999-01-01"},
        "obtained-GC-GRU",
        "La date d'obtention ne peut pas être dans le futur.",
    ),
    (
        "after the start",
        {"held-GC": ["GRU"], "origin-GC-GRU": "CCP", "obtained-GC-GRU": "2026-10-06"},
        "obtained-GC-GRU",
        "Le bloc doit avoir été obtenu avant le début du parcours.",
    ),
    (
        "every bloc held",
        {
            "held-GC": ["GRU", "MDR", "GDU"],
            "origin-GC-GRU": "CCP",
            "origin-GC-MDR": "CCP",
            "origin-GC-GDU": "CCP",
        },
        "held_blocs",
        "Tous les blocs sont cochés comme déjà détenus : il n'y a rien à évaluer dans ce parcours.",
    ),
    (
        "a bloc of the other CQP",
        {"held-GC": ["POS"], "origin-GC-POS": "CCP"},
        "held_blocs",
        "Cochez uniquement des blocs du CQP GC.",
    ),
    (
        "ticked in the other list",
        {"held-COS": ["GRU"], "origin-COS-GRU": "CCP obtenu en 2024"},
        "held_blocs",
        "Des blocs sont cochés dans la liste du CQP COS, mais la certification choisie est le "
        "CQP GC : décochez-les et cochez les blocs détenus dans la liste du CQP GC.",
    ),
]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [case[1:] for case in HELD_CASES],
    ids=[case[0] for case in HELD_CASES],
)
def test_held_blocs_are_checked(
    client: TestClient,
    db: Session,
    settings: Settings,
    changes: dict[str, Any],
    field: str,
    message: str,
) -> None:
    world, token = _as_referent(client, db, settings)
    before = _count(db)
    response = _post(client, _valid(world, token, **changes))
    assert response.status_code == 400
    assert _error(response.text, field) == message
    if field == "held_blocs":
        assert 'id="f-held_blocs" aria-describedby="held_blocs-error"' in response.text
    else:
        assert _invalid(response.text, field)
    assert _count(db) == before


# --- htmx --------------------------------------------------------------------------------------


def test_htmx_refresh_lists_the_chosen_certification_blocs_only(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _as_referent(client, db, settings)
    page = client.get(URL, params={"certification": GC}, headers={"HX-Request": "true"})
    assert page.status_code == 200 and page.headers["vary"] == "HX-Request"
    assert 'id="held-blocs"' in page.text
    assert 'name="held-GC" value="GDU"' in page.text
    assert 'name="held-COS"' not in page.text
    assert "Bloc commun aux deux CQP" in page.text
    # The select asks for it; without htmx the same URL lists everything.
    assert 'hx-get="/parcours/nouveau"' in page.text and 'hx-select="#held-blocs"' in page.text
    plain = client.get(URL, params={"certification": GC})
    assert 'name="held-COS"' in plain.text and 'name="held-GC"' in plain.text


def test_htmx_refresh_lists_the_chosen_employer_people_only(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world, _ = _as_admin(client, db, settings)
    page = client.get(URL, params={"employer": world.caf.id}, headers={"HX-Request": "true"})
    assert page.status_code == 200
    assert 'hx-select="#employer-people"' in page.text
    people = world.people
    assert str(world.cpam.id) in _options(page.text, "employer")  # every organisme still offered
    assert _options(page.text, "candidate") == ["", str(people["other_candidat"].id)]
    assert _options(page.text, "tutor") == ["", str(people["other_tuteur"].id)]
    assert _options(page.text, "manager") == ["", str(people["other_manager"].id)]


# --- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["candidat", "tuteur", "manager", "jury_pro"])
def test_other_roles_are_refused(
    client: TestClient, db: Session, settings: Settings, role: str
) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people[role])
    before = _count(db)
    assert client.get(URL).status_code == 403
    assert _post(client, _valid(world, token)).status_code == 403
    assert _count(db) == before


def test_anonymous_is_sent_to_sign_in(client: TestClient, db: Session) -> None:
    build_world(db)
    response = client.get(URL, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/connexion?suite=/parcours/nouveau"


def test_the_dashboard_links_the_form_for_referents_and_administrators(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    for role, shown in [("referent", True), ("admin", True), ("tuteur", False)]:
        client.cookies.clear()
        sign_in_as(client, db, settings, world.people[role])
        page = client.get("/tableau-de-bord")
        assert ('href="/parcours/nouveau"' in page.text) is shown, role
        assert ("Ouvrir un parcours" in page.text) is shown, role


def test_odd_query_parameters_are_ignored(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _as_admin(client, db, settings)
    for params in (
        {"employer": "9" * 30, "certification": "RNCP99999"},
        {"employer": "-1", "certification": ""},
        {"employer": "<script>", "certification": "<b>"},
    ):
        page = client.get(URL, params=params, headers={"HX-Request": "true"})
        assert page.status_code == 200
        assert 'name="held-COS"' in page.text and 'name="held-GC"' in page.text
        assert "<script>" not in page.text.split("<body", 1)[1]
