"""Core tests. Fixtures come from the SDK's pytest plugin (kyklos_sdk.testing)."""

import sys
from pathlib import Path

HERE = Path(__file__).parent
SAMPLES = HERE / "sample_plugins"
# The sample plugins are real packages with dist-info metadata: on sys.path they are
# "installed" for entry-point discovery, exactly like pip-installed plugins.
if str(SAMPLES) not in sys.path:
    sys.path.insert(0, str(SAMPLES))

