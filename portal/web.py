"""Small helpers shared by the views."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request


def db(request: Request) -> Session:
    session: Session = request.state.db
    return session
