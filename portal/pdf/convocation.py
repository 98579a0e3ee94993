"""The candidate's convocation to a jury professionnel session (one page)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from reportlab.platypus import Flowable, Spacer

from portal.pdf.base import STYLES, DocInfo, esc, fr_date, key_values, para, render
from vae.jury.models import Convocation, JurySession

PARIS = ZoneInfo("Europe/Paris")


def convocation_pdf(
    *, convocation: Convocation, jury_session: JurySession, generated_at: datetime
) -> bytes:
    parcours = convocation.parcours
    candidate = parcours.candidate
    local = convocation.at.astimezone(PARIS)
    route = (
        "la validation des acquis de l'expérience (VAE)"
        if parcours.route == "vae"
        else ("la voie de la formation")
    )
    story: list[Flowable] = [
        para("Convocation au jury professionnel", STYLES.title),
        para(f"{esc(candidate.civility)} {esc(candidate.full_name)}", STYLES.body),
        Spacer(1, 12),
        para(
            f"Vous êtes convoqué(e) à l'épreuve de certification du "
            f"{esc(parcours.certification.title)} ({esc(parcours.certification.code)}), par "
            f"{route}.",
            STYLES.body,
        ),
        Spacer(1, 8),
        key_values(
            [
                ("Date", esc(fr_date(local.date()))),
                ("Heure", esc(local.strftime("%H h %M"))),
                ("Lieu", esc(convocation.place)),
                ("Organisme employeur", esc(parcours.employer.name)),
            ]
        ),
        Spacer(1, 8),
    ]
    if convocation.previous_at is not None:
        before = convocation.previous_at.astimezone(PARIS)
        story.append(
            para(
                f"Cette convocation remplace la précédente ({esc(fr_date(before.date()))} à "
                f"{esc(before.strftime('%H h %M'))}).",
                STYLES.body,
            )
        )
    if parcours.route == "vae":
        story.append(
            para(
                "L'entretien dure 45 minutes : une présentation de votre pratique, puis les "
                "questions du jury à partir de votre livret 2.",
                STYLES.body,
            )
        )
    story.append(
        para(
            "Présentez-vous 15 minutes avant l'heure indiquée, muni(e) d'une pièce d'identité.",
            STYLES.body,
        )
    )
    info = DocInfo(
        title=f"Convocation – {candidate.full_name}",
        subject=f"Jury professionnel du {fr_date(jury_session.day)}",
        footer=f"{candidate.full_name} · convocation éditée le {fr_date(generated_at.date())}",
    )
    return render(story, info)
