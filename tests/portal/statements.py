"""Counting the SQL statements a page sends: the guard against loops of queries (N+1)."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session
from starlette.testclient import TestClient


def page_statements(client: TestClient, db: Session, url: str) -> tuple[int, str]:
    """The statements a GET of ``url`` sends (it must answer 200), and the page's text."""
    count = 0

    def counted(*_args: object) -> None:
        nonlocal count
        count += 1

    bind = db.get_bind()
    event.listen(bind, "before_cursor_execute", counted)
    try:
        page = client.get(url)
        assert page.status_code == 200, (url, page.status_code)
    finally:
        event.remove(bind, "before_cursor_execute", counted)
    return count, page.text
