"""Throw-away PKI for one local cluster, made with the openssl CLI.

ca.crt/ca.key sign everything; apiserver.crt serves 127.0.0.1 only; admin.crt
authenticates as system:masters; sa.key/sa.pub sign ServiceAccount tokens.
"""
import os
import subprocess

SERVING_SANS = "IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"


def _openssl(*args, cwd):
    subprocess.run(("openssl",) + args, cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _leaf(d, name, subject, ext):
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
             "-subj", subject, "-out", f"{name}.csr", cwd=d)
    with open(os.path.join(d, f"{name}.ext"), "w", encoding="ascii") as fh:
        fh.write(ext)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "30", "-sha256", "-extfile", f"{name}.ext",
             "-out", f"{name}.crt", cwd=d)


def create(d):
    os.makedirs(d, mode=0o700, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
             "-subj", "/CN=rhdh-orchestrator-test-ca", "-days", "30", "-out", "ca.crt",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    _leaf(d, "apiserver", "/CN=kube-apiserver",
          "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
          f"extendedKeyUsage=serverAuth\nsubjectAltName={SERVING_SANS}\n")
    _leaf(d, "admin", "/O=system:masters/CN=admin",
          "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
          "extendedKeyUsage=clientAuth\n")
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=d)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=d)
    return {name: os.path.join(d, name) for name in
            ("ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "admin.crt", "admin.key",
             "sa.key", "sa.pub")}
