"""Depends on samplea; contributes through the UI, security and dashboard hooks."""

from kyklos_sdk import MenuItem, Plugin, Widget, hookimpl

plugin = Plugin(id="sampleb", title="Sample B", depends=("samplea",))


class Hooks:
    @hookimpl
    def kyklos_menu_items(self, request):
        return [MenuItem(title="Sample B page", url="/sampleb", order=500)]

    @hookimpl
    def kyklos_principals(self, request, user):
        # Users whose e-mail starts with "oncall" read things while on call.
        if user.email.startswith("oncall"):
            return ["role:thingsreader", "sampleb:oncall"]
        return None

    @hookimpl
    def kyklos_admin_items(self, request):
        return [MenuItem(title="Sample B settings", url="/sampleb/settings",
                         permission="kyklos.admin")]

    @hookimpl
    def kyklos_dashboard_widgets(self, request):
        return [Widget(id="sampleb-tile", title="Sample B tile",
                       html="<p class='sampleb-tile'>42 open things</p>")]


def includeme(config):
    config.add_hooks(Hooks(), name="kyklos_sampleb.hooks")
    # Readers may see things but never their size.
    config.add_field_permission("thing", "thingsreader", "size", "none")
