"""The user's drop-box address (:mod:`.dropbox`): a page with the address, a copy
button and "regenerate", and the same through the API (``GET /api/v1/mail/dropbox``,
``POST /api/v1/mail/dropbox/regenerate``). Each user sees and changes only their own."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther

from . import PERMISSIONS, _
from .dropbox import address_for, dropbox_mailbox, regenerate


def _state(request) -> dict:
    box = dropbox_mailbox(request.dbsession)
    return {
        "address": address_for(request, request.identity.user.id) if box is not None else None,
        "mailbox": box.name if box is not None else None,
    }


def dropbox_page(request):
    if request.method == "POST":
        if dropbox_mailbox(request.dbsession) is not None:
            regenerate(request.dbsession, request.identity.user.id)
            request.session.flash(
                _("You have a new drop-box address; the old one no longer files anything."),
                "success",
            )
        return HTTPSeeOther(request.route_path("mail.dropbox"))
    return {"title": _("Your drop-box address"), **_state(request)}


def api_dropbox(request):
    return _state(request)


def api_regenerate(request):
    if dropbox_mailbox(request.dbsession) is None:
        from kyklos_sdk import Problem

        raise Problem(409, _("No mailbox is the drop-box: ask a mail administrator to mark one."))
    regenerate(request.dbsession, request.identity.user.id)
    return _state(request)


def includeme(config):
    read = PERMISSIONS["mailmessage"]["read"]  # whoever works with e-mail
    config.add_route("mail.dropbox", "/mail/dropbox")
    config.add_route("mail.api.dropbox", "/api/v1/mail/dropbox", request_method="GET")
    config.add_route(
        "mail.api.dropbox_regenerate", "/api/v1/mail/dropbox/regenerate", request_method="POST"
    )
    config.add_view(
        dropbox_page,
        route_name="mail.dropbox",
        renderer="kyklos_mail:templates/dropbox.pt",
        permission=read,
        request_method=("GET", "POST"),
    )
    config.add_view(api_dropbox, route_name="mail.api.dropbox", permission=read, renderer="json")
    config.add_view(
        api_regenerate,
        route_name="mail.api.dropbox_regenerate",
        permission=read,
        renderer="json",
    )
