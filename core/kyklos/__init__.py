"""Kyklos CRM core: entity registry, custom fields, security, workflow and plugin loading.

The WSGI entry point is :func:`main` (``use = egg:kyklos`` in an .ini file).
"""

__version__ = "0.1.0"


def main(global_config, **settings):
    """Build the WSGI application from .ini settings (PasteDeploy app factory)."""
    from kyklos.app import make_configurator

    config = make_configurator(settings, global_config=global_config)
    return config.make_wsgi_app()
