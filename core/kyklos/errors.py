"""Exceptions that end start-up or a CLI command with one readable line."""


class KyklosError(Exception):
    """A problem an integrator can fix; printed as one line, never as a traceback."""


class PluginError(KyklosError):
    """The enabled plugin set cannot load (unknown id, missing dependency, cycle, ...)."""


class ConfigError(KyklosError):
    """A setting is missing or malformed."""


class MigrationError(KyklosError):
    """The database schema is not at the version the enabled code expects."""
