"""sqlprovider on Spark: the ``sqlprovider`` Python data source of PySpark.

Installed with ``pip install 'sqlprovider[spark]'``:

    from sqlprovider.spark import SqlproviderDataSource
    spark.dataSource.register(SqlproviderDataSource)
    jobs = spark.read.format("sqlprovider").load("digitalocean.genai.indexing_jobs")

docs/scale-out.md tells how reads become partitions and how rate limits are shared.
"""

from __future__ import annotations

import importlib

from sqlprovider.errors import InterfaceError

SPARK_HINT = "pip install 'sqlprovider[spark]'"

try:
    importlib.import_module("pyarrow")  # Spark's Python data sources take rows as Arrow
    importlib.import_module("pyspark.sql.datasource")
except ImportError as exc:  # one message naming the fix, not PySpark's traceback
    raise InterfaceError(
        f"sqlprovider.spark needs PySpark 4.1 or later and pyarrow ({exc}); "
        f"install them with: {SPARK_HINT}"
    ) from None

from sqlprovider.spark.source import SqlproviderDataSource  # noqa: E402

__all__ = ["SPARK_HINT", "SqlproviderDataSource"]
