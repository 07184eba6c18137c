"""The one pattern every id in Ruta matches: path parameters, event fields, key subjects."""

from __future__ import annotations

from typing import Final

# UUIDs, slugs and pseudonymous ids: letters, digits, '-' and '_' (never a path or a query).
ID_PATTERN: Final = r"^[A-Za-z0-9_-]{1,100}$"
