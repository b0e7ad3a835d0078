"""The OpenShift API surface of the `openshift` flavour.

What the roles detect and read on OpenShift: the route.openshift.io group,
Ingress `cluster` (the apps domain), ClusterVersion `version`, the OLM API,
namespace openshift-marketplace with the `redhat-operators` CatalogSource and
openshift-operators with its global OperatorGroup. OLM *behaviour* comes from
the OLM simulator; this only lays the objects a fresh OpenShift has.
"""
import json
import time
import uuid

APPS_DOMAIN = "apps.orchestrator.test"
OPENSHIFT_VERSION = "4.18.21"
RELEASE_IMAGE = "quay.io/openshift-release-dev/ocp-release:4.18.21-x86_64"


def objects():
    ns = [{"apiVersion": "v1", "kind": "Namespace",
           "metadata": {"name": n, "labels": {"openshift.io/cluster-monitoring": "true"}}}
          for n in ("openshift-marketplace", "openshift-operators", "openshift-config",
                    "openshift-ingress", "openshift-monitoring")]
    return ns + [
        {"apiVersion": "config.openshift.io/v1", "kind": "Ingress",
         "metadata": {"name": "cluster"}, "spec": {"domain": APPS_DOMAIN}},
        {"apiVersion": "config.openshift.io/v1", "kind": "ClusterVersion",
         "metadata": {"name": "version"},
         "spec": {"clusterID": str(uuid.uuid4()), "channel": "stable-4.18"}},
        {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "CatalogSource",
         "metadata": {"name": "redhat-operators", "namespace": "openshift-marketplace"},
         "spec": {"sourceType": "grpc", "displayName": "Red Hat Operators", "publisher": "Red Hat",
                  "image": "registry.redhat.io/redhat/redhat-operator-index:v4.18", "priority": -100}},
        {"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
         "metadata": {"name": "global-operators", "namespace": "openshift-operators"}, "spec": {}},
    ] + serverless_namespace_rule()


def serverless_namespace_rule():
    """OpenShift Serverless admits KnativeServing only in knative-serving and
    KnativeEventing only in knative-eventing (its validating webhook;
    orchestrator-facts.md section 0). Here the same rule is a CEL admission
    policy, which the apiserver evaluates itself."""
    name = "testcluster-openshift-serverless-namespaces"
    return [
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
         "metadata": {"name": name},
         "spec": {"failurePolicy": "Fail",
                  "matchConstraints": {"resourceRules": [{
                      "apiGroups": ["operator.knative.dev"], "apiVersions": ["*"], "operations": ["CREATE"],
                      "resources": ["knativeservings", "knativeeventings"]}]},
                  "validations": [
                      {"expression": "request.resource.resource != 'knativeservings' "
                                     "|| request.namespace == 'knative-serving'",
                       "message": "KnativeServing is only supported in namespace knative-serving "
                                  "on OpenShift Serverless"},
                      {"expression": "request.resource.resource != 'knativeeventings' "
                                     "|| request.namespace == 'knative-eventing'",
                       "message": "KnativeEventing is only supported in namespace knative-eventing "
                                  "on OpenShift Serverless"}]}},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
         "metadata": {"name": name},
         "spec": {"policyName": name, "validationActions": ["Deny"]}},
    ]


def set_status(cluster):
    """Status that OpenShift's own operators would have written."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    patches = [
        ("clusterversion/version", None, {
            "desired": {"version": OPENSHIFT_VERSION, "image": RELEASE_IMAGE, "channels": ["stable-4.18"]},
            "history": [{"state": "Completed", "version": OPENSHIFT_VERSION, "image": RELEASE_IMAGE,
                         "verified": False, "startedTime": now, "completionTime": now}],
            "conditions": [{"type": "Available", "status": "True", "lastTransitionTime": now,
                            "message": f"Done applying {OPENSHIFT_VERSION}"},
                           {"type": "Progressing", "status": "False", "lastTransitionTime": now}],
            "observedGeneration": 1, "versionHash": "testcluster", "availableUpdates": []}),
        ("catalogsource/redhat-operators", "openshift-marketplace", {
            "connectionState": {"lastObservedState": "READY", "lastConnect": now,
                                "address": "redhat-operators.openshift-marketplace.svc:50051"}}),
        ("operatorgroup/global-operators", "openshift-operators", {
            "namespaces": [""], "lastUpdated": now}),
    ]
    for ref, namespace, status in patches:
        args = ["patch", ref, "--subresource=status", "--type=merge", "-p", json.dumps({"status": status})]
        if namespace:
            args += ["-n", namespace]
        cluster.kubectl(*args)
