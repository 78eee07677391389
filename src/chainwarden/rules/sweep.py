"""Rules of the incident sweep: persistence, campaign indicators, secrets exposed to a hit."""

from __future__ import annotations

from chainwarden.models import Severity
from chainwarden.rules import Rule

CAMPAIGN_INDICATOR = Rule(
    id="CW900",
    title="File indicator of a known campaign",
    severity=Severity.CRITICAL,
    rationale=(
        "A file at a path a known supply-chain campaign leaves behind: the litellm/TeamPCP payload "
        "wrote `~/.config/sysmon/sysmon.py`, `/tmp/pglog`, `/tmp/.pg_state` and packed stolen data "
        "as `tpcp.tar.gz` with `payload.enc` and `session.key.enc`. Its presence means the payload "
        "ran on this machine, whatever is installed now."
    ),
    references=("https://github.com/BerriAI/litellm/issues/24518",),
    attack="T1005",
    category="sweep",
)

SUSPICIOUS_SERVICE = Rule(
    id="CW901",
    title="Suspicious persistent service",
    severity=Severity.HIGH,
    rationale=(
        "A systemd unit (user or system) runs a Python or shell payload from a hidden or user-writable "
        "place, or poses as telemetry. The litellm payload installed `~/.config/systemd/user/"
        'sysmon.service` ("System Telemetry Service") that polled for a second stage every ~50 '
        "minutes. Uninstalling the package does not remove it."
    ),
    references=("https://attack.mitre.org/techniques/T1543/002/",),
    attack="T1543.002",
    category="sweep",
)

SUSPICIOUS_SCHEDULE = Rule(
    id="CW902",
    title="Suspicious scheduled task or shell start-up line",
    severity=Severity.HIGH,
    rationale=(
        "A crontab entry, shell rc file or autostart entry runs a downloaded or decoded payload "
        "(`curl … | sh`, `python -c` with base64, a script in a hidden directory). MrMustard 0.7.4 "
        "persisted through cron and shell rc files; these survive uninstalling the package."
    ),
    references=("https://github.com/XanaduAI/MrMustard/issues/656",),
    attack="T1053.003",
    category="sweep",
)

SECRET_EXPOSED = Rule(
    id="CW903",
    title="Secret readable by a compromised user: rotate it",
    severity=Severity.HIGH,
    rationale=(
        "Malicious code ran (or could run) as this user, and this secret store was readable by that "
        "user. Stealers such as the litellm payload collect SSH keys, cloud and Kubernetes "
        "credentials, Docker and package-registry tokens, `.env` files and shell history. Treat the "
        "secret as stolen: rotate it, then remove the old one."
    ),
    attack="T1552.001",
    category="sweep",
)

RULES: tuple[Rule, ...] = (CAMPAIGN_INDICATOR, SUSPICIOUS_SERVICE, SUSPICIOUS_SCHEDULE, SECRET_EXPOSED)
