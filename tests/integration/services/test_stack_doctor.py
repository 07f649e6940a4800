"""``make doctor`` on the running stack, then with its S3 server stopped."""

from __future__ import annotations

from tests.integration.services.conftest import Stack

CHECKS = (
    "venv",
    "versions",
    "credentials",
    "S3 reachable",
    "S3 buckets",
    "MLflow server",
    "MLflow auth",
    "MLflow artifacts",
    "ZenML server",
    "ZenML stack",
    "DVC remote",
)


def _doctor(stack: Stack) -> tuple[int, list[str], str]:
    result = stack.run(
        "make", "-s", "doctor", f"DOCTOR_ARGS=--dvc-repo {stack.dvc_repo}", check=False, timeout=180
    )
    lines = [line for line in result.stdout.splitlines() if line[:1] in "✓✗–"]
    return result.returncode, lines, result.stdout


def test_doctor_passes_on_a_healthy_stack(stack: Stack) -> None:
    code, lines, output = _doctor(stack)
    assert code == 0, output
    assert [line[2:20].strip() for line in lines] == list(CHECKS)
    assert all(line.startswith("✓") for line in lines), output
    assert output.rstrip().endswith("All checks passed.")


def test_doctor_fails_with_a_clear_line_once_s3_is_stopped(stack: Stack) -> None:
    stack.stack_cli("down", "s3")
    try:
        code, lines, output = _doctor(stack)
        assert code != 0, output
        s3 = next(line for line in lines if "S3 reachable" in line)
        assert s3.startswith("✗") and "unreachable" in s3
        assert "hint: make stack-up-local" in s3
        # The checks that need S3 say so instead of waiting on retries.
        buckets = next(line for line in lines if "S3 buckets" in line)
        assert "not attempted: S3 reachable failed" in buckets
        # What does not depend on S3 is still reported healthy.
        assert next(line for line in lines if "MLflow server" in line).startswith("✓")
        assert next(line for line in lines if "ZenML stack" in line).startswith("✓")
    finally:
        stack.ensure_up()
    code, _, output = _doctor(stack)
    assert code == 0, output
