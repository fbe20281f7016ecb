//! Zeek log records from untrusted bytes: decode a LogWrite's serial data, then what a
//! logger does with the values: check them against fields, render TSV and JSON lines,
//! re-encode and decode again.
#![no_main]
use brook::data::zeek_log::{Field, Stream, ascii, decode_values, encode_values};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(values) = decode_values(bytes) {
        let fields: Vec<_> = values
            .iter()
            .enumerate()
            .map(|(i, v)| Field::new(format!("f{i}"), v.type_tag(), v.subtype_tag(), true))
            .collect();
        let stream = Stream {
            stream_id: "Fuzz::LOG".into(),
            writer_id: "Log::WRITER_ASCII".into(),
            path: None,
            fields: fields.clone(),
        };
        let _ = stream.check(&values);
        let _ = ascii::tsv_line(&values);
        let _ = ascii::json_line(&fields, &values);
        let _ = ascii::tsv_header(b"fuzz", &fields, "x");
        // Zeek's own encoding of what was read (a bool or a present flag may have been
        // written other than as 0 or 1) decodes to the same and is stable.
        let again = encode_values(&values).expect("decoded values re-encode");
        let back = decode_values(&again).expect("a re-encoded record decodes");
        assert_eq!(encode_values(&back).expect("re-encodes"), again);
    }
});
