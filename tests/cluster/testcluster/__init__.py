"""Local Kubernetes control plane for the rhdh.orchestrator tests.

Real etcd, kube-apiserver, kube-controller-manager and kube-scheduler run as
processes on 127.0.0.1; KWOK stands in for kubelets (fake Nodes and Pods).
"""
