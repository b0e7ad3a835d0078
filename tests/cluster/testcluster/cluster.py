"""up / down / status of one named local cluster.

State lives in <state root>/<name>/ (default <repo>/.cluster/<name>): pki/,
etcd/, logs/, kubeconfig and state.json, which records every process we
started with its identity so `down` stops exactly those.
"""
import base64
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request

import yaml

from . import crds, knative, manifests, openshift, pki, procs
from .sim import volumes

HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER_DIR = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(CLUSTER_DIR))
FLAVOURS = ("kubernetes", "openshift")
NODE_COUNT = 2


def log(msg):
    print(f"[cluster {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def state_root():
    return os.environ.get("ORCHESTRATOR_TEST_STATE", os.path.join(REPO, ".cluster"))


class Cluster:
    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(state_root(), name)
        self.state_file = os.path.join(self.dir, "state.json")
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        self.logs = os.path.join(self.dir, "logs")
        self.state = None
        if os.path.exists(self.state_file):
            with open(self.state_file, encoding="utf-8") as fh:
                self.state = json.load(fh)

    # ---- helpers -------------------------------------------------------
    def _save(self):
        tmp = self.state_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.state, fh, indent=2)
        os.replace(tmp, self.state_file)

    def kubectl(self, *args, stdin=None, check=True):
        argv = [os.path.join(self.state["bin"], "kubectl"), "--kubeconfig", self.kubeconfig, *args]
        res = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
        if check and res.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {res.stderr.strip()}")
        return res

    def apply(self, docs, server_side=True):
        body = yaml.dump_all(docs, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper))
        args = ["apply", "-f", "-"]
        if server_side:
            # Large upstream CRDs exceed the client-side last-applied annotation limit.
            args += ["--server-side", "--force-conflicts", "--field-manager=testcluster"]
        return self.kubectl(*args, stdin=body)

    def _ssl_context(self):
        pk = self.state["pki"]
        ctx = ssl.create_default_context(cafile=pk["ca.crt"])
        ctx.load_cert_chain(pk["admin.crt"], pk["admin.key"])
        return ctx

    def _get(self, url, ctx=None, timeout=2.0):
        try:
            with urllib.request.urlopen(url, timeout=timeout, context=ctx) as resp:  # noqa: S310 - loopback only
                return resp.status, resp.read().decode()
        except Exception as exc:  # pylint: disable=broad-except
            return None, str(exc)

    def _wait_http(self, what, url, rec, ctx=None, timeout=90, ok=lambda s, b: s == 200):
        deadline = time.monotonic() + timeout
        body = ""
        while time.monotonic() < deadline:
            if not procs.is_ours(rec):
                raise RuntimeError(f"{what} exited during start-up; see {self.logs}/{rec['name']}.log:\n"
                                   + _tail(os.path.join(self.logs, f"{rec['name']}.log")))
            status, body = self._get(url, ctx)
            if ok(status, body):
                return
            time.sleep(0.25)
        raise RuntimeError(f"{what} not healthy after {timeout}s at {url}: {body}")

    def apiserver_url(self):
        return f"https://127.0.0.1:{self.state['ports']['apiserver']}"

    def healthy(self):
        """Every recorded process alive and the apiserver ready."""
        if not self.state or not self.state.get("complete"):
            return False
        if not all(procs.is_ours(r) for r in self.state["processes"]):
            return False
        status = self._get(self.apiserver_url() + "/readyz", self._ssl_context())[0]
        return status == 200

    # ---- up --------------------------------------------------------------
    def up(self, flavour, bin_dir):
        if self.state and self.healthy():
            if self.state["flavour"] != flavour:
                raise SystemExit(f"cluster {self.name!r} is up with flavour {self.state['flavour']}, "
                                 f"not {flavour}; run `down` first")
            log(f"{self.name}: already up ({self.apiserver_url()}), nothing to do")
            return False
        if self.state:
            log(f"{self.name}: found state of a cluster that is not healthy (a killed run?); cleaning it")
        # Whatever is left (a broken run, or the logs of the last one) goes.
        self.down(quiet=True, keep_logs=False)
        started = time.monotonic()
        os.makedirs(self.logs, exist_ok=True)
        ports = dict(zip(("etcd", "etcd_peer", "apiserver", "controller_manager", "scheduler", "kwok",
                          "manifests"), procs.free_ports(7)))
        self.state = {"name": self.name, "flavour": flavour, "bin": bin_dir, "ports": ports,
                      "processes": [], "complete": False, "crds": crds.source(),
                      "pki": pki.create(os.path.join(self.dir, "pki"))}
        self._save()
        try:
            self._start_control_plane()
            self._start_kwok_and_nodes()
            self._serve_manifests()
            if flavour == "openshift":
                log(f"{self.name}: loading the OpenShift API surface ({self.state['crds']} CRDs)")
                self.install_crds(crds.load(crds.OPENSHIFT))
                self.apply(openshift.objects())
                openshift.set_status(self)
            self.state["complete"] = True
            self._save()
        except BaseException:
            log(f"{self.name}: start-up failed; stopping what was started (logs kept in {self.logs})")
            self.down(quiet=True, keep_logs=True)
            raise
        log(f"{self.name}: up in {time.monotonic() - started:.1f}s, {flavour} flavour, "
            f"apiserver {self.apiserver_url()}")
        return True

    def _launch(self, name, argv, env=None):
        rec = procs.launch(name, argv, self.logs, env=env)
        self.state["processes"].append(rec)
        self._save()
        return rec

    def _start_control_plane(self):
        b, p, pk, d = self.state["bin"], self.state["ports"], self.state["pki"], self.dir
        etcd_url = f"http://127.0.0.1:{p['etcd']}"
        peer_url = f"http://127.0.0.1:{p['etcd_peer']}"
        rec = self._launch("etcd", [
            os.path.join(b, "etcd"), "--name=e0", f"--data-dir={d}/etcd",
            f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=e0={peer_url}", "--initial-cluster-state=new",
            "--unsafe-no-fsync", "--log-level=warn", "--quota-backend-bytes=4294967296"])
        self._wait_http("etcd", etcd_url + "/health", rec,
                        ok=lambda s, b: s == 200 and '"health":"true"' in b)
        log(f"{self.name}: etcd healthy on 127.0.0.1:{p['etcd']}")
        rec = self._launch("kube-apiserver", [
            os.path.join(b, "kube-apiserver"),
            f"--etcd-servers={etcd_url}", "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={p['apiserver']}",
            f"--tls-cert-file={pk['apiserver.crt']}", f"--tls-private-key-file={pk['apiserver.key']}",
            f"--client-ca-file={pk['ca.crt']}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pk['sa.pub']}",
            f"--service-account-signing-key-file={pk['sa.key']}",
            "--service-cluster-ip-range=10.96.0.0/16", "--authorization-mode=Node,RBAC",
            "--allow-privileged=true", "--endpoint-reconciler-type=none", "--profiling=false",
            # The Knative manifests register admission webhooks served by pods
            # that never run (KWOK); with these two plugins off the apiserver
            # stores webhook configurations but never calls them.
            "--disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook",
            f"--cert-dir={d}/pki/apiserver-generated"])
        self._wait_http("kube-apiserver", self.apiserver_url() + "/readyz", rec, self._ssl_context())
        self._write_kubeconfig()
        log(f"{self.name}: kube-apiserver ready on 127.0.0.1:{p['apiserver']}")
        common = [f"--kubeconfig={self.kubeconfig}", f"--authentication-kubeconfig={self.kubeconfig}",
                  f"--authorization-kubeconfig={self.kubeconfig}", "--bind-address=127.0.0.1",
                  "--leader-elect=false", "--profiling=false"]
        self._launch("kube-controller-manager", [
            os.path.join(b, "kube-controller-manager"), *common,
            f"--secure-port={p['controller_manager']}", f"--cert-dir={d}/pki/kcm-generated",
            f"--root-ca-file={pk['ca.crt']}", f"--service-account-private-key-file={pk['sa.key']}",
            f"--cluster-signing-cert-file={pk['ca.crt']}", f"--cluster-signing-key-file={pk['ca.key']}",
            "--use-service-account-credentials=true", "--concurrent-gc-syncs=5"])
        # A pod whose generic ephemeral volume's claim binds (Immediate class)
        # while it is parked as unschedulable is not always requeued by the
        # PVC event; retry parked pods after 5s instead of the default 5 minutes.
        self._launch("kube-scheduler", [
            os.path.join(b, "kube-scheduler"), *common,
            f"--secure-port={p['scheduler']}", f"--cert-dir={d}/pki/scheduler-generated",
            "--pod-max-in-unschedulable-pods-duration=5s"])

    def _write_kubeconfig(self):
        pk = self.state["pki"]

        def b64(path):
            with open(path, "rb") as fh:
                return base64.b64encode(fh.read()).decode()

        cfg = {
            "apiVersion": "v1", "kind": "Config", "current-context": self.name,
            "clusters": [{"name": self.name, "cluster": {
                "server": self.apiserver_url(), "certificate-authority-data": b64(pk["ca.crt"])}}],
            "users": [{"name": "admin", "user": {
                "client-certificate-data": b64(pk["admin.crt"]), "client-key-data": b64(pk["admin.key"])}}],
            "contexts": [{"name": self.name, "context": {"cluster": self.name, "user": "admin"}}],
        }
        fd = os.open(self.kubeconfig, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(cfg, fh)

    def _start_kwok_and_nodes(self):
        b, p = self.state["bin"], self.state["ports"]
        # --server-address keeps kwok's kubelet-like server on loopback; left
        # empty with a node port set, kwok would listen on every interface.
        self._launch("kwok", [
            os.path.join(b, "kwok"), f"--kubeconfig={self.kubeconfig}",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            f"--server-address=127.0.0.1:{p['kwok']}", "--node-ip=127.0.0.1",
            "--node-lease-duration-seconds=40"])
        self.apply([_node(i) for i in range(NODE_COUNT)] + [volumes.storage_class()], server_side=False)
        self.kubectl("wait", "--for=condition=Ready", "node", "--all", "--timeout=60s")
        # The controller-manager creates the default ServiceAccount of each
        # namespace; Pods cannot be admitted before it exists.
        deadline = time.monotonic() + 60
        while self.kubectl("get", "serviceaccount", "default", "-n", "default", check=False).returncode:
            if time.monotonic() > deadline:
                raise RuntimeError("kube-controller-manager never created ServiceAccount default/default")
            time.sleep(0.25)
        argv = [sys.executable, "-m", "testcluster.sim", f"--kubeconfig={self.kubeconfig}",
                f"--crds={self.state['crds']}", f"--flavour={self.state['flavour']}", f"--logs={self.logs}"]
        if knative.home(b):
            argv.append(f"--knative-operator={knative.home(b)}")
        self._launch("simulators", argv,
                     env=dict(os.environ, PYTHONPATH=CLUSTER_DIR, PYTHONUNBUFFERED="1"))
        log(f"{self.name}: {NODE_COUNT} kwok Nodes Ready; controller-manager, scheduler and simulators running")

    def _serve_manifests(self):
        port = self.state["ports"]["manifests"]
        manifests.write(self.dir, self.state["crds"], f"http://127.0.0.1:{port}", knative.home(self.state["bin"]))
        rec = self._launch("manifests", [sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                                         "--directory", os.path.join(self.dir, "manifests"), str(port)])
        self._wait_http("manifest server", f"http://127.0.0.1:{port}/knative-operator.yaml", rec)
        log(f"{self.name}: operator manifests served on 127.0.0.1:{port}")

    def install_crds(self, docs):
        self.apply(docs)
        names = [d["metadata"]["name"] for d in docs]
        # A CRD has no status.conditions for a moment after creation, and
        # kubectl wait errors out (rather than waits) on that: retry briefly.
        for _attempt in range(20):
            res = self.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                               *[f"crd/{n}" for n in names], check=False)
            if res.returncode == 0:
                return
            time.sleep(0.5)
        raise RuntimeError(f"CRDs not Established: {res.stderr.strip()}")

    # ---- down / status ----------------------------------------------------
    def down(self, quiet=False, keep_logs=True):
        did = []
        if self.state:
            for rec in reversed(self.state.get("processes", [])):
                what = procs.stop(rec)
                if what != "gone":
                    did.append(f"{rec['name']} {what}")
        if os.path.isdir(self.dir):
            for entry in os.listdir(self.dir):
                if keep_logs and entry == "logs":
                    continue
                path = os.path.join(self.dir, entry)
                if os.path.isdir(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
        self.state = None
        if not quiet:
            log(f"{self.name}: down ({', '.join(did) if did else 'nothing was running'})")
        return did

    def status(self):
        if not self.state:
            return {"name": self.name, "up": False}
        out = {"name": self.name, "up": self.healthy(), "flavour": self.state["flavour"],
               "crds": self.state.get("crds"), "apiserver": self.apiserver_url(),
               "kubeconfig": self.kubeconfig, "processes": []}
        for rec in self.state["processes"]:
            out["processes"].append({"name": rec["name"], "pid": rec["pid"], "alive": procs.is_ours(rec)})
        if out["up"]:
            res = self.kubectl("version", "-o", "json", check=False)
            if res.returncode == 0:
                out["serverVersion"] = json.loads(res.stdout)["serverVersion"]["gitVersion"]
        return out

    def pids(self):
        return [r["pid"] for r in self.state["processes"] if procs.is_ours(r)] if self.state else []


def _node(i):
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": f"kwok-node-{i}",
                     "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                     "labels": {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                                "kubernetes.io/hostname": f"kwok-node-{i}", "type": "kwok",
                                "node-role.kubernetes.io/worker": ""}},
        # No NoSchedule taint: operator Pods carry no kwok toleration.
        "spec": {},
        # A real worker's shape: the Backstage pod requests ephemeral-storage
        # (5Gi), which a node without that resource cannot schedule.
        "status": {"allocatable": {"cpu": "15500m", "memory": "62Gi", "ephemeral-storage": "180Gi",
                                   "pods": "110"},
                   "capacity": {"cpu": "16", "memory": "64Gi", "ephemeral-storage": "200Gi", "pods": "110"},
                   "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux",
                                "kubeletVersion": "fake", "kubeProxyVersion": "fake"}},
    }


def _tail(path, lines=25):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return "".join(fh.readlines()[-lines:])
    except OSError:
        return ""
