"""What the procès-verbal states for a passerelle dossier: the blocs held from before (counted
without a decision) and one row per certificate issued with its code."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from pypdf import PdfReader

from portal.pdf.pv import pv_pdf
from vae.decision.rules import Issuance


def _outcome(issuance: Issuance, certificates: list[Any], decisions: list[Any]) -> Any:
    parcours = SimpleNamespace(
        candidate=SimpleNamespace(full_name="Inès Moreau"),
        route="vae",
        employer=SimpleNamespace(name="CAF du Rhône"),
        certification=SimpleNamespace(short="COS"),
    )
    dossier = SimpleNamespace(parcours=parcours, decisions=decisions)
    return SimpleNamespace(dossier=dossier, issuance=issuance, certificates=certificates)


def _text(data: bytes) -> str:
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def _pv(outcome: Any) -> str:
    proclaimed = SimpleNamespace(
        proclamation=SimpleNamespace(proclaimed_at=datetime(2027, 3, 17, 15, 0, tzinfo=UTC)),
        outcomes=[outcome],
        certificates=outcome.certificates,
    )
    jury = SimpleNamespace(day=date(2027, 3, 17), place="Ucanss, Montreuil")
    return _text(pv_pdf(jury_session=jury, proclaimed=proclaimed, proclaimed_by=None))  # type: ignore[arg-type]


def test_a_passerelle_dossier_names_the_held_blocs_and_every_code() -> None:
    decisions = [
        SimpleNamespace(bloc_key="POS", validated=True, reason=""),
        SimpleNamespace(bloc_key="TD", validated=True, reason=""),
    ]
    certificates = [
        SimpleNamespace(
            kind="ccp", bloc_key="POS", certification_short="COS", code="AAAA-BBBB-CCCC-DDDD"
        ),
        SimpleNamespace(
            kind="ccp", bloc_key="TD", certification_short="COS", code="EEEE-FFFF-GGGG-HHHH"
        ),
        SimpleNamespace(
            kind="cqp", bloc_key=None, certification_short="COS", code="JJJJ-KKKK-MMMM-NNNN"
        ),
    ]
    issuance = Issuance(
        ccp_blocs=("POS", "TD"),
        acquired_blocs=("GRU", "MDR", "POS", "TD"),
        missing_blocs=(),
        cqp=True,
        cqp_withheld_reason=None,
    )
    text = _pv(_outcome(issuance, certificates, decisions))
    assert "Blocs déjà détenus, comptés sans délibération : GRU, MDR." in text
    assert "CCP POS AAAA-BBBB-CCCC-DDDD" in text
    assert "CCP TD EEEE-FFFF-GGGG-HHHH" in text
    assert "CQP COS JJJJ-KKKK-MMMM-NNNN" in text
    assert "CQP COS délivré." in text
    assert "Proclamation 17/03/2027 à 16:00" in text  # 15:00 UTC, Paris time like the pages


def test_a_dossier_without_held_blocs_or_certificates_says_so() -> None:
    decisions = [SimpleNamespace(bloc_key=k, validated=False, reason="") for k in ("GRU", "MDR")]
    issuance = Issuance(
        ccp_blocs=(),
        acquired_blocs=(),
        missing_blocs=("GRU", "MDR", "POS", "TD"),
        cqp=False,
        cqp_withheld_reason=None,
    )
    text = _pv(_outcome(issuance, [], decisions))
    assert "déjà détenus" not in text
    assert "Aucun certificat délivré." in text
    assert "Validation partielle" in text
