"""Shapes of the custom resources Braided's manifests use, for the fields they use.

kubernetes-validate ships only the built-in Kubernetes schemas. The CRDs' own
schemas are not copied into this repository (their projects' files stay theirs);
instead each shape below was written from the project's documentation of the
field, read for this purpose:
- CloudNativePG `Cluster` and `ScheduledBackup` (postgresql.cnpg.io/v1): the API
  reference and the ScheduledBackup CRD (schedule with seconds, backupOwnerReference
  none|self|cluster, method barmanObjectStore|volumeSnapshot|plugin);
- barman-cloud plugin `ObjectStore` (barmancloud.cnpg.io/v1): its API reference
  (spec.configuration, spec.retentionPolicy ^[1-9][0-9]*[dwm]$);
- KEDA `ScaledObject` (keda.sh/v1alpha1) and the nats-jetstream trigger's metadata;
- prometheus-operator `PodMonitor` and `PrometheusRule` (monitoring.coreos.com/v1).
A key not in its shape, a missing required key (marked "!") or a value of the wrong
type fails, as the API server's structural schema would refuse it.
"""

from __future__ import annotations

import re
from typing import Any

ANY = object()
STR_MAP = {str: str}
SECRET_KEY = {"!name": str, "!key": str}
RESOURCES = {"requests": {str: str}, "limits": {str: str}}
LABEL_SELECTOR = {"matchLabels": STR_MAP, "matchExpressions": [{"!key": str, "!operator": str, "values": [str]}]}

SHAPES: dict[tuple[str, str], dict] = {
    ("postgresql.cnpg.io/v1", "Cluster"): {"!spec": {
        "!instances": int, "imageName": str, "primaryUpdateStrategy": ("unsupervised", "supervised"),
        "!storage": {"size": str, "storageClass": str},
        "bootstrap": {"initdb": {"database": str, "owner": str, "secret": {"name": str}}},
        "postgresql": {"parameters": STR_MAP},
        "resources": RESOURCES,
        "affinity": {"enablePodAntiAffinity": bool, "topologyKey": str},
        "plugins": [{"!name": str, "isWALArchiver": bool, "parameters": STR_MAP}],
        "monitoring": {"customQueriesConfigMap": [{"!name": str, "!key": str}]},
    }},
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): {"!spec": {
        "!schedule": re.compile(r"^\S+( \S+){5}$"),  # six fields: seconds first
        "immediate": bool, "backupOwnerReference": ("none", "self", "cluster"),
        "!cluster": {"!name": str}, "method": ("barmanObjectStore", "volumeSnapshot", "plugin"),
        "pluginConfiguration": {"!name": str, "parameters": STR_MAP},
    }},
    ("barmancloud.cnpg.io/v1", "ObjectStore"): {"!spec": {
        "retentionPolicy": re.compile(r"^[1-9][0-9]*[dwm]$"),
        "!configuration": {
            "!destinationPath": str, "endpointURL": str,
            "s3Credentials": {"accessKeyId": SECRET_KEY, "secretAccessKey": SECRET_KEY},
            "wal": {"compression": ("gzip", "bzip2", "snappy")},
            "data": {"compression": ("gzip", "bzip2", "snappy")},
        },
    }},
    ("keda.sh/v1alpha1", "ScaledObject"): {"!spec": {
        "!scaleTargetRef": {"!name": str, "kind": str, "apiVersion": str},
        "minReplicaCount": int, "maxReplicaCount": int, "pollingInterval": int, "cooldownPeriod": int,
        "fallback": {"!failureThreshold": int, "!replicas": int},
        "!triggers": [{"!type": ("nats-jetstream", "cpu"), "metricType": ("Utilization", "AverageValue"),
                       "!metadata": STR_MAP}],
    }},
    ("monitoring.coreos.com/v1", "PodMonitor"): {"!spec": {
        "!selector": LABEL_SELECTOR,
        "!podMetricsEndpoints": [{"port": str, "path": str, "interval": str}],
    }},
    ("monitoring.coreos.com/v1", "PrometheusRule"): {"!spec": {
        "!groups": [{"!name": str, "!rules": [{"alert": str, "!expr": str, "for": str, "labels": STR_MAP,
                                               "annotations": STR_MAP}]}],
    }},
}

# The nats-jetstream trigger's metadata keys (KEDA docs, "Parameter list").
NATS_JETSTREAM_KEYS = {"natsServerMonitoringEndpoint", "account", "stream", "consumer", "lagThreshold",
                       "activationLagThreshold", "useHttps"}


def check_custom_resource(obj: dict[str, Any]) -> None:
    key = (obj["apiVersion"], obj["kind"])
    assert key in SHAPES, f"no documented shape for {key}"
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    errors = _check(body, SHAPES[key], f"{obj['kind']}/{obj['metadata']['name']}")
    if obj["kind"] == "ScaledObject":
        for t in obj["spec"]["triggers"]:
            if t["type"] == "nats-jetstream":
                errors += [f"unknown nats-jetstream metadata {k}" for k in set(t["metadata"]) - NATS_JETSTREAM_KEYS]
    assert errors == [], errors


def _check(value: Any, shape: Any, path: str) -> list[str]:
    if shape is ANY:
        return []
    if isinstance(shape, re.Pattern):
        return [] if isinstance(value, str) and shape.match(value) else [f"{path}: {value!r} !~ {shape.pattern}"]
    if isinstance(shape, tuple):
        return [] if value in shape else [f"{path}: {value!r} not one of {shape}"]
    if isinstance(shape, type):
        ok = isinstance(value, shape) and not (shape is int and isinstance(value, bool))
        return [] if ok else [f"{path}: {value!r} is not {shape.__name__}"]
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [e for i, item in enumerate(value) for e in _check(item, shape[0], f"{path}[{i}]")]
    assert isinstance(shape, dict)
    if not isinstance(value, dict):
        return [f"{path}: not a mapping"]
    if set(shape) == {str}:  # a free map of str → shape[str]
        return [e for k, v in value.items() for e in _check(k, str, path) + _check(v, shape[str], f"{path}.{k}")]
    fields = {k.lstrip("!"): s for k, s in shape.items()}
    errors = [f"{path}: missing {k[1:]}" for k in shape if k.startswith("!") and k[1:] not in value]
    for k, v in value.items():
        if k not in fields:
            errors.append(f"{path}: unknown field {k}")
        else:
            errors += _check(v, fields[k], f"{path}.{k}")
    return errors
