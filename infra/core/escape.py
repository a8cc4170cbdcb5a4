"""One escaping layer per sink: what text from outside the program may look like once printed.

Names, IDs, metadata keys, a manifest's purpose and a server's answer are written by
someone else. Printed raw they can move a terminal's cursor or retitle it (C0, C1),
reorder what a reviewer reads (bidi controls), start a line of their own (U+2028),
run as a GitHub Actions workflow command (a line starting `::`), or render in a
pull-request comment as an image, a link, HTML or an @mention. Each sink calls one
function here, on every line it prints (the program's own text holds none of these):

- `terminal`: a terminal, a CI log, stderr;
- `markdown_text`, `markdown_code`, `fenced`: the PR comment and the job summary.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_LINE_SEPARATORS = (0x2028, 0x2029)


def _escaped(code: int) -> str:
    if code < 0x20 or code == 0x7F:
        return repr(chr(code))[1:-1]  # \n, \t, \x1b: as Python would write them
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


_TERMINAL = {code: _escaped(code)
             for code in (*range(0x20), 0x7F, *range(0x80, 0xA0), *_BIDI, *_LINE_SEPARATORS)}
_SURROGATE = re.compile("[\ud800-\udfff]")
_WORKFLOW_COMMAND = re.compile(r"^(\s*):")


def terminal(text: str) -> str:
    """`text` as one line a terminal shows as written and a workflow log never runs.

    C0 and C1 controls, bidi controls and line separators are escaped (`\\x1b`, `\\x9b`,
    `\\u202e`), as is a lone surrogate (which no encoder would print); a line that would
    start with `::` (a GitHub Actions workflow command) starts with `\\x3a:` instead.
    """
    safe = _SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text.translate(_TERMINAL))
    return _WORKFLOW_COMMAND.sub(r"\1\\x3a", safe) if safe.lstrip().startswith("::") else safe


# Every ASCII character CommonMark or GitHub gives a meaning to (a colon only where it could open
# an :emoji: or a scheme's `://`); a backslash makes each literal.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&$^]|:(?=[\w+\-/]))")
_WORD_JOINER = "\u2060"  # invisible; breaks a pattern GitHub links after rendering
# A joiner after an escaped colon before any slash, not only `//`: no `:/` that could start a
# scheme's `://` reaches the page (the property test found ":/" left whole).
_LINKED = re.compile(r"(@|\\#|\\:(?=/)|(?i:www)(?=\\\.))")


def markdown_text(text: str) -> str:
    """`text` as one line of markdown that renders as written, nothing more: no emphasis, link,
    image, HTML, heading, table cell break, fence, @mention, #reference or autolink."""
    escaped = _MARKDOWN.sub(r"\\\1", terminal(text))
    return _LINKED.sub(lambda m: m.group(0) + _WORD_JOINER, escaped)


def markdown_code(text: str) -> str:
    """`text` as an inline code span for a table cell: nothing inside renders; `|` stays in the cell."""
    line = terminal(text).replace("|", "\\|")
    fence = "`" * (_longest_backtick_run(line) + 1)
    pad = " " if line.startswith("`") or line.endswith("`") or not line.strip(" ") else ""
    return f"{fence}{pad}{line}{pad}{fence}"


def fenced(lines: list[str], info: str = "") -> str:
    """A fenced code block of `lines` (each escaped for a terminal), its fence longer than any run
    of backticks inside, so no line can close it."""
    body = [terminal(line) for line in lines]
    fence = "`" * max(3, max((_longest_backtick_run(line) for line in body), default=0) + 1)
    return "\n".join([fence + info, *body, fence])


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall("`+", text)), default=0)


# ---------------------------------------------------------------- colour, added after escaping

_STYLES = {"create": "32", "update": "33", "replace": "35", "delete": "31", "error": "1;31", "warn": "33",
           "info": "36", "bold": "1", "dim": "2"}


def colour_wanted(out: object, environ: Mapping[str, str]) -> bool:
    """Colour only for a terminal: `out` is a tty, and neither NO_COLOR (https://no-color.org)
    nor CI (a CI log) is set. Markdown and JSON never ask."""
    isatty = getattr(out, "isatty", None)
    return bool(callable(isatty) and isatty()) and "NO_COLOR" not in environ and not environ.get("CI")


def paint(text: str, style: str, colour: bool) -> str:
    """`text` (already escaped: it holds no control character) in a style, or as it is."""
    return f"\x1b[{_STYLES[style]}m{text}\x1b[0m" if colour and text else text
