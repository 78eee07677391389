"""requirements files and pyproject.toml: every construct pip and the PEPs allow, and bad lines."""

from __future__ import annotations

from chainwarden.inventory.discover import discover
from chainwarden.inventory.pyproject import PyprojectParser
from chainwarden.inventory.requirements import RequirementsParser

SHA_A = "a" * 64
SHA_B = "b" * 64


def parse_reqs(tmp_path, text, name="requirements.txt"):
    path = tmp_path / name
    path.write_text(text)
    return RequirementsParser().parse(path)


def test_requirement_line_forms(tmp_path):
    (inv,) = parse_reqs(
        tmp_path,
        "# comment\n"
        "Requests[socks,security] == 2.19.0 ; python_version >= '3.8'  # trailing comment\n"
        f"urllib3==1.26.4 \\\n    --hash=sha256:{SHA_A} \\\n    --hash sha256:{SHA_B}\n"
        "flask>=2\n"
        "-e git+https://example.invalid/repo.git#egg=mylib\n"
        "-e ./local/pkg\n"
        "https://example.invalid/files/demo_pkg-1.0-py3-none-any.whl\n"
        "pip @ https://example.invalid/pip.tar.gz\n"
        "--index-url https://example.invalid/simple\n"
        "--pre\n",
    )
    reqs = {r.key: r for r in inv.requirements}
    assert set(reqs) == {"requests", "urllib3", "flask", "mylib", "pkg", "demo-pkg", "pip"}
    assert reqs["requests"].extras == ("security", "socks")
    assert reqs["requests"].marker == 'python_version >= "3.8"'
    assert reqs["requests"].pinned_version == "2.19.0"
    assert reqs["requests"].line == 2
    assert reqs["urllib3"].hashes == (f"sha256:{SHA_A}", f"sha256:{SHA_B}")
    assert reqs["urllib3"].line == 3
    assert reqs["flask"].pinned_version is None
    assert reqs["mylib"].editable
    assert reqs["demo-pkg"].url.endswith(".whl")
    assert reqs["pip"].url == "https://example.invalid/pip.tar.gz"
    assert {p.key: p.version for p in inv.packages} == {"requests": "2.19.0", "urllib3": "1.26.4"}
    assert inv.problems == ()


def test_includes_and_constraints(tmp_path):
    (tmp_path / "base.txt").write_text("six==1.16.0\n-r requirements.txt\n")  # a cycle back
    (tmp_path / "constraints.txt").write_text("flask==3.0.0\n")
    files = parse_reqs(tmp_path, "-r base.txt\n--constraint constraints.txt\nflask\n")
    assert [f.file.rsplit("/", 1)[-1] for f in files] == ["requirements.txt", "base.txt", "constraints.txt"]
    constraint = files[2].requirements[0]
    assert constraint.group == "constraint"
    assert files[2].packages == ()  # a constraint alone installs nothing


def test_missing_include_is_a_problem_not_a_crash(tmp_path):
    files = parse_reqs(tmp_path, "-r nowhere.txt\n-r\n-r https://example.invalid/r.txt\n")
    messages = [p.message for f in files for p in f.problems]
    assert any("No such file" in m or "no such" in m.lower() for m in messages)
    assert any("without a file name" in m for m in messages)
    assert any("remote include" in m for m in messages)


def test_bad_lines_are_problems_with_line_numbers(tmp_path):
    (inv,) = parse_reqs(tmp_path, "good==1\nthis is not a requirement\n--frobnicate\nhttps://example.invalid/x\n")
    assert [p.line for p in inv.problems] == [2, 3, 4]
    assert [r.key for r in inv.requirements] == ["good"]


def test_pip_compile_annotations_give_edges_and_directness(tmp_path):
    (inv,) = parse_reqs(
        tmp_path,
        "certifi==2024.1.1\n    # via\n    #   httpx\n    #   requests\n"
        "httpx==0.27.0\n    # via -r requirements.in\n"
        "requests==2.32.0\n    # via -r requirements.in\n"
        "# The following packages are considered to be unsafe in a requirements file:\n"
        "#   pip\n",
    )
    pkgs = {p.key: p for p in inv.packages}
    assert pkgs["certifi"].direct is False
    assert pkgs["httpx"].direct is True
    assert pkgs["httpx"].dependencies == ("certifi",)
    assert pkgs["requests"].dependencies == ("certifi",)
    assert all(p.key != "the" for p in inv.packages)


def test_undecodable_requirements_file(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"six==1\n\xff\xfe\x00bad")
    (inv,) = RequirementsParser().parse(path)
    assert "not UTF-8" in inv.problems[0].message


def test_pyproject_pep621_pep735_and_poetry(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[project]\nname = "x"\ndependencies = ["litellm==1.82.8", "httpx>=0.27"]\n'
        '[project.optional-dependencies]\nproxy = ["uvicorn[standard]==0.30.0"]\n'
        '[dependency-groups]\ntest = ["pytest>=8", {include-group = "lint"}]\nlint = ["ruff==0.5.0"]\n'
        'broken = [{include-group = "missing"}]\n'
        '[tool.poetry.dependencies]\npython = "^3.11"\nrequests = "2.25.0"\nrich = "^13"\n'
        'mylib = {git = "https://example.invalid/mylib.git"}\n'
        '[tool.poetry.group.dev.dependencies]\nblack = {version = "==24.1.0", extras = ["d"]}\n'
    )
    (inv,) = PyprojectParser().parse(path)
    by_key = {r.key: r for r in inv.requirements}
    assert by_key["litellm"].pinned_version == "1.82.8"
    assert by_key["litellm"].line == 3
    assert by_key["httpx"].pinned_version is None
    assert by_key["uvicorn"].group == "optional:proxy"
    assert by_key["pytest"].group == "group:test"
    assert by_key["ruff"].group == "group:lint"
    assert by_key["requests"].pinned_version == "2.25.0"  # a bare Poetry version is exact
    assert by_key["rich"].pinned_version is None
    assert by_key["mylib"].url.startswith("https://")
    assert by_key["black"].group == "poetry:dev"
    assert by_key["black"].pinned_version == "24.1.0"
    assert "python" not in by_key
    assert [p.message for p in inv.problems] == ["dependency group 'broken' includes unknown group 'missing'"]


def test_pyproject_pin_without_lock_is_still_a_package_to_audit(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["litellm==1.82.8"]\n')
    inv = discover(tmp_path)
    assert inv.packages == ()  # no lock: only a declaration, which the audit queries as pinned
    assert inv.requirements[0].pinned_version == "1.82.8"


def test_pyproject_bad_requirement_and_bad_toml(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\ndependencies = ["not a req!!", 7]\n')
    (inv,) = PyprojectParser().parse(path)
    assert len(inv.problems) == 2
    path.write_text("[project\n")
    (inv,) = PyprojectParser().parse(path)
    assert "invalid TOML" in inv.problems[0].message


def test_include_chains_are_bounded(tmp_path):
    for n in range(30):
        (tmp_path / f"r{n}.txt").write_text(f"-r r{n + 1}.txt\npkg{n}==1.0\n")
    files = parse_reqs(tmp_path, "-r r0.txt\n")
    assert len(files) <= 18
    assert any("deeper than" in p.message for f in files for p in f.problems)


def test_continuation_at_end_of_file_and_crlf(tmp_path):
    (inv,) = parse_reqs(tmp_path, "six==1.16.0 \\\r\n    --hash=sha256:" + "a" * 64 + " \\")
    assert inv.packages[0].hashes == ("sha256:" + "a" * 64,)


def test_constraint_annotations_do_not_make_a_pin_direct(tmp_path):
    (inv,) = parse_reqs(
        tmp_path,
        "idna==3.7\n    # via\n    #   -c constraints.txt\n    #   pkg.invalid\n"
        "pkg-invalid==1.0\n    # via -r requirements.in\n"
        "app==1.0\n    # via myproject (setup.cfg)\n",
    )
    pkgs = {p.key: p.direct for p in inv.packages}
    assert pkgs == {"idna": False, "pkg-invalid": True, "app": True}
