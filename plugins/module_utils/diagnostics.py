# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What playbooks/diagnostics.yml keeps of each object, and the archive it writes.

Nothing secret leaves these functions: a Secret becomes its name, type and key
names (every value replaced); a ConfigMap value whose key looks like a
credential is replaced, and so is the value part of credential-looking lines
inside the other values (app-config YAML, properties); a container's literal
env value whose name looks like a credential is replaced (env from Secrets is
a reference and stays one). The last-applied-configuration annotation (which
holds the whole object, data included) and managedFields are dropped from
every object. Custom resources and pods are kept as metadata and status only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json
import os
import re
import tarfile
import time

REDACTED = "<redacted>"
SENSITIVE = re.compile(r"(pass(word|wd)?|secret|token|credential|private[-_.]?key|api[-_.]?key|authorization|bearer|"
                       r"dockerconfigjson|id_rsa|tls\.key)", re.IGNORECASE)
# key: value or key=value on one line, the key looking like a credential.
_LINE = re.compile(r"^(?P<head>\s*(?:-\s*)?[\"']?(?P<key>[\w.\-\"']+)[\"']?\s*[:=]\s*)(?P<value>\S.*)$")
_DROPPED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)

# What is read in each namespace, and how much of it is kept:
# status (metadata and status), workload (also the containers), config
# (ConfigMap, scrubbed), secret (names and keys), spec (the whole object).
NAMESPACED = [
    {"api_version": "v1", "kind": "Event", "keep": "event"},
    {"api_version": "v1", "kind": "Pod", "keep": "pod"},
    {"api_version": "apps/v1", "kind": "Deployment", "keep": "workload"},
    {"api_version": "apps/v1", "kind": "StatefulSet", "keep": "workload"},
    {"api_version": "batch/v1", "kind": "Job", "keep": "status"},
    {"api_version": "v1", "kind": "Service", "keep": "spec"},
    {"api_version": "v1", "kind": "PersistentVolumeClaim", "keep": "status"},
    {"api_version": "networking.k8s.io/v1", "kind": "NetworkPolicy", "keep": "spec"},
    {"api_version": "v1", "kind": "ConfigMap", "keep": "config"},
    {"api_version": "v1", "kind": "Secret", "keep": "secret"},
    {"api_version": "operators.coreos.com/v1alpha1", "kind": "Subscription", "keep": "status"},
    {"api_version": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion", "keep": "status"},
    {"api_version": "operators.coreos.com/v1alpha1", "kind": "InstallPlan", "keep": "status"},
    {"api_version": "operators.coreos.com/v1", "kind": "OperatorGroup", "keep": "status"},
    {"api_version": "operator.knative.dev/v1beta1", "kind": "KnativeServing", "keep": "status"},
    {"api_version": "operator.knative.dev/v1beta1", "kind": "KnativeEventing", "keep": "status"},
    {"api_version": "sonataflow.org/v1alpha08", "kind": "SonataFlowPlatform", "keep": "status"},
    {"api_version": "sonataflow.org/v1alpha08", "kind": "SonataFlow", "keep": "status"},
    {"api_version": ["rhdh.redhat.com/v1alpha5", "rhdh.redhat.com/v1alpha4", "rhdh.redhat.com/v1alpha3"],
     "kind": "Backstage", "keep": "status"},
    {"api_version": "argoproj.io/v1alpha1", "kind": "AppProject", "keep": "status"},
    {"api_version": "tekton.dev/v1", "kind": "Pipeline", "keep": "status"},
]
CLUSTER = [
    {"api_version": "config.openshift.io/v1", "kind": "ClusterVersion", "keep": "status"},
    {"api_version": "sonataflow.org/v1alpha08", "kind": "SonataFlowClusterPlatform", "keep": "status"},
    {"api_version": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "keep": "crd",
     "groups": ["rhdh.redhat.com", "sonataflow.org", "operator.knative.dev", "operator.serverless.openshift.io",
                "argoproj.io", "tekton.dev"]},
]


def sensitive(key):
    return bool(SENSITIVE.search(str(key or "")))


def metadata(obj):
    """The object's metadata without managedFields and the last-applied copy."""
    meta = dict(obj.get("metadata") or {})
    meta.pop("managedFields", None)
    annotations = dict(meta.get("annotations") or {})
    for key in _DROPPED_ANNOTATIONS:
        annotations.pop(key, None)
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return meta


def _head(obj):
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": metadata(obj)}


def secret(obj):
    """A Secret as its name, type and keys; no value at all."""
    out = _head(obj)
    out["type"] = obj.get("type")
    keys = sorted(set(list((obj.get("data") or {}).keys()) + list((obj.get("stringData") or {}).keys())))
    out["data"] = dict((key, REDACTED) for key in keys)
    return out


def scrub_text(text):
    """The text with the value of every credential-looking `key: value` / `key=value` line replaced.

    A value that only refers to an environment variable (${NAME}) is kept.
    """
    lines = []
    for line in str(text).splitlines(True):
        match = _LINE.match(line.rstrip("\r\n"))
        if match and sensitive(match.group("key")) and not re.match(r"^[\"']?\$\{[\w.]+\}[\"']?\s*$", match.group("value")):
            ending = line[len(line.rstrip("\r\n")):]
            line = match.group("head") + REDACTED + ending
        lines.append(line)
    return "".join(lines)


def config_map(obj):
    """A ConfigMap with credential-looking keys and lines replaced; binary data by size only."""
    out = _head(obj)
    data = {}
    for key, value in (obj.get("data") or {}).items():
        data[key] = REDACTED if sensitive(key) else scrub_text(value)
    out["data"] = data
    if obj.get("binaryData"):
        out["binaryData"] = dict((key, "<{0} bytes base64>".format(len(value or ""))) for key, value in obj["binaryData"].items())
    return out


def _env(env):
    out = []
    for item in env or []:
        item = dict(item)
        if "value" in item and sensitive(item.get("name")):
            item["value"] = REDACTED
        out.append(item)
    return out


def containers(pod_spec):
    """Name, image, env (credential values replaced), envFrom and resources of each container."""
    out = {}
    for group in ("initContainers", "containers"):
        items = []
        for c in (pod_spec or {}).get(group) or []:
            kept = dict((k, c[k]) for k in ("name", "image", "envFrom", "resources", "args") if k in c)
            if "args" in kept:
                kept["args"] = [scrub_text(a) for a in kept["args"]]
            if c.get("env"):
                kept["env"] = _env(c["env"])
            items.append(kept)
        if items:
            out[group] = items
    return out


def workload(obj):
    """A Deployment or StatefulSet: replicas, selector, containers and status."""
    out = _head(obj)
    spec = obj.get("spec") or {}
    template = (spec.get("template") or {}).get("spec") or {}
    out["spec"] = {"replicas": spec.get("replicas"), "selector": spec.get("selector"),
                   "template": {"spec": containers(template)}}
    out["status"] = obj.get("status") or {}
    return out


def pod(obj):
    """A pod: metadata, status, and which images its containers run."""
    out = _head(obj)
    spec = obj.get("spec") or {}
    out["spec"] = {"nodeName": spec.get("nodeName"),
                   "containers": [{"name": c.get("name"), "image": c.get("image")}
                                  for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])]}
    out["status"] = obj.get("status") or {}
    return out


def status_only(obj):
    out = _head(obj)
    out["status"] = obj.get("status") or {}
    return out


def crd(obj):
    """A CRD: served and stored versions and its conditions."""
    out = _head(obj)
    out["versions"] = [{"name": v.get("name"), "served": v.get("served"), "storage": v.get("storage")}
                       for v in (obj.get("spec") or {}).get("versions") or []]
    out["status"] = {"conditions": (obj.get("status") or {}).get("conditions") or [],
                     "storedVersions": (obj.get("status") or {}).get("storedVersions") or []}
    return out


def keep(obj, how):
    """What is kept of one object, by the `keep` of its kind."""
    if how == "secret":
        return secret(obj)
    if how == "config":
        return config_map(obj)
    if how == "workload":
        return workload(obj)
    if how == "pod":
        return pod(obj)
    if how == "crd":
        return crd(obj)
    if how == "spec":
        out = _head(obj)
        out["spec"] = obj.get("spec") or {}
        out["status"] = obj.get("status") or {}
        return out
    return status_only(obj)


def _event_time(event):
    series = event.get("series") or {}
    return (series.get("lastObservedTime") or event.get("lastTimestamp") or event.get("eventTime")
            or event.get("firstTimestamp") or (event.get("metadata") or {}).get("creationTimestamp") or "")


def events_text(events, limit=200):
    """The latest events, oldest first, one line each."""
    ordered = sorted(events or [], key=_event_time)[-limit:] if limit else sorted(events or [], key=_event_time)
    lines = []
    for ev in ordered:
        inv = ev.get("involvedObject") or ev.get("regarding") or {}
        lines.append("{0} {1} {2} {3}/{4} (x{5}): {6}".format(
            _event_time(ev) or "-", ev.get("type") or "-", ev.get("reason") or "-", inv.get("kind") or "-",
            inv.get("name") or "-", ev.get("count") or (ev.get("series") or {}).get("count") or 1,
            scrub_text(" ".join(str(ev.get("message") or ev.get("note") or "").split()))))
    return "\n".join(lines) + ("\n" if lines else "")


def conditions_summary(objects):
    """'Kind namespace/name: Type=Status (Reason: message)' lines for every object that reports conditions."""
    lines = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        status = obj.get("status") or {}
        conds = status.get("conditions") or []
        where = "{0}/{1}".format(meta.get("namespace"), meta.get("name")) if meta.get("namespace") else meta.get("name")
        parts = []
        for c in conds:
            detail = ": ".join(x for x in (c.get("reason"), c.get("message")) if x)
            parts.append("{0}={1}{2}".format(c.get("type"), c.get("status"), " ({0})".format(detail) if detail else ""))
        if status.get("phase"):
            parts.insert(0, "phase {0}".format(status["phase"]))
        if parts:
            lines.append("{0} {1}: {2}".format(obj.get("kind"), where, "; ".join(parts)))
    return "\n".join(lines) + ("\n" if lines else "")


def dump(value):
    """Readable, stable text of collected objects (JSON, one key per line)."""
    return json.dumps(value, indent=2, sort_keys=True, default=str) + "\n"


def write_archive(dest, files, top, mtime=None, mode=0o600):
    """Write files ({relative path: text}) under the folder `top` into the gzip tar dest."""
    stamp = int(time.time() if mtime is None else mtime)
    with tarfile.open(dest, "w:gz") as tar:
        for name in sorted(files):
            data = files[name].encode("utf-8")
            info = tarfile.TarInfo("{0}/{1}".format(top, name))
            info.size, info.mtime, info.mode = len(data), stamp, 0o644
            tar.addfile(info, io.BytesIO(data))
    os.chmod(dest, mode)
    return sorted(files)
