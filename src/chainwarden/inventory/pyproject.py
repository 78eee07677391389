"""`pyproject.toml`: PEP 621 `dependencies` and `optional-dependencies`, PEP 735
`[dependency-groups]` (with `include-group`), and Poetry's `[tool.poetry.*dependencies]`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as Pep508

from chainwarden.inventory.base import Parser, UnreadableError, array, failed, read_text, table, text
from chainwarden.inventory.model import FileInventory, Problem, Requirement

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = "pyproject.toml"
_MAX_GROUP_DEPTH = 32


def _line_of(content: str, needle: str) -> int | None:
    for number, line in enumerate(content.splitlines(), start=1):
        if needle in line:
            return number
    return None


def _poetry_spec(value: object) -> tuple[str, str, tuple[str, ...], str]:
    """(PEP 440 specifier, url, extras, marker) of one Poetry dependency value."""
    if isinstance(value, str):
        return _poetry_constraint(value), "", (), ""
    if isinstance(value, list):  # multiple constraints: take the first; all are reported together
        return _poetry_spec(value[0]) if value else ("", "", (), "")
    spec = table(value)
    url = text(spec.get("git")) or text(spec.get("url")) or text(spec.get("path"))
    extras = tuple(e for e in array(spec.get("extras")) if isinstance(e, str))
    return _poetry_constraint(text(spec.get("version"))), url, extras, text(spec.get("markers"))


def _poetry_constraint(value: str) -> str:
    """Poetry's `^1.2`/`~1.2`/`1.2.*`/bare `1.2` as a PEP 440 specifier (only exactness matters here)."""
    value = value.strip()
    if not value or value == "*":
        return ""
    if value[0].isdigit() and "*" not in value and "," not in value and " " not in value:
        return f"=={value}"
    if value.startswith("="):
        return value if value.startswith("==") else f"={value}"
    return value


class PyprojectParser(Parser):
    name: ClassVar[str] = FORMAT

    def claims(self, path: Path) -> bool:
        return path.name == "pyproject.toml"

    def parse(self, path: Path) -> tuple[FileInventory, ...]:
        import tomllib  # noqa: PLC0415 - only here, for its error type

        try:
            content = read_text(path)
            doc = tomllib.loads(content)
        except UnreadableError as exc:
            return failed(path, FORMAT, str(exc))
        except tomllib.TOMLDecodeError as exc:
            return failed(path, FORMAT, f"invalid TOML ({exc})")
        where = str(path)
        reqs: list[Requirement] = []
        problems: list[Problem] = []

        def add(raw: object, group: str) -> None:
            if not isinstance(raw, str):
                problems.append(Problem(where, f"{group}: {raw!r} is not a requirement string"))
                return
            try:
                parsed = Pep508(raw)
            except InvalidRequirement as exc:
                problems.append(Problem(where, f"{group}: invalid requirement {raw!r}: {exc}", _line_of(content, raw)))
                return
            reqs.append(
                Requirement(
                    name=parsed.name,
                    specifier=str(parsed.specifier),
                    extras=tuple(sorted(parsed.extras)),
                    marker=str(parsed.marker) if parsed.marker else "",
                    url=parsed.url or "",
                    file=where,
                    line=_line_of(content, raw),
                    group=group,
                    text=raw,
                )
            )

        project = table(doc.get("project"))
        for raw in array(project.get("dependencies")):
            add(raw, "dependencies")
        for extra, items in table(project.get("optional-dependencies")).items():
            for raw in array(items):
                add(raw, f"optional:{extra}")
        self._groups(table(doc.get("dependency-groups")), add, problems, where)
        self._poetry(table(table(doc.get("tool")).get("poetry")), content, reqs, where)
        return (FileInventory(where, FORMAT, requirements=tuple(reqs), problems=tuple(problems)),)

    @staticmethod
    def _groups(groups: dict[str, Any], add: Any, problems: list[Problem], where: str) -> None:  # noqa: ANN401
        """PEP 735: each group lists strings and `{include-group = "..."}` tables."""
        for group, items in groups.items():
            for raw in array(items):
                if isinstance(raw, dict):
                    included = raw.get("include-group")
                    if not isinstance(included, str) or included not in groups:
                        problems.append(
                            Problem(where, f"dependency group {group!r} includes unknown group {included!r}")
                        )
                    continue  # the included group's own entries are listed under its own name
                add(raw, f"group:{group}")

    @staticmethod
    def _poetry(poetry: dict[str, Any], content: str, reqs: list[Requirement], where: str) -> None:
        sections: list[tuple[str, dict[str, Any]]] = [
            ("poetry:main", table(poetry.get("dependencies"))),
            ("poetry:dev", table(poetry.get("dev-dependencies"))),
        ]
        for group, body in table(poetry.get("group")).items():
            sections.append((f"poetry:{group}", table(table(body).get("dependencies"))))
        for group, deps in sections:
            for name, value in deps.items():
                if name.lower() == "python":
                    continue
                specifier, url, extras, marker = _poetry_spec(value)
                reqs.append(
                    Requirement(
                        name=name,
                        specifier=specifier,
                        extras=extras,
                        marker=marker,
                        url=url,
                        file=where,
                        line=_line_of(content, f"{name} ="),
                        group=group,
                        text=f"{name} = {value!r}",
                    )
                )
