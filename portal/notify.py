"""Result notifications after a proclamation: the candidate, the tutor, the manager and the
référents of the employer each get a French mail with the result and a link to the dashboard.

Sent after the commit: a mail that fails is logged and never undoes the proclamation.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.certificates import verification_url
from portal.mail import send_mail
from portal.settings import Settings
from vae.decision.models import Certificate
from vae.decision.national import fr_day, paris_date
from vae.decision.proclamation import DossierOutcome, Proclaimed
from vae.people.models import Role, User, UserRole

log = logging.getLogger("vae_portal.notify")


def recipients(session: Session, outcome: DossierOutcome) -> list[User]:
    """Candidate, tutor, manager and the active référents of the employer (each once)."""
    parcours = outcome.dossier.parcours
    referents = session.scalars(
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            User.organisation_id == parcours.employer_id,
            UserRole.role == Role.REFERENT.value,
            User.is_active.is_(True),
        )
        .order_by(User.id)
    ).all()
    people = [parcours.candidate, parcours.tutor, parcours.manager, *referents]
    seen: dict[int, User] = {}
    for person in people:
        if person is not None and person.is_active and person.id not in seen:
            seen[person.id] = person
    return list(seen.values())


def result_text(outcome: DossierOutcome) -> str:
    parcours = outcome.dossier.parcours
    short = parcours.certification.short
    result = outcome.issuance
    codes = [
        f"  - {'CQP ' + short if c.kind == 'cqp' else 'CCP ' + (c.bloc_key or '')} : code {c.code}"
        for c in outcome.certificates
    ]
    lines: list[str] = []
    if result.cqp:
        lines.append(f"Résultat : CQP {short} délivré.")
    elif result.cqp_withheld_reason:
        lines.append(f"Résultat : CQP {short} non délivré faute de prérequis.")
        lines.append(result.cqp_withheld_reason)
    else:
        lines.append(f"Résultat : validation partielle du CQP {short}.")
        lines.append(f"Blocs acquis : {', '.join(result.acquired_blocs) or 'aucun'}.")
        lines.append(f"Blocs manquants : {', '.join(result.missing_blocs)}.")
        refused = {d.bloc_key for d in outcome.dossier.decisions if not d.validated}
        advice = [
            f"  - {a.bloc_key} : {a.recommendations}"
            for a in outcome.dossier.evaluation.avis
            if a.bloc_key in refused and a.recommendations
        ]
        if advice:
            lines.append("Préconisations du jury :")
            lines.extend(advice)
    if codes:
        lines.append("Certificats délivrés (vérifiables en ligne avec leur code) :")
        lines.extend(codes)
    return "\n".join(lines)


def _body(settings: Settings, person: User, outcome: DossierOutcome, day: str) -> str:
    parcours = outcome.dossier.parcours
    of_whose = (
        "de votre parcours"
        if person.id == parcours.candidate_id
        else f"du parcours de {parcours.candidate.full_name}"
    )
    return (
        f"Bonjour {person.first_name},\n\n"
        f"Le jury paritaire national a proclamé le {day} les résultats {of_whose} "
        f"({parcours.certification.title}).\n\n"
        f"{result_text(outcome)}\n\n"
        f"Le détail est sur votre tableau de bord : {settings.base_url}/tableau-de-bord\n"
    )


def notify_results(settings: Settings, session: Session, proclaimed: Proclaimed) -> int:
    """Send every mail; return how many were sent (failures are logged, not raised)."""
    day = fr_day(paris_date(proclaimed.proclamation.proclaimed_at))
    sent = 0
    for outcome in proclaimed.outcomes:
        candidate = outcome.dossier.parcours.candidate.full_name
        for person in recipients(session, outcome):
            try:
                send_mail(
                    settings,
                    to=person.email,
                    subject=f"Résultat de la certification de {candidate}",
                    body=_body(settings, person, outcome, day),
                )
            except Exception:  # noqa: BLE001 - a mail failure must not undo the proclamation
                log.exception("result mail to %s failed", person.email)
            else:
                sent += 1
    return sent


def notify_cqp(settings: Settings, certificate: Certificate) -> bool:
    """Tell the holder that a CQP withheld at proclamation is now delivered (after the
    commit; a failure is logged, never raised)."""
    holder = certificate.holder
    if not holder.is_active:
        return False
    body = (
        f"Bonjour {holder.first_name},\n\n"
        f"Les prérequis du CQP {certificate.certification_short} sont désormais enregistrés : "
        f"le CQP {certificate.certification_title} vous est délivré le "
        f"{fr_day(certificate.issued_on)}.\n\n"
        f"Code de vérification : {certificate.code}\n"
        f"Vérification en ligne : {verification_url(settings, certificate.code)}\n\n"
        f"Le certificat est sur votre tableau de bord : {settings.base_url}/tableau-de-bord\n"
    )
    try:
        send_mail(
            settings,
            to=holder.email,
            subject=f"Votre CQP {certificate.certification_short} est délivré",
            body=body,
        )
    except Exception:  # noqa: BLE001 - a mail failure must not undo the delivery
        log.exception("CQP mail to %s failed", holder.email)
        return False
    return True
