//! Data stores over real peerings: a master and clones on endpoints that peer over
//! loopback TCP, replicating every operation.

use brook::wire::ErrorCode;
use brook::{Config, Data, Endpoint, ErrorKind};
use std::time::{Duration, Instant};

fn endpoint() -> Endpoint {
    Endpoint::new(Config::default()).unwrap()
}

fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A master on `a` and a clone on `b`, peered; returns once the clone has its snapshot.
fn master_and_clone(name: &str) -> (Endpoint, brook::Store, Endpoint, brook::Store) {
    let a = endpoint();
    let master = a.attach_master(name, brook::Backend::Memory).unwrap();
    let port = a.listen("127.0.0.1", 0).unwrap();
    let b = endpoint();
    b.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    let clone = b.attach_clone(name).unwrap();
    (a, master, b, clone)
}

#[test]
fn a_clone_sees_the_masters_writes_and_writes_through_it() {
    let (_a, master, _b, clone) = master_and_clone("test/basic");
    master.put("k", 1u64, None).unwrap();
    eventually("the put at the clone", || {
        clone.get("k").ok() == Some(Data::Count(1))
    });
    clone.put("from-clone", "x", None).unwrap();
    clone.await_idle().unwrap();
    eventually("the clone's write at the master", || {
        master.get("from-clone").ok() == Some(Data::from("x"))
    });
    // A counter incremented from both sides.
    for _ in 0..10 {
        master.increment("n", 1u64, None).unwrap();
        clone.increment("n", 1u64, None).unwrap();
    }
    clone.await_idle().unwrap();
    eventually("20 increments", || {
        master.get("n").ok() == Some(Data::Count(20))
    });
    eventually("20 increments at the clone", || {
        clone.get("n").ok() == Some(Data::Count(20))
    });
    assert!(master.exists("k").unwrap());
    let e = master.get("missing").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Store(ErrorCode::NoSuchKey), "{e}");
}

#[test]
fn put_unique_answers_and_a_second_master_is_refused() {
    let (a, master, b, clone) = master_and_clone("test/unique");
    assert!(clone.put_unique("u", 1u64, None).unwrap());
    assert!(!clone.put_unique("u", 2u64, None).unwrap());
    assert!(!master.put_unique("u", 3u64, None).unwrap());
    assert_eq!(master.get("u").unwrap(), Data::Count(1));
    let e = a
        .attach_master("test/unique", brook::Backend::Memory)
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::Store(ErrorCode::MasterExists));
    let e = b
        .attach_master("test/unique", brook::Backend::Memory)
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::Store(ErrorCode::MasterExists));
}

#[test]
fn expiry_at_the_master_reaches_the_clone() {
    let (_a, master, _b, clone) = master_and_clone("test/expiry");
    master
        .put("short", "lived", Some(Duration::from_millis(300)))
        .unwrap();
    eventually("the put at the clone", || {
        clone.exists("short").unwrap_or(false)
    });
    eventually("the expiry at the master", || {
        !master.exists("short").unwrap()
    });
    eventually("the expiry at the clone", || {
        !clone.exists("short").unwrap()
    });
}

#[test]
fn a_late_clone_gets_a_snapshot() {
    let a = endpoint();
    let master = a
        .attach_master("test/late", brook::Backend::Memory)
        .unwrap();
    for i in 0..100u64 {
        master.put(i, i * 2, None).unwrap();
    }
    let port = a.listen("127.0.0.1", 0).unwrap();
    let b = endpoint();
    b.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    let clone = b.attach_clone("test/late").unwrap();
    eventually("the snapshot", || {
        clone.get(99u64).ok() == Some(Data::Count(198))
    });
    let Data::Set(keys) = clone.keys().unwrap() else {
        panic!("keys is a set")
    };
    assert_eq!(keys.len(), 100);
}

#[test]
fn store_events_reach_local_subscribers() {
    let (a, master, _b, _clone) = master_and_clone("test/events");
    let sub = a
        .subscribe(&["<$>/local/data/store-events/test/events"])
        .unwrap();
    master.put("e", 1u64, None).unwrap();
    master.put("e", 2u64, None).unwrap();
    master.erase("e").unwrap();
    let kinds: Vec<String> = (0..3)
        .map(|_| {
            let m = sub
                .get(Some(Duration::from_secs(5)))
                .unwrap()
                .expect("an event");
            let Data::Vector(v) = m.data().unwrap() else {
                panic!("an event is a vector")
            };
            String::from_utf8(v[0].as_bytes().unwrap().to_vec()).unwrap()
        })
        .collect();
    assert_eq!(kinds, ["insert", "update", "erase"]);
}

#[test]
fn a_proxy_answers_on_its_queue_and_sees_the_end_of_its_endpoint() {
    let a = endpoint();
    let master = a
        .attach_master("test/proxy", brook::Backend::Memory)
        .unwrap();
    let proxy = master.proxy().unwrap();
    let put = proxy.put("k", Data::Count(7), None).unwrap();
    let get = proxy.get("k").unwrap();
    let missing = proxy.get("nope").unwrap();
    let mut answers = std::collections::HashMap::new();
    for _ in 0..3 {
        let r = proxy
            .receive(Some(Duration::from_secs(5)))
            .unwrap()
            .expect("an answer");
        answers.insert(r.id, r.result);
    }
    assert_eq!(answers[&put], Ok(Data::None));
    assert_eq!(answers[&get], Ok(Data::Count(7)));
    let e = answers[&missing].clone().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Store(ErrorCode::NoSuchKey));
    a.shutdown();
    let e = proxy.receive(None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Closed);
}

#[test]
fn a_clone_attaching_to_a_100_mib_store_gets_all_of_it() {
    // 100 values of 1 MiB: the clone's snapshot is one frame of 100 MiB (ack_clone).
    let a = endpoint();
    let master = a
        .attach_master("test/huge", brook::Backend::Memory)
        .unwrap();
    let value = |i: u64| Data::String(vec![b'a' + (i % 26) as u8; 1 << 20]);
    for i in 0..100u64 {
        master.put(i, value(i), None).unwrap();
    }
    let port = a.listen("127.0.0.1", 0).unwrap();
    let b = endpoint();
    b.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    let start = Instant::now();
    let clone = b.attach_clone("test/huge").unwrap();
    // The first read waits for the snapshot (up to Broker's max-get-delay, 5 s): it gets
    // the data, not stale_data.
    assert_eq!(clone.get(99u64).unwrap(), value(99));
    eprintln!(
        "a 100 MiB snapshot reached the clone in {:?}",
        start.elapsed()
    );
    for i in [0u64, 42, 98] {
        assert_eq!(clone.get(i).unwrap(), value(i));
    }
    let Data::Set(keys) = clone.keys().unwrap() else {
        panic!("keys is a set")
    };
    assert_eq!(keys.len(), 100);
    // And the clone keeps replicating.
    master.put("after", 1u64, None).unwrap();
    eventually("a later put", || {
        clone.get("after").ok() == Some(Data::Count(1))
    });
}
