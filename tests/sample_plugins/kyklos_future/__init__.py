from kyklos_sdk import Plugin

plugin = Plugin(id="future", title="From the future", requires_core=">=99.0")


def includeme(config):
    pass
