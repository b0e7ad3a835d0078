"""The local control plane behaves like a real cluster."""
import json
import re
import time
import uuid


def wait_for(predicate, timeout=90, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_server_reports_real_version(kube):
    version = json.loads(kube.kubectl("version", "-o", "json").stdout)
    server = version["serverVersion"]
    assert re.fullmatch(r"v1\.\d+\.\d+", server["gitVersion"]), server
    assert (int(server["major"]), int(server["minor"])) >= (1, 33), server
    assert server["gitTreeState"] == "clean"
    # The kubectl we built carries the same stamp.
    assert version["clientVersion"]["gitVersion"] == server["gitVersion"]


def test_kwok_nodes_are_ready(kube):
    nodes = kube.json("get", "nodes")["items"]
    assert len(nodes) >= 1
    for node in nodes:
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True", node["metadata"]["name"]


def test_deployment_created_with_kubectl_becomes_available(kube, namespace):
    kube.kubectl("create", "deployment", "web", "--image=registry.k8s.io/pause:3.10",
                 "--replicas=3", "-n", namespace)
    kube.kubectl("wait", "--for=condition=Available", "deployment/web", "-n", namespace, "--timeout=90s")
    dep = kube.json("get", "deployment", "web", "-n", namespace)
    assert dep["status"]["availableReplicas"] == 3
    pods = kube.json("get", "pods", "-n", namespace, "-l", "app=web")["items"]
    assert len(pods) == 3
    # Scheduled by the real scheduler onto kwok nodes, made Running by kwok.
    assert all(p["spec"]["nodeName"].startswith("kwok-node-") for p in pods)
    assert {p["status"]["phase"] for p in pods} == {"Running"}
    # ReplicaSet was created by the controller-manager and owns the pods.
    owners = {o["kind"] for p in pods for o in p["metadata"]["ownerReferences"]}
    assert owners == {"ReplicaSet"}


def test_deleted_namespace_goes_away(kube):
    name = f"gone-{uuid.uuid4().hex[:8]}"
    kube.kubectl("create", "namespace", name)
    kube.kubectl("create", "configmap", "data", "--from-literal=k=v", "-n", name)
    kube.kubectl("create", "deployment", "web", "--image=registry.k8s.io/pause:3.10", "-n", name)
    kube.kubectl("delete", "namespace", name, "--wait=false")
    wait_for(lambda: kube.kubectl("get", "namespace", name, check=False).returncode != 0,
             what=f"namespace {name} to disappear")
    assert "NotFound" in kube.kubectl("get", "namespace", name, check=False).stderr


def test_owned_object_is_garbage_collected(kube, namespace):
    kube.kubectl("create", "configmap", "owner", "--from-literal=k=v", "-n", namespace)
    owner = kube.json("get", "configmap", "owner", "-n", namespace)
    owned = {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "owned", "namespace": namespace, "ownerReferences": [{
            "apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
            "uid": owner["metadata"]["uid"]}]},
        "data": {"k": "v"},
    }
    kube.kubectl("create", "-f", "-", stdin=json.dumps(owned))
    kube.kubectl("delete", "configmap", "owner", "-n", namespace, "--wait=false")
    wait_for(lambda: kube.kubectl("get", "configmap", "owned", "-n", namespace, check=False).returncode != 0,
             what="the owned ConfigMap to be garbage-collected")


def test_service_account_tokens_are_issued(kube, namespace):
    """The token controller fills ServiceAccount token Secrets (the auth Secret relies on it)."""
    kube.kubectl("create", "serviceaccount", "reader", "-n", namespace)
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
              "metadata": {"name": "reader-token", "namespace": namespace,
                           "annotations": {"kubernetes.io/service-account.name": "reader"}}}
    kube.kubectl("create", "-f", "-", stdin=json.dumps(secret))
    wait_for(lambda: "token" in (kube.json("get", "secret", "reader-token", "-n", namespace).get("data") or {}),
             what="the token controller to fill reader-token")


def test_every_listener_is_loopback_only(kube, openshift):
    for cluster in (kube, openshift):
        rows = cluster.handle.state["processes"]
        from testcluster import procs  # pylint: disable=import-outside-toplevel
        found = procs.listeners([r["pid"] for r in rows])
        names = {r["pid"]: r["name"] for r in rows}
        listening = {names[row[0]] for row in found}
        # Every control-plane component opened at least one port, so the check
        # below has teeth; the simulators are API clients and open none.
        assert listening == set(names.values()) - {"simulators"}, (listening, found)
        offenders = [(names[pid], proto, addr, port) for pid, proto, addr, port in found
                     if addr not in ("127.0.0.1", "::ffff:127.0.0.1")]
        assert not offenders, f"listeners not bound to 127.0.0.1: {offenders}"


def test_plain_flavour_serves_no_openshift_api(kube):
    groups = kube.kubectl("api-versions").stdout.split()
    assert not [g for g in groups if "openshift.io" in g or "operators.coreos.com" in g]


def test_openshift_flavour_serves_the_openshift_surface(openshift):
    groups = set(openshift.kubectl("api-versions").stdout.split())
    for gv in ("route.openshift.io/v1", "config.openshift.io/v1", "operators.coreos.com/v1alpha1",
               "operators.coreos.com/v1"):
        assert gv in groups
    ingress = openshift.json("get", "ingresses.config.openshift.io", "cluster")
    assert ingress["spec"]["domain"]
    cv = openshift.json("get", "clusterversion", "version")
    assert cv["spec"]["clusterID"]
    assert re.fullmatch(r"4\.\d+\.\d+", cv["status"]["desired"]["version"])
    catalog = openshift.json("get", "catalogsource", "redhat-operators", "-n", "openshift-marketplace")
    assert catalog["status"]["connectionState"]["lastObservedState"] == "READY"
    og = openshift.json("get", "operatorgroup", "global-operators", "-n", "openshift-operators")
    # No targetNamespaces: the global group watches all namespaces.
    assert "targetNamespaces" not in og["spec"]
    assert og["status"]["namespaces"] == [""]


def test_route_is_validated_by_its_schema(openshift, namespace_os):
    good = {"apiVersion": "route.openshift.io/v1", "kind": "Route",
            "metadata": {"name": "web", "namespace": namespace_os},
            "spec": {"to": {"kind": "Service", "name": "web"}, "tls": {"termination": "edge"}}}
    openshift.kubectl("create", "-f", "-", stdin=json.dumps(good))
    bad = dict(good, metadata={"name": "bad", "namespace": namespace_os},
               spec={"to": {"kind": "Service", "name": "web"}, "tlss": {}})
    res = openshift.kubectl("create", "--validate=strict", "-f", "-", stdin=json.dumps(bad), check=False)
    assert res.returncode != 0 and "tlss" in res.stderr


def test_default_storage_class_provisions_and_binds(kube, namespace):
    """A StatefulSet with a volume claim template gets a bound volume and becomes Ready."""
    classes = kube.json("get", "storageclass")["items"]
    default = [c["metadata"]["name"] for c in classes
               if c["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class") == "true"]
    assert default == ["standard"]
    sts = {
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": namespace},
        "spec": {"serviceName": "db", "replicas": 1, "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}},
                              "spec": {"containers": [{"name": "db", "image": "registry.k8s.io/pause:3.10",
                                                       "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
                 "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                     "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]},
    }
    kube.kubectl("create", "-f", "-", stdin=json.dumps(sts))
    kube.kubectl("wait", "--for=jsonpath={.status.phase}=Bound", "pvc/data-db-0", "-n", namespace, "--timeout=60s")
    kube.kubectl("wait", "--for=jsonpath={.status.readyReplicas}=1", "statefulset/db", "-n", namespace,
                 "--timeout=60s")
    pvc = kube.json("get", "pvc", "data-db-0", "-n", namespace)
    pv = kube.json("get", "pv", pvc["spec"]["volumeName"])
    assert pv["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"]
    assert pv["status"]["phase"] == "Bound"
    # Deleting the claim releases the volume and the provisioner deletes it (reclaim policy Delete).
    kube.kubectl("delete", "statefulset", "db", "-n", namespace)
    kube.kubectl("delete", "pvc", "data-db-0", "-n", namespace, "--wait=false")
    wait_for(lambda: kube.kubectl("get", "pv", pv["metadata"]["name"], check=False).returncode != 0,
             what="the released volume to be deleted")
