"""The one exception module of hashrisk.

Every user-facing error names the field, the value it got and what is allowed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError

MAX_SHOWN_CHARS = 80
"""Longest value quoted in an error message [characters]; longer values are cut (with their length said)."""
MAX_SHOWN_TEXT_CHARS = 240
"""Longest text value (a file name, an option given on the command line) quoted in an error message."""


def shown(value: Any, limit: int = MAX_SHOWN_CHARS) -> str:
    """``repr(value)`` cut to about `limit` characters, for an error message."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 20]}... ({len(text):,} characters)"


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
        limit = MAX_SHOWN_TEXT_CHARS if isinstance(value, str) else MAX_SHOWN_CHARS
        message = f"{field}: got {shown(value, limit)}; allowed: {allowed}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class ConsensusError(InputError):
    """A protocol value (nBits, target, height) that Bitcoin's consensus rules reject."""


class DataError(HashriskError):
    """A data source or store problem: malformed payload, wrong chain, failed fetch, locked store."""


class StoreDamagedError(DataError):
    """The store file exists but cannot be read as a hashrisk DuckDB file (truncated, overwritten, bit rot).

    A :class:`~hashrisk.errors.DataError`, distinct from "nothing stored": callers that fall back to other data
    when the store holds nothing for a day must let this one through.

    Attributes
    ----------
    path : os.PathLike or str
        The store file.
    reason : str
        What is wrong, in one line.
    """

    def __init__(self, path: os.PathLike[str] | str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"the store file {path} is damaged ({reason}): restore it from a backup, or move it aside and "
            "re-import (hashrisk data import / data fetch)"
        )


class UnknownNameError(InputError, KeyError):
    """A name (model, source, cohort) that is not in the catalog; the hint suggests the closest ones."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return Exception.__str__(self)


def input_error_from_pydantic(err: Mapping[str, Any], field: str, origin: str) -> InputError:
    """One pydantic error (an item of ``ValidationError.errors()``) as an :class:`InputError` on `field`.

    The value is shortened for display (long lists and mappings), and the message says where the input came
    from (`origin`). :func:`from_validation_error` computes `field` from the error's location.
    """
    value = err.get("input")
    if isinstance(value, list | tuple) and len(value) > 6:
        value = f"[{', '.join(map(str, value[:3]))}, ...] ({len(value)} values)"
    elif isinstance(value, dict):
        value = f"{{{', '.join(list(map(str, value))[:6])}}}"
    if isinstance(value, str) and len(value) > MAX_SHOWN_CHARS:
        value = f"{value[: MAX_SHOWN_CHARS - 20]}... ({len(value):,} characters)"
    elif len(repr(value)) > MAX_SHOWN_CHARS:
        value = shown(value)
    msg = str(err["msg"]).removeprefix("Value error, ")
    return InputError(field, value, f"{msg} (in {origin})")


def from_validation_error(
    exc: ValidationError,
    origin: str,
    root: str = "",
    *,
    default_field: str = "input",
    unions: Mapping[str, Sequence[str]] | None = None,
    loc_map: Callable[[list[str]], list[str]] | None = None,
) -> InputError:
    """The first error of a pydantic ``ValidationError`` as an :class:`InputError` naming the dotted field.

    The one adapter from pydantic to hashrisk's errors.

    Parameters
    ----------
    exc : pydantic.ValidationError
        The validation failure.
    origin : str
        Where the input came from (a file name, "scenario", ...), said in the message.
    root : str
        Dotted prefix of every field (the model's place in a larger document), e.g. ``"rows"``.
    default_field : str
        The field named when the error has no location (and `root` is empty).
    unions : mapping of str to sequence of str, optional
        Discriminated-union fields and their tags (``{"price": ("gbm", "path", ...)}``): pydantic puts the tag
        in the location (``price.gbm.vol``), which is dropped (``price.vol``), and an unknown or missing
        tag names ``<field>.<discriminator>`` with the allowed tags.
    loc_map : callable, optional
        Further rewriting of the location parts before they are joined.

    Notes
    -----
    An :class:`InputError` raised inside a validator (pydantic wraps it) is returned as it is.
    """
    err = exc.errors()[0]
    inner = (err.get("ctx") or {}).get("error")
    if isinstance(inner, InputError):
        return inner
    loc = [str(p) for p in err["loc"]]
    tags: Sequence[str] = ()
    for name, allowed in (unions or {}).items():
        if loc and loc[0] == name:
            tags = allowed
            if len(loc) >= 2 and loc[1] in allowed:
                loc.pop(1)
    if loc_map is not None:
        loc = loc_map(loc)
    field = ".".join(p for p in (root, ".".join(loc)) if p) or default_field
    if tags and err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        value = err.get("input")
        key = str((err.get("ctx") or {}).get("discriminator", "'model'")).strip("'")
        got = value.get(key) if isinstance(value, dict) else value
        return InputError(f"{field}.{key}", got, f"one of {', '.join(tags)} (in {origin})")
    return input_error_from_pydantic(err, field, origin)
