"""Policy expectations for the statistics page and its CSV export: administrators only.

There is no object: "own" and "foreign" are the same page, with certificates of both
organisations of the world so that the page has figures to show.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from portal.settings import Settings
from tests.portal.world import World
from vae.decision.models import Certificate

ROLES = ("candidat", "tuteur", "manager", "referent", "jury_pro", "jury_national", "admin")
ADMIN_ONLY = {"anonymous": (303, 303)} | {r: (403, 403) for r in ROLES} | {"admin": (200, 200)}

EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("statistics", "GET"): ADMIN_ONLY,
    ("statistics_csv", "GET"): ADMIN_ONLY,
}


def url(name: str, world: World, role: str, own: bool, db: Session, settings: Settings) -> str:
    for index, parcours in enumerate((world.own, world.foreign)):
        db.add(
            Certificate(
                code=f"POLICYSTAT{index}",
                kind="cqp",
                holder_id=parcours.candidate_id,
                parcours_id=parcours.id,
                certification_code="RNCP35543",
                certification_short="COS",
                certification_title="Conseiller offres de services",
                route=parcours.route,
                issued_on=date(2027, 3, 1),
                holder_first_name="X",
                holder_last_name="Y",
            )
        )
    db.flush()
    return {"statistics": "/admin/statistiques", "statistics_csv": "/admin/statistiques.csv"}[name]
