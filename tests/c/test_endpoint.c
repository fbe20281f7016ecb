/*
 * brook's C API for endpoints: two endpoints peering over 127.0.0.1 with port 0, pub/sub
 * through a subscriber's file descriptor and poll(), batches (also into a caller's buffer),
 * events, unicast, topics added and removed, status events, peer and subscription lists;
 * then the error paths (NULL, unknown enum values, nobody listening) and shutdown,
 * including waits that another thread is blocked in; publications and store writes that
 * no peer could take, refused at the call. Every wait has a timeout; nothing sleeps to let
 * something happen.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

/* ---- helpers ------------------------------------------------------------------------ */

/* The next status event of `kind` and `code`, skipping others; NULL after WAIT_MS. */
static brook_status_event *next_status(brook_status_subscriber *st, brook_status_kind kind,
                                       uint32_t code) {
  int64_t deadline = now_ms() + WAIT_MS;
  for (;;) {
    brook_status_event *ev = NULL;
    brook_status_kind k;
    uint32_t c = 0;
    int64_t left = deadline - now_ms();
    if (left < 0 || brook_status_subscriber_next(st, left, &ev) != BROOK_STATUS_OK) {
      return NULL;
    }
    if (brook_status_event_kind(ev, &k) == BROOK_STATUS_OK &&
        brook_status_event_code(ev, &c) == BROOK_STATUS_OK && k == kind && c == code) {
      return ev;
    }
    brook_status_event_free(ev);
  }
}

static void publish_count(brook_endpoint *ep, const char *topic, uint64_t v) {
  brook_data *d = count(v);
  CHECK_OK(brook_endpoint_publish(ep, topic, d));
  brook_data_free(d);
}

/* Checks that `m` holds the count `want` on `topic`, then frees it. */
static void check_count_message(brook_message *m, const char *topic, uint64_t want) {
  const uint8_t *t = NULL;
  size_t len = 0;
  brook_data *d = NULL;
  uint64_t got = 0;
  if (CHECK_OK(brook_message_topic(m, &t, &len))) {
    CHECK(len == strlen(topic) && memcmp(t, topic, len) == 0);
  }
  if (CHECK_OK(brook_message_data(m, &d)) && CHECK_OK(brook_data_get_count(d, &got))) {
    if (!CHECK(got == want)) {
      fprintf(stderr, "  got %llu, expected %llu\n", (unsigned long long)got,
              (unsigned long long)want);
    }
  }
  brook_data_free(d);
  brook_message_free(m);
}

/* Waits for the next message on `sub` as a poll() loop does, then checks it. */
static void expect_count(brook_subscriber *sub, const char *topic, uint64_t want) {
  int fd = -1;
  brook_message *m = NULL;
  if (!CHECK_OK(brook_subscriber_fd(sub, &fd)) || !CHECK(readable(fd, WAIT_MS))) {
    return;
  }
  if (CHECK_OK(brook_subscriber_next(sub, 0, &m))) {
    check_count_message(m, topic, want);
  }
}

/* A TCP port on 127.0.0.1 that nobody listens on: bound by an endpoint that then stops. */
static uint16_t closed_port(void) {
  brook_endpoint *ep = NULL;
  uint16_t port = 0;
  CHECK_OK(brook_endpoint_new(NULL, &ep));
  CHECK_OK(brook_endpoint_listen(ep, "127.0.0.1", 0, &port));
  brook_endpoint_free(ep);
  return port;
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_config(void) {
  brook_config *c = NULL;
  brook_endpoint *ep = NULL;
  if (!CHECK_OK(brook_config_new(&c))) {
    return;
  }
  CHECK_OK(brook_config_set_peer_buffer_size(c, 64));
  CHECK_OK(brook_config_set_peer_overflow_policy(c, BROOK_OVERFLOW_POLICY_DROP_NEWEST));
  CHECK_OK(brook_config_set_peer_stall_timeout_ms(c, 2000));
  CHECK_OK(brook_config_set_subscriber_queue_size(c, 16));
  CHECK_OK(brook_config_set_subscriber_overflow_policy(c, BROOK_OVERFLOW_POLICY_DROP_OLDEST));
  CHECK_OK(brook_config_set_subscriber_overflow_policy(c, BROOK_OVERFLOW_POLICY_BLOCK));
  CHECK_OK(brook_config_set_disable_forwarding(c, true));
  CHECK_OK(brook_config_set_max_frame_size(c, 1 << 20));
  CHECK_OK(brook_config_set_handshake_timeout_ms(c, 3000));
  CHECK_OK(brook_config_set_unpeer_timeout_ms(c, 0));
  CHECK_OK(brook_config_set_max_malformed_in_a_row(c, 5));
  CHECK_OK(brook_config_set_busy_poll_us(c, 50));
  CHECK_STATUS(brook_config_set_busy_poll_us(c, 1000001), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("busy_poll");
  CHECK_STATUS(brook_config_set_busy_poll_us(NULL, 0), BROOK_STATUS_NULL_ARGUMENT);

  CHECK_STATUS(brook_config_set_subscriber_overflow_policy(c, 4), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("unknown value 4");
  CHECK_STATUS(brook_config_set_peer_overflow_policy(c, 99), BROOK_STATUS_INVALID_ARGUMENT);
  /* Block (the default) and Broker's disconnect are both peer policies. */
  CHECK_OK(brook_config_set_peer_overflow_policy(c, BROOK_OVERFLOW_POLICY_BLOCK));
  CHECK_OK(brook_config_set_peer_overflow_policy(c, BROOK_OVERFLOW_POLICY_DISCONNECT));
  CHECK_OK(brook_config_set_peer_timeout_ms(c, 45000));
  CHECK_STATUS(brook_config_set_peer_timeout_ms(NULL, 0), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_config_set_peer_buffer_size(c, 0), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(brook_config_set_subscriber_queue_size(c, (size_t)1 << 30),
               BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(brook_config_set_max_frame_size(c, 0), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(brook_config_set_handshake_timeout_ms(c, 0), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(brook_config_set_max_malformed_in_a_row(c, 0), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(brook_config_set_disable_forwarding(NULL, true), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("config is NULL");
  CHECK_STATUS(brook_config_new(NULL), BROOK_STATUS_NULL_ARGUMENT);

  /* The endpoint copies the config, so the config may go first. */
  if (CHECK_OK(brook_endpoint_new(c, &ep))) {
    brook_config_free(c);
    c = NULL;
    CHECK_OK(brook_endpoint_listen(ep, "127.0.0.1", 0, NULL));
  }
  brook_config_free(c);
  brook_endpoint_free(ep);
}

/* The main scenario: a listens, b peers; messages both ways and every list in between. */
static void test_two_endpoints(void) {
  brook_endpoint *a = NULL, *b = NULL;
  brook_status_subscriber *st = NULL;
  brook_subscriber *sub = NULL;
  brook_status_event *ev = NULL;
  uint8_t a_id[16], b_id[16], peer_id[16];
  uint16_t port = 0;
  const char *topics[] = {"/brook/test/"};

  if (!CHECK_OK(brook_endpoint_new(NULL, &a)) || !CHECK_OK(brook_endpoint_new(NULL, &b))) {
    goto done;
  }
  CHECK_OK(brook_endpoint_id(a, a_id));
  CHECK_OK(brook_endpoint_id(b, b_id));
  CHECK(memcmp(a_id, b_id, 16) != 0);
  CHECK_OK(brook_endpoint_status_subscriber(a, true, &st));
  if (!CHECK_OK(brook_endpoint_listen(a, "127.0.0.1", 0, &port)) || !CHECK(port != 0)) {
    goto done;
  }
  if (!CHECK_OK(brook_endpoint_peer(b, "127.0.0.1", port, 0, peer_id))) {
    goto done;
  }
  CHECK(memcmp(peer_id, a_id, 16) == 0);

  /* a learns of b: peer_added, naming b and its address. */
  ev = next_status(st, BROOK_STATUS_KIND_STATUS, 1);
  if (CHECK(ev != NULL)) {
    const char *name = NULL, *ip = NULL, *message = NULL;
    uint8_t id[16];
    bool known = false;
    uint16_t ev_port = 0;
    int fd = -1;
    CHECK_OK(brook_status_event_name(ev, &name));
    CHECK(strcmp(name, "peer_added") == 0);
    CHECK_OK(brook_status_event_endpoint(ev, id, &known));
    CHECK(known && memcmp(id, b_id, 16) == 0);
    CHECK_OK(brook_status_event_address(ev, &ip, &ev_port));
    CHECK(ip != NULL && strcmp(ip, "127.0.0.1") == 0 && ev_port != 0);
    CHECK_OK(brook_status_event_message(ev, &message));
    CHECK(strcmp(message, "handshake successful") == 0);
    CHECK_OK(brook_status_subscriber_fd(st, &fd));
    CHECK(fd >= 0);
    brook_status_event_free(ev);
  }

  /* Both sides list the peering; only b made it. */
  {
    brook_peer_list *pa = NULL, *pb = NULL;
    size_t n = 0;
    uint8_t id[16];
    bool known = false, outbound = true;
    brook_peer_status status = BROOK_PEER_STATUS_CONNECTING;
    const char *ip = NULL;
    uint16_t p = 0;
    if (CHECK_OK(brook_endpoint_peers(a, &pa)) && CHECK_OK(brook_peer_list_len(pa, &n)) &&
        CHECK(n == 1)) {
      CHECK_OK(brook_peer_list_id(pa, 0, id, &known));
      CHECK(known && memcmp(id, b_id, 16) == 0);
      CHECK_OK(brook_peer_list_outbound(pa, 0, &outbound));
      CHECK(!outbound);
      CHECK_OK(brook_peer_list_status(pa, 0, &status));
      CHECK(status == BROOK_PEER_STATUS_PEERED);
      CHECK_STATUS(brook_peer_list_status(pa, 1, &status), BROOK_STATUS_OUT_OF_RANGE);
    }
    if (CHECK_OK(brook_endpoint_peers(b, &pb)) && CHECK_OK(brook_peer_list_len(pb, &n)) &&
        CHECK(n == 1)) {
      CHECK_OK(brook_peer_list_outbound(pb, 0, &outbound));
      CHECK(outbound);
      CHECK_OK(brook_peer_list_address(pb, 0, &ip, &p));
      CHECK(strcmp(ip, "127.0.0.1") == 0 && p == port);
    }
    brook_peer_list_free(pa);
    brook_peer_list_free(pb);
  }

  /* a subscribes after the handshake: b hears of it through a routing update. */
  if (!CHECK_OK(brook_endpoint_subscribe(a, topics, 1, &sub)) ||
      !CHECK(peer_subscribed(b, "/brook/test/one"))) {
    goto done;
  }

  /* One value: the fd turns readable, the message has topic, value and raw bytes. */
  {
    int fd = -1;
    size_t n = 0;
    brook_message *m = NULL;
    brook_data *d = count(42), *back = NULL;
    brook_event *not_event = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    CHECK_OK(brook_subscriber_fd(sub, &fd));
    CHECK(!readable(fd, 0));
    CHECK_OK(brook_endpoint_publish(b, "/brook/test/one", d));
    CHECK(readable(fd, WAIT_MS));
    CHECK_OK(brook_subscriber_available(sub, &n));
    CHECK(n == 1);
    if (CHECK_OK(brook_subscriber_next(sub, 0, &m))) {
      const uint8_t *payload = NULL;
      size_t payload_len = 0;
      CHECK_OK(brook_message_payload(m, &payload, &payload_len));
      CHECK_OK(brook_data_to_bytes(d, &bytes, &len));
      CHECK(payload_len == len && memcmp(payload, bytes, len) == 0);
      CHECK_OK(brook_message_data(m, &back));
      CHECK(brook_data_equal(back, d));
      CHECK_STATUS(brook_message_event(m, &not_event), BROOK_STATUS_TYPE_MISMATCH);
      check_count_message(m, "/brook/test/one", 42);
    }
    /* Level-triggered: quiet again once the queue is empty. */
    CHECK(!readable(fd, 0));
    CHECK_STATUS(brook_subscriber_next(sub, 20, &m), BROOK_STATUS_TIMEOUT);
    CHECK_ERROR_HAS("no message within 20 ms");
    brook_bytes_free(bytes, len);
    brook_data_free(back);
    brook_data_free(d);
  }

  /* A Zeek event. */
  {
    brook_event *ping = NULL, *got = NULL;
    brook_data *arg = count(7);
    brook_message *m = NULL;
    const char *name = NULL;
    const brook_data *got_arg = NULL;
    uint64_t n = 0;
    CHECK_OK(brook_event_new("ping", &ping));
    CHECK_OK(brook_event_add_arg(ping, arg));
    CHECK_OK(brook_endpoint_publish_event(b, "/brook/test/event", ping));
    if (CHECK_OK(brook_subscriber_next(sub, WAIT_MS, &m)) &&
        CHECK_OK(brook_message_event(m, &got))) {
      CHECK_OK(brook_event_name(got, &name));
      CHECK(strcmp(name, "ping") == 0);
      CHECK_OK(brook_event_arg(got, 0, &got_arg));
      CHECK_OK(brook_data_get_count(got_arg, &n));
      CHECK(n == 7);
    }
    brook_event_free(got);
    brook_message_free(m);
    brook_data_free(arg);
    brook_event_free(ping);
  }

  /* A batch, taken with brook_subscriber_poll() whenever the fd says so. */
  {
    brook_message *msgs[4];
    size_t got = 0, n = 0;
    int fd = -1;
    int64_t deadline = now_ms() + WAIT_MS;
    brook_data *d = count(0);
    for (uint64_t i = 0; i < 10; i++) {
      publish_count(b, "/brook/test/batch", i);
    }
    CHECK_OK(brook_endpoint_try_publish(b, "/brook/test/batch", d));
    CHECK_OK(brook_endpoint_flush(b));
    CHECK_OK(brook_subscriber_fd(sub, &fd));
    while (got < 11 && now_ms() < deadline && readable(fd, (int)(deadline - now_ms()))) {
      if (!CHECK_OK(brook_subscriber_poll(sub, msgs, 4, &n)) || !CHECK(n <= 4)) {
        break;
      }
      for (size_t i = 0; i < n; i++, got++) {
        check_count_message(msgs[i], "/brook/test/batch", got < 10 ? got : 0);
      }
    }
    CHECK(got == 11);
    CHECK_OK(brook_subscriber_poll(sub, msgs, 4, &n));
    CHECK(n == 0);
    CHECK_OK(brook_subscriber_poll(sub, NULL, 0, &n));
    brook_data_free(d);
  }

  /* Unicast to a's ID; a topic added and removed; nothing dropped. */
  {
    brook_data *d = count(5);
    uint64_t dropped = 1;
    CHECK_OK(brook_endpoint_publish_to(b, a_id, "/brook/test/unicast", d));
    expect_count(sub, "/brook/test/unicast", 5);

    CHECK_OK(brook_subscriber_add_topic(sub, "/brook/extra"));
    if (CHECK(peer_subscribed(b, "/brook/extra"))) {
      publish_count(b, "/brook/extra", 1);
      expect_count(sub, "/brook/extra", 1);
    }
    CHECK_OK(brook_subscriber_remove_topic(sub, "/brook/extra"));
    publish_count(b, "/brook/extra", 2);
    publish_count(b, "/brook/test/last", 3);
    expect_count(sub, "/brook/test/last", 3); /* not /brook/extra: messages keep order */
    CHECK_OK(brook_subscriber_dropped(sub, &dropped));
    CHECK(dropped == 0);
    brook_data_free(d);
  }

  /* forward: b hears of a topic that a has no subscriber for. */
  CHECK_OK(brook_endpoint_forward(a, "/brook/forwarded"));
  CHECK(peer_subscribed(b, "/brook/forwarded/x"));

  /* b unpeers: a loses it; a second unpeer finds nothing. */
  CHECK_OK(brook_endpoint_unpeer(b, "127.0.0.1", port));
  ev = next_status(st, BROOK_STATUS_KIND_STATUS, 3);
  if (CHECK(ev != NULL)) {
    const char *name = NULL;
    CHECK_OK(brook_status_event_name(ev, &name));
    CHECK(strcmp(name, "peer_lost") == 0);
    brook_status_event_free(ev);
  }
  CHECK_STATUS(brook_endpoint_unpeer(b, "127.0.0.1", port), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("not peered");

done:
  brook_subscriber_free(sub);
  brook_status_subscriber_free(st);
  brook_endpoint_free(b);
  brook_endpoint_free(a);
}

/* A little-endian u32 of brook_subscriber_poll_into()'s records, at any alignment. */
static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads the record at `*pos` of `buf`: checks its topic, decodes its payload into *out
 * (the caller frees it) and moves `*pos` past it. */
static int read_record(const uint8_t *buf, size_t used, size_t *pos, const char *topic,
                       brook_data **out) {
  size_t p = *pos;
  if (!CHECK(p + 8 <= used)) {
    return 0;
  }
  uint32_t tl = le32(buf + p), pl = le32(buf + p + 4);
  if (!CHECK(p + 8 + tl + pl <= used)) {
    return 0;
  }
  CHECK(tl == strlen(topic) && memcmp(buf + p + 8, topic, tl) == 0);
  *pos = p + 8 + tl + pl;
  return CHECK_OK(brook_data_from_bytes(buf + p + 8 + tl, pl, out));
}

/* Batches into a caller's buffer: order, topics and payloads; a message too large for the
 * room left, then for the whole buffer, is held back and reported, not lost; the held
 * message comes first from the other receive calls too; waiting; NULL arguments; the end. */
static void test_poll_into(void) {
  brook_endpoint *a = NULL, *b = NULL;
  brook_subscriber *sub = NULL;
  const char *topics[] = {"/batch/"};
  uint16_t port = 0;
  uint8_t small[256];
  static uint8_t large[8192];
  char text[5000];
  size_t n = 99, used = 99, needed = 99, pos = 0;
  brook_data *d = NULL;

  if (!CHECK_OK(brook_endpoint_new(NULL, &a)) || !CHECK_OK(brook_endpoint_new(NULL, &b)) ||
      !CHECK_OK(brook_endpoint_subscribe(a, topics, 1, &sub)) ||
      !CHECK_OK(brook_endpoint_listen(a, "127.0.0.1", 0, &port)) ||
      !CHECK_OK(brook_endpoint_peer(b, "127.0.0.1", port, 0, NULL)) ||
      !CHECK(peer_subscribed(b, "/batch/x"))) {
    goto done;
  }

  /* Nothing waits: OK and 0, whether waiting or not. */
  CHECK_OK(brook_subscriber_poll_into(sub, 0, 16, small, sizeof small, &n, &used, &needed));
  CHECK(n == 0 && used == 0 && needed == 0);
  CHECK_OK(brook_subscriber_poll_into(sub, 20, 16, small, sizeof small, &n, &used, &needed));
  CHECK(n == 0 && used == 0 && needed == 0);

  /* Ten counts (25 bytes a record), a 5000-byte string (5021), one more count. */
  for (uint64_t i = 0; i < 10; i++) {
    publish_count(b, "/batch/x", i);
  }
  memset(text, 'z', sizeof text);
  if (CHECK_OK(brook_data_new_string((const uint8_t *)text, sizeof text, &d))) {
    CHECK_OK(brook_endpoint_publish(b, "/batch/big", d));
  }
  brook_data_free(d);
  d = NULL;
  publish_count(b, "/batch/y", 10);
  {
    int64_t deadline = now_ms() + WAIT_MS;
    size_t waiting = 0;
    while (CHECK_OK(brook_subscriber_available(sub, &waiting)) && waiting < 12 &&
           now_ms() < deadline) {
      pause_briefly();
    }
    if (!CHECK(waiting == 12)) {
      goto done;
    }
  }

  /* The counts fit in 256 bytes, the string does not: held back, reported. */
  CHECK_OK(brook_subscriber_poll_into(sub, 0, 100, small, sizeof small, &n, &used, &needed));
  CHECK(n == 10 && used == 250 && needed == 5021);
  for (uint64_t i = 0; i < n; i++) {
    uint64_t got = 99;
    if (read_record(small, used, &pos, "/batch/x", &d)) {
      CHECK_OK(brook_data_get_count(d, &got));
      CHECK(got == i);
    }
    brook_data_free(d);
    d = NULL;
  }
  CHECK(pos == used);

  /* Too small for the next message at all: nothing written, nothing lost. */
  CHECK_OK(brook_subscriber_poll_into(sub, 0, 100, small, sizeof small, &n, &used, &needed));
  CHECK(n == 0 && used == 0 && needed == 5021);
  /* The held message keeps the descriptor readable and counts as available. */
  {
    int fd = -1;
    size_t avail = 0;
    CHECK_OK(brook_subscriber_fd(sub, &fd));
    CHECK(readable(fd, 0));
    CHECK_OK(brook_subscriber_available(sub, &avail));
    CHECK(avail >= 1);
  }
  CHECK_OK(brook_subscriber_poll_into(sub, 0, 100, NULL, 0, &n, &used, &needed));
  CHECK(n == 0 && used == 0 && needed == 5021);
  CHECK_OK(brook_subscriber_poll_into(sub, 0, 0, small, sizeof small, &n, &used, &needed));
  CHECK(n == 0 && used == 0 && needed == 5021);
  CHECK_OK(brook_subscriber_available(sub, &n));
  CHECK(n == 2);

  /* With room, the held string comes first, then the last count. */
  CHECK_OK(brook_subscriber_poll_into(sub, 0, 100, large, sizeof large, &n, &used, &needed));
  CHECK(n == 2 && used == 5021 + 25 && needed == 0);
  pos = 0;
  if (read_record(large, used, &pos, "/batch/big", &d)) {
    const uint8_t *s = NULL;
    size_t len = 0;
    CHECK_OK(brook_data_get_string(d, &s, &len));
    CHECK(len == sizeof text && memcmp(s, text, len) == 0);
  }
  brook_data_free(d);
  d = NULL;
  if (read_record(large, used, &pos, "/batch/y", &d)) {
    uint64_t got = 0;
    CHECK_OK(brook_data_get_count(d, &got));
    CHECK(got == 10);
  }
  brook_data_free(d);
  d = NULL;

  /* `max` bounds the batch; a message held back comes first from brook_subscriber_next()
   * and brook_subscriber_poll() too. */
  publish_count(b, "/batch/x", 11);
  publish_count(b, "/batch/x", 12);
  CHECK_OK(brook_subscriber_poll_into(sub, WAIT_MS, 1, large, sizeof large, &n, &used,
                                      &needed));
  CHECK(n == 1 && used == 25 && needed == 0);
  CHECK_OK(brook_subscriber_poll_into(sub, WAIT_MS, 1, small, 10, &n, &used, &needed));
  CHECK(n == 0 && used == 0 && needed == 25);
  {
    brook_message *m = NULL;
    if (CHECK_OK(brook_subscriber_next(sub, 0, &m))) {
      check_count_message(m, "/batch/x", 12);
    }
    publish_count(b, "/batch/x", 13);
    CHECK_OK(brook_subscriber_poll_into(sub, WAIT_MS, 1, small, 10, &n, &used, &needed));
    CHECK(n == 0 && needed == 25);
    if (CHECK_OK(brook_subscriber_poll(sub, &m, 1, &n)) && CHECK(n == 1)) {
      check_count_message(m, "/batch/x", 13);
    }
  }

  /* NULL arguments. */
  CHECK_STATUS(brook_subscriber_poll_into(NULL, 0, 1, small, sizeof small, &n, &used, &needed),
               BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("subscriber is NULL");
  CHECK_STATUS(brook_subscriber_poll_into(sub, 0, 1, NULL, 1, &n, &used, &needed),
               BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("buf is NULL");
  CHECK_STATUS(brook_subscriber_poll_into(sub, 0, 1, small, sizeof small, NULL, &used, &needed),
               BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_n is NULL");
  CHECK_STATUS(brook_subscriber_poll_into(sub, 0, 1, small, sizeof small, &n, NULL, &needed),
               BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_used is NULL");
  CHECK_STATUS(brook_subscriber_poll_into(sub, 0, 1, small, sizeof small, &n, &used, NULL),
               BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_needed is NULL");

  /* After shutdown, what is left is delivered, then the call says CLOSED. */
  publish_count(b, "/batch/x", 14);
  {
    int fd = -1;
    CHECK_OK(brook_subscriber_fd(sub, &fd));
    CHECK(readable(fd, WAIT_MS));
  }
  CHECK_OK(brook_endpoint_shutdown(a));
  CHECK_OK(brook_subscriber_poll_into(sub, 0, 100, small, sizeof small, &n, &used, &needed));
  CHECK(n == 1 && used == 25 && needed == 0);
  n = 99;
  CHECK_STATUS(brook_subscriber_poll_into(sub, 0, 100, small, sizeof small, &n, &used, &needed),
               BROOK_STATUS_CLOSED);
  CHECK(n == 99); /* out-parameters are written only on success */

done:
  brook_subscriber_free(sub);
  brook_endpoint_free(b);
  brook_endpoint_free(a);
}

static void test_peer_unavailable(void) {
  brook_endpoint *ep = NULL;
  brook_status_subscriber *st = NULL;
  brook_status_event *ev = NULL;
  uint16_t port = closed_port();
  uint8_t id[16];
  if (!CHECK_OK(brook_endpoint_new(NULL, &ep))) {
    return;
  }
  CHECK_OK(brook_endpoint_status_subscriber(ep, true, &st));
  CHECK_STATUS(brook_endpoint_peer(ep, "127.0.0.1", port, 0, id), BROOK_STATUS_PEER_UNAVAILABLE);
  ev = next_status(st, BROOK_STATUS_KIND_ERROR, 4);
  if (CHECK(ev != NULL)) {
    const char *name = NULL, *ip = NULL;
    uint16_t p = 0;
    CHECK_OK(brook_status_event_name(ev, &name));
    CHECK(strcmp(name, "peer_unavailable") == 0);
    CHECK_OK(brook_status_event_address(ev, &ip, &p));
    CHECK(ip != NULL && strcmp(ip, "127.0.0.1") == 0 && p == port);
    brook_status_event_free(ev);
  }
  /* Without errors, a status subscriber sees none of it. */
  brook_status_subscriber_free(st);
  st = NULL;
  CHECK_OK(brook_endpoint_status_subscriber(ep, false, &st));
  CHECK_OK(brook_endpoint_peer_nosync(ep, "127.0.0.1", port, 0));
  CHECK_STATUS(brook_status_subscriber_next(st, 200, &ev), BROOK_STATUS_TIMEOUT);
  brook_status_subscriber_free(st);
  brook_endpoint_free(ep);
}

/* A vector nested `depth` deep around a count; caller owns it. */
static brook_data *nested(int depth) {
  brook_data *d = count(7);
  for (int i = 0; i < depth; i++) {
    brook_data *v = NULL;
    if (!CHECK_OK(brook_data_new_vector(&v)) || !CHECK_OK(brook_data_vector_push(v, d))) {
      brook_data_free(v);
      return d;
    }
    brook_data_free(d);
    d = v;
  }
  return d;
}

/* What no peer would take is refused with BROOK_STATUS_ENCODE_ERROR: a value nested more
 * than 128 containers deep, or a frame over the endpoint's maximum frame size. */
static void test_refused_publications(void) {
  brook_config *c = NULL;
  brook_endpoint *ep = NULL;
  brook_publisher *pub = NULL;
  brook_store *store = NULL;
  static uint8_t big[4096];
  brook_data *large = NULL, *deep = NULL, *deepest = NULL, *key = count(1);
  if (!CHECK_OK(brook_config_new(&c))) {
    return;
  }
  CHECK_OK(brook_config_set(c, "brook.max-frame-size", "2048"));
  CHECK_OK(brook_config_set_listen_backlog(c, 1024));
  CHECK_STATUS(brook_config_set_listen_backlog(c, 0), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(brook_config_set_max_frame_size(c, (size_t)1 << 31), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("2147483643");
  if (!CHECK_OK(brook_endpoint_new(c, &ep))) {
    brook_config_free(c);
    brook_data_free(key);
    return;
  }
  brook_config_free(c);
  memset(big, 'x', sizeof big);
  CHECK_OK(brook_data_new_string(big, sizeof big, &large));
  deep = nested(128);
  deepest = nested(129);

  CHECK_STATUS(brook_endpoint_publish(ep, "/refused", large), BROOK_STATUS_ENCODE_ERROR);
  CHECK_ERROR_HAS("max_frame_size");
  CHECK_STATUS(brook_endpoint_publish(ep, "/refused", deepest), BROOK_STATUS_ENCODE_ERROR);
  CHECK_ERROR_HAS("deeper than 128");
  CHECK_OK(brook_endpoint_publish(ep, "/refused", deep));
  const brook_data *batch[2] = {deep, large};
  CHECK_STATUS(brook_endpoint_publish_batch(ep, "/refused", batch, 2), BROOK_STATUS_ENCODE_ERROR);
  if (CHECK_OK(brook_endpoint_publisher(ep, "/refused", &pub))) {
    CHECK_STATUS(brook_publisher_publish(pub, large), BROOK_STATUS_ENCODE_ERROR);
    CHECK_STATUS(brook_publisher_try_publish(pub, deepest), BROOK_STATUS_ENCODE_ERROR);
    CHECK_OK(brook_publisher_publish(pub, deep));
  }
  if (CHECK_OK(brook_endpoint_attach_master(ep, "refused", BROOK_BACKEND_MEMORY, NULL, &store))) {
    CHECK_STATUS(brook_store_put(store, key, large, -1), BROOK_STATUS_ENCODE_ERROR);
    CHECK_ERROR_HAS("max_frame_size");
    CHECK_STATUS(brook_store_put(store, key, deepest, -1), BROOK_STATUS_ENCODE_ERROR);
    CHECK_OK(brook_store_put(store, key, deep, -1));
  }
  brook_store_free(store);
  brook_publisher_free(pub);
  brook_data_free(large);
  brook_data_free(deep);
  brook_data_free(deepest);
  brook_data_free(key);
  brook_endpoint_free(ep);
}

static void test_null_arguments(void) {
  brook_endpoint *ep = NULL;
  brook_subscriber *sub = NULL;
  brook_data *d = count(1);
  const char *with_null[] = {"/a", NULL};
  uint8_t id[16];
  size_t n = 0;
  int fd = 0;
  if (!CHECK_OK(brook_endpoint_new(NULL, &ep))) {
    brook_data_free(d);
    return;
  }
  CHECK_STATUS(brook_endpoint_new(NULL, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_endpoint is NULL");
  CHECK_STATUS(brook_endpoint_id(NULL, id), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("endpoint is NULL");
  CHECK_STATUS(brook_endpoint_id(ep, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_endpoint_listen(ep, NULL, 0, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("address is NULL");
  CHECK_STATUS(brook_endpoint_peer(ep, NULL, 1, 0, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("host is NULL");
  CHECK_STATUS(brook_endpoint_publish(ep, NULL, d), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("topic is NULL");
  CHECK_STATUS(brook_endpoint_publish(ep, "/a", NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("value is NULL");
  CHECK_STATUS(brook_endpoint_publish(ep, "", d), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(brook_endpoint_publish_event(ep, "/a", NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_endpoint_publish_to(ep, NULL, "/a", d), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("receiver_id16 is NULL");
  CHECK_STATUS(brook_endpoint_subscribe(ep, NULL, 1, &sub), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("topics is NULL");
  CHECK_STATUS(brook_endpoint_subscribe(ep, with_null, 2, &sub), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("topics[1] is NULL");
  CHECK(sub == NULL); /* out-parameters are written only on success */
  CHECK_STATUS(brook_endpoint_subscribe_sized(ep, with_null, 1, 0, &sub),
               BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("queue size");
  CHECK_STATUS(brook_endpoint_subscribe_sized(ep, with_null, 1, 8, NULL),
               BROOK_STATUS_NULL_ARGUMENT);
  if (CHECK_OK(brook_endpoint_subscribe_sized(ep, with_null, 1, 8, &sub))) {
    brook_subscriber_free(sub);
    sub = NULL;
  }
  CHECK_STATUS(brook_endpoint_peers(ep, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_endpoint_peer_subscriptions(NULL, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_id_to_string(NULL, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_subscriber_next(NULL, 0, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_subscriber_fd(NULL, &fd), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("subscriber is NULL");
  CHECK_STATUS(brook_subscriber_available(NULL, &n), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_message_topic(NULL, NULL, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_status_subscriber_next(NULL, 0, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_status_event_name(NULL, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_peer_list_len(NULL, &n), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_topic_list_get(NULL, 0, NULL, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_endpoint_shutdown(NULL), BROOK_STATUS_NULL_ARGUMENT);

  /* A subscription without topics is fine; so is polling it with room for none. */
  if (CHECK_OK(brook_endpoint_subscribe(ep, NULL, 0, &sub))) {
    CHECK_STATUS(brook_subscriber_poll(sub, NULL, 1, &n), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("out_messages is NULL");
    CHECK_OK(brook_subscriber_poll(sub, NULL, 0, &n));
    CHECK(n == 0);
  }
  brook_subscriber_free(sub);
  brook_data_free(d);
  brook_endpoint_free(ep);
}

static void test_ids(void) {
  brook_endpoint *ep = NULL;
  uint8_t id[16];
  char *text = NULL;
  static const uint8_t known[16] = {0x0b, 0x1d, 0x5e, 0x6c, 0x7a, 0x3f, 0x4d, 0x2e,
                                    0x9c, 0x1b, 0x2f, 0x3e, 0x4d, 0x5c, 0x6b, 0x7a};
  if (CHECK_OK(brook_id_to_string(known, &text))) {
    CHECK(strcmp(text, "0b1d5e6c-7a3f-4d2e-9c1b-2f3e4d5c6b7a") == 0);
    brook_string_free(text);
  }
  if (CHECK_OK(brook_endpoint_new(NULL, &ep)) && CHECK_OK(brook_endpoint_id(ep, id)) &&
      CHECK_OK(brook_id_to_string(id, &text))) {
    /* A version-4 UUID. */
    CHECK(strlen(text) == 36 && text[8] == '-' && text[14] == '4');
    brook_string_free(text);
  }
  brook_endpoint_free(ep);
}

static void test_calls_after_shutdown(void) {
  brook_endpoint *a = NULL, *b = NULL;
  brook_subscriber *sub = NULL, *sub2 = NULL;
  brook_status_subscriber *st = NULL, *st2 = NULL;
  brook_message *m = NULL, *msgs[2];
  brook_peer_list *peers = NULL;
  brook_topic_list *topics = NULL;
  brook_data *d = count(9);
  brook_event *ev = NULL;
  const char *t[] = {"/x"};
  uint8_t id[16] = {0};
  uint16_t port = 0;
  size_t n = 0;
  int fd = -1;
  brook_status status;
  if (!CHECK_OK(brook_endpoint_new(NULL, &a)) || !CHECK_OK(brook_endpoint_new(NULL, &b)) ||
      !CHECK_OK(brook_endpoint_subscribe(a, t, 1, &sub)) ||
      !CHECK_OK(brook_endpoint_status_subscriber(a, true, &st)) ||
      !CHECK_OK(brook_endpoint_listen(b, "127.0.0.1", 0, &port))) {
    goto done;
  }
  CHECK_OK(brook_event_new("e", &ev));
  /* Addressed to itself: an endpoint's own broadcasts never reach its own subscribers,
   * as in Broker. */
  {
    brook_data *one = count(1);
    uint8_t self_id[16];
    CHECK_OK(brook_endpoint_id(a, self_id));
    CHECK_OK(brook_endpoint_publish_to(a, self_id, "/x", one));
    brook_data_free(one);
  }
  {
    /* Everything reached its peer: nothing undelivered; a second shutdown has nothing. */
    uint64_t undelivered = 99;
    CHECK_STATUS(brook_endpoint_shutdown_report(a, NULL), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(brook_endpoint_shutdown_report(NULL, &undelivered), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_OK(brook_endpoint_shutdown_report(a, &undelivered));
    CHECK(undelivered == 0);
    undelivered = 99;
    CHECK_OK(brook_endpoint_shutdown_report(a, &undelivered));
    CHECK(undelivered == 0);
  }
  CHECK_OK(brook_endpoint_shutdown(a)); /* idempotent */

  CHECK_STATUS(brook_endpoint_listen(a, "127.0.0.1", 0, NULL), BROOK_STATUS_CLOSED);
  CHECK_ERROR_HAS("shut down");
  CHECK_STATUS(brook_endpoint_peer(a, "127.0.0.1", port, 0, NULL), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_endpoint_peer_nosync(a, "127.0.0.1", port, 0), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_endpoint_unpeer(a, "127.0.0.1", port), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_endpoint_peers(a, &peers), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_endpoint_peer_subscriptions(a, &topics), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_endpoint_forward(a, "/y"), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_endpoint_publish(a, "/x", d), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_endpoint_try_publish(a, "/x", d), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_endpoint_publish_event(a, "/x", ev), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_endpoint_publish_to(a, id, "/x", d), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_endpoint_flush(a), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_endpoint_subscribe(a, t, 1, &sub2), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_endpoint_status_subscriber(a, false, &st2), BROOK_STATUS_CLOSED);
  CHECK(peers == NULL && topics == NULL && sub2 == NULL && st2 == NULL);
  CHECK_OK(brook_endpoint_id(a, id));

  /* The subscriber hands out what was delivered before the shutdown, then reports it;
   * its fd stays readable so that a poll() loop notices. */
  CHECK_OK(brook_subscriber_fd(sub, &fd));
  CHECK(readable(fd, WAIT_MS));
  if (CHECK_OK(brook_subscriber_next(sub, -1, &m))) {
    check_count_message(m, "/x", 1);
  }
  CHECK_STATUS(brook_subscriber_next(sub, -1, &m), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_subscriber_poll(sub, msgs, 2, &n), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_subscriber_add_topic(sub, "/z"), BROOK_STATUS_CLOSED);
  CHECK(readable(fd, 0));
  do {
    brook_status_event *e = NULL;
    status = brook_status_subscriber_next(st, -1, &e);
    brook_status_event_free(e);
  } while (status == BROOK_STATUS_OK);
  CHECK(status == BROOK_STATUS_CLOSED);

done:
  brook_event_free(ev);
  brook_data_free(d);
  brook_status_subscriber_free(st);
  brook_subscriber_free(sub);
  brook_endpoint_free(b);
  brook_endpoint_free(a); /* after shutdown: frees without waiting again */
}

/* ---- waits that another thread ends --------------------------------------------------- */

struct waiter {
  brook_endpoint *ep;
  brook_subscriber *sub;
  uint16_t port;
  brook_status status;
};

static void *wait_for_message(void *arg) {
  struct waiter *w = arg;
  brook_message *m = NULL;
  w->status = brook_subscriber_next(w->sub, -1, &m);
  brook_message_free(m);
  return NULL;
}

static void *wait_for_peer(void *arg) {
  struct waiter *w = arg;
  w->status = brook_endpoint_peer(w->ep, "127.0.0.1", w->port, 0, NULL);
  return NULL;
}

/* A listening socket that accepts connections and never says a word. */
static int silent_listener(uint16_t *out_port) {
  struct sockaddr_in addr;
  socklen_t len = sizeof addr;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(s, 4) != 0 ||
      getsockname(s, (struct sockaddr *)&addr, &len) != 0) {
    if (s >= 0) {
      close(s);
    }
    return -1;
  }
  *out_port = ntohs(addr.sin_port);
  return s;
}

/* A thread waiting forever for a message, and one waiting for a handshake that never comes,
 * both return BROOK_STATUS_CLOSED when the main thread shuts the endpoint down. */
static void test_shutdown_ends_waits(void) {
  brook_config *c = NULL;
  brook_endpoint *ep = NULL;
  const char *t[] = {"/nothing"};
  struct waiter msg = {NULL, NULL, 0, BROOK_STATUS_OK};
  struct waiter peer = {NULL, NULL, 0, BROOK_STATUS_OK};
  pthread_t msg_thread, peer_thread;
  int listener = silent_listener(&peer.port);
  int64_t started = now_ms();

  if (!CHECK(listener >= 0) || !CHECK_OK(brook_config_new(&c)) ||
      !CHECK_OK(brook_config_set_handshake_timeout_ms(c, 600000)) ||
      !CHECK_OK(brook_endpoint_new(c, &ep)) ||
      !CHECK_OK(brook_endpoint_subscribe(ep, t, 1, &msg.sub))) {
    goto done;
  }
  msg.ep = peer.ep = ep;
  if (!CHECK(pthread_create(&msg_thread, NULL, wait_for_message, &msg) == 0)) {
    goto done;
  }
  if (!CHECK(pthread_create(&peer_thread, NULL, wait_for_peer, &peer) == 0)) {
    brook_endpoint_shutdown(ep);
    pthread_join(msg_thread, NULL);
    goto done;
  }
  /* Shut down once the peering attempt is listed, so that the thread surely waits. */
  while (now_ms() - started < WAIT_MS) {
    brook_peer_list *list = NULL;
    size_t n = 0;
    int listed = brook_endpoint_peers(ep, &list) == BROOK_STATUS_OK &&
                 brook_peer_list_len(list, &n) == BROOK_STATUS_OK && n == 1;
    brook_peer_list_free(list);
    if (listed) {
      break;
    }
    pause_briefly();
  }
  CHECK_OK(brook_endpoint_shutdown(ep));
  pthread_join(msg_thread, NULL);
  pthread_join(peer_thread, NULL);
  CHECK(msg.status == BROOK_STATUS_CLOSED);
  CHECK(peer.status == BROOK_STATUS_CLOSED);
  CHECK(now_ms() - started < 60000);

done:
  if (listener >= 0) {
    close(listener);
  }
  brook_subscriber_free(msg.sub);
  brook_endpoint_free(ep);
  brook_config_free(c);
}

static void test_free_null(void) {
  brook_config_free(NULL);
  brook_endpoint_free(NULL);
  brook_subscriber_free(NULL);
  brook_message_free(NULL);
  brook_status_subscriber_free(NULL);
  brook_status_event_free(NULL);
  brook_peer_list_free(NULL);
  brook_topic_list_free(NULL);
  CHECK(1);
}

int main(void) {
  test_config();
  test_two_endpoints();
  test_poll_into();
  test_peer_unavailable();
  test_refused_publications();
  test_null_arguments();
  test_ids();
  test_calls_after_shutdown();
  test_shutdown_ends_waits();
  test_free_null();
  return harness_finish();
}
