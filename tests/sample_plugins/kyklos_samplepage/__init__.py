"""A sample plugin with one page rendered from its own template (for theme tests)."""

from pyramid.security import NO_PERMISSION_REQUIRED

from kyklos_sdk import Plugin

plugin = Plugin(id="samplepage", title="Sample page", requires_core=">=0.1", migrations=None)


def page(request):
    return {"title": "Sample page"}


def includeme(config):
    config.add_route("samplepage.page", "/samplepage")
    config.add_view(
        page,
        route_name="samplepage.page",
        renderer="kyklos_samplepage:templates/page.pt",
        permission=NO_PERMISSION_REQUIRED,
    )
