"""The study's analysis: registry tables in, result objects out."""

from itb.analysis.study import StudyResult, analyse

__all__ = ["StudyResult", "analyse"]
