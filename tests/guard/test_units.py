"""Unit tests: pattern matching, command-line splitting, policy parsing and rendering, learning."""

from __future__ import annotations

import pytest

from chainwarden.guard.learn import learn_policy
from chainwarden.guard.policy import APP_DEFAULT, Capabilities, GuardPolicy, parse_policy, render_policy
from chainwarden.guard.runtime._cw_guard import split_command
from chainwarden.guard.runtime._cw_match import glob_match, host_match, normalize_name, plain_type_expression
from chainwarden.policy import ConfigError


@pytest.mark.parametrize(("pattern", "path", "expected"), [
    ("/home/u/.ssh/**", "/home/u/.ssh/id_rsa", True),
    ("/home/u/.ssh/**", "/home/u/.ssh", True),
    ("/home/u/.ssh/**", "/home/u/.sshx/id_rsa", False),
    ("**/.env", "/srv/app/.env", True),
    ("**/.env", "/srv/app/.envrc", False),
    ("**/.env.*", "/srv/app/.env.local", True),
    ("/tmp/*.txt", "/tmp/a.txt", True),
    ("/tmp/*.txt", "/tmp/d/a.txt", False),
    ("/tmp/?.txt", "/tmp/ab.txt", False),
    ("**", "/anything/at/all", True),
])
def test_glob_match(pattern: str, path: str, expected: bool) -> None:
    assert glob_match(pattern, path) is expected


@pytest.mark.parametrize(("pattern", "host", "port", "expected"), [
    ("*", "evil.example", 1, True),
    ("*.openai.com:443", "api.openai.com", 443, True),
    ("*.openai.com:443", "api.openai.com", 80, False),
    ("*.openai.com:443", "openai.com.evil.example", 443, False),
    ("127.0.0.1:*", "127.0.0.1", 8080, True),
    ("localhost:8000-8100", "localhost", 8050, True),
    ("localhost:8000-8100", "localhost", 9000, False),
    ("[::1]:80", "::1", 80, True),
    ("example.com", "example.com", 22, True),
    ("unix:/run/app.sock", "unix:/run/app.sock", 0, True),
])
def test_host_match(pattern: str, host: str, port: int, expected: bool) -> None:
    assert host_match(pattern, host, port) is expected


@pytest.mark.parametrize(("argv", "opts", "rest"), [
    (["app.py", "-x"], [], ["app.py", "-x"]),
    (["-u", "-W", "error", "-X", "dev", "app.py"], ["-u", "-W", "error", "-X", "dev"], ["app.py"]),
    (["-Bc", "print(1)", "a"], ["-B"], ["-c", "print(1)", "a"]),
    (["-cprint(1)"], [], ["-c", "print(1)"]),
    (["-m", "http.server", "8000"], [], ["-m", "http.server", "8000"]),
    (["-s", "-", "x"], ["-s"], ["-", "x"]),
    (["-Wignore", "--", "app.py"], ["-Wignore"], ["app.py"]),
])
def test_split_command(argv: list[str], opts: list[str], rest: list[str]) -> None:
    assert split_command(argv) == (opts, rest)


def test_normalize_name() -> None:
    assert normalize_name("Codegen_Pkg.Extra") == "codegen-pkg-extra"


def test_policy_round_trip_and_defaults() -> None:
    text = """
    version = 1
    [guard]
    protect = ["~/Documents/**"]
    [defaults]
    fs.write = ["$TMP/**"]
    [packages.Lite_LLM]
    net = ["api.openai.com:443", "*.anthropic.com:443"]
    fs.read = ["~/.config/litellm/**"]
    exec = ["git"]
    dynamic_code = true
    [packages."unowned:odd"]
    native = true
    """
    policy = parse_policy(text.replace("\n    ", "\n"))
    assert policy.app == APP_DEFAULT  # no [app] table: the application's own code may do everything
    assert policy.defaults.write == ("$TMP/**",)
    lite = policy.packages["lite-llm"]
    assert lite.exec == ("git",)
    assert lite.dynamic_code
    assert policy.packages["unowned:odd"].native is True
    reparsed = parse_policy(render_policy(policy))
    assert (reparsed.app, reparsed.defaults, reparsed.packages, reparsed.protect) == (
        policy.app, policy.defaults, policy.packages, policy.protect)


def test_policy_errors_are_all_reported() -> None:
    with pytest.raises(ConfigError) as err:
        parse_policy('bogus = 1\n[packages.a]\nnet = "x"\nexec = 3\n[packages.b]\nfs = 1\n[app]\ndynamic_code = "yes"\n')
    message = str(err.value)
    for fragment in ("unknown top-level key 'bogus'", "[packages.a].net", "[packages.a].exec",
                     "[packages.b].fs", "[app].dynamic_code", "will not start"):
        assert fragment in message


def test_policy_rejects_bad_toml() -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_policy("[packages\n")


def test_learn_collapses_tmp_writes_and_names_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", "/tmp")
    logged: list[dict[str, object]] = [
        {"decision": "would-deny", "capability": "net", "chain": ["urllib3", "requests", "app"],
         "target": "127.0.0.1:443", "via": ["api.example.com"]},
        {"decision": "would-deny", "capability": "write", "chain": ["cachelib"], "target": "/tmp/tmpab12/x"},
        {"decision": "would-deny", "capability": "exec", "chain": ["gitlib"], "target": "/usr/bin/git"},
        {"decision": "allowed", "capability": "read", "chain": ["app"], "target": "/home/u/.ssh/id_rsa"},
        {"decision": "detected", "capability": "tamper", "chain": ["evil"], "target": "x"},
        {"decision": "allowed", "capability": "pth", "chain": ["setuptools"], "target": "/x/distutils-precedence.pth"},
    ]
    learned = learn_policy(logged, GuardPolicy())
    assert learned.packages["urllib3"].net == ("api.example.com:443",)
    assert learned.packages["requests"].net == ("api.example.com:443",)
    assert learned.packages["cachelib"].write == ("$TMP/**",)
    assert learned.packages["gitlib"].exec == ("git",)
    assert set(learned.packages) == {"urllib3", "requests", "cachelib", "gitlib"}
    assert Capabilities() == learned.defaults


@pytest.mark.parametrize(("source", "plain"), [
    ("Optional[int]", True),
    ("Literal['gpt-image-1', \"a b\"]", True),
    ("dict[str, list[int]] | None", True),
    ("Callable[..., Any]", True),
    ("import os", False),
    ("not x", False),
    ("__import__('os').system('id')", False),
    ("Annotated[str, Field(gt=0)]", False),
    ("'a\\'b'", False),
    ("x if y else z", False),
])
def test_annotation_strings_that_cannot_call_code(source: str, plain: bool) -> None:
    """typing/inspect/typing_extensions may compile plain type expressions without `dynamic_code`."""
    assert plain_type_expression(source) is plain
