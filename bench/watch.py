"""Watch at scale: N watched dependencies on a loopback index, one new (malicious-shaped) release
each minute. Measures the poll cost per interval, the time from a release appearing to its alert
reaching the webhook, and the watcher's CPU and memory.

    .venv/bin/python bench/watch.py [--deps 5000] [--releases 3] [--interval 60] [--write-docs]

Everything is on 127.0.0.1: the index, the webhook receiver, the watcher (a subprocess).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _common import ROOT, command_line, machine, now, write_section

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
STAGE = base64.b64encode(b"print('bench payload to https://bench.invalid/')").decode()
PTH = (
    "import os, subprocess, sys; subprocess.Popen([sys.executable, '-c', "
    f"\"import base64; exec(base64.b64decode('{STAGE}'))\"], stdout=subprocess.DEVNULL)\n"
)


def wheel(name: str, version: str, malicious: bool) -> tuple[str, bytes]:
    stem = f"{name}-{version}"
    files = {
        f"{name}/__init__.py": b"X = 1\n",
        f"{stem}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
    }
    if malicious:
        files[f"{name}_init.pth"] = PTH.encode()
    files[f"{stem}.dist-info/WHEEL"] = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    rec = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rec.append(f"{path},sha256={digest},{len(data)}")
    rec.append(f"{stem}.dist-info/RECORD,,")
    files[f"{stem}.dist-info/RECORD"] = ("\n".join(rec) + "\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return f"{stem}-py3-none-any.whl", buf.getvalue()


class Index:
    """A loopback PEP 691 index with ETags, for thousands of projects."""

    def __init__(self, count: int) -> None:
        self.files: dict[str, list[tuple[str, bytes, str]]] = {}
        self.blobs: dict[str, bytes] = {}
        self.requests = 0
        self.not_modified = 0
        self.lock = threading.Lock()
        old = "2025-01-01T00:00:00Z"
        for i in range(count):
            name = f"benchpkg{i:05d}"
            fn, data = wheel(name, "1.0", malicious=False)
            self.files[name] = [(fn, data, old)]
            self.blobs[fn] = data

    def publish(self, name: str, version: str) -> None:
        fn, data = wheel(name, version, malicious=True)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self.lock:
            self.files[name].append((fn, data, stamp))
            self.blobs[fn] = data

    def page(self, name: str) -> tuple[bytes, str]:
        with self.lock:
            files = list(self.files.get(name, []))
        doc = {
            "meta": {"api-version": "1.1"},
            "name": name,
            "files": [
                {
                    "filename": fn,
                    "url": f"/files/{fn}",
                    "hashes": {"sha256": hashlib.sha256(d).hexdigest()},
                    "upload-time": t,
                }
                for fn, d, t in files
            ],
            "versions": sorted({fn.split("-")[1] for fn, _, _ in files}),
        }
        body = json.dumps(doc).encode()
        return body, '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def serve_index(index: Index) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:
            with index.lock:
                index.requests += 1
            parts = [p for p in self.path.split("/") if p]
            if len(parts) == 2 and parts[0] == "simple":
                body, etag = index.page(parts[1])
                if self.headers.get("If-None-Match") == etag:
                    with index.lock:
                        index.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._send(200, body, JSON_TYPE, etag)
            elif len(parts) == 2 and parts[0] == "files" and parts[1] in index.blobs:
                self._send(200, index.blobs[parts[1]], "application/octet-stream", "")
            else:
                self._send(404, b"no", "text/plain", "")

        def _send(self, code: int, body: bytes, ctype: str, etag: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            if etag:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def serve_hook(arrivals: dict[str, float]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            arrivals.setdefault(f"{body.get('package')}=={body.get('version')}", time.time())
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def proc_stats(pid: int) -> tuple[float, int]:
    """(CPU seconds, peak RSS in KiB) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    hwm = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    return cpu, hwm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deps", type=int, default=5000)
    parser.add_argument("--releases", type=int, default=3)
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    index = Index(args.deps)
    index_httpd = serve_index(index)
    arrivals: dict[str, float] = {}
    hook = serve_hook(arrivals)
    index_url = f"http://127.0.0.1:{index_httpd.server_address[1]}/simple/"
    hook_url = f"http://127.0.0.1:{hook.server_address[1]}/hook"
    with tempfile.TemporaryDirectory(prefix="cw-watch-bench-") as tmp:
        work = Path(tmp)
        project = work / "project"
        project.mkdir()
        (project / "requirements.txt").write_text("".join(f"benchpkg{i:05d}>=1.0\n" for i in range(args.deps)))
        log = work / "watch.log"
        env = {**os.environ, "CHAINWARDEN_CACHE_DIR": str(work / "cache")}
        cmd = [
            str(ROOT / ".venv/bin/python"), "-m", "chainwarden", "watch", str(project), "--index-url", index_url,
            "--interval", str(args.interval), "--webhook", hook_url, "--db", str(work / "watch.sqlite3"),
            "--advisory-db", str(work / "none.sqlite3"), "--jobs", "1",
        ]  # fmt: skip
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        started = time.time()
        try:
            while "cycle: polled" not in log.read_text(errors="replace"):
                if proc.poll() is not None:
                    print(log.read_text(), file=sys.stderr)
                    return 2
                time.sleep(0.5)
            first_cycle = time.time() - started
            published: dict[str, float] = {}
            for n in range(args.releases):
                name = f"benchpkg{(n * 7919) % args.deps:05d}"
                index.publish(name, "1.1")
                published[f"{name}==1.1"] = time.time()
                print(f"published {name} 1.1", flush=True)
                deadline = time.time() + 60
                while time.time() < deadline and f"{name}==1.1" not in arrivals:
                    time.sleep(0.2)
                time.sleep(max(0.0, deadline - time.time()))
            wait_end = time.time() + args.interval + 30
            while time.time() < wait_end and len(arrivals) < len(published):
                time.sleep(0.5)
            cpu, peak_kib = proc_stats(proc.pid)
            elapsed = time.time() - started
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        text = log.read_text(errors="replace")
    cycles = [
        (int(m.group(1)), int(m.group(2)), float(m.group(3)), int(m.group(4)))
        for m in re.finditer(r"cycle: polled (\d+) \((\d+) changed, ([\d.]+)s, (\d+) bytes\)", text)
    ]
    delays = {k: arrivals[k] - t for k, t in published.items() if k in arrivals}
    steady = cycles[1:] or cycles
    rows = [
        f"| watched dependencies | {args.deps} |",
        f"| poll interval | {args.interval:g} s |",
        f"| first cycle (records {args.deps} project pages) | {first_cycle:.1f} s wall, poll {cycles[0][2]:.1f} s, {cycles[0][3] / 1e6:.1f} MB |",
        f"| later polls (conditional GETs) | {len(steady)} cycles, mean {sum(c[2] for c in steady) / len(steady):.2f} s and {sum(c[3] for c in steady) / len(steady) / 1e3:.1f} kB per interval |",
        f"| index requests in total / answered 304 | {index.requests} / {index.not_modified} |",
        f"| new releases published / alerted | {len(published)} / {len(delays)} |",
        f"| time from release to alert at the webhook | {', '.join(f'{d:.1f} s' for d in delays.values()) or 'none'} |",
        f"| watcher CPU time over the run | {cpu:.1f} s in {elapsed:.0f} s wall ({100 * cpu / elapsed:.1f}% of one core) |",
        f"| watcher peak RSS | {peak_kib / 1024:.0f} MiB |",
    ]
    body = "\n".join(
        [
            "## Watch at scale",
            "",
            f"Command: `{command_line()}`  ",
            f"Date: {now()}  ",
            f"Machine: {machine()}",
            "",
            (
                f"{args.deps} dependencies on a loopback index (PEP 691 JSON with ETags); one new release with a "
                "litellm-shaped `.pth` published each minute; the watcher runs as a subprocess with `--jobs 1`."
            ),
            "",
            "| measure | value |",
            "|---|---|",
            *rows,
            "",
            "Time to alert is bounded by the poll interval plus the scan: a release published just after a",
            "poll waits for the next one.",
        ]
    )
    print(body)
    if args.write_docs:
        write_section("watch", body)
    return 0 if len(delays) == len(published) else 1


if __name__ == "__main__":
    raise SystemExit(main())
