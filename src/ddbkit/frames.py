"""A table's items as DataFrames: Arrow, pandas and polars through DuckDB (the ``sql`` and
``dataframes`` extras), and Dask (the ``dask`` extra). :class:`ddbkit.Table` offers these as
its own methods; they live here so table.py stays one facade of a readable size.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from ddbkit import errors
from ddbkit.expr.where import WhereInput

if TYPE_CHECKING:
    from ddbkit.jobs.source import TableSource
    from ddbkit.write.summary import WriteSummary


class TableFrames:
    """The DataFrame methods of :class:`ddbkit.Table` (a mixin: ``self`` is the Table)."""

    def _source(self) -> TableSource:
        return cast("TableSource", self)

    # -- DataFrames (the ``sql`` extra) --------------------------------------------------------

    def to_arrow(
        self,
        where: WhereInput = None,
        attributes: Sequence[str] | None = None,
        *,
        segments: int | None = None,
    ) -> Any:
        """The items (matching ``where``, by find's plan) as a ``pyarrow.Table``.

        Columns follow ``db.sql``'s type mapping; scans run in parallel segments.
        """
        from ddbkit.integrations.sql.engine import table_relation

        result = table_relation(self._source(), where, attributes, segments=segments).arrow()
        # newer DuckDB returns a RecordBatchReader from .arrow(): collect it into a Table
        return result.read_all() if hasattr(result, "read_all") else result

    def to_pandas(
        self,
        where: WhereInput = None,
        attributes: Sequence[str] | None = None,
        *,
        segments: int | None = None,
    ) -> Any:
        """As :meth:`to_arrow`, as a ``pandas.DataFrame``."""
        from ddbkit.integrations.sql.engine import table_relation

        try:
            importlib.import_module("pandas")  # .df() needs it; no stubs wanted for a check
        except ImportError as exc:
            raise errors.MissingExtraError("pandas", "dataframes") from exc
        return table_relation(self._source(), where, attributes, segments=segments).df()

    def to_polars(
        self,
        where: WhereInput = None,
        attributes: Sequence[str] | None = None,
        *,
        segments: int | None = None,
    ) -> Any:
        """As :meth:`to_arrow`, as a ``polars.DataFrame``."""
        from ddbkit.integrations.sql.engine import table_relation

        try:
            importlib.import_module("polars")
        except ImportError as exc:
            raise errors.MissingExtraError("polars", "dataframes") from exc
        return table_relation(self._source(), where, attributes, segments=segments).pl()

    # -- Dask (the ``dask`` extra) ----------------------------------------------------------------

    def to_dask(
        self,
        where: WhereInput = None,
        *,
        attributes: Sequence[str] | None = None,
        segments: int | None = None,
        rate_limit: float | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """The items (matching ``where``) as a ``dask.dataframe.DataFrame``, one partition per
        parallel-scan segment, each read by the worker that runs it.

        ``where`` and ``attributes`` go into every segment's Scan (a pinned partition key makes
        one Query partition). Columns are typed as :meth:`to_arrow` types them, from a sample of
        up to 1,000 matching items; a value that does not fit its column (another type, a number
        the column cannot hold exactly) or an attribute the sample did not show is kept, as
        DynamoDB JSON, in the ``_extra`` column ({"name": {"S": "..."}}), which
        :meth:`write_dask` merges back. Maps, lists and mixed-type columns hold JSON text
        (``write_dask(types={"col": "JSON"})`` writes it back as values). ``segments``
        defaults to one per 128 MB (at least what a scan would use); ``rate_limit`` RCU/s is
        the whole job's budget, split over the partitions that can run at once (the threads of
        the Dask client's workers).
        """
        from ddbkit.integrations.dask import to_dask

        return to_dask(
            self._source(),
            where,
            attributes=attributes,
            segments=segments,
            rate_limit=rate_limit,
            params=params,
        )

    def write_dask(
        self,
        frame: Any,
        *,
        wcu: float | None = None,
        action: str = "put",
        on_error: str = "stop",
        types: Mapping[str, str] | None = None,
    ) -> WriteSummary:
        """Write every row of a ``dask.dataframe.DataFrame`` (one item per row; missing values
        are left out), each partition by the batch writer in its worker.

        Only ``action="put"`` (and ``"delete"``, by the key columns) are offered: a partition
        that Dask runs again after a worker died writes the same items again, so nothing is lost
        or doubled. ``wcu`` WCU/s is the whole job's budget; ``types`` gives columns a DynamoDB
        type as ``import_file`` does (``{"address": "M", "tags": "SS"}``; text in a column typed
        other than S or B is JSON text), or ``"JSON"`` for JSON text of any type (to_dask's
        columns of maps, lists and mixed types). Dask turns object columns (dicts, sets, bytes,
        Decimals) into strings unless ``dask.config.set({"dataframe.convert-string": False})``
        or the columns have Arrow dtypes. Raises :class:`~ddbkit.errors.IncompleteWriteError`
        like :meth:`put_many`, with the summary of all partitions.
        """
        from ddbkit.integrations.dask import write_dask

        return write_dask(
            self._source(), frame, wcu=wcu, action=action, on_error=on_error, types=types
        )
