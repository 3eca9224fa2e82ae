from kyklos_sdk import MenuItem, Plugin, hookimpl

plugin = Plugin(id="sampleb", title="Sample B", depends=("samplea",))


class Hooks:
    @hookimpl
    def kyklos_menu_items(self, request):
        return [MenuItem(title="Sample B page", url="/sampleb", order=500)]


def includeme(config):
    config.add_hooks(Hooks(), name="kyklos_sampleb.hooks")
