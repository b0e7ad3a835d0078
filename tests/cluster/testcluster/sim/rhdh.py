"""The RHDH operator (rhdh.redhat.com Backstage).

For each Backstage, while an operator Deployment (`rhdh-operator`) is
Available, what the upstream operator makes (orchestrator-facts.md 1.5, 7):
- Deployment `backstage-<name>`: the app-config ConfigMaps of
  spec.application.appConfig mounted, the Secrets and ConfigMaps of extraEnvs as
  envFrom, the dynamic-plugins ConfigMap mounted into the install-dynamic-plugins
  init container; Service `backstage-<name>` (80 -> 7007);
- with spec.database.enableLocalDb (default true): Secret
  `backstage-psql-secret-<name>` (generated once), Service and StatefulSet
  `backstage-psql-<name>` with a PVC template;
- on the openshift flavour, unless spec.application.route.enabled is false: Route
  `backstage-<name>`, host spec.application.route.host or
  `backstage-<name>-<namespace>.<domain of Ingress cluster>`;
- condition Deployed: False/DeployInProgress until the Deployment has ready
  replicas, then True/Deployed. Everything is owned by the Backstage, so the
  garbage collector removes it with the CR (the PVC of the StatefulSet stays,
  as with the real StatefulSet).

A referenced ConfigMap or Secret that does not exist gives Deployed
False/DeployFailed, as the operator's apply fails. The pod template changes only
when the CR does: a changed ConfigMap alone does not restart Backstage.
Not simulated: the default config the operator layers below the user's, image
and version handling, flavours, monitoring, raw runtime config.
Fault switches (base.py): "never-ready" keeps Deployed False/DeployInProgress,
"deploy-failed" makes it False/DeployFailed, "slow=<s>".
"""
import secrets

from kubernetes.client.rest import ApiException

from .base import Controller, condition, ignore_missing

GROUP = "rhdh.redhat.com"
OPERATORS = {"rhdh-operator"}
IMAGE = "registry.redhat.io/rhdh/rhdh-hub-rhel9:1.9"
PLUGINS_KEY = "dynamic-plugins.yaml"


class RHDH(Controller):
    name = "rhdh"

    def reconcile(self):
        version = self._storage_version()
        if version is None:
            return
        backstages = self.list_custom(GROUP, version, "backstages")
        if not backstages or not self.operator_available(OPERATORS):
            return
        for bs in backstages:
            if not bs["metadata"].get("deletionTimestamp"):
                self._backstage(bs, version)

    def _storage_version(self):
        try:
            crd = self.apiext.read_custom_resource_definition(f"backstages.{GROUP}")
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return next(v.name for v in crd.spec.versions if v.storage)

    def _backstage(self, bs, version):
        meta, spec = bs["metadata"], bs.get("spec") or {}
        app = spec.get("application") or {}
        ns, name = meta["namespace"], meta["name"]
        owner = {"apiVersion": f"{GROUP}/{version}", "kind": "Backstage", "name": name, "uid": meta["uid"],
                 "controller": True, "blockOwnerDeletion": True}
        missing = self._missing_refs(ns, app)
        fault = self.fault(bs)[0]
        if missing or fault == "deploy-failed":
            why = (f"failed to apply backstage objects: {missing[0]} not found" if missing
                   else "failed to apply backstage objects (simulated fault deploy-failed)")
            self._status(bs, version, ("False", "DeployFailed", why))
            return
        local_db = (spec.get("database") or {}).get("enableLocalDb", True)
        if local_db:
            self._local_db(ns, name, owner)
        self.apply(self._deployment(ns, name, app, local_db, owner), "rhdh-operator")
        self.apply({"apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": f"backstage-{name}", "namespace": ns, "ownerReferences": [owner]},
                    "spec": {"selector": {"rhdh.redhat.com/app": f"backstage-{name}"},
                             "ports": [{"name": "http-backend", "port": 80, "targetPort": 7007}]}},
                   "rhdh-operator")
        route = app.get("route") or {}
        if self.options.get("flavour") == "openshift" and route.get("enabled", True):
            self._route(ns, name, route, owner)
        dep = ignore_missing(self.apps.read_namespaced_deployment, f"backstage-{name}", ns)
        ready = dep is not None and (dep.status.ready_replicas or 0) >= 1
        want = self.wanted(
            bs, never=("False", "DeployInProgress", "Deployment status: waiting (simulated fault never-ready)"),
            slow=("False", "DeployInProgress", "Deployment status: starting (simulated fault slow)"))
        if want[0] == "True" and not ready:
            want = ("False", "DeployInProgress", "Deployment status: Available: 0/1 replicas ready")
        elif want[0] == "True":
            want = ("True", "Deployed", "")
        self._status(bs, version, want)

    def _status(self, bs, version, want):
        conds = (bs.get("status") or {}).get("conditions") or []
        have = next((c for c in conds if c.get("type") == "Deployed"), {})
        gen = bs["metadata"].get("generation", 1)
        if (have.get("status"), have.get("reason", ""), have.get("message", "")) == want and \
                have.get("observedGeneration") == gen:
            return
        self.log("backstage %s/%s: Deployed %s %s", bs["metadata"]["namespace"], bs["metadata"]["name"], *want[:2])
        cond = condition("Deployed", *want)
        cond["observedGeneration"] = gen
        self.patch_status(GROUP, version, "backstages", bs, {"conditions": [cond]})

    def _missing_refs(self, ns, app):
        """Names of referenced ConfigMaps/Secrets that do not exist."""
        refs = [("ConfigMap", c["name"]) for c in (app.get("appConfig") or {}).get("configMaps") or []]
        if app.get("dynamicPluginsConfigMapName"):
            refs.append(("ConfigMap", app["dynamicPluginsConfigMapName"]))
        envs = app.get("extraEnvs") or {}
        refs += [("ConfigMap", c["name"]) for c in envs.get("configMaps") or []]
        refs += [("Secret", s["name"]) for s in envs.get("secrets") or []]
        out = []
        for kind, ref_name in refs:
            read = self.core.read_namespaced_config_map if kind == "ConfigMap" else self.core.read_namespaced_secret
            if ignore_missing(read, ref_name, ns) is None:
                out.append(f"{kind} {ns}/{ref_name}")
        return out

    def _deployment(self, ns, name, app, local_db, owner):
        labels = {"rhdh.redhat.com/app": f"backstage-{name}"}
        volumes, mounts = [], []
        for cm in (app.get("appConfig") or {}).get("configMaps") or []:
            volumes.append({"name": cm["name"], "configMap": {"name": cm["name"]}})
            mounts.append({"name": cm["name"], "mountPath": f"/opt/app-root/src/{cm['name']}"})
        env_from = [{"secretRef": {"name": s["name"]}} for s in (app.get("extraEnvs") or {}).get("secrets") or []]
        env_from += [{"configMapRef": {"name": c["name"]}}
                     for c in (app.get("extraEnvs") or {}).get("configMaps") or []]
        if local_db:
            env_from.append({"secretRef": {"name": f"backstage-psql-secret-{name}"}})
        init = []
        if app.get("dynamicPluginsConfigMapName"):
            volumes.append({"name": "dynamic-plugins-conf",
                            "configMap": {"name": app["dynamicPluginsConfigMapName"]}})
            init.append({"name": "install-dynamic-plugins", "image": IMAGE,
                         "command": ["./install-dynamic-plugins.sh", "/dynamic-plugins-root"],
                         "volumeMounts": [{"name": "dynamic-plugins-conf", "mountPath": f"/opt/app-root/src/{PLUGINS_KEY}",
                                           "subPath": PLUGINS_KEY}]})
        return {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": f"backstage-{name}", "namespace": ns, "labels": labels, "ownerReferences": [owner]},
            "spec": {"replicas": app.get("replicas", 1), "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {
                         "initContainers": init, "volumes": volumes,
                         "containers": [{"name": "backstage-backend", "image": IMAGE, "envFrom": env_from,
                                         "volumeMounts": mounts,
                                         "ports": [{"name": "backend", "containerPort": 7007}]}]}}}}

    def _local_db(self, ns, name, owner):
        secret_name = f"backstage-psql-secret-{name}"
        if ignore_missing(self.core.read_namespaced_secret, secret_name, ns) is None:
            ignore_missing(self.core.create_namespaced_secret, ns, {
                "metadata": {"name": secret_name, "namespace": ns, "ownerReferences": [owner]},
                "stringData": {"POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": secrets.token_urlsafe(18),
                               "POSTGRES_HOST": f"backstage-psql-{name}", "POSTGRES_PORT": "5432"}})
        labels = {"rhdh.redhat.com/app": f"backstage-psql-{name}"}
        self.apply({"apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": f"backstage-psql-{name}", "namespace": ns, "ownerReferences": [owner]},
                    "spec": {"selector": labels, "ports": [{"port": 5432}]}}, "rhdh-operator")
        statefulset = {
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": f"backstage-psql-{name}", "namespace": ns, "ownerReferences": [owner]},
            "spec": {"replicas": 1, "serviceName": f"backstage-psql-{name}", "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                         "name": "postgresql", "image": "registry.redhat.io/rhel9/postgresql-15:latest",
                         "envFrom": [{"secretRef": {"name": secret_name}}],
                         "volumeMounts": [{"name": "data", "mountPath": "/var/lib/pgsql/data"}]}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                         "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}
        self.apply(statefulset, "rhdh-operator")

    def _route(self, ns, name, route, owner):
        host = route.get("host")
        if not host:
            ingress = ignore_missing(self.custom.get_cluster_custom_object, "config.openshift.io", "v1",
                                     "ingresses", "cluster") or {}
            domain = (ingress.get("spec") or {}).get("domain") or "apps.example.test"
            host = f"backstage-{name}-{ns}.{domain}"
        body = {"apiVersion": "route.openshift.io/v1", "kind": "Route",
                "metadata": {"name": f"backstage-{name}", "namespace": ns, "ownerReferences": [owner]},
                "spec": {"host": host, "to": {"kind": "Service", "name": f"backstage-{name}"},
                         "port": {"targetPort": "http-backend"},
                         "tls": {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"}}}
        created = self.apply(body, "rhdh-operator")
        status = (created.to_dict() if hasattr(created, "to_dict") else created or {}).get("status") or {}
        if not status.get("ingress"):
            admitted = {"host": host, "routerName": "default",
                        "conditions": [{"type": "Admitted", "status": "True"}]}
            ignore_missing(self.custom.patch_namespaced_custom_object_status, "route.openshift.io", "v1", ns,
                           "routes", f"backstage-{name}", {"status": {"ingress": [admitted]}})
