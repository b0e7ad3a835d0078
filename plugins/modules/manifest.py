#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: manifest
short_description: Apply or remove the documents of an operator release manifest, touching only what the collection created
version_added: 0.2.0
description:
  - Installs an operator from its release manifest (CRDs, namespace, RBAC, Deployment) with server-side apply,
    and removes it again, without taking over or deleting objects that existed before.
  - The record of what the collection created is the O(marker) label, set only when an object is created.
  - With O(state=present), each document is read first. A missing object is applied with the O(marker) label
    added (RV(created)). An object that carries the label is applied again with conflicts forced, and is
    reported in RV(updated) only when it really changed (compared without managed fields, resource version,
    generation and status). An object without the label is pre-existing; it is left as it is and reported in
    RV(preexisting), unless O(take_over) is set, in which case it is applied without adding the label, so that
    removal still keeps it. Namespaces follow the same rule; a Namespace created by
    M(rhdh.orchestrator.namespace) counts as created by the collection.
  - With O(state=absent), the documents are deleted in reverse order, but only live objects that carry the
    O(marker) label, never kinds in O(keep_kinds), and Namespaces only with O(delete_namespaces). The module
    waits until the deleted objects are gone. What is not deleted is reported in RV(kept), with the reason in
    RV(kept_reasons).
author:
  - rhdh.orchestrator contributors (!UNKNOWN)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  definitions:
    description: The documents of the manifest, in the manifest's order. Empty documents are skipped.
    type: list
    elements: dict
    required: true
  state:
    description: Whether the manifest's objects should exist.
    type: str
    choices: [present, absent]
    default: present
  field_manager:
    description: Field manager of the server-side apply.
    type: str
    default: rhdh.orchestrator
  marker:
    description: The label (one or more keys) that marks objects the collection created.
    type: dict
    default:
      orchestrator.rhdh.redhat.com/installed-by: rhdh.orchestrator
  take_over:
    description:
      - Apply the documents also over objects that exist without the O(marker) label. They are still not
        marked, so O(state=absent) keeps them.
    type: bool
    default: false
  keep_kinds:
    description: Kinds that O(state=absent) never deletes. Deleting a CRD deletes every object of its kind.
    type: list
    elements: str
    default: [CustomResourceDefinition]
  delete_namespaces:
    description: With O(state=absent), also delete the manifest's Namespaces that carry the O(marker) label.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait until deleted objects are gone.
    type: int
    default: 300
notes:
  - Check mode changes nothing. Objects that exist are applied with C(dryRun=All), so RV(updated) is what a
    real run would change; missing ones are reported in RV(created) without being sent.
  - Diff mode shows each created, changed or deleted object.
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Install the SonataFlow operator from its release manifest
  rhdh.orchestrator.manifest:
    definitions: "{{ lookup('ansible.builtin.file', 'operator.yaml') | ansible.builtin.from_yaml_all | list }}"
  register: operator

- name: Remove it, with its namespace if the collection created it (CRDs stay)
  rhdh.orchestrator.manifest:
    definitions: "{{ lookup('ansible.builtin.file', 'operator.yaml') | ansible.builtin.from_yaml_all | list }}"
    state: absent
    delete_namespaces: true
"""

RETURN = r"""
created:
  description: Objects created (in check mode, that would be created), as C(Kind namespace/name).
  returned: always
  type: list
  elements: str
  sample: [Namespace sonataflow-operator-system, Deployment sonataflow-operator-system/sonataflow-operator-controller-manager]
updated:
  description: Existing objects the apply changed (in check mode, would change).
  returned: always
  type: list
  elements: str
  sample: []
preexisting:
  description: Objects that exist without the O(marker) label. Left as they are unless O(take_over).
  returned: always
  type: list
  elements: str
  sample: [Namespace rhdh-operator]
deleted:
  description: Objects deleted (in check mode, that would be deleted).
  returned: always
  type: list
  elements: str
  sample: [Deployment rhdh-operator/rhdh-operator]
kept:
  description: Live objects O(state=absent) did not delete.
  returned: always
  type: list
  elements: str
  sample: [CustomResourceDefinition backstages.rhdh.redhat.com]
kept_reasons:
  description: Why each object of RV(preexisting) and RV(kept) was left, keyed like those lists.
  returned: always
  type: dict
  sample: {CustomResourceDefinition backstages.rhdh.redhat.com: kind CustomResourceDefinition is kept (keep_kinds)}
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

try:
    from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError
except ImportError:  # kubernetes.core's client reports the missing library
    class DynamicApiError(Exception):
        status = None

        def summary(self):
            return str(self)

    class ResourceNotFoundError(Exception):
        pass
from ansible_collections.rhdh.orchestrator.plugins.module_utils.kube import Kube
from ansible_collections.rhdh.orchestrator.plugins.module_utils.ownership import Manifest, OwnershipError, ref


class Api(Kube):
    """Kube plus server-side apply. A kind that a CRD of the same manifest has
    just made served is found after one refresh of API discovery."""

    def served(self, body):
        try:
            return self._resource(body["apiVersion"], body["kind"])
        except ResourceNotFoundError:
            self.client.resources.invalidate_cache()
            return self._resource(body["apiVersion"], body["kind"])

    def apply(self, body, field_manager, dry_run=False):
        res = self.served(body)
        namespace = body["metadata"].get("namespace")
        if res.namespaced and not namespace:
            raise OwnershipError("{0} is namespaced but its document has no metadata.namespace".format(ref(body)))
        params = dict(field_manager=field_manager, force_conflicts=True)
        if dry_run:
            params["dry_run"] = "All"
        return res.server_side_apply(body=body, name=body["metadata"]["name"],
                                     namespace=namespace if res.namespaced else None, **params).to_dict()


def main():
    argument_spec = copy.deepcopy(AUTH_ARG_SPEC)
    argument_spec.update(
        definitions=dict(type="list", elements="dict", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        field_manager=dict(type="str", default="rhdh.orchestrator"),
        marker=dict(type="dict", default={"orchestrator.rhdh.redhat.com/installed-by": "rhdh.orchestrator"}),
        take_over=dict(type="bool", default=False),
        keep_kinds=dict(type="list", elements="str", default=["CustomResourceDefinition"]),
        delete_namespaces=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
    )
    module = AnsibleK8SModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    if not p["marker"]:
        module.fail_json(msg="marker must name at least one label")
    marker = {str(k): str(v) for k, v in p["marker"].items()}
    man = None
    try:
        man = Manifest(Api(module), check_mode=module.check_mode, field_manager=p["field_manager"],
                       marker=marker, take_over=p["take_over"])
        if p["state"] == "present":
            man.present(p["definitions"])
        else:
            man.absent(p["definitions"], keep_kinds=p["keep_kinds"], delete_namespaces=p["delete_namespaces"],
                       wait_timeout=p["wait_timeout"])
    except OwnershipError as exc:
        module.fail_json(msg=str(exc), kept_reasons=man.reasons, **man.result)
    except CoreException as exc:
        module.fail_from_exception(exc)
    except DynamicApiError as exc:
        where = " ({0})".format(man.current) if man and man.current else ""
        module.fail_json(msg="Kubernetes API error{0}: {1} {2}".format(where, exc.status, exc.summary()),
                         **(man.result if man else {}))
    result = man.result
    out = dict(changed=bool(result["created"] or result["updated"] or result["deleted"]),
               kept_reasons=man.reasons, **result)
    if module._diff:  # pylint: disable=protected-access
        out["diff"] = man.diff
    module.exit_json(**out)


if __name__ == "__main__":
    main()
