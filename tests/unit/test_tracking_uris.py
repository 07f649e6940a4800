"""Each MLFLOW_TRACKING_URI a user may type is accepted or refused in one line, no password."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from src.errors import TrackingError
from src.tracking import check_tracking_available, display_uri


def test_a_password_in_the_uri_is_refused_and_never_printed() -> None:
    uri = "http://alice:s3cret-Pa55@127.0.0.1:9"
    with pytest.raises(TrackingError) as caught:
        check_tracking_available(uri)
    message = str(caught.value)
    assert "s3cret-Pa55" not in message and "alice:****@127.0.0.1:9" in message
    assert "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD" in message
    assert display_uri("http://127.0.0.1:5000") == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sqlite:///", "names no database file"),
        ("sqlite://", "names no database file"),
        ("postgresql+psycopg://mlflow:pw@127.0.0.1:5432/mlflow", "driver psycopg is not installed"),
        ("postgresql://mlflow:pw@127.0.0.1:9/mlflow", "database server unreachable at 127.0.0.1:9"),
        ("mssql://u:p@127.0.0.1/db", "driver pyodbc is not installed"),
        ("ftp://example", "unsupported scheme 'ftp'"),
    ],
)
def test_unusable_uris_are_one_line(uri: str, expected: str) -> None:
    with pytest.raises(TrackingError) as caught:
        check_tracking_available(uri)
    message = str(caught.value)
    assert expected in message and "\n" not in message
    assert ":pw@" not in message and ":p@" not in message


def test_a_reachable_postgres_url_is_accepted() -> None:
    """The compose stack's backend: psycopg2 is in the lock, so only reachability is checked."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        uri = f"postgresql://mlflow:pw@127.0.0.1:{port}/mlflow"
        assert check_tracking_available(uri) == uri


def test_a_directory_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(TrackingError, match="is a directory; name a file inside it"):
        check_tracking_available(f"sqlite:///{tmp_path}")
    assert check_tracking_available(f"sqlite:///{tmp_path / 'm.db'}").endswith("m.db")
