"""Load: many clients polling one job's status, as open browser tabs do (each about once a
second), against a real `kazru serve` on 127.0.0.1. The load comes from `wrk` (Debian
package `wrk`, a C client: a Python client saturates a core of its own at 200 requests a
second and its lag shows up as server latency) when installed, else from httpx. Prints latency percentiles, errors, the
worst /healthz during the load, and how fast the server answers once the load stops; then
the same with more clients than it should take, to show it sheds load (429/503) instead of
hanging. Baseline in the same run: /healthz alone (no database, no auth) under the same load.

    .venv/bin/python benchmarks/load_poll.py [--clients 200] [--seconds 60] [--overload 500]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from common import EVAL_DIR


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


async def poller(client: httpx.AsyncClient, url: str, until: float, out: dict) -> None:
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            r = await client.get(url)
            out["latency"].append(time.monotonic() - started)
            out["codes"][r.status_code] = out["codes"].get(r.status_code, 0) + 1
        except httpx.HTTPError as exc:
            out["codes"][type(exc).__name__] = out["codes"].get(type(exc).__name__, 0) + 1
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


async def health_probe(base: str, until: float, out: list[float]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        while time.monotonic() < until:
            started = time.monotonic()
            try:
                await c.get("/healthz")
                out.append(time.monotonic() - started)
            except httpx.HTTPError:
                out.append(30.0)
            await asyncio.sleep(0.5)


async def run_load(svc, job_id: str, clients: int, seconds: float) -> dict:
    out = {"latency": [], "codes": {}}
    health: list[float] = []
    until = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10)
    headers = {"Authorization": f"Bearer {svc.key}"}
    async with httpx.AsyncClient(base_url=svc.url, headers=headers, timeout=30, limits=limits) as c:
        # Clients start spread over the first second, as tabs do.
        async def delayed(i):
            await asyncio.sleep(i / clients)
            await poller(c, f"/api/v1/transcriptions/{job_id}", until, out)

        await asyncio.gather(
            health_probe(svc.url, until, health), *(delayed(i) for i in range(clients))
        )
    started = time.monotonic()
    httpx.get(f"{svc.url}/healthz", timeout=30)
    out["after_s"] = time.monotonic() - started
    out["health"] = health
    return out


WRK_SCRIPT = """
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer %s"
math.randomseed(os.time())
function delay() return %s end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%f %%f %%f %%f\\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write,
    summary.errors.timeout, summary.errors.status, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
end
"""


def run_wrk(svc, job_id: str, clients: int, seconds: float, think_ms: str) -> dict:
    """`think_ms`: a Lua expression for the pause after each answer (0: as fast as it can)."""
    import subprocess
    import threading

    script = Path(tempfile.mkdtemp()) / "poll.lua"
    script.write_text(WRK_SCRIPT % (svc.key, think_ms))
    health: list[float] = []
    until = time.monotonic() + seconds
    probe = threading.Thread(target=lambda: asyncio.run(health_probe(svc.url, until, health)))
    probe.start()
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{int(seconds)}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            f"{svc.url}/api/v1/transcriptions/{job_id}",
        ],
        capture_output=True,
        text=True,
    ).stdout
    probe.join()
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    n, sock_err, timeouts, non2xx, dur_us, p50, p99, mx, _mean = line.split()[1:]
    started = time.monotonic()
    httpx.get(f"{svc.url}/healthz", timeout=30)
    return {
        "requests": int(n),
        "errors": int(sock_err),
        "timeouts": int(timeouts),
        "non_2xx": int(non2xx),
        "seconds": int(dur_us) / 1e6,
        "p50": float(p50) / 1e6,
        "p99": float(p99) / 1e6,
        "max": float(mx) / 1e6,
        "health": health,
        "after_s": time.monotonic() - started,
    }


def report_wrk(name: str, out: dict) -> None:
    print(
        f"{name}: {out['requests']} requests in {out['seconds']:.0f} s "
        f"({out['requests'] / out['seconds']:.0f}/s); socket errors {out['errors']}, "
        f"timeouts {out['timeouts']}, non-2xx (shed: 429/503) {out['non_2xx']}"
    )
    print(
        f"  poll latency p50 {out['p50'] * 1000:.1f} ms, p99 {out['p99'] * 1000:.1f} ms, "
        f"max {out['max'] * 1000:.1f} ms"
    )
    h = out["health"]
    print(
        f"  /healthz during load: median {statistics.median(h) * 1000:.1f} ms, "
        f"worst {max(h) * 1000:.1f} ms; right after the load: {out['after_s'] * 1000:.1f} ms"
    )


def server_side(svc, route: str) -> str:
    """The server's own latency histogram for the poll route (so client overhead shows)."""
    text = httpx.get(f"{svc.url}/metrics", headers={"Authorization": f"Bearer {svc.key}"}).text
    buckets = []
    for line in text.splitlines():
        if line.startswith("kazru_http_request_seconds_bucket") and f'route="{route}"' in line:
            le = line.split('le="')[1].split('"')[0]
            buckets.append((float(le), float(line.rsplit(" ", 1)[1])))
    total = buckets[-1][1] if buckets else 0
    if not total:
        return "no data"
    parts = []
    for p in (50, 99):
        bound = next(le for le, n in buckets if n >= total * p / 100)
        parts.append(f"p{p} <= {bound * 1000:.0f} ms")
    return ", ".join(parts) + f" ({int(total)} requests so far)"


def report(name: str, out: dict, seconds: float) -> None:
    lat = out["latency"]
    print(
        f"{name}: {len(lat)} answers in {seconds:.0f} s ({len(lat) / seconds:.0f}/s); "
        f"codes {out['codes']}"
    )
    print(
        f"  poll latency p50 {pct(lat, 50) * 1000:.1f} ms, p99 {pct(lat, 99) * 1000:.1f} ms, "
        f"max {max(lat, default=0) * 1000:.1f} ms"
    )
    h = out["health"]
    print(
        f"  /healthz during load: median {statistics.median(h) * 1000:.1f} ms, "
        f"worst {max(h) * 1000:.1f} ms; right after the load: {out['after_s'] * 1000:.1f} ms"
    )
    print(f"  ratio poll p99 / healthz median: {pct(lat, 99) / statistics.median(h):.1f}")


def main() -> None:
    from tests.service_harness import Backend, Service  # importable once common ran

    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--overload", type=int, default=500)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kazru-load-"))
    svc = Service(
        tmp / "data",
        tmp / "models",
        Backend.embedded(),
        # One key polls for every client here: lift the per-key and per-address limits.
        rate_limit_per_key="1000000/minute",
        rate_limit_per_address="1000000/minute",
    )
    svc.start(embedded_workers=0)  # no worker: the job stays queued, as most polled jobs are
    try:
        job = svc.upload(EVAL_DIR / "ru" / "tinkoff_sample_4.wav")
        route = "/api/v1/transcriptions/{job_id}"
        if shutil.which("wrk"):
            # Each client pauses 0.5-1.5 s after every answer: about once a second, not in step.
            out = run_wrk(svc, job["id"], args.clients, args.seconds, "math.random(500, 1500)")
            report_wrk(f"{args.clients} clients, wrk", out)
            print(f"  server-side (histogram buckets): {server_side(svc, route)}")
            if args.overload:
                out = run_wrk(svc, job["id"], args.overload, args.seconds / 2, "0")
                report_wrk(f"{args.overload} clients with no pause at all (overload), wrk", out)
            return
        out = asyncio.run(run_load(svc, job["id"], args.clients, args.seconds))
        report(f"{args.clients} clients", out, args.seconds)
        print(f"  server-side (histogram buckets): {server_side(svc, route)}")
        if args.overload:
            out = asyncio.run(run_load(svc, job["id"], args.overload, args.seconds / 2))
            report(f"{args.overload} clients (overload)", out, args.seconds / 2)
            print(f"  server-side, both runs: {server_side(svc, route)}")
    finally:
        svc.stop()


if __name__ == "__main__":
    main()
