"""Job status for people: the /jobs page (progress bars) and ``/api/v1/_jobs``.

Users see their own jobs; administrators see everyone's.
"""

from __future__ import annotations

from sqlalchemy import select

from kyklos.i18n import _, format_datetime
from kyklos.jobs.models import STATES, Job
from kyklos.jobs.runner import cancel, live_progress
from kyklos.problem import Problem

LIMIT = 100


def _is_admin(request) -> bool:
    return bool(request.has_permission("kyklos.admin"))


def _visible(request, stmt, everyone: bool):
    if everyone and _is_admin(request):
        return stmt
    return stmt.where(Job.user_id == request.identity.user.id)


def _find(request, job_id) -> Job:
    job = request.dbsession.get(Job, str(job_id)[:36])
    if job is None or (not _is_admin(request) and job.user_id != request.identity.user.id):
        # The same answer for "no such job" and "not yours": ids do not leak.
        raise Problem(404, _("Not found"), _("There is no such job."))
    return job


def _query(request, everyone: bool):
    stmt = select(Job).order_by(Job.created_at.desc(), Job.id).limit(LIMIT)
    state = request.params.get("state")
    if state:
        if state not in STATES:
            raise Problem(400, _("Bad request"), errors={"state": _("Unknown state.")})
        stmt = stmt.where(Job.state == state)
    return request.dbsession.execute(_visible(request, stmt, everyone)).scalars().all()


#: each state as people read it (the API's ``state`` stays the code)
STATE_TITLES = {
    "queued": _("Waiting"),
    "running": _("Running"),
    "retrying": _("Will be retried"),
    "done": _("Done"),
    "failed": _("Failed"),
    "cancelled": _("Cancelled"),
}


def job_title(request, name: str) -> str:
    """The job type's declared title in the user's language (``config.add_job``)."""
    spec = getattr(request.registry, "kyklos_jobs", {}).get(name)
    title = spec.title if spec is not None else name
    return request.localizer.translate(title)


def state_title(request, state: str) -> str:
    return request.localizer.translate(STATE_TITLES.get(state, state))


def job_json(request, job: Job) -> dict:
    """The job's row, with the live progress of a running job, its title and its state in
    the user's language (``title``, ``state_title``) beside the codes."""
    out = job.as_dict()
    out["title"] = job_title(request, job.name)
    out["state_title"] = state_title(request, job.state)
    if job.state == "running":
        live = live_progress(request.registry, job.id)
        if live:
            out.update(live)
    return out


def api_list(request):
    everyone = request.params.get("all") in ("1", "true")
    return {"items": [job_json(request, j) for j in _query(request, everyone)]}


def api_get(request):
    return job_json(request, _find(request, request.matchdict["id"]))


def api_cancel(request):
    job = _find(request, request.matchdict["id"])
    if not cancel(request, job.id):
        raise Problem(409, _("Conflict"), _("Only a job that has not started can be cancelled."))
    request.dbsession.expire(job)
    return job_json(request, job)


def width_class(progress: int) -> str:
    """A CSS class for a bar width (the CSP forbids inline styles)."""
    step = max(0, min(100, int(progress or 0))) // 5 * 5
    return f"k-w-{step}"


BAR = {
    "queued": "bg-secondary",
    "running": "progress-bar-striped progress-bar-animated",
    "retrying": "bg-warning",
    "done": "bg-success",
    "failed": "bg-danger",
    "cancelled": "bg-secondary",
}


def jobs_page(request):
    everyone = request.params.get("all") == "1" and _is_admin(request)
    jobs = _query(request, everyone)
    return {
        "title": _("Background jobs"),
        "jobs": jobs,
        "live": {j.id: job_json(request, j) for j in jobs if j.state == "running"},
        "everyone": everyone,
        "is_admin": _is_admin(request),
        "width_class": width_class,
        "bar": BAR,
        "job_title": lambda j: job_title(request, j.name),
        "state_title": lambda j: state_title(request, j.state),
        "created": lambda j: format_datetime(request, j.created_at),
    }


def openapi_paths(request) -> dict:
    from kyklos.entities import openapi as o

    stamp = {"type": ["string", "null"], "format": "date-time"}
    job = o.obj(
        {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "title": {"type": "string", "description": "the job type in the user's language"},
            "state": {"type": "string", "enum": list(STATES)},
            "state_title": {"type": "string", "description": "the state in words"},
            "progress": {"type": ["integer", "null"]},
            "message": {"type": ["string", "null"]},
            "attempts": {"type": "integer"},
            "max_attempts": {"type": "integer"},
            "result": {},
            "error": {"type": ["string", "null"]},
            "user_id": {"type": ["integer", "null"]},
            "created_at": stamp,
            "run_at": stamp,
            "started_at": stamp,
            "finished_at": stamp,
        },
        ["id", "name", "state"],
        strict=False,
    )
    job_id = o.param("id", {"type": "string", "pattern": "^[A-Za-z0-9-]{1,36}$"}, "path")
    tag = "Jobs"
    return {
        "/api/v1/_jobs": {
            "get": o.operation(
                tag,
                "list_jobs",
                {
                    "200": o.json_ok(o.obj({"items": o.array(job)}, ["items"], strict=False)),
                    **o.problems("400", "401"),
                },
                summary=f"Your latest {LIMIT} jobs (everyone's with all=1, administrators only)",
                parameters=[
                    o.param("state", {"type": "string", "enum": list(STATES)}),
                    o.param("all", {"type": "string", "enum": ["0", "1", "true", "false"]}),
                ],
            )
        },
        "/api/v1/_jobs/{id}": {
            "get": o.operation(
                tag,
                "get_job",
                {"200": o.json_ok(job), **o.problems("401", "404")},
                summary="A job, with the live progress of a running one",
                parameters=[job_id],
            )
        },
        "/api/v1/_jobs/{id}/cancel": {
            "post": o.operation(
                tag,
                "cancel_job",
                {"200": o.json_ok(job, "cancelled"), **o.problems("401", "404", "409")},
                summary="Cancel a job that has not started",
                parameters=[job_id],
            )
        },
    }


def includeme(config):
    config.add_openapi_paths(openapi_paths)
    config.add_route("jobs", "/jobs")
    config.add_view(jobs_page, route_name="jobs", renderer="kyklos:web/templates/jobs.pt")
    config.add_route("api.jobs", "/api/v1/_jobs", request_method="GET")
    config.add_view(api_list, route_name="api.jobs", renderer="json")
    config.add_route("api.job", "/api/v1/_jobs/{id}", request_method="GET")
    config.add_view(api_get, route_name="api.job", renderer="json")
    config.add_route("api.job.cancel", "/api/v1/_jobs/{id}/cancel", request_method="POST")
    config.add_view(api_cancel, route_name="api.job.cancel", renderer="json")
