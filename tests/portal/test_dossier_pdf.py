"""The dossier de certification PDF: the grid, the avis, the signatures, the recours, the
livret and carnet summaries and the national decisions are all in the text."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.settings import Settings
from tests.livret.helpers import NOW, actor, certification_of, complete_livret
from tests.portal.policy_national import national_session, on_agenda, signed_evaluation
from tests.portal.world import build_world, sign_in_as
from vae.decision.models import Deliberation
from vae.livret import service as livret_service
from vae.referentiel.model import Referentiel


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_dossier_pdf_carries_the_whole_decision_package(
    client: TestClient, db: Session, settings: Settings, referentiel: Referentiel
) -> None:
    world = build_world(db)
    livret = complete_livret(db, world, referentiel)
    submission = livret_service.submit(
        session=db,
        actor=actor(world),
        user=world.people["candidat"],
        livret=livret,
        certification=certification_of(referentiel, world),
        sworn=True,
        now=NOW,
    )
    evaluation = signed_evaluation(
        db,
        world.own,
        signer=world.people["jury_pro"],
        favourable={"TD": False},
        recours="Mon entretien a été écourté de vingt minutes.",
    )
    evaluation.avis[0].justification = "Justification du jury sur GRU."
    dossier = on_agenda(db, national_session(db), evaluation)
    db.add(Deliberation(dossier_id=dossier.id, bloc_key="TD", validated=True, reason="Motif TD."))
    db.flush()
    sign_in_as(client, db, settings, world.people["jury_national"])
    response = client.get(f"/national/dossiers/{dossier.id}.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    assert "Grille TD" in outline and "Avis et signatures" in outline
    text = _text(response.content)
    first_criterion = referentiel.blocs["GRU"].competences[0].criteria[0].label
    assert " ".join(first_criterion.split())[:40] in text
    assert "Commentaire C1" in text and "✗ non" in text and "✓ oui" in text
    assert "Bloc TD non validé" in text and "Bloc GRU validé" in text
    assert "Justification du jury sur GRU." in text and "Préconisation TD : se former." in text
    assert evaluation.content_hash is not None and evaluation.content_hash[:20] in text
    assert "Mon entretien a été écourté de vingt minutes." in text
    assert "Situation GRU" in text and submission.content_hash[:20] in text
    assert "Carnet de suivi" in text and "Motif TD." in text
    assert "Page 1 sur" in text
    # Paris time, like the pages (signed at 16:00 UTC in February)
    assert "Signé le 10/02/2027 à 17:00:00" in text and " UTC" not in text
    assert "Recours motivé déposé le 10/02/2027 à 17:00 :" in text
    assert "Aucun recours n'a été déposé" not in text
