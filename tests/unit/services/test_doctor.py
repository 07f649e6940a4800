"""The doctor's lines, its lock reading and its embedded mode."""

from __future__ import annotations

from src.services.doctor import Check, locked_versions, run_checks
from src.services.settings import ServiceSettings
from src.tracking import process_tags


def test_doctor_on_the_embedded_default_skips_the_servers(mlflow_store: str) -> None:
    lines: list[str] = []
    results = run_checks(ServiceSettings.from_env({}), echo=lines.append)
    by_name = {result.name: result for result in results}
    assert by_name["versions"].ok and by_name["MLflow store"].ok
    assert by_name["S3 reachable"].ok is None and lines[-1].startswith("– DVC remote")
    assert not [result for result in results if result.ok is False]


def test_check_lines_and_lock_versions() -> None:
    failed = Check("S3 reachable", False, "refused", "make stack-up-local")
    assert failed.line == "✗ S3 reachable       refused — hint: make stack-up-local"
    assert Check("venv", True, "ok", "unused").line == "✓ venv               ok"
    pins = locked_versions()
    assert pins["mlflow"].startswith("3.17.") and pins["zenml"] == "0.98.0"


def test_doctor_closes_runs_whose_process_died(mlflow_store: str) -> None:
    import mlflow

    client = mlflow.MlflowClient(mlflow_store)
    experiment = client.create_experiment("doctor-dead-runs")
    dead = client.create_run(experiment, tags={**process_tags(), "pid": "999999999"})
    alive = client.create_run(experiment, tags=process_tags())
    results = run_checks(ServiceSettings.from_env({}), echo=lambda _: None)
    store = next(result for result in results if result.name == "MLflow store")
    assert store.ok and "1 run(s) of dead processes marked KILLED" in store.detail
    assert client.get_run(dead.info.run_id).info.status == "KILLED"
    assert client.get_run(alive.info.run_id).info.status == "RUNNING"  # this process lives


class _FakeMlflow:
    """An HTTP server on loopback answering like an MLflow server, with or without auth."""

    def __init__(self, *, auth: bool) -> None:
        import http.server
        import threading

        require = auth
        self.requests: list[tuple[str, str, str | None]] = []
        seen = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                header = self.headers.get("Authorization")
                seen.append((self.command, self.path, header))
                if require and header is None:
                    code, body = 401, b"You are not authenticated."
                else:
                    code, body = 200, b'{"experiment_id": "7"}'
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.timeout = 0.02
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_doctor_fails_when_mlflow_accepts_anonymous_writes() -> None:
    import pytest

    from src.services.doctor import _Failed, check_mlflow_auth

    server = _FakeMlflow(auth=False)
    try:
        settings = ServiceSettings.from_env(
            {"MLFLOW_TRACKING_URI": server.url, "MLFLOW_AUTH_ADMIN_PASSWORD": "p" * 16}
        )
        with pytest.raises(_Failed) as failed:
            check_mlflow_auth(settings)
        assert "accepts anonymous writes" in failed.value.detail
        assert "--app-name basic-auth" in failed.value.hint
        # The experiment the probe made is deleted again, with the stack's account.
        assert any(
            path.endswith("experiments/delete") and auth for _, path, auth in server.requests
        )
    finally:
        server.close()


def test_doctor_passes_when_mlflow_refuses_strangers_and_accepts_the_account() -> None:
    from src.services.doctor import check_mlflow_auth

    server = _FakeMlflow(auth=True)
    try:
        settings = ServiceSettings.from_env(
            {"MLFLOW_TRACKING_URI": server.url, "MLFLOW_AUTH_ADMIN_PASSWORD": "p" * 16}
        )
        assert check_mlflow_auth(settings) == "anonymous write refused (401), user 'admin' accepted"
        _, _, sent = server.requests[-1]
        assert sent is not None and sent.startswith("Basic ")
    finally:
        server.close()
