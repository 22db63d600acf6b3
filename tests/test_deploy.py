"""Deployment files checked offline: Kubernetes manifests against the API's schemas
(kubernetes-validate, strict: unknown fields fail) and KEDA's ScaledObject against its
vendored CRD schema; Prometheus alerts with promtool; every alert has a runbook entry;
the Compose file never publishes the API without keys; Dockerfile basics."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
PROM = ROOT / "deploy" / "prometheus"
K8S_VERSION = "1.30.0"


def _manifests() -> list[tuple[str, dict]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    docs = []
    for name in kustomization["resources"]:
        for doc in yaml.safe_load_all((K8S / name).read_text()):
            if doc:
                docs.append((name, doc))
    return docs


def test_every_manifest_is_valid_kubernetes():
    docs = _manifests()
    kinds = {doc["kind"] for _, doc in docs}
    assert {"Deployment", "Job", "PodDisruptionBudget", "ScaledObject", "Service"} <= kinds
    keda = json.loads((K8S / "schemas" / "keda-scaledobject-v1alpha1.json").read_text())
    for name, doc in docs:
        try:
            if doc["apiVersion"].startswith("keda.sh/"):
                jsonschema.validate(doc, keda)
            else:
                kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except Exception as exc:
            raise AssertionError(f"{name}: {doc['kind']} {doc['metadata']['name']}") from exc


def test_a_broken_manifest_is_caught():
    """The checks above can fail: a typo'd field and a KEDA trigger without metadata."""
    docs = dict((d["metadata"]["name"] + d["kind"], d) for _, d in _manifests())
    api = json.loads(json.dumps(docs["kazru-apiDeployment"]))
    api["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(api, K8S_VERSION, strict=True)
    scaled = json.loads(json.dumps(docs["kazru-workerScaledObject"]))
    del scaled["spec"]["triggers"][0]["metadata"]
    keda = json.loads((K8S / "schemas" / "keda-scaledobject-v1alpha1.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(scaled, keda)


def test_workloads_have_probes_resources_and_run_as_non_root():
    for _, doc in _manifests():
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            assert container["resources"]["requests"], doc["metadata"]["name"]
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
    api = next(d for _, d in _manifests() if d["metadata"]["name"] == "kazru-api")
    probes = api["spec"]["template"]["spec"]["containers"][0]
    assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_live_sessions_have_a_deployment_of_their_own():
    docs = {(d["kind"], d["metadata"]["name"]): d for _, d in _manifests()}
    live = docs[("Deployment", "kazru-live")]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "KAZRU_LIVE_MAX_SESSIONS", "value": "4"} in live["env"]
    api = docs[("Deployment", "kazru-api")]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "KAZRU_LIVE_MAX_SESSIONS", "value": "0"} in api["env"]
    paths = docs[("Ingress", "kazru")]["spec"]["rules"][0]["http"]["paths"]
    routes = {p["path"]: p["backend"]["service"]["name"] for p in paths}
    assert routes == {"/v1/realtime": "kazru-live", "/": "kazru-api"}


def test_keda_scales_each_stage_from_zero_on_its_celery_queue():
    from kazru_stt.tasks.celery_app import DIARIZE_QUEUE, QUEUE

    docs = {(d["kind"], d["metadata"]["name"]): d for _, d in _manifests()}
    assert docs[("ConfigMap", "kazru-config")]["data"]["KAZRU_STAGES_APART"] == "true"
    for name, queue, stages in (
        ("kazru-worker", QUEUE, "asr"),
        ("kazru-diarizer", DIARIZE_QUEUE, "diarization"),
    ):
        spec = docs[("ScaledObject", name)]["spec"]
        assert spec["scaleTargetRef"]["name"] == name
        assert spec["minReplicaCount"] == 0 and spec["cooldownPeriod"] > 0
        redis = next(t for t in spec["triggers"] if t["type"] == "redis")
        assert redis["metadata"]["listName"] == queue
        pod = docs[("Deployment", name)]["spec"]["template"]["spec"]
        assert pod["containers"][0]["command"] == ["kazru", "worker", "--stages", stages]


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail(
            "promtool not installed (Debian package prometheus; scripts/test.sh installs it)"
        )
    return path


def test_alert_rules_pass_promtool_check_and_unit_tests():
    check = subprocess.run(
        [_promtool(), "check", "rules", str(PROM / "alerts.yml")], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    unit = subprocess.run(
        [_promtool(), "test", "rules", "alerts_test.yml"],
        cwd=PROM,
        capture_output=True,
        text=True,
    )
    assert unit.returncode == 0, unit.stdout + unit.stderr


def test_every_alert_has_a_runbook_entry_and_uses_real_metrics():
    rules = yaml.safe_load((PROM / "alerts.yml").read_text())["groups"][0]["rules"]
    runbook = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    from kazru_stt import job_metrics
    from kazru_stt.api import metrics as api_metrics

    exported = {"kazru_queue_depth", "kazru_workers_live", "kazru_oldest_queued_job_age_seconds"}
    exported |= {"kazru_stage_jobs", "kazru_stage_workers_live"}
    exported |= {"kazru_disk_free_bytes", "kazru_jobs", "kazru_part_up"}
    for registry in (job_metrics.REGISTRY, api_metrics.REGISTRY):
        for family in registry.collect():
            suffixes = ("", "_total", "_bucket", "_count", "_sum")  # counters', histograms'
            exported |= {family.name + suffix for suffix in suffixes}
    for rule in rules:
        assert f"## {rule['alert']}" in runbook, rule["alert"]
        assert rule["annotations"]["runbook"].endswith("#" + rule["alert"].lower())
        for name in set(re.findall(r"kazru_[a-z_]+", rule["expr"])):
            assert name in exported, (rule["alert"], name)


def test_compose_never_publishes_the_api_without_keys():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "api", "worker", "scheduler", "migrate"} <= set(services)
    assert any("seaweedfs" in name or "minio" in name for name in services)
    env = compose["x-kazru-env"]
    assert env["KAZRU_SINGLE_USER"] == "false"
    assert env["KAZRU_STORAGE_URL"].startswith("s3://")
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port.startswith("${KAZRU_PUBLISH:-127.0.0.1}:"), (name, port)
    # Stages apart on every process, and a worker kind for each stage's queue.
    assert env["KAZRU_STAGES_APART"] == "true"
    stages = {
        s["command"][s["command"].index("--stages") + 1]
        for s in services.values()
        if s.get("command", [])[:2] == ["kazru", "worker"]
    }
    assert stages == {"asr", "diarization"}


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("\nFROM ") + text.startswith("FROM ") >= 2
    assert "\nUSER " in text and "USER root" not in text
    assert "HEALTHCHECK" in text
    assert "verify" in text  # the model is joined and checked at build time
