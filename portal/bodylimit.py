"""Cap the request body of an upload endpoint before Starlette parses it.

Starlette spools any multipart body to disk; an endpoint wrapped in ``LimitedBody`` answers the
view's "too large" response as soon as the declared or received size passes the limit, so a
body without Content-Length is capped too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import request_response
from starlette.types import Message, Receive, Scope, Send


class _BodyTooLarge(Exception):
    pass


class LimitedBody:
    """An endpoint whose POST body may not exceed ``limit`` bytes; ``too_large`` builds the
    answer (it gets the request, without its body)."""

    def __init__(
        self,
        endpoint: Callable[[Request], Awaitable[Response]],
        *,
        limit: int,
        too_large: Callable[[Request], Response],
    ) -> None:
        self.app = request_response(endpoint)
        self.limit = limit
        self.too_large = too_large
        self.__policy__ = endpoint.__policy__  # type: ignore[attr-defined]
        self.__name__ = endpoint.__name__

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.too_large(Request(scope, receive))
        response.headers["Connection"] = "close"
        await response(scope, receive, send)
