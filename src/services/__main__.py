"""Command line of the server stack: ``python -m src.services COMMAND``.

    up        start S3 (moto), the MLflow server and the ZenML server on loopback
    down      stop exactly the processes ``up`` started
    status    one line per service of the no-Docker stack
    register  log the ZenML client in and register the S3 + MLflow stack; DVC remote
    doctor    check every piece, one line each with a hint; non-zero exit on a failure
    secrets   give every unset or change-me secret of .env a random value (0600)
    check     refuse placeholder or short secrets (``--compose``: also the compose-only ones)

Every command reads the stack's configuration from the environment and ``.env``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from src.cli import run_main
from src.runtime_env import PROJECT_ROOT
from src.services.settings import ServiceSettings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m src.services", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the no-Docker stack on loopback")
    up.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for health")
    down = commands.add_parser("down", help="stop the no-Docker stack")
    down.add_argument(
        "services",
        nargs="*",
        choices=["s3", "mlflow", "zenml", []],
        help="only these services (default: all)",
    )
    commands.add_parser("status", help="show the no-Docker stack's processes")
    register = commands.add_parser("register", help="bootstrap ZenML and DVC (idempotent)")
    register.add_argument(
        "--dvc-repo",
        type=Path,
        default=PROJECT_ROOT,
        help="DVC repository to configure (default: this project)",
    )
    register.add_argument("--skip-zenml", action="store_true", help="only configure DVC")
    register.add_argument("--skip-dvc", action="store_true", help="only configure ZenML")
    doctor = commands.add_parser("doctor", help="check the configured stack")
    doctor.add_argument(
        "--dvc-repo", type=Path, default=PROJECT_ROOT, help="DVC repository whose remote is checked"
    )
    commands.add_parser("secrets", help="write random values for unset/placeholder secrets")
    check = commands.add_parser("check", help="refuse placeholder or short secrets")
    check.add_argument("--compose", action="store_true", help="also the compose-only secrets")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "secrets":
        from src.services.secrets import dotenv_path, write_secrets

        dotenv = dotenv_path()
        written = write_secrets(dotenv, PROJECT_ROOT / ".env.example")
        listed = ", ".join(written) if written else "none (every secret is already set)"
        print(f"{dotenv}: random values written for {listed}; the file is 0600")
        return 0
    settings = ServiceSettings.from_env()
    if settings.remote_warning and args.command in ("up", "check"):
        print(settings.remote_warning, file=sys.stderr)
    if args.command in ("up", "register", "check"):
        from src.services.secrets import dotenv_path, restrict_to_owner

        if os.path.devnull != str(dotenv_path()):
            restrict_to_owner(dotenv_path())  # it holds the stack's keys
    if args.command == "check":
        from src.services.secrets import COMPOSE_ONLY, require_strong

        values = {
            **settings.credential_values(),
            **{n: os.environ.get(n, "") for n in COMPOSE_ONLY},
        }
        names = tuple(values) if args.compose else tuple(settings.credential_values())
        require_strong(values, names)
        print(f"secrets: {', '.join(names)} set, none a placeholder, 12+ characters")
        return 0
    if args.command == "up":
        from src.services.processes import start_services

        began = time.monotonic()
        print(f"Starting the no-Docker stack (run folder {settings.run_dir})")
        statuses = start_services(settings, timeout=args.timeout)
        for status in statuses:
            print(f"  {status.line}")
        print(f"Stack up in {time.monotonic() - began:.1f} s. Next: make stack-register")
        return 0
    if args.command == "down":
        from src.services.processes import SERVICE_NAMES, stop_services

        stopped = stop_services(settings, names=args.services or SERVICE_NAMES)
        print("Stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    if args.command == "status":
        from src.services.processes import service_status

        statuses = service_status(settings)
        for status in statuses:
            print(status.line)
        return 0 if all(status.healthy for status in statuses) else 1
    if args.command == "register":
        from src.services.bootstrap import bootstrap_clients

        changes = bootstrap_clients(
            settings, dvc_repo=args.dvc_repo, zenml=not args.skip_zenml, dvc=not args.skip_dvc
        )
        changed = [change for change in changes if change.changed]
        for change in changes:
            print(change.line)
        print(f"{len(changed)} change(s)." if changed else "Nothing to change: already registered.")
        return 0
    if args.command == "doctor":
        from src.services.doctor import run_doctor

        return run_doctor(settings, dvc_repo=args.dvc_repo)
    raise AssertionError(args.command)


if __name__ == "__main__":
    run_main(main)
