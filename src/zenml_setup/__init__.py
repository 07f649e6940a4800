"""ZenML client set-up: source root, login, components and the stacks pipelines run on.

* :mod:`.client` opens ZenML's client with the repo as source root, and logs in to a
  server over its REST API (the one login the bootstrap and the doctor share).
* :mod:`.components` creates or updates a stack component or a stack, idempotently.
* :mod:`.local_stack` the embedded default: ZenML's local orchestrator and artifact
  store with an MLflow tracker on the project's store; the stack every runner selects.
* :mod:`.server_stack` the S3 + MLflow-server stack ``make stack-register`` registers.

``python -m src.zenml_setup {init,local,show}``; the servers themselves are
:mod:`src.services`.
"""
