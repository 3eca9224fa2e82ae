"""What every scenario gets: the database, the app, the org chart and oracles."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Ctx:
    kind: str  # sqlite | postgresql
    url: str
    app: object
    registry: object
    engine: object
    org: object
    people: object
    n_people: int
    n_activities: int
    quick: bool
    repeats: int
    http_seconds: float
    activity_oracle: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    seed: int = 2026
    #: scenario 10: messages in the mailbox (None: 50 000, or 2 000 with --quick)
    mail_messages: int | None = None

    def token(self, user_id: int) -> str:
        from .env import make_token

        if user_id not in self.tokens:
            self.tokens[user_id] = make_token(self.registry, user_id)
        return self.tokens[user_id]

    def entity(self, name: str):
        return self.registry.kyklos_entities[name]

    def custom_field(self, name: str):
        """The FieldInfo of custom field ``name`` when custom fields are defined (they
        live in the core's custom-field registry, not in the bench)."""
        f = self.entity("person").fields.get(name)
        return f if f is not None and f.custom and f.filterable else None
