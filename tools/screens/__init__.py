"""Pictures of the running tools: headless Chromium, a local ZenML server, image checks.

``tools/screenshots.py`` (``make screenshots``), ``tools/demo_video.py`` (``make demo-video``)
and the dashboard test share this package, so each picture is taken one way.
"""
