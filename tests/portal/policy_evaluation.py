"""Policy matrix of the evaluation grid, its signature and the candidate's avis page.

own: a session the jury professionnel member sits on, ``world.own`` convened (for the national
jury: its evaluation signed and on a national agenda); foreign: a session without them,
``world.foreign`` convened, nothing signed. The interviews took place yesterday (the grid opens
on the interview's day). The forms are empty: a grid with nothing in it saves nothing (303), a
signature of nothing is refused (400), an empty recours with no signed avis is refused (400), a
reopening without its reason is refused (400).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from portal.settings import Settings
from tests.portal.world import World
from vae.decision.models import Evaluation, NationalDossier
from vae.jury.models import Convocation, JuryMember, JurySession

ROLES = ("candidat", "tuteur", "manager", "referent", "jury_pro", "jury_national", "admin")


def _table(allowed: dict[str, tuple[int, int]], others: int = 403) -> dict[str, tuple[int, int]]:
    table = {"anonymous": (303, 303)} | {role: (others, others) for role in ROLES}
    table.update(allowed)
    return table


EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("evaluation", "GET"): _table(
        {"jury_pro": (200, 404), "jury_national": (200, 404), "admin": (200, 200)}
    ),
    ("evaluation", "POST"): _table({"jury_pro": (303, 404)}),
    ("evaluation_sign", "GET"): _table({"jury_pro": (200, 404)}),
    ("evaluation_sign", "POST"): _table({"jury_pro": (400, 404)}),
    ("parcours_avis", "GET"): _table(
        {r: (200, 404) for r in ("candidat", "tuteur", "manager", "referent")}
        | {"jury_pro": (404, 404), "jury_national": (404, 404), "admin": (200, 200)}
    ),
    ("parcours_avis", "POST"): _table({"candidat": (400, 404)}),
    ("evaluation_reopen", "POST"): _table({"admin": (400, 400)}),
}


def _convocation(db: Session, world: World, role: str, own: bool) -> Convocation:
    parcours = world.own if own else world.foreign
    yesterday = datetime.now(UTC) - timedelta(days=1)
    jury = JurySession(kind="professionnel", day=yesterday.date(), place="Montreuil", capacity=8)
    db.add(jury)
    db.flush()
    if own:
        db.add(
            JuryMember(session_id=jury.id, user_id=world.people["jury_pro"].id, quality="president")
        )
    convocation = Convocation(
        session_id=jury.id,
        parcours_id=parcours.id,
        at=yesterday,
        place="Montreuil",
    )
    db.add(convocation)
    db.flush()
    if own and role == "jury_national":
        now = datetime.now(UTC)
        evaluation = Evaluation(
            convocation_id=convocation.id,
            session_id=jury.id,
            parcours_id=parcours.id,
            content_hash="0" * 64,
            frozen_at=now,
            signed_at=now,
        )
        national = JurySession(kind="national", day=date(2027, 3, 9), place="Paris", capacity=50)
        db.add_all([evaluation, national])
        db.flush()
        db.add(
            NationalDossier(
                session_id=national.id, evaluation_id=evaluation.id, parcours_id=parcours.id
            )
        )
        db.flush()
    return convocation


def url(name: str, world: World, role: str, own: bool, db: Session, settings: Settings) -> str:
    if name == "parcours_avis":
        return f"/parcours/{(world.own if own else world.foreign).id}/avis"
    convocation = _convocation(db, world, role, own)
    suffix = {"evaluation_sign": "/signature", "evaluation_reopen": "/rouvrir"}.get(name, "")
    return f"/jury/evaluations/{convocation.id}{suffix}"
