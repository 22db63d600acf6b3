"""What a job may name: engines (/api/v1/engines) and local models (/api/v1/models, and
OpenAI's /v1/models)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from kazru_stt.api.deps import CallerDep, ContextDep
from kazru_stt.domain.engine_names import EngineName
from kazru_stt.services import engines as registry
from kazru_stt.services import model_registry

router = APIRouter(tags=["models"])
# Model names OpenAI clients send; they mean "the default model" here.
OPENAI_ALIASES = ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe")


@router.get("/api/v1/models", summary="Local models a job may name (`model`)")
async def list_models(_caller: CallerDep, ctx: ContextDep) -> dict:
    models = await run_in_threadpool(model_registry.available, ctx.settings)
    default = model_registry.default_name(ctx.settings)
    return {
        "default": default,
        "models": [
            {"name": m.name, "source": m.source, "default": m.name == default}
            for m in sorted(models.values(), key=lambda m: m.name)
        ],
    }


@router.get("/v1/models", summary="OpenAI-compatible model list")
async def openai_models(_caller: CallerDep, ctx: ContextDep) -> dict:
    models = await run_in_threadpool(model_registry.available, ctx.settings)
    names = [*OPENAI_ALIASES, *sorted(models)]
    return {
        "object": "list",
        "data": [{"id": n, "object": "model", "created": 0, "owned_by": "kazru"} for n in names],
    }


@router.get("/api/v1/engines", summary="Recognition engines, what they can do, which are usable")
def list_engines(_caller: CallerDep, ctx: ContextDep) -> dict:
    usable = {s.name for s in registry.configured(ctx.settings)}
    return {
        "default": ctx.settings.engine,
        "engines": [
            {
                "name": name,
                "label": registry.get(name).label,
                "capabilities": sorted(registry.get(name).capabilities),
                "configured": name in usable,
            }
            for name in registry.names()
        ],
    }


def job_model(ctx, name: str | None, engine: str) -> str | None:
    """The model a job asked for, checked (422 `unknown_model`); None: the default."""
    if not name or name in OPENAI_ALIASES or engine != EngineName.LOCAL:
        return None
    return model_registry.resolve(ctx.settings, name).name
