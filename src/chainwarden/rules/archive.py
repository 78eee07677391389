"""Rules about artifacts as containers: archive structure, zip parser differentials, RECORD integrity.

These findings come from the sources while an artifact is opened (its `problems`), not from
analyzers. Installers and Python's `zipfile` can see different files in a crafted archive, so
anything that makes two readers disagree is blocked.
"""

from __future__ import annotations

from chainwarden.models import Severity
from chainwarden.rules import Rule

_ZIP_SPEC = "https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT"
_WHEEL_SPEC = "https://packaging.python.org/en/latest/specifications/binary-distribution-format/"
_RECORD_SPEC = "https://packaging.python.org/en/latest/specifications/recording-installed-packages/"

PATH_TRAVERSAL = Rule(
    id="CW010",
    title="Archive member path escapes the install directory",
    severity=Severity.CRITICAL,
    rationale=(
        "A member name with `..` segments, an absolute path, a drive letter or a UNC prefix is "
        "written outside the target directory by naive extractors (zip slip). No legitimate "
        "package needs one."
    ),
    references=("https://security.snyk.io/research/zip-slip-vulnerability",),
    attack="T1574",
    category="archive",
)

SUSPICIOUS_NAME = Rule(
    id="CW011",
    title="Archive member name is ambiguous",
    severity=Severity.HIGH,
    rationale=(
        "Backslashes, control characters or empty names are read differently by different "
        "tools and platforms (a backslash is a separator on Windows), so the file a scanner "
        "inspects may not be the file an installer writes."
    ),
    category="archive",
)

LINK_ESCAPE = Rule(
    id="CW012",
    title="Archive link points outside the archive",
    severity=Severity.CRITICAL,
    rationale=(
        "A symlink or hardlink whose target is absolute or climbs out of the archive lets an "
        "extractor overwrite or expose files elsewhere on the machine."
    ),
    category="archive",
)

LINK_MEMBER = Rule(
    id="CW013",
    title="Archive contains a link",
    severity=Severity.LOW,
    rationale=(
        "Links inside an archive are followed differently by different extractors; the content "
        "behind them is not scanned as a separate file."
    ),
    category="archive",
)

SPECIAL_FILE = Rule(
    id="CW014",
    title="Archive contains a device file or FIFO",
    severity=Severity.HIGH,
    rationale="No Python package needs a device node, FIFO or socket; extracting one as root creates it.",
    category="archive",
)

DUPLICATE_MEMBER = Rule(
    id="CW015",
    title="Archive holds two members with the same name",
    severity=Severity.CRITICAL,
    rationale=(
        "With duplicate names, one reader returns the first copy and another the last; an "
        "installer can write a file the scanner never looked at. A classic parser differential."
    ),
    references=(_ZIP_SPEC,),
    category="archive",
)

ZIP_HEADER_MISMATCH = Rule(
    id="CW016",
    title="Zip central directory and local headers disagree",
    severity=Severity.CRITICAL,
    rationale=(
        "Zip readers that walk local headers (streaming installers) and readers that trust the "
        "central directory (`zipfile`) see different names, sizes or contents when the two "
        "disagree. Legitimate build tools never produce this; it is how scanners are evaded."
    ),
    references=(_ZIP_SPEC, "https://www.bamsoftware.com/hacks/zipbomb/"),
    category="archive",
)

ZIP_HIDDEN_ENTRY = Rule(
    id="CW017",
    title="Zip entry present only in local headers",
    severity=Severity.CRITICAL,
    rationale=(
        "A local file header that no central-directory record points to is invisible to "
        "`zipfile` but found by streaming readers, so its content reaches disk unscanned."
    ),
    references=(_ZIP_SPEC,),
    category="archive",
)

ZIP_OVERLAP = Rule(
    id="CW018",
    title="Zip entries overlap",
    severity=Severity.CRITICAL,
    rationale=(
        "Entries whose data ranges overlap (or overlap the central directory) are the basis of "
        "non-recursive zip bombs and make readers disagree on content."
    ),
    references=("https://www.bamsoftware.com/hacks/zipbomb/",),
    category="archive",
)

EXTRA_DATA = Rule(
    id="CW019",
    title="Archive has data outside its entries",
    severity=Severity.HIGH,
    rationale=(
        "Bytes prepended before the first entry, appended after the end record, or hidden "
        "between entries are skipped by one reader and parsed by another (polyglot files)."
    ),
    references=(_ZIP_SPEC,),
    category="archive",
)

ZIP_MULTIPLE_END = Rule(
    id="CW020",
    title="Zip has more than one end-of-central-directory record",
    severity=Severity.CRITICAL,
    rationale=(
        "Readers that search for the end record from different directions pick different "
        "central directories, and so see different files."
    ),
    references=(_ZIP_SPEC,),
    category="archive",
)

ARCHIVE_BOMB = Rule(
    id="CW021",
    title="Archive expands beyond safe limits",
    severity=Severity.HIGH,
    rationale=(
        "A compression ratio or an uncompressed size far beyond what packages use exhausts "
        "disk and memory of whoever unpacks it (zip/tar bomb). The part beyond the limit is "
        "not scanned."
    ),
    references=("https://www.bamsoftware.com/hacks/zipbomb/",),
    category="archive",
)

TOO_MANY_MEMBERS = Rule(
    id="CW022",
    title="Archive has too many members",
    severity=Severity.HIGH,
    rationale="Members past the limit are not scanned; an attacker can hide a payload behind filler.",
    category="archive",
)

MEMBER_UNREADABLE = Rule(
    id="CW023",
    title="Archive member cannot be read",
    severity=Severity.MEDIUM,
    rationale=(
        "A member that is encrypted, uses an unsupported compression method, or whose data "
        "does not match its checksum could not be scanned."
    ),
    category="archive",
)

ARCHIVE_TRUNCATED = Rule(
    id="CW024",
    title="Archive is truncated or corrupt after some members",
    severity=Severity.HIGH,
    rationale=(
        "Part of the archive could not be parsed; what follows the damage was not scanned, "
        "and other tools may recover members this reader could not."
    ),
    category="archive",
)

RECORD_MISMATCH = Rule(
    id="CW025",
    title="File does not match its RECORD hash",
    severity=Severity.HIGH,
    rationale=(
        "RECORD lists every file of a wheel or installation with its sha256. A file whose "
        "bytes differ was changed after the build (or after install): tampering."
    ),
    references=(_RECORD_SPEC, _WHEEL_SPEC),
    category="record",
)

RECORD_UNLISTED = Rule(
    id="CW026",
    title="Wheel file missing from RECORD",
    severity=Severity.MEDIUM,
    rationale=(
        "Installers copy files that RECORD does not list, but uninstall does not remove them: "
        "a way to leave persistence behind, and a sign the wheel was edited after it was built."
    ),
    references=(_WHEEL_SPEC,),
    category="record",
)

WHEEL_METADATA_PROBLEM = Rule(
    id="CW027",
    title="Wheel metadata is missing or ambiguous",
    severity=Severity.MEDIUM,
    rationale=(
        "A wheel has exactly one `.dist-info` directory with METADATA, WHEEL and RECORD. "
        "Missing or multiple metadata directories make installers and scanners disagree about "
        "what the package is."
    ),
    references=(_WHEEL_SPEC,),
    category="record",
)

RECORD_STALE = Rule(
    id="CW028",
    title="RECORD lists a file that is not there",
    severity=Severity.LOW,
    rationale="RECORD and the files disagree; the artifact was edited or damaged after it was built.",
    references=(_RECORD_SPEC,),
    category="record",
)

INDEX_YANKED = Rule(
    id="CW029",
    title="File is yanked on the package index",
    severity=Severity.LOW,
    rationale=(
        "Maintainers yank releases that are broken or compromised; installers skip yanked "
        "files unless pinned exactly. The yank reason is shown."
    ),
    references=("https://peps.python.org/pep-0592/",),
    category="index",
)

INSTALLED_METADATA_BROKEN = Rule(
    id="CW030",
    title="Installed distribution has unreadable metadata",
    severity=Severity.LOW,
    rationale=(
        "A `.dist-info` or `.egg-info` without readable METADATA or RECORD: its files cannot be "
        "attributed and are scanned as files no RECORD owns."
    ),
    references=(_RECORD_SPEC,),
    category="record",
)

RULES: tuple[Rule, ...] = (
    PATH_TRAVERSAL,
    SUSPICIOUS_NAME,
    LINK_ESCAPE,
    LINK_MEMBER,
    SPECIAL_FILE,
    DUPLICATE_MEMBER,
    ZIP_HEADER_MISMATCH,
    ZIP_HIDDEN_ENTRY,
    ZIP_OVERLAP,
    EXTRA_DATA,
    ZIP_MULTIPLE_END,
    ARCHIVE_BOMB,
    TOO_MANY_MEMBERS,
    MEMBER_UNREADABLE,
    ARCHIVE_TRUNCATED,
    RECORD_MISMATCH,
    RECORD_UNLISTED,
    WHEEL_METADATA_PROBLEM,
    RECORD_STALE,
    INDEX_YANKED,
    INSTALLED_METADATA_BROKEN,
)
