"""What a compromised user could read: the secret stores stealers go for."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

#: (path relative to HOME, what it is). Globs allowed.
SECRET_STORES = (
    (".ssh/id_*", "SSH private key"),
    (".aws/credentials", "AWS credentials"),
    (".config/gcloud/application_default_credentials.json", "Google Cloud credentials"),
    (".config/gcloud/credentials.db", "Google Cloud credentials"),
    (".azure/accessTokens.json", "Azure tokens"),
    (".azure/msal_token_cache.json", "Azure tokens"),
    (".kube/config", "Kubernetes config"),
    (".docker/config.json", "Docker registry credentials"),
    (".git-credentials", "Git credentials"),
    (".npmrc", "npm token"),
    (".pypirc", "PyPI token"),
    (".netrc", "netrc credentials"),
    (".vault-token", "Vault token"),
    (".pgpass", "PostgreSQL passwords"),
    (".my.cnf", "MySQL credentials"),
    (".terraformrc", "Terraform token"),
)
SYSTEM_SECRETS = (
    ("var/run/secrets/kubernetes.io/serviceaccount/token", "Kubernetes service-account token"),
    ("etc/kubernetes/admin.conf", "Kubernetes admin config"),
)
_HISTORY = (".bash_history", ".zsh_history", ".python_history", ".psql_history", ".mysql_history", ".redis_history")
_TOKEN = re.compile(
    r"(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|pypi-AgE[A-Za-z0-9_-]{20,}|xox[abpr]-[A-Za-z0-9-]{10,}|"
    r"(?:TOKEN|SECRET|PASSWORD|API_KEY)[A-Z_]*=\S+)"
)
_ENV_DEPTH = 4
_SKIP_DIRS = frozenset({"node_modules", ".git", "site-packages", ".cache", ".venv", "venv", "__pycache__"})
_MAX_HISTORY = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SecretStore:
    path: Path
    kind: str


def _readable(path: Path) -> bool:
    return path.is_file() and not path.is_symlink() and os.access(path, os.R_OK)


def _env_files(home: Path) -> list[Path]:
    out: list[Path] = []
    base_depth = len(home.parts)
    for dirpath, dirnames, filenames in os.walk(home, followlinks=False):
        depth = len(Path(dirpath).parts) - base_depth
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS] if depth < _ENV_DEPTH else []
        out.extend(
            Path(dirpath) / n
            for n in filenames
            if (n == ".env" or n.startswith(".env.")) and not n.endswith(".example")
        )
    return out


def _history_with_tokens(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            text = fh.read(_MAX_HISTORY).decode("utf-8", "replace")
    except OSError:
        return False
    return bool(_TOKEN.search(text))


def secret_stores(home: Path, *, system_root: Path | None = None) -> list[SecretStore]:
    """Every readable secret store of the user whose home is `home` (and of the system root)."""
    found: list[SecretStore] = []
    for pattern, kind in SECRET_STORES:
        for path in sorted(home.glob(pattern)):
            if _readable(path) and not path.name.endswith(".pub"):
                found.append(SecretStore(path, kind))
    found.extend(SecretStore(p, "environment file (.env)") for p in _env_files(home) if _readable(p))
    for name in _HISTORY:
        path = home / name
        if _readable(path) and _history_with_tokens(path):
            found.append(SecretStore(path, "shell history containing tokens"))
    if system_root is not None:
        for rel, kind in SYSTEM_SECRETS:
            path = system_root / rel
            if _readable(path):
                found.append(SecretStore(path, kind))
    return found
