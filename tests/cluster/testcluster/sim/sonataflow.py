"""The SonataFlow (Serverless Logic) operator: platforms and workflows.

Runs while an operator Deployment (OPERATORS) is Available anywhere; with none,
nothing here changes (as with the operator scaled down).

SonataFlowPlatform: the Data Index and Jobs Service Deployments and Services
(`<platform>-data-index-service`, `<platform>-jobs-service`) for the services
spec.services gives (a given block is enabled unless `enabled: false`, the
operator's default), owned by the platform, with the PostgreSQL settings the
real operator derives from spec.services.*.persistence or spec.persistence
(JDBC URL with the schema, user and password from the Secret), the container
resources and image from podTemplate; then condition Succeed True. A
SonataFlowClusterPlatform gets Succeed True when the platform it references
exists.

SonataFlow (facts: sonataflow_model.py, upstream kogito-serverless-operator
c429953), per workflow:
- Profile: sonataflow.org/profile, default preview; preview with
  spec.podTemplate.container.image is gitops. A namespace with no primary
  platform gets the one the operator creates there (`sonataflow-platform`,
  build config only); status.platform names the platform in use.
- status.services: Data Index / Jobs Service URLs
  (http://<platform>-data-index-service.<ns>, ...-jobs-service) from the local
  platform, or, when it sets no spec.services, from the platform a Succeed
  SonataFlowClusterPlatform shares (capabilities.workflows "services", the default).
- ConfigMaps: `<workflow>-props` created empty (application.properties) when
  missing, otherwise left as it is apart from the operator's controller
  ownerReference; `<workflow>-managed-props` (application-prod.properties) with
  the operator's managed properties: events grouping, kogito.service.url,
  kogito.data-index.url and the process definitions/instances event URLs
  (<url>/definitions, <url>/processes) when Data Index is enabled,
  kogito.jobs-service.url and the job request events URL (<url>/v2/jobs/events)
  when Jobs Service is; ${K_SINK} instead when the workflow or platform has a
  sink or broker; the immutable quarkus.http.* lines.
- gitops: condition Built False/BuildSkipped; Deployment and Service named
  after the workflow, owned by it, labels sonataflow.org/workflow-app,
  app.kubernetes.io/{name,component,managed-by,part-of}, app,
  sonataflow.org/workflow-namespace (plus the workflow's own labels); container
  `workflow` (port 8080 h2c, probes /q/health/*) overridden by
  spec.podTemplate.container; the PostgreSQL env QUARKUS_DATASOURCE_USERNAME /
  _PASSWORD (secretKeyRef, keys default POSTGRESQL_USER / POSTGRESQL_PASSWORD),
  QUARKUS_DATASOURCE_DB_KIND, QUARKUS_DATASOURCE_JDBC_URL
  (jdbc:postgresql://<svc>.<ns default the workflow's>:<port 5432>/<db
  sonataflow>?currentSchema=<schema default the workflow name>),
  KOGITO_PERSISTENCE_TYPE=jdbc, from spec.persistence or else the platform's
  spec.persistence; both property ConfigMaps projected at /deployments/config;
  pod template annotation sonataflow.org/checksum-config (a property change
  rolls the pods).
  Running: True once the Deployment is Available; False/WaitingForDeployment
  before; False/DeploymentIsUnavailable "ContainerNotReady: (<reason>)
  <message>" when the Deployment lacks minimum availability and a pod's
  workflow container waits on an error; False/DeploymentFailure on a
  ReplicaFailure. gitops without an image: no Deployment, Running
  False/DeploymentIsUnavailable with the API's invalid-Deployment error.
- preview without an image: Built False/BuildIsRunning and Running
  False/WaitingForBuild for good (no builder here; no SonataFlowBuild).
- Missing Secret or key: KWOK starts pods whatever their env references, so
  this simulator plays the kubelet: a pod whose workflow container refers to a
  Secret/ConfigMap (or key) that does not exist is set to Pending with the
  container waiting CreateContainerConfigError (`secret "<name>" not found`,
  `couldn't find key <key> in Secret <ns>/<name>`), which makes the
  Deployment unavailable through the real Deployment controller; once the
  reference resolves, the pod runs again. Running is never True while such a
  pod exists.
- status.observedGeneration; conditions carry lastUpdateTime, as upstream.
  Not set: status.address/endpoint (upstream sets them in the dev profile
  only), flowCRC, triggers.
Deleting a SonataFlow: kube-controller-manager's garbage collector removes the
objects it owns (ownerReferences); an operator-created platform stays.

Not simulated: builds (SonataFlowBuild), the dev profile and the knative
deployment model (such workflows are left untouched), eventing objects
(SinkBinding, Triggers), service discovery properties, ServiceMonitors,
monitoring, NetworkPolicies.

Fault switches (base.py; key "sonataflow.<ns>.<name>" for workflows):
platforms: "never-ready" keeps Succeed False; "slow=<s>". Workflows:
"never-ready" keeps Running False/DeploymentFailure; "deployment-unavailable"
makes the workflow pods wait ImagePullBackOff (Running
False/DeploymentIsUnavailable "ContainerNotReady: (ImagePullBackOff) ...");
"slow=<s>" holds Running False/WaitingForDeployment for s seconds.
"""
from kubernetes.client.rest import ApiException

from . import sonataflow_model as model
from .base import Controller, condition, ignore_missing, now

GROUP, VERSION = model.GROUP, model.VERSION
OPERATORS = {"logic-operator-rhel8-controller-manager", "logic-operator-controller-manager",
             "sonataflow-operator-controller-manager"}
SERVICES = {"dataIndex": ("data-index-service", "data-index-service"),
            "jobService": ("jobs-service", "jobs-service")}
IMAGES = {"dataIndex": "registry.redhat.io/openshift-serverless-1/logic-data-index-postgresql-rhel8:1.36.0",
          "jobService": "registry.redhat.io/openshift-serverless-1/logic-jobs-service-postgresql-rhel8:1.36.0"}
MANAGER = "sonataflow-operator"
# Waiting reasons this simulator puts on pods (and takes off again).
SIMULATED_WAITING = ("CreateContainerConfigError", "ImagePullBackOff")


def _has(obj, ctype, status):
    return any(c.get("type") == ctype and c.get("status") == status
               for c in (obj.get("status") or {}).get("conditions", []))


class SonataFlow(Controller):
    name = "sonataflow"

    def __init__(self, api_client, options=None):
        super().__init__(api_client, options)
        self._started = {}   # (namespace, workflow) -> uids of pods whose workflow container started

    def reconcile(self):
        platforms = self.list_custom(GROUP, VERSION, "sonataflowplatforms")
        clusters = self.list_custom(GROUP, VERSION, "sonataflowclusterplatforms")
        flows = self.list_custom(GROUP, VERSION, "sonataflows")
        if not platforms and not clusters and not flows:
            return
        if not self.operator_available(OPERATORS):
            return
        for platform in platforms:
            if not platform["metadata"].get("deletionTimestamp"):
                self._platform(platform)
        names = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in platforms}
        for cp in clusters:
            ref = cp["spec"].get("platformRef") or {}
            found = (ref.get("namespace"), ref.get("name")) in names
            if _has(cp, "Succeed", "True" if found else "False"):
                continue
            self.log("clusterplatform %s: Succeed %s", cp["metadata"]["name"], found)
            self.patch_status(GROUP, VERSION, "sonataflowclusterplatforms", cp, {
                "observedGeneration": cp["metadata"].get("generation", 1),
                "conditions": [condition("Succeed", "True" if found else "False",
                                         "" if found else "PlatformNotFound",
                                         "" if found else f"SonataFlowPlatform {ref.get('namespace')}/"
                                                          f"{ref.get('name')} not found")]})
        shared = model.cluster_platform_target(clusters, platforms)
        for flow in flows:
            if flow["metadata"].get("deletionTimestamp"):
                continue
            try:
                self._workflow(flow, platforms, shared)
            except ApiException as exc:  # e.g. its namespace is terminating: the next pass retries
                self.log("workflow %s/%s: %s %s", flow["metadata"]["namespace"], flow["metadata"]["name"],
                         exc.status, exc.reason)

    def _platform(self, platform):
        meta, spec = platform["metadata"], platform.get("spec") or {}
        services = spec.get("services") or {}
        for key, (suffix, schema) in SERVICES.items():
            svc = services.get(key) or {}
            if model.service_enabled(platform, key):
                self._service(platform, key, suffix, schema, svc)
            else:
                ignore_missing(self.apps.delete_namespaced_deployment, f"{meta['name']}-{suffix}", meta["namespace"])
                ignore_missing(self.core.delete_namespaced_service, f"{meta['name']}-{suffix}", meta["namespace"])
        want = self.wanted(
            platform, never=("False", "Simulated", "the platform never becomes ready (simulated fault never-ready)"),
            slow=("False", "Waiting", "waiting for the platform services (simulated fault slow)"))
        if self.has_condition(platform, "Succeed", want):
            return
        self.log("platform %s/%s: Succeed %s", meta["namespace"], meta["name"], want[0])
        self.patch_status(GROUP, VERSION, "sonataflowplatforms", platform, {
            "observedGeneration": meta.get("generation", 1), "version": "1.36.0",
            "cluster": self.options.get("flavour", "kubernetes"),
            "conditions": [condition("Succeed", *want)]})

    def _service(self, platform, key, suffix, schema, svc):
        meta = platform["metadata"]
        name = f"{meta['name']}-{suffix}"
        labels = {"app": name, "sonataflow.org/service": name}
        container = ((svc.get("podTemplate") or {}).get("container") or {})
        env = []
        pg = (svc.get("persistence") or {}).get("postgresql") or \
            ((platform["spec"].get("persistence") or {}).get("postgresql") or {})
        if pg.get("jdbcUrl"):
            env.append({"name": "QUARKUS_DATASOURCE_JDBC_URL", "value": pg["jdbcUrl"]})
        elif pg.get("serviceRef"):
            ref = pg["serviceRef"]
            env.append({"name": "QUARKUS_DATASOURCE_JDBC_URL", "value":
                        f"jdbc:postgresql://{ref['name']}.{ref.get('namespace') or meta['namespace']}:"
                        f"{ref.get('port', 5432)}/{ref.get('databaseName') or 'sonataflow'}"
                        f"?currentSchema={ref.get('databaseSchema') or schema}"})
        if pg.get("secretRef"):
            ref = pg["secretRef"]
            for var, k, default in (("QUARKUS_DATASOURCE_USERNAME", "userKey", "POSTGRESQL_USER"),
                                    ("QUARKUS_DATASOURCE_PASSWORD", "passwordKey", "POSTGRESQL_PASSWORD")):
                key_ref = {"name": ref["name"], "key": ref.get(k) or default}
                env.append({"name": var, "valueFrom": {"secretKeyRef": key_ref}})
        owner = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "SonataFlowPlatform", "name": meta["name"],
                 "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}
        self.apply({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": meta["namespace"], "labels": labels,
                         "ownerReferences": [owner]},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                         "name": suffix, "image": container.get("image") or IMAGES[key],
                         "env": env, "resources": container.get("resources") or {},
                         "ports": [{"containerPort": 8080, "name": "http"}]}]}}}}, "sonataflow-operator")
        self.apply({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": meta["namespace"], "labels": labels,
                         "ownerReferences": [owner]},
            "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
            "sonataflow-operator")

    # ---- workflows ----------------------------------------------------------------
    def _workflow(self, flow, platforms, shared):
        meta = flow["metadata"]
        prof = model.profile(flow)
        if prof == "dev" or model.knative_model(flow):
            return
        platform = model.active_platform(platforms, meta["namespace"])
        if platform is None:
            platform = self._default_platform(meta["namespace"])
            platforms.append(platform)
        pname = platform["metadata"]["name"]
        services = model.workflow_services(platform, shared)
        has_sink = model.sink(flow, platform, shared)
        user_text, running = self._user_props(flow, pname)
        managed_text = model.managed_properties(flow, platform, services, has_sink)
        self._apply(model.managed_props(flow, managed_text))
        if prof == "preview":
            built, running = ("False", model.BUILD_IS_RUNNING, ""), running or ("False", model.WAITING_FOR_BUILD, "")
        else:
            built = ("False", model.BUILD_SKIPPED, "")
            if running is None:
                running = self._deploy(flow, platform, pname, model.checksum(user_text, managed_text))
        self._workflow_status(flow, platform, services, built, running)

    def _default_platform(self, namespace):
        body = model.default_platform(namespace, self.options.get("flavour") == "openshift")
        self.log("namespace %s has no SonataFlowPlatform: creating %s", namespace, model.DEFAULT_PLATFORM)
        created = ignore_missing(self.custom.create_namespaced_custom_object, GROUP, VERSION, namespace,
                                 "sonataflowplatforms", body)
        return created or dict(body, metadata=dict(body["metadata"], creationTimestamp=now()))

    def _user_props(self, flow, pname):
        """(application.properties text, Running override or None) of <workflow>-props,
        created when missing, given the workflow as controller owner when present."""
        meta = flow["metadata"]
        name = f"{meta['name']}-props"
        live = ignore_missing(self.core.read_namespaced_config_map, name, meta["namespace"])
        if live is None:
            self.log("workflow %s/%s: creating ConfigMap %s", meta["namespace"], meta["name"], name)
            ignore_missing(self.core.create_namespaced_config_map, meta["namespace"], model.user_props(flow, pname))
            return "", None
        refs = [self.api.sanitize_for_serialization(r) for r in live.metadata.owner_references or []]
        controller = next((r for r in refs if r.get("controller")), None)
        if controller is None:
            ignore_missing(self.core.patch_namespaced_config_map, name, meta["namespace"],
                           {"metadata": {"ownerReferences": refs + [model.owner(flow)]}})
        elif controller.get("uid") != meta["uid"]:
            return "", ("False", model.EXTERNAL_RESOURCES_NOT_FOUND, "Unable to retrieve the user properties config map")
        return (live.data or {}).get(model.USER_PROPS_KEY, ""), None

    def _apply(self, body):
        """Server-side apply as the operator; an API error is logged and retried next pass."""
        meta = body["metadata"]
        try:
            self.apply(body, MANAGER)
        except ApiException as exc:
            self.log("apply %s %s/%s failed: %s %s", body["kind"], meta["namespace"], meta["name"], exc.status, exc.reason)

    def _deploy(self, flow, platform, pname, digest):
        """Deployment, Service and the kubelet's view of the pods; Running as the
        operator would report it."""
        meta = flow["metadata"]
        ns, name = meta["namespace"], meta["name"]
        if not model.image(flow):
            return ("False", model.DEPLOYMENT_UNAVAILABLE, model.invalid_deployment_message(flow))
        live = ignore_missing(self.apps.read_namespaced_deployment, name, ns)
        annotations = {model.CHECKSUM: digest}
        if live is not None:
            have = live.spec.template.metadata.annotations or {}
            if have.get(model.CHECKSUM) and have[model.CHECKSUM] != digest:
                annotations[model.RESTARTED_AT] = now()
            elif have.get(model.RESTARTED_AT):
                annotations[model.RESTARTED_AT] = have[model.RESTARTED_AT]
        selector = self.api.sanitize_for_serialization(live.spec.selector) if live is not None else None
        self._apply(model.deployment(flow, platform, pname, annotations, selector))
        self._apply(model.service(flow, pname))
        fault = self.fault(flow)[0]
        pods, troubled = self._pods(flow, ns, fault)
        if fault == "never-ready":
            return ("False", model.DEPLOYMENT_FAILURE,
                    f"Workflow Deployment {name} is unavailable (simulated fault never-ready)")
        if not self.ready_after(flow):
            return ("False", model.WAITING_FOR_DEPLOYMENT, "")
        if live is None:
            return ("False", model.WAITING_FOR_DEPLOYMENT, "")
        running = model.deployment_running(self.api.sanitize_for_serialization(live), pods)
        if running[0] == "True" and troubled:
            # KWOK had the pod Ready before this simulator showed the error; the
            # Deployment controller has not caught up yet.
            return ("False", model.WAITING_FOR_DEPLOYMENT, "")
        return running

    def _pods(self, flow, ns, fault):
        """The workflow's pods as a kubelet would show them (see the module doc);
        returns (pods as dicts, whether any cannot start). A pod whose container
        started is left alone: a kubelet resolves env references at start only."""
        selector = ",".join(f"{k}={v}" for k, v in model.selector_labels(flow).items())
        found = {}

        def lookup(kind, name):
            if (kind, name) not in found:
                read = self.core.read_namespaced_secret if kind == "secret" else self.core.read_namespaced_config_map
                obj = ignore_missing(read, name, ns)
                found[(kind, name)] = None if obj is None else set((obj.data or {}).keys())
            return found[(kind, name)]
        key = (ns, flow["metadata"]["name"])
        started, seen = self._started.get(key, set()), set()
        pods, troubled = [], False
        for pod in self.core.list_namespaced_pod(ns, label_selector=selector).items:
            body = self.api.sanitize_for_serialization(pod)
            body.setdefault("status", {})
            pods.append(body)
            seen.add(pod.metadata.uid)
            if pod.metadata.deletion_timestamp or not pod.status.pod_ip or pod.metadata.uid in started:
                continue
            problem = None
            message = model.config_error(body["spec"], ns, lookup)
            if message:
                problem = ("CreateContainerConfigError", message)
            elif fault == "deployment-unavailable":
                problem = ("ImagePullBackOff", f"Back-off pulling image \"{model.image(flow)}\"")
            waiting = model.pod_waiting(body)
            if problem:
                troubled = True
                if waiting != problem:
                    self.log("pod %s/%s: %s %s", ns, pod.metadata.name, *problem)
                    status = model.waiting_pod_status(body, *problem)
                    ignore_missing(self.core.patch_namespaced_pod_status, pod.metadata.name, ns, {"status": status})
                    body["status"].update(status)
                continue
            if waiting and waiting[0] in SIMULATED_WAITING:
                self.log("pod %s/%s: starts", ns, pod.metadata.name)
                status = model.running_pod_status(body, now())
                ignore_missing(self.core.patch_namespaced_pod_status, pod.metadata.name, ns, {"status": status})
                body["status"].update(status)
            started.add(pod.metadata.uid)
        self._started[key] = started & seen
        return pods, troubled

    def _workflow_status(self, flow, platform, services, built, running):
        meta, status = flow["metadata"], flow.get("status") or {}
        have = {c.get("type"): c for c in status.get("conditions") or []}
        conds = []
        for ctype, (cstatus, reason, message) in sorted({model.BUILT: built, model.RUNNING: running}.items()):
            cond = {"type": ctype, "status": cstatus, "lastUpdateTime": now()}
            if reason:
                cond["reason"] = reason
            if message:
                cond["message"] = message
            old = have.get(ctype) or {}
            if (old.get("status"), old.get("reason", ""), old.get("message", "")) == (cstatus, reason, message):
                cond["lastUpdateTime"] = old.get("lastUpdateTime", cond["lastUpdateTime"])
            conds.append(cond)
        plat = {"name": platform["metadata"]["name"], "namespace": platform["metadata"]["namespace"]}
        want = {"observedGeneration": meta.get("generation", 1), "platform": plat, "services": services,
                "conditions": conds}
        if all(status.get(k) == v for k, v in want.items()):
            return
        self.log("workflow %s/%s: Running %s %s", meta["namespace"], meta["name"], running[0], running[1])
        self.patch_status(GROUP, VERSION, "sonataflows", flow, want)
