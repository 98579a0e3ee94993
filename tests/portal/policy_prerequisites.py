"""Policy expectations for the prerequisites of the CQP on a parcours (Pass, Prem'ss)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.settings import Settings
from tests.portal.world import World

_OTHERS = {r: (403, 403) for r in ("candidat", "tuteur", "manager", "jury_pro", "jury_national")}

EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    # no date given: 400 with the message for whoever may record on this parcours
    ("parcours_prerequisite_add", "POST"): {"anonymous": (303, 303)}
    | _OTHERS
    | {"referent": (400, 404), "admin": (400, 400)},
    ("parcours_prerequisite_remove", "POST"): {"anonymous": (303, 303)}
    | _OTHERS
    | {"referent": (303, 404), "admin": (303, 303)},
}


def url(name: str, world: World, role: str, own: bool, db: Session, settings: Settings) -> str:
    parcours = world.own if own else world.foreign
    if name == "parcours_prerequisite_add":
        return f"/parcours/{parcours.id}/prerequis"
    return f"/parcours/{parcours.id}/prerequis/pass/retirer"
