"""Opening a parcours (référents and administrators)."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
