"""Speakers found again, the parts without a model: new voices keep the labels (and so the
names) of the old speakers they overlap most, and a stage whose worker died is sent again."""

from __future__ import annotations

from datetime import timedelta

from kazru_stt.db.models import Job, utcnow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.job_status import JobStage, JobStatus, stage_of
from kazru_stt.services import accounts
from kazru_stt.services.rediarize import _keep_names
from kazru_stt.services.sweep import sweep
from tests.api_app import ApiApp

S1, S2, S3 = "SPEAKER_1", "SPEAKER_2", "SPEAKER_3"


def test_new_voices_keep_the_labels_of_the_old_speakers_they_overlap_most():
    old = [S1, S1, S2, S2, S2]
    # The clustering numbers its voices its own way: SPEAKER_2 is mostly old SPEAKER_1.
    new = [S2, S2, S1, S3, S1]
    durations = [3.0, 2.0, 4.0, 1.0, 2.0]
    assert _keep_names(old, new, durations) == [S1, S1, S2, S3, S2]
    # A third voice split out of the two gets a label nobody had; none stays none.
    assert _keep_names([S1, S2, None], [S1, S3, S2], [1.0, 1.0, 1.0]) == [S1, S2, S3]
    assert _keep_names([None, None], [S1, None], [1.0, 1.0]) == [S1, None]


def test_the_stage_of_a_job():
    assert stage_of(JobStatus.QUEUED, None) == JobStage.QUEUED
    assert stage_of(JobStatus.PROCESSING, None) == JobStage.RECOGNITION
    assert stage_of(JobStatus.COMPLETED, None) == JobStage.DONE
    assert stage_of(JobStatus.COMPLETED, "diarization") == JobStage.DIARIZATION


def test_the_sweep_sends_again_a_speakers_stage_whose_worker_stopped(tmp_path):
    api = ApiApp(tmp_path)
    sent: list[tuple[str, int | None]] = []
    api.ctx.extra["enqueue_diarize"] = lambda job_id, actor: sent.append((job_id, actor))
    owner = accounts.create_user(api.ctx, "owner@example.kz", None)["id"]
    long_ago = utcnow() - timedelta(seconds=api.settings.heartbeat_stale_s + 60)
    with session_scope(api.ctx.db_url) as db:
        for job_id, beat in (("a" * 32, long_ago), ("b" * 32, utcnow())):
            db.add(
                Job(
                    id=job_id,
                    owner_id=owner,
                    status=JobStatus.COMPLETED,
                    stage=JobStage.DIARIZATION,
                    heartbeat_at=beat,
                    filename="call.wav",
                )
            )
    assert sweep(api.ctx)["rediarized"] == 1
    assert sent == [("a" * 32, owner)]
    assert sweep(api.ctx)["rediarized"] == 0  # its heartbeat was renewed with the message
