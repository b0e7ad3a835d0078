"""OLM, as far as the roles see it (operators.coreos.com).

Subscription -> InstallPlan (waits for approval when installPlanApproval is
Manual) -> the operator's CRDs and its ClusterServiceVersion -> the operator
Deployment (owned by the CSV, so deleting the CSV removes it through the real
garbage collector) -> CSV phase Succeeded once the Deployment is Available ->
Subscription state AtLatestKnown with installedCSV. Deleting a Subscription
leaves its CSV, as OLM does; CRDs are never removed.

What real OLM also does and this does not: resolve from a catalog image
(the packages are the table below), upgrades along a channel graph, and
OperatorGroup target-namespace bookkeeping beyond "exactly one per namespace".

Fault switches (see base.py): "csv-failed" on a Subscription makes its CSV go
Failed; "slow=<s>" holds the CSV in Installing for s seconds.
"""
import random
import string

from .. import crds, upstream
from . import rhdh_model
from .base import Controller, condition, ignore_missing, now

GROUP = "operators.coreos.com"

# package -> channels (channel -> head CSV), the operator Deployment, its CRDs.
# Names from orchestrator-facts.md sections 1.2, 4 and 7.1.
CATALOG = {
    "serverless-operator": {
        "channels": {"stable": "serverless-operator.v1.36.0"},
        "deployment": "knative-openshift",
        "crds": ["knativeservings.operator.knative.dev", "knativeeventings.operator.knative.dev"],
    },
    "logic-operator-rhel8": {
        "channels": {"alpha": "logic-operator-rhel8.v1.36.0"},
        "deployment": "logic-operator-rhel8-controller-manager",
        "crds": ["sonataflowplatforms.sonataflow.org", "sonataflowclusterplatforms.sonataflow.org",
                 "sonataflows.sonataflow.org"],
    },
    "logic-operator": {
        "channels": {"stable": "logic-operator.v1.38.0"},
        "deployment": "logic-operator-controller-manager",
        "crds": ["sonataflowplatforms.sonataflow.org", "sonataflowclusterplatforms.sonataflow.org",
                 "sonataflows.sonataflow.org"],
    },
    "rhdh": {
        "channels": {f"fast-1.{m}": f"rhdh-operator.v1.{m}.0" for m in range(5, 11)} | {"fast": "rhdh-operator.v1.9.0"},
        "csv_prefix": "rhdh-operator",
        "deployment": "rhdh-operator",
        "crds": ["backstages.rhdh.redhat.com"],
        # RHDH 1.5-1.7 serve Backstage v1alpha1-3 (upstream file *release-1.7*);
        # 1.8 and later the main branch's v1alpha4/v1alpha5.
        "crd_variants": {f"rhdh-operator.v1.{m}.0": "release-1.7" for m in (5, 6, 7)},
    },
}
CATALOG_SOURCES = {("redhat-operators", "openshift-marketplace")}


def _deployment_spec(name):
    """The install strategy's Deployment, as a CSV carries it."""
    labels = {"app.kubernetes.io/name": name}
    return {"name": name, "spec": {
        "replicas": 1, "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels},
                     "spec": {"containers": [{"name": "manager", "image": f"registry.example.test/{name}:sim"}]}}}}


def package_of(csv_name):
    """The package a CSV belongs to: its name up to .v<version>, or the package
    whose CSVs carry another prefix (rhdh ships rhdh-operator.v1.x.0)."""
    prefix = csv_name.split(".v", 1)[0]
    for name, pkg in CATALOG.items():
        if pkg.get("csv_prefix") == prefix:
            return name
    return prefix


def rhdh_release(csv_name):
    """rhdh-operator.v1.9.0 -> '1.9'."""
    version = csv_name.split(".v", 1)[-1].split(".")
    return ".".join(version[:2])


class OLM(Controller):
    name = "olm"

    def reconcile(self):
        subs = self.list_custom(GROUP, "v1alpha1", "subscriptions")
        if not subs:
            self._csvs()
            return
        for sub in subs:
            if not sub["metadata"].get("deletionTimestamp"):
                self._subscription(sub)
        self._installplans()
        self._csvs()
        for sub in subs:
            self._subscription_status(sub)

    # ---- Subscription -> InstallPlan ------------------------------------
    def _subscription(self, sub):
        meta, spec = sub["metadata"], sub["spec"]
        status = sub.get("status") or {}
        if status.get("installPlanRef"):
            return
        ns = meta["namespace"]
        pkg = CATALOG.get(spec.get("name"))
        problem = None
        if (spec.get("source"), spec.get("sourceNamespace")) not in CATALOG_SOURCES:
            problem = ("CatalogSourcesUnhealthy",
                       f"catalog source {spec.get('sourceNamespace')}/{spec.get('source')} not found")
        elif pkg is None:
            problem = ("ResolutionFailed", f"constraints not satisfiable: no operators found in package "
                       f"{spec.get('name')} in the catalog referenced by subscription {meta['name']}")
        elif spec.get("channel") and spec["channel"] not in pkg["channels"]:
            problem = ("ResolutionFailed", f"constraints not satisfiable: no operators found in channel "
                       f"{spec['channel']} of package {spec['name']} in the catalog referenced by "
                       f"subscription {meta['name']}")
        groups = self.list_custom_ns(GROUP, "v1", ns, "operatorgroups")
        if problem is None and not groups:
            problem = ("ResolutionFailed", f"no operator group found in namespace {ns}")
        if problem:
            if [c.get("message") for c in status.get("conditions", [])] == [problem[1]]:
                return
            self.patch_status(GROUP, "v1alpha1", "subscriptions", sub, {
                "lastUpdated": now(), "state": "",
                "conditions": [condition(problem[0], "True", problem[0], problem[1])]})
            return
        channel = spec.get("channel") or next(iter(pkg["channels"]))
        csv = spec.get("startingCSV") or pkg["channels"][channel]
        approval = spec.get("installPlanApproval") or "Automatic"
        ip_name = "install-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
        ip = ignore_missing(self.custom.create_namespaced_custom_object, GROUP, "v1alpha1", ns, "installplans", {
            "apiVersion": f"{GROUP}/v1alpha1", "kind": "InstallPlan",
            "metadata": {"name": ip_name, "namespace": ns, "labels": {f"operators.coreos.com/{spec['name']}.{ns}": ""},
                         "ownerReferences": [{"apiVersion": f"{GROUP}/v1alpha1", "kind": "Subscription",
                                              "name": meta["name"], "uid": meta["uid"]}]},
            "spec": {"approval": approval, "approved": approval == "Automatic",
                     "clusterServiceVersionNames": [csv], "generation": 1}})
        if ip is None:
            return
        self.log("subscription %s/%s: InstallPlan %s for %s (%s)", ns, meta["name"], ip_name, csv, approval)
        self.patch_status(GROUP, "v1alpha1", "subscriptions", sub, {
            "lastUpdated": now(), "state": "UpgradePending", "currentCSV": csv,
            "installPlanGeneration": 1,
            "installPlanRef": {"apiVersion": f"{GROUP}/v1alpha1", "kind": "InstallPlan",
                               "name": ip_name, "namespace": ns, "uid": ip["metadata"]["uid"]},
            "installplan": {"apiVersion": f"{GROUP}/v1alpha1", "kind": "InstallPlan", "name": ip_name,
                            "uuid": ip["metadata"]["uid"]},
            "conditions": [condition("InstallPlanPending", "True", "Installing" if approval == "Automatic"
                                     else "RequiresApproval")]})

    def list_custom_ns(self, group, version, namespace, plural):
        return [o for o in self.list_custom(group, version, plural) if o["metadata"]["namespace"] == namespace]

    # ---- InstallPlan -> CRDs + CSV ---------------------------------------
    def _installplans(self):
        for ip in self.list_custom(GROUP, "v1alpha1", "installplans"):
            phase = (ip.get("status") or {}).get("phase")
            if phase == "Complete":
                continue
            if not ip["spec"].get("approved"):
                if phase != "RequiresApproval":
                    self.patch_status(GROUP, "v1alpha1", "installplans", ip, {
                        "phase": "RequiresApproval", "catalogSources": [],
                        "conditions": [condition("Installed", "False", "RequiresApproval")]})
                continue
            ns = ip["metadata"]["namespace"]
            owner = (ip["metadata"].get("ownerReferences") or [{}])[0].get("name")
            for csv_name in ip["spec"]["clusterServiceVersionNames"]:
                pkg = CATALOG.get(package_of(csv_name), {})
                self._install_crds(pkg.get("crds", []), pkg.get("crd_variants", {}).get(csv_name), csv_name)
                ignore_missing(self.custom.create_namespaced_custom_object, GROUP, "v1alpha1", ns,
                               "clusterserviceversions", self._csv_body(csv_name, ns, owner, pkg))
            self.log("installplan %s/%s complete", ns, ip["metadata"]["name"])
            self.patch_status(GROUP, "v1alpha1", "installplans", ip, {
                "phase": "Complete", "catalogSources": [],
                "conditions": [condition("Installed", "True", "", "")]})

    def _install_crds(self, names, variant=None, csv_name=""):
        """The package's CRDs; for rhdh the release's own upstream CRD file
        (rhdh-operator/<1.X>/crd/) when the upstream data has it."""
        path = upstream.crd_file(rhdh_release(csv_name)) if package_of(csv_name) == "rhdh" else None
        if path:
            docs = [crds.sanitize(d) for d in rhdh_model.read_docs(path) if d.get("kind") == "CustomResourceDefinition"]
        else:
            docs = crds.load(names, self.options.get("crds"), variant) if names else []
        for doc in docs:
            self.apply(doc, "olm")

    def _csv_body(self, csv_name, ns, subscription, pkg):
        version = csv_name.split(".v", 1)[-1]
        return {
            "apiVersion": f"{GROUP}/v1alpha1", "kind": "ClusterServiceVersion",
            "metadata": {"name": csv_name, "namespace": ns,
                         "annotations": {"testcluster.rhdh.io/subscription": subscription or ""}},
            "spec": {"displayName": package_of(csv_name), "version": version,
                     "customresourcedefinitions": {"owned": [{"name": n, "kind": n.split(".")[0], "version": "v1"}
                                                             for n in pkg.get("crds", [])]},
                     "install": {"strategy": "deployment", "spec": {"deployments": [
                         _deployment_spec(pkg.get("deployment", package_of(csv_name)))]}},
                     "installModes": [{"type": t, "supported": True} for t in
                                      ("OwnNamespace", "SingleNamespace", "MultiNamespace", "AllNamespaces")]}}

    # ---- CSV -> operator Deployment -> Succeeded -------------------------
    def _csvs(self):
        subs = {(s["metadata"]["namespace"], s["metadata"]["name"]): s
                for s in self.list_custom(GROUP, "v1alpha1", "subscriptions")}
        for csv in self.list_custom(GROUP, "v1alpha1", "clusterserviceversions"):
            phase = (csv.get("status") or {}).get("phase")
            if phase in ("Succeeded", "Failed") or csv["metadata"].get("deletionTimestamp"):
                continue
            ns = csv["metadata"]["namespace"]
            sub = subs.get((ns, csv["metadata"]["annotations"].get("testcluster.rhdh.io/subscription")))
            fault = self.fault(sub)[0] if sub else None
            groups = self.list_custom_ns(GROUP, "v1", ns, "operatorgroups")
            if fault == "csv-failed":
                self._csv_phase(csv, "Failed", "InstallComponentFailed",
                                f"install strategy failed: Deployment.apps \"{csv['spec']['install']['spec']['deployments'][0]['name']}\" "
                                "is invalid: spec.template.spec.containers[0].image: Required value (simulated fault)")
                continue
            if len(groups) > 1:
                self._csv_phase(csv, "Failed", "TooManyOperatorGroups",
                                "csv created in namespace with multiple operatorgroups, can't pick one automatically")
                continue
            dep_name = csv["spec"]["install"]["spec"]["deployments"][0]["name"]
            if phase in (None, "", "Pending"):
                self._csv_phase(csv, "Installing", "InstallWaiting", "installing: waiting for deployment to become ready")
                self.apply(self._deployment(csv, dep_name), "olm")
                continue
            dep = ignore_missing(self.apps.read_namespaced_deployment, dep_name, ns)
            if dep is None:
                self.apply(self._deployment(csv, dep_name), "olm")
                continue
            if (dep.status.available_replicas or 0) > 0 and (sub is None or self.ready_after(csv)):
                self.log("csv %s/%s succeeded", ns, csv["metadata"]["name"])
                self._csv_phase(csv, "Succeeded", "InstallSucceeded", "install strategy completed with no errors")

    def _csv_phase(self, csv, phase, reason, message):
        self.patch_status(GROUP, "v1alpha1", "clusterserviceversions", csv, {
            "phase": phase, "reason": reason, "message": message, "lastUpdateTime": now(),
            "lastTransitionTime": now(),
            "conditions": [{"phase": phase, "reason": reason, "message": message,
                            "lastUpdateTime": now(), "lastTransitionTime": now()}]})

    @staticmethod
    def _deployment(csv, name):
        spec = next(d["spec"] for d in csv["spec"]["install"]["spec"]["deployments"] if d["name"] == name)
        return {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": csv["metadata"]["namespace"],
                         "labels": {"app.kubernetes.io/name": name, "olm.owner": csv["metadata"]["name"]},
                         "ownerReferences": [{"apiVersion": f"{GROUP}/v1alpha1", "kind": "ClusterServiceVersion",
                                              "name": csv["metadata"]["name"], "uid": csv["metadata"]["uid"],
                                              "controller": False, "blockOwnerDeletion": False}]},
            "spec": spec}

    # ---- Subscription status ---------------------------------------------
    def _subscription_status(self, sub):
        status = sub.get("status") or {}
        csv_name = status.get("currentCSV")
        if not csv_name or status.get("installedCSV") == csv_name:
            return
        csv = ignore_missing(self.custom.get_namespaced_custom_object, GROUP, "v1alpha1",
                             sub["metadata"]["namespace"], "clusterserviceversions", csv_name)
        if csv is None:
            return
        self.patch_status(GROUP, "v1alpha1", "subscriptions", sub, {
            "lastUpdated": now(), "state": "AtLatestKnown", "installedCSV": csv_name,
            "conditions": [condition("CatalogSourcesUnhealthy", "False", "AllCatalogSourcesHealthy",
                                     "all available catalogsources are healthy")]})
