from kyklos_sdk import Plugin, hookimpl

plugin = Plugin(id="misspelt", title="Misspelt hook")


class Hooks:
    @hookimpl
    def kyklos_menu_itemz(self, request):
        return []


def includeme(config):
    config.add_hooks(Hooks(), name="kyklos_misspelt.hooks")
