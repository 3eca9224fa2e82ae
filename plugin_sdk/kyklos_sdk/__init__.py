"""The stable API for Kyklos plugins. Plugins import this package, never ``kyklos.*``.

Everything listed in ``__all__`` is covered by the SDK's compatibility promise: names are
only added; a removal is announced one minor version ahead (see docs/plugin-authors/).
"""

from kyklos.db import Base, IdMixin, JSONType, TimestampMixin, UTCDateTime, utcnow
from kyklos.directives import Permission, RoleDecl
from kyklos.entities import (
    EntityMixin,
    EntityType,
    FieldInfo,
    RecordError,
    RelatedList,
    SoftDeleteMixin,
    entity_type,
)
from kyklos.hooks import collect
from kyklos.hookspecs import hookimpl
from kyklos.i18n import translate
from kyklos.plugins import Plugin, Theme
from kyklos.problem import Problem
from kyklos.web import Action, MenuItem, Panel, TimelineItem, safe_redirect_target

SDK_VERSION = "0.1.0"

__all__ = [
    "SDK_VERSION",
    "Action",
    "Base",
    "EntityMixin",
    "EntityType",
    "FieldInfo",
    "IdMixin",
    "JSONType",
    "MenuItem",
    "Panel",
    "Permission",
    "Plugin",
    "Problem",
    "RecordError",
    "RelatedList",
    "RoleDecl",
    "SoftDeleteMixin",
    "Theme",
    "TimelineItem",
    "TimestampMixin",
    "UTCDateTime",
    "collect",
    "entity_type",
    "hookimpl",
    "safe_redirect_target",
    "translate",
    "utcnow",
]
