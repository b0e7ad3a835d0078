"""What the SonataFlow operator derives from a SonataFlow: pure functions, no API calls.

Facts from apache/incubator-kie-kogito-serverless-operator at c429953 (the
commit of ../shared/upstream/sonataflow-operator/operator.yaml and of the
sonataflow.org CRDs in ../shared/crds): the profile factory, the object
creators and mutate visitors of the preview/gitops profiles, the persistence
environment, the managed properties and the deployment status manager. Names,
keys, defaults and reasons are upstream's; the code is this project's.
"""
import hashlib

GROUP, VERSION = "sonataflow.org", "v1alpha08"
API_VERSION = f"{GROUP}/{VERSION}"
CONTAINER = "workflow"
HTTP_PORT = 8080
MOUNT_PATH = "/deployments/config"
PROPS_VOLUME = "workflow-properties"
USER_PROPS_KEY = "application.properties"
CHECKSUM = "sonataflow.org/checksum-config"
RESTARTED_AT = "sonataflow.org/restartedAt"
PROFILE = "sonataflow.org/profile"
SECONDARY = "sonataflow.org/secondary.platform"
DEFAULT_PLATFORM = "sonataflow-platform"

# api/condition_types.go
RUNNING, BUILT = "Running", "Built"
WAITING_FOR_DEPLOYMENT = "WaitingForDeployment"
EXTERNAL_RESOURCES_NOT_FOUND = "ExternalResourcesNotFound"
DEPLOYMENT_FAILURE = "DeploymentFailure"
DEPLOYMENT_UNAVAILABLE = "DeploymentIsUnavailable"
WAITING_FOR_BUILD = "WaitingForBuild"
BUILD_IS_RUNNING = "BuildIsRunning"
BUILD_SKIPPED = "BuildSkipped"

# Operator configuration (controllers_cfg.yaml of operator.yaml): events grouping on, binary on, compress off.
EVENTS_GROUPING = {"kogito.events.grouping": "true", "kogito.events.grouping.binary": "true"}
IMMUTABLE_PROPERTIES = [("quarkus.http.port", str(HTTP_PORT)), ("quarkus.http.host", "0.0.0.0"),
                        ("quarkus.devservices.enabled", "false"), ("quarkus.kogito.devservices.enabled", "false")]
BUILDER_IMAGE = "docker.io/apache/incubator-kie-sonataflow-builder:latest"


def profile(flow):
    """The profile the operator reconciles flow with (profiles/factory): an
    unknown or missing annotation is preview, prod is preview, and preview with
    spec.podTemplate.container.image becomes gitops."""
    meta = flow["metadata"]
    value = (meta.get("annotations") or {}).get(PROFILE)
    value = "preview" if value in (None, "", "prod") or value not in ("dev", "preview", "gitops") else value
    if value == "preview" and image(flow):
        return "gitops"
    return value


def image(flow):
    return (((flow.get("spec") or {}).get("podTemplate") or {}).get("container") or {}).get("image") or ""


def knative_model(flow):
    return (((flow.get("spec") or {}).get("podTemplate") or {}).get("deploymentModel")) == "knative"


# ---- platforms -----------------------------------------------------------------
def active_platform(platforms, namespace):
    """The platform of namespace the operator uses: the first primary one that is
    not marked Duplicated (platform.GetActivePlatform), or None."""
    for p in sorted(platforms, key=lambda p: (p["metadata"].get("creationTimestamp") or "", p["metadata"]["name"])):
        meta = p["metadata"]
        if meta.get("namespace") != namespace or meta.get("deletionTimestamp"):
            continue
        if (meta.get("annotations") or {}).get(SECONDARY) == "true":
            continue
        conds = (p.get("status") or {}).get("conditions") or []
        if any(c.get("reason") == "Duplicated" for c in conds):
            continue
        return p
    return None


def default_platform(namespace, openshift):
    """The SonataFlowPlatform the operator creates in a workflow's namespace that
    has none (platform.newEmptySonataFlowPlatform + CreateOrUpdateWithDefaults)."""
    if openshift:
        config = {"strategy": "platform", "strategyOptions": {}, "timeout": "5m0s"}
    else:
        config = {"strategy": "operator", "baseImage": BUILDER_IMAGE, "timeout": "5m0s",
                  "strategyOptions": {"KanikoBuildCacheEnabled": "true",
                                      "KanikoPersistentVolumeClaim": DEFAULT_PLATFORM}}
    return {"apiVersion": API_VERSION, "kind": "SonataFlowPlatform",
            "metadata": {"name": DEFAULT_PLATFORM, "namespace": namespace},
            "spec": {"build": {"config": config}}}


def service_enabled(platform, key):
    """spec.services.<key> given means enabled unless enabled: false (the
    operator defaults a given service block to enabled)."""
    svc = (((platform or {}).get("spec") or {}).get("services") or {}).get(key)
    return svc is not None and svc.get("enabled", True) is not False


def service_url(platform, suffix):
    meta = platform["metadata"]
    return f"http://{meta['name']}-{suffix}.{meta['namespace']}"


def workflow_services(platform, cluster_ref_platform):
    """status.services of a workflow (services.SetServiceUrlsInWorkflowStatus):
    a service the local platform enables, else, when the local platform sets no
    spec.services at all, the one the cluster platform's platform enables."""
    out = {}
    local_set = bool(((platform or {}).get("spec") or {}).get("services"))
    for key, ref, suffix in (("dataIndex", "dataIndexRef", "data-index-service"),
                             ("jobService", "jobServiceRef", "jobs-service")):
        if service_enabled(platform, key):
            out[ref] = {"url": service_url(platform, suffix)}
        elif not local_set and cluster_ref_platform is not None and service_enabled(cluster_ref_platform, key):
            out[ref] = {"url": service_url(cluster_ref_platform, suffix)}
    return out or None


def cluster_platform_target(cluster_platforms, platforms):
    """The platform an active SonataFlowClusterPlatform shares services from, or
    None (no cluster platform, capabilities without "services", or the platform
    it names does not exist)."""
    ready = [cp for cp in cluster_platforms if not cp["metadata"].get("deletionTimestamp") and any(
        c.get("type") == "Succeed" and c.get("status") == "True" for c in (cp.get("status") or {}).get("conditions") or [])]
    if not ready:
        return None
    cp = sorted(ready, key=lambda c: (c["metadata"].get("creationTimestamp") or "", c["metadata"]["name"]))[0]
    caps = (cp.get("spec") or {}).get("capabilities")
    if caps is not None and "services" not in (caps.get("workflows") or []):
        return None
    ref = cp["spec"].get("platformRef") or {}
    return next((p for p in platforms if p["metadata"]["name"] == ref.get("name")
                 and p["metadata"]["namespace"] == ref.get("namespace")), None)


# ---- labels, persistence, properties --------------------------------------------------
def default_labels(flow, platform_name):
    meta = flow["metadata"]
    labels = {"sonataflow.org/workflow-app": meta["name"], "app.kubernetes.io/name": meta["name"],
              "app.kubernetes.io/component": "serverless-workflow", "app.kubernetes.io/managed-by": "sonataflow-operator",
              "app": meta["name"], "sonataflow.org/workflow-namespace": meta["namespace"]}
    if platform_name:
        labels["app.kubernetes.io/part-of"] = platform_name
    return labels


def merged_labels(flow, platform_name):
    return {**(flow["metadata"].get("labels") or {}), **default_labels(flow, platform_name)}


def selector_labels(flow):
    return default_labels(flow, None)


def persistence(flow, platform):
    """The workflow's own spec.persistence, else one built from the platform's
    spec.persistence with the workflow name as schema (persistence.RetrieveConfiguration)."""
    own = (flow.get("spec") or {}).get("persistence")
    if own is not None:
        return own
    plat = ((platform or {}).get("spec") or {}).get("persistence")
    if plat is None:
        return None
    pg = plat.get("postgresql")
    if pg is None:
        return {}
    out = {"secretRef": pg.get("secretRef") or {}}
    if pg.get("serviceRef") is not None:
        out["serviceRef"] = dict(pg["serviceRef"], databaseSchema=flow["metadata"]["name"])
    else:
        out["jdbcUrl"] = pg.get("jdbcUrl", "")
    return {"postgresql": out}


def persistence_env(flow, platform):
    """The env the operator appends to the workflow container for PostgreSQL
    (persistence.ConfigurePostgreSQLEnv, schema default the workflow name,
    namespace default the workflow's)."""
    if profile(flow) == "dev":
        return []
    pg = (persistence(flow, platform) or {}).get("postgresql")
    if pg is None:
        return []
    url = pg.get("jdbcUrl", "")
    ref = pg.get("serviceRef")
    if ref is not None:
        url = (f"jdbc:postgresql://{ref.get('name', '')}.{ref.get('namespace') or flow['metadata']['namespace']}:"
               f"{ref.get('port') or 5432}/{ref.get('databaseName') or 'sonataflow'}"
               f"?currentSchema={ref.get('databaseSchema') or flow['metadata']['name']}")
    secret = pg.get("secretRef") or {}

    def from_secret(key):
        return {"secretKeyRef": {"name": secret.get("name", ""), "key": key}}
    return [{"name": "QUARKUS_DATASOURCE_USERNAME", "valueFrom": from_secret(secret.get("userKey") or "POSTGRESQL_USER")},
            {"name": "QUARKUS_DATASOURCE_PASSWORD",
             "valueFrom": from_secret(secret.get("passwordKey") or "POSTGRESQL_PASSWORD")},
            {"name": "QUARKUS_DATASOURCE_DB_KIND", "value": "postgresql"},
            {"name": "QUARKUS_DATASOURCE_JDBC_URL", "value": url},
            {"name": "KOGITO_PERSISTENCE_TYPE", "value": "jdbc"}]


def sink(flow, platform, cluster_ref_platform):
    """Whether the workflow has an event sink (knative.GetWorkflowSink)."""
    if (flow.get("spec") or {}).get("sink"):
        return True
    for plat in (platform, cluster_ref_platform):
        if (((plat or {}).get("spec") or {}).get("eventing") or {}).get("broker"):
            return True
    return False


def _has_timeouts(node):
    if isinstance(node, dict):
        if node.get("timeouts") or node.get("type") == "sleep":
            return True
        return any(_has_timeouts(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_timeouts(v) for v in node)
    return False


def _event_kinds(flow):
    return {e.get("kind") or "consumed" for e in ((flow.get("spec") or {}).get("flow") or {}).get("events") or []}


def managed_properties(flow, platform, services, has_sink):
    """The text of <workflow>-managed-props' application-prod.properties
    (properties.NewManagedPropertyHandler(...).Build()): the operator's defaults
    sorted, kogito.service.url, then the immutable properties; `key = value` lines."""
    meta, dev = flow["metadata"], profile(flow) == "dev"
    props = {} if dev else dict(EVENTS_GROUPING)
    props["kogito.events.usertasks.enabled"] = "false"
    if dev:
        props["quarkus.dev-ui.cors.enabled"] = "false"
    if platform is not None:
        for entry in (((platform.get("spec") or {}).get("properties") or {}).get("flow") or []):
            if entry.get("value"):
                props[entry["name"]] = entry["value"]
        pg = (persistence(flow, platform) or {}).get("postgresql")
        if pg is not None and profile(flow) not in ("dev", "gitops"):
            props.update({"quarkus.datasource.db-kind": "postgresql", "kogito.persistence.type": "jdbc",
                          "kogito.persistence.proto.marshaller": "false"})
        di = None if dev else ((services or {}).get("dataIndexRef") or {}).get("url")
        props.update({"kogito.events.processdefinitions.enabled": "false", "kogito.events.processinstances.enabled": "false"})
        if di:
            props.update({"kogito.events.processdefinitions.enabled": "true", "kogito.events.processinstances.enabled": "true",
                          "kogito.events.processdefinitions.errors.propagate": "true"})
            prefix = "mp.messaging.outgoing.kogito-process"
            if has_sink:
                for kind in ("definitions", "instances"):
                    props.update({f"{prefix}{kind}-events.connector": "quarkus-http",
                                  f"{prefix}{kind}-events.url": "${K_SINK}", f"{prefix}{kind}-events.method": "POST"})
            else:
                props.update({"kogito.data-index.health-enabled": "true", "kogito.data-index.url": di,
                              f"{prefix}definitions-events.url": di + "/definitions",
                              f"{prefix}instances-events.url": di + "/processes"})
        jobs = None if dev else ((services or {}).get("jobServiceRef") or {}).get("url")
        request = "mp.messaging.outgoing.kogito-job-service-job-request-events"
        props.update({f"{request}.connector": "quarkus-http", f"{request}.url": "http://localhost/v2/jobs/events"})
        if jobs:
            if has_sink:
                props.update({f"{request}.url": "${K_SINK}", f"{request}.method": "POST"})
            else:
                if _has_timeouts((flow.get("spec") or {}).get("flow")):
                    props["kogito.jobs-service.health-enabled"] = "true"
                props.update({"kogito.jobs-service.url": jobs, f"{request}.url": jobs + "/v2/jobs/events"})
    props["org.kie.kogito.addons.knative.eventing.health-enabled"] = "true" if has_sink else "false"
    if has_sink:
        kinds = _event_kinds(flow)
        if "produced" in kinds:
            props.update({"mp.messaging.outgoing.kogito_outgoing_stream.connector": "quarkus-http",
                          "mp.messaging.outgoing.kogito_outgoing_stream.url": "${K_SINK}"})
        if "consumed" in kinds:
            props.update({"mp.messaging.incoming.kogito_incoming_stream.connector": "quarkus-http",
                          "mp.messaging.incoming.kogito_incoming_stream.path": "/"})
    lines = [(k, props[k]) for k in sorted(props)]
    lines.append(("kogito.service.url", f"http://{meta['name']}.{meta['namespace']}"))
    seen = {k for k, _v in lines}
    lines += [(k, v) for k, v in IMMUTABLE_PROPERTIES if k not in seen]
    lines = [(k, dict(IMMUTABLE_PROPERTIES).get(k, v)) for k, v in lines]
    return "".join(f"{k} = {v}\n" for k, v in lines)


def properties_file(flow):
    return "application-dev.properties" if profile(flow) == "dev" else "application-prod.properties"


# ---- objects --------------------------------------------------------------------------
def owner(flow):
    meta = flow["metadata"]
    return {"apiVersion": API_VERSION, "kind": "SonataFlow", "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def user_props(flow, platform_name):
    meta = flow["metadata"]
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": f"{meta['name']}-props", "namespace": meta["namespace"],
                         "labels": merged_labels(flow, platform_name), "ownerReferences": [owner(flow)]},
            "data": {USER_PROPS_KEY: ""}}


def managed_props(flow, text):
    meta = flow["metadata"]
    body = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": f"{meta['name']}-managed-props", "namespace": meta["namespace"],
                         "ownerReferences": [owner(flow)]},
            "data": {properties_file(flow): text}}
    if meta.get("labels"):
        body["metadata"]["labels"] = dict(meta["labels"])
    return body


def checksum(user_text, managed_text):
    return hashlib.sha256(f"{user_text},{managed_text}".encode()).hexdigest()


def _probe(path, **extra):
    return {"httpGet": {"path": path, "port": HTTP_PORT}, "timeoutSeconds": 3, "periodSeconds": 15, **extra}


def container(flow, platform):
    """The workflow container (object_creators.defaultContainer): upstream's
    defaults, overridden by spec.podTemplate.container, then the persistence env."""
    c = {"name": CONTAINER, "terminationMessagePolicy": "FallbackToLogsOnError",
         "ports": [{"containerPort": HTTP_PORT, "name": "h2c", "protocol": "TCP"}],
         "livenessProbe": _probe("/q/health/live"), "readinessProbe": _probe("/q/health/ready"),
         "startupProbe": _probe("/q/health/started", initialDelaySeconds=10, failureThreshold=5),
         "securityContext": {"allowPrivilegeEscalation": False, "privileged": False, "runAsNonRoot": True,
                             "seccompProfile": {"type": "RuntimeDefault"}, "capabilities": {"drop": ["ALL"]}}}
    for key, value in (((flow.get("spec") or {}).get("podTemplate") or {}).get("container") or {}).items():
        if value not in (None, "", [], {}):
            c[key] = value
    c["env"] = list(c.get("env") or []) + persistence_env(flow, platform)
    if not c["env"]:
        del c["env"]
    c["name"] = CONTAINER
    port = {"containerPort": HTTP_PORT, "name": "h2c", "protocol": "TCP"}
    ports = list(c.get("ports") or [])
    idx = next((i for i, p in enumerate(ports) if p.get("name") == "h2c" or p.get("containerPort") == HTTP_PORT), None)
    if idx is None:
        ports.append(port)
    else:
        ports[idx] = port
    c["ports"] = ports
    mounts = [m for m in c.get("volumeMounts") or [] if m.get("name") != PROPS_VOLUME]
    c["volumeMounts"] = mounts + [{"name": PROPS_VOLUME, "readOnly": True, "mountPath": MOUNT_PATH}]
    return c


def deployment(flow, platform, platform_name, annotations, selector=None):
    meta = flow["metadata"]
    template = dict(((flow.get("spec") or {}).get("podTemplate") or {}))
    replicas = template.pop("replicas", None)
    for key in ("container", "deploymentModel"):
        template.pop(key, None)
    others = [c for c in template.pop("containers", None) or [] if c.get("name") != CONTAINER]
    volumes = [v for v in template.pop("volumes", None) or [] if v.get("name") != PROPS_VOLUME]
    volumes.append({"name": PROPS_VOLUME, "projected": {"sources": [
        {"configMap": {"name": f"{meta['name']}-props",
                       "items": [{"key": USER_PROPS_KEY, "path": USER_PROPS_KEY}]}},
        {"configMap": {"name": f"{meta['name']}-managed-props",
                       "items": [{"key": properties_file(flow), "path": properties_file(flow)}]}}]}})
    labels = merged_labels(flow, platform_name)
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": labels,
                         "ownerReferences": [owner(flow)]},
            "spec": {"replicas": 1 if replicas is None else replicas,
                     "selector": selector or {"matchLabels": selector_labels(flow)},
                     "template": {"metadata": {"labels": labels, "annotations": annotations},
                                  "spec": {**template, "containers": [container(flow, platform)] + others,
                                           "volumes": volumes}}}}


def service(flow, platform_name):
    meta = flow["metadata"]
    labels = merged_labels(flow, platform_name)
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": labels,
                         "ownerReferences": [owner(flow)]},
            "spec": {"selector": labels,
                     "ports": [{"name": "web", "protocol": "TCP", "port": 80, "targetPort": HTTP_PORT}]}}


def invalid_deployment_message(flow):
    """What the operator records when it cannot create the Deployment because the
    workflow container has no image (gitops profile without an image): its
    MarkFalse format string has no verb, so Go prints the error as EXTRA."""
    name = flow["metadata"]["name"]
    return ("Unable to perform the deploy due to %!(EXTRA *errors.StatusError=Deployment.apps "
            f"\"{name}\" is invalid: spec.template.spec.containers[0].image: Required value)")


# ---- what a kubelet would say ------------------------------------------------------------
def config_error(pod_spec, namespace, lookup):
    """The message a kubelet gives (CreateContainerConfigError) for the first env
    reference of the workflow container it cannot resolve, or None.
    lookup(kind, name) returns the object's data keys, or None when it is missing."""
    c = next((c for c in pod_spec.get("containers") or [] if c.get("name") == CONTAINER), {})
    for env in c.get("env") or []:
        src = env.get("valueFrom") or {}
        for field, kind, title in (("secretKeyRef", "secret", "Secret"), ("configMapKeyRef", "configmap", "ConfigMap")):
            ref = src.get(field)
            if not ref or ref.get("optional"):
                continue
            keys = lookup(kind, ref.get("name", ""))
            if keys is None:
                return f"{kind} \"{ref.get('name', '')}\" not found"
            if ref.get("key") not in keys:
                return f"couldn't find key {ref.get('key')} in {title} {namespace}/{ref.get('name', '')}"
    for src in c.get("envFrom") or []:
        for field, kind in (("secretRef", "secret"), ("configMapRef", "configmap")):
            ref = src.get(field)
            if ref and not ref.get("optional") and lookup(kind, ref.get("name", "")) is None:
                return f"{kind} \"{ref.get('name', '')}\" not found"
    return None


def waiting_pod_status(pod, reason, message):
    """Pod status a kubelet reports while the workflow container cannot start."""
    spec = pod["spec"]
    statuses = []
    for c in spec.get("containers") or []:
        state = {"waiting": {"reason": reason, "message": message}} if c["name"] == CONTAINER else \
            {"running": {"startedAt": (pod.get("status") or {}).get("startTime")}}
        statuses.append({"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": c["name"] != CONTAINER,
                         "restartCount": 0, "started": c["name"] != CONTAINER, "lastState": {}, "state": state})
    unready = f"containers with unready status: [{CONTAINER}]"
    return {"phase": "Pending", "containerStatuses": statuses, "conditions": [
        {"type": "PodScheduled", "status": "True"}, {"type": "Initialized", "status": "True"},
        {"type": "Ready", "status": "False", "reason": "ContainersNotReady", "message": unready},
        {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady", "message": unready}]}


def running_pod_status(pod, now):
    """Pod status once the kubelet could start every container."""
    statuses = [{"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": True, "restartCount": 0,
                 "started": True, "lastState": {}, "state": {"running": {"startedAt": now}}}
                for c in pod["spec"].get("containers") or []]
    return {"phase": "Running", "containerStatuses": statuses, "conditions": [
        {"type": t, "status": "True", "lastTransitionTime": now}
        for t in ("PodScheduled", "Initialized", "Ready", "ContainersReady")]}


def pod_waiting(pod):
    """(reason, message) of the workflow container's waiting state, or None."""
    for s in (pod.get("status") or {}).get("containerStatuses") or []:
        if s.get("name") == CONTAINER and (s.get("state") or {}).get("waiting"):
            waiting = s["state"]["waiting"]
            return waiting.get("reason", ""), waiting.get("message", "")
    return None


# ---- status ----------------------------------------------------------------------------------
def deployment_running(dep, pods):
    """Running as the deployment status manager reports it: (status, reason, message)."""
    if dep is None:
        return ("False", DEPLOYMENT_UNAVAILABLE, "Couldn't find the workflow deployment")
    conds = (dep.get("status") or {}).get("conditions") or []

    def cond(ctype, status):
        return next((c for c in conds if c.get("type") == ctype and c.get("status") == status), None)
    if cond("Available", "True"):
        return ("True", "", "")
    if cond("ReplicaFailure", "True"):
        failed = cond("Progressing", "False") or cond("ReplicaFailure", "True")
        return ("False", DEPLOYMENT_FAILURE,
                f"deployment {dep['metadata']['name']} unavailable: reason {failed.get('reason', '')}, "
                f"message {failed.get('message', '')}")
    unavailable = cond("Available", "False")
    if unavailable and unavailable.get("reason") == "MinimumReplicasUnavailable":
        for pod in pods:
            if (pod.get("status") or {}).get("phase") in ("Running", "Succeeded"):
                continue
            waiting = pod_waiting(pod)
            if waiting and waiting[0] != "ContainerCreating":
                return ("False", DEPLOYMENT_UNAVAILABLE, f"ContainerNotReady: ({waiting[0]}) {waiting[1]}")
    return ("False", WAITING_FOR_DEPLOYMENT, "")
