"""Policy expectations for the RGPD export: everyone signed in gets their own data (no object
in the URL: own and foreign alike); an anonymous GET goes to sign-in, a POST gets 401."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.settings import Settings
from tests.portal.world import World

ROLES = ("candidat", "tuteur", "manager", "referent", "jury_pro", "jury_national", "admin")
SIGNED_IN_200 = {"anonymous": (303, 303)} | {role: (200, 200) for role in ROLES}

EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("account_data", "GET"): SIGNED_IN_200,
    ("account_data", "POST"): SIGNED_IN_200,
}


def url(name: str, world: World, role: str, own: bool, db: Session, settings: Settings) -> str:
    return "/compte/mes-donnees"
