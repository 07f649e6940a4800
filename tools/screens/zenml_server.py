"""ZenML's local server (``zenml login --local``, the ``make zenml-up`` path) in a state of its own.

The server runs with ``NO_AUTH``: the dashboard needs no login, but its first page is an
onboarding survey until the default user has answered it. :func:`skip_onboarding` answers
it through the same REST calls the survey's form makes (name, no e-mail updates, survey
done), so a browser lands on the dashboard itself.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.screens.browser import BrowserError, Session

#: The four steps of the YOLO training pipeline, in the order they run.
PIPELINE_STEPS = (
    "prepare_tiny_person_dataset",
    "train_yolo_tiny",
    "evaluate_yolo",
    "summarize_yolo_experiment",
)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def zenml_env(
    state: Path, repository: Path, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return an environment whose ZenML state is ``state`` and repository ``repository``."""
    env = {k: v for k, v in (base or os.environ).items() if not k.startswith("ZENML_")}
    env |= {
        "ZENML_CONFIG_PATH": str(state),
        "ZENML_REPOSITORY_PATH": str(repository),
        "ZENML_ANALYTICS_OPT_IN": "false",
        "ZENML_AUTO_OPEN_DASHBOARD": "false",
        "MLOPS_DOTENV": os.devnull,
    }
    return env


def _zenml_cli() -> str:
    return str(Path(sys.executable).with_name("zenml"))


def _request(
    url: str, *, method: str = "GET", body: dict[str, Any] | None = None, token: str | None = None
) -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@dataclass(frozen=True)
class LocalServer:
    """A running local ZenML server: its dashboard URL and the environment of its clients."""

    url: str
    env: dict[str, str]
    #: A bearer token for a server with accounts (:func:`api_token`); the local one has none.
    token: str | None = None

    def api(self, path: str, *, method: str = "GET", body: dict[str, Any] | None = None) -> Any:
        """Return the JSON answer of the server's REST API at ``/api/v1/<path>``."""
        return _request(f"{self.url}/api/v1/{path}", method=method, body=body, token=self.token)


def api_token(url: str, username: str, password: str) -> str:
    """Return an access token of a ZenML server for an account (its OAuth2 password login)."""
    form = urllib.parse.urlencode({"username": username, "password": password}).encode()
    request = urllib.request.Request(f"{url}/api/v1/login", data=form, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.loads(response.read())["access_token"])


@contextmanager
def local_server(env: Mapping[str, str], *, port: int | None = None) -> Iterator[LocalServer]:
    """Yield ZenML's local server on 127.0.0.1, started and stopped with the zenml CLI.

    ``env`` must carry its own ``ZENML_CONFIG_PATH``: ``zenml login --local`` points that
    state's client at the server, so pipelines run with ``env`` are stored there.
    """
    if "ZENML_CONFIG_PATH" not in env:
        raise ValueError("env: ZENML_CONFIG_PATH missing (the server would share your state)")
    port = port or free_port()
    environment = dict(env)
    command = [_zenml_cli(), "login", "--local", "--port", str(port), "--ip-address", "127.0.0.1"]
    try:
        started = subprocess.run(
            command, env=environment, capture_output=True, text=True, timeout=180
        )
        if started.returncode != 0:
            tail = (started.stderr.strip() or started.stdout.strip()).splitlines()[-3:]
            raise BrowserError(f"zenml login --local failed: {' | '.join(tail)}")
        server = LocalServer(f"http://127.0.0.1:{port}", environment)
        deadline = time.monotonic() + 60
        while True:
            try:
                server.api("info")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise BrowserError(f"{server.url}: the ZenML server did not answer") from None
                time.sleep(0.5)
        yield server
    finally:
        subprocess.run(
            [_zenml_cli(), "logout", "--local"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )


def skip_onboarding(server: LocalServer, full_name: str = "MLOps Reference") -> None:
    """Answer the dashboard's onboarding survey for the server's user, as its form would."""
    user = server.api("current-user")
    user_id = user["id"]
    metadata = dict(user.get("metadata", {}).get("user_metadata") or {})
    metadata["finished_onboarding_survey"] = True
    server.api(
        f"users/{user_id}",
        method="PUT",
        body={"full_name": full_name, "user_metadata": metadata},
    )
    # The e-mail prompt has its own endpoint; with analytics off nothing leaves the server.
    server.api(f"users/{user_id}/email-opt-in", method="PUT", body={"email_opted_in": False})


def run_page_url(server: LocalServer, run_id: str) -> str:
    """Return the dashboard page of one pipeline run (its DAG)."""
    return f"{server.url}/projects/default/runs/{run_id}"


def log_in(session: Session, url: str, username: str, password: str) -> None:
    """Log the browser in to a ZenML server's dashboard through its login form.

    A deployed server (the stack's) has accounts, so its dashboard opens on a login page;
    the local server (``zenml login --local``) has none. Both ask a new user the onboarding
    survey first: answer it with :func:`skip_onboarding`.
    """
    session.open(f"{url}/login", wait_for="Log in to your account", settle_ms=500)
    session.page.fill("input[name=username]", username)
    session.page.fill("input[name=password]", password)
    session.page.click("button[type=submit]")
    session.page.wait_for_url(lambda address: "/login" not in address, timeout=60_000)


def show_pipeline_run(
    session: Session, server: LocalServer, run_id: str, shot: Path
) -> tuple[str, list[str]]:
    """Open a run's DAG in the dashboard, screenshot it; return the page text and steps seen."""
    session.open(run_page_url(server, run_id), wait_for=PIPELINE_STEPS[-1], settle_ms=2500)
    if "/survey" in session.page.url or "/login" in session.page.url:
        raise BrowserError(f"{session.page.url}: the dashboard did not let the browser in")
    text = session.page.inner_text("body")
    session.shoot(shot)
    return text, [step for step in PIPELINE_STEPS if step in text]
