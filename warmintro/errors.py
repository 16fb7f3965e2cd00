"""Typed exceptions. The CLI turns every WarmintroError into one line on stderr and a non-zero exit."""

from __future__ import annotations


class WarmintroError(Exception):
    """Base class for errors a user can act on (no traceback shown)."""

    exit_code = 1


class ConfigError(WarmintroError):
    """Settings are missing or contradictory."""

    exit_code = 2


class StoreError(WarmintroError):
    """The database cannot be reached, or its schema is not the one this version expects."""

    exit_code = 3


class NotFoundError(WarmintroError):
    """A named account, contact or person does not exist in the store."""

    exit_code = 4


class AmbiguousNameError(NotFoundError):
    """A typed name matches several accounts, contacts or people; the message lists them."""


class StaleIndexError(WarmintroError):
    """The email index was embedded with a model this code cannot compute: re-index it first."""
