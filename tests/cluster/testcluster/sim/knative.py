"""What the Knative data planes and OpenShift Serverless add around the real operator.

KnativeServing and KnativeEventing are reconciled by the real Knative
Operator (sim/knative_operator.py). This simulates what would run inside the
Deployments it creates, which are only KWOK pods here:

- Brokers. The multi-tenant channel broker controller (class
  `MTChannelBasedBroker`, the default) makes a Broker Ready with an address
  once a Ready KnativeEventing exists. A Broker of class `Kafka` is reconciled
  only by the Kafka broker control plane (orchestrator-facts.md section 0): on
  the kubernetes flavour the eventing-kafka-broker Deployments `kafka-controller`
  and `kafka-broker-receiver` Available in knative-eventing; on the openshift
  flavour a Ready `KnativeKafka` with `spec.broker.enabled`. Without it nobody
  writes the Broker's status, as on a real cluster.
- KnativeKafka (operator.serverless.openshift.io/v1alpha1, openshift flavour),
  while the Serverless operator's Deployment `knative-openshift` is Available:
  Ready when the broker is enabled with bootstrap servers, else InstallFailed
  naming what is missing.

The openshift flavour also carries, as a ValidatingAdmissionPolicy
(openshift.py), OpenShift Serverless's rule that KnativeServing and
KnativeEventing live only in knative-serving / knative-eventing.

Fault switch (base.py): "never-ready" keeps a KnativeKafka not Ready.
"""
from .base import Controller, condition, now

KAFKA_GROUP = "operator.serverless.openshift.io"
EVENTING_NS = "knative-eventing"
KAFKA_DEPLOYMENTS = ("kafka-controller", "kafka-broker-receiver")


class Knative(Controller):
    name = "knative"

    def reconcile(self):
        brokers = self.list_custom("eventing.knative.dev", "v1", "brokers")
        kafkas = self.list_custom(KAFKA_GROUP, "v1alpha1", "knativekafkas")
        kafka_ready = any(self._knative_kafka(k) for k in kafkas)
        if not brokers:
            return
        eventings = self.list_custom("operator.knative.dev", "v1beta1", "knativeeventings")
        eventing_ready = any(self._ready(e) for e in eventings)
        kafka_ready = kafka_ready or self._kafka_deployments_available()
        for broker in brokers:
            self._broker(broker, eventing_ready, kafka_ready)

    @staticmethod
    def _ready(obj):
        return any(c["type"] == "Ready" and c["status"] == "True"
                   for c in (obj.get("status") or {}).get("conditions", []))

    def _kafka_deployments_available(self):
        for name in KAFKA_DEPLOYMENTS:
            dep = self.apps.list_namespaced_deployment(EVENTING_NS, field_selector=f"metadata.name={name}").items
            if not dep or not (dep[0].status.available_replicas or 0):
                return False
        return True

    def _knative_kafka(self, obj):
        meta, spec = obj["metadata"], obj.get("spec") or {}
        if meta.get("deletionTimestamp") or not self.operator_available({"knative-openshift"}):
            return False
        broker = spec.get("broker") or {}
        servers = (broker.get("defaultConfig") or {}).get("bootstrapServers", "")
        if not broker.get("enabled"):
            want = ("False", "InstallFailed", "spec.broker.enabled is false: no Kafka broker control plane")
        elif not servers:
            want = ("False", "InstallFailed", "spec.broker.defaultConfig.bootstrapServers is required")
        else:
            want = self.wanted(obj, never=("False", "InstallFailed", "simulated fault never-ready"),
                               slow=("Unknown", "DeploymentsNotReady", "waiting on deployments"))
        if not self.has_condition(obj, "Ready", want):
            self.log("knativekafka %s/%s: Ready %s", meta["namespace"], meta["name"], want[0])
            self.patch_status(KAFKA_GROUP, "v1alpha1", "knativekafkas", obj, {
                "observedGeneration": meta.get("generation", 1),
                "conditions": [condition("InstallSucceeded", want[0], want[1], want[2]),
                               condition("Ready", *want)]})
        return want[0] == "True" and bool(broker.get("enabled"))

    def _broker(self, broker, eventing_ready, kafka_ready):
        meta = broker["metadata"]
        cls = (meta.get("annotations") or {}).get("eventing.knative.dev/broker.class", "MTChannelBasedBroker")
        if meta.get("deletionTimestamp"):
            return
        if cls == "Kafka":
            if not kafka_ready:
                return  # no controller for this class: status stays empty
            ready, host = True, "kafka-broker-ingress"
        else:
            ready, host = eventing_ready, "broker-ingress"
        if self._ready(broker) == ready and (broker.get("status") or {}).get("observedGeneration") == \
                meta.get("generation", 1):
            return
        status = {"observedGeneration": meta.get("generation", 1),
                  "conditions": [condition("Ready", "True" if ready else "False",
                                           "" if ready else "EventingNotReady",
                                           "" if ready else "no Ready KnativeEventing")]}
        if ready:
            status["address"] = {"url": f"http://{host}.{EVENTING_NS}.svc.cluster.local/"
                                        f"{meta['namespace']}/{meta['name']}"}
        self.log("broker %s/%s (%s): Ready %s (%s)", meta["namespace"], meta["name"], cls, ready, now())
        self.patch_status("eventing.knative.dev", "v1", "brokers", broker, status)
