"""An issued CCP or CQP as a one-page PDF (A4 landscape), before it is sealed.

Drawn on a canvas rather than flowed: a certificate is a fixed composition. The text goes in a
centred frame (titles may wrap); the QR code is drawn module by module as vector squares and is
also a link, so a reader on screen opens the verification page with a click.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date

import segno
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Frame, Spacer
from sqlalchemy import select
from sqlalchemy.orm import object_session

from portal.certificates import kind_label, verification_url
from portal.pdf.base import AUTHOR, BOLD, GREY, NAVY, REGULAR, RULE, esc, para
from portal.settings import Settings
from vae.decision.models import Certificate, CertificateKind
from vae.jury.models import JurySession
from vae.referentiel.models import CertificationRecord

WIDTH, HEIGHT = landscape(A4)
MARGIN = 14 * mm
QR_SIZE = 34 * mm
ISSUER = "la CPNEFP du Régime général de Sécurité sociale, jury paritaire national"
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
KIND_TITLES = {
    CertificateKind.CCP.value: "Certificat de compétences professionnelles (CCP)",
    CertificateKind.CQP.value: "Certificat de qualification professionnelle (CQP)",
}
ROUTES = {"vae": "validation des acquis de l'expérience (VAE)", "formation": "formation"}


def _style(
    name: str, size: float, *, font: str = REGULAR, color: colors.Color = NAVY
) -> ParagraphStyle:
    return ParagraphStyle(
        name,
        fontName=font,
        fontSize=size,
        leading=size * 1.3,
        alignment=TA_CENTER,
        textColor=color,
        spaceAfter=size * 0.35,
    )


KICKER = _style("kicker", 10, color=GREY)
TITLE = _style("title", 21, font=BOLD)
LEAD = _style("lead", 11, color=colors.black)
HOLDER = _style("holder", 24, font=BOLD, color=colors.black)
SUBJECT = _style("subject", 14, font=BOLD)
BODY = _style("body", 10.5, color=colors.black)
SMALL = ParagraphStyle("small", fontName=REGULAR, fontSize=8.5, leading=11, textColor=GREY)
CODE = ParagraphStyle("code", fontName=BOLD, fontSize=12, leading=15, textColor=colors.black)


def long_date(day: date) -> str:
    """``1er mars 2027``, ``22 novembre 2026``."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def qr_modules(url: str) -> Iterator[tuple[int, int]]:
    """(column, row) of every dark module of the QR code for ``url``, quiet zone excluded."""
    matrix = segno.make(url, error="m", micro=False).matrix
    for row, line in enumerate(matrix):
        for column, dark in enumerate(line):
            if dark:
                yield column, row


def _level(certificate: Certificate) -> int | None:
    parcours_cert = certificate.parcours.certification if certificate.parcours else None
    if parcours_cert is not None and parcours_cert.code == certificate.certification_code:
        return parcours_cert.level
    session = object_session(certificate)
    if session is None:
        return None
    return session.scalar(
        select(CertificationRecord.level)
        .where(CertificationRecord.code == certificate.certification_code)
        .order_by(CertificationRecord.id.desc())
        .limit(1)
    )


def _national_session(certificate: Certificate) -> JurySession | None:
    session = object_session(certificate)
    if session is None or certificate.session_id is None:
        return None
    return session.get(JurySession, certificate.session_id)


def _story(certificate: Certificate) -> list[Flowable]:
    level = _level(certificate)
    level_text = f", niveau {level}" if level is not None else ""
    certification = (
        f"{esc(certificate.certification_title)} ({esc(certificate.certification_code)}"
        f"{level_text})"
    )
    story: list[Flowable] = [
        Spacer(1, 10 * mm),
        para("Régime général de Sécurité sociale · CPNEFP", KICKER),
        para(esc(KIND_TITLES[certificate.kind]), TITLE),
        Spacer(1, 8 * mm),
        para("est délivré à", LEAD),
        para(f"{esc(certificate.holder_first_name)} {esc(certificate.holder_last_name)}", HOLDER),
        Spacer(1, 5 * mm),
    ]
    if certificate.kind == CertificateKind.CCP.value:
        story += [
            para("pour le bloc de compétences", LEAD),
            para(f"{esc(certificate.bloc_code)} – {esc(certificate.bloc_title)}", SUBJECT),
            para(f"de la certification {certification}", BODY),
        ]
    else:
        story += [
            para("pour la certification", LEAD),
            para(esc(certificate.certification_title), SUBJECT),
            para(
                f"enregistrée au RNCP sous le code {esc(certificate.certification_code)}"
                f"{level_text}",
                BODY,
            ),
        ]
    national = _national_session(certificate)
    session_text = (
        f" lors de la session nationale du {esc(long_date(national.day))}"
        if national is not None
        else ""
    )
    story += [
        Spacer(1, 8 * mm),
        para(
            f"par la voie de la {esc(ROUTES.get(certificate.route, certificate.route))}.",
            BODY,
        ),
        para(
            f"Délivré par {ISSUER}{session_text}, le {esc(long_date(certificate.issued_on))}.", BODY
        ),
    ]
    return story


def _draw_frame(canvas: Canvas) -> None:
    canvas.saveState()
    canvas.setStrokeColor(NAVY)
    canvas.setLineWidth(2)
    canvas.rect(MARGIN / 2, MARGIN / 2, WIDTH - MARGIN, HEIGHT - MARGIN)
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.6)
    canvas.rect(MARGIN / 2 + 4, MARGIN / 2 + 4, WIDTH - MARGIN - 8, HEIGHT - MARGIN - 8)
    canvas.restoreState()


def _draw_qr(canvas: Canvas, url: str, x: float, y: float) -> None:
    modules = list(qr_modules(url))
    count = max(max(c, r) for c, r in modules) + 1
    unit = QR_SIZE / count
    canvas.saveState()
    canvas.setFillColor(colors.black)
    for column, row in modules:
        # rows go down from the top-left corner; PDF y goes up
        canvas.rect(x + column * unit, y + QR_SIZE - (row + 1) * unit, unit, unit, stroke=0, fill=1)
    canvas.restoreState()
    canvas.linkURL(url, (x, y, x + QR_SIZE, y + QR_SIZE), relative=0, thickness=0)


def _draw_verification(canvas: Canvas, certificate: Certificate, url: str) -> None:
    bottom = MARGIN + 4 * mm
    qr_x = WIDTH - MARGIN - 8 * mm - QR_SIZE
    _draw_qr(canvas, url, qr_x, bottom)
    text_width = qr_x - MARGIN - 10 * mm
    frame = Frame(
        MARGIN + 4 * mm,
        bottom,
        text_width,
        QR_SIZE,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        showBoundary=0,
    )
    frame.addFromList(
        [
            para(f"Code de vérification : {esc(certificate.code)}", CODE),
            para(
                f"Vérifiez l'authenticité de ce certificat : "
                f'<link href="{esc(url)}" color="#1F3A5F">{esc(url)}</link>',
                SMALL,
            ),
            para(
                "Ce document est scellé électroniquement par la plateforme des CQP (signature "
                "PAdES). Toute modification invalide le sceau.",
                SMALL,
            ),
        ],
        canvas,
    )


def certificate_pdf(*, settings: Settings, certificate: Certificate) -> bytes:
    """The unsealed PDF (``portal.certificates.store_certificate_pdf`` seals and stores it)."""
    url = verification_url(settings, certificate.code)
    buffer = io.BytesIO()
    holder = f"{certificate.holder_first_name} {certificate.holder_last_name}"
    subject = certificate.bloc_code or certificate.certification_code
    canvas = Canvas(buffer, pagesize=(WIDTH, HEIGHT), lang="fr-FR", initialFontName=REGULAR)
    canvas.setTitle(f"{kind_label(certificate)} {subject} – {holder}")
    canvas.setAuthor(AUTHOR)
    canvas.setCreator(AUTHOR)
    canvas.setSubject(KIND_TITLES[certificate.kind])
    canvas.setKeywords([kind_label(certificate), subject, certificate.code])
    _draw_frame(canvas)
    body_bottom = MARGIN + QR_SIZE + 12 * mm
    body = Frame(
        MARGIN + 18 * mm,
        body_bottom,
        WIDTH - 2 * MARGIN - 36 * mm,
        HEIGHT - MARGIN - 10 * mm - body_bottom,
        showBoundary=0,
    )
    story = _story(certificate)
    body.addFromList(story, canvas)
    if story:  # nothing may be dropped silently from a certificate
        raise ValueError("certificate text does not fit on the page")
    canvas.setStrokeColor(RULE)
    canvas.line(
        MARGIN + 4 * mm, body_bottom - 4 * mm, WIDTH - MARGIN - 4 * mm, body_bottom - 4 * mm
    )
    _draw_verification(canvas, certificate, url)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
