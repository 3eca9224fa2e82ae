"""The ``kyklos`` command. Every subcommand takes the deployment's .ini file first.

Problems an integrator can fix (a missing file, a bad setting, an unknown plugin, an
unreachable database) end with one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import code
import configparser
import json
import os
import secrets
import sys
from contextlib import contextmanager
from pathlib import Path

import click
import transaction
from pyramid.exceptions import ConfigurationError
from pyramid.scripting import prepare
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError

from kyklos import __version__, migrate
from kyklos.db import immediate_writes, retry_locked
from kyklos.errors import ConfigError, KyklosError
from kyklos.settings import aslist, normalize


def load_settings(ini: str) -> dict:
    path = Path(ini)
    if not path.is_file():
        raise ConfigError(f"{ini}: no such configuration file")
    try:
        from pyramid.paster import get_appsettings, setup_logging

        settings = dict(get_appsettings(str(path), "main"))
        setup_logging(str(path))
    except (configparser.Error, LookupError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{ini}: cannot read the configuration: {first}") from exc
    return normalize(settings)


class Env:
    """The application's registry and a way to run code in a transaction."""

    def __init__(self, ini: str, check_migrations: bool = True):
        from kyklos.app import make_configurator

        self.ini = ini
        self.settings = load_settings(ini)
        self.config = make_configurator(self.settings, check_migrations=check_migrations)
        self.registry = self.config.registry

    @property
    def engine(self):
        return self.registry["dbengine"]

    @contextmanager
    def request(self):
        """A request whose ``dbsession`` commits when the block ends without error."""
        env = prepare(registry=self.registry)
        request = env["request"]
        request.tm = transaction.TransactionManager(explicit=True)
        try:
            with request.tm:
                yield request
        finally:
            env["closer"]()

    def branches(self):
        return migrate.branches_for(self.registry.kyklos_plugins)


def fail(message: str, code_: int = 1):
    click.echo(f"kyklos: error: {message}", err=True)
    sys.exit(code_)


class Group(click.Group):
    """Turn known failures into one line instead of a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KyklosError as exc:
            fail(str(exc))
        except ConfigurationError as exc:
            fail(f"configuration problem: {str(exc).strip().splitlines()[0]}")
        except OperationalError as exc:
            fail(f"cannot reach the database: {str(exc.orig).strip().splitlines()[0]}")
        except DBAPIError as exc:
            fail(f"database error: {str(exc.orig).strip().splitlines()[0]}")


ini_argument = click.argument("ini", type=click.Path(dir_okay=False))


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kyklos")
def main():
    """Kyklos CRM administration."""


# --- database ---------------------------------------------------------------------------


def _print_status(rows):
    for r in rows:
        state = "pending" if r["pending"] else "up to date"
        click.echo(
            f"{r['branch']:<16} {r['current'] or '-':<28} head {r['head'] or '-':<28} {state}"
        )


@main.command("migrate")
@ini_argument
@click.option("--status", "show", is_flag=True, help="Only show each branch's revision.")
@click.option("--branch", help="Downgrade or upgrade only this branch (core: 'kyklos').")
@click.option(
    "--to",
    "target",
    default="head",
    show_default=True,
    help="Target revision for --branch ('base' removes the plugin's tables).",
)
def migrate_cmd(ini, show, branch, target):
    """Upgrade the core and every enabled plugin's migration branch."""
    env = Env(ini, check_migrations=False)
    branches = env.branches()
    if show:
        _print_status(migrate.status(env.engine, branches))
        return
    if branch:
        chosen = [b for b in branches if b.id == branch]
        if not chosen:
            raise ConfigError(
                f"no migration branch '{branch}' among the enabled plugins "
                f"({', '.join(b.id for b in branches)})"
            )
        b = chosen[0]
        cur, hd = migrate.current(env.engine, b), migrate.head(b)
        if target in ("head", hd):
            migrate.upgrade(env.engine, [b], settings=env.settings)
        else:
            migrate.downgrade(env.engine, b, target, settings=env.settings)
        _print_status(migrate.status(env.engine, [b]))
        del cur
        return
    _print_status(migrate.upgrade(env.engine, branches, settings=env.settings))
    _sync(env)


def _sync(env):
    from kyklos.security import sync_roles
    from kyklos.security.totp import reencrypt_all

    with env.request() as request:
        sync_roles(request.dbsession, env.registry)
        # seeds stored plain by a version before kyklos_0011 are encrypted right away
        reencrypt_all(request.dbsession, env.registry)
    _sync_search(env)


def _sync_search(env):
    """Rebuild the search rows and duplicate keys of the types an upgrade changed (their
    searchable fields or duplicate rules), with a progress bar per type."""
    from kyklos.entities import upkeep

    def announce(et, n, changed):
        if changed:
            click.echo(f"search index: {et.name} changed in this version, indexing {n} record(s)")
        else:
            click.echo(f"search index: indexing {et.name}, {n} record(s)")

    with _index_progress() as progress, env.request() as request:
        counts = upkeep.sync_definitions(request, progress, announce)
    if counts:
        click.echo(
            f"search index rebuilt for {len(counts)} type(s): {sum(counts.values())} record(s)"
        )


@main.command("generate-key")
def generate_key_cmd():
    """Print a new key for kyklos.encryption_keys."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode("ascii"))


@main.command("rotate-keys")
@ini_argument
def rotate_keys_cmd(ini):
    """Re-encrypt every stored secret with the first of kyklos.encryption_keys."""
    env = Env(ini)
    from kyklos.security.totp import reencrypt_all

    with env.request() as request:
        changed = reencrypt_all(request.dbsession, env.registry)
    click.echo(f"{changed} secret(s) re-encrypted with the first key; older keys may go now.")


@main.command("init")
@ini_argument
@click.option("--admin-email", help="E-mail of the administrator to create.")
@click.option("--admin-password", help="Their password (prompted for when omitted).")
def init_cmd(ini, admin_email, admin_password):
    """Create or upgrade the database and the administrator. Safe to run twice."""
    env = Env(ini, check_migrations=False)
    settings = env.settings
    files = settings.get("kyklos.files_dir")
    if files:
        Path(files).mkdir(parents=True, exist_ok=True)
    _print_status(migrate.upgrade(env.engine, env.branches(), settings=settings))
    _sync(env)
    if admin_email:
        from kyklos.security import find_user

        with env.request() as request:
            if find_user(request.dbsession, admin_email) is not None:
                click.echo(f"administrator {admin_email} exists; left unchanged")
                return
        if not admin_password:
            admin_password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        _create_user(env, admin_email, admin_password, ("admin",), "Administrator")
        click.echo(f"administrator {admin_email} created")


def _create_user(env, email, password, roles, name=""):
    from kyklos.security import find_user
    from kyklos.security.models import Role, User
    from kyklos.security.passwords import hash_password, password_problems

    problems = password_problems(password, email=email)
    if problems:
        raise ConfigError(f"password refused: {', '.join(p.replace('_', ' ') for p in problems)}")
    with env.request() as request:
        db = request.dbsession
        if find_user(db, email) is not None:
            raise ConfigError(f"a user with e-mail {email} exists")
        found = {r.name: r for r in db.execute(select(Role).where(Role.name.in_(roles))).scalars()}
        missing = [r for r in roles if r not in found]
        if missing:
            raise ConfigError(f"unknown role(s): {', '.join(missing)}")
        user = User(
            email=email.strip().lower(),
            name=name or email.split("@")[0],
            password_hash=hash_password(password),
            roles=[found[r] for r in roles],
        )
        db.add(user)
        db.flush()
        return user.id


# --- plugins ----------------------------------------------------------------------------


@main.group("plugins")
def plugins_grp():
    """Installed and enabled plugins."""


@plugins_grp.command("list")
@ini_argument
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins_list(ini, as_json):
    """Installed plugins: enabled or not, version, depends, migration state."""
    from kyklos.db import make_engine
    from kyklos.plugins import discover

    settings = load_settings(ini)
    installed = discover()
    enabled = aslist(settings.get("kyklos.plugins"))
    engine = make_engine(settings)
    rows = []
    for pid in sorted(installed):
        p = installed[pid]
        state = None
        if p.manifest and p.migrations_path is not None:
            b = migrate.Branch(pid, p.migrations_path)
            try:
                cur, hd = migrate.current(engine, b), migrate.head(b)
                state = (
                    "up to date" if cur == hd else ("not installed" if cur is None else "pending")
                )
            except KyklosError as exc:
                state = f"unknown ({exc})"
        rows.append(
            {
                "id": pid,
                "enabled": pid in enabled,
                "version": p.version,
                "distribution": p.distribution,
                "depends": list(p.manifest.depends) if p.manifest else [],
                "migrations": state,
                "error": p.error,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        mark = "enabled " if r["enabled"] else "        "
        deps = ",".join(r["depends"]) or "-"
        extra = f"  ERROR: {r['error']}" if r["error"] else ""
        click.echo(
            f"{mark} {r['id']:<14} {r['version']:<10} depends={deps:<22} "
            f"migrations={r['migrations'] or '-'}{extra}"
        )


@plugins_grp.command("check")
@ini_argument
def plugins_check(ini):
    """Validate the enabled set without serving; exit non-zero on any problem."""
    env = Env(ini, check_migrations=True)
    names = ", ".join(p.id for p in env.registry.kyklos_plugins) or "none"
    click.echo(f"ok: plugins {names}; theme {env.registry.kyklos_theme_chain[-1].id}")


# --- people and tokens ------------------------------------------------------------------


@main.group("users")
def users_grp():
    """User accounts."""


@users_grp.command("create")
@ini_argument
@click.option("--email", required=True)
@click.option("--password", help="Prompted for when omitted.")
@click.option("--name", default="")
@click.option("--role", "roles", multiple=True, help="Role name; repeat for several.")
def users_create(ini, email, password, name, roles):
    """Create a user."""
    env = Env(ini)
    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    uid = _create_user(env, email, password, roles or ("user",), name)
    click.echo(f"user {email} created (id {uid})")


@main.group("tokens")
def tokens_grp():
    """API tokens."""


@tokens_grp.command("create")
@ini_argument
@click.option("--user", "email", required=True, help="E-mail of the token's owner.")
@click.option("--name", default="cli")
@click.option("--scope", "scopes", multiple=True, help="Limit to a permission; repeatable.")
@click.option("--days", default=365, show_default=True, help="Days until it expires.")
def tokens_create(ini, email, name, scopes, days):
    """Create an API token; prints it once, as the last line."""
    from kyklos.security import find_user
    from kyklos.security.tokens import create_token

    env = Env(ini)
    with env.request() as request:
        user = find_user(request.dbsession, email)
        if user is None:
            raise ConfigError(f"no user with e-mail {email}")
        token, row = create_token(request.dbsession, user, name=name, scopes=scopes, days=days)
        expires = row.expires_at.date().isoformat() if row.expires_at else "never"
    click.echo(f"token for {email}, expires {expires}; it is shown only now:", err=True)
    click.echo(token)


# --- data -------------------------------------------------------------------------------


@main.command("demo-data")
@ini_argument
@click.option("--size", default=100, show_default=True, help="Roughly how many people.")
@click.option("--seed", default=1, show_default=True, help="Random seed (same seed, same data).")
def demo_data(ini, size, seed):
    """Fill the database with realistic demo data from every enabled plugin."""
    from kyklos.demo import core_demo_data

    env = Env(ini)
    env.seed = seed
    core_demo_data(env, size)
    for p in env.registry.kyklos_plugins:
        if p.manifest.demo_data:
            click.echo(f"demo data: {p.id}")
            p.manifest.demo_data(env, size)
    # Demo loaders write in bulk, around the entity service: index what they left out,
    # as for any other write path.
    n = _catch_up(env)
    click.echo(f"demo data written ({n} records added to the search index and duplicate keys)")


def _catch_up(env) -> int:
    from kyklos.entities import upkeep

    n = 0
    with env.request() as request:
        for et in sorted(env.registry.kyklos_entities.values(), key=lambda t: t.name):
            ids = sorted(upkeep.missing_ids(request, et))
            upkeep.refresh(request, et, ids)
            n += len(ids)
    return n


@contextmanager
def _index_progress():
    """A ``progress(done, total, entity_type)`` for :func:`kyklos.entities.upkeep.rebuild`
    drawing a bar on stderr: a new bar each time a rebuild starts (``entity_type`` None),
    labelled with the type being indexed."""
    bar = None

    def progress(done, total, et):
        nonlocal bar
        if et is None:
            if bar is not None:
                bar.__exit__(None, None, None)
            bar = click.progressbar(length=max(total, 1), label="indexing", file=sys.stderr)
            bar.__enter__()
            return
        bar.update(done - bar.pos)
        bar.label = f"indexing {et.name}"

    try:
        yield progress
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


@main.command("search-index")
@ini_argument
@click.option("--entity", help="Only this entity type (e.g. person); default: every type.")
def search_index(ini, entity):
    """Rebuild the search index and the duplicate match keys from the records."""
    from kyklos.entities import upkeep

    env = Env(ini)
    types = env.registry.kyklos_entities
    if entity and entity not in types:
        fail(f"unknown entity type {entity!r}; one of: {', '.join(sorted(types))}")
    with _index_progress() as progress, env.request() as request:
        counts = upkeep.rebuild(request, types.get(entity) if entity else None, progress)
    for name, n in counts.items():
        if n:
            click.echo(f"{name}: {n} record(s)")
    click.echo(f"search index rebuilt: {sum(counts.values())} record(s) of {len(counts)} "
               "type(s)")


@main.command("shell")
@ini_argument
def shell(ini):
    """An interactive Python shell with ``registry``, ``request`` and ``db``."""
    env = Env(ini)
    with env.request() as request:
        ns = {"env": env, "registry": env.registry, "request": request, "db": request.dbsession}
        banner = f"Kyklos {__version__} shell: env, registry, request, db (commits on exit)"
        code.interact(banner=banner, local=ns)


@main.command("makemigration")
@ini_argument
@click.argument("branch")
@click.option("-m", "--message", required=True)
@click.option("--empty", is_flag=True, help="Do not autogenerate from the models.")
def makemigration(ini, branch, message, empty):
    """Write a new migration for BRANCH, autogenerated from its models (for plugin authors)."""
    env = Env(ini, check_migrations=False)
    chosen = [b for b in env.branches() if b.id == branch]
    if not chosen:
        raise ConfigError(f"no migration branch '{branch}'")
    migrate.revision(chosen[0], message, None if empty else env.engine)


@main.command("worker")
@ini_argument
@click.option("--burst", is_flag=True, help="Run the jobs that are due, then exit.")
@click.option("--workers", type=int, help="Threads or processes (default kyklos.jobs.workers).")
@click.option(
    "--type",
    "worker_type",
    type=click.Choice(["thread", "process"]),
    help="Run jobs in threads or processes (default kyklos.jobs.worker_type).",
)
def worker_cmd(ini, burst, workers, worker_type):
    """Run background jobs (in the foreground; stop with Ctrl-C or SIGTERM)."""
    from kyklos.jobs.worker import Worker

    env = Env(ini)
    worker = Worker(env.registry, workers=workers, worker_type=worker_type)
    if burst:
        ran = worker.burst()
        click.echo(f"ran {ran} job message(s)")
        return
    backend = env.settings.get("kyklos.jobs.backend")
    click.echo(f"kyklos worker: {backend} queue, {worker.workers} {worker.worker_type}(s)",
               err=True)
    worker.run()


# --- export / import (kyklos.exports, kyklos.imports) -------------------------------------


def _acting_user(env, email):
    """The user a data command runs as: ``email``, or the first administrator, so that
    record and field rules apply to command-line work as they do on the web."""
    from kyklos.security.models import Role, User, UserRole

    with env.request() as request:
        db = request.dbsession
        if email:
            uid = db.execute(select(User.id).where(User.email == email.lower())).scalar()
            if uid is None:
                fail(f"no user {email}")
            return uid
        uid = db.execute(
            select(UserRole.user_id)
            .join(Role, Role.id == UserRole.role_id)
            .where(Role.name == "admin")
            .order_by(UserRole.user_id)
            .limit(1)
        ).scalar()
        if uid is None:
            fail("no administrator: pass --as EMAIL")
        return uid


@main.command("export")
@ini_argument
@click.argument("entity")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--filter", "filters", multiple=True, help="field__op=value, as in list URLs.")
@click.option("--sort", help="Sort keys, e.g. -created_at,name.")
@click.option("--columns", help="Comma-separated field names (default: every readable one).")
@click.option("--as", "as_email", help="Run as this user (default: the first administrator).")
def export_cmd(ini, entity, file, filters, sort, columns, as_email):
    """Export ENTITY records to FILE (.csv or .xlsx), with the user's rules applied."""
    from pyramid.httpexceptions import HTTPException

    from kyklos import exports
    from kyklos.entities.service import get_entity_type
    from kyklos.jobs import job_request
    from kyklos.problem import Problem

    fmt = Path(file).suffix.lower().lstrip(".")
    if fmt not in exports.FORMATS:
        fail("the file name must end in .csv or .xlsx")
    env = Env(ini)
    uid = _acting_user(env, as_email)
    params = []
    for flt in filters:
        key, sep, value = flt.partition("=")
        if not sep:
            fail(f"--filter {flt!r}: use field__op=value")
        params.append((key, value))
    if sort:
        params.append(("sort", sort))
    cols = [c.strip() for c in columns.split(",")] if columns else None
    tmp = Path(file).with_name(Path(file).name + ".part")

    def bar(rows):
        with click.progressbar(rows, label="exporting", file=sys.stderr) as it:
            yield from it

    try:
        with job_request(env.registry, uid) as request, tmp.open("wb") as out:
            try:
                et = get_entity_type(request, entity)
            except HTTPException:
                fail(f"unknown entity type {entity!r}")
            n = exports.export(request, et, fmt, params, out, columns=cols, progress=bar)
    except Problem as exc:
        tmp.unlink(missing_ok=True)
        details = "; ".join(f"{k}: {request.localizer.translate(v)}"
                            for k, v in (exc.errors or {}).items())
        fail(details or str(exc.title))
    except HTTPException:
        tmp.unlink(missing_ok=True)
        fail("not allowed: the user may not export these records")
    tmp.replace(file)
    click.echo(f"exported {n} {entity} record(s) to {file}")


@main.command("import")
@ini_argument
@click.argument("entity")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--mapping", "profile", help="A saved or shipped mapping profile (e.g. outlook).")
@click.option("--map", "maps", multiple=True, help="HEADER=field; repeat (overrides).")
@click.option("--key", help="Business key field: rows matching a record are duplicates.")
@click.option("--on-duplicate", type=click.Choice(["skip", "update", "create"]), default="skip")
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
@click.option("--create-references/--no-create-references", default=True,
              help="Reference columns may name records (a company by its name): create "
                   "the ones that do not exist (default), or reject their rows.")
@click.option("--format", "fmt", help="csv, xlsx or a plugin format (default: the suffix).")
@click.option("--encoding", help="The CSV encoding (default: detected).")
@click.option("--delimiter", help="The CSV delimiter (default: detected).")
@click.option("--as", "as_email", help="Run as this user (default: the first administrator).")
def import_cmd(ini, entity, file, profile, maps, key, on_duplicate, dry_run, create_references,
               fmt, encoding, delimiter, as_email):
    """Import FILE into ENTITY records. Prints a summary; exits 1 with
    file:row:column: message lines when rows were rejected."""
    from pyramid.httpexceptions import HTTPException

    from kyklos.entities.service import get_entity_type
    from kyklos.imports import pipeline
    from kyklos.imports.readers import EncodingUnsure, FileError
    from kyklos.imports.views import initial_mapping, profile_options
    from kyklos.jobs import job_request

    env = Env(ini)
    uid = _acting_user(env, as_email)
    path = Path(file).resolve()
    options = {"format": fmt or "", "encoding": encoding or "",
               "delimiter": "\t" if delimiter in ("tab", "\\t") else (delimiter or "")}
    try:
        info = pipeline.inspect_file(env.registry, path, path.name, options, strict=True)
    except EncodingUnsure as exc:
        fail(f"{exc}; run again with --encoding "
             + " or --encoding ".join(enc for enc, _w in exc.candidates))
    except FileError as exc:
        fail(str(exc))
    headers = info["headers"]
    if info["encoding"] != "xlsx" and info["encoding"]:
        options["encoding"] = info["encoding"]
        click.echo(f"{path.name}: encoding {info['encoding']}"
                   + ("" if encoding else " (detected)"), err=True)
        for row in info["rows"][:3]:
            click.echo("  " + " | ".join(c for c in row if c)[:200], err=True)
    if profile and ":" not in profile:
        from kyklos.imports.mapping import shipped_profiles

        profile = ("shipped:" if profile in shipped_profiles() else "saved:") + profile

    def create_run():
        # One write transaction: it creates the run after reading. On SQLite beside a
        # running server it holds the write lock from its start, and is tried again
        # (with backoff) should the lock stay taken longer than the busy timeout.
        with job_request(env.registry, uid, write=True) as request:
            try:
                et = get_entity_type(request, entity)
            except HTTPException:
                fail(f"unknown entity type {entity!r}")
            from kyklos.entities.customfields import refresh

            refresh(env.registry, request.dbsession, force=True)
            m = initial_mapping(request, et, headers, profile)
            saved = profile_options(request, et, profile)
            run_key = key or saved.get("key")
            for item in maps:
                header, sep, target = item.partition("=")
                if not sep:
                    fail(f"--map {item!r}: use HEADER=field")
                m[header] = target
            options.update(headers=headers, mapping=m, key=run_key,
                           on_duplicate=on_duplicate, create_references=create_references)
            errors = pipeline.check_options(request, et, headers, options)
            if errors:
                tr = request.localizer.translate
                fail("; ".join(f"{k}: {tr(v)}" for k, v in errors.items()))
            try:
                run = pipeline.start_run(request, et, path, path.name, options, dry_run)
            except HTTPException:
                fail("not allowed: the user may not import these records")
            return run.id, m

    run_id, m = retry_locked(create_run, what="import set-up")
    for header in headers:
        if header not in m:
            click.echo(f"{path.name}:1:{header}: not imported (no field)", err=True)
    with click.progressbar(length=100, label="importing", file=sys.stderr) as bar:
        state = {"done": 0}

        def progress(pct, _message=""):
            step = int(pct) - state["done"]
            if step > 0:
                bar.update(step)
                state["done"] += step

        # Each batch is one short write transaction taking SQLite's lock at its start;
        # should a batch still meet the lock, the run continues after the last batch
        # that committed (the pipeline's resume), never twice.
        with immediate_writes():
            summary = retry_locked(
                pipeline.execute, env.registry, run_id, progress=progress, what="import"
            )
    if summary["state"] == "failed":
        fail(summary["error"])
    click.echo(
        ("dry run: " if dry_run else "")
        + f"{summary['rows_total']} row(s): {summary['created']} created, "
        f"{summary['updated']} updated, {summary['skipped']} skipped, "
        f"{summary['rejected']} rejected; log: {pipeline.log_path(env.registry, run_id)}"
    )
    if summary["rejected"]:
        for row in pipeline.read_log(env.registry, run_id, 200, only_problems=True):
            if row["status"] == "rejected":
                for part in row["errors"].split("; "):
                    column, _sep, message = part.partition(": ")
                    click.echo(f"{path.name}:{row['row']}:{column}: {message}", err=True)
        sys.exit(1)


def generate_secret() -> str:
    return secrets.token_urlsafe(32)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
