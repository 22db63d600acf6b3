"""A day of arrivals replayed through the workers' autoscaling rule
(deploy/k8s/worker-scaledobject.yaml: KEDA on the Redis queue length and the jobs in
processing, HPA scale-down behaviour), with per-job processing times measured on this
machine (build/bench/worker_times.json from benchmarks/worker_throughput.py: the real-time
factor of one worker with two cores). Prints, for a few settings, the wait before a job
starts (percentiles), when results are ready, and the worker-minutes paid for, so an operator
can choose. Then one kind of worker (recognition and speakers in one job) beside a worker
kind per stage (KAZRU_STAGES_APART: deploy/k8s/worker.yaml and diarizer.yaml, each scaled on
its own queue): worker-hours and resident memory-hours per day, the wait for the text and
for the speakers, on the same days.

The day (Asia/Almaty working hours): a quiet night; a morning peak of court hearings that
end in bursts (several recordings uploaded together when a session closes); steady calls and
interviews through the afternoon; a thin evening. Recording lengths: hearings 20-150 min,
interviews 10-60 min, calls 1-12 min (log-normal within those bounds). Seeded: the same day
for every setting.

    .venv/bin/python benchmarks/autoscale_sim.py [--days 5]
"""

from __future__ import annotations

import argparse
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICK_S = 15.0  # KEDA pollingInterval


@dataclass(frozen=True)
class Rule:
    name: str
    min_replicas: int = 0
    max_replicas: int = 8
    list_length: int = 2  # waiting jobs per worker (redis trigger target)
    cooldown_s: float = 300.0  # to zero after this long with nothing queued or running
    scale_down_window_s: float = 300.0  # HPA stabilizationWindowSeconds
    scale_down_pods_per_min: int = 1


RULES = [
    Rule("as shipped: 0-8, 2 waiting/worker, cool-down 5 min"),
    Rule("eager: 0-8, 1 waiting/worker, cool-down 10 min", list_length=1, cooldown_s=600),
    Rule(
        "frugal: 0-4, 4 waiting/worker, cool-down 2 min",
        max_replicas=4,
        list_length=4,
        cooldown_s=120,
        scale_down_window_s=120,
    ),
    Rule("always 1 warm, up to 8 (2 waiting/worker)", min_replicas=1),
    Rule("fixed 2 workers (no autoscaling)", min_replicas=2, max_replicas=2),
]


def arrivals(rng: random.Random, day: int) -> list[tuple[float, float]]:
    """(arrival second, recording seconds) for one day starting at midnight."""
    out: list[tuple[float, float]] = []

    def length(lo_min: float, hi_min: float) -> float:
        mu, sigma = math.log(math.sqrt(lo_min * hi_min)), 0.6
        return 60 * min(hi_min, max(lo_min, rng.lognormvariate(mu, sigma)))

    base = day * 86400.0
    # Steady Poisson streams per hour of day: (hour from, hour to, per hour, kind).
    streams = [
        (0, 7, 0.5, (1, 12)),  # night: a few calls
        (7, 9, 6, (1, 12)),
        (9, 13, 10, (10, 60)),  # interviews, meetings
        (13, 18, 14, (1, 12)),  # calls
        (13, 18, 4, (10, 60)),
        (18, 24, 2, (1, 12)),
    ]
    for h0, h1, rate, (lo, hi) in streams:
        t = h0 * 3600.0
        while True:
            t += rng.expovariate(rate / 3600.0)
            if t >= h1 * 3600.0:
                break
            out.append((base + t, length(lo, hi)))
    # Hearings: sessions close between 10:00 and 13:00, each uploading 3-8 recordings at once.
    for _ in range(rng.randint(5, 8)):
        t = rng.uniform(10 * 3600, 13 * 3600)
        for i in range(rng.randint(3, 8)):
            out.append((base + t + i * 5.0, length(20, 150)))
    return sorted(out)


@dataclass
class Worker:
    ready_at: float
    busy_until: float = 0.0
    job: int | None = None


@dataclass
class Result:
    waits: list[float] = field(default_factory=list)
    turnaround_over_audio: list[float] = field(default_factory=list)
    worker_s: float = 0.0
    peak: int = 0


class Pool:
    """One Deployment of workers under the autoscaling rule, with its own FIFO queue; a
    job costs `cost(job)` seconds of a worker. `done` collects (job, finish time)."""

    def __init__(self, rule: Rule, cost, startup_s: float):
        self.rule, self.cost, self.startup_s = rule, cost, startup_s
        self.queue: list[tuple[int, float]] = []  # (job, queued at)
        self.workers = [Worker(ready_at=0.0) for _ in range(rule.min_replicas)]
        self.history: list[tuple[float, int]] = []  # (time, desired): the scale-down window
        self.last_active = self.last_down = -1e18
        self.res = Result()
        self.done: list[tuple[int, float]] = []

    @property
    def active(self) -> bool:
        return bool(self.queue) or any(w.job is not None for w in self.workers)

    def tick(self, t: float, counted: bool) -> None:
        rule, res = self.rule, self.res
        for w in self.workers:
            if w.job is not None and w.busy_until <= t:
                w.job = None
        for w in self.workers:
            if w.job is None and w.ready_at <= t and self.queue:
                j, queued_at = self.queue.pop(0)
                start = max(t, w.ready_at)
                w.job, w.busy_until = j, start + self.cost(j)
                res.waits.append(start - queued_at)
                self.done.append((j, w.busy_until))
        busy = sum(1 for w in self.workers if w.job is not None)
        # The rule: the larger of the two triggers' wishes.
        desired = max(math.ceil(len(self.queue) / rule.list_length), busy)
        if self.queue or busy:
            self.last_active = t
        if desired == 0 and self.workers and t - self.last_active < rule.cooldown_s:
            desired = 1  # KEDA still active: the HPA's floor is one replica
        desired = min(rule.max_replicas, max(rule.min_replicas, desired))
        self.history.append((t, desired))
        self.history = [(ht, d) for (ht, d) in self.history if ht >= t - rule.scale_down_window_s]
        window = [d for (_, d) in self.history]
        if desired > len(self.workers):  # scale up at once; a new pod starts, loads models
            self.workers += [
                Worker(ready_at=t + self.startup_s) for _ in range(desired - len(self.workers))
            ]
        else:
            target = max(window) if window else desired
            if desired == 0 and t - self.last_active >= rule.cooldown_s:
                target = 0  # KEDA deactivates: straight to zero
            if target < len(self.workers) and (t - self.last_down >= 60 or target == 0):
                idle = [w for w in self.workers if w.job is None]
                drop = len(self.workers) - target
                if target > 0:
                    drop = min(drop, rule.scale_down_pods_per_min)
                for w in idle[:drop]:
                    self.workers.remove(w)
                self.last_down = t
        res.peak = max(res.peak, len(self.workers))
        if counted:
            res.worker_s += len(self.workers) * TICK_S


def simulate(
    rule: Rule,
    jobs: list[tuple[float, float]],
    cost: tuple[float, float],
    startup_s: float,
    horizon: float,
) -> Result:
    """Worker time is counted over [0, horizon) (whole days); waits over every job."""
    pool = Pool(rule, lambda j: cost[0] + jobs[j][1] * cost[1], startup_s)
    end = jobs[-1][0] + 6 * 3600
    t, nxt = 0.0, 0
    while t < end or pool.active:
        while nxt < len(jobs) and jobs[nxt][0] <= t:
            pool.queue.append((nxt, jobs[nxt][0]))
            nxt += 1
        pool.tick(t, t < horizon)
        t += TICK_S
    pool.res.turnaround_over_audio = [(f - jobs[j][0]) / jobs[j][1] for j, f in pool.done]
    return pool.res


# Diarization's share of a diarized job's time (the held-out calls and recordings, README
# "Speakers": 13.5 %), and which recordings ask for speakers: hearings and interviews (10 min
# and longer) do, short calls mostly come as stereo (one party a channel) and do not.
DIARIZATION_SHARE = 0.135
DIARIZED_FROM_S = 600.0
# Resident memory of a worker after one two-speaker job on this 2-core machine, in GB: each
# stage's worker as tests/test_stages.py prints them, the one-kind worker (both model
# families) as an embedded `kazru serve` worker read the same way (/proc/PID/status VmRSS).
RSS_GB = {"one kind": 1.11, "recognition": 0.49, "diarization": 0.94}


def stages_compared(jobs, per_job: float, rtf: float, startup_s: float, horizon: float) -> None:
    rule = RULES[0]
    diarized = [audio >= DIARIZED_FROM_S for _, audio in jobs]

    def whole(j: int) -> float:
        t = per_job + jobs[j][1] * rtf
        return t / (1 - DIARIZATION_SHARE) if diarized[j] else t

    def speakers(j: int) -> float:
        return whole(j) * DIARIZATION_SHARE

    one = Pool(rule, whole, startup_s)
    asr = Pool(rule, lambda j: per_job + jobs[j][1] * rtf, startup_s)
    spk = Pool(rule, speakers, startup_s / 2)  # (no Whisper to load)
    end = jobs[-1][0] + 6 * 3600
    t, nxt = 0.0, 0
    while t < end or one.active or asr.active or spk.active:
        while nxt < len(jobs) and jobs[nxt][0] <= t:
            one.queue.append((nxt, jobs[nxt][0]))
            asr.queue.append((nxt, jobs[nxt][0]))
            nxt += 1
        # A diarized job's recognition, once finished, queues its speakers' stage.
        finished = sorted((f, j) for j, f in asr.done if f <= t)
        asr.done = [(j, f) for j, f in asr.done if f > t]
        spk.queue += [(j, f) for f, j in finished if diarized[j]]
        for pool in (one, asr, spk):
            pool.tick(t, t < horizon)
        t += TICK_S
    days = horizon / 86400
    text_wait = asr.res.waits
    print(
        f"\n{'one kind or a kind per stage (as shipped rule)':<46} {'worker-h/day':>12} "
        f"{'GB-h/day':>9} {'text wait p90':>13} {'max':>7}"
    )
    one_h = one.res.worker_s / 3600 / days
    print(
        f"{'one kind (recognition + speakers)':<46} {one_h:>12.1f} "
        f"{one_h * RSS_GB['one kind']:>9.1f} {pct(one.res.waits, 90):>12.0f}s "
        f"{max(one.res.waits):>6.0f}s"
    )
    asr_h, spk_h = asr.res.worker_s / 3600 / days, spk.res.worker_s / 3600 / days
    gb_h = asr_h * RSS_GB["recognition"] + spk_h * RSS_GB["diarization"]
    print(
        f"{'a kind per stage':<46} {asr_h + spk_h:>12.1f} {gb_h:>9.1f} "
        f"{pct(text_wait, 90):>12.0f}s {max(text_wait):>6.0f}s"
    )
    print(
        f"  recognition {asr_h:.1f} worker-h/day (peak {asr.res.peak}), speakers {spk_h:.1f} "
        f"(peak {spk.res.peak}); the speakers' stage waited p90 {pct(spk.res.waits, 90):.0f} s "
        f"after the text; {sum(diarized)} of {len(jobs)} recordings diarized"
    )


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def measured() -> tuple[float, float, str]:
    """(seconds per job, seconds per audio second) of one worker with two cores: a least-
    squares line through the measured jobs, and where they come from."""
    path = ROOT / "build" / "bench" / "worker_times.json"
    if path.exists():
        jobs = json.loads(path.read_text())[0]["per_job"]  # one worker, two threads
        n = len(jobs)
        xs = [j["audio_s"] for j in jobs]
        ys = [j["processing_s"] for j in jobs]
        mx, my = sum(xs) / n, sum(ys) / n
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
            (x - mx) ** 2 for x in xs
        )
        return my - slope * mx, slope, f"{path.relative_to(ROOT)} ({n} jobs, 1 worker x 2 threads)"
    return 3.7, 0.081, "defaults measured 2026-11-29 (run benchmarks/worker_throughput.py)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--startup-s",
        type=float,
        default=20.0,
        help="pod start + model load before a new worker takes a job",
    )
    args = ap.parse_args()
    per_job, rtf, source = measured()
    startup = args.startup_s
    rng = random.Random(args.seed)
    jobs = [j for d in range(args.days) for j in arrivals(rng, d)]
    audio_h = sum(j[1] for j in jobs) / 3600
    print(
        f"{args.days} days, {len(jobs)} recordings, {audio_h:.0f} h of audio; "
        f"a job takes {per_job:.1f} s + {rtf:.3f} x its length on one worker\n"
        f"(from {source}); worker start-up {startup:.0f} s\n"
    )
    print(
        f"{'setting':<52} {'wait p50':>9} {'p90':>7} {'p99':>7} {'max':>7} "
        f"{'ready/len p90':>13} {'worker-h/day':>12} {'peak':>5}"
    )
    for rule in RULES:
        r = simulate(rule, jobs, (per_job, rtf), startup, args.days * 86400.0)
        print(
            f"{rule.name:<52} {pct(r.waits, 50):>8.0f}s {pct(r.waits, 90):>6.0f}s "
            f"{pct(r.waits, 99):>6.0f}s {max(r.waits):>6.0f}s "
            f"{pct(r.turnaround_over_audio, 90):>13.2f} {r.worker_s / 3600 / args.days:>12.1f} "
            f"{r.peak:>5}"
        )
    busy_h = sum(per_job + j[1] * rtf for j in jobs) / 3600 / args.days
    print(f"\nbusy worker-hours per day (the floor): {busy_h:.1f}")
    stages_compared(jobs, per_job, rtf, startup, args.days * 86400.0)


if __name__ == "__main__":
    main()
