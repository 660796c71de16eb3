"""Benchmark of the workbench (issue 11). Printed figures, not timed tests.

Usage: ``python bench/bench_web.py [N_AGENCIES] [N_UPLOAD]`` (default 2000 and 500; N_UPLOAD 0: 总览 only):

* 总览 of a workspace of N agencies (all received), served over HTTP by the real server
  in a thread: median of 10 requests, and the server's own render time (goal < 300 ms);
* receiving N_UPLOAD files through the page (one multipart POST to /receive, then the
  background job to its end) against ``receive()`` on the same files into a fresh
  workspace in the same run (goal ≤ 1.3×).
"""

from __future__ import annotations

import http.client
import io
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_check import YEAR, make_files
from bench_workspace import roster

from xltool.cli import main
from xltool.pipeline.workspace import open_workspace
from xltool.pipeline.workspace.receive import receive
from xltool.web.security import COOKIE
from xltool.web.server import Background


def get(b: Background, path: str) -> tuple[int, float, int]:
    status, dt, body = fetch(b, path)
    return status, dt, len(body)


def fetch(b: Background, path: str) -> tuple[int, float, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", b.port, timeout=600)
    t = time.perf_counter()
    c.request("GET", path, headers={"Host": f"127.0.0.1:{b.port}", "Cookie": f"{COOKIE}={b.token}"})
    r = c.getresponse()
    body = r.read()
    dt = time.perf_counter() - t
    c.close()
    return r.status, dt, body


def upload(b: Background, files: list[Path]) -> float:
    """POST every file in one request (as the page's drop does), then wait for the job."""
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    csrf = b.server.config.app.guard.csrf
    out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'.encode())
    for p in files:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{p.name}"\r\n'
                  "Content-Type: application/octet-stream\r\n\r\n".encode())
        out.write(p.read_bytes() + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    body = out.getvalue()
    t = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", b.port, timeout=600)
    c.request("POST", "/receive", body=body, headers={
        "Host": f"127.0.0.1:{b.port}", "Cookie": f"{COOKIE}={b.token}", "Origin": f"http://127.0.0.1:{b.port}",
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    r = c.getresponse()
    r.read()
    c.close()
    assert r.status == 303, r.status
    jid = int(r.getheader("location", "/0").rsplit("/", 1)[1])
    job = b.server.config.app.app.state.jobs.wait(jid)
    assert job.error is None, job.error
    return time.perf_counter() - t


def overview(n: int, base: Path) -> None:
    paths = make_files(n)
    ws = base / "ws-overview"
    names = [f"单位{i:05d}" for i in range(n)]
    assert main(["init", str(ws), "--year", str(YEAR), "--roster", str(roster(base / "名单.csv", names))]) == 0
    w = open_workspace(ws)
    try:
        receive(w, [paths[0].parent])
    finally:
        w.close()
    b = Background(ws)
    try:
        get(b, "/")
        times, server, size = [], [], 0
        for _ in range(10):
            status, dt, body = fetch(b, "/")
            assert status == 200
            times.append(dt)
            size = len(body)
            m = re.search(r"页面生成用时 (\d+) 毫秒", body.decode("utf-8"))  # the route's own time, in the page
            if m:
                server.append(int(m.group(1)))
        print(f"总览, {n} agencies: median {1000 * statistics.median(times):.0f} ms, "
              f"min {1000 * min(times):.0f} ms over HTTP ({size / 1024:.0f} KiB of HTML); "
              f"server-side median {statistics.median(server) if server else float('nan'):.0f} ms")
    finally:
        b.stop()


def upload_vs_cli(n: int, base: Path) -> None:
    paths = make_files(max(n, 200))[:n]
    names = [f"单位{i:05d}" for i in range(n)]
    r = roster(base / "名单-upload.csv", names)
    cli_ws, web_ws = base / "ws-cli", base / "ws-web"
    for d in (cli_ws, web_ws):
        assert main(["init", str(d), "--year", str(YEAR), "--roster", str(r)]) == 0
    w = open_workspace(cli_ws)
    t = time.perf_counter()
    try:
        receive(w, paths)
    finally:
        w.close()
    cli = time.perf_counter() - t
    b = Background(web_ws, max_files=n + 10, max_upload_bytes=2 << 30)
    try:
        web = upload(b, paths)
    finally:
        b.stop()
    print(f"receive {n} files: CLI receive() {cli:.2f} s, through the page {web:.2f} s ({web / cli:.2f}×)")


if __name__ == "__main__":
    n_agencies = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    n_upload = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    base = Path(tempfile.mkdtemp(prefix="xltool-bench-web-"))
    try:
        overview(n_agencies, base)
        if n_upload:  # 0: 总览 only
            upload_vs_cli(n_upload, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
