"""The report's follow-up section: refills per patient-year, refills on time, pumps replaced
before or reaching the end of their service life (``analysis.followup.follow_up_summary``)."""

from __future__ import annotations

from itb.analysis.followup import FollowUpSummary
from itb.analysis.study import StudyResult
from itb.reports.i18n import number, percent, text
from itb.reports.tables import DisplayTable, Row


def follow_up_tables(result: StudyResult, lang: str) -> list[DisplayTable]:
    """The follow-up table, or none for a result computed without it."""
    return [] if result.follow_up is None else [follow_up_table(result.follow_up, lang)]


def follow_up_table(summary: FollowUpSummary, lang: str) -> DisplayTable:
    def share(part: int, whole: int) -> str:
        return f"{part} / {whole} ({percent(part, whole)}%)"

    rows = [
        Row([text("fu_patient_years", lang), number(summary.patient_years, 1, lang)]),
        Row([text("fu_refills", lang), str(summary.refills)]),
        Row([text("fu_refills_per_year", lang),
             number(summary.refills_per_patient_year, 1, lang)]),
        Row([text("fu_on_time", lang),
             share(summary.refills_on_time, summary.refill_intervals)]),
        Row([text("fu_replacements", lang), str(summary.pump_replacements)]),
        Row([text("fu_replaced_early", lang),
             share(summary.pumps_replaced_before_end_of_service,
                   summary.pumps_with_service_life)]),
        Row([text("fu_reached_end", lang),
             share(summary.pumps_reached_end_of_service, summary.pumps_with_service_life)]),
        Row([text("fu_in_window", lang), str(summary.pumps_in_replacement_window)]),
        Row([text("fu_past_life", lang), str(summary.pumps_past_service_life)]),
    ]
    return DisplayTable("follow_up", text("fu_title", lang),
                        [text("characteristic", lang), text("fu_value", lang)], rows,
                        notes=[text("fu_note", lang)])
