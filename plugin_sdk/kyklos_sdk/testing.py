"""pytest plugin (``pytest11`` entry point) with fixtures for Kyklos plugin authors."""
