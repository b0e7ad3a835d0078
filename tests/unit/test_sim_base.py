"""The simulators' loop (testcluster/sim/base.py) without a cluster: what wakes a
controller, when it is reconciled, and when apply() skips a server-side apply."""
import threading

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from testcluster.sim import base

DEPLOYMENTS = "/apis/apps/v1/deployments"


class Hub(base.Watches):
    """Watches without threads or discovery."""

    def __init__(self):
        super().__init__(api_client=None, wake=threading.Event(), start=False)

    def path_of(self, api_version, kind):
        return {("apps/v1", "Deployment"): DEPLOYMENTS, ("v1", "ConfigMap"): "/api/v1/configmaps"}.get(
            (api_version, kind))


class Recorder(base.Controller):
    name = "recorder"

    def __init__(self, fail=False, slow_obj=None):
        super().__init__(client.ApiClient())
        self.calls, self.fail, self.slow_obj, self.seen_faults = 0, fail, slow_obj, []

    def reconcile(self):
        self.calls += 1
        self.seen_faults.append(dict(self._faults))
        if self.slow_obj is not None:
            self.ready_after(self.slow_obj)
        if self.fail:
            raise RuntimeError("boom")


class Reads:
    """Stands in for a typed client: every call returns its name."""

    def __getattr__(self, name):
        return lambda *a, **k: name


def event(kind, rv, name="web", namespace="ns", api_version="apps/v1", obj_kind="Deployment"):
    return {"type": kind, "object": {"apiVersion": api_version, "kind": obj_kind,
                                     "metadata": {"name": name, "namespace": namespace, "resourceVersion": rv}}}


def test_reads_register_watches_and_only_their_events_wake_the_reader():
    hub, ctl, other = Hub(), Recorder(), Recorder()
    for c in (ctl, other):
        c.hub = hub
        c.apps._api = c.custom._api = Reads()  # pylint: disable=protected-access
        c.dirty = False
    # Typed reads and lists: the kind's whole collection; writes register nothing.
    assert ctl.apps.read_namespaced_deployment("web", "ns") == "read_namespaced_deployment"
    ctl.apps.patch_namespaced_deployment("web", "ns", {})
    ctl.custom.get_namespaced_custom_object("route.openshift.io", "v1", "ns", "routes", "r")
    ctl.custom.patch_namespaced_custom_object_status("sonataflow.org", "v1alpha08", "ns", "sonataflows", "f", {})
    other.custom.list_cluster_custom_object(group="sonataflow.org", version="v1alpha08", plural="sonataflows")
    who = {k[0]: v for k, v in hub._who.items()}  # pylint: disable=protected-access
    assert who[DEPLOYMENTS] == {ctl} and who["/apis/route.openshift.io/v1/routes"] == {ctl}
    assert who["/apis/sonataflow.org/v1alpha08/sonataflows"] == {other}
    assert set(who) == {DEPLOYMENTS, "/apis/route.openshift.io/v1/routes",
                        "/apis/sonataflow.org/v1alpha08/sonataflows", base.CRD_PATH}
    # A new reader is reconciled once more (it may have missed an event meanwhile).
    assert ctl.dirty and other.dirty
    ctl.dirty = other.dirty = False
    key = (DEPLOYMENTS, None)
    # An event marks the readers of that collection dirty and wakes the loop.
    assert hub.event(key, event("MODIFIED", "7"), "5") == "7"
    assert ctl.dirty and not other.dirty and hub.wake.is_set()
    assert hub.version(DEPLOYMENTS, ("apps", "Deployment", "ns", "web")) == "7"
    ctl.dirty = False
    hub.wake.clear()
    # Bookmarks move the version on and wake nobody; expiry starts over; other errors raise.
    assert hub.event(key, {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "9"}}}, "7") == "9"
    assert not ctl.dirty and not hub.wake.is_set()
    assert hub.event(key, {"type": "ERROR", "object": {"code": 410, "message": "too old"}}, "9") is None
    with pytest.raises(ApiException):
        hub.event(key, {"type": "ERROR", "object": {"code": 500, "message": "x"}}, "9")
    assert hub.event(key, event("DELETED", "10"), "9") == "10"
    assert hub.version(DEPLOYMENTS, ("apps", "Deployment", "ns", "web")) is None and ctl.dirty
    # A CRD change counts (watches whose API was missing retry on it).
    before = hub._crd_changes  # pylint: disable=protected-access
    crd = event("ADDED", "11", "x.y", None, "apiextensions.k8s.io/v1", "CustomResourceDefinition")
    hub.event((base.CRD_PATH, None), crd, None)
    assert hub._crd_changes == before + 1  # pylint: disable=protected-access


def test_watch_request_resumes_from_its_version_and_reads_every_event():
    hub, ctl = Hub(), Recorder()
    ctl.dirty = False
    hub.interest(ctl, path="/api/v1/configmaps", field_selector="metadata.name=x")
    ctl.dirty = False
    asked = {}

    class Resp:
        def stream(self, **_kw):
            yield b'{"type":"ADDED","object":{"apiVersion":"v1","kind":"ConfigMap",'
            yield b'"metadata":{"name":"x","namespace":"kube-system","resourceVersion":"3"}}}\n'
            yield b'{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"4"}}}\n'

        def close(self):
            asked["closed"] = True

        def release_conn(self):
            pass

    class Dyn:
        @staticmethod
        def request(method, path, **params):
            asked.update(params, method=method, path=path)
            return Resp()

    hub._dynamic = Dyn()  # pylint: disable=protected-access
    assert hub._watch(("/api/v1/configmaps", "metadata.name=x"), "2") == "4"  # pylint: disable=protected-access
    assert asked["path"] == "/api/v1/configmaps" and asked["resource_version"] == "2" and asked["closed"]
    assert asked["field_selector"] == "metadata.name=x" and asked["watch"] and asked["allow_watch_bookmarks"]
    # A filtered watch wakes its readers but keeps no versions (apply() trusts one stream per collection).
    assert ctl.dirty and hub.version("/api/v1/configmaps", ("", "ConfigMap", "kube-system", "x")) is None


def test_apply_skips_only_what_this_controller_applied_and_nobody_changed():
    hub, ctl = Hub(), Recorder()
    ctl.hub = hub
    applied = []

    class Res:
        @staticmethod
        def path():
            return DEPLOYMENTS

        @staticmethod
        def server_side_apply(body, **kw):
            applied.append((body["spec"]["replicas"], kw["field_manager"]))
            return {"metadata": {"resourceVersion": str(10 + len(applied))}}

    class Dyn:
        class resources:  # noqa: N801 - as DynamicClient names it
            @staticmethod
            def get(**_kw):
                return Res()

    ctl._dynamic = Dyn()  # pylint: disable=protected-access
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "ns"},
            "spec": {"replicas": 1}}
    key = (DEPLOYMENTS, None)
    assert ctl.apply(body, "m") is not None  # first time
    assert ctl in hub._who[key]  # pylint: disable=protected-access
    assert ctl.apply(body, "m") is not None  # the watch has not reported the object yet
    hub.event(key, event("MODIFIED", "12"), None)
    assert ctl.apply(body, "m") is None and ctl.apply(dict(body), "m") is None  # unchanged: skipped
    assert ctl.apply(dict(body, spec={"replicas": 2}), "m") is not None  # another body
    hub.event(key, event("MODIFIED", "13"), None)
    assert ctl.apply(body, "m") is not None  # back to the first body
    hub.event(key, event("MODIFIED", "14"), None)
    assert ctl.apply(body, "other") is not None  # another field manager
    hub.event(key, event("MODIFIED", "15"), None)
    hub.event(key, event("MODIFIED", "99"), None)  # someone else changed it
    assert ctl.apply(body, "other") is not None
    hub.event(key, event("DELETED", "100"), None)
    assert ctl.apply(body, "other") is not None  # gone
    assert len(applied) == 7
    ctl.hub = None
    assert ctl.apply(body, "other") is not None  # without watches nothing is skipped


def test_loop_runs_the_dirty_the_due_and_the_failed_and_reads_the_faults_once_per_pass(monkeypatch):
    clock = [1000.0]
    wall = [5000.0]
    reads = []

    def faults():
        reads.append(1)
        return {"deployment.ns.web": "slow=3"}

    quiet, failing = Recorder(), Recorder(fail=True)
    slow = Recorder(slow_obj={"kind": "Deployment", "metadata": {
        "name": "web", "namespace": "ns", "creationTimestamp": "1970-01-01T01:23:20Z"}})  # wall 5000
    loop = base.Loop([quiet, failing, slow], faults, threading.Event(), clock=lambda: clock[0],
                     wall=lambda: wall[0])
    monkeypatch.setattr(base.time, "time", lambda: wall[0])
    # First pass: everyone, one faults read handed to all.
    loop.once()
    assert (quiet.calls, failing.calls, slow.calls, len(reads)) == (1, 1, 1, 1)
    assert quiet.seen_faults == [{"deployment.ns.web": "slow=3"}]
    # The failed one is retried after RETRY, the slow one when its fault expires, the rest at TICK.
    assert loop.due_in(failing) == pytest.approx(base.RETRY)
    assert loop.due_in(slow) == pytest.approx(3.05)
    assert loop.due_in(quiet) == pytest.approx(base.TICK)  # on a multiple of TICK: 1005
    # Dirty: due MIN_GAP after its last reconcile, not before.
    quiet.dirty = True
    assert loop.once() == pytest.approx(base.MIN_GAP)
    assert quiet.calls == 1
    clock[0] += base.MIN_GAP
    wall[0] += base.MIN_GAP
    loop.once()
    assert (quiet.calls, failing.calls, slow.calls, len(reads)) == (2, 1, 1, 2)
    assert not quiet.dirty
    clock[0] += 3.1
    wall[0] += 3.1
    loop.once()
    assert (quiet.calls, failing.calls, slow.calls) == (2, 2, 2)
    assert slow.wake_at is None  # the fault expired: no further wake-up asked
    clock[0] = 1010.0  # the next tick: every controller, one faults read
    reads.clear()
    loop.once()
    assert (quiet.calls, failing.calls, slow.calls, len(reads)) == (3, 3, 3, 1)
