"""The Iris half's building blocks, shared by the DVC stages below which they sit.

``dataset`` reads the checked CSVs, ``model_io`` saves and verifies the model file,
``metrics`` scores a classifier. The stages (``src.data.prepare``,
``src.training.train``, ``src.evaluation.evaluate``, ``src.deploy.export``) import
these modules and never each other.
"""
