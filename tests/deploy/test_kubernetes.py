"""deploy/k8s: every overlay renders (kubectl kustomize), every built-in object
validates against the Kubernetes 1.31 schemas (kubernetes-validate, strict), checkov
passes with each skip explained, and the objects say what the issue and the code
need: hardened pods, probes on /healthz, NetworkPolicies, the NATS identities,
CloudNativePG, KEDA on the screening consumer, alerts on metrics that exist.

Custom resources (CloudNativePG Cluster/ScheduledBackup, barman-cloud ObjectStore,
KEDA ScaledObject, prometheus-operator PodMonitor/PrometheusRule) have no schema in
kubernetes-validate; tests/deploy/crds.py checks them against the fields their
projects document (see there)."""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml

from shared.config import nats_servers
from shared.events import STREAM
from tests.deploy.checkov import run_checkov
from tests.deploy.conftest import REPO, need
from tests.deploy.crds import check_custom_resource

K8S = REPO / "deploy" / "k8s"
OVERLAYS = ("dev", "production")
BUILT_IN_GROUPS = {"v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1", "autoscaling/v2"}


@cache
def rendered_text(overlay: str) -> str:
    out = subprocess.run([str(need("kubectl")), "kustomize", str(K8S / "overlays" / overlay)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def objects(overlay: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(rendered_text(overlay)) if d]


def one(overlay: str, kind: str, name: str) -> dict:
    (obj,) = [o for o in objects(overlay) if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj


def pods(overlay: str) -> list[tuple[str, dict]]:
    return [(o["metadata"]["name"], o["spec"]["template"]["spec"]) for o in objects(overlay)
            if o["kind"] in ("Deployment", "Job")]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    return request.param


def _write(tmp_path: Path, overlay: str) -> Path:
    path = tmp_path / f"{overlay}.yaml"
    path.write_text(rendered_text(overlay))
    return path


def test_overlay_renders_every_part(overlay: str) -> None:
    kinds = sorted(o["kind"] for o in objects(overlay))
    print(f"\n[deploy] {overlay}: {len(kinds)} objects rendered")
    for kind in ("Namespace", "ConfigMap", "Deployment", "Job", "Service", "Ingress", "PodDisruptionBudget",
                 "NetworkPolicy", "HorizontalPodAutoscaler", "Cluster", "ScheduledBackup", "ObjectStore",
                 "PodMonitor", "PrometheusRule"):
        assert kind in kinds, (overlay, kind)
    assert {o["metadata"]["name"] for o in objects(overlay) if o["kind"] == "Deployment"} == {
        "submission", "moderation", "publishing", "worker"}
    assert all(o["metadata"].get("namespace") == "braided" for o in objects(overlay) if o["kind"] != "Namespace")


def test_built_in_objects_validate_against_kubernetes_1_31(overlay: str, tmp_path: Path) -> None:
    path = _write(tmp_path, overlay)
    out = subprocess.run([str(need("kubernetes-validate")), "-k", "1.31.0", "--strict", "--quiet", str(path)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    built_in = [o for o in objects(overlay) if o["apiVersion"] in BUILT_IN_GROUPS]
    print(f"\n[deploy] {overlay}: {len(built_in)} built-in objects valid for Kubernetes 1.31 (strict)")
    # The validator does fail: an unknown field in a Deployment is refused.
    broken = tmp_path / "broken.yaml"
    broken.write_text(rendered_text(overlay).replace("  revisionHistoryLimit: 5\n",
                                                     "  revisionHistoryLimit: 5\n  replicaz: 3\n", 1))
    bad = subprocess.run([str(need("kubernetes-validate")), "-k", "1.31.0", "--strict", "--quiet", str(broken)],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "replicaz" in bad.stdout + bad.stderr


def test_custom_resources_use_only_documented_fields(overlay: str) -> None:
    custom = [o for o in objects(overlay) if o["apiVersion"] not in BUILT_IN_GROUPS]
    for obj in custom:
        check_custom_resource(obj)
    # The check can fail: a misspelt field of a documented kind is refused.
    cluster = one(overlay, "Cluster", "braided-pg")
    with pytest.raises(AssertionError, match="unknown field instanses"):
        check_custom_resource(cluster | {"spec": {**cluster["spec"], "instanses": 3}})
    print(f"\n[deploy] {overlay}: {len(custom)} custom resources checked: {sorted(o['kind'] for o in custom)}")


def test_checkov_passes_every_overlay_with_each_skip_explained(overlay: str, tmp_path: Path) -> None:
    summary = run_checkov(_write(tmp_path, overlay), "kubernetes")
    assert summary["failed"] == [], summary["failed"]
    assert all(len(reason) > 20 for _, _, reason in summary["skipped"]), summary["skipped"]


def test_every_pod_is_hardened(overlay: str) -> None:
    for name, spec in pods(overlay):
        sc = spec["securityContext"]
        assert sc["runAsNonRoot"] and sc["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        for c in spec["containers"]:
            csc = c["securityContext"]
            assert csc["readOnlyRootFilesystem"] and csc["allowPrivilegeEscalation"] is False, name
            assert csc["capabilities"]["drop"] == ["ALL"], name
            assert c["resources"]["requests"] and c["resources"]["limits"], name
            mounts = {m["mountPath"] for m in c["volumeMounts"]}
            assert {"/data", "/tmp", "/run/secrets"} <= mounts, name
            assert not any("secretKeyRef" in str(e) for e in c.get("env", [])), name  # secrets as files


def test_services_are_probed_on_healthz(overlay: str) -> None:
    for name, spec in pods(overlay):
        if name in ("submission", "moderation", "publishing"):
            (c,) = spec["containers"]
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert c[probe]["httpGet"]["path"] == "/healthz", (name, probe)
            assert c["args"] == ["braided", "serve", name]


def test_each_process_has_its_own_nats_identity(overlay: str) -> None:
    auth = (REPO / "deploy" / "nats" / "auth.conf").read_text()
    for name, spec in pods(overlay):
        if name == "migrate":
            continue
        (c,) = spec["containers"]
        user = next(e["value"] for e in c["env"] if e["name"] == "NATS_USER")
        assert f"user: {user}, password: $" in auth
        (secrets,) = [v for v in spec["volumes"] if v["name"] == "secrets"]
        items = [i for s in secrets["projected"]["sources"] for i in s["secret"]["items"]]
        assert {"key": user, "path": "NATS_PASSWORD"} in items, name
    config = one(overlay, "ConfigMap", "braided-config")["data"]
    assert config["STREAM_REPLICAS"] == "3" and len(nats_servers(config["NATS_URL"])) == 3


def test_network_policies_fence_every_port(overlay: str) -> None:
    policies = {o["metadata"]["name"]: o["spec"] for o in objects(overlay) if o["kind"] == "NetworkPolicy"}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    (metrics,) = policies["metrics-from-monitoring"]["ingress"]
    assert metrics["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    assert metrics["ports"] == [{"port": "metrics"}]
    (web,) = policies["web-from-ingress-controller"]["ingress"]
    assert web["ports"] == [{"port": "http"}]


def test_ingresses_keep_no_access_log_and_fence_moderation(overlay: str) -> None:
    public, moderation = one(overlay, "Ingress", "public"), one(overlay, "Ingress", "moderation")
    for ing in (public, moderation):
        assert ing["metadata"]["annotations"]["nginx.ingress.kubernetes.io/enable-access-log"] == "false"
    assert moderation["metadata"]["annotations"]["nginx.ingress.kubernetes.io/whitelist-source-range"]
    backends = {r["http"]["paths"][0]["backend"]["service"]["name"] for r in public["spec"]["rules"]}
    assert backends == {"publishing", "submission"}


def test_production_runs_three_postgres_instances_with_backups_and_keda() -> None:
    cluster = one("production", "Cluster", "braided-pg")
    assert cluster["spec"]["instances"] == 3
    (plugin,) = cluster["spec"]["plugins"]
    assert plugin["isWALArchiver"] and one("production", "ObjectStore", plugin["parameters"]["barmanObjectName"])
    backup = one("production", "ScheduledBackup", "braided-pg-nightly")
    assert backup["spec"]["cluster"]["name"] == "braided-pg" and backup["spec"]["method"] == "plugin"
    from services.moderation.worker import DURABLE

    scaled = one("production", "ScaledObject", "worker")
    triggers = {t["type"]: t for t in scaled["spec"]["triggers"]}
    js = triggers["nats-jetstream"]["metadata"]
    assert (js["stream"], js["consumer"]) == (STREAM, DURABLE)
    assert re.search(rf"^  {js['account']} {{", (REPO / "deploy" / "nats" / "auth.conf").read_text(), re.M)
    assert triggers["cpu"]["metadata"]["value"]
    hpa = one("production", "HorizontalPodAutoscaler", "publishing")
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert not [o for o in objects("dev") if o["kind"] == "ScaledObject"]
    assert one("dev", "HorizontalPodAutoscaler", "worker")


def test_alerts_and_dashboard_use_metrics_that_exist() -> None:
    """Every braided_* series is one the code registers; every cnpg_braided_* series
    is one the PostgreSQL exporter's custom queries produce (cnpg_<query>_<column>)."""
    import prometheus_client

    import shared.consumer  # noqa: F401 - registers their metrics
    import shared.outbox  # noqa: F401
    import shared.retention  # noqa: F401
    import shared.web  # noqa: F401

    exported = set()
    for metric in prometheus_client.REGISTRY.collect():
        for sample in metric.samples:
            exported.add(sample.name)
        exported |= {metric.name, metric.name + "_total", metric.name + "_count", metric.name + "_bucket"}
    queries = yaml.safe_load(one("production", "ConfigMap", "braided-pg-queries")["data"]["queries.yaml"])
    from_pg = {f"cnpg_{q}_{col}" for q, spec in queries.items() for m in spec["metrics"] for col, v in m.items()
               if v["usage"] != "LABEL"}
    rules = one("production", "PrometheusRule", "braided")
    dashboard = one("production", "ConfigMap", "braided-grafana-dashboard")["data"]["braided.json"]
    text = yaml.safe_dump(rules["spec"]) + dashboard
    used = set(re.findall(r"\b((?:cnpg_)?braided_[a-z_]+)\b", text))
    used = {u for u in used if u.startswith(("braided_", "cnpg_braided_")) and not u.endswith("_proxy")}
    assert used, "no Braided series found"
    assert used - exported - from_pg == set()
    alerts = {r["alert"] for g in rules["spec"]["groups"] for r in g["rules"]}
    assert alerts == {"BraidedQueueWaitingOver24h", "BraidedScreenDown", "BraidedParkedMessages",
                      "BraidedOutboxBacklog", "BraidedHigh5xxRate"}


def test_nats_helm_values_carry_the_permission_table() -> None:
    values = yaml.safe_load((K8S / "nats" / "values.yaml").read_text())
    assert values["config"]["cluster"] == {"enabled": True, "replicas": 3}
    assert values["config"]["jetstream"]["enabled"] and values["config"]["jetstream"]["fileStore"]["enabled"]
    assert values["config"]["merge"] == {"$include": "auth.conf"}
    needed = set(re.findall(r"\$([A-Z_]+_NATS_PASSWORD)", (REPO / "deploy" / "nats" / "auth.conf").read_text()))
    assert needed == set(values["container"]["env"])
    # The client URLs point at the chart's pods (release `nats` in namespace `nats`).
    config = one("production", "ConfigMap", "braided-config")["data"]
    assert all(".nats-headless.nats.svc:4222" in s for s in nats_servers(config["NATS_URL"]))
