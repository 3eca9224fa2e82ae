"""The sales plugin's hook implementations: validation and derived values on every
write path, stage history, record pages (actions, panels, timeline), menus and the
dashboard widgets."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from pyramid.renderers import render
from sqlalchemy import func, select

import kyklos_sdk
from kyklos_sdk import (
    Action,
    MenuItem,
    Panel,
    RecordError,
    TimelineItem,
    hookimpl,
    is_currency,
    utcnow,
)

from . import _, pipeline, quoting, scoring
from .models import (
    LossReason,
    Opportunity,
    Quote,
    QuoteLine,
    Stage,
)
from .models.registry import CLOSE, CONVERT, REPORTS
from .periods import PeriodError, parse_period

ORIGIN_RE = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?$")


def _value(record, changes, name):
    """A field's value as this write will leave it (before_save runs before the
    update's values are written to the record)."""
    if name in changes:
        return changes[name][1]
    return getattr(record, name, None)


def _merged(record, data: dict, name):
    if name in data:
        return data[name]
    return getattr(record, name, None) if record is not None else None


# --- validation --------------------------------------------------------------------------


def validate_opportunity(request, record, data, errors) -> None:
    db = request.dbsession
    stage_id = _merged(record, data, "stage_id")
    stage = db.get(Stage, stage_id) if stage_id else None
    if "stage_id" in data and stage is None and "stage_id" not in errors:
        errors["stage_id"] = _("No such stage.")
        return
    amount = data.get("amount")
    if amount is not None and amount.amount < 0:
        errors["amount"] = _("An amount cannot be negative.")
    prob = data.get("probability")
    if prob is not None and not 0 <= prob <= 100:
        errors["probability"] = _("Give a percentage from 0 to 100.")
    if stage is None:
        return
    old_stage = db.get(Stage, record.stage_id) if record is not None else None
    closing = stage.is_won or stage.is_lost
    reopening = old_stage is not None and (old_stage.is_won or old_stage.is_lost)
    moved = record is None or ("stage_id" in data and data["stage_id"] != record.stage_id)
    if moved and (closing or reopening) and not request.has_permission(CLOSE):
        errors["stage_id"] = _("Only a sales director may close or reopen a deal.")
        return
    if stage.is_lost and moved:
        reason = _merged(record, data, "loss_reason_id")
        details = (_merged(record, data, "loss_details") or "").strip()
        if reason is None and not details:
            errors["loss_reason_id"] = _("Say why the deal was lost.")
    reason_id = data.get("loss_reason_id")
    if reason_id is not None and db.get(LossReason, reason_id) is None:
        errors["loss_reason_id"] = _("No such reason.")


def validate_webform(record, data, errors) -> None:
    origin = _merged(record, data, "allowed_origin")
    redirect = _merged(record, data, "redirect_url")
    if origin:
        if not ORIGIN_RE.match(origin.lower().rstrip("/")):
            errors["allowed_origin"] = _("Give a site as https://www.example.com (no path).")
            return
    if redirect:
        parts = urlsplit(redirect)
        if not origin:
            errors["redirect_url"] = _("Set the allowed origin first.")
        elif f"{parts.scheme}://{parts.netloc}".lower() != origin.lower().rstrip("/"):
            errors["redirect_url"] = _("The thank-you page must be on the allowed origin.")


def validate_participant(record, data, errors) -> None:
    user_id = _merged(record, data, "user_id")
    person_id = _merged(record, data, "person_id")
    if (user_id is None) == (person_id is None):
        errors["user_id"] = _("Choose either a colleague or a person.")


def validate_stage(record, data, errors) -> None:
    if _merged(record, data, "is_won") and _merged(record, data, "is_lost"):
        errors["is_lost"] = _("A stage cannot both win and lose a deal.")
    prob = data.get("probability")
    if prob is not None and not 0 <= prob <= 100:
        errors["probability"] = _("Give a percentage from 0 to 100.")


def validate_quote_line(request, record, data, errors) -> None:
    for name in ("discount_percent", "tax_rate"):
        v = data.get(name)
        if v is not None and not 0 <= v <= 100:
            errors[name] = _("Give a percentage from 0 to 100.")
    q = data.get("quantity")
    if q is not None and q < 0:
        errors["quantity"] = _("A quantity cannot be negative.")


def validate_template_line(record, data, errors) -> None:
    """A template line is a product (priced when a quote is made from it) or free text
    with its own price."""
    validate_quote_line(None, record, data, errors)
    product_id = _merged(record, data, "product_id")
    if product_id is not None:
        if _merged(record, data, "unit_price") is not None:
            errors["unit_price"] = _(
                "A product line takes its price from the catalog when the quote is made."
            )
        return
    if not (_merged(record, data, "description") or "").strip():
        errors["description"] = _("Give a description or choose a product.")
    if _merged(record, data, "unit_price") is None:
        errors["unit_price"] = _("Give the unit price.")


class Hooks:
    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors):
        name = entity_type.name
        if entity_type.plugin != "sfa":
            return
        if name == "opportunity":
            validate_opportunity(request, record, data, errors)
        elif name == "scoringrule":
            errors.update(
                scoring.check_rule(
                    _merged(record, data, "field"),
                    _merged(record, data, "op") or "eq",
                    _merged(record, data, "value"),
                )
            )
        elif name == "quota":
            period = _merged(record, data, "period")
            try:
                parse_period(period or "")
            except PeriodError:
                errors["period"] = _("Use 2027, 2027-H1, 2027-Q3 or 2027-05.")
        elif name in ("quote", "quotetemplate"):
            cur = data.get("currency")
            if cur is not None and not is_currency(cur):
                errors["currency"] = _("Not an ISO 4217 currency code.")
        elif name == "quoteline":
            validate_quote_line(request, record, data, errors)
            if not errors:
                from .catalog_lines import fill_line

                fill_line(request, record, data, errors)
        elif name == "quotetemplateline":
            validate_template_line(record, data, errors)
        elif name == "webform":
            validate_webform(record, data, errors)
        elif name == "participant":
            validate_participant(record, data, errors)
        elif name == "stage":
            validate_stage(record, data, errors)
        elif name == "lead" and "country" in data and data["country"]:
            if not re.fullmatch(r"[A-Z]{2}", data["country"]):
                errors["country"] = _("Give a two-letter country code, e.g. GR.")

    @hookimpl
    def kyklos_record_before_save(self, request, entity_type, record, changes, created):
        if entity_type.plugin != "sfa":
            return
        db = request.dbsession
        name = entity_type.name
        if name == "lead":
            values = {f: _value(record, changes, f) for f, _t in scoring.SCORING_FIELDS}
            total, why = scoring.score(scoring.active_rules(db), values)
            record.score, record.score_explanation = total, why
        elif name == "opportunity":
            before_save_opportunity(request, record, changes, created)
        elif name == "quoteline":
            net = quoting.line_net(
                _value(record, changes, "quantity") or 1,
                _value(record, changes, "unit_price") or 0,
                _value(record, changes, "discount_percent") or 0,
            )
            record.line_total = net
            if created:
                quote = db.get(Quote, record.quote_id)
                if quote is not None:
                    record.owner_id = quote.owner_id
                    if record.position is None:
                        record.position = (
                            db.execute(
                                select(func.coalesce(func.max(QuoteLine.position), 0)).where(
                                    QuoteLine.quote_id == quote.id
                                )
                            ).scalar_one()
                            + 1
                        )
        elif name == "quote" and created and not record.number:
            quoting.assign_number(db, record)
            if not record.currency:
                # the site's default currency (settings page)
                record.currency = kyklos_sdk.site_setting(request, "currency.default") or "EUR"
        elif name == "quota":
            start, end = parse_period(_value(record, changes, "period"))
            record.period_start, record.period_end = start, end
        elif name == "webform" and created:
            record.form_key = secrets.token_urlsafe(24)

    @hookimpl
    def kyklos_record_after_save(self, request, entity_type, record, changes, created):
        if entity_type.plugin != "sfa":
            return
        db = request.dbsession
        name = entity_type.name
        if name == "opportunity" and (created or "stage_id" in changes):
            old = None if created else changes["stage_id"][0]
            ident = request.identity
            pipeline.record_change(
                db, record, old, record.stage_id, ident.user.id if ident else None,
                record.stage_entered_at,
            )
            db.flush()
        elif name == "quoteline":
            quote = db.get(Quote, record.quote_id)
            if quote is not None:
                db.flush()
                quoting.recompute(db, quote)
                db.flush()

    @hookimpl
    def kyklos_record_before_delete(self, request, entity_type, record):
        if entity_type.plugin != "sfa" or entity_type.name != "stage":
            return
        used = request.dbsession.execute(
            select(func.count(Opportunity.id)).where(Opportunity.stage_id == record.id)
        ).scalar_one()
        if used:
            raise RecordError(
                {"": _("Opportunities are in this stage: deactivate it instead.")}, status=409
            )

    @hookimpl
    def kyklos_record_after_delete(self, request, entity_type, record):
        if entity_type.plugin == "sfa" and entity_type.name == "quoteline":
            db = request.dbsession
            quote = db.get(Quote, record.quote_id)
            if quote is not None:
                quoting.recompute(db, quote)
                db.flush()

    # --- record pages ---------------------------------------------------------------------

    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        name = entity_type.name
        if name == "lead" and record.converted_at is None:
            return [
                Action(_("Convert"), request.route_url("sfa.lead.convert", id=record.id),
                       style="success", permission=CONVERT)
            ]
        if name == "opportunity":
            from .views.closing import close_actions

            return close_actions(request, record) + [
                Action(_("New quote from template"),
                       request.route_url("sfa.quote.fromtemplate", id=record.id),
                       style="outline-primary", permission="sfa.quote.create"),
            ]
        if name == "quote":
            return [
                Action(_("Save as template"),
                       request.route_url("sfa.quote.savetemplate", id=record.id),
                       style="outline-secondary", permission="sfa.quotetemplate.create"),
                Action(_("PDF"), request.route_url("sfa.quote.pdf", id=record.id),
                       style="outline-secondary", permission="sfa.quote.read"),
                *self._variants_pdf(request, record),
                Action(_("Update prices from the catalog"),
                       request.route_url("sfa.quote.reprice", id=record.id),
                       method="post", style="outline-secondary",
                       permission="sfa.quote.update"),
                Action(_("New revision"),
                       request.route_url("sfa.quote.clone", id=record.id,
                                         _query={"mode": "revision"}),
                       method="post", permission="sfa.quote.create"),
                Action(_("New variant"),
                       request.route_url("sfa.quote.clone", id=record.id,
                                         _query={"mode": "variant"}),
                       method="post", permission="sfa.quote.create"),
                Action(_("Copy as new quote"),
                       request.route_url("sfa.quote.clone", id=record.id,
                                         _query={"mode": "copy"}),
                       method="post", permission="sfa.quote.create"),
            ]
        return None

    @staticmethod
    def _variants_pdf(request, quote) -> list:
        """"PDF of all variants" when the offer has more than one variant."""
        from .views.quotes import offer_variants

        if len(offer_variants(request, quote)) < 2:
            return []
        return [
            Action(_("PDF of all variants"),
                   request.route_url("sfa.quote.pdf", id=quote.id, _query={"variants": "all"}),
                   style="outline-secondary", permission="sfa.quote.read")
        ]

    @hookimpl
    def kyklos_record_form_panels(self, request, entity_type, record, mode):
        # beside the generic new-quote form: start the quote from an offer template
        if entity_type.name != "quote" or mode != "new":
            return None
        from .views.offers import template_form_panel

        panel = template_form_panel(request)
        return [panel] if panel is not None else None

    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        name = entity_type.name
        if name == "opportunity":
            spans = pipeline.history(request.dbsession, record.id)
            html = render(
                "kyklos_sfa:templates/panel_stages.pt",
                {"spans": spans, "stage_title": lambda s: pipeline.stage_title(request, s)},
                request=request,
            )
            from .views.closing import close_actions, lost_dialog

            if close_actions(request, record):
                # The dialog the "Mark as lost" button opens (static JS; without it the
                # button is a link to the form page).
                html += lost_dialog(request, "form", request.path_qs, record)
            return [Panel(_("Time in each stage"), html=html, order=10)]
        if name == "lead":
            items = [(scoring.explain_line(request, i), None, None)
                     for i in record.score_explanation or []]
            return [Panel(_("Score: ${score}", mapping={"score": record.score}), items=items,
                          count=None, order=10)] if items else None
        if name == "quote":
            html = render(
                "kyklos_sfa:templates/panel_quote_totals.pt",
                {"quote": record, **quoting.line_form_context(request, record)},
                request=request,
            )
            return [Panel(_("Lines"), html=html, order=5)]
        return None

    @hookimpl
    def kyklos_record_summary(self, request, entity_type, record):
        if entity_type.name not in ("account", "person"):
            return None
        if not request.has_permission("sfa.opportunity.read"):
            return None
        from .reporting import visible

        column = Opportunity.account_id if entity_type.name == "account" else (
            Opportunity.person_id)
        rows = request.dbsession.execute(
            visible(request, "opportunity")
            .where(column == record.id, Opportunity.status == "open")
            .order_by(Opportunity.expected_close)
            .limit(5)
        ).scalars().all()
        if not rows:
            return None
        items = [
            (o.name, request.route_url("entity.detail", slug="opportunities", id=o.id),
             # the date the user reads dates in, never the ISO value
             request.format_date(o.expected_close) if o.expected_close else "")
            for o in rows
        ]
        return [Panel(_("Open opportunities"), items=items, count=len(items))]

    @hookimpl
    def kyklos_timeline_items(self, request, entity_type, record):
        if entity_type.name != "opportunity":
            return None
        out = []
        spans = pipeline.history(request.dbsession, record.id)
        prev = None
        for s in spans:
            title = pipeline.stage_title(request, s.stage)
            out.append(
                TimelineItem(
                    when=s.entered,
                    title=_("Stage: ${stage}", mapping={"stage": title}),
                    detail=(_("from ${stage}", mapping={"stage": prev}) if prev else ""),
                    kind="sfa.stage",
                )
            )
            prev = title
        return out

    @hookimpl
    def kyklos_record_defaults(self, request, entity_type, parent_type, parent):
        if parent is None or entity_type.plugin != "sfa":
            return None
        return record_defaults(request, entity_type, parent_type, parent)

    # --- menus and dashboard ----------------------------------------------------------------

    @hookimpl
    def kyklos_menu_items(self, request):
        return [
            MenuItem(_("Pipeline"), request.route_url("sfa.pipeline"),
                     permission="sfa.opportunity.read", icon="kanban",
                     order=33),
            MenuItem(_("Forecast"), request.route_url("sfa.forecast"), permission=REPORTS,
                     icon="graph-up", order=34),
            MenuItem(_("Sales reports"), request.route_url("sfa.reports"), permission=REPORTS,
                     icon="bar-chart", order=35),
        ]

    @hookimpl
    def kyklos_admin_items(self, request):
        group = _("Sales")
        sections = [
            (_("Pipeline stages"), "pipeline-stages", "stage"),
            (_("Reasons for loss"), "loss-reasons", "lossreason"),
            (_("Lead scoring rules"), "lead-scoring-rules", "scoringrule"),
            (_("Web-to-lead forms"), "web-forms", "webform"),
            (_("Sales quotas"), "sales-quotas", "quota"),
            (_("Offer templates"), "quote-templates", "quotetemplate"),
        ]
        return [
            MenuItem(title, request.route_url("entity.list", slug=slug),
                     permission=f"sfa.{name}.update", group=group)
            for title, slug, name in sections
        ]

    @hookimpl
    def kyklos_dashboard_widgets(self, request):
        from .kpi import dashboard_widgets

        return dashboard_widgets(request)


def before_save_opportunity(request, record, changes, created) -> None:
    db = request.dbsession
    stage_id = _value(record, changes, "stage_id")
    stage = db.get(Stage, stage_id) if stage_id else None
    moved = created or "stage_id" in changes
    now = utcnow()
    if "probability" in changes and not (created and changes["probability"][1] is None):
        record.probability_manual = True
    if moved and stage is not None:
        record.stage_entered_at = now
        status = stage.status
        record.status = status
        record.won_at = now if status == "won" else None
        record.lost_at = now if status == "lost" else None
        if status != "lost" and "loss_reason_id" not in changes:
            record.loss_reason_id = None
        if not record.probability_manual or status != "open":
            record.probability = stage.probability
            if "probability" in changes:
                changes["probability"] = (changes["probability"][0], stage.probability)
    if created and record.probability is None:
        record.probability = stage.probability if stage is not None else 0


def default_currency(request) -> str:
    """The currency new quotes and deals start in: the site's default currency (an
    administrator's setting), else the base currency of the .ini."""
    code = kyklos_sdk.site_setting(request, "currency.default")
    if code and is_currency(str(code)):
        return str(code)
    return kyklos_sdk.base_currency(request.registry.settings)


def record_defaults(request, entity_type, parent_type, parent) -> dict | None:
    """What a new record started from a parent's page carries over (beyond the
    reference to the parent, which the core fills in)."""
    name, parent_name = entity_type.name, parent_type.name
    db = request.dbsession
    if name == "quote" and parent_name == "opportunity":
        out = {"title": parent.name, "currency": parent.amount_currency
               or default_currency(request)}
        if parent.account_id:
            out["account_id"] = parent.account_id
        if parent.person_id:
            out["person_id"] = parent.person_id
        return out
    if name == "opportunity" and parent_name == "person":
        out = {}
        if getattr(parent, "account_id", None):
            out["account_id"] = parent.account_id
        return out
    if name == "opportunity" and parent_name == "lead":
        out = {"name": parent.company or parent.full_name}
        for src, dst in (("converted_account_id", "account_id"),
                         ("converted_person_id", "person_id"), ("source", "source")):
            if getattr(parent, src, None):
                out[dst] = getattr(parent, src)
        return out
    if name == "opportunity" and parent_name == "account":
        return {"name": parent.name}
    if name == "quoteline" and parent_name == "quote":
        last = db.execute(
            select(QuoteLine.tax_rate).where(QuoteLine.quote_id == parent.id)
            .order_by(QuoteLine.position.desc(), QuoteLine.id.desc()).limit(1)
        ).scalar_one_or_none()
        return {"quantity": "1", "discount_percent": "0",
                "tax_rate": str(last if last is not None else 0)}
    return None


def includeme(config):
    config.add_hooks(Hooks(), name="kyklos_sfa.hooks")
