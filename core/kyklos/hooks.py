"""The pluggy plugin manager: one per application, kept on the Pyramid registry."""

from __future__ import annotations

import logging
import os

import pluggy

from kyklos import hookspecs

log = logging.getLogger("kyklos.hooks")


def make_plugin_manager(trace: bool | None = None) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("kyklos")
    pm.add_hookspecs(hookspecs)
    if trace is None:
        trace = os.environ.get("KYKLOS_TRACE_HOOKS", "") not in ("", "0")
    if trace:
        # Log every hook call with its arguments and what each implementation returned:
        # the first thing to look at when "my hook is not called".
        def before(hook_name, hook_impls, kwargs):
            log.info("hook %s -> %s", hook_name, [i.plugin_name for i in hook_impls])

        def after(outcome, hook_name, hook_impls, kwargs):
            log.info(
                "hook %s returned %r",
                hook_name,
                outcome.get_result() if not outcome.exception else outcome.exception,
            )

        pm.add_hookcall_monitoring(before, after)
    return pm


def add_hooks(config, obj, name: str | None = None):
    """Directive ``config.add_hooks(module_or_object)``: register hook implementations.

    Registering the same name twice is a configuration conflict, like any directive.
    """
    pm = config.registry.kyklos_pm
    name = name or getattr(obj, "__name__", None) or repr(obj)

    def register():
        pm.register(obj, name=name)

    intr = config.introspectable("kyklos hooks", name, name, "kyklos hooks")
    intr["hooks"] = (
        sorted(h.name for h in pm.get_hookcallers(obj) or []) if pm.is_registered(obj) else []
    )
    intr["object"] = obj
    # order=-1: register before other actions run so directives may call hooks
    config.action(("kyklos.hooks", name), register, introspectables=(intr,), order=-1)


def collect(pm, hook_name: str, **kwargs) -> list:
    """Call a hook that returns lists and flatten the results (``None`` results skipped)."""
    results = getattr(pm.hook, hook_name)(**kwargs)
    out: list = []
    for r in results:
        if r:
            out.extend(r)
    return out


def includeme(config):
    config.add_directive("add_hooks", add_hooks)
