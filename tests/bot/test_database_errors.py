"""The database going away is a clear 503 the client can retry, never a 500 or a traceback."""

from contextlib import contextmanager

from sqlalchemy.exc import OperationalError


def test_database_down_is_503_in_chinese_and_says_nothing_was_saved(client, monkeypatch):
    @contextmanager
    def unavailable(write=True):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
        yield  # pragma: no cover

    monkeypatch.setattr(client.app.state.db, "transaction", unavailable)
    response = client.post("/api/feedback", json={"sender": "web-1", "rating": 1})
    assert response.status_code == 503
    assert "未保存" in response.json()["detail"] and response.headers["retry-after"] == "5"
    assert "Traceback" not in response.text and "connection refused" not in response.text
