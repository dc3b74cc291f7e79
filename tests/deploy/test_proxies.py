"""Both deployments put a proxy (Caddy, ingress-nginx) in front of the services, and
rate limits key members by their address: the services must believe that proxy's
X-Forwarded-For, or every member shares the proxy's address (one person's burst
throttles everyone; failed logins lock every moderator out). They must believe it
from the proxy only, and the proxy must not pass on a client's own header."""

from __future__ import annotations

import ipaddress
import re

import pytest

from shared.config import addresses
from tests.deploy.conftest import REPO
from tests.deploy.test_compose import compose
from tests.deploy.test_kubernetes import OVERLAYS, objects, one

# The address pools Docker gives compose networks unless the daemon is told otherwise:
# moby's daemon/libnetwork/ipamutils localScopeDefaultNetworks.
DOCKER_LOCAL_POOLS = ("172.17.0.0/16", "172.18.0.0/16", "172.19.0.0/16", "172.20.0.0/14", "172.24.0.0/14",
                      "172.28.0.0/14", "192.168.0.0/16")
PUBLIC = ("203.0.113.9", "198.51.100.7", "8.8.8.8")
WEB = ("submission", "publishing", "moderation")


def _trusted(raw: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(entry) for entry in addresses(raw)]  # as the services parse it


def _covers(networks: list, target: str) -> bool:
    t = ipaddress.ip_network(target)
    return any(t.version == n.version and t.subnet_of(n) for n in networks)


def test_compose_believes_caddy_on_any_docker_network_and_only_caddy_is_exposed() -> None:
    c = compose()
    raw = c["x-braided-env"]["TRUSTED_PROXIES"]
    default = re.fullmatch(r"\$\{TRUSTED_PROXIES:-([^}]+)\}", raw)  # the operator may narrow it
    assert default, raw
    trusted = _trusted(default.group(1))
    assert all(_covers(trusted, pool) for pool in DOCKER_LOCAL_POOLS)
    assert not any(_covers(trusted, ip) for ip in PUBLIC)
    for name in WEB:
        assert c["services"][name]["environment"]["TRUSTED_PROXIES"] == raw  # merged from x-braided-env
    # Only Caddy is reachable from outside the compose network ...
    assert [name for name, s in c["services"].items() if s.get("ports")] == ["caddy"]
    # ... and it sets X-Forwarded-For itself: Caddy 2.5 and later ignore a client's own
    # X-Forwarded-* unless `trusted_proxies` names where it came from.
    assert "trusted_proxies" not in (REPO / "deploy" / "Caddyfile").read_text()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_believes_the_ingress_controller_and_only_it_reaches_the_services(overlay: str) -> None:
    trusted = _trusted(one(overlay, "ConfigMap", "braided-config")["data"]["TRUSTED_PROXIES"])
    assert all(_covers(trusted, pod_range) for pod_range in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
    assert not any(_covers(trusted, ip) for ip in PUBLIC)
    policies = {o["metadata"]["name"]: o["spec"] for o in objects(overlay) if o["kind"] == "NetworkPolicy"}
    (web,) = policies["web-from-ingress-controller"]["ingress"]
    assert web["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]
    # ingress-nginx fills X-Forwarded-For with the address it sees unless
    # use-forwarded-headers is turned on; nothing here turns it on.
    for ingress in (o for o in objects(overlay) if o["kind"] == "Ingress"):
        assert not any("forwarded" in key for key in ingress["metadata"].get("annotations", {}))
