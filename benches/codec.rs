//! `make bench`: encode and decode rates of Broker's binary format v1 and of the JSON
//! encoding, for a small Zeek event and a 1 KiB string. Prints values/s, MB/s and ns/value.
//!
//! Each figure is the best of several one-second rounds, so a busy second core skews it less.

use brook::data::{Data, bin, json, zeek};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn rate(name: &str, bytes_per_op: usize, mut op: impl FnMut()) {
    // Calibrate a batch that takes about 10 ms.
    let mut batch = 1u64;
    loop {
        let t = Instant::now();
        for _ in 0..batch {
            op();
        }
        if t.elapsed() > Duration::from_millis(10) {
            break;
        }
        batch *= 2;
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let mut n = 0u64;
        while t.elapsed() < Duration::from_millis(400) {
            for _ in 0..batch {
                op();
            }
            n += batch;
        }
        best = best.min(t.elapsed().as_secs_f64() / n as f64);
    }
    println!(
        "{name:<34} {:>12.0} values/s {:>9.1} MB/s {:>9.1} ns/value",
        1.0 / best,
        bytes_per_op as f64 / best / 1e6,
        best * 1e9
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let event: Data = zeek::Event::new("bench_event", vec![Data::Count(1)]).into();
    let event_bytes = bin::encode(&event).unwrap();
    let string = Data::String(vec![b'x'; 1024]);
    let string_bytes = bin::encode(&string).unwrap();
    println!(
        "brook codec benchmark (small event: {} bytes, 1 KiB string: {} bytes)",
        event_bytes.len(),
        string_bytes.len()
    );

    let mut buf = Vec::with_capacity(2048);
    rate("bin encode small event", event_bytes.len(), || {
        buf.clear();
        bin::encode_into(black_box(&event), &mut buf).unwrap();
        black_box(&buf);
    });
    rate("bin decode small event", event_bytes.len(), || {
        black_box(bin::decode(black_box(&event_bytes)).unwrap());
    });
    rate("bin decode small event -> Event", event_bytes.len(), || {
        let d = bin::decode(black_box(&event_bytes)).unwrap();
        black_box(zeek::Event::try_from(d).unwrap());
    });
    rate("bin decode small event direct", event_bytes.len(), || {
        black_box(zeek::Event::from_bytes(black_box(&event_bytes)).unwrap());
    });
    rate("bin validate small event", event_bytes.len(), || {
        bin::validate(black_box(&event_bytes)).unwrap();
    });
    rate("bin build+encode Event", event_bytes.len(), || {
        let e = zeek::Event::new("bench_event", vec![Data::Count(black_box(1))]);
        buf.clear();
        bin::encode_into(&e.into(), &mut buf).unwrap();
        black_box(&buf);
    });
    rate("bin encode 1 KiB string", string_bytes.len(), || {
        buf.clear();
        bin::encode_into(black_box(&string), &mut buf).unwrap();
        black_box(&buf);
    });
    rate("bin decode 1 KiB string", string_bytes.len(), || {
        black_box(bin::decode(black_box(&string_bytes)).unwrap());
    });

    let event_json = json::encode(&event);
    let string_json = json::encode(&string);
    rate("json encode small event", event_json.len(), || {
        black_box(json::encode(black_box(&event)));
    });
    rate("json decode small event", event_json.len(), || {
        black_box(json::decode(black_box(&event_json)).unwrap());
    });
    rate("json encode 1 KiB string", string_json.len(), || {
        black_box(json::encode(black_box(&string)));
    });
    rate("json decode 1 KiB string", string_json.len(), || {
        black_box(json::decode(black_box(&string_json)).unwrap());
    });
}
