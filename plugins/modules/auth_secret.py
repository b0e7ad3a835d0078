#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: auth_secret
short_description: Own the Secret that carries RHDH's orchestrator credentials (backstage-backend-auth-secret)
version_added: 0.2.0
description:
  - Creates or updates the Secret (default C(backstage-backend-auth-secret)) that RHDH loads through
    C(extraEnvs) and that the orchestrator app-config and dynamic plugins refer to as C(${KEY}).
  - C(BACKEND_SECRET) is generated once with a cryptographic generator and then kept as it is on every
    later run; it changes only with O(rotate=true) or an explicit O(backend_secret).
  - C(K8S_CLUSTER_URL) and C(K8S_CLUSTER_TOKEN) come from a dedicated ServiceAccount with a
    least-privilege ClusterRole (read access for the RHDH Kubernetes and Tekton plugins, not cluster-admin)
    and its long-lived token Secret; the module waits until the token controller has filled the token.
    C(K8S_CLUSTER_CA_DATA) is the cluster CA from the same Secret (its C(ca.crt), base64-encoded PEM as the
    plugin's C(caData) takes it), so the plugin verifies the API server's certificate.
  - GitHub, notification e-mail and ArgoCD keys come from parameters; ArgoCD ones can be discovered from an
    ArgoCD instance instead (the host of its Route and the admin password in C(<instance>-cluster)).
  - A parameter left out (null) leaves its key as it is; a parameter set to an empty string removes its key.
    Keys with empty values are never written. Keys the module does not know are kept.
  - The Secret is patched in place, never deleted and recreated, so pods holding it keep working and the
    values they were started with stay valid.
  - Values never appear in results, warnings, diffs or logs. Check mode and diff mode are supported; the diff
    shows key names and whether each value is new, changed, unchanged or removed.
author:
  - rhdh.orchestrator contributors (!UNKNOWN)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  state:
    description:
      - V(present) creates or updates the Secret.
      - V(absent) deletes the Secret, the token Secret and the ClusterRoleBinding of the ServiceAccount,
        and the ServiceAccount itself when the module created it. The shared ClusterRole is kept.
    type: str
    choices: [present, absent]
    default: present
  namespace:
    description: Namespace of RHDH, where the Secret lives. It must exist.
    type: str
    required: true
  name:
    description: Name of the Secret.
    type: str
    default: backstage-backend-auth-secret
  backend_secret:
    description:
      - Use this value as C(BACKEND_SECRET) instead of generating one, for example to restore a known value.
      - Must be at least 32 characters.
    type: str
  rotate:
    description: Generate a new C(BACKEND_SECRET) even though one exists. Workflows and RHDH must then be restarted.
    type: bool
    default: false
  cluster_token:
    description:
      - Provide C(K8S_CLUSTER_URL), C(K8S_CLUSTER_TOKEN) and C(K8S_CLUSTER_CA_DATA) for the RHDH Kubernetes plugin.
      - V(false) removes these keys; the ServiceAccount is left alone.
    type: bool
    default: true
  cluster_url:
    description: C(K8S_CLUSTER_URL). Defaults to the API server the module itself talks to.
    type: str
  cluster_ca_data:
    description:
      - C(K8S_CLUSTER_CA_DATA), the base64-encoded PEM bundle that signs the certificate of O(cluster_url).
      - Defaults to the cluster CA from the ServiceAccount token Secret; give it when O(cluster_url) is served
        with a certificate from another CA. An empty string removes the key.
    type: str
  service_account:
    description: Name of the ServiceAccount whose token becomes C(K8S_CLUSTER_TOKEN). Created when missing.
    type: str
    default: orchestrator-k8s-reader
  service_account_namespace:
    description: Namespace of O(service_account). Defaults to O(namespace).
    type: str
  cluster_role:
    description: Name of the ClusterRole bound to O(service_account). It only grants get, list and watch.
    type: str
    default: rhdh-orchestrator-k8s-reader
  github_token:
    description: C(GITHUB_TOKEN) (GitHub integration; scopes repo, read:org, read:user, user:email, workflow).
    type: str
  github_client_id:
    description: C(GITHUB_CLIENT_ID) of the GitHub OAuth app (GitHub sign-in).
    type: str
  github_client_secret:
    description: C(GITHUB_CLIENT_SECRET) of the GitHub OAuth app.
    type: str
  notifications_email_hostname:
    description: C(NOTIFICATIONS_EMAIL_HOSTNAME), the SMTP server of the notifications e-mail processor.
    type: str
  notifications_email_username:
    description: C(NOTIFICATIONS_EMAIL_USERNAME).
    type: str
  notifications_email_password:
    description: C(NOTIFICATIONS_EMAIL_PASSWORD).
    type: str
  argocd_url:
    description: C(ARGOCD_URL). Wins over a discovered one.
    type: str
  argocd_username:
    description: C(ARGOCD_USERNAME). Wins over a discovered one (C(admin)).
    type: str
  argocd_password:
    description: C(ARGOCD_PASSWORD). Wins over a discovered one.
    type: str
  argocd_namespace:
    description:
      - Discover the ArgoCD keys from an ArgoCD instance (C(argoproj.io) C(ArgoCD)) in this namespace.
      - Without O(argocd_instance) the first instance found is used; with none the ArgoCD keys are left out.
    type: str
  argocd_instance:
    description: Name of the ArgoCD instance to discover from; it must exist in O(argocd_namespace).
    type: str
  wait_timeout:
    description: Seconds to wait for the token controller to fill the ServiceAccount token.
    type: int
    default: 120
notes:
  - A ServiceAccount token Secret (type C(kubernetes.io/service-account-token)) is used rather than a
    short-lived TokenRequest token because RHDH reads C(K8S_CLUSTER_TOKEN) once at start and keeps it.
  - The ClusterRole covers what the RHDH Kubernetes plugin and the Tekton plugin read (workloads, pods and
    their logs, services, ingresses, routes, jobs, autoscalers, Tekton pipelines and runs).
"""

EXAMPLES = r"""
- name: Create or keep the auth Secret; BACKEND_SECRET is generated once
  rhdh.orchestrator.auth_secret:
    namespace: rhdh-operator
    github_token: "{{ vault_github_token }}"

- name: Take the ArgoCD keys from the instance in orchestrator-gitops
  rhdh.orchestrator.auth_secret:
    namespace: rhdh-operator
    argocd_namespace: orchestrator-gitops
    argocd_instance: argocd

- name: Drop the GitHub OAuth keys, keep everything else
  rhdh.orchestrator.auth_secret:
    namespace: rhdh-operator
    github_client_id: ""
    github_client_secret: ""

- name: Rotate BACKEND_SECRET (restart RHDH and the workflows afterwards)
  rhdh.orchestrator.auth_secret:
    namespace: rhdh-operator
    rotate: true
"""

RETURN = r"""
keys:
  description: Every key the Secret holds after the run, and what this run did to it
    (V(created), V(updated) or V(unchanged)). Values are never returned.
  returned: always
  type: dict
  sample: {"BACKEND_SECRET": "unchanged", "K8S_CLUSTER_URL": "unchanged", "K8S_CLUSTER_TOKEN": "created"}
removed_keys:
  description: Keys this run removed because their value was set empty.
  returned: always
  type: list
  elements: str
  sample: ["GITHUB_CLIENT_SECRET"]
secret:
  description: Where the Secret is.
  returned: always
  type: dict
  sample: {"name": "backstage-backend-auth-secret", "namespace": "rhdh-operator"}
service_account:
  description: The ServiceAccount behind C(K8S_CLUSTER_TOKEN), when O(cluster_token) is true.
  returned: when state is present and cluster_token is true
  type: dict
  sample: {"name": "orchestrator-k8s-reader", "namespace": "rhdh-operator", "cluster_role": "rhdh-orchestrator-k8s-reader"}
argocd_instance:
  description: The ArgoCD instance the ArgoCD keys were discovered from, if any.
  returned: when state is present
  type: str
  sample: argocd
actions:
  description: What was done (or, in check mode, would be done), in order.
  returned: always
  type: list
  elements: str
"""

import base64
import copy
import secrets
import string

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

from ansible_collections.rhdh.orchestrator.plugins.module_utils.kube import Kube, WaitFailed

MANAGED_BY = {"app.kubernetes.io/managed-by": "rhdh.orchestrator"}
SECRET_LENGTH = 48
MIN_SECRET_LENGTH = 32
# What the RHDH Kubernetes plugin and the Tekton/ArgoCD views read: nothing is written.
READ_RULES = [
    {"apiGroups": [""], "resources": ["pods", "pods/log", "services", "configmaps", "limitranges",
                                      "resourcequotas", "namespaces"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"]},
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"]},
    {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"]},
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"]},
    {"apiGroups": ["metrics.k8s.io"], "resources": ["pods"]},
    {"apiGroups": ["route.openshift.io"], "resources": ["routes"]},
    {"apiGroups": ["tekton.dev"], "resources": ["pipelines", "pipelineruns", "taskruns"]},
    {"apiGroups": ["sonataflow.org"], "resources": ["sonataflows"]},
]
CLUSTER_ROLE_RULES = [dict(rule, verbs=["get", "list", "watch"]) for rule in READ_RULES]
# parameter -> key, for the keys taken from parameters as they are.
PARAM_KEYS = (
    ("github_token", "GITHUB_TOKEN"),
    ("github_client_id", "GITHUB_CLIENT_ID"),
    ("github_client_secret", "GITHUB_CLIENT_SECRET"),
    ("notifications_email_hostname", "NOTIFICATIONS_EMAIL_HOSTNAME"),
    ("notifications_email_username", "NOTIFICATIONS_EMAIL_USERNAME"),
    ("notifications_email_password", "NOTIFICATIONS_EMAIL_PASSWORD"),
)
ARGOCD_KEYS = (("argocd_url", "ARGOCD_URL"), ("argocd_username", "ARGOCD_USERNAME"),
               ("argocd_password", "ARGOCD_PASSWORD"))
K8S_KEYS = ("K8S_CLUSTER_URL", "K8S_CLUSTER_TOKEN", "K8S_CLUSTER_CA_DATA")


def generate_secret(length=SECRET_LENGTH):
    """Letters and digits from the operating system's CSPRNG: safe inside YAML, URLs and shells."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _i in range(length))


def decode(data):
    return {k: base64.b64decode(v).decode("utf-8") for k, v in (data or {}).items()}


def encode(value):
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


class AuthSecret:
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.kube = Kube(module)
        self.ns = self.p["namespace"]
        self.sa_ns = self.p["service_account_namespace"] or self.ns
        self.actions = []
        self.argocd_instance = None  # set when ArgoCD keys were discovered

    def did(self, text):
        self.actions.append(text)

    def fail(self, msg):
        self.module.fail_json(msg=msg, actions=self.actions)

    # ---- inputs ----------------------------------------------------------
    def validate(self):
        given = self.p["backend_secret"]
        if given is not None and len(given) < MIN_SECRET_LENGTH:
            self.fail("backend_secret must be at least {0} characters long".format(MIN_SECRET_LENGTH))
        if given is not None and self.p["rotate"]:
            self.fail("backend_secret and rotate are mutually exclusive: rotate generates a new value")
        if self.p["argocd_instance"] and not self.p["argocd_namespace"]:
            self.fail("argocd_instance needs argocd_namespace")
        if self.kube.get("v1", "Namespace", self.ns) is None:
            self.fail("Namespace {0} (parameter namespace) does not exist; create it first".format(self.ns))
        if self.p["cluster_token"] and self.sa_ns != self.ns and self.kube.get("v1", "Namespace", self.sa_ns) is None:
            self.fail("Namespace {0} (parameter service_account_namespace) does not exist".format(self.sa_ns))

    # ---- the wanted keys ---------------------------------------------------
    def wanted(self, have):
        """key -> value for keys to set, and the set of keys to remove."""
        want, drop = {}, set()
        if self.p["backend_secret"] is not None:
            want["BACKEND_SECRET"] = self.p["backend_secret"]
        elif self.p["rotate"] or not have.get("BACKEND_SECRET"):
            want["BACKEND_SECRET"] = generate_secret()
        else:
            want["BACKEND_SECRET"] = have["BACKEND_SECRET"]
            if len(have["BACKEND_SECRET"]) < MIN_SECRET_LENGTH:
                self.module.warn("BACKEND_SECRET in Secret {0}/{1} is shorter than {2} characters (hack/setup.sh "
                                 "makes 23); it is kept, rotate=true replaces it".format(
                                     self.ns, self.p["name"], MIN_SECRET_LENGTH))
        if self.p["cluster_token"]:
            want["K8S_CLUSTER_URL"] = self.p["cluster_url"] or self.kube.client.configuration.host
            want["K8S_CLUSTER_TOKEN"], ca_data = self.cluster_token()
            want["K8S_CLUSTER_CA_DATA"] = ca_data if self.p["cluster_ca_data"] is None else self.p["cluster_ca_data"]
        else:
            drop.update(K8S_KEYS)
        argocd = self.discover_argocd()
        for param, key in ARGOCD_KEYS:
            if self.p[param] is None and key in argocd:
                want[key] = argocd[key]
        for param, key in PARAM_KEYS + ARGOCD_KEYS:
            if self.p[param] is not None and key not in want:
                want[key] = self.p[param]
        for key, value in list(want.items()):
            if value == "":
                del want[key]
                drop.add(key)
        return want, drop

    def cluster_token(self):
        """(token, base64 CA) of the dedicated ServiceAccount's token Secret; placeholders in check mode
        when it does not exist yet."""
        name, crole = self.p["service_account"], self.p["cluster_role"]
        token_name = name + "-token"
        sa = self.kube.get("v1", "ServiceAccount", name, self.sa_ns)
        if sa is None:
            self.kube.create({"apiVersion": "v1", "kind": "ServiceAccount",
                              "metadata": {"name": name, "namespace": self.sa_ns, "labels": MANAGED_BY}})
            self.did("created ServiceAccount {0}/{1}".format(self.sa_ns, name))
        role = self.kube.get("rbac.authorization.k8s.io/v1", "ClusterRole", crole)
        if role is None:
            self.kube.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                              "metadata": {"name": crole, "labels": MANAGED_BY}, "rules": CLUSTER_ROLE_RULES})
            self.did("created ClusterRole {0}".format(crole))
        elif role.get("rules") != CLUSTER_ROLE_RULES and (role["metadata"].get("labels") or {}) == MANAGED_BY:
            self.kube.merge_patch("rbac.authorization.k8s.io/v1", "ClusterRole", crole, None,
                                  {"rules": CLUSTER_ROLE_RULES})
            self.did("updated the rules of ClusterRole {0}".format(crole))
        binding = self.binding_name()
        if self.kube.get("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", binding) is None:
            self.kube.create({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": binding, "labels": MANAGED_BY},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": crole},
                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": self.sa_ns}]})
            self.did("created ClusterRoleBinding {0}".format(binding))
        token = self.kube.get("v1", "Secret", token_name, self.sa_ns)
        if token is None:
            self.kube.create({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
                              "metadata": {"name": token_name, "namespace": self.sa_ns, "labels": MANAGED_BY,
                                           "annotations": {"kubernetes.io/service-account.name": name}}})
            self.did("created token Secret {0}/{1}".format(self.sa_ns, token_name))
            if self.module.check_mode:
                return "(to be issued)", "(to be issued)"
        elif token.get("type") != "kubernetes.io/service-account-token":
            self.fail("Secret {0}/{1} exists but is not a service-account-token Secret; pick another "
                      "service_account".format(self.sa_ns, token_name))

        def probe():
            obj = self.kube.get("v1", "Secret", token_name, self.sa_ns)
            data = (obj or {}).get("data") or {}
            if data.get("token"):
                return True, (base64.b64decode(data["token"]).decode("utf-8"), data.get("ca.crt") or "")
            return None, "Secret {0}/{1} has no token yet: is the token controller of kube-controller-manager " \
                         "running?".format(self.sa_ns, token_name)

        try:
            return self.kube.wait(probe, self.p["wait_timeout"])
        except WaitFailed as exc:
            self.fail(str(exc))

    def binding_name(self):
        return "{0}-{1}-{2}".format(self.p["cluster_role"], self.sa_ns, self.p["service_account"])[:253]

    def discover_argocd(self):
        """ARGOCD_* from an ArgoCD instance, {} when not asked or none is there."""
        ns, name = self.p["argocd_namespace"], self.p["argocd_instance"]
        if not ns:
            return {}
        instances = self.kube.list("argoproj.io/v1beta1", "ArgoCD", namespace=ns)
        if name:
            instances = [i for i in instances if i["metadata"]["name"] == name]
            if not instances:
                self.fail("ArgoCD instance {0} not found in namespace {1} (parameters argocd_instance, "
                          "argocd_namespace)".format(name, ns))
        if not instances:
            self.module.warn("No ArgoCD instance in namespace {0}: the ArgoCD keys are left out".format(ns))
            return {}
        name = sorted(i["metadata"]["name"] for i in instances)[0]
        self.argocd_instance = name
        found = {"ARGOCD_USERNAME": "admin"}
        routes = self.kube.list("route.openshift.io/v1", "Route", namespace=ns,
                                label_selector="app.kubernetes.io/managed-by={0}".format(name))
        hosts = sorted((r["metadata"]["name"], (r.get("spec") or {}).get("host")) for r in routes)
        hosts = [h for _n, h in hosts if h]
        if hosts:
            found["ARGOCD_URL"] = "https://" + hosts[0]
        cluster = self.kube.get("v1", "Secret", "{0}-cluster".format(name), ns)
        password = ((cluster or {}).get("data") or {}).get("admin.password")
        if password:
            found["ARGOCD_PASSWORD"] = base64.b64decode(password).decode("utf-8")
        return found

    # ---- present / absent --------------------------------------------------
    def present(self):
        obj = self.kube.get("v1", "Secret", self.p["name"], self.ns)
        have = decode((obj or {}).get("data"))
        want, drop = self.wanted(have)
        status, patch = {}, {}
        for key, value in want.items():
            if key not in have:
                status[key], patch[key] = "created", encode(value)
            elif have[key] != value:
                status[key], patch[key] = "updated", encode(value)
            else:
                status[key] = "unchanged"
        removed = sorted(k for k in drop if k in have)
        for key in removed:
            patch[key] = None
        for key in have:
            if key not in want and key not in drop:
                status[key] = "unchanged"  # not ours: kept as it is
        if obj is None:
            self.kube.create({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                              "metadata": {"name": self.p["name"], "namespace": self.ns, "labels": MANAGED_BY},
                              "data": {k: v for k, v in patch.items() if v is not None}})
            self.did("created Secret {0}/{1}".format(self.ns, self.p["name"]))
        elif patch:
            self.kube.merge_patch("v1", "Secret", self.p["name"], self.ns, {"data": patch})
            self.did("patched Secret {0}/{1}: {2}".format(
                self.ns, self.p["name"], ", ".join(sorted(patch))))
        result = dict(keys=dict(sorted(status.items())), removed_keys=removed,
                      argocd_instance=self.argocd_instance)
        if self.p["cluster_token"]:
            result["service_account"] = {"name": self.p["service_account"], "namespace": self.sa_ns,
                                         "cluster_role": self.p["cluster_role"]}
        diff = {"before": {k: "<hidden>" for k in sorted(have)},
                "after": {k: "<hidden{0}>".format("" if s == "unchanged" else ", " + s)
                          for k, s in sorted(status.items())}}
        return result, diff

    def absent(self):
        for api, kind, name, ns in (
                ("v1", "Secret", self.p["name"], self.ns),
                ("v1", "Secret", self.p["service_account"] + "-token", self.sa_ns),
                ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", self.binding_name(), None)):
            if self.kube.delete(api, kind, name, ns):
                self.did("deleted {0} {1}".format(kind, "{0}/{1}".format(ns, name) if ns else name))
        sa = self.kube.get("v1", "ServiceAccount", self.p["service_account"], self.sa_ns)
        if sa and (sa["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by") == "rhdh.orchestrator":
            self.kube.delete("v1", "ServiceAccount", self.p["service_account"], self.sa_ns)
            self.did("deleted ServiceAccount {0}/{1}".format(self.sa_ns, self.p["service_account"]))
        return dict(keys={}, removed_keys=[]), {}


def main():
    argument_spec = copy.deepcopy(AUTH_ARG_SPEC)
    argument_spec.update(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        namespace=dict(type="str", required=True),
        name=dict(type="str", default="backstage-backend-auth-secret"),
        backend_secret=dict(type="str", no_log=True),
        rotate=dict(type="bool", default=False),
        cluster_token=dict(type="bool", default=True),
        cluster_url=dict(type="str"),
        cluster_ca_data=dict(type="str"),
        service_account=dict(type="str", default="orchestrator-k8s-reader"),
        service_account_namespace=dict(type="str"),
        cluster_role=dict(type="str", default="rhdh-orchestrator-k8s-reader"),
        github_token=dict(type="str", no_log=True),
        github_client_id=dict(type="str", no_log=True),
        github_client_secret=dict(type="str", no_log=True),
        notifications_email_hostname=dict(type="str"),
        notifications_email_username=dict(type="str", no_log=True),
        notifications_email_password=dict(type="str", no_log=True),
        argocd_url=dict(type="str"),
        argocd_username=dict(type="str", no_log=True),
        argocd_password=dict(type="str", no_log=True),
        argocd_namespace=dict(type="str"),
        argocd_instance=dict(type="str"),
        wait_timeout=dict(type="int", default=120),
    )
    module = AnsibleK8SModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        owner = AuthSecret(module)
        if module.params["state"] == "absent":
            result, diff = owner.absent()
        else:
            owner.validate()
            result, diff = owner.present()
    except CoreException as exc:
        module.fail_from_exception(exc)
    result.update(changed=bool(owner.actions), actions=owner.actions,
                  secret={"name": module.params["name"], "namespace": module.params["namespace"]})
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
