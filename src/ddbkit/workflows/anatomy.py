"""What a table's items hold and how they spread, for front ends: ``schema`` and ``stats`` with a
progress callback, and the stats picture (``ddbkit[plot]``).

The same jobs as :meth:`Table.schema <ddbkit.Table.schema>` and :meth:`Table.stats
<ddbkit.Table.stats>`, which do not take ``progress``; checks that belong before a long scan
(:func:`check_plot_path`, :func:`require_plot`) are here too.
"""

from __future__ import annotations

from ddbkit.jobs.anatomy import (
    DEFAULT_SAMPLE,
    check_plot_path,
    plot_stats,
    require_plot,
    table_schema,
    table_stats,
)

__all__ = [
    "DEFAULT_SAMPLE",
    "check_plot_path",
    "plot_stats",
    "require_plot",
    "table_schema",
    "table_stats",
]
