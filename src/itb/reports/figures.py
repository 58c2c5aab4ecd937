"""Figure 2: first implantations per year, stacked by implanting site.

Drawn with matplotlib's object API (no pyplot): it imports faster and keeps no global state.
"""

from __future__ import annotations

import io

from itb.analysis.study import StudyResult
from itb.reports.i18n import text

# Okabe–Ito colours: distinguishable with colour-blindness and in greyscale print.
SITE_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")


def figure2(result: StudyResult, lang: str) -> tuple[bytes, str]:
    """The figure as PNG bytes and as SVG text."""
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "itb"  # stable ids: the same data, the same SVG
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, small
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    years = list(result.first_implantations_per_year)
    figure = Figure(figsize=(7.0, 3.6), dpi=150)
    figure.subplots_adjust(left=0.08, right=0.98, top=0.95, bottom=0.14)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    bottom = [0] * len(years)
    for index, (site, per_year) in enumerate(result.first_implantations_by_site.items()):
        heights = [per_year[year] for year in years]
        axes.bar(years, heights, bottom=bottom, color=SITE_COLOURS[index % len(SITE_COLOURS)],
                 label=result.site_names.get(site, site), width=0.7)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    for x, total in enumerate(bottom):
        if total:
            axes.annotate(str(total), (x, total), ha="center", va="bottom", fontsize=8,
                          xytext=(0, 2), textcoords="offset points")
    axes.set_xlabel(text("year", lang))
    axes.set_ylabel(text("first_implantations", lang))
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_ylim(0, max(bottom, default=0) * 1.15 + 1)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(axis="x", labelrotation=45 if len(years) > 14 else 0, labelsize=8)
    axes.legend(title=text("site", lang), frameon=False, fontsize=8, title_fontsize=8)

    png = io.BytesIO()
    figure.savefig(png, format="png", metadata={"Software": None})
    svg = io.StringIO()
    figure.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return png.getvalue(), svg.getvalue()
