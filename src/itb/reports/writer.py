"""Write a study result into an output directory: every file complete, or none replaced.

All files are rendered in memory first, written into a temporary directory beside the target,
then moved into place, so a failure never leaves a half-written report behind.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

from itb import __version__
from itb.analysis.study import StudyResult
from itb.reports.figures import figure2, survival_figure
from itb.reports.i18n import text
from itb.reports.tables import DisplayTable, build_tables

TEMPLATES = Path(__file__).parent / "templates"


def render_json(result: StudyResult) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n"


def render_csv(table: DisplayTable) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.header)
    for row in table.rows:
        writer.writerow(row.cells + [""] * (len(table.header) - len(row.cells)))
    return buffer.getvalue()


def _md_cell(value: str) -> str:
    return value.replace("|", "\\|")


def render_markdown(result: StudyResult, tables: list[DisplayTable], lang: str,
                    figure: bool = True) -> str:
    lines = [f"# {text('report_title', lang)}", ""]
    if result.title:
        lines.append(f"{text('dataset', lang)}: {result.title}  ")
    lines += [f"{text('cutoff', lang)}: {result.cutoff.isoformat()}  ",
              f"{text('software', lang)}: itb {__version__}", ""]
    for table in tables:
        lines += [f"## {table.title}", ""]
        if table.figure and figure:
            lines += [f"![{text(table.figure + '_alt', lang)}]({table.figure}.svg)", ""]
        lines.append("| " + " | ".join(_md_cell(h) for h in table.header) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(table.header) - 1)) + "|")
        for row in table.rows:
            if row.section:
                cells = [f"**{_md_cell(row.cells[0])}**"] + [""] * (len(table.header) - 1)
            else:
                cells = [_md_cell(c) for c in row.cells]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        lines += [note + "\n" for note in table.notes]
    return "\n".join(lines).rstrip() + "\n"


def render_html(result: StudyResult, tables: list[DisplayTable], svgs: dict[str, str],
                lang: str) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    environment = Environment(loader=FileSystemLoader(TEMPLATES),
                              autoescape=select_autoescape(["html", "j2"]),
                              trim_blocks=True, lstrip_blocks=True)
    template = environment.get_template("report.html.j2")
    # The SVGs are our own matplotlib output; drop their XML prologue to inline them.
    inline = {name: svg[svg.index("<svg"):] for name, svg in svgs.items()}
    return template.render(result=result, tables=tables, svgs=inline, lang=lang,
                           t=lambda key, **p: text(key, lang, **p), version=__version__)


def render_report(result: StudyResult, lang: str,
                  suppress_below: int | None = None) -> dict[str, bytes]:
    """Every output file of ``itb report``, by file name.

    With ``suppress_below`` K the tables' small counts are masked (itb.reports.suppression);
    the figure and report.json, which would show them exactly, are left out."""
    tables = build_tables(result, lang)
    if suppress_below is not None:
        from itb.reports.suppression import suppress_tables

        tables = suppress_tables(tables, suppress_below, lang)
        published = {"report.md": render_markdown(result, tables, lang, figure=False).encode(),
                     "report.html": render_html(result, tables, {}, lang).encode()}
        return published | {f"{t.key}.csv": render_csv(t).encode() for t in tables}
    figures = {"figure2": figure2(result, lang), "survival": survival_figure(result, lang)}
    svgs = {name: svg for name, (_, svg) in figures.items()}
    files: dict[str, bytes] = {
        "report.json": render_json(result).encode(),
        "report.md": render_markdown(result, tables, lang).encode(),
        "report.html": render_html(result, tables, svgs, lang).encode(),
    }
    for name, (png, svg) in figures.items():
        files[f"{name}.png"] = png
        files[f"{name}.svg"] = svg.encode()
    for table in tables:
        files[f"{table.key}.csv"] = render_csv(table).encode()
    return files


def write_files(files: dict[str, bytes], out_dir: Path) -> list[Path]:
    """Write all files into ``out_dir`` (created if needed); on any failure, write none."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".itb-report-", dir=out_dir))
    try:
        for name, content in files.items():
            (staging / name).write_bytes(content)
        written = []
        for name in files:
            os.replace(staging / name, out_dir / name)
            written.append(out_dir / name)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_report(result: StudyResult, out_dir: Path, lang: str = "et",
                 suppress_below: int | None = None) -> list[Path]:
    return write_files(render_report(result, lang, suppress_below), out_dir)
