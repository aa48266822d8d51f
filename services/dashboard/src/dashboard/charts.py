"""The charts the pages draw, each drawn once for the figures it shows.

Published figures change only with a publication or a correction, so the same figures come back page after
page; drawing their SVG is a good part of a page's work. Each builder here is the shared one
(`inspection_shared.charts`, which escapes every text it is given) behind a cache keyed on the figures.
"""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup

from inspection_shared.charts import Bar, bar_chart, key_question_chart, stacked_bar_chart

StackedRows = tuple[tuple[str, tuple[tuple[str, int], ...]], ...]
"""Each row's label and its counts by rating, in drawing order."""


@lru_cache(maxsize=1024)
def key_questions(standard: str, name: str, bars: tuple[Bar, ...], edges: tuple[float, ...]) -> Markup:
    return Markup(key_question_chart(standard, name, bars, edges))


@lru_cache(maxsize=64)
def stacked(chart_id: str, title: str, rows: StackedRows) -> Markup:
    return Markup(stacked_bar_chart(chart_id, title, [(label, dict(counts)) for label, counts in rows]))


@lru_cache(maxsize=64)
def bars(chart_id: str, title: str, drawn: tuple[Bar, ...]) -> Markup:
    return Markup(bar_chart(chart_id, title, drawn))
