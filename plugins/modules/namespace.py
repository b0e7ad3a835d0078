#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: namespace
short_description: Create namespaces with an ownership label, and delete only the ones the collection created
version_added: 0.2.0
description:
  - Every role of the collection that needs a namespace makes it with this module, so that a namespace
    that existed before (with the user's ConfigMaps, Secrets and workloads in it) is never relabelled nor
    deleted.
  - With O(state=present) a missing namespace is created with the label
    C(app.kubernetes.io/managed-by=rhdh.orchestrator) and O(labels). A namespace that exists without that
    label is pre-existing and is not modified at all, not even its labels; it is reported in RV(preexisting).
    A namespace the collection created gets the O(labels) it lacks (none is ever removed).
  - A namespace created as a document of an operator release manifest (label
    C(orchestrator.rhdh.redhat.com/installed-by=rhdh.orchestrator), module M(rhdh.orchestrator.manifest))
    also counts as created by the collection.
  - With O(state=absent) only namespaces the collection created are deleted, and the module waits until
    they are gone. At the timeout it fails with the namespace's conditions, which name the content and the
    finalizers that hold it. Pre-existing namespaces are kept and reported in RV(kept) with the reason.
  - A namespace that is being deleted when O(state=present) asks for it is waited for and created again.
  - With O(label_existing), pre-existing namespaces get O(labels) too, and the keys of the labels the module
    adds to any namespace are recorded in its annotation C(orchestrator.rhdh.redhat.com/added-labels).
    O(state=unlabeled) takes back exactly those labels and keeps the namespaces.
author:
  - rhdh.orchestrator contributors (!UNKNOWN)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  names:
    description: The namespaces.
    type: list
    elements: str
    required: true
  state:
    description:
      - Whether the namespaces should exist.
      - V(unlabeled) keeps them and removes the labels recorded by O(label_existing) in the annotation
        C(orchestrator.rhdh.redhat.com/added-labels), only those whose keys O(labels) names (all recorded ones when
        O(labels) is empty), and updates the annotation.
    type: str
    choices: [present, absent, unlabeled]
    default: present
  labels:
    description:
      - Labels put on the namespaces this module creates, beside the ownership label, and added to existing
        namespaces the collection created. Pre-existing namespaces do not get them unless O(label_existing).
      - With O(state=unlabeled), the keys of the labels to take back (values are ignored).
    type: dict
    default: {}
  label_existing:
    description:
      - With O(state=present), add O(labels) to pre-existing namespaces too, and record in the annotation
        C(orchestrator.rhdh.redhat.com/added-labels) of every namespace the keys of the labels the module added
        (all of O(labels) on a namespace it creates), so that O(state=unlabeled) takes back exactly those.
      - A pre-existing namespace that has one of O(labels) at another value, not recorded as added, fails the
        module before any namespace is changed; the user's labels are never overwritten.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait until deleted namespaces are gone (O(state=absent)), or until a namespace that is being
        deleted is gone before it is created again (O(state=present)).
    type: int
    default: 300
notes:
  - Check mode changes nothing and reports what would be created, labelled or deleted; diff mode shows it.
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Create the workflow namespace unless it exists
  rhdh.orchestrator.namespace:
    names: [sonataflow-infra]
    labels:
      rhdh.redhat.com/workflow-namespace: ""

- name: Label workflow namespaces, also ones the user made, recording what was added
  rhdh.orchestrator.namespace:
    names: [team-a-workflows]
    labels:
      rhdh.redhat.com/workflow-namespace: ""
    label_existing: true

- name: Take back exactly the labels recorded above
  rhdh.orchestrator.namespace:
    names: [team-a-workflows]
    labels:
      rhdh.redhat.com/workflow-namespace: ""
    state: unlabeled

- name: Delete the namespaces the collection created, keep the others
  rhdh.orchestrator.namespace:
    names: [knative-serving, knative-eventing]
    state: absent
    wait_timeout: 600
"""

RETURN = r"""
created:
  description: Namespaces created (or, in check mode, that would be created).
  returned: always
  type: list
  elements: str
  sample: [sonataflow-infra]
existing:
  description: Namespaces that existed already (O(state=present)), whoever created them.
  returned: always
  type: list
  elements: str
  sample: [rhdh-operator]
preexisting:
  description: Existing namespaces without the ownership label, left as they are.
  returned: always
  type: list
  elements: str
  sample: [rhdh-operator]
updated:
  description:
    - Namespaces of the collection that got labels from O(labels) they lacked; with O(label_existing) also
      pre-existing ones; with O(state=unlabeled) the namespaces that lost labels.
  returned: always
  type: list
  elements: str
  sample: []
labels_added:
  description: With O(label_existing), the label keys added (and recorded), by namespace.
  returned: always
  type: dict
  sample: {team-a-workflows: [rhdh.redhat.com/workflow-namespace]}
labels_removed:
  description: With O(state=unlabeled), the label keys taken back, by namespace.
  returned: always
  type: dict
  sample: {team-a-workflows: [rhdh.redhat.com/workflow-namespace]}
deleted:
  description: Namespaces deleted (or, in check mode, that would be deleted) and waited gone.
  returned: always
  type: list
  elements: str
  sample: [knative-serving]
kept:
  description: Namespaces O(state=absent) did not delete, with the reason.
  returned: always
  type: list
  elements: dict
  sample: [{name: knative-eventing, reason: "pre-existing: it does not carry the ownership label"}]
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

try:
    from kubernetes.dynamic.exceptions import DynamicApiError
except ImportError:  # kubernetes.core's client reports the missing library
    class DynamicApiError(Exception):
        status = None

        def summary(self):
            return str(self)
from ansible_collections.rhdh.orchestrator.plugins.module_utils.kube import Kube
from ansible_collections.rhdh.orchestrator.plugins.module_utils.ownership import Namespaces, OwnershipError


def main():
    argument_spec = copy.deepcopy(AUTH_ARG_SPEC)
    argument_spec.update(
        names=dict(type="list", elements="str", required=True),
        state=dict(type="str", choices=["present", "absent", "unlabeled"], default="present"),
        labels=dict(type="dict", default={}),
        label_existing=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
    )
    module = AnsibleK8SModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    labels = {str(k): "" if v is None else str(v) for k, v in (p["labels"] or {}).items()}
    ns = None
    try:
        ns = Namespaces(Kube(module), check_mode=module.check_mode)
        if p["state"] == "present":
            ns.present(p["names"], labels, p["wait_timeout"], label_existing=p["label_existing"])
        elif p["state"] == "unlabeled":
            ns.unlabel(p["names"], list(labels))
        else:
            ns.absent(p["names"], p["wait_timeout"])
    except OwnershipError as exc:
        module.fail_json(msg=str(exc), **ns.result)
    except CoreException as exc:
        module.fail_from_exception(exc)
    except DynamicApiError as exc:
        module.fail_json(msg="Kubernetes API error: {0} {1}".format(exc.status, exc.summary()),
                         **(ns.result if ns else {}))
    result = ns.result
    out = dict(changed=bool(result["created"] or result["updated"] or result["deleted"]), **result)
    if module._diff:  # pylint: disable=protected-access
        out["diff"] = ns.diff
    module.exit_json(**out)


if __name__ == "__main__":
    main()
