"""The livret 2 pages: overview, career data, situation editor, coverage, submission."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
