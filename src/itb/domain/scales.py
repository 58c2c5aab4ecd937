"""The value scale of each assessment instrument.

One definition serves the file validator (vectorised) and single-record checks (forms).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scale:
    """Either an ordinal scale (``levels``) or a numeric range (``minimum``..``maximum``)."""

    levels: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    unit: str = ""

    @property
    def is_ordinal(self) -> bool:
        return bool(self.levels)

    def describe(self) -> str:
        """The allowed values, in a form that reads the same in Estonian and English."""
        if self.is_ordinal:
            return ", ".join(self.levels)
        if self.integer:
            low = self.minimum or 0
            bounds = f"{_fmt(low)}, {_fmt(low + 1)}, …, {_fmt(self.maximum)}"
        else:
            bounds = f"{_fmt(self.minimum)}…{_fmt(self.maximum)}"
        return f"{bounds}{' ' + self.unit if self.unit else ''}"

    def accepts(self, value: str) -> bool:
        if self.is_ordinal:
            return value in self.levels
        try:
            number = float(value)
        except ValueError:
            return False
        if number != number:  # NaN
            return False
        if self.integer and not number.is_integer():
            return False
        assert self.minimum is not None and self.maximum is not None
        return self.minimum <= number <= self.maximum


def _fmt(number: float | None) -> str:
    return "" if number is None else f"{number:g}"


SCALES: dict[str, Scale] = {
    # Modified Ashworth Scale: 0, 1, 1+, 2, 3, 4.
    "mas": Scale(levels=("0", "1", "1+", "2", "3", "4")),
    # Tardieu Scale: quality of muscle reaction (X), graded 0–5.
    "tardieu": Scale(minimum=0, maximum=5, integer=True),
    # Goniometry: joint angle in degrees.
    "goniometry": Scale(minimum=-180, maximum=180, unit="°"),
    # Gross Motor Function Measure: total score in per cent.
    "gmfm": Scale(minimum=0, maximum=100, unit="%"),
    # Penn Spasm Frequency Scale: 0–4.
    "penn": Scale(minimum=0, maximum=4, integer=True),
    # Pain numeric rating scale: 0–10.
    "pain_nrs": Scale(minimum=0, maximum=10, integer=True),
    # Gross Motor Function Classification System: levels I–V.
    "gmfcs": Scale(levels=("I", "II", "III", "IV", "V")),
}
