"""The trend chart drawn as SVG on the server, from the report's own chart data (indicators.services.trends):
the PDF engine runs no JavaScript, so the pack cannot use the report page's Chart.js canvas."""
from dataclasses import dataclass, field

WIDTH, HEIGHT, PAD_X, PAD_TOP, PAD_BOTTOM = 260, 90, 34, 8, 18


@dataclass
class TrendSvg:
    width: int = WIDTH
    height: int = HEIGHT
    trajectory: str = ""  # polyline points
    solid: list = field(default_factory=list)  # segments between complete periods: (x1, y1, x2, y2)
    dashed: list = field(default_factory=list)  # segments ending in a provisional period
    points: list = field(default_factory=list)  # (x, y, provisional)
    top: str = ""  # the axis's labels
    bottom: str = ""
    first_label: str = ""
    last_label: str = ""


def trend_svg(chart, digits=2):
    """Geometry of one indicator's chart: values (hollow points on a dashed line where provisional) against
    the dashed trajectory, scaled to the values' range. None when there is nothing to draw."""
    values, trajectory = chart["values"], chart["trajectory"]
    known = [v for v in values + trajectory if v is not None]
    if not any(v is not None for v in values):
        return None
    low, high = min(known), max(known)
    if high == low:
        low, high = low - 1, high + 1
    n = len(values)

    def x(i):
        return round(PAD_X + (WIDTH - PAD_X - 4) * (i / (n - 1) if n > 1 else 0.5), 1)

    def y(v):
        return round(PAD_TOP + (HEIGHT - PAD_TOP - PAD_BOTTOM) * (high - v) / (high - low), 1)

    svg = TrendSvg(top=f"{high:.{digits}f}", bottom=f"{low:.{digits}f}",
                   first_label=chart["labels"][0], last_label=chart["labels"][-1] if n > 1 else "")
    svg.trajectory = " ".join(f"{x(i)},{y(t)}" for i, t in enumerate(trajectory) if t is not None)
    provisional = chart.get("provisional") or [False] * n
    previous = None
    for i, v in enumerate(values):
        if v is None:
            previous = None
            continue
        if previous is not None:
            (svg.dashed if provisional[i] else svg.solid).append((x(previous[0]), y(previous[1]), x(i), y(v)))
        svg.points.append((x(i), y(v), bool(provisional[i])))
        previous = (i, v)
    return svg
