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
version_added: 1.0.0
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
    description: Whether the namespaces should exist.
    type: str
    choices: [present, absent]
    default: present
  labels:
    description:
      - Labels put on the namespaces this module creates, beside the ownership label, and added to existing
        namespaces the collection created. Pre-existing namespaces do not get them.
    type: dict
    default: {}
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
  description: Namespaces of the collection that got labels from O(labels) they lacked.
  returned: always
  type: list
  elements: str
  sample: []
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
        state=dict(type="str", choices=["present", "absent"], default="present"),
        labels=dict(type="dict", default={}),
        wait_timeout=dict(type="int", default=300),
    )
    module = AnsibleK8SModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    labels = {str(k): "" if v is None else str(v) for k, v in (p["labels"] or {}).items()}
    ns = None
    try:
        ns = Namespaces(Kube(module), check_mode=module.check_mode)
        if p["state"] == "present":
            ns.present(p["names"], labels, p["wait_timeout"])
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
