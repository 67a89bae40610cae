"""Staff authentication: `Authorization: Bearer <STAFF_TOKEN>` on staff endpoints.

The token is settings.staff_token (bot/settings.py refuses the development default outside
development). Comparison is constant-time; a missing or wrong token is a 401 with a Chinese
message and `WWW-Authenticate: Bearer`, and the token itself is never logged.
"""
from __future__ import annotations

import secrets

from fastapi import HTTPException, Request, status

STAFF_ONLY = "此操作仅限工作人员：请在请求头中提供有效的 Authorization: Bearer <STAFF_TOKEN>。"


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def is_staff(request: Request) -> bool:
    """True when the request carries the staff token (for endpoints open to owners and staff)."""
    token = _bearer_token(request)
    expected = request.app.state.settings.staff_token
    return token is not None and bool(expected) and secrets.compare_digest(token.encode(), expected.encode())


def require_staff(request: Request) -> None:
    """FastAPI dependency for staff-only endpoints: `dependencies=[Depends(require_staff)]`."""
    if not is_staff(request):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=STAFF_ONLY,
                            headers={"WWW-Authenticate": "Bearer"})
