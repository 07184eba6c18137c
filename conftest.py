"""Root pytest configuration: every test directory gets the real-infrastructure fixtures."""

pytest_plugins = ["ruta_local.pytest_plugin"]
