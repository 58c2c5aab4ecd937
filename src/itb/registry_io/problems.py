"""A problem found in a registry directory, rendered as ``file:line: column: message``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from itb.domain.messages import message


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int | None
    column: str | None
    code: str
    params: dict[str, Any] = field(default_factory=dict, compare=False)

    def message(self, lang: str = "en") -> str:
        return message(self.code, lang, column=self.column, **self.params)

    def render(self, lang: str = "en") -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.column:
            where = f"{where}: {self.column}"
        return f"{where}: {self.message(lang)}"

    def sort_key(self) -> tuple[str, int, str]:
        return (self.file, self.line or 0, self.column or "")
