"""Every route × every role × own / foreign object: allowed, 404 or 403.

The expectations are written out here, independently of ``portal.permissions``: a route added
to the router without an entry below makes ``test_every_route_has_an_expectation`` fail.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from portal.accounts.service import open_session
from portal.app import routes
from portal.permissions import Action
from portal.settings import Settings
from tests.portal.world import World, build_world, sign_in_as
from vae.orm import utcnow

ROLES = [
    "anonymous",
    "candidat",
    "tuteur",
    "manager",
    "referent",
    "jury_pro",
    "jury_national",
    "admin",
]
SIGNED = ROLES[1:]


def _all(status: int | tuple[int, int]) -> dict[str, tuple[int, int]]:
    pair = status if isinstance(status, tuple) else (status, status)
    return {role: pair for role in ROLES}


def _signed(status: int | tuple[int, int], anonymous: int = 303) -> dict[str, tuple[int, int]]:
    table = _all(status)
    table["anonymous"] = (anonymous, anonymous)
    return table


def _only(allowed: dict[str, tuple[int, int]], others: int = 403) -> dict[str, tuple[int, int]]:
    table = _signed(others)
    table.update(allowed)
    return table


PARCOURS_VIEW = _signed(404) | {
    "candidat": (200, 404),
    "tuteur": (200, 404),
    "manager": (200, 404),
    "referent": (200, 404),
    "admin": (200, 200),
}
USER_ADMIN_GET = _only({"referent": (200, 404), "admin": (200, 200)})
USER_ADMIN_POST = _only({"referent": (303, 404), "admin": (303, 303)})

# (route name, method) → role → (own object, foreign object) expected status
EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("home", "GET"): _all(200) | {r: (303, 303) for r in SIGNED},
    ("healthz", "GET"): _all(200),
    ("referentiel", "GET"): _all(200),
    ("referentiel_certification", "GET"): _all((200, 404)),
    ("referentiel_bloc", "GET"): _all((200, 404)),
    ("signin", "GET"): _all(200) | {r: (303, 303) for r in SIGNED},
    ("signin", "POST"): _all(400),  # wrong password
    ("signout", "POST"): _signed(303),
    ("invitation", "GET"): _all(404),  # unknown link
    ("invitation", "POST"): _all(404),
    ("reset_request", "GET"): _all(200),
    ("reset_request", "POST"): _all(200),
    ("reset", "GET"): _all(404),
    ("reset", "POST"): _all(404),
    ("account", "GET"): _signed(200),
    ("account_password", "POST"): _signed(400),  # wrong current password
    ("account_signout_everywhere", "POST"): _signed(303),
    ("account_session_revoke", "POST"): _signed((303, 404)),
    ("dashboard", "GET"): _signed(200),
    ("parcours", "GET"): PARCOURS_VIEW,
    ("admin_organisations", "GET"): _only({"admin": (200, 200)}),
    ("admin_organisations", "POST"): _only({"admin": (400, 400)}),  # empty form
    ("admin_users", "GET"): _only({"referent": (200, 200), "admin": (200, 200)}),
    ("admin_user_new", "GET"): _only({"referent": (200, 200), "admin": (200, 200)}),
    ("admin_user_new", "POST"): _only({"referent": (400, 400), "admin": (400, 400)}),
    ("admin_user", "GET"): USER_ADMIN_GET,
    ("admin_user_roles", "POST"): _only({"referent": (303, 404), "admin": (303, 303)}),
    ("admin_user_active", "POST"): USER_ADMIN_POST,
    ("admin_user_invite", "POST"): _only({"referent": (200, 404), "admin": (200, 200)}),
    ("enrolment", "GET"): _only({"referent": (200, 200), "admin": (200, 200)}),
    ("enrolment", "POST"): _only({"referent": (400, 400), "admin": (400, 400)}),  # empty form
}


ATTESTERS = {"tuteur", "manager"}
CARNET_EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("carnets", "GET"): _only({r: (200, 200) for r in ("tuteur", "manager", "referent", "admin")}),
    ("carnet", "GET"): PARCOURS_VIEW,
    ("carnet_pdf", "GET"): PARCOURS_VIEW,
    ("carnet_competence", "GET"): PARCOURS_VIEW,
    ("carnet_self", "POST"): _only({"candidat": (303, 404)}),
    ("carnet_attest", "GET"): _only({r: (200, 404) for r in ATTESTERS}),
    ("carnet_attest", "POST"): _only({r: (303, 404) for r in ATTESTERS}),
    # the version is the tutor's draft: the manager may not sign it; a wrong hash is a conflict
    ("carnet_sign", "GET"): _only({"tuteur": (200, 404), "manager": (404, 404)}),
    ("carnet_sign", "POST"): _only({"tuteur": (409, 404), "manager": (404, 404)}),
    ("carnet_milestone", "POST"): _only(
        {"tuteur": (303, 404), "manager": (303, 404), "referent": (303, 404), "admin": (303, 303)}
    ),
}
EXPECTED.update(CARNET_EXPECTED)

ANNEX_EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("livret_annex", "GET"): PARCOURS_VIEW,
    ("livret_annex_upload", "POST"): _only({"candidat": (400, 404)}),  # no file in the form
    ("livret_annex_delete", "POST"): _only({"candidat": (303, 404)}),
}
EXPECTED.update(ANNEX_EXPECTED)

# world.own is a VAE parcours (its livret exists); world.foreign is a formation parcours (no
# livret: 404); situation routes use, as "foreign", a situation of another candidate's livret.
VISIBLE = ("candidat", "tuteur", "manager", "referent", "admin")
LIVRET_READ = _signed(404) | {r: (200, 404) for r in VISIBLE}
SITUATION_READ = _signed(404) | {r: (200, 404) for r in VISIBLE} | {"admin": (200, 200)}
LIVRET_EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("livret", "GET"): LIVRET_READ,
    ("livret", "POST"): _signed(404) | {r: (403, 404) for r in VISIBLE} | {"candidat": (303, 404)},
    ("livret_add_situation", "POST"): _only({"candidat": (303, 404)}),
    ("livret_profile", "GET"): LIVRET_READ,
    ("livret_profile", "POST"): _signed(404)
    | {r: (403, 404) for r in VISIBLE}
    | {"candidat": (303, 404)},
    ("livret_coverage", "GET"): LIVRET_READ,
    ("livret_submit", "POST"): _only({"candidat": (400, 404)}),  # nothing written yet
    ("livret_return", "POST"): _only({"admin": (400, 404)}),  # not submitted
    ("livret_situation", "GET"): SITUATION_READ,
    ("livret_situation", "POST"): _signed(404)
    | {r: (403, 404) for r in VISIBLE}
    | {"candidat": (303, 404), "admin": (403, 403)},
    ("livret_autosave", "POST"): _only({"candidat": (200, 404)}),
    ("livret_situation_delete", "POST"): _only({"candidat": (303, 404)}),
    ("livret_situation_delete", "GET"): _only({"candidat": (200, 404)}),  # confirmation
}
EXPECTED.update(LIVRET_EXPECTED)

# own: a session the jury member sits on, with world.own convened; foreign: a session without
# them, with the other candidate convened.
JURY_EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("jury_sessions", "GET"): _only({"jury_pro": (200, 200), "admin": (200, 200)}),
    ("jury_sessions", "POST"): _only({"jury_pro": (403, 403), "admin": (400, 400)}),
    ("jury_session", "GET"): _only({"jury_pro": (200, 404), "admin": (200, 200)}),
    ("jury_assign", "POST"): _only({"admin": (400, 400)}),  # no member chosen
    ("jury_convene", "POST"): _only({"admin": (400, 400)}),  # no candidate chosen
    ("jury_reschedule", "POST"): _only({"admin": (400, 400)}),  # no time given
    ("convocation_pdf", "GET"): _only({"candidat": (200, 404), "admin": (200, 200)}),
}
EXPECTED.update(JURY_EXPECTED)
EXPECTED.update(
    {
        ("parcours_trainer_add", "POST"): _only({"referent": (400, 404), "admin": (400, 400)}),
        ("parcours_trainer_remove", "POST"): _only({"referent": (303, 404), "admin": (303, 303)}),
    }
)

# The interview packs: the session's members and the administrators, 404 for anyone else.
# own: a session the jury member sits on, world.own convened; foreign: a session without them,
# world.foreign convened (a formation pack for the administrator).
PACK_READ = _signed(404) | {"jury_pro": (200, 404), "admin": (200, 200)}
PACK_EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("jury_pack", "GET"): PACK_READ,
    ("jury_pack_pdf", "GET"): PACK_READ,
    ("jury_session_packs", "GET"): PACK_READ,
    # a batch is already running for the session: nothing is launched, the page follows
    ("jury_session_packs", "POST"): _signed(404) | {"jury_pro": (303, 404), "admin": (303, 303)},
    ("jury_session_packs_zip", "GET"): PACK_READ,
}
EXPECTED.update(PACK_EXPECTED)

# The livret PDF: whoever sees the parcours (an empty draft when nothing is written yet);
# world.foreign follows the formation route, it has no livret: 404 for the administrator too.
LIVRET_PDF_EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("livret_pdf", "GET"): _signed(404)
    | {r: (200, 404) for r in ("candidat", "tuteur", "manager", "referent", "admin")},
}
EXPECTED.update(LIVRET_PDF_EXPECTED)

# Further features keep their expectations in ``tests/portal/policy_<feature>.py``: each module
# has ``EXPECTED`` (same shape as above) and ``url(name, world, role, own, db, settings)``.
EXTENSIONS = [
    importlib.import_module(f"tests.portal.{info.name}")
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda i: i.name)
    if info.name.startswith("policy_")
]
for _extension in EXTENSIONS:
    EXPECTED.update(_extension.EXPECTED)


def _router_routes() -> list[tuple[str, str, Route]]:
    found = []
    for route in routes():
        if isinstance(route, Mount):
            continue
        assert isinstance(route, Route)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((route.name, method, route))
    return found


def test_every_route_has_an_expectation_and_a_policy() -> None:
    found = {(name, method) for name, method, _ in _router_routes()}
    assert found == set(EXPECTED), (
        f"routes without expectation: {sorted(found - set(EXPECTED))}; "
        f"stale expectations: {sorted(set(EXPECTED) - found)}"
    )
    for name, _, route in _router_routes():
        assert isinstance(getattr(route.endpoint, "__policy__", None), Action), name


def _url(name: str, world: World, role: str, own: bool, db: Session, settings: Settings) -> str:
    people = world.people
    if name == "referentiel_certification":
        return "/referentiel/RNCP35543" if own else "/referentiel/RNCP99999"
    if name == "referentiel_bloc":
        return "/referentiel/RNCP35543/POS" if own else "/referentiel/RNCP35729/POS"
    if name in ("parcours_trainer_add", "parcours_trainer_remove"):
        parcours = world.own if own else world.foreign
        if name == "parcours_trainer_add":
            return f"/parcours/{parcours.id}/formateurs"
        return f"/parcours/{parcours.id}/formateurs/{world.people['tuteur'].id}/retirer"
    if name == "parcours":
        return f"/parcours/{(world.own if own else world.foreign).id}"
    if name in ("admin_user", "admin_user_roles", "admin_user_active", "admin_user_invite"):
        target = people["candidat"] if own else people["other_candidat"]
        suffix = {
            "admin_user": "",
            "admin_user_roles": "/roles",
            "admin_user_active": "/activation",
            "admin_user_invite": "/invitation",
        }[name]
        return f"/admin/utilisateurs/{target.id}{suffix}"
    if name in (
        "carnet",
        "carnet_pdf",
        "carnet_competence",
        "carnet_self",
        "carnet_attest",
        "carnet_milestone",
    ):
        parcours = world.own if own else world.foreign
        suffix = {
            "carnet": "/carnet",
            "carnet_pdf": "/carnet.pdf",
            "carnet_competence": "/carnet/GRU-C1",
            "carnet_self": "/carnet/positionnement/GRU-C1",
            "carnet_attest": "/carnet/GRU-C1/attester",
            "carnet_milestone": "/carnet/jalons/positionnement",
        }[name]
        return f"/parcours/{parcours.id}{suffix}"
    if name == "livret_pdf":
        return f"/parcours/{(world.own if own else world.foreign).id}/livret.pdf"
    if name in ("livret_annex", "livret_annex_upload", "livret_annex_delete"):
        annex = _annex_for(db, world, own, settings)
        return {
            "livret_annex": f"/livret/annexes/{annex.id}",
            "livret_annex_upload": f"/livret/situations/{annex.situation_id}/annexes",
            "livret_annex_delete": f"/livret/annexes/{annex.id}/supprimer",
        }[name]
    for extension in EXTENSIONS:
        if (name, "GET") in extension.EXPECTED or (name, "POST") in extension.EXPECTED:
            return str(extension.url(name, world, role, own, db, settings))
    if name in JURY_EXPECTED_NAMES:
        return _jury_url(name, world, own, db)
    if name in PACK_EXPECTED_NAMES:
        return _pack_url(name, world, own, db, settings)
    if name.startswith("livret"):
        return _livret_url(name, world, own, db)
    if name == "carnet_sign":
        version = _draft_for(db, world, own)
        parcours = world.own if own else world.foreign
        return f"/parcours/{parcours.id}/carnet/versions/{version.id}/signer"
    if name == "account_session_revoke":
        owner = people[role] if own and role != "anonymous" else people["other_candidat"]
        _, other = open_session(
            session=db, user=owner, ip="x", user_agent="x", now=utcnow(), settings=settings
        )
        db.flush()
        return f"/compte/sessions/{other.id}/revoquer"
    paths = {route.name: route.path for _, _, route in _router_routes()}
    return paths[name].replace("{token}", "lien-inconnu")


def _draft_for(db: Session, world: World, own: bool):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from carnet.service import AttestationInput, save_draft
    from vae.audit.service import Actor
    from vae.referentiel.models import CompetenceRecord
    from vae.referentiel.service import get_referentiel

    parcours = world.own if own else world.foreign
    tutor = world.people["tuteur" if own else "other_tuteur"]
    row = db.scalars(select(CompetenceRecord).where(CompetenceRecord.key == "GRU-C1")).first()
    referentiel = get_referentiel(db)
    assert row is not None and referentiel is not None
    return save_draft(
        session=db,
        actor=Actor(tutor.id, "t", ""),
        user=tutor,
        parcours=parcours,
        competence_row=row,
        competence=referentiel.blocs["GRU"].competence("GRU-C1"),
        data=AttestationInput(**ATTESTATION),
        base_number=0,
        lock_version=0,
        now=utcnow(),
    )


def _annex_for(db: Session, world: World, own: bool, settings: Settings):  # type: ignore[no-untyped-def]
    """An annex (row and file) on the own VAE parcours, or on a CAF candidate's VAE parcours
    (``world.foreign`` follows the formation route: it has no livret)."""
    import hashlib
    import uuid
    from datetime import date

    from sqlalchemy import select

    from vae.audit.service import Actor
    from vae.livret.annexes import annex_folder
    from vae.livret.models import Annex, Situation
    from vae.livret.service import get_or_open
    from vae.parcours.models import Route as ParcoursRoute
    from vae.parcours.service import open_parcours
    from vae.referentiel.models import CertificationRecord

    parcours = world.own
    if not own:
        gc = db.scalars(
            select(CertificationRecord).where(CertificationRecord.short == "GC")
        ).first()
        assert gc is not None
        parcours = open_parcours(
            session=db,
            actor=Actor.system("tests"),
            candidate=world.people["other_candidat"],
            certification=gc,
            route=ParcoursRoute.VAE,
            employer=world.caf,
            tutor=world.people["other_tuteur"],
            manager=world.people["other_manager"],
            start_date=date(2026, 9, 1),
        )
    situation = Situation(
        livret=get_or_open(db, parcours), bloc_key="MDR", competence_keys=[], criterion_keys=[]
    )
    data = b"%PDF-1.4 not parsed when served\n%%EOF\n"
    stored = f"{uuid.uuid4().hex}.pdf"
    folder = annex_folder(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored).write_bytes(data)
    annex = Annex(
        situation=situation,
        original_name="piece.pdf",
        stored_name=stored,
        size=len(data),
        pages=1,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    db.add(annex)
    db.flush()
    return annex


ATTESTATION = {
    "situation_date": "2026-11-02",
    "situation_kind": "accueil_telephonique",
    "description": "Appel d'une assurée.",
    "observed": ["GRU-C1-1", "GRU-C1-2"],
    "verdict": "en_cours",
    "comment": "",
}


def _livret_url(name: str, world: World, own: bool, db: Session) -> str:
    from datetime import date

    from sqlalchemy import select

    from carnet.service import enrol
    from vae.audit.service import Actor
    from vae.livret import service as livret_service
    from vae.parcours.models import Route as ParcoursRoute
    from vae.referentiel.models import CertificationRecord
    from vae.referentiel.service import get_referentiel

    livret = livret_service.get_or_open(db, world.own)
    if name in (
        "livret",
        "livret_add_situation",
        "livret_profile",
        "livret_coverage",
        "livret_submit",
        "livret_return",
    ):
        if name == "livret" and own:
            db.delete(livret)  # the POST opens it
            db.flush()
        parcours = world.own if own else world.foreign
        suffix = {
            "livret": "",
            "livret_add_situation": "/situations",
            "livret_profile": "/profil",
            "livret_coverage": "/couverture",
            "livret_submit": "/soumettre",
            "livret_return": "/retour",
        }[name]
        return f"/parcours/{parcours.id}/livret{suffix}"
    referentiel = get_referentiel(db)
    assert referentiel is not None
    if not own:
        other = world.people["other_candidat"]
        gc = db.scalars(
            select(CertificationRecord).where(CertificationRecord.short == "GC")
        ).first()
        assert gc is not None
        parcours = enrol(
            session=db,
            actor=Actor.system(),
            candidate=other,
            certification=gc,
            route=ParcoursRoute.VAE,
            employer=world.caf,
            tutor=world.people["other_tuteur"],
            manager=world.people["other_manager"],
            start_date=date(2026, 9, 1),
        )
        livret = livret_service.get_or_open(db, parcours)
    candidate = livret.parcours.candidate
    situation = livret_service.add_situation(
        session=db,
        actor=Actor(candidate.id, "c", ""),
        user=candidate,
        livret=livret,
        certification=referentiel.certification(livret.parcours.certification.code),
        bloc_key="GRU",
        now=utcnow(),
    )
    db.flush()
    suffix = {
        "livret_situation": "",
        "livret_autosave": "/autosave",
        "livret_situation_delete": "/supprimer",
    }[name]
    return f"/livret/situations/{situation.id}{suffix}"


JURY_EXPECTED_NAMES = {name for name, _ in JURY_EXPECTED}


def _jury_url(name: str, world: World, own: bool, db: Session) -> str:
    from datetime import UTC, date, datetime

    from vae.jury.models import Convocation, JuryMember, JurySession

    def session_with(parcours, member):  # type: ignore[no-untyped-def]
        jury = JurySession(
            kind="professionnel", day=date(2027, 2, 9), place="Montreuil", capacity=10
        )
        db.add(jury)
        db.flush()
        if member is not None:
            db.add(JuryMember(session_id=jury.id, user_id=member.id, quality="president"))
        convocation = Convocation(
            session_id=jury.id,
            parcours_id=parcours.id,
            at=datetime(2027, 2, 9, 9, tzinfo=UTC),
            place="Montreuil",
        )
        db.add(convocation)
        db.flush()
        return jury, convocation

    mine = session_with(world.own, world.people["jury_pro"])
    other = session_with(world.foreign, None)
    jury, convocation = mine if own else other
    if name == "jury_sessions":
        return "/jury/sessions"
    if name == "jury_reschedule":
        return f"/jury/convocations/{convocation.id}/horaire"
    if name == "convocation_pdf":
        return f"/convocations/{convocation.id}.pdf"
    suffix = {"jury_session": "", "jury_assign": "/membres", "jury_convene": "/convocations"}
    return f"/jury/sessions/{jury.id}{suffix[name]}"


PACK_EXPECTED_NAMES = {name for name, _ in PACK_EXPECTED}


def _pack_url(name: str, world: World, own: bool, db: Session, settings: Settings) -> str:
    """A session with one convocation; a running batch (the POST launches nothing) and a
    finished one with its zip on disk."""
    from datetime import UTC, date, datetime

    from portal.pdf.pack_batch import packs_folder
    from portal.pdf.pack_models import PackBatch
    from vae.jury.models import Convocation, JuryMember, JurySession

    parcours, member = (world.own, world.people["jury_pro"]) if own else (world.foreign, None)
    jury = JurySession(kind="professionnel", day=date(2027, 2, 9), place="Montreuil", capacity=10)
    db.add(jury)
    db.flush()
    if member is not None:
        db.add(JuryMember(session_id=jury.id, user_id=member.id, quality="president"))
    convocation = Convocation(
        session_id=jury.id,
        parcours_id=parcours.id,
        at=datetime(2027, 2, 9, 9, tzinfo=UTC),
        place="Montreuil",
    )
    db.add(convocation)
    now = datetime.now(UTC)
    archive = f"matrix-{jury.id}.zip"
    folder = packs_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / archive).write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip
    db.add(PackBatch(session_id=jury.id, status="termine", archive=archive, finished_at=now))
    db.add(PackBatch(session_id=jury.id, status="en_cours", started_at=now, updated_at=now))
    db.flush()
    return {
        "jury_pack": f"/jury/convocations/{convocation.id}/dossier",
        "jury_pack_pdf": f"/jury/convocations/{convocation.id}/dossier.pdf",
        "jury_session_packs": f"/jury/sessions/{jury.id}/dossiers",
        "jury_session_packs_zip": f"/jury/sessions/{jury.id}/dossiers.zip",
    }[name]


FORMS: dict[str, dict[str, str | list[str]]] = {
    "livret_add_situation": {"bloc": "GRU"},
    "livret_situation": {"lock_version": "1"},
    "livret_autosave": {"lock_version": "1", "title": "Brouillon"},
    "livret_return": {"reason": "x"},
    "carnet_self": {"level": "en_cours", "comment": "", "lock_version": "0"},
    "carnet_attest": {**ATTESTATION, "base_number": "0", "lock_version": "0"},
    "carnet_sign": {"content_hash": "0" * 64},
    "carnet_milestone": {
        "day": "2026-09-10",
        "other_participants": "Mme Durand, RRH",
        "lock_version": "0",
    },
    "signin": {"email": "candidat@test.fr", "password": "mauvais mot de passe"},
    "account_password": {"current": "faux", "password": "x", "confirm": "x"},
    "reset_request": {"email": "personne@test.fr"},
    "admin_user_roles": {"roles": ["candidat"]},
    "admin_user_active": {"active": "0"},
}

CASES = [
    (name, method, role, own)
    for (name, method) in sorted(EXPECTED)
    for role in ROLES
    for own in (True, False)
]


@pytest.mark.parametrize(("name", "method", "role", "own"), CASES)
def test_policy_matrix(
    client: TestClient,
    db: Session,
    settings: Settings,
    name: str,
    method: str,
    role: str,
    own: bool,
) -> None:
    world = build_world(db)
    token = ""
    if role != "anonymous":
        token = sign_in_as(client, db, settings, world.people[role])
    else:
        client.get("/connexion")  # anonymous CSRF cookie
        token = client.cookies.get("csrf") or ""
    url = _url(name, world, role, own, db, settings)
    if method == "GET":
        response = client.get(url, follow_redirects=False)
    else:
        data = {"csrf_token": token, **FORMS.get(name, {})}
        response = client.post(url, data=data, follow_redirects=False)
    expected = EXPECTED[(name, method)][role][0 if own else 1]
    if role == "anonymous" and method == "POST" and expected == 303:
        expected = 401  # a form sent without a session: "session expirée", texts kept
    assert response.status_code == expected, f"{method} {url} as {role}: {response.status_code}"
    if expected == 404:
        assert "Page introuvable" in response.text or "plus valable" in response.text
