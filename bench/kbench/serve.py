"""Serve the Kyklos app or a bare Pyramid hello-world on waitress, on loopback.

    python -m kbench.serve kyklos|hello PORT THREADS [DATABASE_URL]

Run as a subprocess by scenario 6, so both apps get the same server settings and the
load generator does not share the server's interpreter lock.
"""

from __future__ import annotations

import sys


def hello_app():
    from pyramid.config import Configurator
    from pyramid.response import Response

    def hello(request):
        return Response(b"Hello, world", content_type="text/plain")

    with Configurator() as config:
        config.add_route("hello", "/")
        config.add_view(hello, route_name="hello")
        return config.make_wsgi_app()


def kyklos_app(url: str):
    from kyklos.app import make_configurator

    from .env import settings_for

    return make_configurator(settings_for(url), check_migrations=False).make_wsgi_app()


def main(argv):
    import logging

    import waitress

    kind, port, threads = argv[0], int(argv[1]), int(argv[2])
    app = hello_app() if kind == "hello" else kyklos_app(argv[3])
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    from kyklos.server import freeze_startup_objects

    freeze_startup_objects()  # as pserve with egg:kyklos#waitress does
    waitress.serve(app, host="127.0.0.1", port=port, threads=threads, ident="bench",
                   connection_limit=200, channel_timeout=30, _quiet=True)


if __name__ == "__main__":
    main(sys.argv[1:])
