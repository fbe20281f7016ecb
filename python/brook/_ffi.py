"""The C ABI of libbrook, through ctypes: loading the library and declaring every function.

The library is looked for in this order:
1. the path in the environment variable ``BROOK_LIBRARY``;
2. ``libbrook.so`` next to this file (where ``pip install`` and ``make python`` put it);
3. the system's search path (``ctypes.util.find_library("brook")``, then ``libbrook.so``).

Every function of ``include/brook.h`` is listed in ``SIGNATURES`` below, as its C
prototype. The list is turned into ``argtypes``/``restype`` at import: ctypes would otherwise
assume ``int`` everywhere and truncate pointers. ``python/tests/test_ffi.py`` compares the
list with the header and fails on any function missing or declared differently.

Calls through ``lib`` release the GIL while they run (ctypes.CDLL does so for every call).
"""

import ctypes
import ctypes.util
import os
import re

__all__ = ["lib", "path", "has_stores", "all_prototypes", "parse_prototype"]

_HERE = os.path.dirname(os.path.abspath(__file__))
_NAME = "libbrook.so"


def _candidates():
    env = os.environ.get("BROOK_LIBRARY")
    if env:
        yield env
        return  # an explicit choice is never silently replaced by another library
    yield os.path.join(_HERE, _NAME)
    found = ctypes.util.find_library("brook")
    if found:
        yield found
    yield _NAME


def _load():
    errors = []
    for candidate in _candidates():
        if os.sep in candidate and not os.path.exists(candidate):
            errors.append(f"{candidate}: no such file")
            continue
        try:
            return ctypes.CDLL(candidate), candidate
        except OSError as e:
            errors.append(str(e))
    raise ImportError(
        "brook: cannot load libbrook (set BROOK_LIBRARY to its path, or install the "
        "package with the library inside): " + "; ".join(errors)
    )


lib, path = _load()

P = ctypes.c_void_p
PP = ctypes.POINTER(ctypes.c_void_p)

_SCALARS = {
    "bool": ctypes.c_bool,
    "int": ctypes.c_int,
    "uint16_t": ctypes.c_uint16,
    "uint32_t": ctypes.c_uint32,
    "int32_t": ctypes.c_int32,
    "int64_t": ctypes.c_int64,
    "uint64_t": ctypes.c_uint64,
    "size_t": ctypes.c_size_t,
    "double": ctypes.c_double,
    # C enums are int-sized. Choices going into brook are uint32_t in the header already.
    "brook_status": ctypes.c_int,
    "brook_data_type": ctypes.c_int,
    "brook_protocol": ctypes.c_int,
    "brook_peer_status": ctypes.c_int,
    "brook_status_kind": ctypes.c_int,
    "brook_zeek_kind": ctypes.c_int,
}

# Pointer types that need a choice of their own.
_POINTERS = {
    # Text going in, or static or borrowed text coming out: bytes on the Python side.
    "const char *": ctypes.c_char_p,
    "const char **": ctypes.POINTER(ctypes.c_char_p),
    "const char *const *": ctypes.POINTER(ctypes.c_char_p),
    # Text that brook allocates stays a raw pointer, so that it can be freed.
    "char *": P,
    "char **": PP,
    # Byte buffers going in take bytes objects and ctypes arrays.
    "const uint8_t *": P,
    "uint8_t *": P,
    # Borrowed byte buffers come out as char pointers, which slice into bytes cheaply.
    "const uint8_t **": ctypes.POINTER(ctypes.POINTER(ctypes.c_char)),
    "uint8_t **": PP,
    "const brook_data *const *": PP,
}


def _ctype(c_type):
    """The ctypes type for a (normalised) C type of the header."""
    if c_type in _POINTERS:
        return _POINTERS[c_type]
    base = c_type.replace("const ", "").rstrip("* ")
    stars = c_type.count("*")
    if stars == 0 and base in _SCALARS:
        return _SCALARS[base]
    if base.startswith("brook_") and base not in _SCALARS and stars in (1, 2):
        return P if stars == 1 else PP  # an opaque handle, or a place to put one
    if stars == 1 and base in _SCALARS:
        return ctypes.POINTER(_SCALARS[base])
    raise TypeError(f"brook._ffi: no ctypes mapping for C type {c_type!r}")


_PROTOTYPE = re.compile(r"^\s*(.+?)\s*\b(brook_\w+)\s*\((.*)\)\s*$")


def parse_prototype(text):
    """Splits a C prototype into (name, return type, [parameter types]), whitespace
    normalised and parameter names dropped: `('brook_x', 'brook_status', ['size_t'])`."""
    m = _PROTOTYPE.match(" ".join(text.split()))
    if not m:
        raise ValueError(f"not a brook prototype: {text!r}")
    ret, name, params = m.groups()
    ret = _norm_type(ret)
    types = []
    if params.strip() not in ("", "void"):
        for p in params.split(","):
            p = " ".join(p.split())
            # Drop the parameter name: the last identifier.
            p = re.sub(r"\b\w+$", "", p).strip()
            types.append(_norm_type(p))
    return name, ret, types


def _norm_type(t):
    t = " ".join(t.replace("*", " * ").split())
    return t.replace("* *", "**").replace("* const", "*const").replace(" * ", " *").rstrip()


def declare(library, prototype):
    """Sets argtypes and restype of one function of `library` from its C prototype."""
    name, ret, params = parse_prototype(prototype)
    fn = getattr(library, name)
    fn.restype = _ctype(ret) if ret != "void" else None
    fn.argtypes = [_ctype(p) for p in params]
    return name, fn


# Every function of include/brook.h, as declared there (tests/test_ffi.py checks it).
SIGNATURES = """
const char *brook_last_error(void)
const char *brook_status_str(brook_status s)
const char *brook_version(void)
brook_status brook_data_new_none(brook_data **out_data)
brook_status brook_data_new_bool(bool value, brook_data **out_data)
brook_status brook_data_new_count(uint64_t value, brook_data **out_data)
brook_status brook_data_new_integer(int64_t value, brook_data **out_data)
brook_status brook_data_new_real(double value, brook_data **out_data)
brook_status brook_data_new_string(const uint8_t *buf, size_t len, brook_data **out_data)
brook_status brook_data_new_enum(const uint8_t *buf, size_t len, brook_data **out_data)
brook_status brook_data_new_address_v4(const uint8_t *bytes4, brook_data **out_data)
brook_status brook_data_new_address_v6(const uint8_t *bytes16, brook_data **out_data)
brook_status brook_data_new_address_from_string(const char *text, brook_data **out_data)
brook_status brook_data_new_subnet(const brook_data *address, uint32_t prefix_len, brook_data **out_data)
brook_status brook_data_new_subnet_from_string(const char *text, brook_data **out_data)
brook_status brook_data_new_port(uint16_t number, uint32_t protocol, brook_data **out_data)
brook_status brook_data_new_timestamp(int64_t ns_since_epoch, brook_data **out_data)
brook_status brook_data_new_timespan(int64_t ns, brook_data **out_data)
brook_status brook_data_new_set(brook_data **out_data)
brook_status brook_data_new_table(brook_data **out_data)
brook_status brook_data_new_vector(brook_data **out_data)
brook_status brook_data_clone(const brook_data *d, brook_data **out_data)
void brook_data_free(brook_data *d)
brook_data_type brook_data_get_type(const brook_data *d)
brook_status brook_data_get_bool(const brook_data *d, bool *out_value)
brook_status brook_data_get_count(const brook_data *d, uint64_t *out_value)
brook_status brook_data_get_integer(const brook_data *d, int64_t *out_value)
brook_status brook_data_get_real(const brook_data *d, double *out_value)
brook_status brook_data_get_timestamp(const brook_data *d, int64_t *out_value)
brook_status brook_data_get_timespan(const brook_data *d, int64_t *out_value)
brook_status brook_data_get_string(const brook_data *d, const uint8_t **out_buf, size_t *out_len)
brook_status brook_data_get_enum(const brook_data *d, const uint8_t **out_buf, size_t *out_len)
brook_status brook_data_get_address(const brook_data *d, uint8_t *out_bytes16)
brook_status brook_data_get_subnet(const brook_data *d, uint8_t *out_network16, uint8_t *out_prefix_len)
brook_status brook_data_get_port(const brook_data *d, uint16_t *out_number, brook_protocol *out_protocol)
brook_status brook_data_compare(const brook_data *a, const brook_data *b, int *out_order)
bool brook_data_equal(const brook_data *a, const brook_data *b)
brook_status brook_data_from_bytes(const uint8_t *buf, size_t len, brook_data **out)
brook_status brook_data_to_bytes(const brook_data *d, uint8_t **out_buf, size_t *out_len)
brook_status brook_data_from_json(const char *json, brook_data **out)
brook_status brook_data_to_json(const brook_data *d, char **out_json)
brook_status brook_data_to_string(const brook_data *d, char **out_str, size_t *out_len)
brook_status brook_data_from_text(const char *text, brook_data **out_data)
brook_status brook_data_container_len(const brook_data *container, size_t *out_len)
brook_status brook_data_set_insert(brook_data *set, const brook_data *elem, bool *out_inserted)
brook_status brook_data_set_contains(const brook_data *set, const brook_data *elem, bool *out_contains)
brook_status brook_data_table_insert(brook_data *table, const brook_data *key, const brook_data *value)
brook_status brook_data_table_find(const brook_data *table, const brook_data *key, const brook_data **out_value)
brook_status brook_data_vector_push(brook_data *vector, const brook_data *elem)
brook_status brook_data_vector_get(const brook_data *vector, size_t index, const brook_data **out_elem)
brook_status brook_data_iter_new(const brook_data *container, brook_iter **out_iter)
brook_status brook_iter_next(brook_iter *iter, const brook_data **out_elem, const brook_data **out_value, bool *out_done)
void brook_iter_free(brook_iter *iter)
brook_status brook_event_new(const char *name, brook_event **out_event)
brook_status brook_event_add_arg(brook_event *event, const brook_data *arg)
brook_status brook_event_name(const brook_event *event, const char **out_name)
brook_status brook_event_arg_count(const brook_event *event, size_t *out_count)
brook_status brook_event_arg(const brook_event *event, size_t index, const brook_data **out_arg)
brook_status brook_event_set_network_timestamp(brook_event *event, int64_t ns_since_epoch)
brook_status brook_event_network_timestamp(const brook_event *event, int64_t *out_ns_since_epoch, bool *out_present)
brook_status brook_event_to_data(const brook_event *event, brook_data **out_data)
brook_status brook_event_from_data(const brook_data *d, brook_event **out_event)
void brook_event_free(brook_event *event)
brook_status brook_zeek_message_kind(const brook_data *message, brook_zeek_kind *out_kind)
brook_status brook_log_create_new(const char *stream_id, const char *writer_id, const brook_data *writer_info, const brook_data *fields_data, brook_log_create **out_log_create)
brook_status brook_log_create_stream_id(const brook_log_create *log_create, const char **out_stream_id)
brook_status brook_log_create_writer_id(const brook_log_create *log_create, const char **out_writer_id)
brook_status brook_log_create_writer_info(const brook_log_create *log_create, const brook_data **out_writer_info)
brook_status brook_log_create_fields_data(const brook_log_create *log_create, const brook_data **out_fields_data)
brook_status brook_log_create_to_data(const brook_log_create *log_create, brook_data **out_data)
brook_status brook_log_create_from_data(const brook_data *d, brook_log_create **out_log_create)
void brook_log_create_free(brook_log_create *log_create)
brook_status brook_log_write_new(const char *stream_id, const char *writer_id, const uint8_t *path, size_t path_len, const uint8_t *serial_data, size_t serial_data_len, brook_log_write **out_log_write)
brook_status brook_log_write_stream_id(const brook_log_write *log_write, const char **out_stream_id)
brook_status brook_log_write_writer_id(const brook_log_write *log_write, const char **out_writer_id)
brook_status brook_log_write_path(const brook_log_write *log_write, const uint8_t **out_buf, size_t *out_len)
brook_status brook_log_write_serial_data(const brook_log_write *log_write, const uint8_t **out_buf, size_t *out_len)
brook_status brook_log_write_to_data(const brook_log_write *log_write, brook_data **out_data)
brook_status brook_log_write_from_data(const brook_data *d, brook_log_write **out_log_write)
void brook_log_write_free(brook_log_write *log_write)
brook_status brook_log_stream_from_create(const brook_log_create *log_create, brook_log_stream **out_stream)
size_t brook_log_stream_field_count(const brook_log_stream *stream)
brook_status brook_log_stream_field(const brook_log_stream *stream, size_t index, const char **out_name, const char **out_type)
brook_status brook_log_record_from_write(const brook_log_stream *stream, const brook_log_write *log_write, brook_log_record **out_record)
size_t brook_log_record_field_count(const brook_log_record *record)
brook_status brook_log_record_path(const brook_log_record *record, const uint8_t **out_buf, size_t *out_len)
brook_status brook_log_record_field(const brook_log_record *record, size_t index, const char **out_name, const char **out_type, bool *out_is_set, const brook_data **out_value)
brook_status brook_log_record_field_text(const brook_log_record *record, size_t index, const uint8_t **out_buf, size_t *out_len)
brook_status brook_log_stream_write(const brook_log_stream *stream, const uint8_t *path, size_t path_len, const brook_data *values, brook_log_write **out_log_write)
void brook_log_stream_free(brook_log_stream *stream)
void brook_log_record_free(brook_log_record *record)
brook_status brook_identifier_update_new(const char *id_name, const brook_data *id_value, brook_identifier_update **out_update)
brook_status brook_identifier_update_id_name(const brook_identifier_update *update, const char **out_id_name)
brook_status brook_identifier_update_id_value(const brook_identifier_update *update, const brook_data **out_id_value)
brook_status brook_identifier_update_to_data(const brook_identifier_update *update, brook_data **out_data)
brook_status brook_identifier_update_from_data(const brook_data *d, brook_identifier_update **out_update)
void brook_identifier_update_free(brook_identifier_update *update)
brook_status brook_zeek_batch_new(brook_zeek_batch **out_batch)
brook_status brook_zeek_batch_add_message(brook_zeek_batch *batch, const brook_data *message)
brook_status brook_zeek_batch_message_count(const brook_zeek_batch *batch, size_t *out_count)
brook_status brook_zeek_batch_message(const brook_zeek_batch *batch, size_t index, const brook_data **out_message)
brook_status brook_zeek_batch_to_data(const brook_zeek_batch *batch, brook_data **out_data)
brook_status brook_zeek_batch_from_data(const brook_data *d, brook_zeek_batch **out_batch)
void brook_zeek_batch_free(brook_zeek_batch *batch)
void brook_bytes_free(uint8_t *buf, size_t len)
void brook_string_free(char *s)
brook_status brook_config_new(brook_config **out_config)
void brook_config_free(brook_config *config)
brook_status brook_config_set_peer_buffer_size(brook_config *config, size_t size)
brook_status brook_config_set_peer_overflow_policy(brook_config *config, uint32_t policy)
brook_status brook_config_set_peer_stall_timeout_ms(brook_config *config, uint32_t ms)
brook_status brook_config_set_peer_timeout_ms(brook_config *config, uint32_t ms)
brook_status brook_config_set_subscriber_queue_size(brook_config *config, size_t size)
brook_status brook_config_set_subscriber_overflow_policy(brook_config *config, uint32_t policy)
brook_status brook_config_set_disable_forwarding(brook_config *config, bool disable)
brook_status brook_config_set_max_frame_size(brook_config *config, size_t size)
brook_status brook_config_set_listen_backlog(brook_config *config, uint32_t backlog)
brook_status brook_config_set_busy_poll_us(brook_config *config, uint32_t us)
brook_status brook_config_set_handshake_timeout_ms(brook_config *config, uint32_t ms)
brook_status brook_config_set_unpeer_timeout_ms(brook_config *config, uint32_t ms)
brook_status brook_config_set_max_malformed_in_a_row(brook_config *config, uint32_t count)
brook_status brook_config_set_disable_ssl(brook_config *config, bool disable)
brook_status brook_config_set_ssl(brook_config *config, const char *certificate, const char *key, const char *passphrase, const char *cafile, const char *capath)
brook_status brook_config_set(brook_config *config, const char *name, const char *value)
brook_status brook_config_read_file(brook_config *config, const char *path, char **out_warnings)
brook_status brook_config_set_spool_dir(brook_config *config, const char *dir)
brook_status brook_config_set_spool_max_size(brook_config *config, uint64_t bytes)
brook_status brook_config_set_spool_policy(brook_config *config, uint32_t policy)
brook_status brook_config_set_spool_topics(brook_config *config, const char *const *topics, size_t len)
brook_status brook_config_set_spool_fsync(brook_config *config, bool fsync)
brook_status brook_endpoint_new(const brook_config *config, brook_endpoint **out_endpoint)
brook_status brook_endpoint_shutdown(brook_endpoint *endpoint)
brook_status brook_endpoint_shutdown_report(brook_endpoint *endpoint, uint64_t *out_undelivered)
void brook_endpoint_free(brook_endpoint *endpoint)
brook_status brook_endpoint_id(const brook_endpoint *endpoint, uint8_t *out_id16)
brook_status brook_id_to_string(const uint8_t *id16, char **out_str)
brook_status brook_endpoint_listen(brook_endpoint *endpoint, const char *address, uint16_t port, uint16_t *out_port)
brook_status brook_endpoint_peer(brook_endpoint *endpoint, const char *host, uint16_t port, uint32_t retry_ms, uint8_t *out_peer_id16)
brook_status brook_endpoint_peer_nosync(brook_endpoint *endpoint, const char *host, uint16_t port, uint32_t retry_ms)
brook_status brook_endpoint_unpeer(brook_endpoint *endpoint, const char *host, uint16_t port)
brook_status brook_endpoint_peers(const brook_endpoint *endpoint, brook_peer_list **out_list)
brook_status brook_peer_list_len(const brook_peer_list *list, size_t *out_len)
brook_status brook_peer_list_id(const brook_peer_list *list, size_t index, uint8_t *out_id16, bool *out_known)
brook_status brook_peer_list_address(const brook_peer_list *list, size_t index, const char **out_ip, uint16_t *out_port)
brook_status brook_peer_list_outbound(const brook_peer_list *list, size_t index, bool *out_outbound)
brook_status brook_peer_list_status(const brook_peer_list *list, size_t index, brook_peer_status *out_status)
brook_status brook_peer_list_dropped(const brook_peer_list *list, size_t index, uint64_t *out_n)
void brook_peer_list_free(brook_peer_list *list)
brook_status brook_endpoint_peer_subscriptions(const brook_endpoint *endpoint, brook_topic_list **out_list)
brook_status brook_topic_list_len(const brook_topic_list *list, size_t *out_len)
brook_status brook_topic_list_get(const brook_topic_list *list, size_t index, const uint8_t **out_buf, size_t *out_len)
void brook_topic_list_free(brook_topic_list *list)
brook_status brook_config_set_metrics_port(brook_config *config, int32_t port, const char *address)
brook_status brook_endpoint_metrics(const brook_endpoint *endpoint, brook_metrics **out_metrics)
brook_status brook_endpoint_metrics_port(const brook_endpoint *endpoint, int32_t *out_port)
brook_status brook_metrics_endpoint(const brook_metrics *metrics, uint32_t counter, uint64_t *out_value)
brook_status brook_metrics_peers_len(const brook_metrics *metrics, size_t *out_len)
brook_status brook_metrics_peer(const brook_metrics *metrics, size_t index, uint32_t counter, uint64_t *out_value)
brook_status brook_metrics_peer_address(const brook_metrics *metrics, size_t index, const char **out_ip, uint16_t *out_port, uint8_t *out_id16, brook_peer_status *out_status)
brook_status brook_metrics_subscribers_len(const brook_metrics *metrics, size_t *out_len)
brook_status brook_metrics_subscriber(const brook_metrics *metrics, size_t index, uint32_t counter, uint64_t *out_value)
brook_status brook_metrics_text(const brook_metrics *metrics, const char **out_text)
void brook_metrics_free(brook_metrics *metrics)
brook_status brook_endpoint_forward(brook_endpoint *endpoint, const char *topic)
brook_status brook_endpoint_publish(brook_endpoint *endpoint, const char *topic, const brook_data *value)
brook_status brook_endpoint_try_publish(brook_endpoint *endpoint, const char *topic, const brook_data *value)
brook_status brook_endpoint_publish_batch(brook_endpoint *endpoint, const char *topic, const brook_data *const *values, size_t n)
brook_status brook_endpoint_publish_event(brook_endpoint *endpoint, const char *topic, const brook_event *event)
brook_status brook_endpoint_publish_to(brook_endpoint *endpoint, const uint8_t *receiver_id16, const char *topic, const brook_data *value)
brook_status brook_endpoint_flush(brook_endpoint *endpoint)
brook_status brook_endpoint_subscribe(brook_endpoint *endpoint, const char *const *topics, size_t n_topics, brook_subscriber **out_subscriber)
brook_status brook_endpoint_subscribe_sized(brook_endpoint *endpoint, const char *const *topics, size_t n_topics, size_t queue_size, brook_subscriber **out_subscriber)
brook_status brook_subscriber_next(brook_subscriber *subscriber, int64_t timeout_ms, brook_message **out_message)
brook_status brook_subscriber_poll(brook_subscriber *subscriber, brook_message **out_messages, size_t max, size_t *out_n)
brook_status brook_subscriber_poll_into(brook_subscriber *subscriber, int64_t timeout_ms, size_t max, uint8_t *buf, size_t len, size_t *out_n, size_t *out_used, size_t *out_needed)
brook_status brook_subscriber_available(const brook_subscriber *subscriber, size_t *out_n)
brook_status brook_subscriber_dropped(const brook_subscriber *subscriber, uint64_t *out_n)
brook_status brook_subscriber_fd(const brook_subscriber *subscriber, int *out_fd)
brook_status brook_subscriber_add_topic(brook_subscriber *subscriber, const char *topic)
brook_status brook_subscriber_remove_topic(brook_subscriber *subscriber, const char *topic)
void brook_subscriber_free(brook_subscriber *subscriber)
brook_status brook_message_topic(const brook_message *message, const uint8_t **out_buf, size_t *out_len)
brook_status brook_message_payload(const brook_message *message, const uint8_t **out_buf, size_t *out_len)
brook_status brook_message_data(const brook_message *message, brook_data **out_data)
brook_status brook_message_event(const brook_message *message, brook_event **out_event)
void brook_message_free(brook_message *message)
brook_status brook_endpoint_status_subscriber(brook_endpoint *endpoint, bool errors, brook_status_subscriber **out_subscriber)
brook_status brook_status_subscriber_next(brook_status_subscriber *subscriber, int64_t timeout_ms, brook_status_event **out_event)
brook_status brook_status_subscriber_available(const brook_status_subscriber *subscriber, size_t *out_n)
brook_status brook_status_subscriber_fd(const brook_status_subscriber *subscriber, int *out_fd)
void brook_status_subscriber_free(brook_status_subscriber *subscriber)
brook_status brook_status_event_kind(const brook_status_event *event, brook_status_kind *out_kind)
brook_status brook_status_event_code(const brook_status_event *event, uint32_t *out_code)
brook_status brook_status_event_name(const brook_status_event *event, const char **out_name)
brook_status brook_status_event_endpoint(const brook_status_event *event, uint8_t *out_id16, bool *out_known)
brook_status brook_status_event_address(const brook_status_event *event, const char **out_ip, uint16_t *out_port)
brook_status brook_status_event_message(const brook_status_event *event, const char **out_message)
void brook_status_event_free(brook_status_event *event)
brook_status brook_endpoint_publisher(brook_endpoint *endpoint, const char *topic, brook_publisher **out_publisher)
brook_status brook_publisher_publish(brook_publisher *publisher, const brook_data *value)
brook_status brook_publisher_try_publish(brook_publisher *publisher, const brook_data *value)
brook_status brook_publisher_publish_batch(brook_publisher *publisher, const brook_data *const *values, size_t n)
brook_status brook_publisher_free_capacity(const brook_publisher *publisher, size_t *out_n)
brook_status brook_publisher_capacity(const brook_publisher *publisher, size_t *out_n)
brook_status brook_publisher_buffered(const brook_publisher *publisher, size_t *out_n)
brook_status brook_publisher_topic(const brook_publisher *publisher, const uint8_t **out_buf, size_t *out_len)
brook_status brook_publisher_fd(const brook_publisher *publisher, int *out_fd)
void brook_publisher_free(brook_publisher *publisher)
"""

# The store API, declared only when the library has it, so that this package still loads
# a library built before stores reached the C ABI.
STORE_SIGNATURES = """
brook_status brook_sqlite_options_new(const char *path, brook_sqlite_options **out_options)
void brook_sqlite_options_free(brook_sqlite_options *options)
brook_status brook_sqlite_options_set_synchronous(brook_sqlite_options *options, uint32_t mode)
brook_status brook_sqlite_options_set_journal_mode(brook_sqlite_options *options, uint32_t mode)
brook_status brook_sqlite_options_set_failure_mode(brook_sqlite_options *options, uint32_t mode)
brook_status brook_sqlite_options_set_integrity_check(brook_sqlite_options *options, bool check)
brook_status brook_clone_options_new(brook_clone_options **out_options)
void brook_clone_options_free(brook_clone_options *options)
brook_status brook_clone_options_set_stale_interval_ms(brook_clone_options *options, int64_t ms)
brook_status brook_clone_options_set_mutation_buffer_interval_ms(brook_clone_options *options, uint32_t ms)
brook_status brook_clone_options_set_resync_interval_ms(brook_clone_options *options, uint32_t ms)
brook_status brook_clone_options_set_max_get_delay_ms(brook_clone_options *options, uint32_t ms)
brook_status brook_endpoint_attach_master(brook_endpoint *endpoint, const char *name, uint32_t backend, const brook_sqlite_options *options, brook_store **out_store)
brook_status brook_endpoint_attach_clone(brook_endpoint *endpoint, const char *name, brook_store **out_store)
brook_status brook_endpoint_attach_clone_with(brook_endpoint *endpoint, const char *name, const brook_clone_options *options, brook_store **out_store)
void brook_store_free(brook_store *store)
brook_status brook_store_name(const brook_store *store, const uint8_t **out_buf, size_t *out_len)
brook_status brook_store_set_timeout_ms(brook_store *store, uint32_t ms)
brook_status brook_store_exists(const brook_store *store, const brook_data *key, bool *out_exists)
brook_status brook_store_get(const brook_store *store, const brook_data *key, brook_data **out_value)
brook_status brook_store_get_index_from_value(const brook_store *store, const brook_data *key, const brook_data *index, brook_data **out_value)
brook_status brook_store_keys(const brook_store *store, brook_data **out_keys)
brook_status brook_store_put(brook_store *store, const brook_data *key, const brook_data *value, int64_t expiry_ms)
brook_status brook_store_put_unique(brook_store *store, const brook_data *key, const brook_data *value, int64_t expiry_ms, bool *out_inserted)
brook_status brook_store_erase(brook_store *store, const brook_data *key)
brook_status brook_store_clear(brook_store *store)
brook_status brook_store_increment(brook_store *store, const brook_data *key, const brook_data *amount, int64_t expiry_ms)
brook_status brook_store_decrement(brook_store *store, const brook_data *key, const brook_data *amount, int64_t expiry_ms)
brook_status brook_store_append(brook_store *store, const brook_data *key, const brook_data *suffix, int64_t expiry_ms)
brook_status brook_store_insert_into(brook_store *store, const brook_data *key, const brook_data *index, const brook_data *value, int64_t expiry_ms)
brook_status brook_store_remove_from(brook_store *store, const brook_data *key, const brook_data *index, int64_t expiry_ms)
brook_status brook_store_push(brook_store *store, const brook_data *key, const brook_data *value, int64_t expiry_ms)
brook_status brook_store_pop(brook_store *store, const brook_data *key, int64_t expiry_ms)
brook_status brook_store_await_idle(brook_store *store)
brook_status brook_store_proxy_new(const brook_store *store, brook_store_proxy **out_proxy)
void brook_store_proxy_free(brook_store_proxy *proxy)
brook_status brook_store_proxy_exists(brook_store_proxy *proxy, const brook_data *key, uint64_t *out_id)
brook_status brook_store_proxy_get(brook_store_proxy *proxy, const brook_data *key, uint64_t *out_id)
brook_status brook_store_proxy_get_index_from_value(brook_store_proxy *proxy, const brook_data *key, const brook_data *index, uint64_t *out_id)
brook_status brook_store_proxy_keys(brook_store_proxy *proxy, uint64_t *out_id)
brook_status brook_store_proxy_put(brook_store_proxy *proxy, const brook_data *key, const brook_data *value, int64_t expiry_ms, uint64_t *out_id)
brook_status brook_store_proxy_put_unique(brook_store_proxy *proxy, const brook_data *key, const brook_data *value, int64_t expiry_ms, uint64_t *out_id)
brook_status brook_store_proxy_erase(brook_store_proxy *proxy, const brook_data *key, uint64_t *out_id)
brook_status brook_store_proxy_clear(brook_store_proxy *proxy, uint64_t *out_id)
brook_status brook_store_proxy_increment(brook_store_proxy *proxy, const brook_data *key, const brook_data *amount, int64_t expiry_ms, uint64_t *out_id)
brook_status brook_store_proxy_decrement(brook_store_proxy *proxy, const brook_data *key, const brook_data *amount, int64_t expiry_ms, uint64_t *out_id)
brook_status brook_store_proxy_append(brook_store_proxy *proxy, const brook_data *key, const brook_data *suffix, int64_t expiry_ms, uint64_t *out_id)
brook_status brook_store_proxy_insert_into(brook_store_proxy *proxy, const brook_data *key, const brook_data *index, const brook_data *value, int64_t expiry_ms, uint64_t *out_id)
brook_status brook_store_proxy_remove_from(brook_store_proxy *proxy, const brook_data *key, const brook_data *index, int64_t expiry_ms, uint64_t *out_id)
brook_status brook_store_proxy_push(brook_store_proxy *proxy, const brook_data *key, const brook_data *value, int64_t expiry_ms, uint64_t *out_id)
brook_status brook_store_proxy_pop(brook_store_proxy *proxy, const brook_data *key, int64_t expiry_ms, uint64_t *out_id)
brook_status brook_store_proxy_await_idle(brook_store_proxy *proxy, uint64_t *out_id)
brook_status brook_store_proxy_receive(brook_store_proxy *proxy, int64_t timeout_ms, brook_store_response **out_response)
brook_status brook_store_proxy_fd(const brook_store_proxy *proxy, int *out_fd)
brook_status brook_store_response_id(const brook_store_response *response, uint64_t *out_id)
brook_status brook_store_response_status(const brook_store_response *response, brook_status *out_status)
brook_status brook_store_response_value(const brook_store_response *response, const brook_data **out_value)
brook_status brook_store_response_message(const brook_store_response *response, const char **out_message)
void brook_store_response_free(brook_store_response *response)
"""


def _prototypes(block):
    return [line for line in block.strip().splitlines() if line.strip()]


for _p in _prototypes(SIGNATURES):
    declare(lib, _p)

has_stores = hasattr(lib, "brook_endpoint_attach_master")
if has_stores:
    for _p in _prototypes(STORE_SIGNATURES):
        declare(lib, _p)


def all_prototypes():
    """Every prototype this module declares (the store API included)."""
    return _prototypes(SIGNATURES) + _prototypes(STORE_SIGNATURES)
