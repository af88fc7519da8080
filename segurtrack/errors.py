"""The errors every app's services raise, free of any framework.

Services raise these; the edges translate them: the API's exception handler turns them into the
contract's answers (403, 400, 409), the pages into messages beside the form. Keeping them here lets
`faqref`, `organisations` and the lifecycle apps share one vocabulary without importing each other.
"""
from __future__ import annotations


class ServiceError(Exception):
    """A write that could not be done; subclasses say why."""


class NotPermitted(ServiceError):
    """The user may read this organisation's data but not change it."""


class InvalidInput(ServiceError):
    """Bad input: `errors` maps each field to its messages (the API's 400 body)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors
