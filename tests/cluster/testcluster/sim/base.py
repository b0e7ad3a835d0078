"""A watch-triggered reconcile loop over the Kubernetes API, and what the simulators share.

Each controller stays a plain function of the current state: reconcile()
lists what it needs and converges. Only the trigger is event driven, so an
idle cluster costs next to nothing:

- What a controller reads is what wakes it. Every list or read it makes
  (list_custom, operator_available and the typed clients self.core,
  self.apps, self.storage, self.apiext, self.custom) and every kind it
  applies registers a watch on that collection (class Watches: one thread per
  collection, all of its namespaces); any change there marks the controllers
  that read it dirty. A collection whose CRD is not there yet is retried as
  soon as a CRD changes. Watch expiry (410) restarts the watch, whose initial
  events then count as a change.
- The loop reconciles the dirty controllers once a burst of events settled
  (SETTLE), no controller more often than MIN_GAP; besides, each one when it
  asked for it (requeue(): a `slow` fault expiring, a retry after an error)
  and every controller together every TICK seconds as a safety net.
- The faults ConfigMap is read once per pass for every controller due, and
  watched, so switching a fault wakes them all.
- apply() skips a server-side apply whose body is the one this controller
  last applied to that object while the object still has the
  resourceVersion that apply left (as the watches report it): any change by
  anyone, or its deletion, applies again.
"""
import calendar
import json
import logging
import math
import threading
import time
import traceback

from kubernetes import client, config, dynamic
from kubernetes.client.rest import ApiException
from kubernetes.watch.watch import iter_resp_lines

LOG = logging.getLogger("sim")

# Fault switches. On the object itself: annotation FAULT_ANNOTATION. For objects
# a role creates (a test cannot annotate them first): ConfigMap FAULTS_CONFIGMAP
# in FAULTS_NAMESPACE, key "<kind>.<namespace or _>.<name>" (kind lower-case).
# Values: "csv-failed" (OLM), "never-ready", "slow=<seconds>".
FAULT_ANNOTATION = "testcluster.rhdh.io/fault"
FAULTS_NAMESPACE = "kube-system"
FAULTS_CONFIGMAP = "simulator-faults"

TICK = 5.0      # every controller is reconciled at least this often
SETTLE = 0.05   # after an event, wait this long for the rest of its burst
MIN_GAP = 0.5   # a controller is not reconciled more often than this (the old poll interval)
RETRY = 1.0     # after a failed reconcile
WATCH_TIMEOUT = 300  # seconds a watch request lasts before it is renewed
NO_API_RETRY = 30   # a watch whose API is not served retries this often, and on any CRD change,
CRD_SERVED = 3      # and every 0.5 s for this long after one
CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
FAULTS_WATCH = (f"/api/v1/namespaces/{FAULTS_NAMESPACE}/configmaps", f"metadata.name={FAULTS_CONFIGMAP}")


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def created_at(obj):
    """The object's creationTimestamp in seconds since the epoch (now when unset)."""
    created = obj["metadata"].get("creationTimestamp")
    if not created:
        return time.time()
    return calendar.timegm(time.strptime(created, "%Y-%m-%dT%H:%M:%SZ"))


def age(obj):
    """Seconds since the object was created."""
    return time.time() - created_at(obj)


def object_key(api_version, kind, namespace, name):
    """How apply() and Watches name one object: (group, kind, namespace, name)."""
    group = api_version.rpartition("/")[0]
    return (group, kind, namespace or "", name)


def typed_kind(method):
    """The kind a typed client's read or list method reads, or None for any
    other method: list_namespaced_config_map -> ConfigMap."""
    for prefix in ("list_namespaced_", "read_namespaced_", "list_", "read_"):
        if method.startswith(prefix):
            words = method[len(prefix):]
            break
    else:
        return None
    for suffix in ("_for_all_namespaces", "_status", "_scale", "_log"):
        words = words[:-len(suffix)] if words.endswith(suffix) else words
    return "".join(w.capitalize() for w in words.split("_"))


class _Reading:
    """A typed client (CoreV1Api, CustomObjectsApi, ...) that tells its
    controller which collection each read or list call reads."""

    def __init__(self, api, on_read, api_version=None):
        self._api = api
        self._on_read = on_read
        self._api_version = api_version
        self._wrapped = {}

    def __getattr__(self, name):
        fn = getattr(self._api, name)
        if not callable(fn) or name.startswith("_"):
            return fn
        wrapped = self._wrapped.get(name)
        if wrapped is None:
            wrapped = self._wrapped[name] = self._wrap(name, fn)
        return wrapped

    def _wrap(self, name, fn):
        if self._api_version is None:  # CustomObjectsApi: (group, version, [namespace,] plural, ...)
            if not name.startswith(("get_", "list_")) or "custom_object" not in name:
                return fn
            params = ["group", "version", "namespace", "plural"] if "namespaced" in name else \
                ["group", "version", "plural"]

            def custom(*args, **kwargs):
                given = dict(zip(params, args), **kwargs)
                plural = given.get("plural") or given.get("resource_plural")
                if given.get("group") and given.get("version") and plural:
                    self._on_read(path=f"/apis/{given['group']}/{given['version']}/{plural}")
                return fn(*args, **kwargs)
            return custom
        kind = typed_kind(name)
        if kind is None:
            return fn

        def typed(*args, **kwargs):
            self._on_read(api_version=self._api_version, kind=kind)
            return fn(*args, **kwargs)
        return typed


class Controller:
    """Subclasses implement reconcile(); errors are logged, never fatal."""

    name = "controller"

    def __init__(self, api_client, options=None):
        self.api = api_client
        self.options = options or {}
        self.hub = None  # the Watches of the loop that runs this controller (run() sets it)
        # Typed clients that report what they read (class _Reading).
        self.core = _Reading(client.CoreV1Api(api_client), self._reads, "v1")
        self.apps = _Reading(client.AppsV1Api(api_client), self._reads, "apps/v1")
        self.storage = _Reading(client.StorageV1Api(api_client), self._reads, "storage.k8s.io/v1")
        self.apiext = _Reading(client.ApiextensionsV1Api(api_client), self._reads, "apiextensions.k8s.io/v1")
        self.custom = _Reading(client.CustomObjectsApi(api_client), self._reads)
        self._raw_core = client.CoreV1Api(api_client)
        self._faults = {}
        self._dynamic = None
        self._applied = {}  # object_key -> (manager, body as JSON, resourceVersion after the apply)
        self.dirty = True  # reconcile at the next pass (set by Watches)
        self.wake_at = None  # wall-clock time this controller asked to be reconciled again

    def reconcile(self):
        raise NotImplementedError

    def log(self, msg, *args):
        LOG.info("[%s] " + msg, self.name, *args)

    def requeue(self, seconds):
        """Ask to be reconciled again in `seconds` even when nothing changes."""
        when = time.time() + max(0.0, seconds)
        if self.wake_at is None or when < self.wake_at:
            self.wake_at = when

    def _reads(self, path=None, api_version=None, kind=None):
        if self.hub is not None:
            self.hub.interest(self, path=path, api_version=api_version, kind=kind)

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
            cm = self._raw_core.read_namespaced_config_map(FAULTS_CONFIGMAP, FAULTS_NAMESPACE)
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
            left = created_at(obj) + float(arg or 10) - time.time()
            if left > 0:
                self.requeue(left + 0.05)
                return False
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
        """Server-side apply of one object (any built-in kind or CRD) as field
        manager `manager`. None when skipped: this controller applied this very
        body last and the object has not changed since (module docstring)."""
        meta = body["metadata"]
        key = object_key(body["apiVersion"], body["kind"], meta.get("namespace"), meta["name"])
        text = json.dumps(body, sort_keys=True, default=str)
        if self._dynamic is None:
            self._dynamic = dynamic.DynamicClient(self.api)
        res = self._dynamic.resources.get(api_version=body["apiVersion"], kind=body["kind"])
        last = self._applied.pop(key, None)
        if self.hub is not None:
            if last is not None and last[:2] == (manager, text) and self.hub.version(res.path(), key) == last[2]:
                self._applied[key] = last
                return None
            self.hub.interest(self, path=res.path())
        out = res.server_side_apply(body=body, name=meta["name"], namespace=meta.get("namespace"),
                                    field_manager=manager, force_conflicts=True)
        version = ((out.to_dict() if hasattr(out, "to_dict") else out or {}).get("metadata") or {}).get(
            "resourceVersion")
        if version:
            self._applied[key] = (manager, text, version)
        return out


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


class Watches:
    """One watch per collection some controller reads; an event there marks
    those controllers dirty and sets `wake`. Also keeps the resourceVersion of
    every object seen, for apply()."""

    def __init__(self, api_client, wake=None, start=True):
        self.api = api_client
        self.wake = wake or threading.Event()
        self.start = start  # False in unit tests: no threads
        self._lock = threading.Lock()
        self._who = {}  # (path, field selector) -> set of controllers
        self._versions = {}  # (collection path, object_key) -> resourceVersion
        self._paths = {}  # (api_version, kind) -> collection path, or None when not served
        self._crds = threading.Condition()
        self._crd_changes, self._crd_changed = 0, 0.0
        self._dynamic = None
        self._ensure((CRD_PATH, None))  # CRD changes also retry watches that found no API

    def _dyn(self):
        if self._dynamic is None:
            self._dynamic = dynamic.DynamicClient(self.api)
        return self._dynamic

    def path_of(self, api_version, kind):
        """The collection path of a built-in kind (discovery), None when not served."""
        if (api_version, kind) not in self._paths:
            try:
                path = self._dyn().resources.get(api_version=api_version, kind=kind).path()
            except Exception:  # pylint: disable=broad-except
                LOG.warning("[watches] no API for %s %s: not watched", api_version, kind)
                path = None
            self._paths[(api_version, kind)] = path
        return self._paths[(api_version, kind)]

    def interest(self, ctl, path=None, api_version=None, kind=None, field_selector=None):
        """ctl reads this collection: wake it on every change there."""
        if path is None:
            path = self.path_of(api_version, kind)
            if path is None:
                return
        key = (path, field_selector)
        with self._lock:
            who = self._who.get(key)
            if who is not None and ctl in who:
                return
        self._ensure(key, ctl)

    def _ensure(self, key, ctl=None):
        with self._lock:
            new = key not in self._who
            who = self._who.setdefault(key, set())
            if ctl is not None:
                who.add(ctl)
                # What changed between its read and now would be missed: look once more.
                ctl.dirty = True
        if new and self.start:
            threading.Thread(target=self._run, args=(key,), daemon=True,
                             name=f"watch {key[0]}").start()

    def version(self, path, key):
        """The resourceVersion the watch of collection `path` last saw for
        object `key` (object_key), None when it saw none or its deletion."""
        return self._versions.get((path, key))

    # ---- one watch ------------------------------------------------------------
    def _run(self, key):
        version, missing = None, False
        while True:
            crds = self._crd_changes
            try:
                version = self._watch(key, version, missing)
                missing = False
            except Exception as exc:  # pylint: disable=broad-except
                status = getattr(exc, "status", None)
                if status == 404:  # no such API (yet): retried when a CRD changes
                    missing = True
                    with self._crds:
                        if crds == self._crd_changes:
                            # A new CRD is served a moment after its events: look again soon.
                            recent = time.monotonic() - self._crd_changed < CRD_SERVED
                            self._crds.wait(0.5 if recent else NO_API_RETRY)
                    continue
                if status == 410:
                    version = None
                    continue
                LOG.info("[watches] %s: %s; watching again", key[0], str(exc).splitlines()[0] if str(exc) else exc)
                time.sleep(1)

    def _watch(self, key, version, missing=False):
        """One watch request from `version` (None: the current state, as
        events); returns the version to go on from."""
        path, selector = key
        params = {"watch": True, "allow_watch_bookmarks": True, "timeout_seconds": WATCH_TIMEOUT,
                  "_request_timeout": (10, WATCH_TIMEOUT + 30)}
        if version:
            params["resource_version"] = version
        if selector:
            params["field_selector"] = selector
        resp = self._dyn().request("GET", path, serialize=False, _preload_content=False, **params)
        if missing:
            LOG.info("[watches] %s: served now", path)
        try:
            for line in iter_resp_lines(resp):
                if line:
                    version = self.event(key, json.loads(line), version)
        finally:
            resp.close()
            resp.release_conn()
        return version

    def event(self, key, event, version):
        """Take one watch event; returns the version to resume from (None after
        an expiry: start over from the current state)."""
        kind, obj = event.get("type"), event.get("object") or {}
        meta = obj.get("metadata") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                return None
            raise ApiException(status=obj.get("code"), reason=obj.get("message"))
        if kind == "BOOKMARK":
            return meta.get("resourceVersion") or version
        if key[1] is None:  # one unfiltered watch per collection: its events come in order
            okey = (key[0], object_key(obj.get("apiVersion", ""), obj.get("kind", ""), meta.get("namespace"),
                                       meta.get("name")))
            if kind == "DELETED":
                self._versions.pop(okey, None)
            else:
                self._versions[okey] = meta.get("resourceVersion")
        with self._lock:
            who = list(self._who.get(key, ()))
        for ctl in who:
            ctl.dirty = True
        if who:
            self.wake.set()
        if key[0] == CRD_PATH:
            with self._crds:
                self._crd_changes += 1
                self._crd_changed = time.monotonic()
                self._crds.notify_all()
        return meta.get("resourceVersion") or version


def read_faults(core):
    """The data of the faults ConfigMap ({} when absent)."""
    try:
        return dict(core.read_namespaced_config_map(FAULTS_CONFIGMAP, FAULTS_NAMESPACE).data or {})
    except ApiException as exc:
        if exc.status != 404:
            raise
        return {}


class Loop:
    """Which controllers to reconcile when (see the module docstring)."""

    def __init__(self, instances, faults, wake, clock=time.monotonic, wall=time.time):
        self.instances = instances
        self.faults = faults  # () -> the faults ConfigMap's data
        self.wake = wake
        self.clock, self.wall = clock, wall
        self.last = {id(c): None for c in instances}  # clock time of its last reconcile
        self.retry = {}  # id(controller) -> clock time of a retry after a failure

    def due_in(self, ctl):
        """Seconds until ctl is due (<= 0: due now)."""
        last = self.last[id(ctl)]
        if last is None:
            return 0.0
        # Ticks fall on multiples of TICK, so the controllers share one pass (and faults read).
        tick = (math.floor(last / TICK) + 1) * TICK
        at = [tick if tick - last >= MIN_GAP else tick + TICK]
        if ctl.dirty:
            at.append(last + MIN_GAP)
        if ctl.wake_at is not None:
            at.append(max(last + MIN_GAP, self.clock() + ctl.wake_at - self.wall()))
        if id(ctl) in self.retry:
            at.append(self.retry[id(ctl)])
        return min(at) - self.clock()

    def once(self):
        """Reconcile every controller due; returns the seconds until the next one is."""
        due = [c for c in self.instances if self.due_in(c) <= 0]
        if due:
            faults = self.faults()
            for ctl in due:
                ctl.dirty = False
                ctl.wake_at = None
                self.retry.pop(id(ctl), None)
                self.last[id(ctl)] = self.clock()
                ctl._faults = faults  # pylint: disable=protected-access
                try:
                    ctl.reconcile()
                except Exception:  # pylint: disable=broad-except
                    LOG.error("[%s] reconcile failed:\n%s", ctl.name, traceback.format_exc())
                    self.retry[id(ctl)] = self.clock() + RETRY
        return max(0.0, min(self.due_in(c) for c in self.instances))

    def forever(self):
        while True:
            try:
                wait = self.once()
            except Exception:  # pylint: disable=broad-except
                LOG.error("reading the faults failed:\n%s", traceback.format_exc())
                wait = RETRY
            if self.wake.wait(wait):
                self.wake.clear()
                time.sleep(SETTLE)


def run(kubeconfig, controllers, options=None):
    api_client = config.new_client_from_config(config_file=kubeconfig)
    # Watches hold one connection each, for minutes: a pool of their own.
    watch_config = client.Configuration()
    config.load_kube_config(config_file=kubeconfig, client_configuration=watch_config)
    watch_config.connection_pool_maxsize = 64
    wake = threading.Event()
    hub = Watches(client.ApiClient(watch_config), wake)
    instances = [c(api_client, options) for c in controllers]
    for ctl in instances:
        ctl.hub = hub
        hub.interest(ctl, path=FAULTS_WATCH[0], field_selector=FAULTS_WATCH[1])
    LOG.info("simulators running: %s", ", ".join(c.name for c in instances))
    core = client.CoreV1Api(api_client)
    Loop(instances, lambda: read_faults(core), wake).forever()
