"""The knowledge base (HD-06): articles with the symptom, its cause and the solution, in
one language each (translations are articles grouped by "translation of"), linked to
products and to the cases they solved; internal only or published to the portal.

Articles are suggested while a case is typed (the agent's form and the portal's), a
reader says whether one helped (once per user: a second answer replaces the first),
and portal users read the published, portal-visible ones through the same record rules
as everyone (a visibility restriction narrows them on every path, the API too)."""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup
from pyramid.httpexceptions import HTTPBadRequest, HTTPSeeOther
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import (
    LANGUAGES,
    Base,
    EntityMixin,
    Panel,
    PortalPage,
    Problem,
    RelatedList,
    UTCDateTime,
    display_text,
    entity_permissions,
    fold,
    format_datetime,
    get_entity_type,
    get_record,
    hookimpl,
    read_json,
    rich_text_from_plain,
    rich_text_to_plain,
    sanitise_rich_text,
    utcnow,
    visible_select,
)

from . import _

TYPES = ("kbarticle", "kbproduct", "kbcase")
PERMS = {t: entity_permissions("helpdesk", t) for t in TYPES}


class Article(EntityMixin, Base):
    """A knowledge-base article. ``owner_id`` is its author; the helpful counts are kept
    from the votes (never written by a client)."""

    __tablename__ = "helpdesk_kbarticle"

    title: Mapped[str] = mapped_column(String(250), nullable=False)
    symptom: Mapped[str | None] = mapped_column(Text)
    #: rich text (sanitised HTML), as is the solution
    cause: Mapped[str | None] = mapped_column(Text)
    solution: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5), nullable=False, default="en", index=True)
    category: Mapped[str | None] = mapped_column(String(120), index=True)
    visibility: Mapped[str] = mapped_column(String(10), nullable=False, default="internal")
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="draft", index=True)
    #: the article this one translates: translations are grouped under one original
    translation_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("helpdesk_kbarticle.id", ondelete="SET NULL"), index=True
    )
    helpful_yes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    helpful_no: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: yes of all answers, 0..100; empty while nobody answered
    helpful_percent: Mapped[int | None] = mapped_column(Integer, index=True)


class ArticleProduct(EntityMixin, Base):
    """A product an article is about (an article may name several)."""

    __tablename__ = "helpdesk_kbproduct"
    __table_args__ = (UniqueConstraint("article_id", "product_id", name="helpdesk_kbproduct_once"),)

    article_id: Mapped[int] = mapped_column(
        ForeignKey("helpdesk_kbarticle.id", ondelete="CASCADE"), nullable=False, index=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_product.id", ondelete="CASCADE"), nullable=False, index=True
    )


class ArticleCase(EntityMixin, Base):
    """ "Solved by article": a case and the article that solved it, listed on both."""

    __tablename__ = "helpdesk_kbcase"
    __table_args__ = (UniqueConstraint("article_id", "case_id", name="helpdesk_kbcase_once"),)

    article_id: Mapped[int] = mapped_column(
        ForeignKey("helpdesk_kbarticle.id", ondelete="CASCADE"), nullable=False, index=True
    )
    case_id: Mapped[int] = mapped_column(
        ForeignKey("helpdesk_case.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: the article's title, kept by the save hook: the link's title in lists
    title: Mapped[str] = mapped_column(String(250), nullable=False, default="")


class ArticleVote(Base):
    """One reader's answer to "Did this help?": one row per article and voter, so a
    second answer replaces the first instead of counting twice."""

    __tablename__ = "helpdesk_kbvote"
    __table_args__ = (UniqueConstraint("article_id", "voter", name="helpdesk_kbvote_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("helpdesk_kbarticle.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: "u:<user id>" for a signed-in user (staff or portal), else "s:<session>"
    voter: Mapped[str] = mapped_column(String(80), nullable=False)
    helpful: Mapped[bool] = mapped_column(Boolean, nullable=False)
    voted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)


VISIBILITIES = [("internal", _("Internal only")), ("portal", _("Published to the portal"))]
STATES = [("draft", _("Draft")), ("published", _("Published"))]
LANGUAGE_CHOICES = list(LANGUAGES.items())
#: the most articles a suggestion is ranked over (the newest first): a small company's
#: knowledge base is a few hundred articles; ranking in Python folds accents and case
#: alike on PostgreSQL and SQLite
CANDIDATES = 1000
SUGGESTIONS = 5
MIN_WORD = 3


def is_portal(request) -> bool:
    ident = request.identity
    return ident is not None and getattr(ident, "portal", None) is not None


# --- suggestions -------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    words = [w for w in fold(text[:500]).split() if len(w) >= MIN_WORD]
    return list(dict.fromkeys(words))[:8]


def _excerpt(text: str | None, limit: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def suggest(request, text: str, limit: int = SUGGESTIONS, published_only: bool = True):
    """The published articles the user may read that match ``text`` best: each word
    found in the title counts 3, in the symptom 2, in the cause or category 1. The
    user's language comes first among equally good matches (for portal users first of
    all: an article in their language before a better one in another)."""
    words = _words(text or "")
    if not words:
        return []
    et = get_entity_type(request, "kbarticle")
    q = visible_select(request, et)
    if published_only:
        q = q.where(Article.status == "published")
    rows = request.dbsession.execute(
        q.order_by(Article.updated_at.desc(), Article.id.desc()).limit(CANDIDATES)
    ).scalars()
    lang = request.locale_name
    portal = is_portal(request)
    scored = []
    for a in rows:
        title, symptom = fold(a.title), fold(a.symptom or "")
        rest = fold(f"{rich_text_to_plain(a.cause)} {a.category or ''}")
        score = sum(3 * (w in title) + 2 * (w in symptom) + (w in rest) for w in words)
        if score:
            own = a.language == lang
            key = (own, score) if portal else (score, own)
            scored.append((key, a))
    scored.sort(key=lambda pair: (pair[0], pair[1].helpful_percent or 0), reverse=True)
    return [a for _key, a in scored[:limit]]


def article_url(request, article) -> str:
    if is_portal(request):
        return request.route_url("helpdesk.portal.kb.article", id=article.id)
    return request.route_url("entity.detail", slug="kb-articles", id=article.id)


def suggestion_json(request, article) -> dict:
    et = get_entity_type(request, "kbarticle")
    return {
        "id": article.id,
        "title": article.title,
        "excerpt": _excerpt(article.symptom or rich_text_to_plain(article.solution)),
        "language": display_text(request, et, "language", article.language),
        "helpful": helpful_words(request, article),
        "url": article_url(request, article),
    }


def suggest_view(request):
    """``GET …/kb/suggest?q=<what is typed>``: ``{"items": [{"id", "title", "excerpt",
    "language", "helpful", "url"}]}``, the best matches first (empty for fewer than
    three letters)."""
    q = request.GET.get("q", "")
    if len(q) > 2000:
        raise Problem(400, _("Invalid parameters"), errors={"q": _("Type less text.")})
    return {"items": [suggestion_json(request, a) for a in suggest(request, q)]}


# --- did this help? ----------------------------------------------------------------------


def _voter(request) -> str:
    ident = request.identity
    user = getattr(ident, "user", None)
    uid = getattr(user, "id", None) or getattr(ident, "user_id", None)
    if uid:
        return f"u:{uid}"
    # no login (not reachable today: every route needs one) — the session counts once
    return f"s:{request.session.get_csrf_token()}"[:80]


def vote(request, article: Article, helpful: bool) -> Article:
    """Record the reader's answer (replacing theirs) and recount the article. The counts
    are written with a plain UPDATE: a vote is not an edit of the article (no version
    bump that would make an author's open form stale, no history line)."""
    db = request.dbsession
    voter = _voter(request)
    row = db.execute(
        select(ArticleVote).where(ArticleVote.article_id == article.id, ArticleVote.voter == voter)
    ).scalar()
    if row is None:
        db.add(ArticleVote(article_id=article.id, voter=voter, helpful=helpful, voted_at=utcnow()))
    else:
        row.helpful, row.voted_at = helpful, utcnow()
    db.flush()
    yes, total = db.execute(
        select(
            func.coalesce(func.sum(func.cast(ArticleVote.helpful, Integer)), 0),
            func.count(ArticleVote.id),
        ).where(ArticleVote.article_id == article.id)
    ).one()
    yes, total = int(yes), int(total)
    percent = round(100 * yes / total) if total else None
    db.execute(
        update(Article)
        .where(Article.id == article.id)
        .values(helpful_yes=yes, helpful_no=total - yes, helpful_percent=percent)
        .execution_options(synchronize_session=False)
    )
    db.refresh(article)
    return article


def my_vote(request, article: Article) -> bool | None:
    return request.dbsession.execute(
        select(ArticleVote.helpful).where(
            ArticleVote.article_id == article.id, ArticleVote.voter == _voter(request)
        )
    ).scalar()


def helpful_words(request, article: Article) -> str:
    """ "80 % found this helpful (4 of 5)", or "Nobody has said yet"."""
    total = (article.helpful_yes or 0) + (article.helpful_no or 0)
    if not total:
        return request.localizer.translate(_("Nobody has said yet whether it helped"))
    return request.localizer.translate(
        _(
            "${percent} % found this helpful (${yes} of ${total})",
            mapping={
                "percent": article.helpful_percent,
                "yes": article.helpful_yes,
                "total": total,
            },
        )
    )


def _parse_helpful(value):
    if isinstance(value, bool):
        return value
    if value in ("yes", "true", "1"):
        return True
    if value in ("no", "false", "0"):
        return False
    return None


def api_vote(request):
    """``POST /api/v1/kb-articles/{id}/vote`` ``{"helpful": true}`` → the counts."""
    et = get_entity_type(request, "kbarticle")
    article = get_record(request, et, request.matchdict["id"])
    body = read_json(request)
    helpful = _parse_helpful(body.get("helpful"))
    errors = {}
    if helpful is None:
        errors["helpful"] = _("Say yes or no.")
    for key in set(body) - {"helpful"}:
        errors[key] = _("Unknown field.")
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    vote(request, article, helpful)
    return {
        "id": article.id,
        "helpful_yes": article.helpful_yes,
        "helpful_no": article.helpful_no,
        "helpful_percent": article.helpful_percent,
        "helpful": helpful_words(request, article),
    }


def _vote_from_form(request, article_id) -> Article:
    et = get_entity_type(request, "kbarticle")
    article = get_record(request, et, article_id)
    helpful = _parse_helpful(request.POST.get("helpful", ""))
    if helpful is None:
        raise HTTPBadRequest()
    vote(request, article, helpful)
    request.session.flash(
        request.localizer.translate(_("Thank you: your answer is counted.")), "success"
    )
    return article


def vote_page(request):
    """The staff article page's yes/no buttons (a form: works without JavaScript)."""
    article = _vote_from_form(request, request.matchdict["id"])
    return HTTPSeeOther(request.route_url("entity.detail", slug="kb-articles", id=article.id))


def vote_panel(request, article: Article, action: str, label: bool = True) -> Markup:
    """The "Did this help?" block: the counts in words and a yes and a no button (the
    reader's own answer pressed)."""
    mine = my_vote(request, article)
    loc = request.localizer
    buttons = Markup("").join(
        Markup(
            '<button type="submit" name="helpful" value="{}" class="btn btn-sm {}" '
            'aria-pressed="{}" id="kb-vote-{}">{}</button> '
        ).format(
            value,
            ("btn-success" if value == "yes" else "btn-danger")
            if mine is (value == "yes")
            else "btn-outline-secondary",
            "true" if mine is (value == "yes") else "false",
            value,
            loc.translate(word),
        )
        for value, word in (("yes", _("Yes")), ("no", _("No")))
    )
    return Markup(
        '<form method="post" action="{}" class="d-flex flex-wrap align-items-center gap-2" '
        'id="kb-vote"><input type="hidden" name="csrf_token" value="{}">'
        '<span class="fw-semibold">{}</span>{}'
        '<span class="text-muted small" id="kb-helpful">{}</span></form>'
    ).format(
        action,
        request.session.get_csrf_token(),
        loc.translate(_("Did this help?")) if label else "",
        buttons,
        helpful_words(request, article),
    )


# --- the portal's knowledge base ---------------------------------------------------------


PORTAL_LIMIT = 50


def portal_list_view(request):
    """Published portal articles: the search's best matches, else the newest (the
    user's language first)."""
    q = request.GET.get("q", "").strip()[:200]
    if q:
        rows = suggest(request, q, limit=PORTAL_LIMIT)
    else:
        et = get_entity_type(request, "kbarticle")
        rows = list(
            request.dbsession.execute(
                visible_select(request, et)
                .order_by(
                    (Article.language == request.locale_name).desc(),
                    Article.updated_at.desc(),
                    Article.id.desc(),
                )
                .limit(PORTAL_LIMIT)
            ).scalars()
        )
    return {
        "title": _("Knowledge base"),
        "q": q,
        "items": [suggestion_json(request, a) for a in rows],
    }


def portal_article_view(request):
    et = get_entity_type(request, "kbarticle")
    article = get_record(request, et, int(request.matchdict["id"]))
    from .replies import paragraphs

    def rich(value):
        # sanitised when written; again here, as every page that shows rich text does
        html = sanitise_rich_text(value or "")
        return Markup('<div class="k-rich">{}</div>').format(Markup(html)) if html else ""  # noqa: S704

    sections = [
        (_("Symptom"), paragraphs(article.symptom)),
        (_("Cause"), rich(article.cause)),
        (_("Solution"), rich(article.solution)),
    ]
    return {
        "title": article.title,
        "article": article,
        "sections": [(k, v) for k, v in sections if v],
        "updated": format_datetime(request, article.updated_at),
        "language": display_text(request, et, "language", article.language),
        "vote": vote_panel(
            request, article, request.route_url("helpdesk.portal.kb.vote", id=article.id)
        ),
    }


def portal_vote_view(request):
    article = _vote_from_form(request, int(request.matchdict["id"]))
    return HTTPSeeOther(request.route_url("helpdesk.portal.kb.article", id=article.id))


# --- suggestions on the case forms -------------------------------------------------------


def suggest_list(request, url: str) -> Markup:
    """The empty list the script fills with suggestions as the subject and description
    are typed (from ``url``), and the script; the panel around it is drawn by the core
    (``kyklos_record_form_panels``), hidden until something matches."""
    return Markup(
        '<ul class="list-unstyled mb-0" id="kb-suggest-list" data-url="{}" aria-live="polite">'
        '</ul><script src="{}" defer></script>'
    ).format(url, request.static_url("kyklos_helpdesk:static/kb_suggest.js"))


def suggestions_panel(request) -> Panel:
    """ "Articles that may help" beside the new-case form, for users who read the
    knowledge base; the script moves it under the subject."""
    return Panel(
        _("Articles that may help"),
        html=str(suggest_list(request, request.route_url("helpdesk.kb.suggest"))),
        id="kb-suggest",
        permission=PERMS["kbarticle"]["read"],
        hidden=True,
        order=10,
    )


# --- hooks -------------------------------------------------------------------------------


class KbHooks:
    @hookimpl
    def kyklos_visibility_restrictions(self, request, entity_type, action):
        # customers read published, portal-visible articles only, on every path
        if entity_type.name == "kbarticle" and is_portal(request):
            return [Article.status == "published", Article.visibility == "portal"]
        return None

    @hookimpl
    def kyklos_record_before_save(self, request, entity_type, record, changes, created):
        if entity_type.name == "kbcase" and (created or "article_id" in changes):
            article_id = changes["article_id"][1] if "article_id" in changes else record.article_id
            article = request.dbsession.get(Article, article_id)
            record.title = article.title if article is not None else ""

    @hookimpl
    def kyklos_record_after_save(self, request, entity_type, record, changes, created):
        if entity_type.name == "kbarticle" and not created and "title" in changes:
            request.dbsession.execute(
                update(ArticleCase)
                .where(ArticleCase.article_id == record.id)
                .values(title=record.title)
                .execution_options(synchronize_session=False)
            )

    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors):
        if entity_type.name == "kbarticle":
            of = data.get("translation_of_id")
            if of and record is not None and of == record.id:
                errors["translation_of_id"] = _("An article does not translate itself.")
        elif entity_type.name == "kbcase" and data.get("case_id"):
            # only a case the user may see is linked
            case_et = get_entity_type(request, "case")
            from .models import Case

            found = request.dbsession.execute(
                visible_select(request, case_et).where(Case.id == data["case_id"])
            ).scalar()
            if found is None:
                errors["case_id"] = _("No such case, or you may not see it.")

    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        if entity_type.name == "kbarticle":
            html = vote_panel(
                request, record, request.route_url("helpdesk.kb.vote", id=record.id), label=False
            )
            return [
                Panel(
                    _("Did this help?"),
                    html=str(Markup('<div class="card-body">{}</div>').format(html)),
                    order=5,
                )
            ]
        if entity_type.name == "case":
            return [solved_by_panel(request, record)]
        return None

    @hookimpl
    def kyklos_record_form_panels(self, request, entity_type, record, mode):
        if entity_type.name == "case" and mode == "new":
            return [suggestions_panel(request)]
        return None

    @hookimpl
    def kyklos_portal_pages(self, request):
        return [
            PortalPage(
                "helpdesk-kb",
                _("Knowledge base"),
                request.route_url("helpdesk.portal.kb"),
                _("Answers to common questions, in your language"),
                icon="journal-text",
                order=32,
                permission=PERMS["kbarticle"]["read"],
            )
        ]


def solved_by_panel(request, case) -> Panel:
    """ "Solved by article" on a case: the linked articles the user may read, and a link
    to link one more."""
    et = get_entity_type(request, "kbcase")
    links = request.dbsession.execute(
        visible_select(request, et)
        .where(ArticleCase.case_id == case.id)
        .order_by(ArticleCase.created_at, ArticleCase.id)
    ).scalars()
    items = [
        (
            link.title,
            request.route_url("entity.detail", slug="kb-articles", id=link.article_id),
            "",
        )
        for link in links
    ]
    parts = [Markup('<li><a href="{}">{}</a></li>').format(url, title) for title, url, _d in items]
    body = (
        Markup('<ul class="mb-2" id="kb-solved-by">{}</ul>').format(Markup("").join(parts))
        if parts
        else Markup('<p class="text-muted mb-2" id="kb-solved-by">{}</p>').format(
            request.localizer.translate(_("No article linked yet."))
        )
    )
    if request.has_permission(PERMS["kbcase"]["create"]):
        url = request.route_url(
            "entity.new",
            slug="kb-case-links",
            _query={"case_id": case.id, "from": f"case:{case.id}"},
        )
        body += Markup(
            '<a class="btn btn-sm btn-outline-primary" href="{}" id="kb-link-article">{}</a>'
        ).format(url, request.localizer.translate(_("Link an article")))
    return Panel(
        _("Solved by article"),
        html=str(Markup('<div class="card-body">{}</div>').format(body)),
        count=len(items),
        order=6,
    )


def openapi_paths(request):
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    obj = {"application/json": {"schema": {"type": "object"}}}
    return {
        "/api/v1/helpdesk/kb/suggest": {
            "get": {
                "operationId": "helpdesk_kb_suggest",
                "tags": ["Helpdesk"],
                "summary": "Published articles matching what is typed, the best first",
                "parameters": [
                    {"name": "q", "in": "query", "required": False, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {"description": "{items: [{id, title, excerpt, ...}]}", "content": obj},
                    "400": {"description": "bad query", "content": problem},
                },
            }
        },
        "/api/v1/kb-articles/{id}/vote": {
            "post": {
                "operationId": "helpdesk_kb_vote",
                "tags": ["Helpdesk"],
                "summary": "Did this article help? Once per user; a new answer replaces theirs",
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["helpful"],
                                "properties": {"helpful": {"type": "boolean"}},
                            }
                        }
                    },
                },
                "x-kyklos-semantic-checks": True,
                "responses": {
                    "200": {"description": "the article's counts", "content": obj},
                    "400": {"description": "no yes or no", "content": problem},
                    "404": {"description": "no such article", "content": problem},
                },
            }
        },
    }


# --- registration ------------------------------------------------------------------------

#: what a customer reads of an article (author, visibility, state and links stay internal)
PORTAL_FIELDS = (
    "title",
    "symptom",
    "cause",
    "solution",
    "language",
    "category",
    "helpful_yes",
    "helpful_no",
    "helpful_percent",
    "updated_at",
)


def _register_types(config):
    config.add_entity_type(
        Article,
        "kbarticle",
        title=_("Knowledge base article"),
        plural=_("Knowledge base"),
        slug="kb-articles",
        title_field="title",
        subtitle_field="category",
        primary_filters=("status", "visibility", "language", "category", "owner_id"),
        list_columns=(
            "title",
            "category",
            "language",
            "status",
            "visibility",
            "helpful_percent",
            "owner_id",
            "updated_at",
        ),
        filters=(
            "title",
            "category",
            "language",
            "status",
            "visibility",
            "owner_id",
            "translation_of_id",
            "helpful_percent",
            "updated_at",
        ),
        sort=("title", "category", "updated_at", "helpful_percent", "created_at"),
        search=("title", "symptom", "category", "solution"),
        readonly=("helpful_yes", "helpful_no", "helpful_percent"),
        fields={
            "title": {"title": _("Title")},
            "symptom": {"title": _("Symptom"), "description": _("What the customer sees.")},
            "cause": {"title": _("Cause"), "type": "richtext"},
            "solution": {"title": _("Solution"), "type": "richtext"},
            "language": {
                "title": _("Language"),
                "type": "choice",
                "choices": LANGUAGE_CHOICES,
                "default": "en",
            },
            "category": {"title": _("Category")},
            "visibility": {
                "title": _("Visibility"),
                "type": "choice",
                "choices": VISIBILITIES,
                "default": "internal",
            },
            "status": {
                "title": _("State"),
                "type": "choice",
                "choices": STATES,
                "default": "draft",
            },
            "translation_of_id": {
                "title": _("Translation of"),
                "description": _("The original article; empty for an original."),
            },
            "owner_id": {"title": _("Author")},
            "updated_at": {"title": _("Updated")},
            "helpful_yes": {"title": _("Helped")},
            "helpful_no": {"title": _("Did not help")},
            "helpful_percent": {"title": _("Helpful %")},
        },
        related=(
            RelatedList("kbproduct", "article_id", _("Products"), ("product_id",)),
            RelatedList("kbcase", "article_id", _("Cases it solved"), ("case_id", "created_at")),
            RelatedList("kbarticle", "translation_of_id", _("Translations")),
        ),
        default_sort="-updated_at",
        menu_order=42,
        icon="journal-text",
        description=_("Articles with symptoms, causes and solutions, for agents and customers"),
    )
    config.add_entity_type(
        ArticleProduct,
        "kbproduct",
        title=_("Article product"),
        plural=_("Article products"),
        slug="kb-article-products",
        title_field="product_id",
        subtitle_field="article_id",
        list_columns=("product_id", "article_id"),
        filters=("article_id", "product_id"),
        sort=("created_at",),
        fields={"article_id": {"title": _("Article")}, "product_id": {"title": _("Product")}},
        menu_group=None,
        icon="box",
    )
    config.add_entity_type(
        ArticleCase,
        "kbcase",
        title=_("Solved by article"),
        plural=_("Solved by article"),
        slug="kb-case-links",
        title_field="title",
        subtitle_field="case_id",
        readonly=("title",),
        list_columns=("article_id", "case_id", "created_at"),
        filters=("article_id", "case_id"),
        sort=("created_at",),
        fields={
            "article_id": {"title": _("Article")},
            "case_id": {"title": _("Case")},
            "title": {"title": _("Title")},
        },
        menu_group=None,
        icon="journal-check",
    )


def includeme(config):
    _register_types(config)
    full = ("read", "create", "update", "delete", "export", "import", "assign")
    work = ("read", "create", "update", "export")
    agent = [PERMS[t][v] for t in TYPES for v in work]
    manager = [PERMS[t][v] for t in TYPES for v in full]
    config.extend_role("agent", agent)
    config.extend_role("helpdeskmanager", manager)
    config.extend_role("manager", manager)
    # the knowledge base is the whole team's: every agent reads every article and writes
    # the articles of their team (their department); links follow the team's cases
    config.add_record_rule("kbarticle", "agent", "read", "all")
    config.add_record_rule("kbarticle", "agent", "write", "team")
    config.add_record_rule("kbproduct", "agent", "read", "all")
    config.add_record_rule("kbproduct", "agent", "write", "team")
    for action in ("read", "write"):
        config.add_record_rule("kbcase", "agent", action, "team")
    for role in ("helpdeskmanager", "manager"):
        for et in TYPES:
            for action in ("read", "write", "delete"):
                config.add_record_rule(et, role, action, "all")
    # customers: the articles (narrowed to published portal ones by the restriction
    # hook); neither the product links nor the case links
    config.add_portal_access("kbarticle", ("id",), fields=PORTAL_FIELDS)
    config.extend_role("portal", [PERMS["kbarticle"]["read"]])
    config.add_record_rule("kbarticle", "portal", "read", "all")

    config.add_openapi_paths(openapi_paths)
    read = PERMS["kbarticle"]["read"]
    for name, path in (
        ("helpdesk.kb.suggest", "/helpdesk/kb/suggest"),
        ("helpdesk.api.kb.suggest", "/api/v1/helpdesk/kb/suggest"),
        # the portal's cookie is sent under /portal only: its own address
        ("helpdesk.portal.kb.suggest", "/portal/helpdesk/kb/suggest"),
    ):
        config.add_route(name, path, request_method="GET")
        config.add_view(suggest_view, route_name=name, renderer="json", permission=read)
    config.add_route(
        "helpdesk.api.kb.vote", r"/api/v1/kb-articles/{id:\d{1,18}}/vote", request_method="POST"
    )
    config.add_view(api_vote, route_name="helpdesk.api.kb.vote", renderer="json", permission=read)
    config.add_route("helpdesk.kb.vote", r"/kb-articles/{id:\d{1,18}}/vote", request_method="POST")
    config.add_view(vote_page, route_name="helpdesk.kb.vote", permission=read)
    config.add_route("helpdesk.portal.kb", "/portal/helpdesk/kb", request_method="GET")
    config.add_view(
        portal_list_view,
        route_name="helpdesk.portal.kb",
        renderer="kyklos_helpdesk:templates/kb_portal_list.pt",
        permission="kyklos.portal.use",
    )
    config.add_route(
        "helpdesk.portal.kb.article", r"/portal/helpdesk/kb/{id:\d{1,18}}", request_method="GET"
    )
    config.add_view(
        portal_article_view,
        route_name="helpdesk.portal.kb.article",
        renderer="kyklos_helpdesk:templates/kb_portal_article.pt",
        permission="kyklos.portal.use",
    )
    config.add_route(
        "helpdesk.portal.kb.vote", r"/portal/helpdesk/kb/{id:\d{1,18}}/vote", request_method="POST"
    )
    config.add_view(
        portal_vote_view, route_name="helpdesk.portal.kb.vote", permission="kyklos.portal.use"
    )
    config.add_hooks(KbHooks(), name="kyklos_helpdesk.kb")


# --- demo data ---------------------------------------------------------------------------

#: (language, title, symptom, cause, solution, category, visibility, translation of)
DEMO_ARTICLES = [
    (
        "el",
        "Ο εκτυπωτής δείχνει σφάλμα E05",
        "Η οθόνη δείχνει E05 και δεν τυπώνεται τίποτα.",
        "Η μονάδα τήξης δεν έχει φτάσει σε θερμοκρασία.",
        "Σβήστε τον εκτυπωτή.\n\nΠεριμένετε δέκα λεπτά και ανάψτε τον ξανά.",
        "Εκτυπωτές",
        "portal",
        None,
    ),
    (
        "en",
        "The printer shows error E05",
        "The display shows E05 and nothing prints.",
        "The fuser has not reached its temperature.",
        "Switch the printer off.\n\nWait ten minutes and switch it on again.",
        "Printers",
        "portal",
        0,
    ),
    (
        "ro",
        "Imprimanta afișează eroarea E05",
        "Pe ecran apare E05 și nu se tipărește nimic.",
        "Cuptorul nu a atins temperatura.",
        "Opriți imprimanta.\n\nAșteptați zece minute și porniți-o din nou.",
        "Imprimante",
        "portal",
        0,
    ),
    (
        "pl",
        "Drukarka pokazuje błąd E05",
        "Wyświetlacz pokazuje E05 i nic się nie drukuje.",
        "Utrwalacz nie osiągnął temperatury.",
        "Wyłącz drukarkę.\n\nOdczekaj dziesięć minut i włącz ją ponownie.",
        "Drukarki",
        "portal",
        0,
    ),
    (
        "el",
        "Θολό λάδι σε δοχεία 5 λίτρων",
        "Ο πελάτης βλέπει θολή όψη στο λάδι μετά από κρύο.",
        "Το ελαιόλαδο θολώνει κάτω από 8 °C· δεν είναι αλλοίωση.",
        "Αφήστε το δοχείο σε θερμοκρασία δωματίου για μία ημέρα.",
        "Ποιότητα",
        "portal",
        None,
    ),
    (
        "en",
        "Refund of a damaged delivery: what to check first",
        "A customer asks for a credit note for damaged goods.",
        None,
        "Ask for photos and the delivery note number.\n\nCheck the carrier's claim window.",
        "Procedures",
        "internal",
        None,
    ),
]


def demo_articles(request) -> int:
    """A few published articles in Greek, English, Romanian and Polish (one in four
    languages, grouped as translations), and an internal one."""
    from kyklos_sdk import create_record

    et = get_entity_type(request, "kbarticle")
    made = []
    for lang, title, symptom, cause, solution, category, vis, of in DEMO_ARTICLES:
        data = {
            "title": title,
            "symptom": symptom,
            "cause": rich_text_from_plain(cause) or None,
            "solution": rich_text_from_plain(solution) or None,
            "language": lang,
            "category": category,
            "visibility": vis,
            "status": "published",
        }
        if of is not None:
            data["translation_of_id"] = made[of].id
        made.append(create_record(request, et, data, source="demo"))
    return len(made)
