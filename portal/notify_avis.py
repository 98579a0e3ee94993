"""The candidate's mail when the jury professionnel's avis becomes final: where to read it, until
when a recours may be filed (Paris time), and that they may also declare they will not appeal.

Sent after the commit of the last signature: a mail that fails is logged and never undoes it.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from portal.mail import send_mail
from portal.settings import Settings
from vae.decision import recours
from vae.decision.models import Evaluation
from vae.jury.rules import MONTHS_FR

log = logging.getLogger("vae_portal.notify")
PARIS = ZoneInfo("Europe/Paris")


def _paris(evaluation: Evaluation, days: int) -> str:
    deadline = recours.recours_deadline(evaluation, days)
    assert deadline is not None
    local = deadline.astimezone(PARIS)
    day = "1er" if local.day == 1 else str(local.day)
    return f"{day} {MONTHS_FR[local.month]} {local.year} à {local:%H:%M}"


def avis_body(settings: Settings, evaluation: Evaluation) -> str:
    parcours = evaluation.parcours
    link = f"{settings.base_url}/parcours/{parcours.id}/avis"
    return (
        f"Bonjour {parcours.candidate.first_name},\n\n"
        "Le jury professionnel a signé son avis sur votre parcours "
        f"(CQP {parcours.certification.short} – {parcours.certification.title}). "
        f"Vous pouvez le lire ici :\n{link}\n\n"
        "Si vous le contestez, vous pouvez déposer un recours motivé sur la même page jusqu'au "
        f"{_paris(evaluation, settings.recours_days)} (heure de Paris). Si vous ne souhaitez pas "
        "former de recours, vous pouvez aussi le déclarer sur cette page : votre dossier est "
        "alors transmis sans attendre la fin du délai.\n\n"
        "Cet avis n'est pas encore une décision de certification : le jury paritaire national "
        "délibère ensuite et proclame les résultats.\n"
    )


def notify_avis_signed(settings: Settings, evaluation: Evaluation) -> bool:
    """Mail the candidate that the avis is final; False (logged) when the mail fails."""
    candidate = evaluation.parcours.candidate
    if not candidate.is_active:
        return False
    try:
        send_mail(
            settings,
            to=candidate.email,
            subject="L'avis du jury professionnel est disponible",
            body=avis_body(settings, evaluation),
        )
    except Exception:  # noqa: BLE001 - a mail failure must not undo the signature
        log.exception("avis mail to %s failed", candidate.email)
        return False
    return True
