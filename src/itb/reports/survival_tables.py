"""The report's time-to-event tables: survival, number at risk, competing risk, incidence,
devices and the literature panel (display form, as ``tables.DisplayTable``)."""

from __future__ import annotations

from itb.analysis.study import StudyResult
from itb.analysis.survival import (
    EARLY_DAYS,
    MIN_EVENTS,
    MIN_GROUP_PATIENTS,
    LogRank,
    Rate,
    SurvivalEstimate,
)
from itb.domain import codes
from itb.reports import literature
from itb.reports.i18n import number, text
from itb.reports.tables import DisplayTable, Row


def survival_tables(result: StudyResult, lang: str) -> list[DisplayTable]:
    return [
        survival_table(result, lang),
        at_risk_table(result, lang),
        competing_risk_table(result, lang),
        incidence_table(result, lang),
        pump_ends_table(result, lang),
        device_survival_table(result, lang),
        literature_table(result, lang),
    ]


def _pct(value: float | None, lang: str) -> str:
    return "–" if value is None else f"{number(100 * value, 0, lang)}%"


def estimate_cell(value: float | None, ci: list[float | None], lang: str) -> str:
    """``84% (68–93%)``; the interval left out where it is undefined (S = 1)."""
    if value is None:
        return "–"
    low, high = ci
    if low is None or high is None:
        return _pct(value, lang)
    return f"{_pct(value, lang)} ({number(100 * low, 0, lang)}–{_pct(high, lang)})"


def _groups(result: StudyResult, lang: str) -> list[tuple[str | None, str, SurvivalEstimate]]:
    """(section heading or None, row label, estimate) for every survival row."""
    survival = result.survival
    rows: list[tuple[str | None, str, SurvivalEstimate]] = [
        (None, text("km_overall_label", lang), survival.overall)]
    rows += [(text("km_by_level", lang), text(f"group_{g}", lang), e)
             for g, e in survival.by_functional_level.items()]
    rows += [(text("km_by_catheter", lang), _code_label(codes.CATHETER_TYPE, k, lang), e)
             for k, e in survival.by_catheter_type.items()]
    rows += [(text("km_by_site", lang), result.site_names.get(k, k), e)
             for k, e in survival.by_site.items()]
    return rows


def _code_label(code_list: codes.CodeList, code: str, lang: str) -> str:
    return text("unknown", lang) if code not in code_list.codes else code_list.label(code, lang)


def _with_sections(groups: list[tuple[str | None, str, SurvivalEstimate]],
                   cells: list[list[str]]) -> list[Row]:
    rows: list[Row] = []
    current: str | None = None
    for (section, label, _), values in zip(groups, cells, strict=True):
        if section is not None and section != current:
            rows.append(Row([section], section=True))
            current = section
        rows.append(Row([label, *values]))
    return rows


def survival_table(result: StudyResult, lang: str) -> DisplayTable:
    years = result.survival.overall.years
    header = [text("km_group", lang), text("patients_n", lang), text("km_events", lang),
              *[text("km_at_year", lang, years=y) for y in years]]
    groups = _groups(result, lang)
    cells = [[str(e.n), str(e.events),
              *[estimate_cell(v, ci, lang) for v, ci in zip(e.estimate, e.ci95, strict=True)]]
             for _, _, e in groups]
    notes = [text("survival_text", lang), text("survival_method", lang)]
    comparisons = result.survival.comparisons
    for key in ("functional_level", "catheter_type", "site"):
        notes.append(logrank_note(comparisons[key], text(f"what_{key}", lang), lang))
    if any(c.too_small for c in comparisons.values() if c.p_value is not None):
        notes.append(text("logrank_small", lang, patients=MIN_GROUP_PATIENTS,
                          events=MIN_EVENTS))
    return DisplayTable("survival", text("survival_title", lang), header,
                        _with_sections(groups, cells), notes, figure="survival")


def logrank_note(test: LogRank, what: str, lang: str) -> str:
    if test.p_value is None or test.chi2 is None:
        return text("logrank_none", lang, what=what)
    p = "< 0,001" if test.p_value < 0.001 and lang == "et" else (
        "< 0.001" if test.p_value < 0.001 else number(test.p_value, 3, lang))
    note = text("logrank_result", lang, what=what, chi2=number(test.chi2, 2, lang),
                df=test.df, p=p)
    return note + (" ⚠" if test.too_small else "")


def at_risk_table(result: StudyResult, lang: str) -> DisplayTable:
    years = result.survival.overall.years
    header = [text("km_group", lang), text("at_risk_year", lang, years=0),
              *[text("at_risk_year", lang, years=y) for y in years]]
    groups = _groups(result, lang)
    cells = [[str(e.n), *[str(n) for n in e.at_risk]] for _, _, e in groups]
    return DisplayTable("survival_at_risk", text("at_risk_title", lang), header,
                        _with_sections(groups, cells), [text("at_risk_text", lang)])


def competing_risk_table(result: StudyResult, lang: str) -> DisplayTable:
    risk = result.survival.competing_risk
    header = [text("competing_years", lang), text("one_minus_km", lang),
              text("aalen_johansen", lang)]
    rows = [Row([text("at_risk_year", lang, years=y), _pct(km, lang), _pct(aj, lang)])
            for y, km, aj in zip(risk.years, risk.one_minus_km, risk.cumulative_incidence,
                                 strict=True)]
    notes = [text("competing_counts", lang, n=risk.n, complications=risk.complications,
                  deaths=risk.deaths), text("competing_text", lang)]
    return DisplayTable("competing_risk", text("competing_title", lang), header, rows, notes)


def _rate_cells(rate: Rate, lang: str) -> list[str]:
    ci = "–" if rate.ci95 is None else (
        f"{number(rate.ci95[0], 1, lang)}–{number(rate.ci95[1], 1, lang)}")
    return [str(rate.events), number(rate.pump_years, 1, lang),
            number(rate.per_100_pump_years, 1, lang), ci]


def incidence_table(result: StudyResult, lang: str) -> DisplayTable:
    incidence = result.incidence
    header = [text("incidence_what", lang), text("events_n", lang), text("pump_years", lang),
              text("per_100", lang), text("incidence_ci", lang)]
    rows = [Row([text("incidence_overall", lang), *_rate_cells(incidence.overall, lang)])]
    rows.append(Row([text("incidence_by_type", lang)], section=True))
    rows += [Row([codes.COMPLICATION_TYPE.label(k, lang), *_rate_cells(r, lang)])
             for k, r in incidence.by_type.items()]
    rows.append(Row([text("incidence_by_group", lang)], section=True))
    rows += [Row([codes.COMPLICATION_GROUP.label(k, lang), *_rate_cells(r, lang)])
             for k, r in incidence.by_group.items()]
    rows.append(Row([text("incidence_by_level", lang)], section=True))
    rows += [Row([text(f"group_{g}", lang), *_rate_cells(r, lang)])
             for g, r in incidence.by_functional_level.items()]
    rows.append(Row([text("incidence_timing", lang)], section=True))
    rows.append(Row([text("incidence_early", lang, days=EARLY_DAYS),
                     *_rate_cells(incidence.early, lang)]))
    rows.append(Row([text("incidence_late", lang), *_rate_cells(incidence.late, lang)]))
    return DisplayTable("incidence", text("incidence_title", lang), header, rows,
                        [text("incidence_text", lang, days=EARLY_DAYS)])


def pump_ends_table(result: StudyResult, lang: str) -> DisplayTable:
    header = [text("pump_end", lang), text("pumps_n", lang), text("median_years", lang),
              text("with_complication_n", lang)]
    rows = [Row([text(f"pump_end_{reason}", lang), str(end.pumps),
                 number(end.median_years, 1, lang), str(end.after_complication)])
            for reason, end in result.devices.end_reasons.items()]
    return DisplayTable("pump_ends", text("pump_ends_title", lang), header, rows,
                        [text("pump_ends_text", lang)])


def device_survival_table(result: StudyResult, lang: str) -> DisplayTable:
    pumps, catheter = result.devices.pumps, result.devices.catheter_revision_free
    header = [text("time_years", lang), text("pump_survival", lang),
              text("pumps_at_risk", lang), text("revision_free", lang),
              text("patients_at_risk", lang)]
    rows = []
    for index, years in enumerate(pumps.years):
        rows.append(Row([
            text("at_risk_year", lang, years=years),
            estimate_cell(pumps.estimate[index], pumps.ci95[index], lang),
            str(pumps.at_risk[index]),
            estimate_cell(catheter.estimate[index], catheter.ci95[index], lang),
            str(catheter.at_risk[index])]))
    return DisplayTable("device_survival", text("device_survival_title", lang), header, rows,
                        [text("device_survival_text", lang), text("km_ci_note", lang)])


def literature_table(result: StudyResult, lang: str) -> DisplayTable:
    summary, n = result.complications, result.n_patients
    wald = summary.ci95["wald"]
    patients, total = literature.STUDY_PROPORTION
    study_low, study_high = literature.STUDY_PROPORTION_CI
    mean, sd = literature.STUDY_MEAN_USAGE_YEARS
    usage = result.table1["overall"].usage_years
    low, high = literature.LITERATURE_RANGE
    quoted = f"{text('lit_as_quoted', lang)}: {literature.cite(literature.LITERATURE_RANGE_REFS)}"
    replaced = result.devices.end_reasons.get("replacement")
    km5 = result.survival.overall.estimate[result.survival.overall.years.index(5)]
    rows = [
        Row([text("lit_proportion", lang),
             text("lit_proportion_value", lang, percent=number(100 * summary.proportion, 0,
                                                                 lang),
                  patients=summary.patients, n=n, low=number(100 * wald.low, 0, lang),
                  high=number(100 * wald.high, 0, lang)),
             text("lit_proportion_value", lang, percent=round(100 * patients / total),
                  patients=patients, n=total, low=study_low, high=study_high),
             f"{text('lit_the_study', lang)}: {literature.STUDY}"]),
        Row([text("lit_range", lang), _pct(summary.proportion, lang), f"{low}–{high}%",
             quoted]),
        Row([text("lit_km5", lang), _pct(None if km5 is None else 1 - km5, lang),
             text("lit_not_reported", lang), "–"]),
        Row([text("lit_follow_up", lang),
             f"{number(usage.mean, 1, lang)} ({number(usage.sd, 1, lang)})",
             f"{mean} ({number(sd, 1, lang)})", f"{text('lit_the_study', lang)}: "
             f"{literature.STUDY}"]),
        Row([text("lit_pump_life", lang),
             "–" if replaced is None or replaced.median_years is None else
             text("lit_registry_pump_life", lang,
                  years=number(replaced.median_years, 1, lang)),
             text("lit_pump_life_value", lang),
             f"{text('lit_as_quoted', lang)}: {literature.cite(literature.PUMP_LIFE_REFS)}"]),
        Row([text("lit_rate", lang),
             number(result.incidence.overall.per_100_pump_years, 1, lang),
             text("lit_rate_none", lang), "–"]),
    ]
    header = [text("lit_figure", lang), text("lit_registry", lang), text("lit_published", lang),
              text("lit_source", lang)]
    return DisplayTable("literature", text("literature_title", lang), header, rows,
                        [text("literature_text", lang)])
