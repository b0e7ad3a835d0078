"""OLM, as the roles and the olm_operator module see it (operators.coreos.com).

Written from operator-framework/operator-lifecycle-manager (catalog operator:
pkg/controller/operators/catalog/operator.go and subscription/state.go; the
resolver: pkg/controller/registry/resolver/resolver.go, solver/solve.go; the
CSV state machine: pkg/controller/operators/olm/operator.go, operatorgroup.go;
the API constants in operator-framework/api). Names, reasons and message
formats are upstream's; the behaviour is reduced to what a test can see.

Catalog. CATALOG below is what CatalogSource openshift-marketplace/redhat-operators
serves (a CatalogSource object must also exist in the cluster). Each channel is
an ordered list of CSVs, each one replacing the one before it; the first entry
of an rhdh fast-1.x channel also skips every CSV of the release before it, as
the real bundles' skipRange does, so switching channel upgrades.

Resolution, per namespace as upstream does it. A Subscription without an
install resolves to spec.startingCSV or the channel head; an installed one
(status.installedCSV) to the channel entry that replaces or skips it, so an
Automatic Subscription pinned below the head is upgraded step by step to the
head. Each resolution that changes something makes one InstallPlan
(install-xxxxx, generation counting up) for the CSVs it picked; it is Manual
when any Subscription in the namespace is Manual. The Subscription then has
state UpgradePending, currentCSV the new CSV, installPlanRef/installplan the new
plan and condition InstallPlanPending (reason RequiresApproval or Installing);
installedCSV stays until the new CSV exists, then state AtLatestKnown.
A failed resolution sets ResolutionFailed=True on every Subscription of the
namespace, reason ConstraintsNotSatisfiable, message "constraints not
satisfiable: <why>, subscription <name> exists" with upstream's <why> for an
unknown catalog, package, channel or startingCSV, and no plan is made. A
missing CatalogSource also sets CatalogSourcesUnhealthy=True
(UnhealthyCatalogSourceFound, "targeted catalogsource <ns>/<name> missing").

InstallPlan. RequiresApproval until spec.approved; then, with exactly one
OperatorGroup in the namespace, the package's CRDs and the CSV (spec.replaces
the Subscription's installed CSV, installModes as the real bundle declares:
AllNamespaces only for all four packages) and phase Complete. Without an
OperatorGroup (or with several) it stays Installing with Installed=False,
reason InstallCheckFailed ("no operator group found that is managing this
namespace"), retried.

CSV. Pending -> InstallReady -> Installing (the operator Deployment, owned by
the CSV) -> Succeeded once the Deployment is Available. A CSV that replaces
another waits in Pending until that one is Replacing; a Succeeded CSV with a
replacement goes Replacing ("being replaced by csv: <new>"), then Deleting once
the replacement Succeeded, and is deleted; the Deployment moves to the new CSV.
Every phase first checks the OperatorGroup: none -> Failed NoOperatorGroup,
several -> Failed TooManyOperatorGroups, one whose target namespaces the CSV's
installModes do not support -> Failed UnsupportedOperatorGroup (upstream's
InstallModeSet messages). These are retried: once the cause is gone the CSV goes
Pending ("InstallModes now support target namespaces") and installs. The CSV
carries the olm.operatorGroup / olm.operatorNamespace / olm.targetNamespaces
annotations and the operators.coreos.com/<package>.<namespace> label;
OperatorGroups get status.namespaces. Deleting a Subscription leaves its CSV, as
OLM does; CRDs are never removed.

What real OLM also does and this does not: catalog images and bundle
unpacking, dependency resolution between packages, skipRange beyond the rhdh
channel switch, copied CSVs in every namespace, RBAC, webhooks, APIServices,
fail-forward upgrades, and the retry of InstallComponentFailed (here final).

Fault switches (see base.py), on a Subscription: "csv-failed" makes its CSV go
Failed with InstallComponentFailed and stay so (final); "csv-install-check-failed"
makes it go Failed with InstallCheckFailed while the switch is on, and recover
once it is removed (retried). "slow=<s>" on a CSV holds it in Installing for s seconds.
"""
import random
import string
import traceback

from .. import crds, upstream
from . import rhdh_model
from .base import LOG, RETRY, Controller, ignore_missing, now

GROUP = "operators.coreos.com"
INSTALL_MODE_TYPES = ("OwnNamespace", "SingleNamespace", "MultiNamespace", "AllNamespaces")
ALL_NAMESPACES_ONLY = ("AllNamespaces",)
SOURCE = ("redhat-operators", "openshift-marketplace")

# The Serverless CSV owns KnativeKafka too (its Kafka broker control plane).
_KNATIVE = ["knativeservings.operator.knative.dev", "knativeeventings.operator.knative.dev",
            "knativekafkas.operator.serverless.openshift.io"]
_SONATAFLOW = ["sonataflowplatforms.sonataflow.org", "sonataflowclusterplatforms.sonataflow.org",
               "sonataflows.sonataflow.org"]
_RHDH_MINORS = range(5, 11)


def _rhdh_channels():
    channels = {f"fast-1.{m}": [f"rhdh-operator.v1.{m}.0", f"rhdh-operator.v1.{m}.1"] for m in _RHDH_MINORS}
    channels["fast"] = [f"rhdh-operator.v1.{v}" for v in ("9.0", "9.1", "10.0", "10.1")]
    return channels


# package -> default channel, channels (ordered CSVs), the operator Deployment,
# its CRDs, the installModes its CSV supports. Names from orchestrator-facts.md
# sections 0, 1.2, 4 and 7.1; every CSV the roles pin (releases.py) is listed.
CATALOG = {
    "serverless-operator": {
        "default_channel": "stable",
        "channels": {"stable": ["serverless-operator.v1.35.0", "serverless-operator.v1.36.0"]},
        "deployment": "knative-openshift",
        "crds": _KNATIVE,
        "install_modes": ALL_NAMESPACES_ONLY,
    },
    "logic-operator-rhel8": {
        "default_channel": "alpha",
        "channels": {"alpha": ["logic-operator-rhel8.v1.35.0", "logic-operator-rhel8.v1.36.0"]},
        "deployment": "logic-operator-rhel8-controller-manager",
        "crds": _SONATAFLOW,
        "install_modes": ALL_NAMESPACES_ONLY,
    },
    "logic-operator": {
        "default_channel": "stable",
        "channels": {"stable": ["logic-operator.v1.37.1", "logic-operator.v1.37.2", "logic-operator.v1.38.0"]},
        "deployment": "logic-operator-controller-manager",
        "crds": _SONATAFLOW,
        "install_modes": ALL_NAMESPACES_ONLY,
    },
    "rhdh": {
        "default_channel": "fast",
        "channels": _rhdh_channels(),
        # The first CSV of fast-1.X skips every CSV of 1.(X-1) (the bundles' skipRange).
        "skips": {f"rhdh-operator.v1.{m}.0": {f"rhdh-operator.v1.{m - 1}.0", f"rhdh-operator.v1.{m - 1}.1"}
                  for m in _RHDH_MINORS if m > 5},
        "csv_prefix": "rhdh-operator",
        "deployment": "rhdh-operator",
        "crds": ["backstages.rhdh.redhat.com"],
        # RHDH 1.5-1.7 serve Backstage v1alpha1-3 (upstream file *release-1.7*);
        # 1.8 and later the main branch's v1alpha4/v1alpha5.
        "crd_variants": {"1.5": "release-1.7", "1.6": "release-1.7", "1.7": "release-1.7"},
        "install_modes": ALL_NAMESPACES_ONLY,
    },
}
# Which packages each CatalogSource serves (when it exists in the cluster).
CATALOG_CONTENT = {SOURCE: set(CATALOG)}

# CSV reasons after which OLM moves a Failed CSV back to Pending once the cause is gone.
OPERATOR_GROUP_REASONS = ("NoOperatorGroup", "TooManyOperatorGroups", "UnsupportedOperatorGroup", "NoTargetNamespaces")


def _deployment_spec(name):
    """The install strategy's Deployment, as a CSV carries it."""
    labels = {"app.kubernetes.io/name": name}
    return {"name": name, "spec": {
        "replicas": 1, "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels},
                     "spec": {"containers": [{"name": "manager", "image": f"registry.example.test/{name}:sim"}]}}}}


def package_of(csv_name):
    """The package a CSV belongs to: its name up to .v<version>, or the package
    whose CSVs carry another prefix (rhdh ships rhdh-operator.v1.x.y)."""
    prefix = csv_name.split(".v", 1)[0]
    for name, pkg in CATALOG.items():
        if pkg.get("csv_prefix") == prefix:
            return name
    return prefix


def rhdh_release(csv_name):
    """rhdh-operator.v1.9.0 -> '1.9'."""
    version = csv_name.split(".v", 1)[-1].split(".")
    return ".".join(version[:2])


# ---- resolution (pure functions, unit-tested) -------------------------------
def resolve(spec, sub_name, installed, sources, catalog=None, content=None):
    """What OLM resolves for one Subscription.

    spec: the Subscription's spec; installed: its installed CSV name (or "");
    sources: the (name, namespace) of every CatalogSource in the cluster.
    Returns (csv, channel, None) when something is to be installed or upgraded
    to, (None, channel, None) when the Subscription is up to date, or
    (None, None, why) with upstream's wording of why it cannot be resolved.
    """
    catalog = CATALOG if catalog is None else catalog
    content = CATALOG_CONTENT if content is None else content
    key = (spec.get("source"), spec.get("sourceNamespace"))
    served = content.get(key, set()) if key in sources else set()
    package = spec.get("name")
    if not served:
        return None, None, (f"no operators found from catalog {key[0]} in namespace {key[1]} "
                            f"referenced by subscription {sub_name}")
    if package not in served or package not in catalog:
        return None, None, (f"no operators found in package {package} in the catalog referenced by "
                            f"subscription {sub_name}")
    pkg = catalog[package]
    channel = spec.get("channel") or pkg["default_channel"]
    entries = pkg["channels"].get(channel)
    if not entries:
        return None, None, (f"no operators found in channel {channel} of package {package} in the catalog "
                            f"referenced by subscription {sub_name}")
    if not installed:
        starting = spec.get("startingCSV")
        if starting and starting not in entries:
            return None, None, (f"no operators found with name {starting} in channel {channel} of package "
                                f"{package} in the catalog referenced by subscription {sub_name}")
        return starting or entries[-1], channel, None
    return successor(pkg, channel, installed), channel, None


def successor(pkg, channel, installed):
    """The newest entry of the channel that replaces or skips `installed`
    (walking the replaces chain to its end), or None when none does."""
    entries = pkg["channels"][channel]
    skips = pkg.get("skips", {})
    nxt = None
    for i, csv in enumerate(entries):
        replaces = entries[i - 1] if i else None
        if replaces == installed or installed in skips.get(csv, ()):
            nxt = csv
    return nxt


def package_label(package, namespace):
    """The operators.coreos.com/<package>.<namespace> label OLM puts on what it
    makes for a package ({} when the key would be too long to be valid)."""
    name = f"{package}.{namespace}"
    return {f"operators.coreos.com/{name}": ""} if len(name) <= 63 else {}


def operator_group_targets(group, namespaces):
    """The namespaces an OperatorGroup selects ([""] = all), as
    getOperatorGroupTargets computes them; namespaces: name -> labels."""
    spec = group.get("spec") or {}
    if spec.get("targetNamespaces"):
        return sorted(set(spec["targetNamespaces"]))
    selector = spec.get("selector") or {}
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        return [""]
    return sorted(n for n, labels in namespaces.items() if selector_matches(selector, labels or {}))


def selector_matches(selector, labels):
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def install_mode_error(supported, operator_namespace, targets):
    """Upstream's InstallModeSet.Supports: None, or why the CSV cannot run there."""
    modes = set(supported)
    if not targets:
        return "operatorgroup has invalid selected namespaces, cannot configure to watch zero namespaces"
    if len(targets) == 1:
        if targets[0] == operator_namespace and "OwnNamespace" not in modes:
            return "OwnNamespace InstallModeType not supported, cannot configure to watch own namespace"
        if targets[0] == "" and "AllNamespaces" not in modes:
            return "AllNamespaces InstallModeType not supported, cannot configure to watch all namespaces"
        if targets[0] not in ("", operator_namespace) and "SingleNamespace" not in modes:
            return "SingleNamespace InstallModeType not supported, cannot configure to watch one namespace"
        return None
    if "MultiNamespace" not in modes:
        return f"MultiNamespace InstallModeType not supported, cannot configure to watch {len(targets)} namespaces"
    for target in targets:
        if target == operator_namespace and "OwnNamespace" not in modes:
            return "OwnNamespace InstallModeType not supported, cannot configure to watch own namespace"
        if target == "":
            return "operatorgroup has invalid selected namespaces, NamespaceAll found when |selected namespaces| > 1"
    return None


def set_condition(conditions, ctype, status, reason="", message=""):
    """conditions with ctype set in place; lastTransitionTime kept while status and reason stay."""
    old = next((c for c in conditions if c.get("type") == ctype), None)
    cond = {"type": ctype, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": now()}
    if old and (old.get("status"), old.get("reason")) == (status, reason):
        cond["lastTransitionTime"] = old.get("lastTransitionTime") or cond["lastTransitionTime"]
    if old is None:
        return list(conditions) + [cond]
    return [cond if c is old else c for c in conditions]


def drop_condition(conditions, ctype):
    return [c for c in conditions if c.get("type") != ctype]


def _plan_name():
    return "install-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=5))


def _ref(plan):
    return {"apiVersion": f"{GROUP}/v1alpha1", "kind": "InstallPlan", "name": plan["metadata"]["name"],
            "namespace": plan["metadata"]["namespace"], "uid": plan["metadata"]["uid"]}


def _install_ref(plan):
    return {"apiVersion": f"{GROUP}/v1alpha1", "kind": "InstallPlan", "name": plan["metadata"]["name"],
            "uuid": plan["metadata"]["uid"]}


class OLM(Controller):
    name = "olm"

    def reconcile(self):
        groups = self.list_custom(GROUP, "v1", "operatorgroups")
        items = self.core.list_namespace().items
        namespaces = {n.metadata.name: n.metadata.labels or {} for n in items}
        terminating = {n.metadata.name for n in items if n.metadata.deletion_timestamp}
        self._operator_groups(groups, namespaces)
        subs = [s for s in self.list_custom(GROUP, "v1alpha1", "subscriptions")
                if not s["metadata"].get("deletionTimestamp")]
        csvs = self.list_custom(GROUP, "v1alpha1", "clusterserviceversions")
        plans = self.list_custom(GROUP, "v1alpha1", "installplans")
        sources = {(c["metadata"]["name"], c["metadata"]["namespace"])
                   for c in self.list_custom(GROUP, "v1alpha1", "catalogsources")}
        by_ns = {}
        for sub in subs:
            by_ns.setdefault(sub["metadata"]["namespace"], []).append(sub)
        for ns, nsubs in sorted(by_ns.items()):
            if ns not in terminating:  # nothing can be created there any more
                self._isolated(f"namespace {ns}", self._namespace, ns, nsubs, csvs, plans, sources)
        if subs:  # re-read: the statuses just written name the installed CSVs the new ones replace
            subs = [s for s in self.list_custom(GROUP, "v1alpha1", "subscriptions")
                    if not s["metadata"].get("deletionTimestamp")]
        if plans or subs:
            self._installplans(self.list_custom(GROUP, "v1alpha1", "installplans"), groups, subs, terminating)
        self._csvs(self.list_custom(GROUP, "v1alpha1", "clusterserviceversions"), groups, namespaces, subs,
                   terminating)

    def list_ns(self, items, namespace):
        return [o for o in items if o["metadata"]["namespace"] == namespace]

    def _isolated(self, what, fn, *args):
        """fn(*args); an error is logged and does not stop the other objects' reconcile."""
        try:
            fn(*args)
        except Exception:  # pylint: disable=broad-except
            LOG.error("[%s] %s: reconcile failed:\n%s", self.name, what, traceback.format_exc())
            self.requeue(RETRY)

    # ---- OperatorGroup status ----------------------------------------------
    def _operator_groups(self, groups, namespaces):
        for group in groups:
            targets = operator_group_targets(group, namespaces)
            if (group.get("status") or {}).get("namespaces") != targets:
                self.patch_status(GROUP, "v1", "operatorgroups", group,
                                  {"namespaces": targets, "lastUpdated": now()})
                group["status"] = {"namespaces": targets}

    # ---- Subscriptions of one namespace -> InstallPlan ----------------------
    def _namespace(self, ns, subs, csvs, plans, sources):
        csv_names = {c["metadata"]["name"] for c in self.list_ns(csvs, ns)
                     if not c["metadata"].get("deletionTimestamp")}
        plan_by_name = {p["metadata"]["name"]: p for p in self.list_ns(plans, ns)}
        new_status, wanted, failures = {}, {}, []
        for sub in subs:
            meta, spec = sub["metadata"], sub["spec"]
            status = dict(sub.get("status") or {})
            conds = list(status.get("conditions") or [])
            ref = status.get("installPlanRef") or {}
            plan = plan_by_name.get(ref.get("name"))
            if ref and plan is None and status.get("state") == "UpgradePending":
                # InstallPlanNotFound while an upgrade was pending: resolve again.
                for key in ("installPlanRef", "installplan"):
                    status[key] = None
                status.update(currentCSV="", state="")
                conds = drop_condition(conds, "InstallPlanPending")
            elif plan is not None:
                phase = (plan.get("status") or {}).get("phase", "")
                if phase in ("", "Planning", "Installing", "RequiresApproval"):
                    installed_cond = next((c for c in (plan.get("status") or {}).get("conditions") or []
                                           if c.get("type") == "Installed"), {})
                    conds = set_condition(conds, "InstallPlanPending", "True", phase or "InstallPlanNotYetReconciled",
                                          installed_cond.get("message", "") if installed_cond.get("status") == "False"
                                          else "")
                else:
                    conds = drop_condition(conds, "InstallPlanPending")
            # ensureSubscriptionCSVState: the current CSV exists -> it is the installed one.
            current = status.get("currentCSV")
            if current:
                if current in csv_names:
                    status.update(state="AtLatestKnown", installedCSV=current)
                else:
                    status["state"] = "UpgradePending"
            key = (spec.get("source"), spec.get("sourceNamespace"))
            if key in sources:
                conds = set_condition(conds, "CatalogSourcesUnhealthy", "False", "AllCatalogSourcesHealthy",
                                      "all available catalogsources are healthy")
            else:
                conds = set_condition(conds, "CatalogSourcesUnhealthy", "True", "UnhealthyCatalogSourceFound",
                                      f"targeted catalogsource {key[1]}/{key[0]} missing")
            status["conditions"] = conds
            new_status[meta["name"]] = status
            if status.get("state") == "UpgradePending" and status.get("installPlanRef"):
                continue  # nothingToUpdate: the plan is made
            csv, _channel, why = resolve(spec, meta["name"], status.get("installedCSV") or "", sources)
            if why:
                failures.append(f"{why}, subscription {meta['name']} exists")
            elif csv and csv != status.get("currentCSV"):
                wanted[meta["name"]] = csv
        if failures:
            message = "constraints not satisfiable: " + ", ".join(failures)
            for status in new_status.values():
                status["conditions"] = set_condition(status["conditions"], "ResolutionFailed", "True",
                                                     "ConstraintsNotSatisfiable", message)
        else:
            for status in new_status.values():
                status["conditions"] = drop_condition(status["conditions"], "ResolutionFailed")
            if wanted:
                self._make_plan(ns, subs, wanted, plans, new_status)
        for sub in subs:
            status = new_status[sub["metadata"]["name"]]
            old = sub.get("status") or {}
            if any(old.get(k) != v for k, v in status.items() if k != "lastUpdated"):
                status["lastUpdated"] = now()
                self.patch_status(GROUP, "v1alpha1", "subscriptions", sub, status)

    def _make_plan(self, ns, subs, wanted, plans, new_status):
        manual = any((s["spec"].get("installPlanApproval") or "Automatic") == "Manual" for s in subs)
        approval = "Manual" if manual else "Automatic"
        generation = 1 + max([p["spec"].get("generation", 0) for p in self.list_ns(plans, ns)]
                             + [(s.get("status") or {}).get("installPlanGeneration") or 0 for s in subs])
        owners = [s for s in subs if s["metadata"]["name"] in wanted]
        labels = {}
        for sub in owners:
            labels.update(package_label(sub["spec"]["name"], ns))
        plan = ignore_missing(self.custom.create_namespaced_custom_object, GROUP, "v1alpha1", ns, "installplans", {
            "apiVersion": f"{GROUP}/v1alpha1", "kind": "InstallPlan",
            "metadata": {"name": _plan_name(), "namespace": ns, "labels": labels,
                         "ownerReferences": [{"apiVersion": f"{GROUP}/v1alpha1", "kind": "Subscription",
                                              "name": s["metadata"]["name"], "uid": s["metadata"]["uid"],
                                              "controller": False, "blockOwnerDeletion": False} for s in owners]},
            "spec": {"approval": approval, "approved": approval == "Automatic",
                     "clusterServiceVersionNames": sorted(wanted.values()), "generation": generation}})
        if plan is None:
            return
        phase = "RequiresApproval" if manual else "Installing"
        self.patch_status(GROUP, "v1alpha1", "installplans", plan, {"phase": phase, "catalogSources": []})
        for sub in owners:
            name = sub["metadata"]["name"]
            status = new_status[name]
            self.log("subscription %s/%s: InstallPlan %s for %s (%s)", ns, name, plan["metadata"]["name"],
                     wanted[name], approval)
            status.update(state="UpgradePending", currentCSV=wanted[name], installPlanGeneration=generation,
                          installPlanRef=_ref(plan), installplan=_install_ref(plan))
            status["conditions"] = set_condition(status["conditions"], "InstallPlanPending", "True", phase)

    # ---- InstallPlan -> CRDs + CSV ------------------------------------------
    def _installplans(self, plans, groups, subs, terminating=()):
        subs_by_key = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in subs}
        for ip in plans:
            if ip["metadata"]["namespace"] not in terminating:
                self._isolated(f"installplan {ip['metadata']['namespace']}/{ip['metadata']['name']}",
                               self._installplan, ip, groups, subs_by_key)

    def _installplan(self, ip, groups, subs_by_key):
        status = ip.get("status") or {}
        phase = status.get("phase")
        if phase in ("Complete", "Failed"):
            return
        if not ip["spec"].get("approved"):
            if phase != "RequiresApproval":
                self.patch_status(GROUP, "v1alpha1", "installplans", ip,
                                  {"phase": "RequiresApproval", "catalogSources": []})
            return
        ns = ip["metadata"]["namespace"]
        count = len(self.list_ns(groups, ns))
        if count != 1:
            # The attenuated service account query fails: retried.
            message = ("no operator group found that is managing this namespace" if count == 0 else
                       f"more than one operator group(s) are managing this namespace count={count}")
            conds = set_condition(status.get("conditions") or [], "Installed", "False", "InstallCheckFailed",
                                  message)
            if phase != "Installing" or conds != status.get("conditions"):
                self.patch_status(GROUP, "v1alpha1", "installplans", ip,
                                  {"phase": "Installing", "catalogSources": [], "conditions": conds})
            return
        owners = [subs_by_key.get((ns, o.get("name"))) for o in ip["metadata"].get("ownerReferences") or []
                  if o.get("kind") == "Subscription"]
        for csv_name in ip["spec"]["clusterServiceVersionNames"]:
            package = package_of(csv_name)
            pkg = CATALOG.get(package, {})
            sub = next((s for s in owners if s and s["spec"].get("name") == package), None)
            self._install_crds(pkg.get("crds", []), pkg.get("crd_variants", {}).get(rhdh_release(csv_name)),
                               csv_name)
            ignore_missing(self.custom.create_namespaced_custom_object, GROUP, "v1alpha1", ns,
                           "clusterserviceversions", self._csv_body(csv_name, ns, sub, pkg))
        self.log("installplan %s/%s complete", ns, ip["metadata"]["name"])
        self.patch_status(GROUP, "v1alpha1", "installplans", ip, {
            "phase": "Complete", "catalogSources": [],
            "conditions": set_condition(status.get("conditions") or [], "Installed", "True")})

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

    @staticmethod
    def _csv_body(csv_name, ns, sub, pkg):
        version = csv_name.split(".v", 1)[-1]
        package = package_of(csv_name)
        spec = {"displayName": package, "version": version,
                "customresourcedefinitions": {"owned": [{"name": n, "kind": n.split(".")[0], "version": "v1"}
                                                        for n in pkg.get("crds", [])]},
                "install": {"strategy": "deployment", "spec": {"deployments": [
                    _deployment_spec(pkg.get("deployment", package))]}},
                "installModes": [{"type": t, "supported": t in pkg.get("install_modes", INSTALL_MODE_TYPES)}
                                 for t in INSTALL_MODE_TYPES]}
        installed = ((sub or {}).get("status") or {}).get("installedCSV")
        if installed and installed != csv_name:
            spec["replaces"] = installed
        return {
            "apiVersion": f"{GROUP}/v1alpha1", "kind": "ClusterServiceVersion",
            "metadata": {"name": csv_name, "namespace": ns,
                         "labels": package_label(package, ns),
                         "annotations": {"testcluster.rhdh.io/subscription": (sub or {}).get("metadata", {}).get(
                             "name", "")}},
            "spec": spec}

    # ---- CSV state machine -------------------------------------------------
    def _csvs(self, csvs, groups, namespaces, subs, terminating=()):
        subs_by_key = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in subs}
        for csv in csvs:
            if csv["metadata"].get("deletionTimestamp") or csv["metadata"]["namespace"] in terminating:
                continue
            ns = csv["metadata"]["namespace"]
            sub = subs_by_key.get((ns, (csv["metadata"].get("annotations") or {}).get(
                "testcluster.rhdh.io/subscription")))
            self._isolated(f"csv {ns}/{csv['metadata']['name']}", self._csv, csv, self.list_ns(groups, ns),
                           namespaces, sub, self.list_ns(csvs, ns))

    def _csv(self, csv, groups, namespaces, sub, siblings):
        status = csv.get("status") or {}
        phase, reason = status.get("phase") or "", status.get("reason") or ""
        ns, name = csv["metadata"]["namespace"], csv["metadata"]["name"]
        dep_name = csv["spec"]["install"]["spec"]["deployments"][0]["name"]
        if phase == "Deleting":
            ignore_missing(self.custom.delete_namespaced_custom_object, GROUP, "v1alpha1", ns,
                           "clusterserviceversions", name)
            self.log("csv %s/%s replaced and deleted", ns, name)
            return
        if phase == "Failed" and reason == "InstallComponentFailed":
            return  # final here (see the module docstring)
        if phase == "Replacing":
            nxt = next((c for c in siblings if c["spec"].get("replaces") == name), None)
            if nxt is not None and (nxt.get("status") or {}).get("phase") == "Succeeded":
                self._phase(csv, "Deleting", "Replaced",
                            "has been replaced by a newer ClusterServiceVersion that has successfully installed.")
            return
        # operatorGroupForCSV, then the install modes, in every other phase.
        if not groups:
            self._phase(csv, "Failed", "NoOperatorGroup", "csv in namespace with no operatorgroups")
            return
        if len(groups) > 1:
            self._phase(csv, "Failed", "TooManyOperatorGroups",
                        "csv created in namespace with multiple operatorgroups, can't pick one automatically")
            return
        group = groups[0]
        targets = operator_group_targets(group, namespaces)
        annotations = {"olm.operatorGroup": group["metadata"]["name"], "olm.operatorNamespace": ns,
                       "olm.targetNamespaces": ",".join(targets)}
        have = csv["metadata"].get("annotations") or {}
        if any(have.get(k) != v for k, v in annotations.items()):
            ignore_missing(self.custom.patch_namespaced_custom_object, GROUP, "v1alpha1", ns,
                           "clusterserviceversions", name, {"metadata": {"annotations": annotations}})
        supported = [m["type"] for m in csv["spec"].get("installModes") or [] if m.get("supported")]
        unsupported = install_mode_error(supported, ns, targets)
        if unsupported:
            self._phase(csv, "Failed", "UnsupportedOperatorGroup", unsupported)
            return
        fault = self.fault(sub)[0] if sub else None
        if fault == "csv-failed":
            self._phase(csv, "Failed", "InstallComponentFailed",
                        f"install strategy failed: Deployment.apps \"{dep_name}\" is invalid: "
                        "spec.template.spec.containers[0].image: Required value (simulated fault)")
            return
        if fault == "csv-install-check-failed":
            self._phase(csv, "Failed", "InstallCheckFailed",
                        f"install failed: deployment {dep_name} not ready before timeout: deployment \"{dep_name}\" "
                        "exceeded its progress deadline (simulated fault)")
            return
        if phase == "Failed":
            if reason in OPERATOR_GROUP_REASONS:
                self._phase(csv, "Pending", "RequirementsUnknown", "InstallModes now support target namespaces")
            else:
                self._phase(csv, "Pending", "NeedsReinstall", "installing: waiting for deployment "
                            f"{dep_name} to become ready")
            return
        if phase in ("", "Pending"):
            prev = next((c for c in siblings if c["metadata"]["name"] == csv["spec"].get("replaces")), None)
            if prev is not None and (prev.get("status") or {}).get("phase") not in ("Replacing", "Deleting"):
                if phase != "Pending":
                    self._phase(csv, "Pending", "RequirementsUnknown", "requirements not yet checked")
                return  # not ready to install part of the replacement chain yet
            phase = "InstallReady"
        if phase == "InstallReady":
            self.apply(self._deployment(csv, dep_name), "olm")
            self._phase(csv, "Installing", "InstallSucceeded", "waiting for install components to report healthy")
            return
        if phase == "Succeeded":
            nxt = next((c for c in siblings if c["spec"].get("replaces") == name), None)
            if nxt is not None:
                self._phase(csv, "Replacing", "BeingReplaced", f"being replaced by csv: {nxt['metadata']['name']}")
                return
        dep = ignore_missing(self.apps.read_namespaced_deployment, dep_name, ns)
        owned = dep is not None and any(o.get("uid") == csv["metadata"]["uid"]
                                        for o in (dep.to_dict()["metadata"].get("owner_references") or []))
        if not owned:
            self.apply(self._deployment(csv, dep_name), "olm")
            return
        available = (dep.status.available_replicas or 0) > 0
        if phase == "Installing":
            if available and (sub is None or self.ready_after(csv)):
                self.log("csv %s/%s succeeded", ns, name)
                self._phase(csv, "Succeeded", "InstallSucceeded", "install strategy completed with no errors")
            elif reason != "InstallWaiting":
                self._phase(csv, "Installing", "InstallWaiting",
                            f"installing: waiting for deployment {dep_name} to become ready: "
                            f"deployment \"{dep_name}\" not available")

    def _phase(self, csv, phase, reason, message):
        status = csv.get("status") or {}
        if (status.get("phase"), status.get("reason"), status.get("message")) == (phase, reason, message):
            return
        conditions = (status.get("conditions") or []) + [
            {"phase": phase, "reason": reason, "message": message, "lastUpdateTime": now(),
             "lastTransitionTime": now()}]
        self.patch_status(GROUP, "v1alpha1", "clusterserviceversions", csv, {
            "phase": phase, "reason": reason, "message": message, "lastUpdateTime": now(),
            "lastTransitionTime": now(), "conditions": conditions[-20:]})
        csv["status"] = dict(status, phase=phase, reason=reason, message=message)

    @staticmethod
    def _deployment(csv, name):
        spec = next(d["spec"] for d in csv["spec"]["install"]["spec"]["deployments"] if d["name"] == name)
        return {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": csv["metadata"]["namespace"],
                         "labels": {"app.kubernetes.io/name": name, "olm.owner": csv["metadata"]["name"],
                                    "olm.owner.kind": "ClusterServiceVersion",
                                    "olm.owner.namespace": csv["metadata"]["namespace"]},
                         "ownerReferences": [{"apiVersion": f"{GROUP}/v1alpha1", "kind": "ClusterServiceVersion",
                                              "name": csv["metadata"]["name"], "uid": csv["metadata"]["uid"],
                                              "controller": False, "blockOwnerDeletion": False}]},
            "spec": spec}
