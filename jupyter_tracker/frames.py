"""Small pandas helpers shared by every module that returns DataFrames (pandas imported on first use)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import pandas as pd

# pandas types, for annotations: naming them this way keeps pandas out of the import of a module.
DataFrame: TypeAlias = "pd.DataFrame"
Series: TypeAlias = "pd.Series"


def epoch_to_datetime(seconds: object) -> Series:
    """Epoch seconds (float, NaN for missing) -> UTC datetimes, exact to the microsecond.

    Converting the floats directly with unit="s" goes through nanoseconds and can turn .000001 into
    .000000954; rounding to whole microseconds first keeps what was logged.
    """
    import pandas as pd

    return pd.to_datetime(
        pd.Series(seconds, dtype="float64").mul(1e6).round().astype("Int64"), unit="us", utc=True
    )
