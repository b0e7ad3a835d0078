#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: resource_ready
short_description: Wait until a Kubernetes object reports a condition, and fail in words when it does not
version_added: 0.2.0
description:
  - Polls one object until its O(condition) has the wanted O(status) for the current generation
    (C(status.observedGeneration), when the object reports one, is not older than C(metadata.generation)).
  - Returns as soon as the condition holds. Fails at once when a condition listed in O(fail_on) holds,
    and after O(wait_timeout) seconds otherwise. Either failure names the object and lists its
    conditions and latest events.
  - A C(CustomResourceDefinition) waited for C(Established) also refreshes API discovery, so later
    tasks see the new kind.
  - With O(workload), the C(Deployment) or C(StatefulSet) the object runs as must also have its latest spec
    rolled out, that is observed by the controller, every desired replica updated, ready and available, no old pod
    left. A pod of its current template whose container or init container crashed or cannot start ends the wait
    at once, with the container's message.
  - Read-only; safe in check mode.
author:
  - rhdh.orchestrator contributors (!UNKNOWN)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  api_version:
    description: API version of the object.
    type: str
    required: true
  kind:
    description: Kind of the object.
    type: str
    required: true
  name:
    description: Name of the object.
    type: str
    required: true
  namespace:
    description: Namespace of the object; omit for cluster-scoped kinds.
    type: str
  condition:
    description: Condition type to wait for.
    type: str
    default: Ready
  status:
    description: Wanted status of the condition.
    type: str
    choices: ["True", "False", "Unknown"]
    default: "True"
  fail_on:
    description: Conditions that end the wait with a failure as soon as they hold.
    type: list
    elements: dict
    default: []
    suboptions:
      type:
        description: Condition type.
        type: str
        required: true
      status:
        description: Condition status.
        type: str
        default: "True"
      reason:
        description: Only when the condition also has this reason (for kinds that report progress and failure
          with the same status, such as Backstage C(Deployed=False) with C(DeployInProgress) or C(DeployFailed)).
        type: str
  fail_grace:
    description: Seconds from the start of the wait during which O(fail_on) conditions are not yet final (an
      operator may report a failure for a moment right after an object is created, before what it needs exists).
    type: int
    default: 0
  workload:
    description:
      - An C(apps/v1) C(Deployment) or C(StatefulSet) in the same namespace that the object runs as (an operator's
        custom resource and what it deploys). The wait then also needs its rollout done, and fails at once on a
        crashed pod of its current template.
    type: dict
    suboptions:
      kind:
        description: C(Deployment) or C(StatefulSet).
        type: str
        choices: [Deployment, StatefulSet]
        default: Deployment
      name:
        description: Its name.
        type: str
        required: true
  newer_than_generation:
    description: With O(workload), also wait until the workload's C(metadata.generation) is greater
      than this (its generation before a change that an operator turns into a new pod template). Negative for no
      such wait.
    type: int
    default: -1
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 300
  missing_ok:
    description: In check mode, report a missing object instead of failing (it would have been created).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Wait for KnativeServing to be Ready
  rhdh.orchestrator.resource_ready:
    api_version: operator.knative.dev/v1beta1
    kind: KnativeServing
    name: knative-serving
    namespace: knative-serving
    wait_timeout: 600

- name: Wait for the Data Index Deployment
  rhdh.orchestrator.resource_ready:
    api_version: apps/v1
    kind: Deployment
    name: sonataflow-platform-data-index-service
    namespace: sonataflow-infra
    condition: Available
    fail_on:
      - type: ReplicaFailure
"""

RETURN = r"""
conditions:
  description: The object's conditions when the wait ended.
  returned: success
  type: list
  elements: dict
  sample: [{type: Ready, status: "True"}]
found:
  description: Whether the object exists (false only in check mode with O(missing_ok)).
  returned: always
  type: bool
"""

import copy
import time

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
from ansible_collections.rhdh.orchestrator.plugins.module_utils.kube import (
    Kube, WaitFailed, conditions_text, ref)
from ansible_collections.rhdh.orchestrator.plugins.module_utils.rollout import current_pods, failure, progress


def _holds(conds, ctype, status, reason=None):
    return any(c.get("type") == ctype and c.get("status") == status and reason in (None, c.get("reason"))
               for c in conds)


def main():
    argument_spec = copy.deepcopy(AUTH_ARG_SPEC)
    argument_spec.update(
        api_version=dict(type="str", required=True),
        kind=dict(type="str", required=True),
        name=dict(type="str", required=True),
        namespace=dict(type="str"),
        condition=dict(type="str", default="Ready"),
        status=dict(type="str", choices=["True", "False", "Unknown"], default="True"),
        fail_on=dict(type="list", elements="dict", default=[], options=dict(
            type=dict(type="str", required=True), status=dict(type="str", default="True"),
            reason=dict(type="str"))),
        fail_grace=dict(type="int", default=0),
        workload=dict(type="dict", options=dict(
            kind=dict(type="str", choices=["Deployment", "StatefulSet"], default="Deployment"),
            name=dict(type="str", required=True))),
        newer_than_generation=dict(type="int", default=-1),
        wait_timeout=dict(type="int", default=300),
        missing_ok=dict(type="bool", default=True),
    )
    module = AnsibleK8SModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    try:
        kube = Kube(module)
        what = ref(p["kind"], p["namespace"], p["name"])
        if module.check_mode and p["missing_ok"] and kube.get(p["api_version"], p["kind"], p["name"],
                                                              p["namespace"]) is None:
            module.exit_json(changed=False, found=False, conditions=[])

        started = time.monotonic()

        def probe():
            obj = kube.get(p["api_version"], p["kind"], p["name"], p["namespace"])
            if obj is None:
                return None, "{0} does not exist".format(what)
            conds = (obj.get("status") or {}).get("conditions") or []
            for bad in p["fail_on"]:
                if _holds(conds, bad["type"], bad["status"], bad["reason"]):
                    state = "{0}={1}".format(bad["type"], bad["status"])
                    if time.monotonic() - started < p["fail_grace"]:
                        return None, describe(obj, state + " (within the first {0}s)".format(p["fail_grace"]))
                    return False, describe(obj, state)
            if p["workload"]:
                workload = kube.get("apps/v1", p["workload"]["kind"], p["workload"]["name"], p["namespace"])
                done, text = (None, "does not exist yet") if workload is None else rolled_out(workload)
                if not done:
                    text = "{0}: {1}".format(ref(p["workload"]["kind"], p["namespace"], p["workload"]["name"]), text)
                    return done, describe(obj, text)
            observed = (obj.get("status") or {}).get("observedGeneration")
            current = observed is None or observed >= obj["metadata"].get("generation", 0)
            if current and _holds(conds, p["condition"], p["status"]):
                if p["kind"] == "CustomResourceDefinition":
                    kube.client.resources.invalidate_cache()
                return True, conds
            return None, describe(obj, "not {0}={1} yet".format(p["condition"], p["status"]))

        def rolled_out(workload):
            """(True, text) rolled out, (False, text) a pod crashed, (None, text) not yet."""
            generation = workload["metadata"].get("generation", 0)
            if generation <= p["newer_than_generation"]:
                return None, "still at generation {0}, waiting for the change to reach it".format(generation)
            selector = ",".join("{0}={1}".format(k, v) for k, v in sorted(
                ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels", {}).items()))
            pods = kube.list("v1", "Pod", p["namespace"], selector) if selector else []
            sets = kube.list("apps/v1", "ReplicaSet", p["namespace"], selector) \
                if selector and workload.get("kind") == "Deployment" else []
            crashed = failure(current_pods(workload, pods, sets))
            if crashed:
                return False, "cannot roll out: " + crashed
            done, text = progress(workload)
            return (True if done else None), ("rolled out: " if done else "rolling out: ") + text

        def describe(obj, state):
            events = kube.events(obj)
            return "{0} {1}; conditions: {2}{3}".format(
                what, state, conditions_text(obj), ("; events: " + " | ".join(events)) if events else "")

        conds = kube.wait(probe, p["wait_timeout"])
    except WaitFailed as exc:
        module.fail_json(msg=str(exc))
    except CoreException as exc:
        module.fail_from_exception(exc)
    module.exit_json(changed=False, found=True, conditions=conds)


if __name__ == "__main__":
    main()
