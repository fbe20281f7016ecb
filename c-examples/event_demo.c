/*
 * Builds Zeek events with brook and shows what goes on the wire: Broker's text form, the
 * bytes of Broker's binary format v1 in hex, and the JSON of Broker's WebSocket API. Then
 * decodes the bytes again, as a receiver would.
 *
 *   make demo
 */
#include <brook.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Every brook call returns a status; on failure, brook_last_error() says why. */
#define TRY(call)                                                                      \
  do {                                                                                 \
    brook_status st_ = (call);                                                         \
    if (st_ != BROOK_STATUS_OK) {                                                      \
      fprintf(stderr, "%s failed: %s: %s\n", #call, brook_status_str(st_),             \
              brook_last_error());                                                     \
      exit(1);                                                                         \
    }                                                                                  \
  } while (0)

/* Adds an argument to an event; the event keeps its own copy. */
static void add(brook_event *ev, brook_data *arg) {
  TRY(brook_event_add_arg(ev, arg));
  brook_data_free(arg);
}

static void show(const char *title, const brook_event *ev) {
  brook_data *msg = NULL;
  char *text = NULL, *json = NULL;
  uint8_t *bytes = NULL;
  size_t len = 0;

  TRY(brook_event_to_data(ev, &msg));
  TRY(brook_data_to_string(msg, &text, NULL));
  TRY(brook_data_to_bytes(msg, &bytes, &len));
  TRY(brook_data_to_json(msg, &json));
  printf("== %s\ntext:  %s\nbytes: ", title, text);
  for (size_t i = 0; i < len; i++) {
    printf("%02x", bytes[i]);
  }
  printf(" (%zu bytes)\njson:  %s\n\n", len, json);
  brook_string_free(json);
  brook_bytes_free(bytes, len);
  brook_string_free(text);
  brook_data_free(msg);
}

/* The receiving side: bytes from the wire back to an event. */
static void receive(const brook_event *sent) {
  brook_data *msg = NULL, *received = NULL;
  brook_event *ev = NULL;
  uint8_t *bytes = NULL;
  size_t len = 0, n = 0;
  const char *name = NULL;
  int64_t ts = 0;
  bool has_ts = false;

  TRY(brook_event_to_data(sent, &msg));
  TRY(brook_data_to_bytes(msg, &bytes, &len));
  TRY(brook_data_from_bytes(bytes, len, &received));
  TRY(brook_event_from_data(received, &ev));
  TRY(brook_event_name(ev, &name));
  TRY(brook_event_arg_count(ev, &n));
  TRY(brook_event_network_timestamp(ev, &ts, &has_ts));
  printf("== received %s with %zu arguments", name, n);
  if (has_ts) {
    printf(", network time %lld ns", (long long)ts);
  }
  printf(":\n");
  for (size_t i = 0; i < n; i++) {
    const brook_data *arg = NULL; /* borrowed from ev */
    char *text = NULL;
    TRY(brook_event_arg(ev, i, &arg));
    TRY(brook_data_to_string(arg, &text, NULL));
    printf("  [%zu] type %d: %s\n", i, (int)brook_data_get_type(arg), text);
    brook_string_free(text);
  }
  brook_event_free(ev);
  brook_data_free(received);
  brook_bytes_free(bytes, len);
  brook_data_free(msg);
}

int main(void) {
  brook_event *ev = NULL;
  brook_data *d = NULL, *set = NULL, *table = NULL, *key = NULL;
  static const uint8_t v4[4] = {192, 168, 1, 10};

  /* event event_1(42, "test") */
  TRY(brook_event_new("event_1", &ev));
  TRY(brook_data_new_integer(42, &d));
  add(ev, d);
  TRY(brook_data_new_string((const uint8_t *)"test", 4, &d));
  add(ev, d);
  show("event_1(42, \"test\")", ev);
  brook_event_free(ev);

  /* A richer event, stamped with a network time (2023-04-18T14:13:14Z). */
  TRY(brook_event_new("connection_seen", &ev));
  TRY(brook_data_new_address_v4(v4, &d));
  add(ev, d);
  TRY(brook_data_new_port(443, BROOK_PROTOCOL_TCP, &d));
  add(ev, d);
  TRY(brook_data_new_subnet_from_string("10.0.0.0/8", &d));
  add(ev, d);
  TRY(brook_data_new_timespan(1500000, &d));
  add(ev, d);
  TRY(brook_data_new_real(0.5, &d));
  add(ev, d);
  TRY(brook_data_new_bool(true, &d));
  add(ev, d);
  TRY(brook_data_new_enum((const uint8_t *)"Notice::ACTION_LOG", 18, &d));
  add(ev, d);
  TRY(brook_data_new_set(&set));
  TRY(brook_data_new_count(22, &d));
  TRY(brook_data_set_insert(set, d, NULL));
  brook_data_free(d);
  TRY(brook_data_new_count(80, &d));
  TRY(brook_data_set_insert(set, d, NULL));
  brook_data_free(d);
  add(ev, set);
  TRY(brook_data_new_table(&table));
  TRY(brook_data_new_string((const uint8_t *)"host", 4, &key));
  TRY(brook_data_from_text("\"example.org\"", &d));
  TRY(brook_data_table_insert(table, key, d));
  brook_data_free(key);
  brook_data_free(d);
  add(ev, table);
  TRY(brook_event_set_network_timestamp(ev, INT64_C(1681827194000000000)));
  show("connection_seen(...) with a network timestamp", ev);
  receive(ev);
  brook_event_free(ev);
  return 0;
}
