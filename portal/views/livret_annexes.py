"""Annexes of the livret 2: upload, download, delete."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
