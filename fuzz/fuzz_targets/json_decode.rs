//! JSON decoding of untrusted input (values and WebSocket data messages); whatever decodes
//! must survive brook's own encoders.
#![no_main]
use brook::data::{bin, json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(d) = json::decode(bytes) {
        let again = json::decode(&json::encode(&d)).expect("brook reads its own JSON");
        assert_eq!(bin::encode(&again).ok(), bin::encode(&d).ok());
    }
    if let Ok((topic, d)) = json::decode_data_message(bytes) {
        let msg = json::encode_data_message(&topic, &d);
        json::decode_data_message(&msg).expect("brook reads its own data message");
    }
});
