"""Search speed over many long transcripts: `--transcripts` completed jobs (default 10,000) of
`--segments` passages each (default 360: 30 minutes in 5-second passages), owned by
`--owners` accounts, a third of them filed in `--workspaces` workspaces (each account a
member of two) and one in 50 tagged, on SQLite (FTS5) and on PostgreSQL (tsvector + GIN),
through the service's own search (services/search.py: the index, then the rows read through
the visibility seam). Prints p50/p95/max per kind of query (words alone, and words with a
workspace or a tag filter), for an account and for an admin.

The rows are generated: sentences of 8-16 words drawn (Zipf-like) from the words of the
repository's Kazakh and Russian references plus made-up words built from their syllables,
so that a few words are everywhere and most are rare, as in speech.

    .venv/bin/python benchmarks/search_speed.py [--transcripts 10000] [--segments 360]
        [--databases sqlite postgres] [--repeat 20]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import random
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from tests.service_harness import PG_ADMIN_URL  # noqa: E402

from kazru_stt.config import Settings  # noqa: E402
from kazru_stt.db.migrate import upgrade  # noqa: E402
from kazru_stt.db.models import Job, JobTag, User, Workspace, WorkspaceMember  # noqa: E402
from kazru_stt.db.session import get_engine, session_scope  # noqa: E402
from kazru_stt.domain.search_text import fold  # noqa: E402
from kazru_stt.services.accounts import Caller  # noqa: E402
from kazru_stt.services.context import ServiceContext  # noqa: E402
from kazru_stt.services.search import search  # noqa: E402

BATCH = 20_000


def vocabulary(rng: random.Random, made_up: int = 30_000) -> list[tuple[str, str]]:
    """(word, language) pairs, most frequent first."""
    words: dict[str, str] = {}
    for line in (ROOT / "tests" / "data" / "manifest.jsonl").read_text().splitlines():
        item = json.loads(line)
        if item["lang"] in ("kk", "ru"):
            for w in re.findall(r"\w+", (item["text"] or "").lower()):
                words.setdefault(w, item["lang"])
    real = list(words.items())
    syllables = sorted({w[i : i + 2] for w in words for i in range(0, len(w) - 1, 2)})
    invented = [
        ("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))), rng.choice("kr"))
        for _ in range(made_up)
    ]
    rng.shuffle(real)
    return real + [(w, "kk" if lang == "k" else "ru") for w, lang in invented]


@functools.cache
def _zipf(n: int) -> list[float]:
    return list(itertools.accumulate(1 / (rank + 1) for rank in range(n)))


def sentences(rng: random.Random, vocab: list[tuple[str, str]], n: int):
    for _ in range(n):
        picked = rng.choices(vocab, cum_weights=_zipf(len(vocab)), k=rng.randint(8, 16))
        lang = max(("kk", "ru"), key=lambda code: sum(1 for _, c in picked if c == code))
        yield " ".join(w for w, _ in picked).capitalize() + ".", lang


def spaces_of(owner: int, workspaces: list[int]) -> list[int]:
    """The two workspaces an account is a member of."""
    return [workspaces[owner % len(workspaces)], workspaces[(owner + 1) % len(workspaces)]]


def tag_of(n: int) -> str | None:
    return f"дело-{n % 40}" if n % 50 == 0 else None


def load(url: str, args, vocab, rng: random.Random) -> tuple[list[int], int, list[int]]:
    """The database filled; returns the owners' ids, an admin's and the workspaces'."""
    upgrade(url)
    sqlite = url.startswith("sqlite")
    with session_scope(url) as db:
        owners = [
            db.execute(
                insert(User).values(email=f"u{i}@example.kz").returning(User.id)
            ).scalar_one()
            for i in range(args.owners + 1)
        ]
    admin, owners = owners[0], owners[1:]
    with session_scope(url) as db:
        workspaces = [
            db.execute(insert(Workspace).values(name=f"w{i}").returning(Workspace.id)).scalar_one()
            for i in range(args.workspaces)
        ]
        db.execute(
            insert(WorkspaceMember),
            [
                {"workspace_id": w, "user_id": o, "role": "viewer"}
                for o in owners
                for w in spaces_of(o, workspaces)
            ],
        )
    engine = get_engine(url)
    segment_id = 0
    started = time.monotonic()
    for first in range(0, args.transcripts, 100):
        jobs = [
            {
                "id": uuid.uuid4().hex,
                "owner_id": owners[(first + k) % len(owners)],
                "workspace_id": workspaces[(first + k) % len(workspaces)]
                if (first + k) % 3 == 0
                else None,
                "status": "completed",
                "filename": f"hearing-{first + k}.wav",
                "duration_s": args.segments * 5.0,
            }
            for k in range(min(100, args.transcripts - first))
        ]
        tags = [
            {"job_id": job["id"], "folded": tag, "tag": tag}
            for k, job in enumerate(jobs)
            if (tag := tag_of(first + k))
        ]
        segments, entries = [], []
        for job in jobs:
            who = f"o{job['owner_id']}" + (
                f" w{job['workspace_id']}" if job["workspace_id"] else ""
            )
            for idx, (sentence, lang) in enumerate(sentences(rng, vocab, args.segments)):
                segment_id += 1
                segments.append(
                    (segment_id, job["id"], idx, idx * 5.0, idx * 5.0 + 4.8, lang, sentence)
                )
                entries.append((segment_id, fold(sentence), who, lang))
        with engine.begin() as conn:
            conn.execute(insert(Job), jobs)
            if tags:
                conn.execute(insert(JobTag), tags)
            raw = conn.connection.driver_connection
            if sqlite:
                raw.executemany(
                    'INSERT INTO segments(id, job_id, idx, start, "end", language, text,'
                    " edited, low_confidence) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)",
                    segments,
                )
                raw.executemany(
                    "INSERT INTO search_index(rowid, body, who, lang) VALUES (?, ?, ?, ?)",
                    entries,
                )
            else:
                with raw.cursor() as cur:
                    with cur.copy(
                        'COPY segments(id, job_id, idx, start, "end", language, text, edited,'
                        " low_confidence) FROM STDIN"
                    ) as copy:
                        for row in segments:
                            copy.write_row((*row, False, False))
                    with cur.copy("COPY search_index(segment_id, body, who, lang) FROM STDIN") as c:
                        for row in entries:
                            c.write_row(row)
        done = first + len(jobs)
        if done % 1000 == 0:
            print(f"  {done} transcripts, {segment_id} passages, {time.monotonic() - started:.0f} s",
                  flush=True)  # fmt: skip
    with engine.begin() as conn:  # the index's word list, as migration 0015 fills it
        if sqlite:
            conn.execute(
                text(
                    "CREATE VIRTUAL TABLE temp.search_vocab"
                    " USING fts5vocab(main, search_index, 'col')"
                )
            )
            conn.execute(
                text(
                    "INSERT OR IGNORE INTO search_terms(term)"
                    " SELECT DISTINCT term FROM temp.search_vocab WHERE col = 'body'"
                )
            )
        else:
            conn.execute(
                text(
                    "INSERT INTO search_terms(term) SELECT word FROM ts_stat("
                    "'SELECT to_tsvector(''simple'', body) FROM search_index')"
                    " ON CONFLICT DO NOTHING"
                )
            )
    with engine.begin() as conn:
        if sqlite:
            conn.execute(text("INSERT INTO search_index(search_index) VALUES ('optimize')"))
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text("SELECT setval('segments_id_seq', :n)"), {"n": segment_id})
            conn.execute(text("ANALYZE"))
    return owners, admin, workspaces


def queries(vocab: list[tuple[str, str]], rng: random.Random) -> dict[str, list[str]]:
    common = [w for w, _ in vocab[:40] if len(w) > 2][:10]
    middle = [w for w, _ in vocab[200:2000]]
    rare = [w for w, _ in vocab[-5000:]]
    return {
        "common word": common,
        "rarer word": rng.sample(middle, 20),
        "rare word": rng.sample(rare, 20),
        "word start (4 letters)": [w[:4] for w in rng.sample(middle, 20) if len(w) >= 4],
        "two words": [
            f"{a} {b}" for a, b in zip(common, rng.sample(middle, len(common)), strict=True)
        ],
        "nothing matches": ["щщщщщ", "zzzzz"],
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


FILTERS = {  # a query kind with a filter beside its words
    "common word, workspace": ("common word", "workspace"),
    "common word, tag": ("common word", "tag"),
    "rare word, tag": ("rare word", "tag"),
}


def measure(
    url: str,
    owners: list[int],
    admin: int,
    workspaces: list[int],
    asked: dict[str, list[str]],
    repeat: int,
):
    ctx = ServiceContext(settings=Settings(data_dir=Path(tempfile.mkdtemp()), database_url=url))
    rng = random.Random(7)
    print(
        f"{'query':>24} {'who':>8} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'hits':>5}"
    )
    everything: list[float] = []
    kinds = {kind: (kind, None) for kind in asked} | FILTERS
    for kind, (words_of, narrowed) in kinds.items():
        words = asked[words_of]
        for who in ("account", "admin"):
            times, hits = [], 0
            for _ in range(repeat):
                for q in words:
                    user = admin if who == "admin" else rng.choice(owners)
                    caller = Caller(user_id=user, email="x", is_admin=who == "admin")
                    given: dict = {}
                    if narrowed == "workspace":
                        given["workspace_id"] = rng.choice(spaces_of(user, workspaces))
                    elif narrowed == "tag":
                        given["tag"] = tag_of(50 * rng.randrange(40))
                    t0 = time.perf_counter()
                    found = search(ctx, caller, q, **given)
                    times.append((time.perf_counter() - t0) * 1000)
                    hits += len(found["hits"])
            everything += times
            print(
                f"{kind:>24} {who:>8} {len(times):>5} {percentile(times, 50):>8.1f} "
                f"{percentile(times, 95):>8.1f} {max(times):>8.1f} {hits / len(times):>5.1f}"
            )
    print(f"{'all':>24} {'':>8} {len(everything):>5} {percentile(everything, 50):>8.1f} "
          f"{percentile(everything, 95):>8.1f} {max(everything):>8.1f}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--transcripts", type=int, default=10_000)
    ap.add_argument("--segments", type=int, default=360)
    ap.add_argument("--owners", type=int, default=200)
    ap.add_argument("--workspaces", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--databases", nargs="+", default=["sqlite", "postgres"])
    args = ap.parse_args()
    rng = random.Random(2026)
    vocab = vocabulary(rng)
    asked = queries(vocab, rng)
    for database in args.databases:
        rng = random.Random(2026)
        if database == "sqlite":
            url = f"sqlite:///{tempfile.mkdtemp(prefix='kazru-search-')}/kazru.db"
            drop = None
        else:
            import psycopg

            name = f"kazru_search_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"

            def drop(name=name, url=url):
                get_engine(url).dispose()
                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        print(f"{database}: {args.transcripts} transcripts x {args.segments} passages, "
              f"{args.owners} accounts")  # fmt: skip
        try:
            started = time.monotonic()
            owners, admin, workspaces = load(url, args, vocab, rng)
            print(f"  loaded in {time.monotonic() - started:.0f} s")
            measure(url, owners, admin, workspaces, asked, args.repeat)
        finally:
            if drop:
                drop()


if __name__ == "__main__":
    main()
