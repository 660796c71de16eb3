"""Request guards of the local server: the start token (query once, then a cookie), the Host
header (DNS rebinding), Origin on POST, CSRF tokens tied to the session, upload size."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

COOKIE = "xltool_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

def new_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Guard:
    token: str
    port: int
    max_body_bytes: int

    @property
    def csrf(self) -> str:
        """The CSRF token of this session (the session is the start token)."""
        return hmac.new(self.token.encode(), b"csrf", hashlib.sha256).hexdigest()

    def hosts(self) -> set[str]:
        return {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}

    def csrf_ok(self, value: str | None) -> bool:
        return bool(value) and hmac.compare_digest(str(value), self.csrf)

    def token_ok(self, value: str | None) -> bool:
        return bool(value) and hmac.compare_digest(str(value), self.token)


def size_zh(n: int) -> str:
    """1048576 → '1 MB'; small limits (tests) in KB."""
    return f"{n / 1048576:.0f} MB" if n >= 1048576 else f"{max(1, n // 1024)} KB"


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


class GuardMiddleware:
    """Pure ASGI middleware: refuses before any route runs; pages come from ``refuse``."""

    def __init__(self, app: Any, guard: Guard,
                 refuse: Callable[[int, str, str], Any]) -> None:
        self.app = app
        self.guard = guard
        self.refuse = refuse  # (status, title, text) -> an ASGI response

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                       send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        g = self.guard
        h = _headers(scope)
        if h.get("host", "") not in g.hosts():
            await self.refuse(400, "地址不对", "请用启动时显示的地址（http://127.0.0.1:端口/…）打开工作台。")(scope, receive, send)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        cookie = SimpleCookie()
        try:
            cookie.load(h.get("cookie", ""))
        except Exception:  # a malformed cookie header is just no cookie
            cookie = SimpleCookie()
        have = cookie[COOKIE].value if COOKIE in cookie else None
        if not g.token_ok(have):
            if g.token_ok(query.get("token")) and scope["method"] == "GET":
                rest = urlencode({k: v for k, v in query.items() if k != "token"})
                location = scope["path"] + (f"?{rest}" if rest else "")
                await send({"type": "http.response.start", "status": 303, "headers": [
                    (b"location", location.encode("latin-1", "replace")),
                    (b"set-cookie", f"{COOKIE}={g.token}; HttpOnly; SameSite=Strict; Path=/".encode()),
                    (b"cache-control", b"no-store")]})
                await send({"type": "http.response.body", "body": b""})
                return
            await self.refuse(403, "需要访问口令",
                              "这个地址缺少访问口令，或口令已过期（每次启动工作台都会换新口令）。"
                              "请使用启动窗口中显示的完整地址（含 ?token=…）打开。")(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            origin = h.get("origin")
            allowed = {f"http://{x}" for x in g.hosts()}
            if origin is None:
                ref = h.get("referer", "")
                ok = any(ref == a or ref.startswith(a + "/") for a in allowed)
            else:
                ok = origin in allowed
            if not ok:
                await self.refuse(403, "已拒绝", "这个请求来自其他网站，已拒绝。请在工作台页面上操作。")(scope, receive, send)
                return
            try:
                length = int(h.get("content-length", ""))
            except ValueError:
                length = -1
            if length < 0 or length > g.max_body_bytes:
                await self.refuse(413, "文件太大", f"一次上传的文件合计不能超过 {size_zh(g.max_body_bytes)}。"
                                  "请分几次上传，或把文件放进工作区后用 xltool receive 收取。")(scope, receive, send)
                return
        await self.app(scope, receive, send)
