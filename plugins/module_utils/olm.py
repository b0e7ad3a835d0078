# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the olm_operator module decides, apart from Ansible.

OlmOperator works on a `kube` object with get, list, create, merge_patch,
delete, events and crd_established (module_utils/kube.py's Kube, or a fake in
the unit tests) and reports through a `warn` callable; failures are OlmError.

How OLM behaves, as read in operator-framework/operator-lifecycle-manager:

- A Subscription that cannot be resolved gets condition ResolutionFailed=True.
  Reason ConstraintsNotSatisfiable (unknown package, channel, startingCSV or
  catalog) is not retried by OLM until something changes: fatal here.
  Reason ErrorPreventedResolution is an error the catalog operator returns to
  its queue, so it is retried (a catalog that is not reachable yet): the wait
  goes on and its message ends up in the timeout.
- A CSV that goes Failed with InstallCheckFailed, NoOperatorGroup,
  TooManyOperatorGroups or UnsupportedOperatorGroup is moved back to Pending by
  OLM once the cause is gone: the wait goes on, and at the timeout the failure is
  reported with its reason and message. Any other Failed reason ends the wait.
- Upgrades: OLM makes a new InstallPlan and moves installPlanRef to it; with
  Manual approval it waits while the installed CSV keeps running. Such an
  operator is healthy; the upgrade is reported, and approved only when it
  installs what was asked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

OLM = "operators.coreos.com"
SUB = (OLM + "/v1alpha1", "Subscription")
CSV = (OLM + "/v1alpha1", "ClusterServiceVersion")
IP = (OLM + "/v1alpha1", "InstallPlan")
OG = (OLM + "/v1", "OperatorGroup")
NS = ("v1", "Namespace")
CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")
GLOBAL_NAMESPACE = "openshift-operators"

MANAGED_BY = "app.kubernetes.io/managed-by"
OURS = "rhdh.orchestrator"

INSTALL_MODES = ("OwnNamespace", "SingleNamespace", "MultiNamespace", "AllNamespaces")
RETRIABLE_CSV_REASONS = ("InstallCheckFailed", "NoOperatorGroup", "TooManyOperatorGroups", "UnsupportedOperatorGroup")
FATAL_RESOLUTION_REASONS = ("ConstraintsNotSatisfiable",)
# Seconds a ResolutionFailed condition that was there before this run changed the
# Subscription is taken as not yet re-evaluated by OLM.
RESOLUTION_SETTLE = 5.0
OPTIONAL_SPEC = ("channel", "startingCSV", "config")
SHOWN_RESOURCES = 10


class OlmError(Exception):
    """The module fails with this message (and the extra return values)."""

    def __init__(self, msg, **extra):
        super(OlmError, self).__init__(msg)
        self.msg = msg
        self.extra = extra


# ---- small helpers ---------------------------------------------------------
def ref(obj_or_kind, namespace=None, name=None):
    """'Kind namespace/name' for messages."""
    if isinstance(obj_or_kind, dict):
        meta = obj_or_kind.get("metadata") or {}
        obj_or_kind, namespace, name = obj_or_kind.get("kind"), meta.get("namespace"), meta.get("name")
    return "{0} {1}".format(obj_or_kind, "{0}/{1}".format(namespace, name) if namespace else name)


def conditions_text(obj):
    """'Type=Status (Reason: message); ...' for an object's status.conditions."""
    parts = []
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        text = "{0}={1}".format(cond.get("type", "?"), cond.get("status", "?"))
        detail = ": ".join(x for x in (cond.get("reason"), cond.get("message")) if x)
        parts.append(text + (" ({0})".format(detail) if detail else ""))
    return "; ".join(parts) or "no conditions reported"


def labels_of(obj):
    return ((obj or {}).get("metadata") or {}).get("labels") or {}


def is_ours(obj):
    """Whether the collection created obj (it carries the managed-by label)."""
    return labels_of(obj).get(MANAGED_BY) == OURS


def deleting(obj):
    return bool(((obj or {}).get("metadata") or {}).get("deletionTimestamp"))


def condition(obj, ctype):
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return None


def desired_spec(params):
    """The Subscription spec the module parameters ask for."""
    spec = {"name": params["package"], "source": params["source"],
            "sourceNamespace": params["source_namespace"],
            "installPlanApproval": params["install_plan_approval"]}
    for key, param in (("channel", "channel"), ("startingCSV", "starting_csv"), ("config", "config")):
        if params.get(param):
            spec[key] = params[param]
    return spec


def spec_patch(want, have):
    """The merge patch that turns spec `have` into `want` ({} when equal)."""
    patch = dict((k, v) for k, v in want.items() if have.get(k) != v)
    for key in OPTIONAL_SPEC:
        if key in have and key not in want:
            patch[key] = None
    return patch


def spec_differences(want, have):
    """'channel: asked 'stable', has 'fast'' for each field that differs."""
    out = []
    for key in sorted(set(want) | set(k for k in OPTIONAL_SPEC if k in have)):
        if have.get(key) != want.get(key):
            out.append("{0}: asked {1!r}, has {2!r}".format(key, want.get(key), have.get(key)))
    return out


def selector_text(selector):
    """A LabelSelector as a label-selector string; '' when it selects everything."""
    parts = ["{0}={1}".format(k, v) for k, v in sorted(((selector or {}).get("matchLabels") or {}).items())]
    for expr in (selector or {}).get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In":
            parts.append("{0} in ({1})".format(key, ",".join(values)))
        elif op == "NotIn":
            parts.append("{0} notin ({1})".format(key, ",".join(values)))
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append("!" + key)
    return ",".join(parts)


def operator_group_targets(group, list_namespaces):
    """The namespaces an OperatorGroup makes its operators watch, as OLM computes
    them: spec.targetNamespaces, else the namespaces its selector matches
    (status.namespaces when OLM has written it), else [""] (all namespaces).
    list_namespaces(label_selector) -> names."""
    spec = group.get("spec") or {}
    if spec.get("targetNamespaces"):
        return sorted(set(spec["targetNamespaces"]))
    text = selector_text(spec.get("selector"))
    if not text:
        return [""]
    status = (group.get("status") or {}).get("namespaces")
    if status is not None:
        return sorted(status)
    return sorted(list_namespaces(text))


def install_mode_of(namespace, targets):
    """The install mode an OperatorGroup's targets amount to for an operator in namespace."""
    if targets == [""]:
        return "AllNamespaces"
    if not targets:
        return "no namespace"
    if len(targets) == 1:
        return "OwnNamespace" if targets[0] == namespace else "SingleNamespace"
    return "MultiNamespace"


def unsupported_reason(supported, namespace, targets):
    """None when an operator supporting these install modes runs under an
    OperatorGroup with these targets, else OLM's reason (InstallModeSet.Supports)."""
    modes = set(supported)
    if not targets:
        return "operatorgroup has invalid selected namespaces, cannot configure to watch zero namespaces"
    if len(targets) == 1:
        target = targets[0]
        if target == namespace and "OwnNamespace" not in modes:
            return "OwnNamespace InstallModeType not supported, cannot configure to watch own namespace"
        if target == "" and "AllNamespaces" not in modes:
            return "AllNamespaces InstallModeType not supported, cannot configure to watch all namespaces"
        if target not in ("", namespace) and "SingleNamespace" not in modes:
            return "SingleNamespace InstallModeType not supported, cannot configure to watch one namespace"
        return None
    if "MultiNamespace" not in modes:
        return "MultiNamespace InstallModeType not supported, cannot configure to watch {0} namespaces".format(
            len(targets))
    for target in targets:
        if target == namespace and "OwnNamespace" not in modes:
            return "OwnNamespace InstallModeType not supported, cannot configure to watch own namespace"
        if target == "":
            return "operatorgroup has invalid selected namespaces, NamespaceAll found when |selected namespaces| > 1"
    return None


def plan_csvs(plan):
    return list(((plan or {}).get("spec") or {}).get("clusterServiceVersionNames") or [])


def plan_approvable(plan, starting_csv):
    """Whether approving this InstallPlan installs what was asked: with a pinned
    starting_csv only a plan that installs it, without a pin any plan."""
    return not starting_csv or starting_csv in plan_csvs(plan)


def resolution_failed(sub):
    """(reason, message, lastTransitionTime) of a ResolutionFailed=True condition, or None."""
    cond = condition(sub, "ResolutionFailed")
    if not cond or cond.get("status") != "True":
        return None
    return cond.get("reason", ""), cond.get("message", ""), cond.get("lastTransitionTime", "")


def csv_failure(csv):
    """(retriable, reason, message) of a Failed CSV, or None."""
    status = (csv or {}).get("status") or {}
    if status.get("phase") != "Failed":
        return None
    reason = status.get("reason", "")
    return reason in RETRIABLE_CSV_REASONS, reason, status.get("message", "")


# ---- the operator install ----------------------------------------------------
class OlmOperator:
    """present() and absent() of one operator; both return the module's result values."""

    def __init__(self, kube, params, check_mode=False, warn=None, clock=time.monotonic, sleep=time.sleep,
                 interval=1.0):
        self.kube = kube
        self.p = params
        self.check_mode = check_mode
        self._warn = warn or (lambda msg: None)
        self.clock = clock
        self.sleep = sleep
        self.interval = interval
        self.ns = params["namespace"]
        self.name = params.get("name") or params["package"]
        self.sub_ns, self.sub_name = self.ns, self.name
        self.actions = []
        self.warnings = []
        self.kept = []
        self.preexisting = False
        self.managed = True
        self.diff = {"before": {}, "after": {}}
        self.last_retriable = None
        self.patched = None  # (clock, ResolutionFailed before the patch)

    def did(self, text):
        self.actions.append(text)

    def warn(self, text):
        self.warnings.append(text)
        self._warn(text)

    def result(self, **values):
        out = {"actions": self.actions, "subscription": {"namespace": self.sub_ns, "name": self.sub_name},
               "installed_csv": "", "csv_phase": "", "pending_upgrade": "", "preexisting": self.preexisting,
               "kept": self.kept}
        out.update(values)
        return out

    # ---- finding the Subscription -------------------------------------------
    def find_subscription(self):
        """The Subscription that installs this package: ours by name, else one for
        the package in the namespace under any name, else one that is not ours for
        the same package and catalog anywhere in the cluster."""
        package = self.p["package"]
        named = self.kube.get(*SUB, name=self.name, namespace=self.ns)
        if named is not None and not deleting(named):
            have = (named.get("spec") or {}).get("name")
            if have != package:
                raise OlmError("Subscription {0}/{1} exists for package {2}, not {3}; pick another name or remove it "
                               "first".format(self.ns, self.name, have, package))
            return named
        same = [s for s in self.kube.list(*SUB, namespace=self.ns)
                if (s.get("spec") or {}).get("name") == package and not deleting(s)]
        if same:
            return sorted(same, key=lambda s: (not is_ours(s), s["metadata"]["name"]))[0]
        source = (self.p["source"], self.p["source_namespace"])
        others = []
        for sub in self.kube.list(*SUB):
            spec = sub.get("spec") or {}
            meta = sub["metadata"]
            if (spec.get("name") != package or (spec.get("source"), spec.get("sourceNamespace")) != source
                    or is_ours(sub) or deleting(sub) or meta.get("namespace") == self.ns):
                continue
            if deleting(self.kube.get(*NS, name=meta["namespace"])):
                continue
            others.append(sub)
        if others:
            return sorted(others, key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"]))[0]
        return None

    def use(self, sub):
        self.sub_ns, self.sub_name = sub["metadata"]["namespace"], sub["metadata"]["name"]
        self.preexisting = not is_ours(sub)
        self.managed = is_ours(sub) or bool(self.p.get("adopt"))

    # ---- present -------------------------------------------------------------
    def present(self):
        sub = self.find_subscription()
        if sub is not None:
            self.use(sub)
        replaced = self.replaced_subscriptions()
        self.check_install_modes(self.sub_ns)
        for old in replaced:
            self.remove_subscription(old, reason="replaced by {0}".format(self.p["package"]))
        if sub is None:
            self.ensure_namespace()
            self.ensure_operator_group()
            sub = self.create_subscription()
            if sub is None:  # check mode: nothing to wait for
                return self.result()
        elif self.managed:
            self.ensure_operator_group()
            self.update_subscription(sub)
        else:
            self.report_foreign(sub)
        if not self.p.get("wait", True):
            return self.result()
        return self.result(**self.wait(self.probe, self.p["wait_timeout"]))

    def replaced_subscriptions(self):
        """The Subscriptions of renamed packages to delete; one that is not ours
        is deleted only with adopt (checked before anything changes)."""
        found = []
        for name in self.p.get("replaces") or []:
            old = self.kube.get(*SUB, name=name, namespace=self.ns)
            if old is None or deleting(old):
                continue
            if not is_ours(old) and not self.p.get("adopt"):
                raise OlmError("{0} (package {1}) is replaced by {2}, but it is not managed by {3} (no {4}={3} "
                               "label): remove it yourself, or set adopt to let the module delete it.".format(
                                   ref(old), (old.get("spec") or {}).get("name"), self.p["package"], OURS,
                                   MANAGED_BY))
            found.append(old)
        return found

    def check_install_modes(self, namespace):
        """Fail before any change when an OperatorGroup of the namespace makes its
        operators watch namespaces that install_modes does not allow."""
        allowed = self.p.get("install_modes") or ["AllNamespaces"]
        for group in self.kube.list(*OG, namespace=namespace):
            targets = operator_group_targets(group, self.namespaces_matching)
            why = unsupported_reason(allowed, namespace, targets)
            if why is None:
                continue
            raise OlmError(
                "{0} makes the operators of namespace {1} watch {2} ({3}), but {4} is installed with install_modes "
                "{5} (RHDH, OpenShift Serverless and Serverless Logic support only AllNamespaces): OLM would fail "
                "its CSV with UnsupportedOperatorGroup ({6}). Use a namespace whose OperatorGroup selects all "
                "namespaces (spec: {{}}), such as {7}, or change that OperatorGroup; nothing was changed.".format(
                    ref(group), namespace, ", ".join(t for t in targets if t) or "no namespace",
                    install_mode_of(namespace, targets), self.p["package"], ", ".join(allowed), why,
                    GLOBAL_NAMESPACE))

    def namespaces_matching(self, selector):
        return [n["metadata"]["name"] for n in self.kube.list(*NS, label_selector=selector)]

    def ensure_namespace(self):
        if self.kube.get(*NS, name=self.ns) is not None:
            return
        if not self.p.get("create_namespace", True):
            raise OlmError("Namespace {0} does not exist and create_namespace is false".format(self.ns))
        self.kube.create({"apiVersion": NS[0], "kind": NS[1],
                          "metadata": {"name": self.ns, "labels": {MANAGED_BY: OURS}}})
        self.did("created Namespace {0}".format(self.ns))

    def ensure_operator_group(self):
        if self.sub_ns == GLOBAL_NAMESPACE or self.kube.list(*OG, namespace=self.sub_ns):
            return
        name = self.p.get("operator_group") or self.sub_ns
        self.kube.create({"apiVersion": OG[0], "kind": OG[1],
                          "metadata": {"name": name, "namespace": self.sub_ns, "labels": {MANAGED_BY: OURS}},
                          "spec": {}})
        self.did("created OperatorGroup {0}/{1}".format(self.sub_ns, name))

    def create_subscription(self):
        want = desired_spec(self.p)
        self.diff["after"] = want
        body = {"apiVersion": SUB[0], "kind": SUB[1],
                "metadata": {"name": self.name, "namespace": self.ns, "labels": {MANAGED_BY: OURS}},
                "spec": want}
        self.kube.create(body)
        self.did("created Subscription {0}/{1}".format(self.ns, self.name))
        return None if self.check_mode else body

    def update_subscription(self, sub):
        """Patch the spec of our (or an adopted) Subscription; an adopted one keeps its labels."""
        want = desired_spec(self.p)
        have = sub.get("spec") or {}
        self.diff["before"] = dict((k, have[k]) for k in have if k in want or k in OPTIONAL_SPEC)
        self.diff["after"] = want
        patch = spec_patch(want, have)
        if not patch:
            return
        if not self.check_mode:
            self.patched = (self.clock(), resolution_failed(sub))
        self.kube.merge_patch(*SUB, name=self.sub_name, namespace=self.sub_ns, patch={"spec": patch})
        self.did("updated Subscription {0}/{1}{2}: {3}".format(
            self.sub_ns, self.sub_name, " (adopted, not managed by {0})".format(OURS) if self.preexisting else "",
            ", ".join(sorted(patch))))

    def report_foreign(self, sub):
        have = sub.get("spec") or {}
        self.diff["before"] = self.diff["after"] = dict(
            (k, have[k]) for k in have if k in desired_spec(self.p) or k in OPTIONAL_SPEC)
        differences = spec_differences(desired_spec(self.p), have)
        if differences:
            self.warn("{0} exists and is not managed by {1} (no {2}={1} label): it is used as it is and not "
                      "changed (adopt changes it). It differs from what was asked: {3}.".format(
                          ref("Subscription", self.sub_ns, self.sub_name), OURS, MANAGED_BY, "; ".join(differences)))

    # ---- waiting -------------------------------------------------------------
    def wait(self, probe, timeout):
        """Call probe() until it returns (True, value); (False, msg) fails at once,
        (None, msg) is not yet; at the timeout fail with the last message."""
        deadline = self.clock() + timeout
        while True:
            done, value = probe()
            if done:
                return value
            if done is False:
                raise OlmError(value)
            if self.clock() >= deadline:
                if self.last_retriable and self.last_retriable not in value:
                    value = "{0}; last failure: {1}".format(value, self.last_retriable)
                raise OlmError("timed out after {0}s: {1}".format(timeout, value))
            self.sleep(self.interval)

    def settling(self):
        """True for a few seconds after this run changed the Subscription spec: its
        status (no observedGeneration) may still describe the old spec."""
        return self.patched is not None and self.clock() - self.patched[0] < RESOLUTION_SETTLE

    def fresh(self, failed):
        """False while a ResolutionFailed seen before this run's patch may not be re-evaluated yet."""
        return not (self.settling() and failed == self.patched[1])

    def probe(self):
        """One look at the install: (True, result) done, (False, msg) failed, (None, msg) not yet."""
        sub = self.kube.get(*SUB, name=self.sub_name, namespace=self.sub_ns)
        where = ref("Subscription", self.sub_ns, self.sub_name)
        if sub is None:
            return None, "{0} does not exist".format(where)
        status = sub.get("status") or {}
        note = ""
        failed = resolution_failed(sub)
        if failed:
            text = "{0} cannot be resolved: ResolutionFailed ({1}): {2}".format(where, failed[0], failed[1])
            if failed[0] in FATAL_RESOLUTION_REASONS:
                if self.fresh(failed):
                    return False, text
                return None, text + " (seen before the Subscription was changed; OLM resolves it again)"
            note = "; " + text
        installed = status.get("installedCSV") or ""
        plan = self.install_plan(status)
        pending = None
        if plan is not None and not (plan.get("spec") or {}).get("approved"):
            names = plan_csvs(plan)
            approve = self.managed and self.p.get("approve_install_plan")
            if approve and plan_approvable(plan, self.p.get("starting_csv")):
                self.kube.merge_patch(*IP, name=plan["metadata"]["name"], namespace=self.sub_ns,
                                      patch={"spec": {"approved": True}})
                self.did("approved {0} for {1}".format(ref(plan), ", ".join(names)))
                if self.check_mode:
                    return True, {"installed_csv": installed}
                return None, "approved " + ref(plan)
            if not installed or installed in names:
                return False, self.approval_message(plan, names)
            pending = (plan, status.get("currentCSV") or names[-1])
        csv_name = installed or status.get("currentCSV")
        if not csv_name:
            return None, "{0} has no CSV yet (state {1!r}; {2})".format(
                where, status.get("state", ""), conditions_text(sub))
        csv = self.kube.get(*CSV, name=csv_name, namespace=self.sub_ns)
        if csv is None:
            return None, "ClusterServiceVersion {0}/{1} does not exist yet; {2} state {3!r} ({4})".format(
                self.sub_ns, csv_name, where, status.get("state", ""), conditions_text(sub))
        phase = (csv.get("status") or {}).get("phase", "")
        failure = csv_failure(csv)
        if failure:
            retriable, reason, message = failure
            text = "{0} Failed: {1}: {2}".format(ref(csv), reason, message)
            if retriable:
                self.last_retriable = text
                return None, text + " (OLM retries this)" + note
            events = self.kube.events(csv)
            return False, text + (("; events: " + " | ".join(events)) if events else "")
        if phase != "Succeeded" or not installed:
            return None, "{0} phase {1!r} ({2}); {3} state {4!r}{5}".format(
                ref(csv), phase, (csv.get("status") or {}).get("message", ""), where, status.get("state", ""), note)
        current = status.get("currentCSV") or ""
        if pending is None and status.get("state") == "UpgradePending" and current and current != installed:
            return None, "{0} is upgrading from {1} to {2} ({3}){4}".format(
                where, installed, current, ref(plan) if plan else "no InstallPlan yet", note)
        if self.settling():
            return None, "{0} was changed; waiting for OLM to resolve it again".format(where)
        for crd in self.p.get("crds") or []:
            done, msg = self.kube.crd_established(crd)
            if not done:
                return None, msg
        if note:
            self.warn(note[2:])
        result = {"installed_csv": installed, "csv_phase": phase}
        if pending is not None:
            result["pending_upgrade"] = pending[1]
            self.warn(self.pending_message(pending[0], pending[1], installed))
        return True, result

    def install_plan(self, status):
        plan_ref = status.get("installPlanRef") or {}
        if not plan_ref.get("name"):
            return None
        return self.kube.get(*IP, name=plan_ref["name"], namespace=self.sub_ns)

    def why_not_approved(self, plan):
        if not self.managed:
            return ("{0} is not managed by {1}: its InstallPlans are not approved here (adopt would).".format(
                ref("Subscription", self.sub_ns, self.sub_name), OURS))
        if not self.p.get("approve_install_plan"):
            return "Approve it or set approve_install_plan, then run again."
        return "It does not install starting_csv {0}, so approve_install_plan does not approve it.".format(
            self.p.get("starting_csv"))

    def approval_message(self, plan, names):
        return "{0} for {1} waits for manual approval (installPlanApproval: Manual). {2}".format(
            ref(plan), ", ".join(names), self.why_not_approved(plan))

    def pending_message(self, plan, csv, installed):
        return ("{0} for the upgrade to {1} waits for manual approval; {2} stays installed and runs. {3}".format(
            ref(plan), csv, installed, self.why_not_approved(plan)))

    # ---- absent --------------------------------------------------------------
    def remove_subscription(self, sub, reason=None):
        """Delete a Subscription and the CSVs OLM made for it."""
        meta, status = sub["metadata"], sub.get("status") or {}
        ns, name = meta["namespace"], meta["name"]
        package = (sub.get("spec") or {}).get("name", "")
        csvs = set(c for c in (status.get("installedCSV"), status.get("currentCSV")) if c)
        label = "operators.coreos.com/{0}.{1}".format(package, ns)
        if package and len(label.split("/", 1)[1]) <= 63:
            csvs.update(c["metadata"]["name"] for c in self.kube.list(*CSV, namespace=ns, label_selector=label))
        if self.kube.delete(*SUB, name=name, namespace=ns):
            self.did("deleted Subscription {0}/{1}{2}".format(ns, name, " ({0})".format(reason) if reason else ""))
        for csv in sorted(csvs):
            if self.kube.delete(*CSV, name=csv, namespace=ns):
                self.did("deleted ClusterServiceVersion {0}/{1}".format(ns, csv))
        return csvs

    def keep(self, text):
        self.kept.append(text)
        self.warn("kept " + text)

    def custom_resources_left(self):
        """'Kind namespace/name' of every custom resource of the operator's CRDs in the cluster."""
        found = []
        for name in self.p.get("crds") or []:
            crd = self.kube.get(*CRD, name=name)
            if crd is None:
                continue
            spec = crd.get("spec") or {}
            versions = [v for v in spec.get("versions") or [] if v.get("served")]
            version = next((v for v in versions if v.get("storage")), versions[0] if versions else None)
            if version is None:
                continue
            kind = (spec.get("names") or {}).get("kind")
            for item in self.kube.list("{0}/{1}".format(spec.get("group"), version["name"]), kind):
                found.append(ref(dict(item, kind=kind)))
        return sorted(found)

    def absent(self):
        sub = self.find_subscription()
        removed = set()
        operator_kept = False
        if sub is not None:
            self.use(sub)
            where = ref(sub)
            if not is_ours(sub):
                operator_kept = True
                self.keep("{0} and its CSV {1}: not managed by {2} (no {3}={2} label)".format(
                    where, (sub.get("status") or {}).get("installedCSV") or "(none)", OURS, MANAGED_BY))
            else:
                left = [] if self.p.get("remove_shared") else self.custom_resources_left()
                if left:
                    operator_kept = True
                    shown = ", ".join(left[:SHOWN_RESOURCES]) + (
                        " and {0} more".format(len(left) - SHOWN_RESOURCES) if len(left) > SHOWN_RESOURCES else "")
                    self.keep("{0} and its CSV {1}: the operator still serves {2} custom resource(s) of its CRDs "
                              "that this removal did not delete: {3} (remove_shared removes it anyway)".format(
                                  where, (sub.get("status") or {}).get("installedCSV") or "(none)", len(left), shown))
                else:
                    removed = self.remove_subscription(sub)
                    removed.add(("Subscription", sub["metadata"]["name"]))
        self.clean_namespace(operator_kept and self.sub_ns == self.ns, removed)
        return self.result()

    def clean_namespace(self, operator_kept, removed):
        """Our OperatorGroup and (with delete_namespace) our Namespace go when
        nothing that is kept still needs them."""
        if self.ns == GLOBAL_NAMESPACE:
            return
        namespace = self.kube.get(*NS, name=self.ns)
        if namespace is None:
            return
        others = ["Subscription {0}".format(s["metadata"]["name"]) for s in self.kube.list(*SUB, namespace=self.ns)
                  if ("Subscription", s["metadata"]["name"]) not in removed]
        others += ["ClusterServiceVersion {0}".format(c["metadata"]["name"])
                   for c in self.kube.list(*CSV, namespace=self.ns) if c["metadata"]["name"] not in removed]
        busy = operator_kept or others
        reason = "it still holds {0}".format(", ".join(others)) if others else "the operator is kept"
        for group in self.kube.list(*OG, namespace=self.ns):
            if not is_ours(group):
                continue
            if busy:
                self.keep("{0}: {1}".format(ref(group), reason))
            elif self.kube.delete(*OG, name=group["metadata"]["name"], namespace=self.ns):
                self.did("deleted OperatorGroup {0}/{1}".format(self.ns, group["metadata"]["name"]))
        if not self.p.get("delete_namespace"):
            return
        if not is_ours(namespace):
            self.keep("Namespace {0}: not created by {1} (no {2}={1} label)".format(self.ns, OURS, MANAGED_BY))
            return
        if busy:
            self.keep("Namespace {0}: {1}".format(self.ns, reason))
            return
        if self.kube.delete(*NS, name=self.ns):
            self.did("deleted Namespace {0}".format(self.ns))
            if not self.check_mode:
                self.wait(self.namespace_gone, self.p["wait_timeout"])

    def namespace_gone(self):
        namespace = self.kube.get(*NS, name=self.ns)
        if namespace is None:
            return True, None
        return None, "Namespace {0} still {1}: {2}".format(
            self.ns, (namespace.get("status") or {}).get("phase", ""), conditions_text(namespace))
