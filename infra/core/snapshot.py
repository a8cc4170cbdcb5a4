"""The project's files as one command sees them: each read once, then shared by every check.

A command makes one snapshot of its project and hands it down: the stack's
config, the loader, the stack-file checks, the hosts' checks and the
shared-slot check ask it for a file instead of reading one, so each file is
read once (through `sources`, bounded as ever) and every check works on the
same text. A document it hands out is shared: no caller changes it (a caller
that needs it otherwise makes a copy with `dataclasses.replace`). A file the
command writes is forgotten (`forget`), so a later look reads what was written.
"""

from __future__ import annotations

import os
from pathlib import Path

from infra.core import sources
from infra.core.document import Document
from infra.core.problems import Problem


class Snapshot:
    root: Path
    """The project's folder: names are relative to it (an absolute name stays as it is)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._documents: dict[str, Document] = {}
        self._texts: dict[str, tuple[str | None, tuple[Problem, ...]]] = {}

    def document(self, name: str | Path, display: str | None = None) -> Document:
        """The YAML file `name`, read and parsed on the first call; problems name it `display`
        (default: `name` as given)."""
        key = self._key(name)
        if key not in self._documents:
            self._documents[key] = sources.read(self.root / name, display or str(name))
        return self._documents[key]

    def text(self, name: str | Path, display: str | None = None) -> tuple[str | None, list[Problem]]:
        """The text of the file `name` (the adopt file is JSON), read on the first call."""
        key = self._key(name)
        if key not in self._texts:
            text, problems = sources.read_text(self.root / name, display or str(name))
            self._texts[key] = (text, tuple(problems))
        text, found = self._texts[key]
        return text, list(found)

    def forget(self, *paths: str | Path) -> None:
        """Files the command has written since: the next look reads them again."""
        for path in paths:
            key = self._key(path)
            self._documents.pop(key, None)
            self._texts.pop(key, None)

    def _key(self, name: str | Path) -> str:
        # One file, however it is named (`stacks/../stacks/catalog.yaml`), is read once.
        return os.path.abspath(self.root / name)
