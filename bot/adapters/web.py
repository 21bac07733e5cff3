"""The one web server: Telegram webhook, Slack HTTP endpoint and `/healthz`, on `BOT_HTTP_PORT`.

Adapters add their routes; health checks are named async callables reported together.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 0.8  # seconds each health check may take
MAX_BODY_BYTES = 1024 * 1024

HealthCheck = Callable[[], Awaitable[bool]]
PostHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebServer:
    def __init__(self, host: str, port: int, *, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.host = host
        self.port = port
        self.app = web.Application(client_max_size=max_body_bytes)
        self.app.router.add_get("/healthz", self._healthz)
        self.app.router.add_post("/{path:.*}", self._dispatch_post)
        self._checks: dict[str, HealthCheck] = {}
        self._posts: dict[str, PostHandler] = {}
        self._runner: web.AppRunner | None = None

    def add_check(self, name: str, check: HealthCheck) -> None:
        self._checks[name] = check

    def add_post(self, path: str, handler: PostHandler) -> None:
        """Serve POST `path` (may be added after the server started: adapters learn the port first)."""
        self._posts[path] = handler

    async def _dispatch_post(self, request: web.Request) -> web.StreamResponse:
        handler = self._posts.get(request.path)
        if handler is None:
            return web.Response(status=404)
        return await handler(request)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # a free port was chosen (tests)
            server = site._server
            sockets = getattr(server, "sockets", None) or []
            if sockets:
                self.port = sockets[0].getsockname()[1]
        log.info("web server listening host=%s port=%d", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        """Every check at once, each given `CHECK_TIMEOUT`: a database that does not answer is down
        (503 within a second), never a request that hangs."""
        names = list(self._checks)
        answers = await asyncio.gather(
            *(asyncio.wait_for(self._checks[name](), CHECK_TIMEOUT) for name in names), return_exceptions=True
        )
        results: dict[str, bool] = {}
        for name, answer in zip(names, answers, strict=True):
            if isinstance(answer, BaseException):
                log.warning("health check failed name=%s: %s", name, type(answer).__name__)
                results[name] = False
            else:
                results[name] = bool(answer)
        healthy = all(results.values())
        return web.json_response(
            {"status": "ok" if healthy else "degraded", "checks": results}, status=200 if healthy else 503
        )
