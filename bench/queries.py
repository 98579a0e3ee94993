"""SQL statements per page, counted in-process (Starlette's TestClient, one request per page
after a warm-up request), separately from the timed load."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sqlalchemy import event
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bench.targets import Page

TRANSACTION = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", re.IGNORECASE)
# the session's last-seen time, written at most once a minute whatever the page: not its work
LAST_SEEN = re.compile(r"^\s*UPDATE auth_sessions SET last_seen_at", re.IGNORECASE)


def counted(statement: str) -> bool:
    """Whether a statement is the page's work: not transaction control, not the last-seen write."""
    return not TRANSACTION.match(statement) and not LAST_SEEN.match(statement)


def _shape(statement: str) -> str:
    """A statement without its literal values, to tell repeated ones apart (N+1 loops)."""
    shape = re.sub(r"\s+", " ", statement)
    shape = re.sub(r"IN \(__\[POSTCOMPILE_\w+\]\)", "IN (…)", shape)
    return shape[:160]


def count(app: Starlette, pages: list[Page], cookies: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Per page: statements sent (transaction control left out) and the most repeated ones."""
    engine = app.state.engine
    statements: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if counted(statement):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    results: dict[str, Any] = {}
    try:
        for page in pages:
            with TestClient(app, base_url="http://127.0.0.1") as client:
                client.cookies.update(cookies.get(page.role, {}))
                client.get(page.path)  # warm: référentiel cache, compiled statements
                statements.clear()
                response = client.get(page.path, follow_redirects=False)
            repeated = Counter(_shape(s) for s in statements).most_common(3)
            results[page.name] = {
                "status": response.status_code,
                "queries": len(statements),
                "most_repeated": [{"count": n, "statement": s} for s, n in repeated if n > 1],
            }
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return results
