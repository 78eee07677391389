"""The environment source on venvs and site-packages directories laid out in code."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from chainwarden.artifact import ArtifactError
from chainwarden.models import ArtifactKind, MemberKind, Severity
from chainwarden.sources import reopen, source_for
from chainwarden.sources.base import SourceOptions
from chainwarden.sources.directory import DirectorySource
from chainwarden.sources.environment import EnvironmentSource
from support import fake_install, make_venv

if TYPE_CHECKING:
    from pathlib import Path

    from chainwarden.artifact import Artifact

LITELLM_PTH = "import os, subprocess, sys; subprocess.Popen([sys.executable, '-c', 'pass'])\n"


def _options(tmp_path: Path) -> SourceOptions:
    return SourceOptions(cache_dir=tmp_path / "cache")


def _scan(target: Path, tmp_path: Path) -> dict[str, Artifact]:
    source = source_for(str(target))
    assert isinstance(source, EnvironmentSource)
    return {a.ref.label.split(" in ")[0]: a for a in source.open(str(target), _options(tmp_path))}


def _populate(site: Path) -> None:
    fake_install(
        site,
        "good",
        "1.0",
        {"good/__init__.py": "x = 1\n", "good/util.py": "y = 2\n"},
        scripts={"good": "#!/usr/bin/python\n"},
        entry_points={"console_scripts": {"good": "good:main"}},
    )
    fake_install(site, "litellm", "1.82.8", {"litellm/__init__.py": "", "litellm_init.pth": LITELLM_PTH})
    (site / "persist.pth").write_text(LITELLM_PTH)
    (site / "sitecustomize.py").write_text("import os\n")
    (site / "usercustomize.py").write_text("import sys\n")
    (site / "hook.start").write_text("evil:run\n")
    (site / "orphan").mkdir()
    (site / "orphan" / "mod.py").write_text("z = 3\n")
    (site / "good" / "__pycache__").mkdir()
    (site / "good" / "__pycache__" / "util.cpython-311.pyc").write_bytes(b"\x00" * 16)
    (site / "stray.pyc").write_bytes(b"\x00" * 16)


def test_venv_yields_installed_and_unowned_artifacts(tmp_path: Path) -> None:
    root, site = make_venv(tmp_path)
    _populate(site)
    artifacts = _scan(root, tmp_path)
    assert set(artifacts) == {"good-1.0.dist-info", "litellm-1.82.8.dist-info", "unowned files"}

    good = artifacts["good-1.0.dist-info"]
    assert good.ref.kind is ArtifactKind.INSTALLED
    assert good.ref.location == str(site.resolve())
    assert good.metadata is not None
    assert (good.metadata.name, good.metadata.version) == ("good", "1.0")
    assert [e.name for e in good.metadata.entry_points] == ["good"]
    paths = [m.path for m in good.members()]
    assert "good/__init__.py" in paths
    assert "good/util.py" in paths
    assert "good-1.0.dist-info/METADATA" in paths
    assert not any(p.startswith("..") for p in paths)  # bin/ scripts are outside site-packages
    assert all(m.install_path == m.path for m in good.members())
    assert good.read("good/util.py") == b"y = 2\n"
    assert good.problems == ()

    unowned = artifacts["unowned files"]
    assert unowned.ref.kind is ArtifactKind.UNOWNED
    assert unowned.metadata is None
    assert {m.path for m in unowned.members()} == {
        "persist.pth",
        "sitecustomize.py",
        "usercustomize.py",
        "hook.start",
        "orphan/mod.py",
        "stray.pyc",
    }
    assert unowned.read("persist.pth") == LITELLM_PTH.encode()


def test_record_owned_pth_is_a_member_of_its_distribution(tmp_path: Path) -> None:
    """litellm 1.82.8 listed its .pth in RECORD: it is scanned, in the litellm artifact, with
    the same install path an orphan gets (ownership never hides a file)."""
    root, site = make_venv(tmp_path)
    _populate(site)
    artifacts = _scan(root, tmp_path)
    litellm = artifacts["litellm-1.82.8.dist-info"]
    (pth,) = [m for m in litellm.members() if m.path.endswith(".pth")]
    assert pth.install_path == "litellm_init.pth"
    assert litellm.read(pth.path) == LITELLM_PTH.encode()
    (orphan,) = [m for m in artifacts["unowned files"].members() if m.path == "persist.pth"]
    assert orphan.install_path == "persist.pth"


def test_bare_site_packages_directory(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    site.mkdir()
    _populate(site)
    assert isinstance(source_for(str(site)), EnvironmentSource)
    assert not DirectorySource().claims(str(site))
    artifacts = _scan(site, tmp_path)
    assert "litellm-1.82.8.dist-info" in artifacts
    assert "persist.pth" in {m.path for m in artifacts["unowned files"].members()}


def test_directory_with_dist_info_is_an_environment(tmp_path: Path) -> None:
    target = tmp_path / "target"  # pip install --target
    target.mkdir()
    fake_install(target, "good", "1.0", {"good/__init__.py": ""})
    assert isinstance(source_for(str(target)), EnvironmentSource)


def test_file_modified_after_install_is_a_record_mismatch(tmp_path: Path) -> None:
    _, site = make_venv(tmp_path)
    fake_install(
        site, "mrmustard", "0.7.4", {"mrmustard/__init__.py": "x = 1\n"}, tamper={"mrmustard/__init__.py": "evil()\n"}
    )
    (artifact,) = EnvironmentSource().open(str(site.parents[2]), _options(tmp_path))
    (finding,) = artifact.problems
    assert finding.rule_id == "CW025"
    assert finding.severity is Severity.HIGH
    assert "after install" in finding.message


def test_broken_dist_info_is_a_finding_and_its_files_stay_scanned(tmp_path: Path) -> None:
    _, site = make_venv(tmp_path)
    (site / "broken-1.0.dist-info").mkdir()
    (site / "broken").mkdir()
    (site / "broken" / "__init__.py").write_text("payload()\n")
    artifacts = {a.ref.label.split(" in ")[0]: a for a in EnvironmentSource().open(str(site), _options(tmp_path))}
    broken = artifacts["broken-1.0.dist-info"]
    assert broken.metadata is None
    assert {f.rule_id for f in broken.problems} == {"CW030"}
    assert "broken/__init__.py" in {m.path for m in artifacts["unowned files"].members()}


def test_egg_info_directory_and_file(tmp_path: Path) -> None:
    _, site = make_venv(tmp_path)
    egg = site / "legacy-0.1-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: legacy\nVersion: 0.1\n")
    (egg / "installed-files.txt").write_text("../legacy/__init__.py\nPKG-INFO\n")
    (site / "legacy").mkdir()
    (site / "legacy" / "__init__.py").write_text("")
    (site / "distutils_pkg-2.0-py3.11.egg-info").write_text(
        "Metadata-Version: 1.0\nName: distutils-pkg\nVersion: 2.0\n"
    )
    artifacts = {a.ref.label.split(" in ")[0]: a for a in EnvironmentSource().open(str(site), _options(tmp_path))}
    legacy = artifacts["legacy-0.1-py3.11.egg-info"]
    assert legacy.metadata is not None
    assert legacy.metadata.name == "legacy"
    assert {m.path for m in legacy.members()} == {
        "legacy/__init__.py",
        "legacy-0.1-py3.11.egg-info/PKG-INFO",
        "legacy-0.1-py3.11.egg-info/installed-files.txt",
    }
    single = artifacts["distutils_pkg-2.0-py3.11.egg-info"]
    assert single.metadata is not None
    assert single.metadata.version == "2.0"
    assert "unowned files" not in artifacts


def test_symlink_in_site_packages_is_listed_not_followed(tmp_path: Path) -> None:
    _, site = make_venv(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("token")
    (site / "link.pth").symlink_to(secret)
    (unowned,) = EnvironmentSource().open(str(site), _options(tmp_path))
    (member,) = unowned.members()
    assert member.kind is MemberKind.SYMLINK
    assert member.link_target == str(secret)
    with pytest.raises(ArtifactError):
        unowned.read("link.pth")


def test_reads_are_limited_to_members(tmp_path: Path) -> None:
    _, site = make_venv(tmp_path)
    fake_install(site, "good", "1.0", {"good/__init__.py": ""})
    (site / "other.py").write_text("")
    (good, _) = EnvironmentSource().open(str(site), _options(tmp_path))
    with pytest.raises(ArtifactError):
        good.read("other.py")
    with pytest.raises(ArtifactError):
        good.read("../../../../etc/passwd")


def test_artifacts_reopen_identically(tmp_path: Path) -> None:
    root, site = make_venv(tmp_path)
    _populate(site)
    for artifact in EnvironmentSource().open(str(root), _options(tmp_path)):
        again = reopen(artifact.ref, _options(tmp_path))
        assert again.ref == artifact.ref
        assert list(again.members()) == list(artifact.members())
        assert again.metadata == artifact.metadata


def test_path_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "site-packages"
    bogus.write_text("not a directory")
    with pytest.raises(ArtifactError, match="not a directory"):
        list(EnvironmentSource().open(str(bogus), _options(tmp_path)))


def test_venv_without_site_packages_is_a_clear_error(tmp_path: Path) -> None:
    root, site = make_venv(tmp_path)
    site.rmdir()
    site.write_text("a file where site-packages should be")
    with pytest.raises(ArtifactError, match="without a lib/python"):
        list(EnvironmentSource().open(str(root), _options(tmp_path)))


def test_unreadable_site_packages_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """We run as root, so chmod 000 would not stop us; simulate the PermissionError instead."""
    _, site = make_venv(tmp_path)
    real_scandir = os.scandir

    def deny(path: object) -> object:
        if str(path) == str(site.resolve()):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr("chainwarden.sources.environment.os.scandir", deny)
    with pytest.raises(ArtifactError, match="site-packages is not readable: Permission denied"):
        list(EnvironmentSource().open(str(site), _options(tmp_path)))


def test_plain_directory_is_not_an_environment(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "pkg").mkdir(parents=True)
    (project / "pkg" / "__init__.py").write_text("")
    assert not EnvironmentSource().claims(str(project))
    assert isinstance(source_for(str(project)), DirectorySource)


def test_symlinked_dist_info_is_not_followed(tmp_path: Path) -> None:
    _, site = make_venv(tmp_path)
    elsewhere = tmp_path / "elsewhere.dist-info"
    elsewhere.mkdir()
    (elsewhere / "METADATA").write_text("Name: elsewhere\nVersion: 1\n")
    (elsewhere / "RECORD").write_text("../../secret,,\n")
    (site / "elsewhere-1.dist-info").symlink_to(elsewhere)
    (unowned,) = EnvironmentSource().open(str(site), _options(tmp_path))
    assert unowned.ref.kind is ArtifactKind.UNOWNED
    assert [(m.path, m.kind) for m in unowned.members()] == [("elsewhere-1.dist-info", MemberKind.SYMLINK)]


def test_changed_data_or_binary_after_install_is_medium(tmp_path: Path) -> None:
    """Debian strips native binaries after install; admins append CAs to cacert.pem."""
    _, site = make_venv(tmp_path)
    fake_install(
        site,
        "certifi",
        "2026.1.1",
        {"certifi/__init__.py": "", "certifi/cacert.pem": "CA\n", "certifi/_x.so": b"\x7fELF..."},
        tamper={"certifi/cacert.pem": "CA\nEXTRA CA\n", "certifi/_x.so": b"\x7fELF stripped"},
    )
    (artifact,) = EnvironmentSource().open(str(site), _options(tmp_path))
    assert sorted((f.location.path, f.severity) for f in artifact.problems) == [
        ("certifi/_x.so", Severity.MEDIUM),
        ("certifi/cacert.pem", Severity.MEDIUM),
    ]


def test_oversized_installed_file_is_unscanned_up_front(tmp_path: Path) -> None:
    _, site = make_venv(tmp_path)
    fake_install(site, "big", "1.0", {"big/__init__.py": ""})
    with (site / "big" / "weights.bin").open("wb") as fh:
        fh.truncate(65 * 1024 * 1024)  # sparse: no 65 MiB written
    (_, unowned) = EnvironmentSource().open(str(site), _options(tmp_path))
    assert [u.path for u in unowned.unscanned] == ["big/weights.bin"]
    with pytest.raises(ArtifactError):
        unowned.read("big/weights.bin")


def test_file_vanishing_before_the_record_check_is_a_finding(tmp_path: Path) -> None:
    _, site = make_venv(tmp_path)
    fake_install(site, "gone", "1.0", {"gone/__init__.py": "x = 1\n"})
    (artifact,) = EnvironmentSource().open(str(site), _options(tmp_path))
    (site / "gone" / "__init__.py").unlink()
    assert [(f.rule_id, f.location.path) for f in artifact.problems] == [("CW023", "gone/__init__.py")]


def test_python_prefix_and_stdlib_sitecustomize(tmp_path: Path) -> None:
    """A prefix without pyvenv.cfg (pyenv version, conda env, /usr/local) is an environment, and
    a sitecustomize.py beside the stdlib runs at every start like one in site-packages."""
    prefix = tmp_path / "prefix"
    site = prefix / "lib" / "python3.12" / "site-packages"
    site.mkdir(parents=True)
    fake_install(site, "good", "1.0", {"good/__init__.py": ""})
    (site.parent / "sitecustomize.py").write_text("import os\n")
    (site.parent / "os.py").write_text("# stdlib, not ours\n")
    assert isinstance(source_for(str(prefix)), EnvironmentSource)
    artifacts = _scan(prefix, tmp_path)
    unowned = artifacts["unowned files"]
    assert [(m.path, m.install_path) for m in unowned.members()] == [("../sitecustomize.py", "sitecustomize.py")]
    assert unowned.read("../sitecustomize.py") == b"import os\n"
    again = reopen(unowned.ref, _options(tmp_path))
    assert list(again.members()) == list(unowned.members())
