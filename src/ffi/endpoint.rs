//! `brook_endpoint`: an endpoint's life (start, shutdown, free), listening and peering, and
//! publishing. Its options are `config.rs`'s, its peer lists `peers.rs`'s.
//!
//! An endpoint is shared between C threads, so every call reaches it through a shared
//! reference (`arg`, never `arg_mut`): `Endpoint`'s methods all take `&self`. Calls that wait
//! for the reactor (peer, publish, flush) return `BROOK_STATUS_CLOSED` when another thread
//! shuts the endpoint down meanwhile, because the reactor's channels then disconnect.

use std::ffi::c_char;
use std::time::Duration;

use super::config::brook_config;
use super::container::values_arg;
use super::data::brook_data;
use super::event::brook_event;
use super::memory::string_into_raw;
use super::{
    FfiResult, arg, brook_status, bytes_arg, cstr_arg, guard, guard_or, optional, optional_out,
    out, str_arg,
};
use crate::endpoint::{Config, Endpoint};
use crate::wire::EndpointId;

/// An endpoint: one reactor thread with its listeners, peers and subscriptions.
///
/// Safe to share between threads. Free with brook_endpoint_free().
pub struct brook_endpoint {
    pub(crate) inner: Endpoint,
}

/// The endpoint behind a pointer from C.
pub(crate) fn endpoint<'a>(ep: *const brook_endpoint) -> FfiResult<&'a Endpoint> {
    Ok(&arg(ep, "endpoint")?.inner)
}

/// Starts an endpoint, with a fresh random ID, and its reactor thread. `config` may be NULL
/// for the defaults; the endpoint keeps a copy of it.
///
/// Caller owns the result; free it with brook_endpoint_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_endpoint` is NULL, BROOK_STATUS_IO if the
/// thread or its poller cannot be made. Out-parameters are written only when the call
/// returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_new(
    config: *const brook_config,
    out_endpoint: *mut *mut brook_endpoint,
) -> brook_status {
    guard(|| {
        let out_endpoint = out(out_endpoint, "out_endpoint")?;
        let config = optional(config).map_or_else(Config::default, |c| c.inner.clone());
        let inner = Endpoint::new(config)?;
        out_endpoint.write(Box::into_raw(Box::new(brook_endpoint { inner })));
        Ok(())
    })
}

/// Stops the endpoint: says goodbye to every peer (waiting up to the unpeer timeout for
/// their answers), sends what is queued, and ends the reactor thread. Calling it again
/// does nothing.
///
/// Afterwards every call on the endpoint except brook_endpoint_id() returns
/// BROOK_STATUS_CLOSED, and so do calls that other threads are waiting in (peer, publish,
/// flush, brook_subscriber_next(), ...). Subscribers stay valid: they hand out what they
/// hold, then return BROOK_STATUS_CLOSED.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `endpoint` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_shutdown(endpoint: *mut brook_endpoint) -> brook_status {
    guard(|| {
        let _ = self::endpoint(endpoint)?.shutdown();
        Ok(())
    })
}

/// Stops the endpoint as brook_endpoint_shutdown() does, and tells how many messages the
/// shutdown could not deliver: messages queued for a peer that did not take them within
/// the unpeer timeout (brook_config_set_unpeer_timeout_ms(), 3 s by default). They are
/// also counted in BROOK_ENDPOINT_COUNTER_DISCARDED and reported as an error status event.
/// A second call writes 0.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_shutdown_report(
    endpoint: *mut brook_endpoint,
    out_undelivered: *mut u64,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let out_undelivered = out(out_undelivered, "out_undelivered")?;
        out_undelivered.write(ep.shutdown());
        Ok(())
    })
}

/// Shuts the endpoint down as brook_endpoint_shutdown() does, then frees it. NULL does
/// nothing. Its subscribers stay valid and must still be freed.
///
/// Consumes `endpoint`: do not use or free it afterwards. No other thread may be using it:
/// to release threads that wait in it, call brook_endpoint_shutdown() first and free it
/// once they have returned.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_free(endpoint: *mut brook_endpoint) {
    guard_or((), || {
        if !endpoint.is_null() {
            // SAFETY: `endpoint` came from `brook_endpoint_new`, by contract.
            drop(unsafe { Box::from_raw(endpoint) });
        }
    })
}

/// Copies the endpoint's ID, 16 bytes, to `out_id16`. Works after shutdown too.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_id(
    endpoint: *const brook_endpoint,
    out_id16: *mut u8,
) -> brook_status {
    guard(|| {
        let id = self::endpoint(endpoint)?.id();
        out(out_id16.cast::<[u8; 16]>(), "out_id16")?.write(id.0);
        Ok(())
    })
}

/// Renders a 16-byte endpoint ID (from brook_endpoint_id(), brook_endpoint_peer(), a peer
/// list or a status event) as Broker does: `8-4-4-4-12` lowercase hex digits, such as
/// `"0b1d5e6c-7a3f-4d2e-9c1b-2f3e4d5c6b7a"`.
///
/// Caller owns the result; free it with brook_string_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_id_to_string(id16: *const u8, out_str: *mut *mut c_char) -> brook_status {
    guard(|| {
        let id = id_arg(id16, "id16")?;
        let out_str = out(out_str, "out_str")?;
        out_str.write(string_into_raw(id.to_string().as_bytes()));
        Ok(())
    })
}

fn id_arg(id16: *const u8, name: &str) -> FfiResult<EndpointId> {
    let bytes = bytes_arg(id16, 16, name)?;
    let mut id = [0u8; 16];
    id.copy_from_slice(bytes);
    Ok(EndpointId(id))
}

/// Listens for peers on `address` (an IP address or a host name; `"0.0.0.0"` or `"::"` for
/// every interface) and `port`, 0 for any free port. `*out_port` (which may be NULL if not
/// wanted) receives the port bound.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `endpoint` or `address` is NULL,
/// BROOK_STATUS_INVALID_ARGUMENT if `address` does not resolve, BROOK_STATUS_IO if the port
/// cannot be bound, BROOK_STATUS_CLOSED after shutdown. Out-parameters are written only
/// when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_listen(
    endpoint: *mut brook_endpoint,
    address: *const c_char,
    port: u16,
    out_port: *mut u16,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let address = str_arg(address, "address")?;
        let out_port = optional_out(out_port);
        let bound = ep.listen(address, port)?;
        if let Some(o) = out_port {
            o.write(bound);
        }
        Ok(())
    })
}

/// Peers with the endpoint listening at `host` and `port`, and waits until the handshake
/// has succeeded or failed (at most the handshake timeout plus 5 seconds). With a non-zero
/// `retry_ms`, brook keeps retrying a failed or lost peering in the background at that
/// interval; this call still reports the first attempt. `out_peer_id16` (which may be NULL
/// if not wanted) receives the peer's 16-byte ID.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `endpoint` or `host` is NULL,
/// BROOK_STATUS_INVALID_ARGUMENT if `host` does not resolve, BROOK_STATUS_PEER_UNAVAILABLE
/// if nobody answers or the handshake fails, BROOK_STATUS_TIMEOUT if the wait ends first,
/// BROOK_STATUS_CLOSED if the endpoint is or gets shut down. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_peer(
    endpoint: *mut brook_endpoint,
    host: *const c_char,
    port: u16,
    retry_ms: u32,
    out_peer_id16: *mut u8,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let host = str_arg(host, "host")?;
        let out_id = optional_out(out_peer_id16.cast::<[u8; 16]>());
        let id = ep.peer(host, port, Duration::from_millis(retry_ms.into()))?;
        if let Some(o) = out_id {
            o.write(id.0);
        }
        Ok(())
    })
}

/// Like brook_endpoint_peer(), but returns at once. The outcome arrives as a status event:
/// peer_added, or the error peer_unavailable.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `host` does not resolve, BROOK_STATUS_CLOSED after shutdown.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_peer_nosync(
    endpoint: *mut brook_endpoint,
    host: *const c_char,
    port: u16,
    retry_ms: u32,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let host = str_arg(host, "host")?;
        Ok(ep.peer_nosync(host, port, Duration::from_millis(retry_ms.into()))?)
    })
}

/// Ends the peering with `host` and `port`, as given to brook_endpoint_peer(), and stops
/// retrying it. Returns once the goodbye is on its way.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `host` does not resolve or there is no such peering, BROOK_STATUS_CLOSED after
/// shutdown.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_unpeer(
    endpoint: *mut brook_endpoint,
    host: *const c_char,
    port: u16,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let host = str_arg(host, "host")?;
        Ok(ep.unpeer(host, port)?)
    })
}

// --- Peer list --------------------------------------------------------------------------

/// Adds `topic` to the topics the endpoint subscribes to on its peers without a local
/// subscriber, so that messages on it reach this endpoint and it forwards them to its other
/// peers (Broker's `forward`).
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_CLOSED after
/// shutdown.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_forward(
    endpoint: *mut brook_endpoint,
    topic: *const c_char,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let topic = cstr_arg(topic, "topic")?;
        Ok(ep.forward(&[topic])?)
    })
}

/// Runs a publish call once the endpoint and the topic are checked.
fn publish(
    endpoint: *mut brook_endpoint,
    topic: *const c_char,
    send: impl FnOnce(&Endpoint, &[u8]) -> crate::Result<()>,
) -> FfiResult {
    let ep = self::endpoint(endpoint)?;
    let topic = cstr_arg(topic, "topic")?;
    Ok(send(ep, topic)?)
}

/// Publishes a copy of `value` on `topic` to the peers subscribed to it. As in Broker, the
/// endpoint's own subscribers do not receive it (brook_endpoint_publish_to() with the
/// endpoint's own ID reaches them). Waits while the publish queue is full, which is how slow
/// peers and their subscribers hold publishers back.
///
/// `value` is only read; the caller still owns it. Safe to call from several threads at
/// once.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `topic` is empty, BROOK_STATUS_ENCODE_ERROR if `value` cannot be encoded for a peer
/// (it nests more than 128 containers, or its frame would exceed the maximum frame size),
/// BROOK_STATUS_CLOSED if the endpoint is or gets shut down.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_publish(
    endpoint: *mut brook_endpoint,
    topic: *const c_char,
    value: *const brook_data,
) -> brook_status {
    guard(|| {
        let value = &arg(value, "value")?.inner;
        publish(endpoint, topic, |ep, t| ep.publish(t, value))
    })
}

/// Like brook_endpoint_publish(), but returns BROOK_STATUS_WOULD_BLOCK instead of waiting
/// when the publish queue is full. The value is then not published.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_try_publish(
    endpoint: *mut brook_endpoint,
    topic: *const c_char,
    value: *const brook_data,
) -> brook_status {
    guard(|| {
        let value = &arg(value, "value")?.inner;
        publish(endpoint, topic, |ep, t| ep.try_publish(t, value))
    })
}

/// Publishes copies of the `n` values `values[0]` to `values[n - 1]` on `topic`, in that
/// order, handing them to the reactor at once: far cheaper per value than one
/// brook_endpoint_publish() each. Waits while the publish queue is full. `values` may be
/// NULL when `n` is 0.
///
/// The values are only read; the caller still owns them. If the call fails, none of them
/// is published.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `endpoint`, `topic`, `values` or one of its
/// elements is NULL (the message names the index), BROOK_STATUS_INVALID_ARGUMENT if `topic`
/// is empty, BROOK_STATUS_ENCODE_ERROR if a value cannot be encoded for a peer (it nests
/// more than 128 containers, or its frame would exceed the maximum frame size; then none is
/// published), BROOK_STATUS_CLOSED if the endpoint is or gets shut down.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_publish_batch(
    endpoint: *mut brook_endpoint,
    topic: *const c_char,
    values: *const *const brook_data,
    n: usize,
) -> brook_status {
    guard(|| {
        let values = values_arg(values, n)?;
        publish(endpoint, topic, |ep, t| ep.publish_batch(t, &values))
    })
}

/// Publishes a Zeek event on `topic`, as brook_endpoint_publish() publishes a value (waiting
/// while the publish queue is full). A Zeek node subscribed to `topic` raises the event.
///
/// `event` is only read; the caller still owns it.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `topic` is empty, BROOK_STATUS_ENCODE_ERROR if the event cannot be encoded for a
/// peer (it nests more than 128 containers, or its frame would exceed the maximum frame
/// size), BROOK_STATUS_CLOSED if the endpoint is or gets shut down.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_publish_event(
    endpoint: *mut brook_endpoint,
    topic: *const c_char,
    event: *const brook_event,
) -> brook_status {
    guard(|| {
        let event = &arg(event, "event")?.inner;
        publish(endpoint, topic, |ep, t| ep.publish_event(t, event))
    })
}

/// Sends a copy of `value` on `topic` to the directly connected peer whose 16-byte ID is
/// `receiver_id16` only, whatever it subscribed to. Waits while the publish queue is full.
/// A message for an endpoint that is not a peer is dropped.
///
/// `value` is only read; the caller still owns it.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `topic` is empty, BROOK_STATUS_ENCODE_ERROR if `value` cannot be encoded for a peer
/// (it nests more than 128 containers, or its frame would exceed the maximum frame size),
/// BROOK_STATUS_CLOSED if the endpoint is or gets shut down.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_publish_to(
    endpoint: *mut brook_endpoint,
    receiver_id16: *const u8,
    topic: *const c_char,
    value: *const brook_data,
) -> brook_status {
    guard(|| {
        let receiver = id_arg(receiver_id16, "receiver_id16")?;
        let value = &arg(value, "value")?.inner;
        publish(endpoint, topic, |ep, t| ep.publish_to(receiver, t, value))
    })
}

/// Waits until everything published so far has been handed to the peers' sockets.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `endpoint` is NULL, BROOK_STATUS_TIMEOUT if that
/// takes longer than 30 seconds, BROOK_STATUS_CLOSED if the endpoint is or gets shut down.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_flush(endpoint: *mut brook_endpoint) -> brook_status {
    guard(|| Ok(self::endpoint(endpoint)?.flush()?))
}
