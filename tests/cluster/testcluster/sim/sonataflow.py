"""The SonataFlow (Serverless Logic) operator.

For each SonataFlowPlatform, while an operator Deployment is Available: the
Data Index and Jobs Service Deployments and Services
(`<platform>-data-index-service`, `<platform>-jobs-service`) for the services
that are enabled, owned by the platform, with the PostgreSQL settings the real
operator derives from spec.services.*.persistence (JDBC URL with the schema,
user and password from the Secret), the container resources and image from
podTemplate; then condition Succeed True. A SonataFlowClusterPlatform gets
Succeed True when the platform it references exists.

Not simulated: builds, workflows (SonataFlow), eventing wiring, monitoring.
Fault switches (base.py): "never-ready" keeps Succeed False; "slow=<s>".
"""
from .base import Controller, condition, ignore_missing

GROUP, VERSION = "sonataflow.org", "v1alpha08"
OPERATORS = {"logic-operator-rhel8-controller-manager", "logic-operator-controller-manager",
             "sonataflow-operator-controller-manager"}
SERVICES = {"dataIndex": ("data-index-service", "data-index-service"),
            "jobService": ("jobs-service", "jobs-service")}
IMAGES = {"dataIndex": "registry.redhat.io/openshift-serverless-1/logic-data-index-postgresql-rhel8:1.36.0",
          "jobService": "registry.redhat.io/openshift-serverless-1/logic-jobs-service-postgresql-rhel8:1.36.0"}


def _has(obj, ctype, status):
    return any(c.get("type") == ctype and c.get("status") == status
               for c in (obj.get("status") or {}).get("conditions", []))


class SonataFlow(Controller):
    name = "sonataflow"

    def reconcile(self):
        platforms = self.list_custom(GROUP, VERSION, "sonataflowplatforms")
        clusters = self.list_custom(GROUP, VERSION, "sonataflowclusterplatforms")
        if not platforms and not clusters:
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

    def _platform(self, platform):
        meta, spec = platform["metadata"], platform.get("spec") or {}
        services = spec.get("services") or {}
        for key, (suffix, schema) in SERVICES.items():
            svc = services.get(key) or {}
            if svc.get("enabled"):
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
