//! bin-v1 decoding of untrusted bytes, then everything a receiver does with a value: render
//! it, read it as a Zeek message, re-encode it and decode that again.
#![no_main]
use brook::data::{bin, json, text, zeek};
use brook::{Data, Subnet};
use libfuzzer_sys::fuzz_target;

/// Subnets as Broker's constructor makes them. bin v1 also carries unmasked addresses and
/// odd lengths (Broker accepts them too); JSON cannot express those exactly.
fn canonical(d: &Data) -> bool {
    match d {
        Data::Subnet(s) => {
            let max = if s.network.is_v4() { 32 } else { 128 };
            s.prefix_len() <= max && Subnet::new(s.network, s.prefix_len()) == *s
        }
        Data::Vector(v) => v.iter().all(canonical),
        Data::Set(s) => s.iter().all(canonical),
        Data::Table(t) => t.iter().all(|(k, v)| canonical(k) && canonical(v)),
        _ => true,
    }
}

fuzz_target!(|bytes: &[u8]| {
    // The reactor's one-loop validation agrees with the recursive one, and passes all that
    // decodes.
    let valid = bin::validate(bytes).is_ok();
    assert_eq!(valid, bin::validate_slow(bytes).is_ok());
    if let Ok(d) = bin::decode(bytes) {
        assert!(valid, "decodes but does not validate");
        let _ = text::render(&d);
        let js = json::encode(&d);
        if canonical(&d) {
            let back = json::decode(&js).expect("brook reads its own JSON");
            assert_eq!(bin::encode(&back).ok(), bin::encode(&d).ok());
        }
        let again = bin::encode(&d).expect("a decoded value re-encodes");
        bin::decode(&again).expect("a re-encoded value decodes");
        let _ = zeek::Message::try_from(d);
    }
});
