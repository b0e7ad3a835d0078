"""Runs the real Knative Operator while its Deployment is Available.

Not a simulator: this starts the upstream binary (knative.dev/operator, built
by tests/cluster/build) as a local process when Deployment `knative-operator`
(kubernetes flavour, from the release manifest) or `knative-openshift`
(openshift flavour, installed by the OLM simulator for serverless-operator)
is Available, with SYSTEM_NAMESPACE set to that Deployment's namespace, and
stops it when the Deployment goes away. So KnativeServing and KnativeEventing
are reconciled by upstream code: it applies the Knative manifests of its
kodata (Deployments, which run as KWOK pods, webhook configurations, which the
apiserver never calls: see docs/testing.md), adds its finalizers and sets the
conditions. Removing the operator before its custom resources leaves them
Terminating, as upstream warns.

The process runs in a network namespace of its own (testcluster.netns): its
profiling and probe servers bind every interface, and there that is only lo.
Its log is logs/knative-operator.log.
"""
import os
import subprocess
import sys

from .. import knative
from ..netns import die_with_parent
from .base import Controller, ignore_missing

DEPLOYMENTS = {"knative-operator", "knative-openshift"}
CLUSTER_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class KnativeOperator(Controller):
    name = "knative-operator"

    def __init__(self, api_client, options=None):
        super().__init__(api_client, options)
        self.home = self.options.get("knative_operator")
        self.proc = None
        self.namespace = None

    def reconcile(self):
        if not self.home:
            return
        want = self._operator_namespace()
        if self.proc is not None and (self.proc.poll() is not None or want != self.namespace):
            self._stop("exited with %s" % self.proc.returncode if self.proc.poll() is not None
                       else "its Deployment is gone" if want is None else "moved to " + want)
        if want and self.proc is None:
            self._start(want)

    def _operator_namespace(self):
        for dep in self.apps.list_deployment_for_all_namespaces().items:
            if dep.metadata.name in DEPLOYMENTS and (dep.status.available_replicas or 0) > 0:
                return dep.metadata.namespace
        return None

    def _start(self, namespace):
        # The manifest ships config-logging and config-observability; on the
        # openshift flavour the OLM simulator's CSV does not, so lay them here.
        for doc in knative.config_maps(self.home, namespace):
            if ignore_missing(self.core.read_namespaced_config_map, doc["metadata"]["name"], namespace) is None:
                ignore_missing(self.core.create_namespaced_config_map, namespace, doc)
        logs = self.options.get("logs") or "."
        kubeconfig = self.options["kubeconfig"]
        argv, env = knative.command(self.home, kubeconfig, namespace)
        server = self.api.configuration.host.split("://", 1)[-1]
        wrapper = [sys.executable, "-m", "testcluster.netns", f"--apiserver={server}",
                   f"--socket={os.path.join(logs, 'knative-operator.sock')}", "--", *argv]
        env["PYTHONPATH"] = CLUSTER_DIR
        with open(os.path.join(logs, "knative-operator.log"), "ab") as log:
            self.proc = subprocess.Popen(wrapper, stdin=subprocess.DEVNULL, stdout=log,  # pylint: disable=consider-using-with
                                         stderr=subprocess.STDOUT, env=env, close_fds=True,
                                         preexec_fn=die_with_parent)
        self.namespace = namespace
        self.log("started the Knative Operator (pid %s, SYSTEM_NAMESPACE=%s)", self.proc.pid, namespace)

    def _stop(self, why):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log("stopped the Knative Operator: %s", why)
        self.proc = None
        self.namespace = None
