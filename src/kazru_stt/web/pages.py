"""The pages. Each one resolves the caller through the same seam as the API (session
cookie), reads through the services layer, and renders a template; the browser's scripts
then call the JSON API with the session cookie and its CSRF token."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from kazru_stt import i18n as catalogues
from kazru_stt.api.deps import (
    JobId,
    VersionNumber,
    check_same_origin,
    client_address,
    resolve_caller,
    set_session_cookie,
)
from kazru_stt.api.paths import STATIC_URL
from kazru_stt.api.routes.transcriptions import media_type_of
from kazru_stt.db.models import Job
from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.domain.transcript import Transcript
from kazru_stt.domain.vocabulary import MAX_TERMS
from kazru_stt.domain.workspace_roles import JobAction, WorkspaceRole
from kazru_stt.i18n import ERROR_MESSAGES, _, local_time
from kazru_stt.services import (
    accounts,
    accuracy,
    corrections,
    first_run,
    job_access,
    model_registry,
    queue_estimate,
    quotas,
    runtime_settings,
    versions,
    vocabulary,
)
from kazru_stt.services import jobs as job_service
from kazru_stt.services import search as search_service
from kazru_stt.services import workspaces as workspace_service
from kazru_stt.services.accounts import Caller
from kazru_stt.services.jobs import JobSort
from kazru_stt.services.settings_in_effect import REFRESH_S
from kazru_stt.web import i18n, view

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")  # autoescapes HTML
router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
SORT_LABELS = {
    JobSort.NEWEST: _("Newest first"),
    JobSort.OLDEST: _("Oldest first"),
    JobSort.NAME: _("By name"),
}
ROLE_NAMES = {
    WorkspaceRole.VIEWER: (_("Viewer"), _("reads and exports")),
    WorkspaceRole.EDITOR: (_("Editor"), _("also corrects, tags and uploads")),
    WorkspaceRole.MANAGER: (_("Manager"), _("also adds members, moves and deletes")),
}
EXPORT_FORMATS = ("docx", "pdf", "txt", "srt", "vtt", "json")


class VersionedStatic(StaticFiles):
    """Static files; a URL with the content hash (`?v=`) may be cached for a year."""

    async def get_response(self, path: str, scope) -> Response:
        response = await super().get_response(path, scope)
        if b"v=" in scope.get("query_string", b"") and response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


@lru_cache(maxsize=64)
def static_url(name: str) -> str:
    """A versioned URL (content hash), so browsers may cache static files for long."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]
    return f"{STATIC_URL}/{name}?v={digest}"


async def _caller(request: Request) -> Caller | None:
    try:
        return await resolve_caller(request)
    except KazruError:
        return None  # an ended session: show the sign-in page


def page_locale(request: Request, stored: str | None = None) -> str:
    return i18n.choose(
        request.query_params.get("lang"),
        request.cookies.get(i18n.COOKIE),
        stored,
        request.headers.get("accept-language", ""),
    )


def render(
    request: Request,
    name: str,
    caller: Caller | None,
    status: int = 200,
    stored_locale: str | None = None,
    **context,
) -> HTMLResponse:
    locale = page_locale(request, stored_locale)
    trans = catalogues.translations(locale)
    ctx = request.app.state.ctx
    response = templates.TemplateResponse(
        request,
        name,
        {
            "_": trans.gettext,
            "ngettext": trans.ngettext,
            "locale": locale,
            "locales": i18n.LOCALE_NAMES,
            "caller": caller,
            "static_url": static_url,
            "js_strings": view.js_strings(trans.gettext),
            # The job statuses templates and scripts test (domain/job_status, one home).
            "active_statuses": sorted(JobStatus.ACTIVE),
            "terminal_statuses": sorted(JobStatus.TERMINAL),
            "registration": ctx.settings.registration,
            "path": request.url.path,
            **context,
        },
        status_code=status,
    )
    if request.query_params.get("lang") in catalogues.LOCALES:
        response.set_cookie(i18n.COOKIE, locale, max_age=365 * 86400, samesite="lax")
    return response


def _to_login(request: Request) -> RedirectResponse:
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return RedirectResponse(f"/login?next={target}", status_code=303)


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/app"  # only a path of this site: no open redirect
    parts = urlsplit(target)
    return (parts.path or "/app") + (f"?{parts.query}" if parts.query else "")


async def _signed_in(request: Request) -> tuple[Caller, dict] | None:
    """The caller and their account, or None for a visitor who is not signed in."""
    caller = await _caller(request)
    if caller is None:
        return None
    ctx = request.app.state.ctx
    user = await run_in_threadpool(accounts.get_user, ctx, caller.user_id)
    wanted = request.query_params.get("lang")
    if wanted in catalogues.LOCALES and wanted != user.get("locale"):
        await run_in_threadpool(accounts.set_locale, ctx, caller.user_id, wanted)
        user["locale"] = wanted
    return caller, user


@router.get("/")
async def index(request: Request) -> Response:
    caller = await _caller(request)
    return RedirectResponse("/app" if caller else "/login", status_code=303)


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    if await run_in_threadpool(first_run.needed, request.app.state.ctx):
        return RedirectResponse("/setup", status_code=303)  # nobody to sign in yet
    return render(request, "login.html", None, next=_safe_next(next), mode="login")


def _account_refusal(code: str) -> str:
    """Why an account could not be made, for the registration and first-run forms."""
    return ERROR_MESSAGES.get(code, _("The account could not be created."))


async def _may_set_up(request: Request, token: str | None) -> bool:
    forwarded = any(h in request.headers for h in ("x-forwarded-for", "forwarded"))
    return await run_in_threadpool(
        first_run.allowed,
        request.app.state.ctx,
        await client_address(request),
        forwarded,
        token,
    )


@router.get("/setup")
async def setup_page(request: Request, token: str | None = None) -> Response:
    """The first run: the administrator's account, made here (see services/first_run.py)."""
    if not await run_in_threadpool(first_run.needed, request.app.state.ctx):
        return RedirectResponse("/login", status_code=303)
    if not await _may_set_up(request, token):
        return render(request, "login.html", None, status=403, mode="setup", allowed=False)
    return render(request, "login.html", None, mode="setup", allowed=True, token=token or "")


BrowserZone = Annotated[str | None, Form(max_length=64)]  # the sign-in page's script fills it


def _take_browser_zone(ctx, caller: Caller, zone: str | None) -> None:
    """The browser's time zone becomes the account's, where it has none yet; an unknown
    one is no reason to refuse a sign-in."""
    if zone:
        try:
            accounts.set_timezone(ctx, caller.user_id, zone, only_unset=True)
        except KazruError:
            pass


@router.post("/setup")
async def setup_form(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    token: Annotated[str | None, Form(max_length=200)] = None,
    timezone: BrowserZone = None,
) -> Response:
    check_same_origin(request)
    ctx = request.app.state.ctx
    if not await run_in_threadpool(first_run.needed, ctx):
        return RedirectResponse("/login", status_code=303)
    if not await _may_set_up(request, token):
        return render(request, "login.html", None, status=403, mode="setup", allowed=False)
    address = await client_address(request)
    try:
        await run_in_threadpool(first_run.create_administrator, ctx, email, password, address)
    except KazruError as exc:
        return render(
            request,
            "login.html",
            None,
            status=409 if exc.code == ErrorCode.CONFLICT else 422,
            mode="setup",
            allowed=True,
            token=token or "",
            error=_account_refusal(exc.code),
            email=email,
        )
    caller = await run_in_threadpool(accounts.authenticate_password, ctx, email, password, address)
    await run_in_threadpool(_take_browser_zone, ctx, caller, timezone)
    return await _start_session(request, caller, "/app")


@router.post("/login")
async def login_form(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str | None, Form(max_length=2048)] = None,
    timezone: BrowserZone = None,
) -> Response:
    check_same_origin(request)
    ctx = request.app.state.ctx
    try:
        caller = await run_in_threadpool(
            accounts.authenticate_password, ctx, email, password, await client_address(request)
        )
    except KazruError:
        return render(
            request,
            "login.html",
            None,
            status=401,
            next=_safe_next(next),
            mode="login",
            error=ERROR_MESSAGES[ErrorCode.BAD_CREDENTIALS],
            email=email,
        )
    await run_in_threadpool(_take_browser_zone, ctx, caller, timezone)
    return await _start_session(request, caller, _safe_next(next))


@router.get("/register")
async def register_page(request: Request) -> Response:
    if not request.app.state.ctx.settings.registration:
        return RedirectResponse("/login", status_code=303)
    return render(request, "login.html", None, next="/app", mode="register")


@router.post("/register")
async def register_form(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    check_same_origin(request)
    ctx = request.app.state.ctx
    if not ctx.settings.registration:
        return RedirectResponse("/login", status_code=303)
    try:
        await run_in_threadpool(
            accounts.register, ctx, email, password, address=await client_address(request)
        )
    except KazruError as exc:
        message = _account_refusal(exc.code)
        return render(
            request,
            "login.html",
            None,
            status=422,
            next="/app",
            mode="register",
            error=message,
            email=email,
        )
    # Nobody is signed in here: a new address and a taken one get the same page.
    return render(
        request,
        "login.html",
        None,
        next="/app",
        mode="login",
        notice=_("Done. Sign in with this address and the password you chose."),
        email=email,
    )


async def _start_session(request: Request, caller: Caller, target: str) -> Response:
    ctx = request.app.state.ctx
    token, _session, _expires = await run_in_threadpool(accounts.create_session, ctx, caller)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, token)
    return response


Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]


@dataclass(frozen=True)
class ListFilters:
    """What the list shows: the page's query (a plain GET form; htmx swaps the list)."""

    workspace: int | None = None  # 0: only those in no workspace
    tag: str = ""
    sort: JobSort = JobSort.NEWEST

    def query(self, offset: int) -> str:
        given = {"workspace": self.workspace, "tag": self.tag, "offset": offset}
        if self.sort != JobSort.NEWEST:
            given["sort"] = self.sort.value
        return urlencode({k: v for k, v in given.items() if v not in (None, "")})


async def list_filters(
    workspace: Annotated[int | None, Query(ge=0)] = None,
    tag: Annotated[str, Query(max_length=64)] = "",
    sort: JobSort = JobSort.NEWEST,
) -> ListFilters:
    return ListFilters(workspace, tag.strip(), sort)


Filters = Annotated[ListFilters, Depends(list_filters)]


@router.get("/app")
async def transcriptions_page(request: Request, filters: Filters, offset: Offset = 0) -> Response:
    return await _transcriptions(request, offset, filters, "transcriptions.html")


Day = Annotated[str, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")]  # an <input type=date>


def _day(value: str) -> date | None:
    """A day from a date field; none for an empty or impossible one (a 31st of February)."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/app/search")
async def search_page(
    request: Request,
    q: Annotated[str, Query(max_length=200)] = "",
    language: Annotated[str, Query(pattern=r"^(kk|ru|en|)$")] = "",
    workspace: Annotated[int | None, Query(ge=1)] = None,
    tag: Annotated[str, Query(max_length=64)] = "",
    speaker: Annotated[str, Query(max_length=100)] = "",
    date_from: Day = "",
    date_to: Day = "",
    offset: Offset = 0,
) -> Response:
    """Words across my transcripts: each hit its passage, opening the transcript there."""
    signed = await _signed_in(request)
    if signed is None:
        return _to_login(request)
    caller, user = signed
    ctx = request.app.state.ctx
    found = None
    if q.strip():
        found = await run_in_threadpool(
            lambda: search_service.search(
                ctx,
                caller,
                q,
                language=language or None,
                workspace_id=workspace,
                tag=tag.strip() or None,
                speaker=speaker.strip() or None,
                date_from=_day(date_from),
                date_to=_day(date_to),
                limit=PAGE_SIZE,
                offset=min(offset, 10_000),
            )
        )
    spaces = await run_in_threadpool(workspace_service.list_mine, ctx, caller)
    locale = page_locale(request, user["locale"])
    asked = {
        "q": q,
        "language": language,
        "workspace": workspace,
        "tag": tag,
        "speaker": speaker,
        "date_from": date_from,
        "date_to": date_to,
    }

    def page(at: int) -> str:
        return urlencode({k: v for k, v in {**asked, "offset": at}.items() if v not in (None, "")})

    return render(
        request,
        "search.html",
        caller,
        stored_locale=user["locale"],
        asked=asked,
        workspaces=spaces,
        hits=[view.search_hit(h, found["terms"], locale) for h in found["hits"]] if found else None,
        prev_page=page(max(offset - PAGE_SIZE, 0)) if offset else None,
        next_page=page(offset + PAGE_SIZE) if found and found["more"] else None,
    )


@router.get("/app/jobs")
async def jobs_fragment(request: Request, filters: Filters, offset: Offset = 0) -> Response:
    """The list alone, for htmx: after an upload, and when paging."""
    return await _transcriptions(request, offset, filters, "_jobs.html")


async def _transcriptions(
    request: Request, offset: int, filters: ListFilters, template: str
) -> Response:
    signed = await _signed_in(request)
    if signed is None:
        return _to_login(request)
    caller, user = signed
    ctx = request.app.state.ctx

    def load():
        rows, total = job_service.list_jobs(
            ctx,
            caller,
            workspace_id=filters.workspace,
            tag=filters.tag or None,
            sort=filters.sort,
            limit=PAGE_SIZE,
            offset=offset,
        )
        return rows, total, job_service.tags_of(ctx, [j.id for j in rows])

    rows, total, labels = await run_in_threadpool(load)
    zone = await run_in_threadpool(accounts.zone_of, ctx, caller.user_id)
    spaces = await run_in_threadpool(workspace_service.list_mine, ctx, caller)
    names = {w["id"]: w["name"] for w in spaces}
    return render(
        request,
        template,
        caller,
        stored_locale=user["locale"],
        jobs=[
            {
                **view.job_row(j, zone=zone),
                "tags": labels[j.id],
                "workspace": names.get(j.workspace_id),
            }
            for j in rows
        ],
        workspaces=spaces,
        filing=[w for w in spaces if w["may_file"]],
        filters=filters,
        sorts=[(s.value, SORT_LABELS[s]) for s in JobSort],
        formats=EXPORT_FORMATS,
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        engines=view.engines(ctx.settings),
        diarize_by_default=ctx.settings.diarize_by_default,
        active=JobStatus.ACTIVE,
    )


@router.get("/app/t/{job_id}")
async def transcript_page(request: Request, job_id: JobId) -> Response:
    return await _transcript(request, job_id, "transcript.html")


@router.get("/app/t/{job_id}/segments")
async def segments_fragment(request: Request, job_id: JobId) -> Response:
    """The passages alone: the editor swaps them in after a split, merge, undo or redo."""
    return await _transcript(request, job_id, "_segments.html")


@router.get("/app/t/{job_id}/history")
async def history_fragment(request: Request, job_id: JobId) -> Response:
    """The corrections of a transcript, newest first, for the editor's history panel."""
    opened = await _visible_job(request, job_id)
    if isinstance(opened, Response):
        return opened
    caller, user, job, _allowed = opened
    ctx = request.app.state.ctx
    found = await run_in_threadpool(corrections.history, ctx, job)
    zone = await run_in_threadpool(accounts.zone_of, ctx, caller.user_id)
    locale = page_locale(request, user["locale"])
    return render(
        request,
        "_history.html",
        caller,
        stored_locale=user["locale"],
        items=view.history_view(found["items"], zone, locale),
    )


async def _visible_job(
    request: Request, job_id: str
) -> tuple[Caller, dict, Job, frozenset[JobAction]] | Response:
    """The signed-in caller, their account, the job and what they may do with it, or the
    page to answer instead (the sign-in page; not found, also for a job of someone else)."""
    signed = await _signed_in(request)
    if signed is None:
        return _to_login(request)
    caller, user = signed
    try:
        job, allowed = await run_in_threadpool(
            job_access.open_job, request.app.state.ctx, caller, job_id, JobAction.READ
        )
    except KazruError:
        return render(request, "not_found.html", caller, status=404, stored_locale=user["locale"])
    return caller, user, job, allowed


def _player(job: Job) -> dict:
    """What the page's player plays: the job's recording, unless retention removed it."""
    return {
        "audio_url": f"/api/v1/transcriptions/{job.id}/audio" if job.storage_key else None,
        "is_video": (media_type_of(job.content_type, job.filename) or "").startswith("video/"),
    }


async def _transcript(request: Request, job_id: str, template: str) -> Response:
    opened = await _visible_job(request, job_id)
    if isinstance(opened, Response):
        return opened
    caller, user, job, allowed = opened
    ctx = request.app.state.ctx
    transcript = undo_state = position = wait = None
    if job.status == JobStatus.COMPLETED:
        transcript = await run_in_threadpool(job_service.load_transcript, ctx, job)
        undo_state = await run_in_threadpool(corrections.undo_state, ctx, job)
    elif job.status == JobStatus.QUEUED:
        position, wait = await run_in_threadpool(queue_estimate.place, ctx, job)
    labels: dict[str, list[str]] = {job.id: []}
    spaces: list[dict] = []
    earlier: list[dict] = []
    local_models: list[str] = []
    locale = page_locale(request, user["locale"])
    if template == "transcript.html":  # the passages alone (after an edit) show none of these
        labels = await run_in_threadpool(job_service.tags_of, ctx, [job.id])
        spaces = await run_in_threadpool(workspace_service.list_mine, ctx, caller)
        zone = await run_in_threadpool(accounts.zone_of, ctx, caller.user_id)
        found = await run_in_threadpool(versions.listing, ctx, job)
        earlier = view.versions_view(found, zone, locale)
        local_models = sorted(await run_in_threadpool(model_registry.available, ctx.settings))
    return render(
        request,
        template,
        caller,
        stored_locale=user["locale"],
        filing=[w for w in spaces if w["may_file"]],
        job={
            **view.job_row(job),
            "tags": labels[job.id],
            "workspace_id": job.workspace_id,
            "workspace": next((w["name"] for w in spaces if w["id"] == job.workspace_id), None),
            "own": job.owner_id == caller.user_id,
            "can_edit": JobAction.EDIT in allowed,
            "can_manage": JobAction.MANAGE in allowed,
            "queue_position": position,
            "wait_minutes": view.wait_minutes(wait),
            "engine": job.engine,
            "model": job_service.options_from_dict(job.options or {}).model,
            "language": job.language,
        },
        transcript=view.transcript_view(transcript, locale) if transcript else None,
        versions=earlier,
        engines=view.engines(ctx.settings),
        local_models=local_models,
        local_engine=EngineName.LOCAL,
        undo_state=undo_state,
        language_choices=view.language_choices,
        weak_kazakh=view.weak_kazakh(transcript, ctx.settings) if transcript else False,
        **_player(job),
    )


@router.get("/app/t/{job_id}/versions/{number}")
async def version_page(request: Request, job_id: JobId, number: VersionNumber) -> Response:
    """An earlier transcript of a job recognised again: read-only, its times playing the
    same recording."""
    opened = await _visible_job(request, job_id)
    if isinstance(opened, Response):
        return opened
    caller, user, job, _allowed = opened
    ctx = request.app.state.ctx
    try:
        found = await run_in_threadpool(versions.read, ctx, job, number)
    except KazruError:
        return render(request, "not_found.html", caller, status=404, stored_locale=user["locale"])
    zone = await run_in_threadpool(accounts.zone_of, ctx, caller.user_id)
    locale = page_locale(request, user["locale"])
    return render(
        request,
        "version.html",
        caller,
        stored_locale=user["locale"],
        job={"id": job.id, "filename": job.filename},
        version=view.versions_view([found], zone, locale)[0],
        transcript=view.transcript_view(Transcript.from_dict(found["transcript"]), locale),
        **_player(job),
    )


@router.get("/app/accuracy")
async def accuracy_page(request: Request) -> Response:
    return await _accuracy(request, everyone=False)


@router.get("/app/admin/accuracy")
async def admin_accuracy_page(request: Request) -> Response:
    return await _accuracy(request, everyone=True)


async def _accuracy(request: Request, everyone: bool) -> Response:
    signed = await _signed_in(request)
    if signed is None:
        return _to_login(request)
    caller, user = signed
    if everyone and not caller.is_admin:
        return render(request, "not_found.html", caller, status=404, stored_locale=user["locale"])
    ctx = request.app.state.ctx
    figures = await run_in_threadpool(accuracy.summary, ctx, None if everyone else caller.user_id)
    return render(
        request,
        "accuracy.html",
        caller,
        stored_locale=user["locale"],
        everyone=everyone,
        figures=figures,
        chart=view.accuracy_chart(figures["weeks"]),
        percent=view.percent,
        week_label=view.week_label,
    )


@router.get("/app/keys")
async def keys_page(request: Request) -> Response:
    signed = await _signed_in(request)
    if signed is None:
        return _to_login(request)
    caller, user = signed
    keys = await run_in_threadpool(accounts.list_keys, request.app.state.ctx, caller.user_id)
    return render(request, "keys.html", caller, stored_locale=user["locale"], keys=keys)


@router.get("/app/record")
async def record_page(request: Request) -> Response:
    signed = await _signed_in(request)
    if signed is None:
        return _to_login(request)
    caller, user = signed
    settings = request.app.state.ctx.settings
    return render(
        request, "record.html", caller, stored_locale=user["locale"], idle_s=settings.live_idle_s
    )


@router.get("/app/workspaces")
async def workspaces_page(request: Request) -> Response:
    signed = await _signed_in(request)
    if signed is None:
        return _to_login(request)
    caller, user = signed
    ctx = request.app.state.ctx

    def load():
        spaces = workspace_service.list_mine(ctx, caller)
        for w in spaces:
            w["member_list"] = workspace_service.members(ctx, caller, w["id"])
        return spaces

    spaces = await run_in_threadpool(load)
    return render(
        request,
        "workspaces.html",
        caller,
        stored_locale=user["locale"],
        workspaces=spaces,
        roles=[(r.value, *ROLE_NAMES[r]) for r in WorkspaceRole],
        role_names={r.value: ROLE_NAMES[r][0] for r in WorkspaceRole},
        may_create=caller.is_admin or ctx.settings.workspaces_self_service,
        me=caller.user_id,
    )


@router.get("/app/account")
async def account_page(request: Request) -> Response:
    signed = await _signed_in(request)
    if signed is None:
        return _to_login(request)
    caller, user = signed
    ctx = request.app.state.ctx
    usage = await run_in_threadpool(quotas.usage, ctx, caller.user_id)
    terms = await run_in_threadpool(vocabulary.terms, ctx, caller.user_id)
    return render(
        request,
        "account.html",
        caller,
        stored_locale=user["locale"],
        user=user,
        usage=usage,
        settings=ctx.settings,
        terms=terms,
        max_terms=MAX_TERMS,
        zones=accounts.known_zones(),
    )


@router.get("/app/admin")
async def admin_page(request: Request) -> Response:
    signed = await _signed_in(request)
    if signed is None:
        return _to_login(request)
    caller, user = signed
    if not caller.is_admin:
        return render(request, "not_found.html", caller, status=404, stored_locale=user["locale"])
    ctx = request.app.state.ctx
    users, users_total = await run_in_threadpool(accounts.list_users, ctx, 200, 0)
    zone = await run_in_threadpool(accounts.zone_of, ctx, caller.user_id)
    rows, jobs_total = await run_in_threadpool(
        lambda: job_service.list_jobs(ctx, caller, limit=100, offset=0)
    )
    emails = {u["id"]: u["email"] for u in users}
    tunable = await run_in_threadpool(runtime_settings.states, ctx.base_settings, ctx.db_url)
    changes = await run_in_threadpool(runtime_settings.history, ctx.db_url, None, 20)
    locale = page_locale(request, user["locale"])
    return render(
        request,
        "admin.html",
        caller,
        stored_locale=user["locale"],
        users=users,
        users_total=users_total,
        jobs=[view.job_row(j, emails, zone=zone) for j in rows],
        jobs_total=jobs_total,
        runtime_settings=tunable,
        setting_labels=view.SETTING_LABELS,
        source_labels=view.SOURCE_LABELS,
        refresh_s=int(REFRESH_S),
        setting_changes=[
            {
                "when": local_time(c.at, zone, locale),
                "name": c.name,
                "old": c.old,
                "new": c.new,
                "who": emails.get(c.actor_id) if c.actor_id else None,
            }
            for c in changes
        ],
    )
