"""`learn` on a small real app (an HTTP client library calling a loopback server), then `enforce`."""

from __future__ import annotations

import http.server
import threading
from typing import TYPE_CHECKING

import pytest
from guardkit import Env, reports, write

from chainwarden.guard.policy import load_policy_file

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello from loopback"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[int]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


APP = """
import json, sys, minihttp
print("CWREPORT http " + json.dumps({"body": minihttp.get(sys.argv[1])}), flush=True)
"""


def test_learned_policy_passes_in_enforce_and_blocks_a_new_host(target_env: Env, http_server: int, tmp_path: Path,
                                                                capfd: pytest.CaptureFixture[str]) -> None:
    app = write(tmp_path / "client.py", APP)
    policy = tmp_path / "policy.toml"
    url = f"http://localhost:{http_server}/"
    code, out, _err = target_env.run(capfd, "--mode", "learn", "--policy", str(policy), "--baseline",
                                     str(target_env.baseline), program=[str(app), url])
    assert code == 0
    assert reports(out)["http"] == {"body": "hello from loopback"}
    learned = load_policy_file(policy)
    assert learned.packages["minihttp"].net == (f"localhost:{http_server}",)
    assert learned.packages["minihttp"].read == ()
    assert not learned.packages["minihttp"].dynamic_code

    code, out, _err = target_env.run(capfd, "--policy", str(policy), "--baseline", str(target_env.baseline),
                                     program=[str(app), url])
    assert code == 0
    assert reports(out)["http"] == {"body": "hello from loopback"}

    code, out, err = target_env.run(capfd, "--policy", str(policy), "--baseline", str(target_env.baseline),
                                    program=[str(app), f"http://127.0.0.3:{http_server}/"])
    assert code == 1
    assert "http" not in reports(out)
    assert "package 'minihttp' may not connect to 127.0.0.3" in err
    assert f'[packages.minihttp] net = ["127.0.0.3:{http_server}"]' in err
