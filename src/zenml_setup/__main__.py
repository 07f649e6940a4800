"""``python -m src.zenml_setup {init,local,show}``: set up or show the stack pipelines run on."""

from __future__ import annotations

import argparse
import os

from src.cli import run_main


def main(argv: list[str] | None = None) -> int:
    """Run ``init``, ``local`` or ``show``; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m src.zenml_setup", description=__doc__)
    parser.add_argument(
        "command",
        choices=["init", "local", "show"],
        help="init: zenml init + MLflow stack; local: (re)register and activate the local "
        "stack; show: print the active stack",
    )
    args = parser.parse_args(argv)
    from src.zenml_setup.local_stack import (
        LOCAL_STACK_NAME,
        active_stack_info,
        init_repository,
        register_local_stack,
    )

    if args.command == "init":
        info = init_repository()
    elif args.command == "local":
        info = register_local_stack(activate=True)
    else:
        found = active_stack_info()
        if found is None:
            print(
                f"active ZenML stack has no MLflow tracker; `make zenml-stack-local` "
                f"registers '{LOCAL_STACK_NAME}'"
            )
            return 1
        info = found
    print(info.line)
    print(f"ZenML state: {os.environ.get('ZENML_CONFIG_PATH')}")
    return 0


if __name__ == "__main__":
    run_main(main)
