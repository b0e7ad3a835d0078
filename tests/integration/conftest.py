"""Fixtures that hand tests a real local cluster of either flavour.

`cluster up` is a no-op when the cluster already runs (make test starts both
flavours first), so these fixtures only start what is missing; whatever a
fixture started, it stops at the end of the session.
"""
import json
import os
import subprocess
import sys
import uuid

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TESTS, "cluster"))

from testcluster import helm  # noqa: E402  pylint: disable=wrong-import-position
from testcluster.cluster import Cluster  # noqa: E402  pylint: disable=wrong-import-position

CLI = os.path.join(TESTS, "cluster", "cluster")


class Kube:
    """A running cluster plus a kubectl bound to it."""

    def __init__(self, flavour):
        self.flavour = flavour
        self.handle = Cluster(flavour)
        self.kubeconfig = self.handle.kubeconfig

    def kubectl(self, *args, stdin=None, check=True):
        return self.handle.kubectl(*args, stdin=stdin, check=check)

    def json(self, *args):
        return json.loads(self.kubectl(*args, "-o", "json").stdout)


def _bring_up(flavour):
    started = subprocess.run([CLI, "status", "--flavour", flavour], capture_output=True, check=False).returncode != 0
    if started:
        subprocess.run([CLI, "up", "--flavour", flavour], check=True, stdout=subprocess.DEVNULL)
    return started


@pytest.fixture(scope="session")
def kube():
    started = _bring_up("kubernetes")
    yield Kube("kubernetes")
    if started:
        subprocess.run([CLI, "down", "--flavour", "kubernetes"], check=False)


@pytest.fixture(scope="session")
def openshift():
    started = _bring_up("openshift")
    yield Kube("openshift")
    if started:
        subprocess.run([CLI, "down", "--flavour", "openshift"], check=False)


def _scratch_namespace(cluster, prefix):
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)
    return name


@pytest.fixture
def namespace(kube):
    """A fresh namespace on the plain cluster, deleted afterwards."""
    name = _scratch_namespace(kube, "t")
    yield name
    kube.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def namespace_os(openshift):
    """A fresh namespace on the OpenShift-flavour cluster, deleted afterwards."""
    name = _scratch_namespace(openshift, "t")
    yield name
    openshift.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="session")
def helm_bin():
    """Absolute path of the helm binary tests/cluster/build makes (HELM_VERSION)."""
    return helm.binary()


@pytest.fixture(scope="session")
def chart_repo(helm_bin):
    """The upstream greeting chart packaged and served on 127.0.0.1: .url,
    .chart ("greeting"), .version (its Chart.yaml's), .env (helm homes in a temp dir)."""
    chart = helm.greeting_chart()
    if chart is None:
        pytest.skip("the greeting chart (../shared/upstream/workflows/greeting) is not beside this checkout")
    repo = helm.ChartRepo(chart, helm_bin)
    yield repo
    repo.close()
