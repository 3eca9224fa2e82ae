"""``use = egg:kyklos#waitress``: waitress with a port that ``pserve INI http_port=N``
can change.

PasteDeploy gives values from an .ini's [DEFAULT] section precedence over variables
passed on the pserve command line, so the port cannot default there; it defaults here.
"""

import gc

import waitress


def freeze_startup_objects() -> None:
    """Everything built before serving (registry, models, templates, catalogs) lives
    as long as the process: frozen, it is left out of the garbage collector's full
    collections, which otherwise walk it every few hundred requests (~130 ms each: the
    slowest requests under load; ~5 ms frozen)."""
    gc.collect()
    gc.freeze()


def serve(wsgi_app, global_conf, **settings):
    port = settings.pop("port", "6543")
    port = global_conf.get("http_port") or port
    host = settings.pop("host", "127.0.0.1")
    settings.setdefault("listen", f"{host}:{port}")
    freeze_startup_objects()
    waitress.serve(wsgi_app, **settings)
