"""Installed environments (dist-info on disk), conda environments and container image trees."""

from __future__ import annotations

import json
import sys
import sysconfig
from pathlib import Path

from chainwarden.inventory.discover import discover, find_targets
from chainwarden.inventory.model import Ecosystem


def dist_info(site: Path, name: str, version: str, requires=(), *, requested=False) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    if requested:
        (info / "REQUESTED").write_text("")


def conda_env(root: Path, records, history=None) -> None:
    meta = root / "conda-meta"
    meta.mkdir(parents=True)
    for doc in records:
        (meta / f"{doc['name']}-{doc['version']}-0.json").write_text(json.dumps(doc))
    if history is not None:
        (meta / "history").write_text(history)


def test_this_interpreters_real_site_packages():
    site = Path(sysconfig.get_paths()["purelib"])
    inv = discover(site)
    names = {p.key for p in inv.packages}
    assert {"packaging", "pytest"} <= names
    (pytest_pkg,) = inv.package("pytest")
    assert pytest_pkg.version == sys.modules["pytest"].__version__
    assert "pluggy" in pytest_pkg.dependencies


def test_installed_environment_edges_and_requested(tmp_path):
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    dist_info(site, "httpx", "0.27.0", ["httpcore==1.*", "brotli; extra == 'brotli'"], requested=True)
    dist_info(site, "httpcore", "1.0.5")
    (site / "broken-1.0.dist-info").mkdir()
    inv = discover(tmp_path)  # a virtualenv root
    pkgs = {p.key: p for p in inv.packages}
    assert pkgs["httpx"].dependencies == ("httpcore",)
    assert pkgs["httpx"].direct is True
    assert pkgs["httpcore"].direct is False
    assert len(inv.problems) == 1
    assert "METADATA" in inv.problems[0].file


def test_conda_environment(tmp_path):
    conda_env(
        tmp_path,
        [
            {
                "name": "numpy",
                "version": "1.26.4",
                "depends": ["python >=3.11", "libblas"],
                "sha256": "ab" * 32,
                "md5": "cd" * 16,
            },
            {"name": "python", "version": "3.11.9", "depends": []},
            {"name": "tzdata", "version": "2024a", "depends": []},
        ],
        history="==> 2024-01-01 <==\n# cmd: conda create -n x numpy\n# update specs: ['numpy', 'conda-forge::python=3.11']\n",
    )
    (tmp_path / "conda-meta" / "bad-1-0.json").write_text("{")
    inv = discover(tmp_path)
    pkgs = {p.key: p for p in inv.packages}
    assert pkgs["numpy"].ecosystem is Ecosystem.CONDA
    assert pkgs["numpy"].hashes == ("sha256:" + "ab" * 32, "md5:" + "cd" * 16)
    assert pkgs["numpy"].dependencies == ("libblas", "python")
    assert pkgs["numpy"].direct is True
    assert pkgs["python"].direct is True
    assert pkgs["tzdata"].direct is False
    assert "invalid JSON" in inv.problems[0].message


def test_unpacked_container_image(tmp_path):
    root = tmp_path / "rootfs"
    dist_info(root / "usr" / "lib" / "python3" / "dist-packages", "requests", "2.25.0")
    dist_info(root / "app" / ".venv" / "lib" / "python3.12" / "site-packages", "litellm", "1.82.8")
    conda_env(root / "opt" / "conda", [{"name": "openssl", "version": "3.0.0"}])
    (root / "proc").mkdir()
    dist_info(root / "proc" / "site-packages", "ghost", "1.0")  # never walked
    (root / "etc").mkdir()
    (root / "etc" / "hostname").write_text("x")
    targets = find_targets(root)
    assert all("proc" not in t.parts for t in targets)
    inv = discover(root)
    assert {p.key: p.version for p in inv.packages} == {"requests": "2.25.0", "litellm": "1.82.8", "openssl": "3.0.0"}


def test_symlink_loops_are_not_followed(tmp_path):
    root = tmp_path / "rootfs"
    dist_info(root / "usr" / "lib" / "site-packages", "six", "1.16.0")
    (root / "loop").symlink_to(root)
    inv = discover(root)
    assert [p.key for p in inv.packages] == ["six"]
