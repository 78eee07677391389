"""Pattern matching shared by the guard runtime and the policy compiler (standard library only).

Kept free of `re` and `fnmatch` on purpose: importing `re` costs ~6 ms at interpreter start, and a
matcher whose helpers live in another module's globals could be swapped out by code in the guarded
program. Both functions here only use their arguments and built-in string methods.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def glob_match(pattern: str, text: str) -> bool:
    """Match `text` against a path glob: `**` spans directories, `*` and `?` stay inside one.

    A pattern ending in `/**` also matches the directory itself.
    """
    if pattern.endswith("/**") and text == pattern[:-3]:
        return True
    stack = [(0, 0)]
    seen: set[tuple[int, int]] = set()
    plen = len(pattern)
    tlen = len(text)
    while stack:
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        while i < plen:
            c = pattern[i]
            if c == "*":
                double = pattern.startswith("**", i)
                nxt = i + (2 if double else 1)
                k = j
                while k <= tlen:
                    stack.append((nxt, k))
                    if k < tlen and not double and text[k] == "/":
                        break
                    k += 1
                break
            if j >= tlen or (c == "?" and text[j] == "/") or (c != "?" and c != text[j]):
                break
            i += 1
            j += 1
        else:
            if j == tlen:
                return True
    return False


def host_match(pattern: str, host: str, port: int, _glob: Callable[[str, str], bool] = glob_match) -> bool:
    """Match `host:port` against a pattern such as `*.openai.com:443`, `127.0.0.1:*` or `*`."""
    if pattern == "*":
        return True
    if pattern.startswith("unix:"):
        return _glob(pattern, host)
    hpat, sep, ppat = pattern.rpartition(":")
    if not sep or hpat.endswith(":"):  # no port given, or a bare IPv6 address
        hpat, ppat = pattern, "*"
    if hpat.startswith("[") and hpat.endswith("]"):
        hpat = hpat[1:-1]
    if ppat != "*":
        low, dash, high = ppat.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            return False
        if not int(low) <= port <= int(high if dash else low):
            return False
    return bool(_glob(hpat.lower().replace("/", ""), host.lower().replace("/", "")))


def normalize_name(name: str) -> str:
    """PEP 503 normalisation of a distribution name."""
    out = name.lower().replace("_", "-").replace(".", "-")
    while "--" in out:
        out = out.replace("--", "-")
    return out


_TYPE_EXPR = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.[], |")
_DROP_TYPE_EXPR = str.maketrans("", "", "".join(_TYPE_EXPR))


def _no_adjacent_words(text: str) -> bool:
    """False when two words stand side by side: a statement (`import os`) or an operator word (`not x`).

    `text` holds only the characters of `_TYPE_EXPR`, so once runs of spaces are collapsed and the
    spaces beside punctuation dropped, any space left stands between two words. All at C speed.
    """
    text = " ".join(text.split())
    for mark in ".[],|":
        if mark in text:
            text = text.replace(mark + " ", mark).replace(" " + mark, mark)
    return " " not in text


def plain_type_expression(src: str, _drop: dict[int, int | None] = _DROP_TYPE_EXPR,
                          _adjacent: Callable[[str], bool] = _no_adjacent_words) -> bool:
    """Whether `src` holds only names, dots, subscripts, commas, `|` and string literals.

    Such an expression cannot call anything, so compiling it (as `typing` does for string
    annotations) is not running new code.
    """
    if "'" not in src and '"' not in src:  # the common case, checked at C speed
        text = src.strip()
        if not text or text.translate(_drop):
            return False
        return " " not in text or _adjacent(text)
    # String literals stand in as one token each (`0`); a backslash inside one, or a literal left
    # open, makes the text not plain. Found with `str.find`, so long `Literal[...]` lists stay cheap.
    out: list[str] = []
    i = 0
    while True:
        single = src.find("'", i)
        double = src.find('"', i)
        if single < 0 and double < 0:
            out.append(src[i:])
            break
        start = single if double < 0 or 0 <= single < double else double
        end = src.find(src[start], start + 1)
        if end < 0 or "\\" in src[start + 1 : end]:
            return False
        out.append(src[i:start])
        out.append("0")
        i = end + 1
    text = "".join(out).strip()
    if not text or text.translate(_drop):
        return False
    return _adjacent(text)
