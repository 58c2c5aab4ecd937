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


# Okabe–Ito again: the whole cohort in blue, the two functional levels in vermilion and green.
CURVE_COLOURS = {"overall": "#0072B2", "low": "#D55E00", "high": "#009E73"}


def survival_figure(result: StudyResult, lang: str) -> tuple[bytes, str]:
    """Kaplan–Meier curves with 95% bands, overall and by functional level, each with its
    number-at-risk table beneath; PNG bytes and SVG text."""
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "itb"
    matplotlib.rcParams["svg.fonttype"] = "none"
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    survival = result.survival
    panels = [(text("km_overall_label", lang), {"overall": survival.overall}),
              (text("km_by_level", lang), survival.by_functional_level)]
    figure = Figure(figsize=(7.6, 4.6), dpi=150)
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(2, 2, height_ratios=(3.4, 1.0), hspace=0.32, wspace=0.18,
                               left=0.1, right=0.98, top=0.93, bottom=0.04)
    longest = max((e.curve.years[-1] for _, group in panels for e in group.values()
                   if e.curve is not None and e.curve.years), default=1.0)
    step = 1 if longest <= 12 else 2
    ticks = list(range(0, int(longest) + 1, step))
    for column, (title, estimates) in enumerate(panels):
        axes = figure.add_subplot(grid[0, column])
        table = figure.add_subplot(grid[1, column])
        rows = []
        for key, estimate in estimates.items():
            curve = estimate.curve
            if curve is None or not curve.years:
                continue
            colour = CURVE_COLOURS[key]
            label = text("km_overall_label" if key == "overall" else f"group_{key}", lang)
            nan = float("nan")
            lower = [nan if v is None else 100 * v for v in curve.lower]
            upper = [nan if v is None else 100 * v for v in curve.upper]
            axes.fill_between(curve.years, lower, upper, step="post", color=colour,
                              alpha=0.18, linewidth=0)
            axes.step(curve.years, [100 * v for v in curve.estimate], where="post",
                      color=colour, linewidth=1.6, label=f"{label} (n = {estimate.n})")
            counts = dict(zip(curve.risk_years, curve.at_risk, strict=True))
            rows.append((label, colour, [counts.get(t, 0) for t in ticks]))
        axes.set_title(title, fontsize=9, loc="left")
        axes.set_ylim(0, 102)
        axes.set_xlim(0, max(longest, 1.0))
        axes.yaxis.set_major_formatter(PercentFormatter(decimals=0))
        axes.set_xticks(ticks)
        axes.tick_params(labelsize=8)
        axes.spines[["top", "right"]].set_visible(False)
        axes.set_xlabel(text("years_since_implant", lang), fontsize=8)
        if column == 0:
            axes.set_ylabel(text("complication_free_pct", lang), fontsize=8)
        axes.legend(frameon=False, fontsize=7, loc="lower left",
                    title=f"{text('ci_band', lang)}: log-log", title_fontsize=7)
        # The number-at-risk table: one line per curve, one number under each year tick.
        # Lines from the top down, the same spacing in both panels; years under the ticks.
        table.set_xlim(axes.get_xlim())
        table.set_ylim(-2.5, 0.5)
        table.axis("off")
        table.set_title(text("at_risk_short", lang), fontsize=8, loc="left")
        for line, (_, colour, counts) in enumerate(rows):
            for tick, count in zip(ticks, counts, strict=True):
                table.text(tick, -line, str(count), ha="center", va="center", fontsize=7,
                           color=colour)

    png = io.BytesIO()
    figure.savefig(png, format="png", metadata={"Software": None})
    svg = io.StringIO()
    figure.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return png.getvalue(), svg.getvalue()
