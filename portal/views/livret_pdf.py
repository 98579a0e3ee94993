"""The livret 2 as one PDF, annexes merged with bookmarks."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
