"""The settings deploy/ sets are settings Braided reads (a misspelt name would be
ignored silently), and each service's metrics port is the one its settings name: the
container port, the Service port, and what the PodMonitor and the NetworkPolicy
reach. Compose keeps metrics inside its network (no published metrics port)."""

from __future__ import annotations

import pytest

from braided.settings import Settings
from tests.deploy.test_compose import compose
from tests.deploy.test_kubernetes import OVERLAYS, one

KNOWN = {row.name for row in Settings.ROWS}
SERVICES = ("submission", "moderation", "publishing")


def test_compose_sets_only_known_settings() -> None:
    c = compose()
    names = set(c["x-braided-env"])
    for service in c["services"].values():
        if service.get("command", [None])[0] == "braided":
            names |= set(service.get("environment") or {})
    assert names - KNOWN == set()
    assert c["x-braided-env"]["METRICS_HOST"] == "0.0.0.0"  # reachable by a scraper on the compose network
    for name in SERVICES:
        published = [str(p) for p in c["services"][name].get("ports", [])]
        assert not any(p.split(":")[-1].startswith("910") for p in published), (name, published)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_sets_only_known_settings_and_the_metrics_ports_agree(overlay: str) -> None:
    config = one(overlay, "ConfigMap", "braided-config")["data"]
    assert set(config) - KNOWN == set()
    for name in SERVICES:
        port = int(config[f"{name.upper()}_METRICS_PORT"])
        (container,) = one(overlay, "Deployment", name)["spec"]["template"]["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["metrics"] == port, name
        service = {p["name"]: p for p in one(overlay, "Service", name)["spec"]["ports"]}
        assert service["metrics"]["targetPort"] == "metrics"
