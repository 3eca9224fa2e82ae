from kyklos_sdk import Plugin

plugin = Plugin(id="cycley", title="Cycle Y", depends=("cyclex",))


def includeme(config):
    pass
