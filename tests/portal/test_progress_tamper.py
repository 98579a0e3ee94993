"""Livret pages re-verify the carnet on every view: a signed attestation whose stored content
was altered after signing (a raw UPDATE), or whose audit entry no longer matches, stops counting
towards the carnet progress shown on the coverage matrix and the situation page."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from carnet.models import AttestationVersion
from carnet.service import AttestationInput, save_draft, sign, version_hash
from portal.settings import Settings
from tests.livret.helpers import add
from tests.portal.world import World, build_world, sign_in_as
from vae.audit.service import Actor
from vae.livret import service
from vae.referentiel.model import Referentiel
from vae.referentiel.models import CompetenceRecord

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
KEY = "GRU-C1"
BOTH = "Attestée par le tuteur et le manager"


def _competence_row(db: Session, world: World) -> CompetenceRecord:
    return db.scalars(
        select(CompetenceRecord)
        .join(CompetenceRecord.bloc)
        .where(
            CompetenceRecord.key == KEY,
            CompetenceRecord.bloc.has(version_id=world.own.certification.version_id),
        )
    ).one()


def _attest_and_sign(
    db: Session, world: World, referentiel: Referentiel, who: str
) -> AttestationVersion:
    user = world.people[who]
    actor = Actor(user.id, user.full_name, "10.0.0.1")
    version = save_draft(
        session=db,
        actor=actor,
        user=user,
        parcours=world.own,
        competence_row=_competence_row(db, world),
        competence=referentiel.blocs["GRU"].competence(KEY),
        data=AttestationInput(
            situation_date="2026-11-03",
            situation_kind="accueil_physique",
            description=f"Accueil d'un assuré observé par le {who}.",
            observed=["GRU-C1-1", "GRU-C1-2", "GRU-C1-3", "GRU-C1-4"],
            verdict="maitrisee",
            comment="",
        ),
        base_number=0,
        lock_version=0,
        now=NOW,
    )
    return sign(
        session=db,
        actor=actor,
        user=user,
        parcours=world.own,
        version=version,
        competence_key=KEY,
        confirmed_hash=version_hash(version, world.own.id, KEY),
        now=NOW,
    )


def _carnet_cell(html: str, referentiel: Referentiel) -> str:
    """The 'Carnet de suivi' cell of GRU-C1 in the GRU coverage table."""
    competence = referentiel.blocs["GRU"].competence(KEY)
    section = html.split('aria-labelledby="cov-GRU"', 1)[1].split("</section>", 1)[0]
    row = section.split(f"{competence.number} – {escape(competence.label)}</th>", 1)[1]
    return row.split("</tr>", 1)[0].rsplit("<td>", 1)[1].split("</td>", 1)[0].strip()


def _pages(
    client: TestClient, world: World, situation_id: int, referentiel: Referentiel
) -> dict[str, str]:
    """The carnet cell of GRU-C1 on the coverage matrix and on the situation page."""
    cells = {}
    for name, url in (
        ("coverage", f"/parcours/{world.own.id}/livret/couverture"),
        ("situation", f"/livret/situations/{situation_id}"),
    ):
        page = client.get(url)
        assert page.status_code == 200, (name, page.status_code)
        cells[name] = _carnet_cell(page.text, referentiel)
    return cells


def _tamper_content(db: Session, version_id: int, **values: object) -> None:
    db.execute(
        update(AttestationVersion).where(AttestationVersion.id == version_id).values(**values)
    )
    db.commit()
    db.expire_all()


@pytest.mark.parametrize("tampered", ["tuteur", "manager"])
def test_a_tampered_signature_stops_counting_on_the_livret_pages(
    client: TestClient,
    db: Session,
    settings: Settings,
    referentiel: Referentiel,
    tampered: str,
) -> None:
    world = build_world(db)
    versions = {who: _attest_and_sign(db, world, referentiel, who) for who in ("tuteur", "manager")}
    situation = add(db, world, referentiel, service.get_or_open(db, world.own), "GRU")
    db.commit()
    sign_in_as(client, db, settings, world.people["candidat"])

    assert _pages(client, world, situation.id, referentiel) == {
        "coverage": BOTH,
        "situation": BOTH,
    }

    version = versions[tampered]
    if tampered == "tuteur":
        # the content changes, its stored hash no longer matches it
        _tamper_content(db, version.id, description="Texte réécrit après la signature.")
    else:
        # the content changes and its stored hash is rewritten to match: only the audit
        # entry's recorded hash still tells
        _tamper_content(db, version.id, observed_criteria=["GRU-C1-1"])
        changed = db.get(AttestationVersion, version.id)
        assert changed is not None
        _tamper_content(db, version.id, content_hash=version_hash(changed, world.own.id, KEY))

    kept = "manager" if tampered == "tuteur" else "tuteur"
    expected = f"Attestée par le {kept} seulement"
    assert _pages(client, world, situation.id, referentiel) == {
        "coverage": expected,
        "situation": expected,
    }

    # the carnet page and its PDF agree (load_carnet)
    carnet = client.get(f"/parcours/{world.own.id}/carnet")
    assert carnet.status_code == 200 and "Signature rompue" in carnet.text
    assert BOTH not in carnet.text.split('id="c-GRU-C1"', 1)[1].split("</article>", 1)[0]
    pdf = client.get(f"/parcours/{world.own.id}/carnet.pdf")
    assert pdf.status_code == 200
    text = " ".join(
        " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.content)).pages).split()
    )
    assert "Signature rompue" in text


def test_both_tampered_leaves_no_carnet_evidence(
    client: TestClient, db: Session, settings: Settings, referentiel: Referentiel
) -> None:
    world = build_world(db)
    ids = [_attest_and_sign(db, world, referentiel, who).id for who in ("tuteur", "manager")]
    situation = add(db, world, referentiel, service.get_or_open(db, world.own), "GRU")
    db.commit()
    sign_in_as(client, db, settings, world.people["candidat"])
    assert _pages(client, world, situation.id, referentiel)["coverage"] == BOTH

    db.execute(
        update(AttestationVersion)
        .where(AttestationVersion.id.in_(ids))
        .values(description="Réécrit par un script.")
    )
    db.commit()

    assert _pages(client, world, situation.id, referentiel) == {
        "coverage": "—",
        "situation": "—",
    }
