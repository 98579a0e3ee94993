"""The procès-verbal of a national deliberation: the session, every dossier with each bloc's
decision, the CCP and CQP issued with their codes, the CQPs withheld and why. Rendered and
sealed at proclamation, stored under ``DATA_DIR/pv`` with a generated name; the download
checks the stored SHA-256."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from portal.pdf.base import (
    CONTENT_WIDTH,
    STYLES,
    DocInfo,
    Heading,
    esc,
    fr_date,
    grid,
    key_values,
    para,
)
from portal.pdf.base import render as render_pdf
from portal.settings import Settings
from vae.decision.models import Proclamation
from vae.decision.proclamation import DossierOutcome, Proclaimed
from vae.decision.rules import fr_paris
from vae.jury.models import JurySession
from vae.parcours.models import ROUTE_LABELS
from vae.people.models import User
from vae.storage import write_atomically

ROUTES: dict[str, str] = {str(k): v for k, v in ROUTE_LABELS.items()}
TITLE = "Procès-verbal de délibération du jury paritaire national"


def pv_pdf(
    *, jury_session: JurySession, proclaimed: Proclaimed, proclaimed_by: User | None
) -> bytes:
    moment = proclaimed.proclamation.proclaimed_at
    info = DocInfo(
        title=f"{TITLE} – session du {fr_date(jury_session.day)}",
        subject=TITLE,
        footer=f"Jury paritaire national · session du {fr_date(jury_session.day)}",
        header=f"{TITLE} · {fr_date(jury_session.day)}",
        keywords=("procès-verbal", "jury paritaire national", "CPNEFP"),
    )
    cqp = sum(1 for o in proclaimed.outcomes if o.issuance.cqp)
    ccp = sum(1 for c in proclaimed.certificates if c.kind == "ccp")
    story: list[Flowable] = [
        Heading(TITLE, STYLES.title, outline="Session", level=0),
        key_values(
            [
                ("Session", f"{fr_date(jury_session.day)} – {esc(jury_session.place)}"),
                ("Proclamation", fr_paris(moment)),
                ("Proclamée par", esc(proclaimed_by.full_name) if proclaimed_by else "—"),
                ("Dossiers délibérés", str(len(proclaimed.outcomes))),
                ("Délivrés", f"{cqp} CQP, {ccp} CCP"),
            ]
        ),
        para(
            "Le jury paritaire national, souverain, a délibéré sur chacun des dossiers ci-dessous "
            "au vu des référentiels de certification et des avis des jurys professionnels.",
            STYLES.note,
        ),
    ]
    for number, outcome in enumerate(proclaimed.outcomes, start=1):
        story.extend(_dossier(number, outcome))
    return render_pdf(story, info)


def _dossier(number: int, outcome: DossierOutcome) -> list[Flowable]:
    parcours = outcome.dossier.parcours
    name = parcours.candidate.full_name
    route = ROUTES.get(parcours.route, parcours.route)
    rows = [
        [esc(d.bloc_key), "validé" if d.validated else "non validé", esc(d.reason) or "—"]
        for d in outcome.dossier.decisions
    ]
    issued = [
        [
            f"CQP {esc(c.certification_short)}" if c.kind == "cqp" else f"CCP {esc(c.bloc_key)}",
            esc(c.code),
        ]
        for c in outcome.certificates
    ]
    result = outcome.issuance
    decided = {d.bloc_key for d in outcome.dossier.decisions}
    held = [key for key in result.acquired_blocs if key not in decided]
    story: list[Flowable] = [
        Heading(
            f"{number}. {esc(name)} – CQP {esc(parcours.certification.short)}",
            STYLES.h2,
            outline=f"{number}. {name}",
            level=1,
        ),
        para(f"{esc(route)} · {esc(parcours.employer.name)}", STYLES.muted),
        grid(["Bloc", "Décision", "Motif"], rows, [20 * mm, 30 * mm, CONTENT_WIDTH - 50 * mm]),
        Spacer(1, 2 * mm),
    ]
    if held:
        # GRU and MDR from the other CQP, or any CCP from before: they count without a decision
        story.append(
            para(
                f"Blocs déjà détenus, comptés sans délibération : {esc(', '.join(held))}.",
                STYLES.body,
            )
        )
    if issued:
        story.append(
            grid(["Certificat délivré", "Code de vérification"], issued, [50 * mm, 60 * mm])
        )
        story.append(Spacer(1, 2 * mm))
    else:
        story.append(para("Aucun certificat délivré.", STYLES.body))
    if result.cqp:
        story.append(para(f"CQP {esc(parcours.certification.short)} délivré.", STYLES.ok))
    elif result.cqp_withheld_reason:
        story.append(para(f"CQP retenu : {esc(result.cqp_withheld_reason)}", STYLES.alert))
    else:
        story.append(
            para(
                f"Validation partielle : blocs acquis {esc(', '.join(result.acquired_blocs))} ; "
                f"blocs manquants {esc(', '.join(result.missing_blocs))}.",
                STYLES.warn,
            )
        )
    return story


# --- storage -------------------------------------------------------------------------------


def pv_dir(settings: Settings) -> Path:
    return settings.data_dir / "pv"


def store_pv(settings: Settings, sealed: bytes) -> tuple[str, str]:
    """Write the sealed PV atomically under a generated name: (name, SHA-256)."""
    name = f"pv-{uuid.uuid4().hex}.pdf"
    write_atomically(pv_dir(settings), name, sealed)
    return name, hashlib.sha256(sealed).hexdigest()


def read_pv(settings: Settings, proclamation: Proclamation) -> bytes | None:
    """The stored PV if it is there and matches its recorded hash, else None."""
    if not proclamation.pv_file or not proclamation.pv_sha256:
        return None
    path = pv_dir(settings) / Path(proclamation.pv_file).name
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == proclamation.pv_sha256 else None
