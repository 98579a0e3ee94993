"""Response headers and the cross-origin check for state-changing requests.

CSRF is stopped twice: this middleware refuses unsafe requests a browser marks as cross-site
(``Sec-Fetch-Site``) or whose ``Origin`` is another host, and every form or htmx request must
carry the session's token (``portal.web``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.settings import Settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CROSS_SITE_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Requête refusée</title></head><body><main><h1>Requête refusée</h1>
<p>Cette action doit être faite depuis la plateforme elle-même.
<a href="/">Revenir à l'accueil</a></p></main></body></html>"""


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in SAFE_METHODS and self._cross_site(Headers(scope=scope)):
            response = HTMLResponse(CROSS_SITE_PAGE, status_code=403)
            await response(scope, receive, self._with_headers(scope, send))
            return
        await self.app(scope, receive, self._with_headers(scope, send))

    @staticmethod
    def _cross_site(headers: Headers) -> bool:
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is not None and fetch_site not in ("same-origin", "none"):
            return True
        origin = headers.get("origin")
        if origin is None or origin == "null":
            return origin == "null"
        return urlsplit(origin).netloc != headers.get("host", "")

    def _with_headers(self, scope: Scope, send: Send) -> Send:
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
                if self.settings.https:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            await send(message)

        return send_with_headers
