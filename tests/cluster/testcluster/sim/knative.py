"""The Knative operator (OpenShift Serverless on the openshift flavour, the
upstream Knative Operator on the kubernetes one).

KnativeServing and KnativeEventing (operator.knative.dev/v1beta1) get the
operator's finalizer and, while the operator Deployment is Available, the
conditions Ready/InstallSucceeded/DeploymentsAvailable True. KnativeEventing
being Ready installs the eventing CRDs (Broker, Trigger), as the real operator
does. A Broker gets Ready with an address once a Ready KnativeEventing exists.
Deleting a CR removes its finalizer only while the operator runs: remove the
operator first and the CR (and its namespace) stays Terminating, which is the
upstream uninstall trap (orchestrator-facts.md section 10, item 10).

Fault switches (base.py): "never-ready" keeps Ready False; "slow=<s>".
"""
from .. import crds
from .base import Controller, condition, now

GROUP = "operator.knative.dev"
OPERATORS = {"knative-openshift", "knative-operator"}
KINDS = {"knativeservings": "KnativeServing", "knativeeventings": "KnativeEventing"}
VERSION = "1.16.0"
EVENTING_CRDS = ["brokers.eventing.knative.dev", "triggers.eventing.knative.dev"]


class Knative(Controller):
    name = "knative"

    def reconcile(self):
        items = {plural: self.list_custom(GROUP, "v1beta1", plural) for plural in KINDS}
        if not any(items.values()):
            self._brokers(eventing_ready=False)
            return
        running = self.operator_available(OPERATORS)
        eventing_ready = False
        for plural, objs in items.items():
            for obj in objs:
                ready = self._cr(plural, obj, running)
                eventing_ready = eventing_ready or (plural == "knativeeventings" and ready)
        self._brokers(eventing_ready)

    def _cr(self, plural, obj, running):
        meta = obj["metadata"]
        finalizer = f"{plural}.{GROUP}"
        finalizers = meta.get("finalizers") or []
        if meta.get("deletionTimestamp"):
            if running and finalizer in finalizers:
                self.log("%s %s/%s: finalizer done", KINDS[plural], meta["namespace"], meta["name"])
                self.set_finalizers(GROUP, "v1beta1", plural, obj, [f for f in finalizers if f != finalizer])
            return False
        if not running:
            return False
        if finalizer not in finalizers:
            self.set_finalizers(GROUP, "v1beta1", plural, obj, finalizers + [finalizer])
            return False
        generation = meta.get("generation", 1)
        want = self.wanted(
            obj, never=("False", "InstallFailed", "the operator never finished installing (simulated fault never-ready)"),
            slow=("Unknown", "DeploymentsNotReady", "waiting on deployments (simulated fault slow)"))
        if self.has_condition(obj, "Ready", want):
            return want[0] == "True"
        if want[0] == "True" and plural == "knativeeventings":
            for doc in crds.load(EVENTING_CRDS, self.options.get("crds")):
                self.apply(doc, "knative-operator")
        self.log("%s %s/%s: Ready %s", KINDS[plural], meta["namespace"], meta["name"], want[0])
        sub = "True" if want[0] == "True" else "Unknown"
        self.patch_status(GROUP, "v1beta1", plural, obj, {
            "observedGeneration": generation, "version": obj["spec"].get("version") or VERSION,
            "conditions": [condition("DependenciesInstalled", "True"),
                           condition("DeploymentsAvailable", sub),
                           condition("InstallSucceeded", sub),
                           condition("Ready", *want),
                           condition("VersionMigrationEligible", "True")]})
        return want[0] == "True"

    def _brokers(self, eventing_ready):
        for broker in self.list_custom("eventing.knative.dev", "v1", "brokers"):
            meta = broker["metadata"]
            ready = any(c["type"] == "Ready" and c["status"] == "True"
                        for c in (broker.get("status") or {}).get("conditions", []))
            if meta.get("deletionTimestamp") or ready == eventing_ready:
                continue
            cls = (meta.get("annotations") or {}).get("eventing.knative.dev/broker.class", "MTChannelBasedBroker")
            host = ("kafka-broker-ingress" if cls == "Kafka" else "broker-ingress") + \
                ".knative-eventing.svc.cluster.local"
            url = f"http://{host}/{meta['namespace']}/{meta['name']}"
            status = {"observedGeneration": meta.get("generation", 1),
                      "conditions": [condition("Ready", "True" if eventing_ready else "False",
                                               "" if eventing_ready else "EventingNotReady",
                                               "" if eventing_ready else "no Ready KnativeEventing")]}
            if eventing_ready:
                status["address"] = {"url": url}
            self.log("broker %s/%s: Ready %s (%s)", meta["namespace"], meta["name"], eventing_ready, now())
            self.patch_status("eventing.knative.dev", "v1", "brokers", broker, status)
