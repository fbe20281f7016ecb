//! Everything a peer can send: frames split from a byte stream, then each payload read as
//! a handshake message, an envelope, a filter and a store command. Whatever decodes must
//! re-encode.
#![no_main]
use brook::store::InternalCommand;
use brook::wire::envelope::Envelope;
use brook::wire::frame::FrameReader;
use brook::wire::handshake::Handshake;
use brook::wire::Filter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let mut rest = bytes;
    while let Ok((Some(payload), n)) = FrameReader::phase3().next_frame(rest) {
        rest = &rest[n..];
        if let Ok(h) = Handshake::decode(payload) {
            let mut out = Vec::new();
            let _ = h.encode_frame(&mut out);
        }
        if let Ok(env) = Envelope::parse(payload) {
            let mut out = Vec::new();
            let _ = env.write_frame(&mut out);
            if let Ok(f) = Filter::decode(env.payload) {
                let mut out = Vec::new();
                f.encode_into(&mut out).expect("a decoded filter encodes");
            }
            if let Ok(cmd) = InternalCommand::decode(env.payload) {
                let mut out = Vec::new();
                cmd.encode_into(&mut out).expect("a decoded command encodes");
                InternalCommand::decode(&out).expect("a re-encoded command decodes");
            }
        }
    }
});
