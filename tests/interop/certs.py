"""Test certificates for the interop checks: a CA and a certificate it signed, made with the
openssl command in a scratch directory."""

import subprocess


def make_certs(d):
    """Writes ca.pem, cert.pem and key.pem into `d`; their paths by Broker's option names."""
    def ssl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "1", "-subj", "/CN=interop CA")
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "node.csr",
        "-subj", "/CN=node")
    ssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "cert.pem", "-days", "1")
    return {"certificate": f"{d}/cert.pem", "key": f"{d}/key.pem", "cafile": f"{d}/ca.pem"}
