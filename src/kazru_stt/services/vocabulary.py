"""Each account's vocabulary: read, replaced as a whole (audited with its size, never its
terms), and given to the jobs the account starts."""

from __future__ import annotations

from kazru_stt.db.models import User
from kazru_stt.db.session import session_scope
from kazru_stt.domain.vocabulary import clean_terms
from kazru_stt.services import audit
from kazru_stt.services.context import ServiceContext


def terms(ctx: ServiceContext, user_id: int) -> list[str]:
    with session_scope(ctx.db_url) as db:
        user = db.get(User, user_id)
        return list(user.vocabulary or []) if user else []


def replace(ctx: ServiceContext, user_id: int, given: list[str], address: str | None) -> list[str]:
    cleaned = clean_terms(given)
    with session_scope(ctx.db_url) as db:
        user = db.get_one(User, user_id)
        user.vocabulary = cleaned or None
        audit.record(
            db,
            "vocabulary.replace",
            actor_id=user_id,
            target=f"user:{user_id}",
            address=address,
            details={"terms": len(cleaned)},
        )
    return cleaned
