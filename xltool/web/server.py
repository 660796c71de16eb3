"""Run the workbench: bind 127.0.0.1 on a free (or given) port, print the address with the
token, open the browser, serve until Ctrl-C."""

from __future__ import annotations

import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from xltool.web.app import MAX_UPLOAD_BYTES, MAX_UPLOAD_FILES, create_app
from xltool.web.security import new_token

HOST = "127.0.0.1"


def bind(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (never another interface); port 0 picks a free one."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((HOST, port))
    sock.listen(128)
    return sock


def make_server(root: str | Path, sock: socket.socket, *, token: str | None = None,
                max_upload_bytes: int = MAX_UPLOAD_BYTES, max_files: int = MAX_UPLOAD_FILES) -> tuple[Any, str]:
    """(uvicorn server, address with token) over an already bound socket."""
    port = sock.getsockname()[1]
    token = token or new_token()
    app = create_app(root, token=token, port=port, max_upload_bytes=max_upload_bytes, max_files=max_files)
    config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False, lifespan="off")
    return uvicorn.Server(config), f"http://{HOST}:{port}/?token={token}"


def serve(root: str | Path, *, port: int = 0, open_browser: bool = True,
          say: Callable[[str], None] = print) -> None:
    sock = bind(port)
    server, url = make_server(root, sock)
    say(f"工作台已启动，请在浏览器中打开：{url}  （按 Ctrl+C 停止）")
    if open_browser:
        threading.Timer(0.5, lambda: webbrowser.open(url)).start()
    server.run(sockets=[sock])


class Background:
    """The server in a thread (tests, benchmarks): ``url`` has the token; ``stop()`` ends it."""

    def __init__(self, root: str | Path, **limits: Any) -> None:
        self.sock = bind(0)
        self.port: int = self.sock.getsockname()[1]
        self.server, self.url = make_server(root, self.sock, **limits)
        self.token = self.url.rsplit("=", 1)[1]
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        for _ in range(500):  # until it accepts requests (at most ~5 s)
            if self.server.started:
                break
            self.thread.join(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
