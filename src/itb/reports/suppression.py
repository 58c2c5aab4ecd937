"""Small-cell suppression of the report's tables (``itb report --suppress-below K``).

A count of 1…K−1 is shown as ``<K``. So that it cannot be worked out from a total, every row
and every column block (the rows under one heading, or the whole table without headings) that
has one masked cell gets a second one: the smallest other non-zero count there, shown as
``‡``. This is repeated until every such line holds none or at least two masked cells. Zeros
are kept (an empty cell reveals no one). A note under each table says what was done.

A count is a cell that is a whole number, optionally followed by a percentage in parentheses
(``12``, ``7 (16)``); in a table with headings only the rows under a heading are counts (the
rows above them are summaries such as medians). The complication proportion's note gets its
small counts masked too (and then its intervals withheld), and the list of free-text "other"
diagnoses is left out.
"""

from __future__ import annotations

import re
from dataclasses import replace

from itb.reports.i18n import text
from itb.reports.tables import DisplayTable, Row

_COUNT = re.compile(r"^(\d+)(?: \(\d+(?:[.,]\d+)?%?\))?$")
COMPLEMENT = "‡"
NOTES = {
    "et": ("Väikeste arvude kaitse: arvud 1…{last} on näidatud kujul <{k}; ‡ tähistab "
           "lahtrit, mis on peidetud, et peidetud arvu ei saaks kokkuvõttest välja arvutada."),
    "en": ("Small-cell suppression: counts of 1–{last} are shown as <{k}; ‡ marks a cell "
           "withheld so that a masked count cannot be worked out from the totals."),
}
DROPPED = {
    "et": "Väikeste arvude kaitse tõttu on joonis ja report.json välja jäetud.",
    "en": "With small-cell suppression the figure and report.json are left out.",
}


def _count(cell: str) -> int | None:
    match = _COUNT.match(cell.strip())
    return int(match.group(1)) if match else None


def suppress_table(table: DisplayTable, k: int, lang: str) -> DisplayTable:
    """The table with counts 1…k−1 masked and their complements withheld."""
    has_sections = any(row.section for row in table.rows)
    cells = [list(row.cells) for row in table.rows]
    counts: dict[tuple[int, int], int] = {}
    block_of: dict[int, int] = {}
    block = 0
    in_section = not has_sections
    for r, row in enumerate(table.rows):
        if row.section:
            block += 1
            in_section = True
            continue
        block_of[r] = block
        if not in_section:
            continue
        for c, content in enumerate(row.cells[1:], start=1):
            value = _count(content)
            if value is not None:
                counts[(r, c)] = value
    masked = {cell for cell, value in counts.items() if 0 < value < k}
    complements: set[tuple[int, int]] = set()
    lines: list[list[tuple[int, int]]] = []
    for r in {r for r, _ in counts}:
        lines.append([cell for cell in counts if cell[0] == r])
    for b, c in {(block_of[r], c) for r, c in counts}:
        lines.append([cell for cell in counts if cell[1] == c and block_of[cell[0]] == b])
    changed = bool(masked)
    while changed:
        changed = False
        for line in lines:
            hidden = [cell for cell in line if cell in masked or cell in complements]
            if len(hidden) != 1:
                continue
            candidates = sorted((counts[cell], cell) for cell in line
                                if cell not in hidden and counts[cell] > 0)
            if candidates:
                complements.add(candidates[0][1])
                changed = True
    for r, c in masked:
        cells[r][c] = f"<{k}"
    for r, c in complements:
        cells[r][c] = COMPLEMENT
    notes = [note for note in table.notes if not note.startswith(_details_note(lang))]
    if table.key == "complication_proportion":
        notes, hidden = _mask_note_counts(notes, k)
        if hidden:  # an interval around a masked proportion would give the count back
            cells = [[row[0], *[COMPLEMENT] * (len(row) - 1)] for row in cells]
    rows = [Row(cells[r], row.section) for r, row in enumerate(table.rows)]
    notes = [*notes, NOTES[lang].format(k=k, last=k - 1)] if k > 1 else notes
    if table.key == "figure2":
        notes = [*notes, DROPPED[lang]]
    return replace(table, rows=rows, notes=notes)


def _details_note(lang: str) -> str:
    """The start of the note listing the free-text 'other' diagnoses: each may be one
    patient's rare disease, so it is not published with suppression."""
    return text("other_diagnoses_note", lang, details="\x00").split("\x00")[0]


_INTEGER = re.compile(r"(?<![\d.,])\d+(?![\d.,%])")
_PERCENT = re.compile(r"\d+(?:[.,]\d+)?\s?%")


def _mask_note_counts(notes: list[str], k: int) -> tuple[list[str], bool]:
    """Counts 1…k−1 in the text of the notes masked (e.g. "3 of 43 patients")."""
    hidden = False

    def mask(match: re.Match[str]) -> str:
        nonlocal hidden
        if 0 < int(match.group()) < k:
            hidden = True
            return f"<{k}"
        return match.group()

    masked = [_INTEGER.sub(mask, note) for note in notes]
    if hidden:  # a percentage of a known total gives the count back
        masked = [_PERCENT.sub(COMPLEMENT, note) for note in masked]
    return masked, hidden


def suppress_tables(tables: list[DisplayTable], k: int, lang: str) -> list[DisplayTable]:
    return [suppress_table(table, k, lang) for table in tables]
