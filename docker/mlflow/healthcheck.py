"""Exit 0 if the MLflow server in this container answers /health (compose healthcheck)."""

import sys
import urllib.request

try:
    with urllib.request.urlopen("http://localhost:5000/health", timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError:
    sys.exit(1)
