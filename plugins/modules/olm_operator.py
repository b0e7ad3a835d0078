#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: olm_operator
short_description: Install or remove an operator through OLM and wait until it serves its APIs
version_added: 0.2.0
description:
  - Installs an operator the way the OpenShift console does it, for every role of the collection that
    needs one (OpenShift Serverless, OpenShift Serverless Logic, RHDH).
  - Makes sure of the Namespace, an OperatorGroup (none is created in C(openshift-operators), which has
    its global one, nor where one already exists; the one created selects all namespaces) and the
    Subscription. What the module creates carries the label C(app.kubernetes.io/managed-by=rhdh.orchestrator).
  - Before changing anything it checks the OperatorGroup of the namespace. One that makes its operators watch
    only some namespaces (C(spec.targetNamespaces) or a selector) fails the module unless O(install_modes)
    allows that mode; OLM would fail the CSV with C(UnsupportedOperatorGroup).
  - A Subscription for the same package that is not labelled as the collection's (in O(namespace) under
    any name, or anywhere in the cluster for the same package and catalog) is used as it is. Its install is
    waited on and reported (RV(preexisting)), differences from the options are reported as a warning, and
    nothing of it is changed unless O(adopt=true).
  - Waits until the Subscription has an C(installedCSV), that ClusterServiceVersion reaches phase
    C(Succeeded), an automatic upgrade in progress has finished, and every CRD in O(crds) is C(Established).
  - A CSV that goes C(Failed) with reason C(InstallCheckFailed), C(NoOperatorGroup), C(TooManyOperatorGroups)
    or C(UnsupportedOperatorGroup) is retried by OLM, so the module keeps waiting and, at the timeout, fails
    with that reason and message. Any other C(Failed) reason fails at once with the CSV's events.
  - A Subscription condition C(ResolutionFailed) with reason C(ConstraintsNotSatisfiable) (unknown package,
    channel, starting CSV or catalog) fails at once with OLM's message; OLM does not retry it until something
    changes. Reason C(ErrorPreventedResolution) is retried by OLM and only ends the wait at the timeout.
  - A C(Manual) InstallPlan is approved only with O(approve_install_plan=true), and only when it installs
    what was asked. With O(starting_csv) that is the plan that installs it; an upgrade past it is never
    approved. Without O(starting_csv) an upgrade plan is approved too.
  - An operator whose installed CSV is C(Succeeded) while an upgrade InstallPlan waits for manual approval
    is healthy. The module succeeds, returns RV(pending_upgrade) and warns naming the plan and the CSV.
  - With C(Automatic) approval OLM upgrades along the channel to its head; O(starting_csv) is only
    where the install starts.
  - O(replaces) handles a package rename (Serverless Logic C(logic-operator-rhel8) became
    C(logic-operator) at 1.37) by deleting the old Subscription and its CSV first. An old Subscription that
    is not the collection's is deleted only with O(adopt=true). The operands (for example a
    SonataFlowPlatform) are not touched.
  - With O(state=absent) the Subscription and its CSV are deleted when the Subscription is the
    collection's and no custom resource of O(crds) is left in the cluster (see O(remove_shared)); the
    OperatorGroup and, with O(delete_namespace), the Namespace go when they are the collection's and nothing
    kept needs them. What stays is listed in RV(kept). Delete the operator's custom resources first, while
    the operator can still run their finalizers.
author:
  - rhdh.orchestrator contributors (!UNKNOWN)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  state:
    description: Whether the operator is installed.
    type: str
    choices: [present, absent]
    default: present
  name:
    description: Name of the Subscription. Defaults to O(package).
    type: str
  package:
    description: Package name in the catalog (the Subscription's C(spec.name)).
    type: str
    required: true
  namespace:
    description: Namespace of the Subscription, the OperatorGroup and the CSV.
    type: str
    required: true
  channel:
    description: Update channel. The catalog's default channel when omitted.
    type: str
  source:
    description: CatalogSource name.
    type: str
    default: redhat-operators
  source_namespace:
    description: Namespace of the CatalogSource.
    type: str
    default: openshift-marketplace
  install_plan_approval:
    description: Approval strategy of the Subscription's InstallPlans.
    type: str
    choices: [Automatic, Manual]
    default: Automatic
  approve_install_plan:
    description:
      - Approve the pending InstallPlan of a C(Manual) Subscription when it installs what was asked
        (O(starting_csv) when set, else any plan).
    type: bool
    default: false
  starting_csv:
    description:
      - Install this CSV version instead of the channel head.
      - With C(Automatic) approval OLM then upgrades along the channel; with C(Manual) approval and
        O(approve_install_plan) the module approves no plan past it.
    type: str
  config:
    description: The Subscription's C(spec.config) (env, resources, nodeSelector...).
    type: dict
  operator_group:
    description:
      - Name of the OperatorGroup to create when the namespace has none. It selects all namespaces.
      - Ignored in C(openshift-operators) and where an OperatorGroup already exists.
    type: str
  install_modes:
    description:
      - Install modes the operator supports. An existing OperatorGroup of the namespace whose target
        namespaces need another mode fails the module before anything is changed.
      - RHDH, OpenShift Serverless and OpenShift Serverless Logic support only C(AllNamespaces).
    type: list
    elements: str
    choices: [AllNamespaces, OwnNamespace, SingleNamespace, MultiNamespace]
    default: [AllNamespaces]
    version_added: 0.2.0
  adopt:
    description:
      - Change (patch the spec of) an existing Subscription that was not created by this collection, approve
        its InstallPlans, and delete it when it is listed in O(replaces).
      - It never gets the collection's label, so O(state=absent) still keeps it.
    type: bool
    default: false
    version_added: 0.2.0
  remove_shared:
    description:
      - With O(state=absent), remove the operator even though custom resources of O(crds) still exist
        somewhere in the cluster. By default the operator is kept for them and they are listed in RV(kept).
    type: bool
    default: false
    version_added: 0.2.0
  create_namespace:
    description: Create O(namespace) when it is missing.
    type: bool
    default: true
  crds:
    description:
      - Names of the CRDs the operator must serve before the module returns.
      - With O(state=absent), custom resources of these CRDs that still exist keep the operator (see O(remove_shared)).
    type: list
    elements: str
    default: []
  replaces:
    description:
      - Subscriptions (in O(namespace)) of packages this one replaces. Each is deleted with its CSV
        before this Subscription is created.
    type: list
    elements: str
    default: []
  wait:
    description: Wait for the CSV and the CRDs. Without it the module returns once the objects are applied.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the install (or, when absent, for the namespace to go).
    type: int
    default: 300
  delete_namespace:
    description:
      - With O(state=absent), also delete O(namespace) and wait until it is gone.
      - Only a namespace this collection created (it carries the label) is deleted, and only when the operator
        was removed and nothing else is left in it.
    type: bool
    default: false
notes:
  - Check mode changes nothing and reports what would change; diff mode shows the Subscription spec.
  - The module only reads and writes through the Kubernetes API; it does not need the C(oc) binary.
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Install OpenShift Serverless
  rhdh.orchestrator.olm_operator:
    package: serverless-operator
    namespace: openshift-serverless
    channel: stable
    operator_group: serverless-operator-group
    crds:
      - knativeservings.operator.knative.dev
      - knativeeventings.operator.knative.dev

- name: Install Serverless Logic 1.37+, replacing the old package
  rhdh.orchestrator.olm_operator:
    package: logic-operator
    namespace: openshift-serverless-logic
    channel: stable
    replaces: [logic-operator-rhel8]
    crds: [sonataflowplatforms.sonataflow.org]

- name: Install a pinned version with manual upgrades (later upgrades are reported, not approved)
  rhdh.orchestrator.olm_operator:
    package: serverless-operator
    namespace: openshift-serverless
    channel: stable
    starting_csv: serverless-operator.v1.35.0
    install_plan_approval: Manual
    approve_install_plan: true
  register: serverless

- name: Show an upgrade that waits for approval
  ansible.builtin.debug:
    msg: "Upgrade to {{ serverless.pending_upgrade }} waits for approval"
  when: serverless.pending_upgrade | length > 0

- name: Remove the RHDH operator (its Backstage CRs are already gone)
  rhdh.orchestrator.olm_operator:
    state: absent
    package: rhdh
    namespace: rhdh-operator
    crds: [backstages.rhdh.redhat.com]
"""

RETURN = r"""
subscription:
  description: Namespace and name of the Subscription used (an existing one may live elsewhere, see RV(preexisting)).
  returned: always
  type: dict
  sample: {namespace: openshift-serverless, name: serverless-operator}
installed_csv:
  description: The installed ClusterServiceVersion (empty when not installed or in check mode before install).
  returned: always
  type: str
  sample: serverless-operator.v1.36.0
csv_phase:
  description: Phase of that CSV.
  returned: always
  type: str
  sample: Succeeded
pending_upgrade:
  description:
    - The CSV of an upgrade whose InstallPlan waits for manual approval while the installed CSV runs; empty
      when there is none.
  returned: always
  type: str
  sample: serverless-operator.v1.36.0
  version_added: 0.2.0
preexisting:
  description: Whether the Subscription existed without the collection's label (it was used, not managed).
  returned: always
  type: bool
  sample: false
  version_added: 0.2.0
kept:
  description: With O(state=absent), what was not removed and why, one line each.
  returned: always
  type: list
  elements: str
  sample: ["Namespace openshift-serverless: not created by rhdh.orchestrator (no app.kubernetes.io/managed-by=rhdh.orchestrator label)"]
  version_added: 0.2.0
actions:
  description: What the module changed (or would change in check mode), one line each.
  returned: always
  type: list
  elements: str
  sample: ["created Subscription openshift-serverless/serverless-operator"]
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
from ansible_collections.rhdh.orchestrator.plugins.module_utils.olm import INSTALL_MODES, OlmError, OlmOperator


def main():
    argument_spec = copy.deepcopy(AUTH_ARG_SPEC)
    argument_spec.update(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        name=dict(type="str"),
        package=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        channel=dict(type="str"),
        source=dict(type="str", default="redhat-operators"),
        source_namespace=dict(type="str", default="openshift-marketplace"),
        install_plan_approval=dict(type="str", choices=["Automatic", "Manual"], default="Automatic"),
        approve_install_plan=dict(type="bool", default=False),
        starting_csv=dict(type="str"),
        config=dict(type="dict"),
        operator_group=dict(type="str"),
        install_modes=dict(type="list", elements="str", choices=list(INSTALL_MODES), default=["AllNamespaces"]),
        adopt=dict(type="bool", default=False),
        remove_shared=dict(type="bool", default=False),
        create_namespace=dict(type="bool", default=True),
        crds=dict(type="list", elements="str", default=[]),
        replaces=dict(type="list", elements="str", default=[]),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
        delete_namespace=dict(type="bool", default=False),
    )
    module = AnsibleK8SModule(argument_spec=argument_spec, supports_check_mode=True)
    what = "Operator {0} in {1}".format(module.params["package"], module.params["namespace"])
    op = None
    try:
        op = OlmOperator(Kube(module), module.params, check_mode=module.check_mode, warn=module.warn)
        result = op.present() if module.params["state"] == "present" else op.absent()
    except OlmError as exc:
        module.fail_json(msg="{0}: {1}".format(what, exc.msg), **dict(op.result(), **exc.extra))
    except CoreException as exc:
        module.fail_from_exception(exc)
    except DynamicApiError as exc:
        module.fail_json(msg="Kubernetes API error: {0} {1}".format(exc.status, exc.summary()),
                         **(op.result() if op else {}))
    out = dict(result, changed=bool(op.actions))
    if module._diff and module.params["state"] == "present":  # pylint: disable=protected-access
        out["diff"] = op.diff
    module.exit_json(**out)


if __name__ == "__main__":
    main()
