"""The dossier de certification read by the national jury: identity and parcours, blocs held,
per evaluated bloc the filled grid with its computed results, the signed avis, the signatures,
the recours, summaries of the livret 2 and the carnet, and the national decisions.

Pure rendering of a ``DossierData`` (``portal.pdf.dossier_data.load_dossier``).
"""

from __future__ import annotations

from datetime import datetime

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak

from portal.pdf.base import (
    CONTENT_WIDTH,
    STYLES,
    DocInfo,
    Heading,
    boxed,
    esc,
    fr_date,
    grid,
    key_values,
    para,
    render,
)
from portal.pdf.dossier_data import DossierData, GridBloc
from vae.decision.rules import fr_paris
from vae.parcours.models import ROUTE_LABELS
from vae.people.models import User

TITLE = "Dossier de certification"
BROKEN = (
    "Signature rompue : le contenu de la grille ou de l'avis a changé depuis la signature "
    "(l'empreinte SHA-256 ne correspond plus). Ce dossier ne peut pas être proclamé."
)
ROUTES: dict[str, str] = {str(k): v for k, v in ROUTE_LABELS.items()}
RULE_NOTICE = (
    "Une compétence est acquise lorsqu'au moins 80 % de ses critères sont validés ; un bloc est "
    "validé lorsqu'au moins 80 % de ses compétences sont acquises. Les résultats ci-dessous sont "
    "calculés à partir de la grille remplie par le jury professionnel."
)


def dossier_pdf(data: DossierData, *, generated_at: datetime) -> bytes:
    parcours, certification = data.parcours, data.certification
    candidate = _person(parcours.candidate)
    info = DocInfo(
        title=f"{TITLE} – {candidate} – CQP {certification.short}",
        subject=f"{TITLE} : {certification.title} ({certification.code})",
        footer=f"{candidate} · CQP {certification.short} · dossier national n° {data.dossier.id}",
        header=f"{TITLE} · {candidate} · CQP {certification.short}",
        keywords=("dossier de certification", f"CQP {certification.short}", certification.code),
    )
    story: list[Flowable] = _cover(data, generated_at)
    for bloc in data.blocs:
        story.append(PageBreak())
        story.extend(_grid(data, bloc))
    story.append(PageBreak())
    story.extend(_avis(data))
    story.extend(_summaries(data))
    story.extend(_decisions(data))
    return render(story, info)


def _at(moment: datetime | None, *, seconds: bool = False) -> str:
    """Paris time, as the pages show it."""
    return fr_paris(moment, seconds=seconds) if moment is not None else "—"


def _person(user: User | None) -> str:
    return f"{user.civility} {user.full_name}" if user is not None else "non désigné"


def _yes(value: bool | None, yes: str = "favorable", no: str = "défavorable") -> str:
    return "non renseigné" if value is None else (yes if value else no)


def _cover(data: DossierData, generated_at: datetime) -> list[Flowable]:
    parcours, certification = data.parcours, data.certification
    employer = parcours.employer
    held = [
        f"{esc(h.bloc_key)} : {esc(h.origin)}"
        + (f" (obtenu le {fr_date(h.obtained_on)})" if h.obtained_on else "")
        for h in parcours.held_blocs
    ] + [f"{esc(k)} : CCP délivré sur la plateforme" for k in data.held_by_ccp]
    rows = [
        ("Candidat", esc(_person(parcours.candidate))),
        (
            "Certification",
            f"{esc(certification.title)} ({esc(certification.short)}), "
            f"{esc(certification.code)}, niveau {certification.level}",
        ),
        ("Voie d'accès", esc(ROUTES.get(parcours.route, parcours.route))),
        ("Employeur", f"{esc(employer.name)} – branche {esc(employer.branche or 'non précisée')}"),
        ("Tuteur", esc(_person(parcours.tutor))),
        ("Manager", esc(_person(parcours.manager))),
        ("Début du parcours", fr_date(parcours.start_date)),
        ("Blocs déjà détenus", "<br/>".join(held) or "aucun"),
        ("Session nationale", fr_date(data.dossier.session.day)),
        ("Document généré le", _at(generated_at)),
    ]
    summary = [
        [
            f"{esc(b.key)} – {esc(b.cert_bloc.title)}",
            esc(b.result.explanation),
            _yes(b.avis.favourable),
            _yes(b.decision.validated, "validé", "non validé") if b.decision else "—",
        ]
        for b in data.blocs
    ]
    return [
        Heading(TITLE, STYLES.title, outline="Identité et parcours", level=0),
        para(f"{esc(certification.title)} – {esc(_person(parcours.candidate))}", STYLES.subtitle),
        *([para(BROKEN, STYLES.alert)] if data.signature == "broken" else []),
        key_values(rows),
        para(RULE_NOTICE, STYLES.note),
        para("Synthèse par bloc évalué", STYLES.h2),
        grid(
            [
                "Bloc",
                "Résultat calculé de la grille",
                "Avis du jury professionnel",
                "Décision nationale",
            ],
            summary,
            [48 * mm, CONTENT_WIDTH - 48 * mm - 60 * mm, 30 * mm, 30 * mm],
        ),
    ]


def _grid(data: DossierData, bloc: GridBloc) -> list[Flowable]:
    story: list[Flowable] = [
        Heading(
            f"Grille d'évaluation – {esc(bloc.key)} – {esc(bloc.cert_bloc.title)}",
            STYLES.h1,
            outline=f"Grille {bloc.key}",
            level=0,
        ),
        para(
            f"<b>{esc(bloc.result.explanation)}</b>",
            STYLES.ok if bloc.result.validated else STYLES.warn,
        ),
    ]
    marks, comments = data.evaluation.marks, data.evaluation.comments
    for competence, result in zip(
        bloc.cert_bloc.bloc.competences, bloc.result.competences, strict=True
    ):
        story.append(para(f"{esc(competence.number)} – {esc(competence.label)}", STYLES.h3))
        rows = [[esc(c.label), _mark(marks.get(c.key))] for c in competence.criteria]
        story.append(
            grid(["Critère d'évaluation", "Validé"], rows, [CONTENT_WIDTH - 30 * mm, 30 * mm])
        )
        story.append(para(esc(result.explanation), STYLES.small))
        comment = comments.get(competence.key, "")
        story.append(para(f"Commentaire du jury : {esc(comment) or '—'}", STYLES.muted))
    return story


def _mark(value: bool | None) -> str:
    return "non noté" if value is None else ("✓ oui" if value else "✗ non")


def _avis(data: DossierData) -> list[Flowable]:
    story: list[Flowable] = [
        Heading("Avis du jury professionnel", STYLES.h1, outline="Avis et signatures", level=0)
    ]
    for bloc in data.blocs:
        avis = bloc.avis
        rows = [
            ("Avis", _yes(avis.favourable)),
            ("Résultat de la grille", esc(bloc.result.explanation)),
            ("Justification", esc(avis.justification) or "—"),
            ("Préconisations", esc(avis.recommendations) or "—"),
        ]
        story += [
            para(f"{esc(bloc.key)} – {esc(bloc.cert_bloc.title)}", STYLES.h2),
            key_values(rows),
        ]
    story.append(para("Signatures", STYLES.h2))
    if data.signature == "broken":
        story.append(para(BROKEN, STYLES.alert))
    elif data.evaluation.signed_at is None:
        story.append(para("L'avis n'est pas signé par tous les membres du jury.", STYLES.alert))
    for s in data.signatures:
        story.append(
            boxed(
                [
                    para(f"<b>{esc(s.name)}</b> – {esc(s.quality)}", STYLES.cell),
                    para(f"Signé le {_at(s.signed_at, seconds=True)}", STYLES.cell),
                    para(
                        f"Empreinte SHA-256 du contenu signé : {esc(s.content_hash)}", STYLES.small
                    ),
                ]
            )
        )
    story.append(para("Recours du candidat", STYLES.h2))
    story.extend(_recours(data))
    return story


def _recours(data: DossierData) -> list[Flowable]:
    status, recours = data.recours_status, data.recours
    if status.state == "filed" and recours is not None:
        return [
            para(f"Recours motivé déposé le {_at(recours.filed_at)} :", STYLES.body),
            para(esc(recours.text), STYLES.note),
        ]
    if status.state == "waived" and recours is not None:
        return [
            para(
                f"Le candidat a renoncé au recours le {_at(recours.filed_at)} : le délai est clos.",
                STYLES.body,
            )
        ]
    if status.state == "open":
        return [
            para(
                f"Délai de recours en cours jusqu'au {_at(status.deadline)} : ni recours ni "
                "renonciation à la date du document.",
                STYLES.warn,
            )
        ]
    if status.state == "expired":
        return [
            para(
                f"Aucun recours déposé : le délai a expiré le {_at(status.deadline)}.",
                STYLES.body,
            )
        ]
    return [para("Le délai de recours commencera à la signature de l'avis.", STYLES.body)]


def _summaries(data: DossierData) -> list[Flowable]:
    story: list[Flowable] = [
        Heading("Livret 2 et carnet de suivi", STYLES.h1, outline="Livret et carnet", level=0)
    ]
    livret = data.livret
    if livret is not None:
        state = (
            f"Édition {livret.edition} soumise le {_at(livret.submitted_at)} – "
            f"empreinte SHA-256 {esc(livret.content_hash)}"
            if livret.submitted_at
            else f"Édition {livret.edition} en brouillon (non soumise)"
        )
        story += [para("Livret 2", STYLES.h2), para(state, STYLES.body)]
        rows = [
            [
                esc(s.bloc_key),
                esc(s.title) or "(sans titre)",
                f"{s.characters} caractères",
                str(s.annexes),
            ]
            for s in livret.situations
        ]
        story.append(
            grid(
                ["Bloc", "Situation significative", "Longueur", "Annexes"],
                rows or [["—", "aucune situation", "", ""]],
                [18 * mm, CONTENT_WIDTH - 68 * mm, 30 * mm, 20 * mm],
            )
        )
    if data.carnet is not None:
        story.append(para("Carnet de suivi : progression par bloc", STYLES.h2))
        rows = [
            [
                esc(key),
                "bloc déjà détenu"
                if p.held
                else f"{p.both} sur {p.total} attestée(s) par le tuteur et le manager",
                esc(p.explanation),
            ]
            for key, p in data.carnet.items()
        ]
        story.append(
            grid(
                ["Bloc", "Compétences", "Règle des 80 %"],
                rows,
                [18 * mm, 60 * mm, CONTENT_WIDTH - 78 * mm],
            )
        )
    return story


def _decisions(data: DossierData) -> list[Flowable]:
    story: list[Flowable] = [para("Décisions du jury paritaire national", STYLES.h2)]
    if not any(b.decision for b in data.blocs):
        return [*story, para("Aucune décision enregistrée.", STYLES.body)]
    rows = [
        [
            f"{esc(b.key)} – {esc(b.cert_bloc.title)}",
            _yes(b.decision.validated, "validé", "non validé") if b.decision else "—",
            esc(b.decision.reason) if b.decision and b.decision.reason else "—",
        ]
        for b in data.blocs
    ]
    story.append(
        grid(["Bloc", "Décision", "Motif"], rows, [60 * mm, 30 * mm, CONTENT_WIDTH - 90 * mm])
    )
    if data.proclaimed_at:
        story.append(para(f"Session proclamée le {_at(data.proclaimed_at)}.", STYLES.ok))
    return story
