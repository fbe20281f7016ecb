//! TLS as Broker does it, between endpoints over loopback: anonymous by default, with
//! certificates when configured, in both roles; and every way it can fail (an untrusted or
//! missing certificate, TLS meeting plain TCP, unusable credentials, a silent client).
//! The certificates are made here, in a scratch directory.

mod common;

use brook::{Config, Data, Endpoint, ErrorKind, SslOptions, StatusKind};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::symm::Cipher;
use openssl::x509::extension::BasicConstraints;
use openssl::x509::{X509, X509NameBuilder};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const PASSPHRASE: &str = "12345";

/// A scratch directory with a CA, a certificate it signed (with its key in the clear and
/// encrypted), and a self-signed certificate.
struct Certs {
    dir: PathBuf,
}

fn key() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
}

fn cert(cn: &str, key: &PKey<Private>, issuer: Option<(&X509, &PKey<Private>)>, ca: bool) -> X509 {
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(64, MsbOption::MAYBE_ZERO, false).unwrap();
    b.set_serial_number(&serial.to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(issuer.map_or(&name, |(c, _)| c.subject_name()))
        .unwrap();
    b.set_pubkey(key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(2).unwrap())
        .unwrap();
    if ca {
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
            .unwrap();
    }
    b.sign(issuer.map_or(key, |(_, k)| k), MessageDigest::sha256())
        .unwrap();
    b.build()
}

impl Certs {
    fn new(name: &str) -> Certs {
        let dir = std::env::temp_dir().join(format!("brook-tls-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let write = |file: &str, bytes: Vec<u8>| std::fs::write(dir.join(file), bytes).unwrap();
        let (ca_key, node_key, self_key) = (key(), key(), key());
        let ca = cert("brook test CA", &ca_key, None, true);
        let node = cert("node", &node_key, Some((&ca, &ca_key)), false);
        let own = cert("self-signed", &self_key, None, true);
        write("ca.pem", ca.to_pem().unwrap());
        write("cert.1.pem", node.to_pem().unwrap());
        write("key.1.pem", node_key.private_key_to_pem_pkcs8().unwrap());
        let enc = node_key
            .private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), PASSPHRASE.as_bytes())
            .unwrap();
        write("key.1.enc.pem", enc);
        write("cert.self-signed.pem", own.to_pem().unwrap());
        write(
            "key.self-signed.pem",
            self_key.private_key_to_pem_pkcs8().unwrap(),
        );
        Certs { dir }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Config with the CA-signed certificate (its key encrypted if `encrypted`).
    fn signed(&self, encrypted: bool) -> Config {
        let key = if encrypted {
            "key.1.enc.pem"
        } else {
            "key.1.pem"
        };
        self.config(
            "cert.1.pem",
            key,
            "ca.pem",
            encrypted.then(|| PASSPHRASE.into()),
        )
    }

    /// Config with the self-signed certificate, trusting only itself.
    fn self_signed(&self) -> Config {
        self.config(
            "cert.self-signed.pem",
            "key.self-signed.pem",
            "cert.self-signed.pem",
            None,
        )
    }

    fn config(&self, cert: &str, key: &str, ca: &str, passphrase: Option<String>) -> Config {
        Config {
            ssl: SslOptions {
                certificate: Some(self.path(cert)),
                key: Some(self.path(key)),
                passphrase,
                cafile: Some(self.path(ca)),
                capath: None,
            },
            ..Config::default()
        }
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Peers `connecting` with `listening` and checks that a message crosses each way; the
/// transport they used.
fn exchange(listening: &Endpoint, connecting: &Endpoint) -> &'static str {
    let port = listening.listen("127.0.0.1", 0).unwrap();
    let (s1, s2) = (
        listening.subscribe(&["/tls"]).unwrap(),
        connecting.subscribe(&["/tls"]).unwrap(),
    );
    connecting
        .peer("127.0.0.1", port, Duration::ZERO)
        .unwrap_or_else(|e| panic!("peering failed: {e}"));
    for (from, to) in [(connecting, &s1), (listening, &s2)] {
        let deadline = Instant::now() + Duration::from_secs(5);
        while from.peer_subscriptions().unwrap().is_empty() {
            assert!(Instant::now() < deadline, "no subscription arrived");
            std::thread::sleep(Duration::from_millis(5));
        }
        from.publish("/tls/x", &Data::from("ping")).unwrap();
        let m = to
            .get(Some(Duration::from_secs(5)))
            .unwrap()
            .expect("a message");
        assert_eq!(m.data().unwrap(), Data::from("ping"));
    }
    connecting.metrics().unwrap().peers[0].transport
}

/// Tries to peer and expects it to fail, with the connecting side's error event.
fn refused(listening: &Endpoint, connecting: &Endpoint) -> (brook::Error, brook::StatusEvent) {
    let port = listening.listen("127.0.0.1", 0).unwrap();
    let st = connecting.status_subscriber(true).unwrap();
    let err = connecting
        .peer("127.0.0.1", port, Duration::ZERO)
        .expect_err("the peering must fail");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ev = st.get(Some(left)).unwrap().expect("an error event");
        if matches!(ev.kind, StatusKind::Error(_)) {
            return (err, ev);
        }
    }
}

#[test]
fn anonymous_tls_is_the_default_in_both_roles() {
    let (a, b) = (
        Endpoint::new(Config::default()).unwrap(),
        Endpoint::new(Config::default()).unwrap(),
    );
    assert_eq!(exchange(&a, &b), "tls");
    let (c, d) = (
        Endpoint::new(Config::default()).unwrap(),
        Endpoint::new(Config::default()).unwrap(),
    );
    assert_eq!(exchange(&d, &c), "tls");
}

#[test]
fn certificates_signed_by_the_ca_peer_also_with_an_encrypted_key() {
    let certs = Certs::new("signed");
    let (a, b) = (
        Endpoint::new(certs.signed(false)).unwrap(),
        Endpoint::new(certs.signed(true)).unwrap(),
    );
    exchange(&a, &b);
    exchange(&b, &Endpoint::new(certs.signed(false)).unwrap());
}

#[test]
fn a_self_signed_certificate_that_trusts_itself_peers() {
    let certs = Certs::new("self");
    let (a, b) = (
        Endpoint::new(certs.self_signed()).unwrap(),
        Endpoint::new(certs.self_signed()).unwrap(),
    );
    exchange(&a, &b);
}

#[test]
fn an_untrusted_certificate_is_refused_in_both_roles() {
    let certs = Certs::new("untrusted");
    for (listen, connect) in [
        (certs.signed(false), certs.self_signed()),
        (certs.self_signed(), certs.signed(false)),
    ] {
        let (a, b) = (
            Endpoint::new(listen).unwrap(),
            Endpoint::new(connect).unwrap(),
        );
        let (err, ev) = refused(&a, &b);
        assert_eq!(err.kind, ErrorKind::PeerUnavailable, "{err}");
        assert_eq!(
            ev.kind,
            StatusKind::Error(brook::wire::ErrorCode::PeerUnavailable)
        );
        assert!(
            ev.message.contains("TLS handshake failed"),
            "{}",
            ev.message
        );
        assert!(a.peers().unwrap().is_empty() && b.metrics().unwrap().peers.is_empty());
    }
}

#[test]
fn certificates_on_one_side_only_are_refused_in_both_roles() {
    let certs = Certs::new("one-sided");
    for (listen, connect) in [
        (certs.signed(false), Config::default()),
        (Config::default(), certs.signed(false)),
    ] {
        let (a, b) = (
            Endpoint::new(listen).unwrap(),
            Endpoint::new(connect).unwrap(),
        );
        let (err, ev) = refused(&a, &b);
        assert_eq!(err.kind, ErrorKind::PeerUnavailable, "{err}");
        assert_eq!(
            ev.kind,
            StatusKind::Error(brook::wire::ErrorCode::PeerUnavailable)
        );
        // TLS 1.2 fails in the handshake; in TLS 1.3 the server refuses the missing client
        // certificate after the client's part is done, with an alert (or, if the client
        // was writing then, a reset).
        assert!(ev.message.contains("TLS"), "{}", ev.message);
    }
}

#[test]
fn tls_meeting_plain_tcp_fails_and_says_so_in_both_roles() {
    let plain = || {
        Endpoint::new(Config {
            disable_ssl: true,
            ..Config::default()
        })
        .unwrap()
    };
    let tls = || Endpoint::new(Config::default()).unwrap();
    for (a, b) in [(plain(), tls()), (tls(), plain())] {
        let (err, ev) = refused(&a, &b);
        assert_eq!(err.kind, ErrorKind::PeerUnavailable, "{err}");
        assert!(ev.message.contains("disable_ssl"), "{}", ev.message);
        // The listener goes on serving peers that speak its language.
        let good = if a.metrics().unwrap().listeners[0].transport == "tls" {
            tls()
        } else {
            plain()
        };
        exchange(&a, &good);
    }
}

#[test]
fn unusable_credentials_fail_the_endpoint_naming_the_cause() {
    let certs = Certs::new("bad");
    let bad = |ssl: SslOptions, want: &str| {
        let err = Endpoint::new(Config {
            ssl,
            ..Config::default()
        })
        .err()
        .expect("unusable credentials");
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        assert!(err.message.contains(want), "{want:?} not in {err}");
    };
    let base = certs.signed(false).ssl;
    bad(
        SslOptions {
            certificate: Some(certs.path("missing.pem")),
            ..base.clone()
        },
        "missing.pem",
    );
    bad(
        SslOptions {
            key: Some(certs.path("missing-key.pem")),
            ..base.clone()
        },
        "cannot read the private key",
    );
    bad(
        SslOptions {
            key: Some(certs.path("key.1.enc.pem")),
            passphrase: Some("WRONG".into()),
            ..base.clone()
        },
        "wrong passphrase",
    );
    bad(
        SslOptions {
            key: Some(certs.path("key.1.enc.pem")),
            ..base.clone()
        },
        "encrypted without a passphrase",
    );
    bad(
        SslOptions {
            key: Some(certs.path("key.self-signed.pem")),
            ..base.clone()
        },
        "match the certificate",
    );
    bad(
        SslOptions {
            cafile: Some(certs.path("no-ca.pem")),
            ..base
        },
        "CA certificates",
    );
}

#[test]
fn a_silent_tls_client_is_dropped_at_the_handshake_timeout_and_harms_nobody() {
    let a = Endpoint::new(Config {
        handshake_timeout: Duration::from_millis(300),
        ..Config::default()
    })
    .unwrap();
    let port = a.listen("127.0.0.1", 0).unwrap();
    let mut silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // Meanwhile a real peer gets through.
    let b = Endpoint::new(Config::default()).unwrap();
    b.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    let started = Instant::now();
    let mut got = Vec::new();
    silent
        .read_to_end(&mut got)
        .expect("closed by the endpoint");
    assert!(
        got.is_empty(),
        "a TLS server says nothing before the ClientHello"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(a.peers().unwrap().len(), 1, "only the real peer is left");
}

// ---- the hello messages against a default Broker's (captures/tls-default.pcap) ----

/// What a TLS ClientHello or ServerHello says, as far as compatibility goes.
#[derive(Debug, PartialEq)]
struct Hello {
    /// The offered suites (ClientHello) or the chosen one (ServerHello).
    suites: Vec<u16>,
    /// `supported_groups`, `supported_versions` (offered, or chosen), extension types.
    groups: Vec<u16>,
    versions: Vec<u16>,
    extensions: Vec<u16>,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn u16s(b: &[u8]) -> Vec<u16> {
    b.chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

/// Parses the handshake message that opens TLS record `rec` (type 1 or 2).
fn hello(rec: &[u8]) -> Hello {
    assert_eq!(rec[0], 0x16, "a handshake record");
    let msg = &rec[5..];
    let client = msg[0] == 1;
    // type, length(3), version(2), random(32), session id
    let mut at = 4 + 2 + 32;
    at += 1 + msg[at] as usize;
    let suites = if client {
        let n = u16_at(msg, at) as usize;
        at += 2 + n;
        u16s(&msg[at - n..at])
    } else {
        at += 2;
        vec![u16_at(msg, at - 2)]
    };
    // compression methods: a list in a ClientHello, one byte in a ServerHello
    at += if client { 1 + msg[at] as usize } else { 1 };
    let end = at + 2 + u16_at(msg, at) as usize;
    at += 2;
    let (mut groups, mut versions, mut extensions) = (Vec::new(), Vec::new(), Vec::new());
    while at < end {
        let (kind, len) = (u16_at(msg, at), u16_at(msg, at + 2) as usize);
        let body = &msg[at + 4..at + 4 + len];
        extensions.push(kind);
        match kind {
            10 => groups = u16s(&body[2..]),
            43 if client => versions = u16s(&body[1..]),
            43 => versions = u16s(body),
            _ => {}
        }
        at += 4 + len;
    }
    extensions.sort();
    Hello {
        suites,
        groups,
        versions,
        extensions,
    }
}

/// The TCP payloads of a pcap (Ethernet, IPv4), in order, that start a TLS handshake record
/// of message type `kind`.
fn captured(kind: u8) -> Vec<Vec<u8>> {
    let pcap = std::fs::read(common::golden_dir().join("captures/tls-default.pcap")).unwrap();
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let len = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        let pkt = &pcap[at + 16..at + 16 + len];
        at += 16 + len;
        let ip = &pkt[14..];
        let tcp = &ip[((ip[0] & 0xf) as usize) * 4..];
        let data = &tcp[((tcp[12] >> 4) as usize) * 4..];
        if data.len() > 5 && data[0] == 0x16 && data[5] == kind {
            out.push(data.to_vec());
        }
    }
    out
}

/// Reads one whole TLS record from `s`.
fn record(s: &mut TcpStream) -> Vec<u8> {
    let mut head = [0u8; 5];
    s.read_exact(&mut head).unwrap();
    let mut rec = head.to_vec();
    rec.resize(5 + u16_at(&head, 3) as usize, 0);
    s.read_exact(&mut rec[5..]).unwrap();
    rec
}

#[test]
fn brooks_client_hello_offers_what_a_default_brokers_does() {
    let broker = hello(&captured(1)[0]);
    assert_eq!(broker.suites, [0x1302, 0x1303, 0x1301, 0xc019, 0x00ff]);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let ep = Endpoint::new(Config::default()).unwrap();
    ep.peer_nosync("127.0.0.1", l.local_addr().unwrap().port(), Duration::ZERO)
        .unwrap();
    let (mut s, _) = l.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let ours = hello(&record(&mut s));
    assert_eq!(ours.suites, broker.suites);
    assert_eq!(ours.groups, [0x0018], "secp384r1 only");
    assert_eq!(ours.groups, broker.groups);
    assert_eq!(ours.versions, broker.versions, "TLS 1.3 and 1.2");
}

#[test]
fn brooks_server_answers_a_brokers_client_hello_as_a_default_broker_does_but_for_etm() {
    let broker = hello(&captured(2)[0]);
    assert_eq!(broker.suites, [0xc019]);
    let ep = Endpoint::new(Config::default()).unwrap();
    let port = ep.listen("127.0.0.1", 0).unwrap();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // Broker's own ClientHello, replayed.
    s.write_all(&captured(1)[0]).unwrap();
    let ours = hello(&record(&mut s));
    assert_eq!(ours.suites, [0xc019], "TLS_ECDH_anon_WITH_AES_256_CBC_SHA");
    // The same extensions, but for encrypt_then_mac (22), which brook declines (spec §1.2
    // allows it) for OpenSSL's stitched MAC-then-encrypt.
    let mut want = broker.extensions.clone();
    want.retain(|&e| e != 22);
    assert_ne!(
        want, broker.extensions,
        "Broker's server takes encrypt_then_mac"
    );
    assert_eq!(ours.extensions, want, "{ours:?} against {broker:?}");
}
