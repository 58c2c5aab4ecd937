"""The report's tables in display form: one builder, rendered as HTML, Markdown and CSV."""

from __future__ import annotations

from dataclasses import dataclass, field

from itb.analysis.study import GROUPS, UNKNOWN, GroupSummary, StudyResult
from itb.domain import codes
from itb.domain.codes import CodeList
from itb.reports.i18n import number, percent, text


@dataclass(frozen=True)
class Row:
    cells: list[str]
    section: bool = False  # a heading row spanning the table (e.g. "Sex, n (%)")


@dataclass(frozen=True)
class DisplayTable:
    key: str  # file stem of its CSV
    title: str
    header: list[str]
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    figure: str | None = None  # file stem of the figure shown with the table


def build_tables(result: StudyResult, lang: str) -> list[DisplayTable]:
    from itb.reports.followup_tables import follow_up_tables  # it builds on this module
    from itb.reports.survival_tables import survival_tables  # it builds on this module

    return [
        flow_table(result, lang),
        table1(result, lang),
        per_year_table(result, lang),
        table2(result, lang),
        proportion_table(result, lang),
        complications_per_patient_table(result, lang),
        *survival_tables(result, lang),
        assessment_table(result, lang),
        *follow_up_tables(result, lang),
    ]


def flow_table(result: StudyResult, lang: str) -> DisplayTable:
    n = result.n_patients
    rows = [Row([text("flow_implanted", lang), str(result.flow["implanted"])]),
            Row([text("flow_on_therapy", lang),
                 _n_pct(result.flow["on_therapy"], n)])]
    for reason, count in result.flow["ended"].items():
        if count:
            label = codes.THERAPY_END_REASON.label(reason, lang)
            rows.append(Row([text("flow_ended", lang, reason=label), _n_pct(count, n)]))
    return DisplayTable("flow", text("flow_title", lang),
                        [text("characteristic", lang), text("patients_n", lang)], rows)


def _n_pct(count: int, whole: int) -> str:
    return f"{count} ({percent(count, whole)})"


def table1(result: StudyResult, lang: str) -> DisplayTable:
    groups = [result.table1[g] for g in GROUPS]
    header = [text("characteristic", lang)] + [
        text("group_header", lang, label=text(f"group_{g}", lang), n=result.table1[g].n)
        for g in GROUPS]
    rows: list[Row] = []

    def line(label: str, values: list[str]) -> None:
        rows.append(Row([label, *values]))

    def section(key: str) -> None:
        rows.append(Row([text(key, lang)], section=True))

    def counts(key: str, attribute: str, code_list: CodeList | None = None,
               label_of: dict[str, str] | None = None, skip_zero: bool = False) -> None:
        section(key)
        keys: list[str] = []
        for group in groups:
            keys += [k for k in getattr(group, attribute) if k not in keys]
        for k in keys:
            values = [getattr(g, attribute).get(k, 0) for g in groups]
            if skip_zero and not any(values):
                continue
            if k == UNKNOWN:
                label = text("unknown", lang)
            elif label_of is not None:
                label = label_of[k]
            else:
                assert code_list is not None
                label = code_list.label(k, lang)
                if code_list is codes.DIAGNOSIS and k == "other" and result.other_diagnoses:
                    label += "*"
            line(label, [_n_pct(v, g.n) for v, g in zip(values, groups, strict=True)])

    line(text("age_median_iqr", lang), [_median_iqr(g, lang) for g in groups])
    line(text("age_quartiles", lang), [
        f"{number(g.age.q1, 1, lang)}–{number(g.age.q3, 1, lang)}" for g in groups])
    line(text("age_range", lang), [f"{g.age.min}–{g.age.max}" for g in groups])
    line(text("usage_mean_sd", lang), [
        f"{number(g.usage_years.mean, 1, lang)} ({number(g.usage_years.sd, 1, lang)})"
        for g in groups])
    bands = {band: text("age_band", lang, band=band.replace("-", "–"))
             for g in groups for band in g.age_bands}
    counts("age_bands", "age_bands", label_of=bands)
    counts("sex", "sex", codes.SEX)
    counts("syndrome", "syndrome", codes.SYNDROME)
    counts("diagnosis", "diagnosis", codes.DIAGNOSIS)
    counts("contractures_before", "contractures_before", codes.YES_NO, skip_zero=True)
    times = {k: text("times", lang, count=k) for g in groups for k in g.pump_implantations}
    counts("pump_implantations", "pump_implantations", label_of=times)
    counts("catheter_type", "catheter_type", codes.CATHETER_TYPE, skip_zero=True)
    counts("catheter_tip_level", "catheter_tip_level", codes.CATHETER_TIP_LEVEL, skip_zero=True)

    notes = []
    if result.other_diagnoses:
        notes.append(text("other_diagnoses_note", lang,
                          details=", ".join(result.other_diagnoses)))
    notes.append(text("definitions", lang))
    return DisplayTable("table1", text("table1_title", lang), header, rows, notes)


def _median_iqr(group: GroupSummary, lang: str) -> str:
    return f"{number(group.age.median, 0, lang)} ({number(group.age.iqr, 0, lang)})"


def per_year_table(result: StudyResult, lang: str) -> DisplayTable:
    sites = list(result.first_implantations_by_site)
    header = [text("year", lang), *[result.site_names.get(s, s) for s in sites],
              text("total", lang)]
    rows = [Row([year, *[str(result.first_implantations_by_site[s][year]) for s in sites],
                 str(total)])
            for year, total in result.first_implantations_per_year.items()]
    return DisplayTable("figure2", text("figure2_title", lang, cutoff=result.cutoff.isoformat()),
                        header, rows, figure="figure2")


def table2(result: StudyResult, lang: str) -> DisplayTable:
    summary = result.complications
    header = [text("complication", lang), text("complication_group", lang),
              text("events_n", lang), text("patients_with_n", lang), text("mean_months", lang)]
    by_type = sorted(summary.by_type.items(), key=lambda item: -item[1].events)
    rows = [Row([codes.COMPLICATION_TYPE.label(code, lang),
                 codes.COMPLICATION_GROUP.label(codes.complication_group(code), lang),
                 str(item.events), str(item.patients),
                 number(item.mean_months_to_onset, 1, lang)])
            for code, item in by_type]
    notes = [] if rows else [text("no_complications", lang)]
    return DisplayTable("table2", text("table2_title", lang), header, rows, notes)


def proportion_table(result: StudyResult, lang: str) -> DisplayTable:
    summary = result.complications
    n = result.n_patients
    header = [text("ci_method", lang), text("ci_interval", lang)]
    rows = [Row([text(f"ci_{method}", lang),
                 f"{number(100 * ci.low, 1, lang)}%–{number(100 * ci.high, 1, lang)}%"])
            for method, ci in summary.ci95.items()]
    notes = [text("proportion_text", lang, patients=summary.patients, n=n,
                  percent=number(100 * summary.proportion, 0, lang), events=summary.events)]
    if small_sample(summary.patients, n):
        notes.append(text("ci_recommendation", lang))
    return DisplayTable("complication_proportion", text("proportion_title", lang), header, rows,
                        notes)


def small_sample(successes: int, n: int) -> bool:
    """Where the Wald interval misbehaves: few patients or few events either way."""
    return n < 100 or min(successes, n - successes) < 10


def complications_per_patient_table(result: StudyResult, lang: str) -> DisplayTable:
    summary = result.complications
    rows = [Row([text("complications_count", lang, count=k), _n_pct(v, summary.patients)])
             for k, v in summary.patients_by_count.items()]
    return DisplayTable("complications_per_patient", text("per_patient_title", lang),
                        [text("complication", lang), text("patients_pct", lang)], rows)


def assessment_table(result: StudyResult, lang: str) -> DisplayTable:
    n = result.n_patients
    rows = [Row([combination_label(combo, lang), _n_pct(count, n)])
            for combo, count in result.assessment_combinations.items()]
    return DisplayTable("assessments", text("assessments_title", lang),
                        [text("instruments", lang), text("patients_pct", lang)], rows)


def combination_label(combination: str, lang: str) -> str:
    if combination == "none":
        return text("no_assessment", lang)
    parts = combination.split("+")
    labels = [codes.INSTRUMENT.label(p, lang) for p in parts]
    if len(labels) == 1:
        return text("only", lang, label=labels[0])
    return " + ".join(labels)
