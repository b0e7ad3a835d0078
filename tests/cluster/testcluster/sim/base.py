"""A polling reconcile loop over the Kubernetes API, and what the simulators share.

Polling every half second is plenty for tests and keeps each controller a
plain function of the current state: no watch bookkeeping, no missed events.
"""
import calendar
import logging
import time
import traceback

from kubernetes import client, config, dynamic
from kubernetes.client.rest import ApiException

LOG = logging.getLogger("sim")

# Fault switches. On the object itself: annotation FAULT_ANNOTATION. For objects
# a role creates (a test cannot annotate them first): ConfigMap FAULTS_CONFIGMAP
# in FAULTS_NAMESPACE, key "<kind>.<namespace or _>.<name>" (kind lower-case).
# Values: "csv-failed" (OLM), "never-ready", "slow=<seconds>".
FAULT_ANNOTATION = "testcluster.rhdh.io/fault"
FAULTS_NAMESPACE = "kube-system"
FAULTS_CONFIGMAP = "simulator-faults"


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def age(obj):
    """Seconds since the object was created."""
    created = obj["metadata"].get("creationTimestamp")
    if not created:
        return 0.0
    return time.time() - calendar.timegm(time.strptime(created, "%Y-%m-%dT%H:%M:%SZ"))


class Controller:
    """Subclasses implement reconcile(); errors are logged, never fatal."""

    name = "controller"

    def __init__(self, api_client, options=None):
        self.api = api_client
        self.options = options or {}
        self.core = client.CoreV1Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)
        self.storage = client.StorageV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.apiext = client.ApiextensionsV1Api(api_client)
        self._faults = {}
        self._dynamic = None

    def reconcile(self):
        raise NotImplementedError

    def log(self, msg, *args):
        LOG.info("[%s] " + msg, self.name, *args)

    # ---- reading ----------------------------------------------------------
    def list_custom(self, group, version, plural):
        """Every object of a custom resource, [] while its CRD is not there."""
        try:
            return self.custom.list_cluster_custom_object(group, version, plural)["items"]
        except ApiException as exc:
            if exc.status == 404:
                return []
            raise

    def load_faults(self):
        try:
            cm = self.core.read_namespaced_config_map(FAULTS_CONFIGMAP, FAULTS_NAMESPACE)
            self._faults = dict(cm.data or {})
        except ApiException as exc:
            if exc.status != 404:
                raise
            self._faults = {}

    def fault(self, obj):
        """(name, argument) of the fault switched on for obj, or (None, None)."""
        meta = obj["metadata"]
        value = (meta.get("annotations") or {}).get(FAULT_ANNOTATION)
        if not value:
            key = f"{obj['kind'].lower()}.{meta.get('namespace') or '_'}.{meta['name']}"
            value = self._faults.get(key)
        if not value:
            return None, None
        name, _sep, arg = value.partition("=")
        return name.strip(), arg.strip() or None

    def ready_after(self, obj):
        """False while a `slow` fault holds the object back, else True."""
        name, arg = self.fault(obj)
        if name == "slow":
            return age(obj) >= float(arg or 10)
        return True

    def wanted(self, obj, never, slow):
        """The (status, reason, message) of obj's readiness condition as the fault
        switches have it: `never` under never-ready, `slow` while a slow fault
        holds it back, else ("True", "", "")."""
        if self.fault(obj)[0] == "never-ready":
            return never
        if not self.ready_after(obj):
            return slow
        return ("True", "", "")

    @staticmethod
    def has_condition(obj, ctype, want):
        """Whether obj already reports condition ctype as want for its generation."""
        status = obj.get("status") or {}
        have = {c["type"]: c for c in status.get("conditions", [])}.get(ctype, {})
        return ((have.get("status"), have.get("reason", ""), have.get("message", "")) == tuple(want)
                and status.get("observedGeneration") == obj["metadata"].get("generation", 1))

    def operator_available(self, deployment_names):
        """Whether a Deployment of one of these names is Available anywhere: the
        stand-in for "the operator is running"."""
        for dep in self.apps.list_deployment_for_all_namespaces().items:
            if dep.metadata.name in deployment_names and (dep.status.available_replicas or 0) > 0:
                return True
        return False

    # ---- writing ----------------------------------------------------------
    def patch_status(self, group, version, plural, obj, status):
        meta = obj["metadata"]
        body = {"status": status}
        if meta.get("namespace"):
            return ignore_missing(self.custom.patch_namespaced_custom_object_status,
                                  group, version, meta["namespace"], plural, meta["name"], body)
        return ignore_missing(self.custom.patch_cluster_custom_object_status,
                              group, version, plural, meta["name"], body)

    def set_finalizers(self, group, version, plural, obj, finalizers):
        meta = obj["metadata"]
        body = {"metadata": {"finalizers": finalizers, "resourceVersion": meta["resourceVersion"]}}
        if meta.get("namespace"):
            return ignore_missing(self.custom.patch_namespaced_custom_object,
                                  group, version, meta["namespace"], plural, meta["name"], body)
        return ignore_missing(self.custom.patch_cluster_custom_object, group, version, plural, meta["name"], body)

    def apply(self, body, manager):
        """Server-side apply of one object (any built-in kind or CRD) as field manager `manager`."""
        if self._dynamic is None:
            self._dynamic = dynamic.DynamicClient(self.api)
        res = self._dynamic.resources.get(api_version=body["apiVersion"], kind=body["kind"])
        return res.server_side_apply(body=body, name=body["metadata"]["name"],
                                     namespace=body["metadata"].get("namespace"),
                                     field_manager=manager, force_conflicts=True)


def condition(ctype, status, reason="", message=""):
    return {"type": ctype, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": now()}


def ignore_missing(fn, *args, **kwargs):
    """Call fn; a 404 (already gone) or 409 (already there / changed meanwhile) is not an error."""
    try:
        return fn(*args, **kwargs)
    except ApiException as exc:
        if exc.status in (404, 409):
            return None
        raise


def run(kubeconfig, controllers, options=None, interval=0.5):
    api_client = config.new_client_from_config(config_file=kubeconfig)
    instances = [c(api_client, options) for c in controllers]
    LOG.info("simulators running: %s", ", ".join(c.name for c in instances))
    while True:
        for ctl in instances:
            try:
                ctl.load_faults()
                ctl.reconcile()
            except Exception:  # pylint: disable=broad-except
                LOG.error("[%s] reconcile failed:\n%s", ctl.name, traceback.format_exc())
        time.sleep(interval)
