"""Dynamic volume provisioning for the default StorageClass `standard`.

What a CSI or local-path provisioner does, minus the disk: for each Pending
PVC of a class whose provisioner is ours, create a PersistentVolume pre-bound
to it (claimRef); the real PV controller in kube-controller-manager then binds
both. Released volumes of reclaim policy Delete are deleted, as an external
provisioner would. The hostPath is data only: no Pod ever runs.
"""
from kubernetes import client

from .base import Controller, ignore_missing

PROVISIONER = "testcluster.rhdh.io/hostpath"
DEFAULT_CLASS = "standard"


def storage_class():
    return {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": DEFAULT_CLASS,
                     "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": PROVISIONER, "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate", "allowVolumeExpansion": True,
    }


class VolumeProvisioner(Controller):
    name = "volumes"

    def reconcile(self):
        ours = {sc.metadata.name: sc for sc in self.storage.list_storage_class().items
                if sc.provisioner == PROVISIONER}
        if not ours:
            return
        for pvc in self.core.list_persistent_volume_claim_for_all_namespaces().items:
            if pvc.status.phase != "Pending" or pvc.spec.volume_name:
                continue
            sc = ours.get(pvc.spec.storage_class_name or "")
            if sc is None:
                continue
            self._provision(pvc, sc)
        for pv in self.core.list_persistent_volume().items:
            ann = pv.metadata.annotations or {}
            if (pv.status.phase == "Released" and ann.get("pv.kubernetes.io/provisioned-by") == PROVISIONER
                    and pv.spec.persistent_volume_reclaim_policy == "Delete"):
                self.log("deleting released volume %s", pv.metadata.name)
                ignore_missing(self.core.delete_persistent_volume, pv.metadata.name)

    def _provision(self, pvc, sc):
        name = f"pvc-{pvc.metadata.uid}"
        body = client.V1PersistentVolume(
            metadata=client.V1ObjectMeta(
                name=name, annotations={"pv.kubernetes.io/provisioned-by": PROVISIONER}),
            spec=client.V1PersistentVolumeSpec(
                capacity={"storage": pvc.spec.resources.requests["storage"]},
                access_modes=pvc.spec.access_modes,
                persistent_volume_reclaim_policy=sc.reclaim_policy or "Delete",
                storage_class_name=sc.metadata.name,
                volume_mode=pvc.spec.volume_mode or "Filesystem",
                host_path=client.V1HostPathVolumeSource(path=f"/var/lib/testcluster/{name}"),
                claim_ref=client.V1ObjectReference(
                    kind="PersistentVolumeClaim", api_version="v1", namespace=pvc.metadata.namespace,
                    name=pvc.metadata.name, uid=pvc.metadata.uid)))
        if ignore_missing(self.core.create_persistent_volume, body) is not None:
            self.log("provisioned %s for %s/%s", name, pvc.metadata.namespace, pvc.metadata.name)
