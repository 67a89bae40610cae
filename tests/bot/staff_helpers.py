"""Staff accounts for the bot/ tests: made in the database as an admin would, logged in with the
real login endpoint (so each client carries its own session cookie)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bot import accounts

PASSWORD = "a-password-for-tests"


def make_account(
    app, username: str, role: str, display_name: str | None = None, password: str | None = PASSWORD
) -> tuple[int, str]:
    """(account id, password); password None: a one-time password the person must replace."""
    with app.state.db.transaction() as session:
        account, used = accounts.create_account(session, username, display_name or username, role, password)
        return account.id, used


def logged_in(app, username: str, password: str = PASSWORD, ip: str = "testclient") -> TestClient:
    """A new client (its own cookie jar) logged in as `username`."""
    client = TestClient(app, client=(ip, 50000))
    response = client.post("/api/staff/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return client


def audit_actions(app) -> list[tuple[str, str, str | None]]:
    """(actor, action, target_id) of every audit entry, oldest first."""
    from sqlalchemy import select

    from bot.models import AuditEntry

    with app.state.db.transaction(write=False) as session:
        return [(e.actor, e.action, e.target_id) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
