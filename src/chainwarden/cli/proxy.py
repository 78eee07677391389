"""`chainwarden proxy`: a local filtering index that gates every installer (pip, uv, poetry, uvx, Docker)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.cli.common import IO, policy_from_args
from chainwarden.cli.exit_codes import ExitCode
from chainwarden.engine import ScanOptions
from chainwarden.gate.config import gate_policy
from chainwarden.gate.proxy import ProxyServer
from chainwarden.gate.service import build_gate_index

if TYPE_CHECKING:
    import argparse

NAME = "proxy"
HELP = "serve a local filtering package index in front of the real one"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index-url", "-i", default="https://pypi.org/simple/", help="the real index behind the proxy")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    parser.add_argument("--min-release-age", help="override the policy's minimum release age (e.g. 7d, 0 = off)")
    parser.add_argument("--no-scan", action="store_true", help="apply cooldown and lists only, do not scan files")
    parser.add_argument("--cache-dir", type=Path, help="cache directory")
    parser.add_argument("--config", type=Path, help="policy file")
    parser.add_argument("--fail-on", default=None, help="block files with findings at or above this severity")


def run(args: argparse.Namespace, io: IO) -> int:
    policy = policy_from_args(args)
    gate = gate_policy(policy, min_release_age=args.min_release_age)
    cache_dir = args.cache_dir or ScanOptions().resolved_cache_dir
    index = build_gate_index(
        index_url=args.index_url, policy=policy, gate=gate, cache_dir=cache_dir, scan=not args.no_scan
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=io.stderr)
    server = ProxyServer(index, host=args.host, port=args.port)
    io.stderr.write(
        f"chainwarden proxy on {server.url} (upstream {args.index_url}); "
        f"point installers at it, e.g. pip install --index-url {server.url} PKG\n"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
        index.close()
    return ExitCode.CLEAN
