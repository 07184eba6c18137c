"""The console's own exceptions and the pages they turn into."""

from __future__ import annotations

from typing import Any


class LoginRequiredError(Exception):
    """No session with a token: the browser goes to the login page."""


class SessionEndedError(Exception):
    """A service refused the token (expired, account disabled): the session ends."""


class UnavailableError(Exception):
    """A service did not answer; the page says which part of Ruta is down."""

    def __init__(self, part: str) -> None:
        super().__init__(part)
        self.part = part


class ForbiddenError(Exception):
    """The user's role may not use this page."""


class CsrfRejectedError(Exception):
    """A form arrived without this session's CSRF token."""


class RefusedError(Exception):
    """A service refused a read the page needs: shown as the page's status and sentence."""

    def __init__(self, answer: Any) -> None:
        super().__init__(answer.status)
        self.answer = answer
