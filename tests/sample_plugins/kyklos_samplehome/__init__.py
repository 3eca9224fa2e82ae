"""A sample plugin contributing sections to the home page (``kyklos_home_sections``):
one from its own template, one rendered as HTML, one empty, one that fails."""

from markupsafe import Markup, escape

from kyklos_sdk import Action, HomeSection, Plugin, hookimpl

plugin = Plugin(id="samplehome", title="Sample home", requires_core=">=0.1", migrations=None)


class Hooks:
    @hookimpl
    def kyklos_home_sections(self, request):
        agenda = ["09:30 Call Anna Nowak", "11:00 Meeting at Karagiannis S.A."]
        return [
            HomeSection(
                id="sample-tasks",
                title="Overdue tasks",
                order=200,
                html=Markup("<ul class='sample-tasks'><li>{}</li></ul>").format(
                    escape("Send the offer <today>")
                ),
                count=1,
            ),
            HomeSection(
                id="sample-agenda",
                title="Today",
                order=100,
                template="kyklos_samplehome:templates/agenda.pt",
                values={"items": agenda},
                count=len(agenda),
                url=request.route_url("home"),
            ),
            HomeSection(
                id="sample-invitations",
                title="Invitations",
                order=400,
                count=0,
                template="kyklos_samplehome:templates/agenda.pt",
                values={"items": []},
                empty="No invitations wait for your answer.",
                actions=[Action("Open the calendar", request.route_url("home"))],
            ),
            HomeSection(
                id="sample-secret",
                title="Admins only",
                order=150,
                html="<p>x</p>",
                count=1,
                permission="kyklos.admin",
            ),
        ]


class Broken:
    @hookimpl
    def kyklos_home_sections(self, request):
        raise RuntimeError("a broken contributor must not take the home page down")


def includeme(config):
    config.add_hooks(Hooks(), name="samplehome.hooks")
    config.add_hooks(Broken(), name="samplehome.broken")
