"""Pump models and the pump-replacement arithmetic.

The defaults come from the manufacturers' labelling (Medtronic SynchroMed II/III, Flowonix
Prometra II); the study article notes that pumps are replaced every 6–7 years on average
because the battery runs out. A site with other devices or settings overrides or extends the
catalogue (``DEFAULT_CATALOGUE.replace(...)``, ``.with_model(...)``), it never edits it.
"""

from __future__ import annotations

import calendar
import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from itb.domain.codes import PUMP_KINDS

DEFAULT_ALARM_VOLUME_ML = 2.0
REPLACEMENT_WINDOW_MONTHS = 6

# Replacement status of a pump on a given date.
NOT_DUE = "not_due"
IN_REPLACEMENT_WINDOW = "replacement_window"
PAST_SERVICE_LIFE = "past_service_life"


@dataclass(frozen=True, slots=True)
class PumpModel:
    """One pump model's refill and battery figures.

    ``alarm_volume_ml`` is the reservoir volume at which the next refill is due (the
    low-reservoir alarm, or the manufacturer's refill volume). ``service_life_years`` None
    means no battery, or unknown: no replacement is ever due by age.
    """

    code: str
    name: str
    reservoir_volumes_ml: tuple[float, ...] = ()
    alarm_volume_ml: float = DEFAULT_ALARM_VOLUME_ML
    service_life_years: int | None = None
    # Days the pump keeps infusing after its elective replacement indicator (ERI) alarm.
    stops_after_eri_days: int | None = None

    def __post_init__(self) -> None:
        if self.alarm_volume_ml < 0:
            raise ValueError(f"{self.code}: the alarm volume cannot be negative")
        if any(volume <= 0 for volume in self.reservoir_volumes_ml):
            raise ValueError(f"{self.code}: reservoir volumes must be positive")
        if self.service_life_years is not None and self.service_life_years <= 0:
            raise ValueError(f"{self.code}: the service life must be positive (or None)")


@dataclass(frozen=True)
class PumpCatalogue:
    """The pump models a site knows, by code; changed only by building a new catalogue."""

    models: tuple[PumpModel, ...]

    def __post_init__(self) -> None:
        codes = [model.code for model in self.models]
        if len(set(codes)) != len(codes):
            raise ValueError("pump model codes must be unique")

    def __contains__(self, code: object) -> bool:
        return any(model.code == code for model in self.models)

    def __iter__(self) -> Iterator[PumpModel]:
        return iter(self.models)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(model.code for model in self.models)

    def get(self, code: str) -> PumpModel:
        for model in self.models:
            if model.code == code:
                return model
        raise KeyError(code)

    def model_for(self, code: str | None) -> PumpModel:
        """The model of an implantation row; an empty or unknown code gets the ``other`` model.

        ``pump_model`` is optional in the data, and the safe assumption for an unknown pump is
        the generic one (2 mL alarm, no predicted battery end).
        """
        return self.get(code) if code is not None and code in self else self.get("other")

    def with_model(self, model: PumpModel) -> PumpCatalogue:
        """A catalogue with ``model`` added, or replacing the model of the same code."""
        if model.code in self:
            return PumpCatalogue(tuple(model if m.code == model.code else m for m in self.models))
        return PumpCatalogue((*self.models, model))

    def replace(self, code: str, **changes: Any) -> PumpCatalogue:
        """A catalogue where one model's fields are changed (e.g. a site's alarm setting)."""
        return self.with_model(dataclasses.replace(self.get(code), **changes))


# Medtronic SynchroMed II labelling: 20 or 40 mL reservoir; low-reservoir alarm at 2 mL;
# battery longevity up to 7 years (shorter at high flow); the pump stops 90 days after its
# elective replacement indicator (ERI).
_SYNCHROMED_II = PumpModel("synchromed_ii", "Medtronic SynchroMed II", (20.0, 40.0), 2.0, 7, 90)

DEFAULT_CATALOGUE = PumpCatalogue((
    _SYNCHROMED_II,
    # SynchroMed III: the SynchroMed II figures until the labelling is confirmed.
    dataclasses.replace(_SYNCHROMED_II, code="synchromed_iii", name="Medtronic SynchroMed III"),
    # Flowonix Prometra II labelling: 20 or 40 mL; battery about 10 years; refill when the
    # reservoir reaches 3.0 mL.
    PumpModel("prometra_ii", "Flowonix Prometra II", (20.0, 40.0), 3.0, 10),
    # A gas-driven constant-flow pump has no battery, so no service life; its reservoir size
    # depends on the make (record reservoir_ml).
    PumpModel("constant_flow", "Constant-flow (gas-driven) pump"),
    # Unknown pump: the generic 2 mL alarm volume and no predicted battery end.
    PumpModel("other", "Other pump"),
))


@dataclass(frozen=True, slots=True)
class Implantation:
    """The part of an implantations row the follow-up arithmetic needs."""

    implant_date: date
    kind: str
    pump_model: str | None = None


def current_pump(implantations: Iterable[Implantation], on: date) -> Implantation | None:
    """The latest implantation that placed a pump (initial or replacement) on or before ``on``.

    A revision places no pump, so it does not restart the battery clock.
    """
    pumps = [i for i in implantations if i.kind in PUMP_KINDS and i.implant_date <= on]
    return max(pumps, key=lambda i: i.implant_date, default=None)


def add_years(start: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February becomes 28 February in other years."""
    year = start.year + years
    day = min(start.day, calendar.monthrange(year, start.month)[1])
    return start.replace(year=year, day=day)


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clamped to the end of a shorter month."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


@dataclass(frozen=True, slots=True)
class ReplacementSchedule:
    """When a pump reaches its service life, and when its replacement window opens."""

    implant_date: date
    window_opens: date
    due_date: date

    def status(self, on: date) -> str:
        """``not_due`` / ``replacement_window`` / ``past_service_life`` (from the due date on)."""
        if on >= self.due_date:
            return PAST_SERVICE_LIFE
        if on >= self.window_opens:
            return IN_REPLACEMENT_WINDOW
        return NOT_DUE


def replacement_schedule(implant_date: date, model: PumpModel,
                         window_months: int = REPLACEMENT_WINDOW_MONTHS
                         ) -> ReplacementSchedule | None:
    """Implant date + service life in calendar years; None when the model has no service life."""
    if model.service_life_years is None:
        return None
    due = add_years(implant_date, model.service_life_years)
    return ReplacementSchedule(implant_date, add_months(due, -window_months), due)


def pump_replacement(implantations: Iterable[Implantation], on: date,
                     catalogue: PumpCatalogue = DEFAULT_CATALOGUE,
                     window_months: int = REPLACEMENT_WINDOW_MONTHS
                     ) -> ReplacementSchedule | None:
    """The replacement schedule of the pump in place on ``on`` (None: no pump, or no battery)."""
    pump = current_pump(implantations, on)
    if pump is None:
        return None
    return replacement_schedule(pump.implant_date, catalogue.model_for(pump.pump_model),
                                window_months)


def replacement_status(schedule: ReplacementSchedule | None, on: date) -> str:
    """The status on ``on``; a pump without a service life is never due by age."""
    return NOT_DUE if schedule is None else schedule.status(on)


def end_of_service(model: PumpModel, eri_date: date) -> date | None:
    """The day the pump stops after its elective replacement alarm (None: not known)."""
    if model.stops_after_eri_days is None:
        return None
    return eri_date + timedelta(days=model.stops_after_eri_days)
