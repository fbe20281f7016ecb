"""TLS from Python with Broker's field names (Configuration.openssl_*, BrokerOptions.
disable_ssl): anonymous by default, certificates when set, and the failures Broker's own
ssl-tests.py expects. The certificates are made with the openssl command in a scratch
directory."""

import shutil
import subprocess

import pytest

import brook

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")

    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=brook test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.1.pem", "-out", "cert.1.csr",
        "-subj", "/CN=node")
    run("x509", "-req", "-in", "cert.1.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "cert.1.pem", "-days", "2")
    run("pkey", "-in", "key.1.pem", "-aes256", "-passout", "pass:12345", "-out", "key.1.enc.pem")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.self-signed.pem",
        "-out", "cert.self-signed.pem", "-days", "2", "-subj", "/CN=self-signed")
    return d


def config(certs, cert=None, key=None, ca=None, passphrase=None):
    cfg = brook.Configuration(brook.BrokerOptions())
    if cert:
        cfg.openssl_certificate = str(certs / cert)
        cfg.openssl_key = str(certs / key)
        cfg.openssl_cafile = str(certs / ca)
    if passphrase:
        cfg.openssl_passphrase = passphrase
    return cfg


def signed(certs, encrypted=False):
    if encrypted:
        return config(certs, "cert.1.pem", "key.1.enc.pem", "ca.pem", "12345")
    return config(certs, "cert.1.pem", "key.1.pem", "ca.pem")


def self_signed(certs):
    return config(certs, "cert.self-signed.pem", "key.self-signed.pem", "cert.self-signed.pem")


def ping_pong(cfg1, cfg2):
    with brook.Endpoint(cfg1) as ep1, brook.Endpoint(cfg2) as ep2, \
            ep1.make_subscriber("/test") as s1, ep2.make_subscriber("/test") as s2:
        port = ep1.listen("127.0.0.1", 0)
        assert ep2.peer("127.0.0.1", port, 0) is True
        assert ep1.await_peer(ep2.node_id(), 10) and ep2.await_peer(ep1.node_id(), 10)
        ep2.publish("/test", ["ping"])
        t, d = s1.get(5.0)
        assert (t, d[0]) == ("/test", "ping")
        ep1.publish(t, ["pong"])
        t, d = s2.get(5.0)
        assert (t, d[0]) == ("/test", "pong")
        return ep2.metrics().text


def refused(cfg1, cfg2):
    with brook.Endpoint(cfg1) as ep1, brook.Endpoint(cfg2) as ep2:
        port = ep1.listen("127.0.0.1", 0)
        return ep2.peer("127.0.0.1", port, 0)


def test_anonymous_tls_by_default(certs):
    assert 'transport="tls"' in ping_pong(config(certs), config(certs))


def test_certificates_signed_by_the_ca(certs):
    ping_pong(signed(certs), signed(certs))


def test_an_encrypted_key_with_its_passphrase(certs):
    ping_pong(signed(certs, encrypted=True), signed(certs, encrypted=True))


def test_a_self_signed_certificate_trusting_itself(certs):
    ping_pong(self_signed(certs), self_signed(certs))


def test_an_untrusted_certificate_is_refused_both_ways(certs):
    assert refused(signed(certs), self_signed(certs)) is False
    assert refused(self_signed(certs), signed(certs)) is False


def test_certificates_on_one_side_only_are_refused_both_ways(certs):
    assert refused(signed(certs), config(certs)) is False
    assert refused(config(certs), signed(certs)) is False


def test_tls_against_plain_tcp_is_refused_and_disable_ssl_on_both_sides_works(certs):
    plain = config(certs)
    plain.options.disable_ssl = True
    assert refused(plain, config(certs)) is False
    assert refused(config(certs), plain) is False
    other = config(certs)
    other.options.disable_ssl = True
    assert 'transport="tcp"' in ping_pong(plain, other)


def test_a_wrong_passphrase_fails_the_endpoint_naming_the_key(certs):
    cfg = signed(certs, encrypted=True)
    cfg.openssl_passphrase = "WRONG PASSWORD"
    with pytest.raises(brook.InvalidArgument, match="passphrase"):
        brook.Endpoint(cfg)


def _transport(cfg_a, cfg_b):
    with brook.Endpoint(cfg_a) as a, brook.Endpoint(cfg_b) as b:
        port = a.listen("127.0.0.1", 0)
        if not b.peer("127.0.0.1", port, 0):
            return None
        return "tcp" if 'transport="tcp"' in b.metrics().text else "tls"


def test_broker_conf_in_the_working_directory_is_read_unless_ignored(tmp_path, monkeypatch):
    (tmp_path / "broker.conf").write_text(
        "# as Broker reads it\nbroker {\n  disable-ssl = true\n  nonsense = 1\n}\n")
    monkeypatch.chdir(tmp_path)
    plain = brook.Configuration(brook.BrokerOptions())
    with pytest.warns(UserWarning, match="broker.nonsense"):
        assert _transport(plain, plain) == "tcp"
    opts = brook.BrokerOptions()
    opts.ignore_broker_conf = True
    assert _transport(brook.Configuration(opts), brook.Configuration(opts)) == "tls"
    (tmp_path / "broker.conf").write_text("broker { peer-buffer-size = many }\n")
    with pytest.raises(brook.InvalidArgument, match="broker.peer-buffer-size"):
        brook.Endpoint(brook.Configuration(brook.BrokerOptions()))
