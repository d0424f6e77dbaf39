"""The one exception module of hashrisk.

Every user-facing error names the field, the value it got and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class HashriskError(Exception):
    """Base class of every error hashrisk raises on purpose."""


class InputError(HashriskError, ValueError):
    """A value given by the user (argument, file, flag) is not allowed.

    Parameters
    ----------
    field : str
        Name of the offending field or argument.
    value : Any
        The value received.
    allowed : str
        Plain-language description of what is allowed.
    hint : str, optional
        Extra help (for example the closest valid name).
    """

    def __init__(self, field: str, value: Any, allowed: str, hint: str | None = None) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        self.hint = hint
        message = f"{field}: got {value!r}; allowed: {allowed}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class ConsensusError(InputError):
    """A protocol value (nBits, target, height) that Bitcoin's consensus rules reject."""


class DataError(HashriskError):
    """A data source or store problem: malformed payload, wrong chain, failed fetch, locked store."""


class UnknownNameError(InputError, KeyError):
    """A name (model, source, cohort) that is not in the catalog; the hint suggests the closest ones."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return Exception.__str__(self)


def input_error_from_pydantic(err: Mapping[str, Any], field: str, origin: str) -> InputError:
    """One pydantic error (an item of ``ValidationError.errors()``) as an :class:`InputError` on `field`.

    The value is shortened for display (long lists and mappings), and the message says where the input came
    from (`origin`). Callers compute `field` (a dotted path) their own way.
    """
    value = err.get("input")
    if isinstance(value, list | tuple) and len(value) > 6:
        value = f"[{', '.join(map(str, value[:3]))}, ...] ({len(value)} values)"
    elif isinstance(value, dict):
        value = f"{{{', '.join(list(map(str, value))[:6])}}}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return InputError(field, value, f"{msg} (in {origin})")
