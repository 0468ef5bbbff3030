"""Charts for the admin site's dashboard: SVG drawn on the server by pygal and put
inline in the page, so the console fetches no script, font or stylesheet from
anywhere. pygal escapes every label and title it writes (usernames included).

pygal adds a `<script>` holding its configuration for its optional tooltip script;
the console loads neither, so both are dropped from the drawing: no script runs.
"""

from dataclasses import dataclass

import pygal
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

STYLE = Style(
    background="transparent",
    plot_background="#ffffff",
    font_family="-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
    colors=("#417690", "#ba2121", "#79aec8", "#e0a030", "#5b8c5a"),
    title_font_size=14,
    label_font_size=10,
    major_label_font_size=10,
    legend_font_size=11,
)


@dataclass(frozen=True)
class Chart:
    """A drawing with its text alternative: `headers` and `rows` are its numbers."""

    title: str
    svg: SafeString
    headers: tuple[str, ...]
    rows: list[tuple]


def _accessible(title: str):
    def xml_filter(root):
        for defs in root.iter("defs"):
            for script in defs.findall("script"):
                defs.remove(script)
        root.set("role", "img")
        root.set("aria-label", title)
        return root

    return xml_filter


def _draw(chart, title: str, labels: list[str], series: dict[str, list]) -> SafeString:
    chart.title = title
    chart.x_labels = labels
    for name, values in series.items():
        chart.add(name, values)
    chart.add_xml_filter(_accessible(title))
    # The markup comes from pygal's XML serializer, which escapes text and attributes.
    return mark_safe(chart.render())  # noqa: S308


def _options(**extra) -> dict:
    return {
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "width": 640,
        "height": 280,
        "margin": 10,
        "legend_at_bottom": True,
        "print_values": False,
        **extra,
    }


def daily_chart(
    *, title: str, days: list, series: dict[str, list[int]], kind: str = "bar"
) -> Chart:
    """Values per day: bars for one series, lines for several."""
    labels = [day.strftime("%m-%d") for day in days]
    options = _options(
        x_label_rotation=45,
        show_minor_x_labels=False,
        x_labels_major_every=5,
        show_legend=len(series) > 1,
        min_scale=1,
    )
    drawing = pygal.Line(**options, dots_size=2) if kind == "line" else pygal.Bar(**options)
    return Chart(
        title=title,
        svg=_draw(drawing, title, labels, series),
        headers=("Day", *series),
        rows=[
            (day.isoformat(), *values) for day, *values in zip(days, *series.values(), strict=True)
        ],
    )


def categories_chart(*, title: str, counts: dict[str, int], value_name: str) -> Chart:
    """One value per category, as horizontal bars (long names stay readable)."""
    labels = [str(name) for name in counts]
    drawing = pygal.HorizontalBar(
        **_options(show_legend=False, height=max(160, 40 + 28 * len(labels)))
    )
    return Chart(
        title=title,
        svg=_draw(drawing, title, labels, {value_name: list(counts.values())}),
        headers=("", value_name),
        rows=list(counts.items()),
    )
