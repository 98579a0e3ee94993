"""PDF figures: interview pack (one candidate, a session batch), carnet export, certificate
with its PAdES seal; each against reportlab rendering the same text bare.

The pack and the carnet reuse the set-ups of ``bench.pack_pdf`` and ``bench.carnet_pdf`` on a
throw-away SQLite database; the certificate is a row of the benchmark dataset. "Bare" is the
text pypdf extracts from the PDF, laid out by reportlab's platypus with a built-in font (one
Paragraph per line, no tables, no images, no annexes merged): what any PDF of that text costs.
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import make_engine
from portal.migrate import upgrade
from portal.settings import Settings, load_settings
from vae.referentiel import loader
from vae.referentiel.service import load_version

CPU: dict[str, float] = {}  # the median CPU time of the last measure (process_time)


def median_ms(function: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median wall-clock milliseconds (and, in ``CPU["last"]``, median CPU milliseconds: on a
    shared machine the CPU time is the steadier figure)."""
    timings, cpu, result = [], [], None
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = function()
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    CPU["last"] = round(statistics.median(cpu) * 1000, 1)
    return round(statistics.median(timings) * 1000, 1), result


def bare(pdf: bytes) -> Callable[[], bytes]:
    """A renderer of the same text, bare."""
    lines = [
        line.strip()
        for page in PdfReader(io.BytesIO(pdf)).pages
        for line in (page.extract_text() or "").splitlines()
        if line.strip()
    ]
    style = getSampleStyleSheet()["BodyText"]

    def render() -> bytes:
        out = io.BytesIO()
        SimpleDocTemplate(out, pagesize=A4).build([Paragraph(escape(t), style) for t in lines])
        return out.getvalue()

    return render


def figure(name: str, ms: float, pdf: bytes, runs: int, **extra: Any) -> dict[str, Any]:
    cpu_ms = CPU["last"]
    bare_ms, bare_pdf = median_ms(bare(pdf), runs)
    bare_cpu_ms = CPU["last"]
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    return {
        "name": name,
        "ms": ms,
        "pages": pages,
        "kib": round(len(pdf) / 1024),
        "bare_ms": bare_ms,
        "bare_pages": len(PdfReader(io.BytesIO(bare_pdf)).pages),
        "ratio_to_bare": round(ms / bare_ms, 2) if bare_ms else None,
        "cpu_ms": cpu_ms,
        "bare_cpu_ms": bare_cpu_ms,
        "cpu_ratio_to_bare": round(cpu_ms / bare_cpu_ms, 2) if bare_cpu_ms else None,
        **extra,
    }


def scratch(folder: Path) -> tuple[Settings, Any]:
    settings = load_settings(
        {"DATABASE_URL": f"sqlite:///{folder}/pdf.sqlite3", "DATA_DIR": str(folder)}
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with Session(engine) as session:
        load_version(session=session, referentiel=loader.load())
        session.commit()
    return settings, engine


def pack_figures(runs: int, candidates: int) -> list[dict[str, Any]]:
    from bench.pack_pdf import prepare
    from portal.pdf.pack import pack_pdf
    from portal.pdf.pack_batch import build_session_packs
    from portal.pdf.pack_data import load_pack
    from tests.portal.test_livret_pdf import NOW
    from vae.jury.models import Convocation, JurySession

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        settings, engine = scratch(folder)
        with Session(engine) as session:
            jury_session, _ = prepare(session, folder / "annexes", candidates)
            session.commit()
            session_id = jury_session.id
        minutes = settings.interview_presentation_minutes

        def one() -> bytes:
            with Session(engine) as session:  # a fresh session: loading is timed too
                convocation = session.scalars(
                    select(Convocation).order_by(Convocation.at).limit(1)
                ).one()
                data = load_pack(session, convocation, presentation_minutes=minutes, now=NOW)
                return pack_pdf(data, annex_dir=folder / "annexes")

        ms, pdf = median_ms(one, runs)
        figures = [
            figure(
                "interview pack (1 candidate, load + render)",
                ms,
                pdf,
                runs,
                target_ms=300,
                target_ratio=3,
            )
        ]

        def batch() -> Path:
            with Session(engine) as session:
                whole = session.get(JurySession, session_id)
                assert whole is not None
                return build_session_packs(session, whole, settings, now=NOW)

        batch_ms, _ = median_ms(batch, 1)
        figures.append(
            {
                "name": f"session batch ({candidates} packs, zip)",
                "ms": batch_ms,
                "per_candidate_ms": round(batch_ms / candidates, 1),
                "bare_ms": round(figures[0]["bare_ms"] * candidates, 1),
                "ratio_to_bare": round(batch_ms / (figures[0]["bare_ms"] * candidates), 2),
            }
        )
        engine.dispose()
    return figures


def carnet_figure(runs: int) -> dict[str, Any]:
    from bench.carnet_pdf import fill
    from carnet.queries import load_carnet
    from portal.pdf.carnet import carnet_pdf
    from tests.portal.test_carnet_pdf import checks_for

    with tempfile.TemporaryDirectory() as name:
        _, engine = scratch(Path(name))
        with Session(engine) as session:
            parcours = fill(session)
            session.commit()

            def render() -> bytes:
                data = load_carnet(session, parcours)
                checks = checks_for(session, data)
                return carnet_pdf(data, generated_at=datetime.now(UTC), signature_checks=checks)

            ms, pdf = median_ms(render, runs)
        engine.dispose()
    return figure("carnet export (18 competences, load + render)", ms, pdf, runs)


def certificate_figure(engine: Any, runs: int) -> dict[str, Any]:
    from portal.certificates import kind_label
    from portal.pdf.certificate import certificate_pdf
    from portal.seal import seal_pdf
    from vae.decision.models import Certificate

    with tempfile.TemporaryDirectory() as name, Session(engine) as session:
        settings = load_settings({"DATABASE_URL": str(engine.url), "DATA_DIR": name})
        certificate = (
            session.scalars(
                select(Certificate).where(Certificate.kind == "cqp").order_by(Certificate.id)
            ).first()
            or session.scalars(select(Certificate).order_by(Certificate.id)).one()
        )
        seal_pdf(
            settings, certificate_pdf(settings=settings, certificate=certificate), reason="warm-up"
        )  # generates the self-signed test key pair once

        def render() -> bytes:
            return seal_pdf(
                settings,
                certificate_pdf(settings=settings, certificate=certificate),
                reason=f"{kind_label(certificate)} délivré par la CPNEFP",
            )

        ms, pdf = median_ms(render, runs)
        sealed_cpu = CPU["last"]
        unsealed_ms, _ = median_ms(
            lambda: certificate_pdf(settings=settings, certificate=certificate), runs
        )
    CPU["last"] = sealed_cpu
    return figure(
        f"certificate {certificate.kind.upper()} + PAdES seal",
        ms,
        pdf,
        runs,
        unsealed_ms=unsealed_ms,
    )


def all_figures(engine: Any, runs: int, candidates: int) -> list[dict[str, Any]]:
    return [*pack_figures(runs, candidates), carnet_figure(runs), certificate_figure(engine, runs)]
