"""`up`, `down` and recovery of a cluster of its own (name `lifecycle`)."""
import json
import os
import signal
import subprocess
import time

import pytest
from conftest import CLI  # pylint: disable=import-error

from testcluster import procs
from testcluster.cluster import Cluster

NAME = "lifecycle"


def cli(*args, check=True):
    return subprocess.run([CLI, *args, "--name", NAME], capture_output=True, text=True, check=check)


def ours_alive(recs):
    return [r["name"] for r in recs if procs.is_ours(r)]


def processes_mentioning(path):
    """PIDs of any process whose command line mentions path."""
    hits = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if path.encode() in fh.read():
                    hits.append(int(pid))
        except OSError:
            continue
    return hits


@pytest.fixture(scope="module")
def lifecycle():
    cli("up")
    yield Cluster(NAME)
    cli("down", check=False)


def test_up_twice_is_a_no_op(lifecycle):
    before = [(r["name"], r["pid"]) for r in lifecycle.state["processes"]]
    res = cli("up")
    assert "already up" in res.stderr
    after = [(r["name"], r["pid"]) for r in Cluster(NAME).state["processes"]]
    assert after == before


def test_status_and_env(lifecycle):
    st = json.loads(cli("status").stdout)
    assert st["up"] is True
    assert {p["name"] for p in st["processes"]} == {
        "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "simulators", "manifests"}
    env = cli("env").stdout
    assert f"export KUBECONFIG={lifecycle.kubeconfig}" in env
    assert f"export K8S_AUTH_KUBECONFIG={lifecycle.kubeconfig}" in env


def test_killed_run_is_detected_and_cleaned(lifecycle):
    old = Cluster(NAME).state["processes"]
    apiserver = next(r for r in old if r["name"] == "kube-apiserver")
    os.kill(apiserver["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while procs.is_ours(apiserver) and time.monotonic() < deadline:
        time.sleep(0.1)
    status = cli("status", check=False)
    assert status.returncode == 1 and json.loads(status.stdout)["up"] is False
    res = cli("up")
    assert "not healthy" in res.stderr
    # Every process of the broken cluster is gone; a fresh set runs.
    assert ours_alive(old) == []
    new = Cluster(NAME)
    assert new.healthy()
    assert not {r["pid"] for r in new.state["processes"]} & {r["pid"] for r in old}


def test_down_leaves_no_process(lifecycle):
    recs = Cluster(NAME).state["processes"]
    assert len(ours_alive(recs)) == 7
    res = cli("down")
    assert "down (" in res.stderr
    assert ours_alive(recs) == []
    assert processes_mentioning(lifecycle.dir) == []
    assert json.loads(cli("status", check=False).stdout)["up"] is False
    # down again has nothing left to stop
    assert "nothing was running" in cli("down").stderr
