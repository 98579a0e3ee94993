"""Policy expectations for the benchmark's ceiling page, which exists only with VAE_BENCH=1."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.settings import Settings
from portal.views.bench import routes
from tests.portal.world import World

ROLES = ("anonymous", "candidat", "tuteur", "manager", "referent", "jury_pro", "jury_national")
EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = (
    {("bench_ceiling", "GET"): {role: (200, 200) for role in (*ROLES, "admin")}} if routes else {}
)


def url(name: str, world: World, role: str, own: bool, db: Session, settings: Settings) -> str:
    return "/bench/ceiling"
