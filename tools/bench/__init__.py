"""The tooling benchmark: ``python -m tools.bench`` measures B1-B7 into reports/bench.md."""
