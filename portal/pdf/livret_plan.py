"""What the livret PDF shows, in order: blocs in the certification's order, their situations,
the annexes numbered across the livret, and how stored values read in French.

Built from a content dict shaped like ``vae.livret.service.snapshot``; nothing is rendered here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from portal.pdf.annexes import AnnexFile, Loaded, OutlineNode
from portal.pdf.base import esc, fr_date
from vae.livret.models import LivretSubmission
from vae.parcours.models import HeldBloc
from vae.people.models import Organisation
from vae.referentiel.model import Certification, Competence


@dataclass
class PlannedAnnex:
    number: int  # 1… across the livret
    data: Mapping[str, Any]
    file: AnnexFile
    after_end: int = 0  # its first page, counted from the end of the livret
    problem: str = ""


@dataclass
class PlannedSituation:
    number: int  # within its bloc
    key: str  # bookmark key
    data: Mapping[str, Any]
    annexes: list[PlannedAnnex] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.data.get("title") or "").strip() or "Situation sans titre"

    @property
    def heading(self) -> str:
        return f"Situation {self.number} : {self.title}"


@dataclass
class PlannedBloc:
    key: str
    code: str
    title: str
    dest: str  # bookmark key
    competences: dict[str, Competence]
    held: HeldBloc | None
    situations: list[PlannedSituation] = field(default_factory=list)

    @property
    def heading(self) -> str:
        return f"{self.code} – {self.title}" if self.code else self.title


@dataclass
class Plan:
    certification: Certification
    candidate: str
    candidate_id: int
    employer: Organisation
    content: Mapping[str, Any]
    submission: LivretSubmission | None
    edition: int
    generated_at: datetime
    blocs: list[PlannedBloc] = field(default_factory=list)
    annexes: list[PlannedAnnex] = field(default_factory=list)

    @property
    def draft(self) -> bool:
        return self.submission is None

    def arrange(self, held: Mapping[str, HeldBloc]) -> None:
        """Blocs in the certification's order, then any bloc of the content it does not know
        (never dropped); situations in their order; annexes numbered in that order."""
        situations = list(self.content.get("situations") or [])
        for cert_bloc in self.certification.blocs:
            competences = {c.key: c for c in cert_bloc.bloc.competences}
            self._bloc(cert_bloc.key, cert_bloc.code, cert_bloc.title, competences, held)
        known = {b.key for b in self.blocs}
        for key in dict.fromkeys(str(s.get("bloc", "")) for s in situations):
            if key not in known:
                self._bloc(key, "", f"Bloc {key} (hors de cette certification)", {}, held)
        by_key = {b.key: b for b in self.blocs}
        for data in situations:
            bloc = by_key[str(data.get("bloc", ""))]
            number = len(bloc.situations) + 1
            situation = PlannedSituation(number, f"{bloc.dest}s{number}", data)
            bloc.situations.append(situation)
        for bloc in self.blocs:  # annexes are numbered in the order the document shows them
            for situation in bloc.situations:
                for annex in situation.data.get("annexes") or []:
                    number = len(self.annexes) + 1
                    item = PlannedAnnex(number, annex, annex_file(number, annex, bloc, situation))
                    situation.annexes.append(item)
                    self.annexes.append(item)

    def _bloc(
        self,
        key: str,
        code: str,
        title: str,
        competences: dict[str, Competence],
        held: Mapping[str, HeldBloc],
    ) -> None:
        dest = f"b{len(self.blocs) + 1}"
        self.blocs.append(PlannedBloc(key, code, title, dest, competences, held.get(key)))

    def place_annexes(self, files: list[Loaded]) -> None:
        """The pages each annex really takes (a replacement page is one page)."""
        after = 1
        for annex, loaded in zip(self.annexes, files, strict=True):
            annex.after_end = after
            after += loaded.pages

    def outline(self) -> list[OutlineNode]:
        nodes = []
        for bloc in self.blocs:
            children = [
                OutlineNode(
                    shorten(situation.heading),
                    [OutlineNode(a.file.title, index=a.number - 1) for a in situation.annexes],
                )
                for situation in bloc.situations
                if situation.annexes
            ]
            if children:
                nodes.append(OutlineNode(shorten(f"{bloc.key} – {bloc.title}"), children))
        return nodes


def annex_file(
    number: int, annex: Mapping[str, Any], bloc: PlannedBloc, situation: PlannedSituation
) -> AnnexFile:
    name = str(annex.get("name") or "sans nom")
    pages, size = pages_text(annex.get("pages")), size_text(annex.get("size"))
    return AnnexFile(
        title=shorten(f"Annexe {number} – {name}"),
        heading=f"Annexe {number} – {name}",
        stored_name=str(annex.get("stored") or ""),
        sha256=str(annex.get("sha256") or ""),
        details=(
            f"Bloc {bloc.key}, {situation.heading}",
            f"Fichier déposé : {name} ({pages}, {size})",
            f"Empreinte SHA-256 enregistrée : {annex.get('sha256') or 'aucune'}",
        ),
    )


# --- small formatting helpers ----------------------------------------------------------------


def or_missing(value: object) -> str:
    text = str(value or "").strip()
    return esc(text) if text else "<font color='#5A6270'>non renseigné</font>"


def day(value: object, empty: str = "—") -> str:
    text = str(value or "").strip()
    if not text:
        return empty
    try:
        return fr_date(date.fromisoformat(text))
    except ValueError:
        return esc(text)


def period(start: object, end: object) -> str:
    if not start and not end:
        return "non précisée"
    if not end:
        return f"depuis le {day(start)}"
    if not start:
        return f"jusqu'au {day(end)}"
    return f"du {day(start)} au {day(end)}"


def count(value: object) -> int:
    """A stored number (pages, bytes); 0 when absent or malformed (never fails the PDF)."""
    if isinstance(value, int):
        return value
    try:
        return int(str(value or 0))
    except ValueError:
        return 0


def pages_text(value: object) -> str:
    pages = count(value)
    return f"{pages} page" + ("s" if pages > 1 else "")
    return f"{count} page" + ("s" if count > 1 else "")


def size_text(value: object) -> str:
    size = count(value)
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} Mo".replace(".", ",")
    return f"{max(1, round(size / 1024))} Ko"


def shorten(text: str, limit: int = 120) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
