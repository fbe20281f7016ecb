//! The text parser on untrusted input; whatever parses must render and encode.
#![no_main]
use brook::data::{bin, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if let Ok(d) = text::parse(s) {
        let _ = text::render(&d);
        bin::encode(&d).expect("a parsed value encodes");
    }
});
