"""Geometry for a horizontal bar chart drawn as SVG in the template."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    y: int
    width: float
    text_x: float


@dataclass(frozen=True, slots=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int
    bar_height: int
    max_value: int


def bar_chart(
    items: list[tuple[str, int]],
    *,
    width: int = 640,
    label_width: int = 56,
    bar_height: int = 22,
    gap: int = 8,
) -> BarChart:
    """Bars scaled to the largest value; room on the right for the number."""
    max_value = max((v for _label, v in items), default=0)
    plot = width - label_width - 48
    bars = []
    for index, (label, value) in enumerate(items):
        bar_width = (plot * value / max_value) if max_value else 0
        bars.append(
            Bar(
                label=label,
                value=value,
                y=index * (bar_height + gap),
                width=round(bar_width, 1),
                text_x=round(label_width + bar_width + 6, 1),
            )
        )
    height = max(len(items) * (bar_height + gap), bar_height)
    return BarChart(bars, width, height, label_width, bar_height, max_value)
