"""The ZenML client with the repo as source root, and the REST login to a ZenML server."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from src.errors import ServiceError
from src.runtime_env import PROJECT_ROOT


def prepare_zenml() -> None:
    """Make the repo ZenML's source root, so ``src.*`` steps load whatever the working dir."""
    from zenml.utils import source_utils

    source_utils.set_custom_source_root(str(PROJECT_ROOT))


def zenml_client() -> Any:
    """Return ZenML's client on the configured store; ServiceError if it cannot be reached."""
    prepare_zenml()
    from zenml.client import Client

    try:
        return Client()
    except Exception as exc:  # an unreachable ZenML server surfaces here, in many types
        raise ServiceError(f"ZenML store unavailable ({exc}); check `zenml status`") from None


def server_error(url: str, username: str, exc: BaseException) -> ServiceError:
    """Return a one-line ServiceError naming the ZenML server and what to check."""
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    if any(
        word in f"{type(exc).__name__} {text}".lower()
        for word in ("credential", "authentic", "401", "password")
    ):
        return ServiceError(
            f"ZenML server {url} refused the login of ZENML_ADMIN_USERNAME="
            f"{username!r} ({text}); check ZENML_ADMIN_PASSWORD (the server's "
            "admin password is fixed when its database is first created)"
        )
    return ServiceError(
        f"ZenML server {url}: {text}; is it running (make stack-status / "
        "make stack-up-local) and is ZENML_STORE_URL right?"
    )


def rest_login(url: str, username: str, password: str, *, timeout: float = 15.0) -> str:
    """Return an API token for ``username`` on the server at ``url``; ServiceError if refused.

    Plain HTTP, no ``import zenml`` (seconds): the doctor checks a server with it, and
    the bootstrap proves the password before ZenML's client stores it.
    """
    form = urllib.parse.urlencode({"username": username, "password": password}).encode()
    try:
        with urllib.request.urlopen(f"{url}/api/v1/login", data=form, timeout=timeout) as answer:
            body = answer.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:120].decode(errors="replace")
        raise server_error(
            url, username, RuntimeError(f"HTTP {exc.code} authentication refused: {detail}")
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise server_error(url, username, RuntimeError(f"unreachable ({exc})")) from None
    try:
        return str(json.loads(body)["access_token"])
    except (ValueError, KeyError, TypeError):
        raise server_error(
            url, username, RuntimeError("answered the login without a token")
        ) from None
