# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a Deployment or StatefulSet runs its current pod template.

`Available` alone proves nothing after a change: a one-replica Deployment
stays Available on its old pod through a rolling update, and the RHDH
operator reports Backstage Deployed from ready replicas alone. A rollout is
done when the controller has seen the latest spec and every desired replica is
updated, ready and available, with no old pod left. A pod of the current
template whose container (or init container) crashed or cannot start fails the
wait at once, with the container's own message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Waiting reasons a kubelet reports for a container that will not start by itself.
STUCK = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
         "CreateContainerError", "InvalidImageName", "RunContainerError")


def desired_replicas(workload):
    replicas = (workload.get("spec") or {}).get("replicas")
    return 1 if replicas is None else int(replicas)


def progress(workload):
    """(done, text): whether the workload's latest spec is fully rolled out."""
    meta, status = workload.get("metadata") or {}, workload.get("status") or {}
    desired = desired_replicas(workload)
    observed = status.get("observedGeneration") or 0
    if observed < meta.get("generation", 0):
        return False, "the controller has not seen generation {0} yet (observed {1})".format(
            meta.get("generation"), observed)
    updated = status.get("updatedReplicas") or 0
    ready = status.get("readyReplicas") or 0
    total = status.get("replicas") or 0
    if workload.get("kind") == "StatefulSet":
        current, update = status.get("currentRevision"), status.get("updateRevision")
        done = updated >= desired and ready >= desired and total == desired and (not update or current == update)
    else:
        available = status.get("availableReplicas") or 0
        done = updated >= desired and ready >= desired and available >= desired and total == desired
    return done, "{0} of {1} replicas updated, {2} ready, {3} in all".format(updated, desired, ready, total)


def current_pods(workload, pods, replica_sets=()):
    """The pods that run the workload's current template."""
    if workload.get("kind") == "StatefulSet":
        revision = (workload.get("status") or {}).get("updateRevision")
        return [p for p in pods if revision and _labels(p).get("controller-revision-hash") == revision]
    revision = _annotations(workload).get("deployment.kubernetes.io/revision")
    hashes = set(_labels(rs).get("pod-template-hash") for rs in replica_sets
                 if revision and _annotations(rs).get("deployment.kubernetes.io/revision") == revision)
    hashes.discard(None)
    return [p for p in pods if _labels(p).get("pod-template-hash") in hashes]


def failure(pods):
    """'pod P: container C ...' for the first pod whose container crashed or is stuck, else None."""
    for pod in pods:
        status = pod.get("status") or {}
        for kind, key in (("init container", "initContainerStatuses"), ("container", "containerStatuses")):
            for cst in status.get(key) or []:
                text = _container_failure(cst)
                if text:
                    name = (pod.get("metadata") or {}).get("name")
                    return "pod {0}: {1} {2} {3}".format(name, kind, cst.get("name"), text)
    return None


def _container_failure(cst):
    state = cst.get("state") or {}
    waiting, terminated = state.get("waiting") or {}, state.get("terminated") or {}
    last = (cst.get("lastState") or {}).get("terminated") or {}
    if terminated and terminated.get("exitCode", 0) != 0:
        return _terminated_text(terminated)
    if waiting.get("reason") in STUCK:
        detail = _terminated_text(last) if last else (waiting.get("message") or "")
        return "is in {0}{1}".format(waiting["reason"], (": " + detail) if detail else "")
    return None


def _terminated_text(term):
    text = "exited with code {0} ({1})".format(term.get("exitCode"), term.get("reason") or "Error")
    message = (term.get("message") or "").strip()
    return text + (": " + message if message else "")


def _labels(obj):
    return (obj.get("metadata") or {}).get("labels") or {}


def _annotations(obj):
    return (obj.get("metadata") or {}).get("annotations") or {}
