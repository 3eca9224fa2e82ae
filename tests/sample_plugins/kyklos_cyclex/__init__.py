from kyklos_sdk import Plugin

plugin = Plugin(id="cyclex", title="Cycle X", depends=("cycley",))


def includeme(config):
    pass
