"""The plugin SDK: its API surface, documentation coverage of every hook and directive,
check_plugin(), the factories and the ``kyklos-sdk`` command."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
from cli_support import SAMPLES

import kyklos_sdk
from kyklos import hookspecs
from kyklos_sdk.testing import PluginCheckError, check_plugin

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "plugin-authors"


def _test_sources() -> str:
    """All test code, and the sample plugins tests load. (This module names hooks and
    directives only where it really exercises them.)"""
    files = [*ROOT.glob("tests/**/*.py"), *ROOT.glob("plugins/*/tests/**/*.py")]
    files += [*ROOT.glob("plugin_sdk/tests/**/*.py"), *ROOT.glob("themes/*/tests/**/*.py")]
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def hookspec_names() -> list[str]:
    return sorted(
        name
        for name, fn in vars(hookspecs).items()
        if name.startswith("kyklos_") and hasattr(fn, "kyklos_spec")
    )


def directive_names() -> dict[str, object]:
    """Every directive the core adds to the Configurator, found by building one."""
    from kyklos.app import make_configurator

    config = make_configurator(
        {"sqlalchemy.url": "sqlite://", "kyklos.secret": "x"}, check_migrations=False
    )
    out = {}
    for name, (fn, _wrap) in config.registry._directives.items():
        module = getattr(fn, "__module__", "") or ""
        if module == "kyklos" or module.startswith("kyklos."):
            out[name] = fn
    config.registry["dbengine"].dispose()
    return out


def _sections(doc: Path) -> set[str]:
    """Names in Markdown headings: "## `kyklos_x`" or "## config.add_x(...)"."""
    names = set()
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", line))
    return names


# --- documentation coverage ---------------------------------------------------------------


def test_there_are_hookspecs_and_directives_to_check():
    assert len(hookspec_names()) >= 10
    assert {"add_entity_type", "add_role", "add_hooks"} <= set(directive_names())


@pytest.mark.parametrize("name", hookspec_names())
def test_every_hook_is_documented_and_tested(name):
    fn = getattr(hookspecs, name)
    assert (fn.__doc__ or "").strip(), f"hookspec {name} has no docstring"
    assert name in _sections(DOCS / "hooks.md"), f"{name} has no section in hooks.md"
    assert re.search(rf"\b{name}\b", _test_sources()), f"no test mentions the hook {name}"


@pytest.mark.parametrize("name", sorted(directive_names()))
def test_every_directive_is_documented_and_tested(name):
    fn = directive_names()[name]
    assert (inspect.getdoc(fn) or "").strip(), f"directive {name} has no docstring"
    assert name in _sections(DOCS / "directives.md"), f"config.{name} is not in directives.md"
    assert re.search(rf"\.{name}\(", _test_sources()), f"no test calls config.{name}(...)"


def test_sdk_all_is_accurate():
    public = {
        n
        for n, v in vars(kyklos_sdk).items()
        if not n.startswith("_") and not isinstance(v, types.ModuleType)
    }
    # a module is public only when listed on purpose (kyklos_sdk.openapi)
    modules = {n for n in kyklos_sdk.__all__
               if isinstance(getattr(kyklos_sdk, n, None), types.ModuleType)}
    assert all(getattr(kyklos_sdk, n).__name__.startswith("kyklos.") for n in modules)
    assert set(kyklos_sdk.__all__) - modules == public
    assert len(kyklos_sdk.__all__) == len(set(kyklos_sdk.__all__))


def test_every_sdk_name_is_documented():
    docs = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.glob("*.md"))
    missing = [n for n in kyklos_sdk.__all__ if f"`{n}" not in docs]
    assert not missing, f"not in docs/plugin-authors/: {missing}"


def test_testing_fixtures_are_documented():
    from kyklos_sdk import testing

    doc = (DOCS / "testing.md").read_text(encoding="utf-8")
    fixtures = [
        n
        for n, v in vars(testing).items()
        if not n.startswith("_") and hasattr(v, "_fixture_function_marker")
    ]
    fixtures += ["check_plugin", "build_app", "run_cli", "write_ini"]
    missing = [n for n in fixtures if f"`{n}" not in doc]
    assert not missing, f"not in testing.md: {missing}"


def test_entity_type_parameters_are_documented():
    from kyklos.entities import add_entity_type

    doc = (DOCS / "entities.md").read_text(encoding="utf-8")
    params = list(inspect.signature(add_entity_type).parameters)[1:]
    missing = [p for p in params if f"`{p}`" not in doc]
    assert not missing, f"add_entity_type parameters not in entities.md: {missing}"


# --- the SDK's helpers ----------------------------------------------------------------


def test_entity_permissions_match_what_add_entity_type_declares(registry):
    perms = kyklos_sdk.entity_permissions("samplea", "thing")
    et = registry.kyklos_entities["thing"]
    assert perms == et.permissions
    assert set(perms.values()) <= set(registry.kyklos_permissions)
    assert kyklos_sdk.permission_name("fleet", "vehicle", "read") == "fleet.vehicle.read"


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


def test_make_record_fills_required_fields(make_record, api):
    rid = make_record("thing", colour="red")
    got = api("thingsreader").get(f"/api/v1/things/{rid}").json
    assert got["colour"] == "red"
    assert got["name"]  # required, so the factory filled it in


def _configure(plugin_includeme):
    """A configurator with the core and one in-line "plugin" include."""
    from kyklos.app import make_configurator

    config = make_configurator(
        {"sqlalchemy.url": "sqlite://", "kyklos.secret": "x"}, check_migrations=False
    )
    config.include(plugin_includeme)
    config.commit()
    return config


def test_declared_permissions_are_registered_and_introspectable():
    def includeme(config):
        config.declare_permission("fleet.report.view", "View fleet reports", "Monthly PDFs")

    config = _configure(includeme)
    perm = config.registry.kyklos_permissions["fleet.report.view"]
    assert (perm.title, perm.description) == ("View fleet reports", "Monthly PDFs")
    intr = config.registry.introspector.get("kyklos permissions", "fleet.report.view")
    assert intr["permission"] is perm
    config.registry["dbengine"].dispose()


def test_declaring_a_permission_twice_is_a_conflict():
    from pyramid.exceptions import ConfigurationConflictError

    def includeme(config):
        config.declare_permission("fleet.report.view")
        config.declare_permission("fleet.report.view")

    with pytest.raises(ConfigurationConflictError):
        _configure(includeme)


def test_extend_role_adds_permissions_to_a_role_declared_elsewhere():
    def includeme(config):
        config.declare_permission("fleet.vehicle.read")
        config.extend_role("user", ["fleet.vehicle.read"])

    config = _configure(includeme)
    assert "fleet.vehicle.read" in config.registry.kyklos_roles["user"].permissions
    config.registry["dbengine"].dispose()


# --- check_plugin ---------------------------------------------------------------------


def test_check_plugin_passes_a_healthy_plugin():
    assert check_plugin("samplea") == []
    assert check_plugin("sampleb") == []  # loaded with what it depends on


@pytest.mark.parametrize(
    ("pid", "problem"),
    [
        ("nope", "no installed distribution has the entry point 'nope'"),
        ("broken", "entry point: ImportError"),
        ("future", "needs kyklos >=99.0"),
        ("misspelt", "unknown hook"),
    ],
)
def test_check_plugin_reports_problems(pid, problem):
    problems = check_plugin(pid, raises=False)
    assert any(problem in p for p in problems), problems
    with pytest.raises(PluginCheckError) as err:
        check_plugin(pid)
    assert problem in str(err.value)


FAULTY = {
    "kyklos_faulty/__init__.py": '''
        """A plugin with one of each mistake check_plugin finds."""
        from sqlalchemy import String
        from sqlalchemy.orm import Mapped, mapped_column

        from kyklos_sdk import Base, EntityMixin, Plugin

        plugin = Plugin(id="faulty", title="Faulty", requires_core=">=0.1")


        class Gadget(EntityMixin, Base):
            __tablename__ = "faulty_gadget"
            name: Mapped[str] = mapped_column(String(50), nullable=False)


        class Leftover(Base):
            __tablename__ = "faulty_nomigration"
            id: Mapped[int] = mapped_column(primary_key=True)


        def view(request):
            return {}


        def includeme(config):
            config.add_entity_type(Gadget, "gadget")
            config.add_role("faultyuser", "Faulty user", ["faulty.ghost.read"])
            config.add_route("faulty.page", "/faulty")
            config.add_view(view, route_name="faulty.page",
                            renderer="kyklos_faulty:templates/missing.pt",
                            permission="faulty.page.view")
    ''',
    "kyklos_faulty/templates/bad.pt": "<div tal:condition='1' tal:nonsense='x'>${</div>",
    "kyklos_faulty/migrations/faulty_0001_gadget.py": '''
        """gadget

        Revision ID: faulty_0001
        """
        import sqlalchemy as sa
        from alembic import op

        revision = "faulty_0001"
        down_revision = None
        branch_labels = ("faulty",)
        depends_on = None


        def upgrade():
            op.create_table(
                "faulty_gadget",
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("name", sa.String(50), nullable=False),
            )


        def downgrade():
            pass  # forgets to drop the table
    ''',
    "kyklos_faulty-0.1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: kyklos-faulty\n"
    "Version: 0.1.0\n",
    "kyklos_faulty-0.1.0.dist-info/entry_points.txt": "[kyklos.plugins]\nfaulty = kyklos_faulty\n",
}


@pytest.fixture
def faulty_plugin(tmp_path, monkeypatch):
    from stevedore import ExtensionManager

    for rel, text in FAULTY.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    monkeypatch.syspath_prepend(str(tmp_path))
    # stevedore remembers a group's entry points per process: "install" for real.
    ExtensionManager.ENTRY_POINT_CACHE.clear()
    yield "faulty"
    ExtensionManager.ENTRY_POINT_CACHE.clear()
    for mod in [m for m in sys.modules if m.startswith("kyklos_faulty")]:
        del sys.modules[mod]
    from kyklos.db import Base

    for table in ("faulty_gadget", "faulty_nomigration"):
        if table in Base.metadata.tables:
            Base.metadata.remove(Base.metadata.tables[table])


def test_check_plugin_finds_every_problem_at_once(faulty_plugin):
    problems = check_plugin(faulty_plugin, raises=False)
    text = "\n".join(problems)
    assert "upgrade to head does not create table 'faulty_nomigration'" in text
    assert "downgrade to base leaves table 'faulty_gadget'" in text
    assert "templates/bad.pt does not compile" in text
    assert "'kyklos_faulty:templates/missing.pt', which does not exist" in text
    assert "role 'faultyuser' uses 'faulty.ghost.read', which nobody declares" in text
    assert "uses 'faulty.page.view', which nobody declares" in text
    assert len(problems) == 6, problems


# --- the command line -------------------------------------------------------------------


def sdk(*args, cwd=None):
    path = os.pathsep.join([str(SAMPLES), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    return subprocess.run(
        [sys.executable, "-m", "kyklos_sdk.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_cli_check():
    ok = sdk("check", "samplea")
    assert ok.returncode == 0, ok.stderr
    assert "plugin 'samplea': OK" in ok.stdout
    bad = sdk("check", "misspelt")
    assert bad.returncode == 1
    assert "unknown hook" in bad.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new-plugin", "Bad_Id"], "is not a valid plugin id"),
        (["new-plugin", "x"], "is not a valid plugin id"),
        (["new-plugin", "fleet", "--title", 'Say "hi"'], "must not be empty nor contain"),
        (["new-plugin", "fleet", "--entity", "Car"], "is not a valid entity name"),
    ],
)
def test_new_plugin_refuses_bad_input(tmp_path, args, message):
    proc = sdk(*args, "-d", str(tmp_path))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_new_plugin_never_overwrites(tmp_path):
    assert sdk("new-plugin", "fleet", "-d", str(tmp_path)).returncode == 0
    again = sdk("new-plugin", "fleet", "-d", str(tmp_path))
    assert again.returncode == 2
    assert "already exists" in again.stderr
