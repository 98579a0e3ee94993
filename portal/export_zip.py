"""The RGPD export: one zip of JSON and PDFs with everything the platform holds about a person.

Layout (French names, as the person reads them)::

    LISEZMOI.txt
    profil.json                      the account
    parcours-{id}/parcours.json      certification, route, employer, tutor, manager, prerequisites
    parcours-{id}/carnet.json|.pdf   self-assessment, every attestation version, milestones
    parcours-{id}/livret.json|.pdf   profile, situations, every submitted edition
    parcours-{id}/annexes/…          the annexes as stored, under their (cleaned) original names
    parcours-{id}/decisions.json     convocations, signed avis, recours, national decisions
    certificats/…, certificats.json  the sealed certificates as issued
    attestations-redigees.json       attestations the person wrote on others' parcours
    signatures-avis.json             avis the person signed as a jury member
    journal.json                     the audit entries where the person acts or is the subject

The archive is written into a ``SpooledTemporaryFile`` (memory up to 8 Mo, then disk); stored
files are copied into it from disk in chunks and the journal is written entry by entry.
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.queries import load_carnet
from portal import export_data as data
from portal import export_decisions as decided
from portal.certificates import certificate_path, download_name, verification_url
from portal.settings import Settings
from vae.decision.certificates import for_holder
from vae.livret.annexes import annex_folder, annex_path
from vae.livret.models import Livret
from vae.livret.pdfcheck import clean_filename
from vae.parcours.models import Parcours
from vae.people.models import User
from vae.referentiel.service import get_referentiel

SPOOL_BYTES = 8 * 1024 * 1024
UNSAFE = re.compile(r'[<>:"|?*\\/]')

README = """Vos données sur la plateforme CQP de la Sécurité sociale (export du {day})

profil.json               votre compte
parcours-N/               chaque parcours dont vous êtes le candidat : parcours.json,
                          carnet.json et carnet.pdf, livret.json et livret.pdf, annexes/,
                          decisions.json (convocations, avis signés, recours, jury national)
certificats/              vos certificats tels que délivrés (PDF scellés), certificats.json
attestations-redigees.json  les attestations que vous avez rédigées ou signées
signatures-avis.json      les avis de jury que vous avez signés
journal.json              les entrées du journal d'audit qui vous concernent

Les fichiers JSON sont en UTF-8 ; les dates sont au format ISO 8601 (UTC).
Un certificat se vérifie à l'adresse indiquée dans certificats.json.
"""


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n").encode()


def safe_name(original: str, used: set[str]) -> str:
    """A file name for the archive: cleaned, no path separators or reserved characters, unique
    among ``used`` (which it extends)."""
    cleaned = UNSAFE.sub("_", clean_filename(original))
    stem, dot, extension = cleaned.rpartition(".")
    candidate, number = cleaned, 1
    while candidate.lower() in used:
        number += 1
        candidate = f"{stem}-{number}{dot}{extension}"
    used.add(candidate.lower())
    return candidate


class Export:
    def __init__(self, session: Session, user: User, settings: Settings, now: datetime) -> None:
        self.session, self.user, self.settings, self.now = session, user, settings, now
        self.counts: Counter[str] = Counter()

    def build(self) -> IO[bytes]:
        """The zip, positioned at its start. The caller closes it."""
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned
        try:
            with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                self._write(archive)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool

    def _write(self, archive: zipfile.ZipFile) -> None:
        archive.writestr("LISEZMOI.txt", README.format(day=self.now.date().isoformat()))
        archive.writestr("profil.json", _json(data.profile(self.user, generated_at=self.now)))
        for parcours in data.own_parcours(self.session, self.user):
            self._parcours(archive, parcours)
        self._certificates(archive)
        written = data.written_attestations(self.session, self.user)
        if written:
            archive.writestr("attestations-redigees.json", _json(written))
            self.counts["attestations_redigees"] = len(written)
        signatures = decided.avis_signatures(self.session, self.user)
        if signatures:
            archive.writestr("signatures-avis.json", _json(signatures))
            self.counts["signatures_avis"] = len(signatures)
        self._journal(archive)

    def _parcours(self, archive: zipfile.ZipFile, parcours: Parcours) -> None:
        folder = f"parcours-{parcours.id}/"
        self.counts["parcours"] += 1
        archive.writestr(
            folder + "parcours.json", _json(data.parcours_json(self.session, parcours))
        )
        if data.has_carnet(self.session, parcours):
            from portal.pdf.carnet import carnet_pdf

            carnet = load_carnet(self.session, parcours)
            archive.writestr(folder + "carnet.json", _json(data.carnet_json(carnet)))
            pdf = carnet_pdf(carnet, generated_at=self.now, signature_checks=carnet.checks)
            archive.writestr(folder + "carnet.pdf", pdf)
        livret = self.session.scalar(select(Livret).where(Livret.parcours_id == parcours.id))
        if livret is not None:
            self._livret(archive, folder, parcours, livret)
        decisions = decided.decisions_json(self.session, parcours)
        archive.writestr(folder + "decisions.json", _json(decisions))

    def _annexes(self, archive: zipfile.ZipFile, folder: str, livret: Livret) -> dict[str, str]:
        """Copy every annex file of the livret (draft and submitted editions) into the archive;
        stored name → its path in the archive."""
        names: dict[str, str] = {}
        for situation in livret.situations:
            names.update({a.stored_name: a.original_name for a in situation.annexes})
        for submission in livret.submissions:
            for situation in submission.snapshot.get("situations", []):
                for annex in situation.get("annexes", []):
                    if "stored" in annex:
                        names.setdefault(annex["stored"], annex.get("name") or "annexe.pdf")
        placed: dict[str, str] = {}
        used: set[str] = set()
        for stored, original in names.items():
            try:
                path = annex_path(annex_folder(self.settings.data_dir), stored)
            except ValueError:
                continue
            if not path.is_file():
                continue  # deleted at the end of the retention period
            member = f"{folder}annexes/{safe_name(original, used)}"
            archive.write(path, member)
            placed[stored] = member
            self.counts["annexes"] += 1
        return placed

    def _livret(
        self, archive: zipfile.ZipFile, folder: str, parcours: Parcours, livret: Livret
    ) -> None:
        from portal.pdf.livret import livret_pdf

        placed = self._annexes(archive, folder, livret)
        archive.writestr(folder + "livret.json", _json(data.livret_json(livret, placed)))
        referentiel = get_referentiel(self.session, parcours.certification.version_id)
        assert referentiel is not None
        pdf = livret_pdf(
            livret=livret,
            certification=referentiel.certification(parcours.certification.code),
            candidate=parcours.candidate,
            employer=parcours.employer,
            annex_dir=annex_folder(self.settings.data_dir),
            generated_at=self.now,
        )
        archive.writestr(folder + "livret.pdf", pdf)

    def _certificates(self, archive: zipfile.ZipFile) -> None:
        listed = []
        used: set[str] = set()
        for certificate in for_holder(self.session, self.user.id):
            path: Path | None = certificate_path(self.settings, certificate)
            member = None
            if path is not None and path.is_file():
                member = f"certificats/{safe_name(download_name(certificate), used)}"
                archive.write(path, member)
            url = verification_url(self.settings, certificate.code)
            listed.append(decided.certificate_json(certificate, file=member, url=url))
        if listed:
            archive.writestr("certificats.json", _json(listed))
        self.counts["certificats"] = len(listed)

    def _journal(self, archive: zipfile.ZipFile) -> None:
        count = 0
        with archive.open("journal.json", "w", force_zip64=True) as out:
            out.write(b"[")
            for entry in data.journal(self.session, self.user):
                line = json.dumps(entry, ensure_ascii=False, default=str)
                out.write((b"\n  " if count == 0 else b",\n  ") + line.encode())
                count += 1
            out.write(b"\n]\n")
        self.counts["journal"] = count
