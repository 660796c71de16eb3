"""The workbench's guards, each tried over real HTTP against a server in a thread: the token,
the Host header, CSRF and Origin on POST, upload limits, path-traversing upload names, no
directory listing, Chinese error pages instead of tracebacks."""

from __future__ import annotations

import http.client
import io
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from xltool.cli import main as cli
from xltool.web.security import COOKIE
from xltool.web.server import Background

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
RETURN = SAMPLES / "returns" / "2025年_威海市环翠区民政局_政府信息公开年报.xlsx"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("web") / "2025年报"
    assert cli(["init", str(ws), "--year", "2025", "--roster", str(SAMPLES / "roster.csv")]) == 0
    return ws


@pytest.fixture(scope="module")
def srv(workspace: Path) -> Iterator[Background]:
    b = Background(workspace, max_upload_bytes=200_000, max_files=3)
    yield b
    b.stop()


def request(b: Background, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None,
            cookie: bool = True, host: str | None = None) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", b.port, timeout=60)
    h = {"Host": host or f"127.0.0.1:{b.port}"}
    if cookie:
        h["Cookie"] = f"{COOKIE}={b.token}"
    h.update(headers or {})
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    text = r.read().decode("utf-8", "replace")
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, text


def csrf(b: Background) -> str:
    return b.server.config.app.guard.csrf  # the middleware holds the session's guard


def finished(b: Background, location: str) -> tuple[int, str]:
    """A background job's page once the job has finished (the POST answered 303 → /job/N)."""
    jid = int(location.rsplit("/", 1)[1])
    job = b.server.config.app.app.state.jobs.wait(jid)
    assert not job.running
    status, _, text = request(b, "GET", location)
    return status, text


def multipart(files: list[tuple[str, bytes]], fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for k, v in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    for name, data in files:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                  "Content-Type: application/octet-stream\r\n\r\n".encode())
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def post(b: Background, path: str, body: bytes, ctype: str, *, origin: str | None = "same",
         extra: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    h = {"Content-Type": ctype}
    if origin == "same":
        h["Origin"] = f"http://127.0.0.1:{b.port}"
    elif origin is not None:
        h["Origin"] = origin
    h.update(extra or {})
    return request(b, "POST", path, body=body, headers=h)


def chinese(text: str) -> bool:
    return "Traceback" not in text and any("\u4e00" <= c <= "\u9fff" for c in text)


def test_token_required_then_cookie(srv: Background) -> None:
    status, _, text = request(srv, "GET", "/", cookie=False)
    assert status == 403 and "访问口令" in text and chinese(text)
    status, _, _ = request(srv, "GET", "/?token=wrong", cookie=False)
    assert status == 403
    status, _, _ = request(srv, "GET", "/static/app.js", cookie=False)
    assert status == 403  # every request, static files too
    status, h, _ = request(srv, "GET", f"/?token={srv.token}", cookie=False)
    assert status == 303 and h["location"] == "/"
    cookie = h["set-cookie"]
    assert f"{COOKIE}={srv.token}" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, h, text = request(srv, "GET", "/")
    assert status == 200 and "报送总览" in text
    assert h["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in h["content-security-policy"]


def test_host_header_checked(srv: Background) -> None:
    for host in (f"evil.example:{srv.port}", f"127.0.0.1:{srv.port + 1}", "127.0.0.1"):
        status, _, text = request(srv, "GET", "/", host=host)
        assert status == 400 and chinese(text), host
    assert request(srv, "GET", "/", host=f"localhost:{srv.port}")[0] == 200


def test_csrf_and_origin_on_post(srv: Background) -> None:
    good = csrf(srv)
    form = "application/x-www-form-urlencoded"
    # no CSRF token / a wrong one
    for body in (b"", b"csrf=nope"):
        status, _, text = post(srv, "/summary", body, form)
        assert status == 403 and "校验码" in text and chinese(text)
    # the right token from another site, or with no Origin and no Referer
    for origin in ("http://evil.example", "null", None):
        status, _, text = post(srv, "/summary", f"csrf={good}".encode(), form, origin=origin)
        assert status == 403 and "其他网站" in text, origin
    # the token in the header works as well as the form field (nothing received yet: a Chinese 400)
    status, h, _ = post(srv, "/summary", b"", form, extra={"X-CSRF-Token": good})
    assert status == 303 and h["location"].startswith("/job/")
    status, text = finished(srv, h["location"])  # combining ran in the background and failed in Chinese
    assert status == 200 and "还没有任何单位报送的文件" in text and 'id="job-error"' in text


def test_upload_limits(srv: Background) -> None:
    body, ctype = multipart([("大.xlsx", b"x" * 300_000)], {"csrf": csrf(srv)})
    status, _, text = post(srv, "/receive", body, ctype)
    assert status == 413 and "文件太大" in text and chinese(text)
    body, ctype = multipart([(f"{i}.xlsx", b"x") for i in range(4)], {"csrf": csrf(srv)})
    status, _, text = post(srv, "/receive", body, ctype)
    assert status == 413 and "最多上传 3 个文件" in text


def test_traversing_name_stored_by_hash(srv: Background, workspace: Path, tmp_path: Path) -> None:
    before = {p for p in workspace.parent.rglob("*")}
    data = RETURN.read_bytes()
    body, ctype = multipart([("../../x.xlsx", data), ("..\\..\\y.xlsx", b"not a workbook")], {"csrf": csrf(srv)})
    status, h, _ = post(srv, "/receive", body, ctype)
    assert status == 303
    status, text = finished(srv, h["location"])
    assert status == 200 and chinese(text)
    assert "x.xlsx" in text and "../" not in text
    after = {p for p in workspace.parent.rglob("*")}
    new = after - before
    assert all(workspace in p.parents for p in new), new  # nothing written outside the workspace
    assert not any(p.name in ("x.xlsx", "y.xlsx") for p in after)
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    assert any(p.name.startswith(sha) for p in (workspace / "收件").iterdir())
    # a zip member that traverses is refused by receive's own guard
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../evil.xlsx", data)
    body, ctype = multipart([("包.zip", buf.getvalue())], {"csrf": csrf(srv)})
    status, h, _ = post(srv, "/receive", body, ctype)
    status, text = finished(srv, h["location"])
    assert status == 200 and "未收取" in text
    assert not any(p.name == "evil.xlsx" for p in workspace.parent.parent.rglob("*"))


def test_no_listing_and_chinese_errors(srv: Background, monkeypatch: pytest.MonkeyPatch) -> None:
    for path in ("/static/", "/收件/", "/original/../../state.sqlite", "/original/" + "0" * 64,
                 "/agency/99999", "/agency/1/feedback", "/nope"):
        status, _, text = request(srv, "GET", quote(path))
        assert status == 404 and chinese(text), path
    status, _, text = request(srv, "DELETE", "/")
    assert status in (403, 405) and chinese(text)
    import xltool.web.app as web_app

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("internal detail")

    monkeypatch.setattr(web_app, "agency_states", boom)
    status, _, text = request(srv, "GET", "/")
    assert status == 500 and chinese(text) and "internal detail" not in text and "RuntimeError" not in text


def test_serve_command_registered() -> None:
    from xltool.cli import build_parser

    args = build_parser().parse_args(["serve", "ws", "--port", "8765", "--no-browser"])
    assert args.port == 8765 and args.no_browser


def test_serve_prints_address_and_stops_on_ctrl_c(workspace: Path) -> None:
    import re
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-u", "-c", "import sys; from xltool.cli import main; sys.exit(main())",
                             "serve", str(workspace), "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, encoding="utf-8")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=([\w-]+)", line)
        assert m, line
        port, token = int(m.group(1)), m.group(2)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(100):  # until it listens
            try:
                conn.request("GET", f"/?token={token}")
                break
            except ConnectionRefusedError:
                import time

                time.sleep(0.05)
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        r = conn.getresponse()
        assert r.status == 303 and COOKIE in (r.getheader("set-cookie") or "")
        conn.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) in (0, 130)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
