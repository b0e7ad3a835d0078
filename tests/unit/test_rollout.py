"""Rollout checks of the resource_ready module (plugins/module_utils/rollout.py)."""
import importlib.util
import os

_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "module_utils", "rollout.py")
_SPEC = importlib.util.spec_from_file_location("rollout", _PATH)
ro = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(ro)


def deployment(generation=2, observed=2, replicas=1, updated=1, ready=1, available=1, total=1, revision="2"):
    return {"kind": "Deployment",
            "metadata": {"generation": generation, "annotations": {"deployment.kubernetes.io/revision": revision}},
            "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "updatedReplicas": updated, "readyReplicas": ready,
                       "availableReplicas": available, "replicas": total}}


def test_done_only_when_every_replica_is_new_and_ready():
    assert ro.progress(deployment())[0]
    assert not ro.progress(deployment(observed=1))[0]
    # A one-replica Deployment mid-rollout: the old pod keeps it Available.
    assert not ro.progress(deployment(updated=1, ready=1, available=1, total=2))[0]
    assert not ro.progress(deployment(updated=0))[0]
    assert "0 of 1 replicas updated" in ro.progress(deployment(updated=0))[1]


def test_replicas_default_to_one():
    dep = deployment()
    del dep["spec"]["replicas"]
    assert ro.progress(dep)[0]


def test_statefulset_needs_the_update_revision_current():
    sts = {"kind": "StatefulSet", "metadata": {"generation": 3}, "spec": {"replicas": 1},
           "status": {"observedGeneration": 3, "updatedReplicas": 1, "readyReplicas": 1, "replicas": 1,
                      "currentRevision": "a", "updateRevision": "b"}}
    assert not ro.progress(sts)[0]
    sts["status"]["currentRevision"] = "b"
    assert ro.progress(sts)[0]


def pod(name, labels, init=None, main=None):
    return {"metadata": {"name": name, "labels": labels},
            "status": {"initContainerStatuses": init or [], "containerStatuses": main or []}}


INSTALLER_FAILED = {"name": "install-dynamic-plugins", "ready": False, "restartCount": 2,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 20s"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                                 "message": "Config key 'dataIndexService.url' defined differently"}}}


def test_current_pods_of_a_deployment_follow_the_newest_replicaset():
    sets = [{"metadata": {"labels": {"pod-template-hash": "old"},
                          "annotations": {"deployment.kubernetes.io/revision": "1"}}},
            {"metadata": {"labels": {"pod-template-hash": "new"},
                          "annotations": {"deployment.kubernetes.io/revision": "2"}}}]
    pods = [pod("a", {"pod-template-hash": "old"}, init=[INSTALLER_FAILED]), pod("b", {"pod-template-hash": "new"})]
    assert [p["metadata"]["name"] for p in ro.current_pods(deployment(), pods, sets)] == ["b"]
    # The crashed pod belongs to the old template: not this rollout's failure.
    assert ro.failure(ro.current_pods(deployment(), pods, sets)) is None


def test_current_pods_of_a_statefulset_follow_the_update_revision():
    sts = {"kind": "StatefulSet", "status": {"updateRevision": "r2"}}
    pods = [pod("s-0", {"controller-revision-hash": "r1"}), pod("s-1", {"controller-revision-hash": "r2"})]
    assert [p["metadata"]["name"] for p in ro.current_pods(sts, pods)] == ["s-1"]


def test_failure_names_pod_container_and_message():
    text = ro.failure([pod("backstage-x-1", {}, init=[INSTALLER_FAILED])])
    assert text.startswith("pod backstage-x-1: init container install-dynamic-plugins is in CrashLoopBackOff")
    assert "exited with code 1 (Error): Config key 'dataIndexService.url' defined differently" in text


def test_failure_on_terminated_and_stuck_states_only():
    crashed = {"name": "backstage-backend", "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}
    assert "exited with code 137 (OOMKilled)" in ro.failure([pod("p", {}, main=[crashed])])
    pulling = {"name": "c", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "not found"}}}
    assert "ImagePullBackOff: not found" in ro.failure([pod("p", {}, main=[pulling])])
    starting = {"name": "c", "state": {"waiting": {"reason": "PodInitializing"}}}
    done = {"name": "i", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
    assert ro.failure([pod("p", {}, init=[done], main=[starting])]) is None
