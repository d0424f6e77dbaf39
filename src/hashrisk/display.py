"""Display formatting shared by the shells (cli/, web/, report/): numbers as people read them.

The one neutral home of these helpers: the shells import them from here and never from each other, so the
report and the web app load without the command line's dependencies. Conversions to display units (EH/s,
billions) happen only here and at the edges; every computed quantity stays in its canonical unit.
Non-finite values (NaN, infinities) display as ``n/a``.
"""

from __future__ import annotations

import math
from typing import Any

from hashrisk.constants import TH_PER_EH


def eh_s(hashrate_ths: float) -> str:
    """A hashrate [TH/s] in EH/s: ``980.0 EH/s``."""
    return f"{hashrate_ths / TH_PER_EH:,.1f} EH/s"


def usd(x: float, digits: int = 0) -> str:
    """A USD amount: ``$71,329`` (``digits`` decimals)."""
    return "n/a" if not math.isfinite(x) else f"${x:,.{digits}f}"


def signed_usd(x: float) -> str:
    """A USD amount, sign first: ``-$1,234``."""
    return "n/a" if not math.isfinite(x) else f"{'-' if x < 0 else ''}{usd(abs(x))}"


def usd_bn(x: float) -> str:
    """A USD amount in billions, sign first: ``-$1.2bn``."""
    return "n/a" if not math.isfinite(x) else f"{'-' if x < 0 else ''}${abs(x) / 1e9:,.1f}bn"


def usd_m(x: float) -> str:
    """A USD amount in millions, sign first: ``-$1.2M``."""
    return "n/a" if not math.isfinite(x) else f"{'-' if x < 0 else ''}${abs(x) / 1e6:,.1f}M"


def pct(x: float, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.123`` -> ``12.3%``."""
    return "n/a" if not math.isfinite(x) else f"{100 * x:.{digits}f}%"


def num_or_dash(value: Any, fmt: str = ",.2f") -> str:
    """A number with `fmt`, or ``—`` for a value that is missing (None or NaN: not disclosed, not yet known)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return format(value, fmt)


def pct_or_dash(value: Any) -> str:
    """A fraction as a percentage (``12.3%``), or ``—`` for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{100 * value:.1f}%"
