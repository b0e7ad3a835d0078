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
version_added: 0.1.0
description:
  - Installs an operator the way the OpenShift console does it, for every role of the collection that
    needs one (OpenShift Serverless, OpenShift Serverless Logic, RHDH).
  - Makes sure of the Namespace, an OperatorGroup (none is created in C(openshift-operators), which has
    its global one, nor where one already exists) and the Subscription.
  - Waits until the Subscription has an C(installedCSV), that ClusterServiceVersion reaches phase
    C(Succeeded), and every CRD in O(crds) is C(Established). A CSV that goes C(Failed) fails at once
    with its reason and message.
  - A C(Manual) InstallPlan is approved only with O(approve_install_plan=true); otherwise the module
    stops and says which InstallPlan waits for approval.
  - O(replaces) handles a package rename (Serverless Logic C(logic-operator-rhel8) became
    C(logic-operator) at 1.37) by deleting the old Subscription and its CSV first. The operands (for
    example a SonataFlowPlatform) are not touched.
  - With O(state=absent) the Subscription and its CSV are deleted. Delete the operator's custom
    resources first, while the operator can still run their finalizers.
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
    description: Approve the pending InstallPlan of a C(Manual) Subscription.
    type: bool
    default: false
  starting_csv:
    description: Install this CSV version instead of the channel head.
    type: str
  config:
    description: The Subscription's C(spec.config) (env, resources, nodeSelector...).
    type: dict
  operator_group:
    description:
      - Name of the OperatorGroup to create when the namespace has none. It selects all namespaces.
      - Ignored in C(openshift-operators) and where an OperatorGroup already exists.
    type: str
  create_namespace:
    description: Create O(namespace) when it is missing.
    type: bool
    default: true
  crds:
    description: Names of the CRDs the operator must serve before the module returns.
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
    description: With O(state=absent), also delete O(namespace) and wait until it is gone.
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

- name: Remove the RHDH operator (its Backstage CRs are already gone)
  rhdh.orchestrator.olm_operator:
    state: absent
    package: rhdh
    namespace: rhdh-operator
"""

RETURN = r"""
subscription:
  description: Namespace and name of the Subscription.
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
from ansible_collections.rhdh.orchestrator.plugins.module_utils.kube import (
    Kube, WaitFailed, conditions_text, ref)

OLM = "operators.coreos.com"
SUB = (OLM + "/v1alpha1", "Subscription")
CSV = (OLM + "/v1alpha1", "ClusterServiceVersion")
IP = (OLM + "/v1alpha1", "InstallPlan")
OG = (OLM + "/v1", "OperatorGroup")
NS = ("v1", "Namespace")
GLOBAL_NAMESPACE = "openshift-operators"


class OlmOperator:
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.kube = Kube(module)
        self.ns = self.p["namespace"]
        self.name = self.p["name"] or self.p["package"]
        self.actions = []
        self.diff = {"before": {}, "after": {}}

    def did(self, text):
        self.actions.append(text)

    # ---- present ---------------------------------------------------------
    def desired_spec(self):
        spec = {"name": self.p["package"], "source": self.p["source"],
                "sourceNamespace": self.p["source_namespace"],
                "installPlanApproval": self.p["install_plan_approval"]}
        for key, param in (("channel", "channel"), ("startingCSV", "starting_csv"), ("config", "config")):
            if self.p[param]:
                spec[key] = self.p[param]
        return spec

    def present(self):
        for old in self.p["replaces"]:
            self.remove_subscription(old, reason="replaced by {0}".format(self.p["package"]))
        if self.kube.get(*NS, name=self.ns) is None:
            if not self.p["create_namespace"]:
                self.module.fail_json(msg="Namespace {0} does not exist and create_namespace is false".format(self.ns))
            self.kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.ns}})
            self.did("created Namespace {0}".format(self.ns))
        self.ensure_operator_group()
        sub = self.ensure_subscription()
        if not self.p["wait"] or sub is None:
            return {}
        try:
            return self.kube.wait(self.probe, self.p["wait_timeout"])
        except WaitFailed as exc:
            self.module.fail_json(msg="Operator {0} in {1}: {2}".format(self.p["package"], self.ns, exc),
                                  actions=self.actions)

    def ensure_operator_group(self):
        if self.ns == GLOBAL_NAMESPACE:
            return
        groups = self.kube.list(*OG, namespace=self.ns)
        if groups:
            return
        name = self.p["operator_group"] or self.ns
        self.kube.create({"apiVersion": OG[0], "kind": OG[1], "metadata": {"name": name, "namespace": self.ns},
                          "spec": {}})
        self.did("created OperatorGroup {0}/{1}".format(self.ns, name))

    def ensure_subscription(self):
        want = self.desired_spec()
        sub = self.kube.get(*SUB, name=self.name, namespace=self.ns)
        self.diff["after"] = want
        if sub is None:
            body = {"apiVersion": SUB[0], "kind": SUB[1],
                    "metadata": {"name": self.name, "namespace": self.ns,
                                 "labels": {"app.kubernetes.io/managed-by": "rhdh.orchestrator"}},
                    "spec": want}
            self.kube.create(body)
            self.did("created Subscription {0}/{1}".format(self.ns, self.name))
            return None if self.module.check_mode else body
        have = sub.get("spec") or {}
        self.diff["before"] = {k: have[k] for k in have if k in want or k in ("channel", "startingCSV", "config")}
        if have.get("name") != want["name"]:
            self.module.fail_json(msg="Subscription {0}/{1} exists for package {2}, not {3}; pick another name "
                                  "or remove it first".format(self.ns, self.name, have.get("name"), want["name"]))
        patch = {k: v for k, v in want.items() if have.get(k) != v}
        for key in ("channel", "startingCSV", "config"):
            if key in have and key not in want:
                patch[key] = None
        if patch:
            self.kube.merge_patch(*SUB, name=self.name, namespace=self.ns, patch={"spec": patch})
            self.did("updated Subscription {0}/{1}: {2}".format(self.ns, self.name, ", ".join(sorted(patch))))
        return sub

    def probe(self):
        """One look at the install: (True, result) done, (False, msg) failed, (None, msg) not yet."""
        sub = self.kube.get(*SUB, name=self.name, namespace=self.ns) or {}
        status = sub.get("status") or {}
        where = ref("Subscription", self.ns, self.name)
        plan = self.install_plan(status)
        if plan is not None and not plan.get("spec", {}).get("approved"):
            if not self.p["approve_install_plan"]:
                return False, ("{0} for {1} waits for manual approval (installPlanApproval: Manual). Approve it "
                               "or set approve_install_plan, then run again.".format(
                                   ref(plan), ", ".join(plan["spec"].get("clusterServiceVersionNames", []))))
            self.kube.merge_patch(*IP, name=plan["metadata"]["name"], namespace=self.ns,
                                  patch={"spec": {"approved": True}})
            self.did("approved {0}".format(ref(plan)))
            if self.module.check_mode:
                return True, {}
            return None, "approved " + ref(plan)
        csv_name = status.get("installedCSV") or status.get("currentCSV")
        if not csv_name:
            return None, "{0} has no CSV yet (state {1!r}; {2})".format(
                where, status.get("state", ""), conditions_text(sub))
        csv = self.kube.get(*CSV, name=csv_name, namespace=self.ns)
        phase = ((csv or {}).get("status") or {}).get("phase", "")
        if phase == "Failed":
            cst = csv["status"]
            events = self.kube.events(csv)
            return False, "{0} Failed: {1}: {2}{3}".format(
                ref(csv), cst.get("reason", ""), cst.get("message", ""),
                ("; events: " + " | ".join(events)) if events else "")
        if phase != "Succeeded" or not status.get("installedCSV"):
            return None, "{0} phase {1!r} ({2}); {3} state {4!r}".format(
                ref("ClusterServiceVersion", self.ns, csv_name), phase,
                ((csv or {}).get("status") or {}).get("message", ""), where, status.get("state", ""))
        for crd in self.p["crds"]:
            done, msg = self.kube.crd_established(crd)
            if not done:
                return None, msg
        return True, {"installed_csv": csv_name, "csv_phase": phase}

    def install_plan(self, status):
        plan_ref = status.get("installPlanRef") or {}
        if not plan_ref.get("name"):
            return None
        return self.kube.get(*IP, name=plan_ref["name"], namespace=self.ns)

    # ---- absent ----------------------------------------------------------
    def remove_subscription(self, name, reason=None):
        sub = self.kube.get(*SUB, name=name, namespace=self.ns)
        if sub is None:
            return
        status = sub.get("status") or {}
        csvs = {c for c in (status.get("installedCSV"), status.get("currentCSV")) if c}
        self.kube.delete(*SUB, name=name, namespace=self.ns)
        self.did("deleted Subscription {0}/{1}{2}".format(self.ns, name, " ({0})".format(reason) if reason else ""))
        for csv in sorted(csvs):
            if self.kube.delete(*CSV, name=csv, namespace=self.ns):
                self.did("deleted ClusterServiceVersion {0}/{1}".format(self.ns, csv))

    def absent(self):
        self.remove_subscription(self.name)
        if self.p["delete_namespace"] and self.ns != GLOBAL_NAMESPACE:
            if self.kube.delete(*NS, name=self.ns):
                self.did("deleted Namespace {0}".format(self.ns))
                if not self.module.check_mode:
                    self.wait_namespace_gone()
        return {}

    def wait_namespace_gone(self):
        def gone():
            ns = self.kube.get(*NS, name=self.ns)
            if ns is None:
                return True, None
            return None, "Namespace {0} still {1}: {2}".format(
                self.ns, (ns.get("status") or {}).get("phase", ""), conditions_text(ns))
        try:
            self.kube.wait(gone, self.p["wait_timeout"])
        except WaitFailed as exc:
            self.module.fail_json(msg=str(exc), actions=self.actions)


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
        create_namespace=dict(type="bool", default=True),
        crds=dict(type="list", elements="str", default=[]),
        replaces=dict(type="list", elements="str", default=[]),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
        delete_namespace=dict(type="bool", default=False),
    )
    module = AnsibleK8SModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        op = OlmOperator(module)
        result = op.present() if module.params["state"] == "present" else op.absent()
    except CoreException as exc:
        module.fail_from_exception(exc)
    except DynamicApiError as exc:
        module.fail_json(msg="Kubernetes API error: {0} {1}".format(exc.status, exc.summary()))
    out = dict(changed=bool(op.actions), actions=op.actions,
               subscription={"namespace": op.ns, "name": op.name},
               installed_csv=result.get("installed_csv", ""), csv_phase=result.get("csv_phase", ""))
    if module._diff and module.params["state"] == "present":  # pylint: disable=protected-access
        out["diff"] = op.diff
    module.exit_json(**out)


if __name__ == "__main__":
    main()
