//! bin-v1 decoding of untrusted bytes, then everything a receiver does with a value: render
//! it, read it as a Zeek message, re-encode it and decode that again.
#![no_main]
use brook::data::{bin, json, text, zeek};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(d) = bin::decode(bytes) {
        let _ = text::render(&d);
        let js = json::encode(&d);
        json::decode(&js).expect("brook reads its own JSON");
        let again = bin::encode(&d).expect("a decoded value re-encodes");
        bin::decode(&again).expect("a re-encoded value decodes");
        let _ = zeek::Message::try_from(d);
    }
});
