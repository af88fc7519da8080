"""Charts of the report pages: inline SVG drawn on the server from the report's aggregates (no script)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float
    text: str = ""

    @property
    def cx(self) -> float:
        return round(self.x + self.width / 2, 1)

    @property
    def end(self) -> float:
        return round(self.x + self.width, 1)

    @property
    def cy(self) -> float:
        return round(self.y + self.height / 2, 1)


def column_chart(items: list[tuple[str, int]], *, width: int = 520, height: int = 240) -> dict[str, Any]:
    """Vertical bars (one per item) scaled to the largest count; label under each bar, count above it."""
    top, bottom, left, gap = 28, 34, 16, 24
    plot_height = height - top - bottom
    slot = (width - 2 * left) / max(len(items), 1)
    peak = max((count for _label, count in items), default=0) or 1
    bars = []
    for index, (label, count) in enumerate(items):
        bar_height = round(plot_height * count / peak, 1)
        x = round(left + index * slot + gap / 2, 1)
        bars.append(Bar(label=label, count=count, x=x, y=round(top + plot_height - bar_height, 1),
                        width=round(slot - gap, 1), height=bar_height))
    return {"width": width, "height": height, "bars": bars, "baseline": top + plot_height, "left": left,
            "right": width - left}


def bar_chart(items: list[tuple[str, int, str]], *, width: int = 760, row: int = 26,
              label_width: int = 230, value_width: int = 190) -> dict[str, Any]:
    """Horizontal bars (one row per item): label on the left, count and amount on the right."""
    plot = width - label_width - value_width
    peak = max((count for _label, count, _text in items), default=0) or 1
    bars = []
    for index, (label, count, text) in enumerate(items):
        bars.append(Bar(label=label, count=count, x=label_width, y=index * row + 4,
                        width=round(plot * count / peak, 1), height=row - 8, text=text))
    return {"width": width, "height": len(items) * row + 4, "bars": bars, "label_x": label_width - 8,
            "value_x": label_width + plot + 8, "row": row}
