/*
 * brook's C API for publishers and batches: a batch of 100 values crossing 127.0.0.1 in
 * order; backpressure seen through brook_publisher_try_publish() and the publisher's fd in
 * poll(), against a subscriber on a peer over 127.0.0.1 that stops reading (an endpoint's
 * own publications do not reach its own subscribers, as in Broker); one publisher shared
 * by two threads; then NULL arguments, a publisher outliving its endpoint, and free(NULL).
 * Every wait has a timeout; nothing sleeps to let something happen. What the TCP buffers
 * between the peers hold is unknown, so the tests check behaviour, not exact counts.
 */
#define _POSIX_C_SOURCE 200809L

#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* ---- helpers ------------------------------------------------------------------------ */

/* The topic and the count of message `m`, which it frees; 0 if it is not as expected. */
static int take_count(brook_message *m, const char *topic, uint64_t *out) {
  const uint8_t *t = NULL;
  size_t len = 0;
  brook_data *d = NULL;
  int ok = brook_message_topic(m, &t, &len) == BROOK_STATUS_OK && len == strlen(topic) &&
           memcmp(t, topic, len) == 0 && brook_message_data(m, &d) == BROOK_STATUS_OK &&
           brook_data_get_count(d, out) == BROOK_STATUS_OK;
  brook_data_free(d);
  brook_message_free(m);
  return ok;
}

/* Receives the counts first .. last - 1 on `topic`, in order; true if they all came. */
static int expect_counts(brook_subscriber *sub, const char *topic, uint64_t first,
                         uint64_t last) {
  for (uint64_t want = first; want < last; want++) {
    brook_message *m = NULL;
    uint64_t got = 0;
    if (!CHECK_OK(brook_subscriber_next(sub, WAIT_MS, &m))) {
      return 0;
    }
    if (!CHECK(take_count(m, topic, &got) && got == want)) {
      fprintf(stderr, "  got %llu, expected %llu\n", (unsigned long long)got,
              (unsigned long long)want);
      return 0;
    }
  }
  return 1;
}

/* Publishes the counts *next, *next + 1, ... with try_publish until the queue is full. */
static int fill(brook_publisher *p, uint64_t *next) {
  for (int i = 0; i < 100000; i++) {
    brook_data *d = NULL;
    brook_status s;
    if (brook_data_new_count(*next, &d) != BROOK_STATUS_OK) {
      return CHECK(!"brook_data_new_count failed");
    }
    s = brook_publisher_try_publish(p, d);
    brook_data_free(d);
    if (s == BROOK_STATUS_WOULD_BLOCK) {
      return CHECK_ERROR_HAS("full");
    }
    if (!CHECK_OK(s)) {
      return 0;
    }
    (*next)++;
  }
  return CHECK(!"the publish queue never filled");
}

/* A config whose publish queue (the peer buffer size) and subscriber queues hold 4, and
 * whose peers are not disconnected while a test holds them up. */
static brook_config *tiny_queues(void) {
  brook_config *c = NULL;
  if (CHECK_OK(brook_config_new(&c))) {
    CHECK_OK(brook_config_set_subscriber_queue_size(c, 4));
    CHECK_OK(brook_config_set_peer_buffer_size(c, 4));
    CHECK_OK(brook_config_set_peer_stall_timeout_ms(c, 60000));
    CHECK_OK(brook_config_set_unpeer_timeout_ms(c, 1000));
  }
  return c;
}

/* Endpoint *a (config `c`) with a subscriber *sub on `prefix`, and endpoint *b (config `c`)
 * peered with it over 127.0.0.1, with a publisher *p on `topic`, once b knows that a
 * subscribed. True if all went well. */
static int remote_pair(const brook_config *c, const char *prefix, const char *topic,
                       brook_endpoint **a, brook_endpoint **b, brook_subscriber **sub,
                       brook_publisher **p) {
  const char *topics[] = {prefix};
  uint16_t port = 0;
  return CHECK_OK(brook_endpoint_new(c, a)) && CHECK_OK(brook_endpoint_new(c, b)) &&
         CHECK_OK(brook_endpoint_subscribe(*a, topics, 1, sub)) &&
         CHECK_OK(brook_endpoint_listen(*a, "127.0.0.1", 0, &port)) &&
         CHECK_OK(brook_endpoint_peer(*b, "127.0.0.1", port, 0, NULL)) &&
         CHECK(peer_subscribed(*b, topic)) && CHECK_OK(brook_endpoint_publisher(*b, topic, p));
}

/* With tiny_queues() and a subscriber on a peer that does not read: publishes counts from
 * *next on until the whole way is full: the subscriber holds 4, and the publish queue, the
 * peer's send buffer and the TCP buffers between hold the rest (an unknown amount). Each
 * fill() ends with BROOK_STATUS_WOULD_BLOCK; the reactor may take more between them. The
 * way is full once the publish queue stays full for a while. (The queue itself decides,
 * not the fd: the fd may stay not writable after the reactor made room, until the next
 * try_publish that finds the queue full.) */
static int jam(brook_publisher *p, brook_subscriber *sub, uint64_t *next) {
  int64_t deadline = now_ms() + 3 * WAIT_MS;
  size_t n = 0, room = 1;
  int fd = -1;
  if (!CHECK_OK(brook_publisher_fd(p, &fd))) {
    return 0;
  }
  while (room > 0 && now_ms() < deadline) {
    if (!fill(p, next)) {
      return 0;
    }
    if (!writable(fd, 200) && brook_publisher_free_capacity(p, &room) != BROOK_STATUS_OK) {
      return CHECK(!"brook_publisher_free_capacity failed");
    }
  }
  return CHECK(room == 0) && CHECK(*next > 8) && CHECK_OK(brook_subscriber_available(sub, &n)) &&
         CHECK(n == 4);
}

/* ---- tests -------------------------------------------------------------------------- */

/* Batches from b reach a subscriber on a, over TCP, in order; a failed batch sends none. */
static void test_batch_over_tcp(void) {
  brook_endpoint *a = NULL, *b = NULL;
  brook_subscriber *sub = NULL;
  brook_publisher *p = NULL;
  brook_data *values[100] = {NULL};
  const char *topics[] = {"/brook/pub/"};
  const uint8_t *topic = NULL;
  size_t topic_len = 0;
  uint16_t port = 0;

  for (uint64_t i = 0; i < 100; i++) {
    values[i] = count(i);
  }
  if (!CHECK_OK(brook_endpoint_new(NULL, &a)) || !CHECK_OK(brook_endpoint_new(NULL, &b)) ||
      !CHECK_OK(brook_endpoint_subscribe(a, topics, 1, &sub)) ||
      !CHECK_OK(brook_endpoint_listen(a, "127.0.0.1", 0, &port)) ||
      !CHECK_OK(brook_endpoint_peer(b, "127.0.0.1", port, 0, NULL)) ||
      !CHECK(peer_subscribed(b, "/brook/pub/batch")) ||
      !CHECK_OK(brook_endpoint_publisher(b, "/brook/pub/batch", &p))) {
    goto done;
  }
  CHECK_OK(brook_publisher_topic(p, &topic, &topic_len));
  CHECK(topic_len == strlen("/brook/pub/batch") && memcmp(topic, "/brook/pub/batch", 16) == 0);

  /* 100 values in one call arrive as 100 messages, in order. */
  CHECK_OK(brook_publisher_publish_batch(p, (const brook_data *const *)values, 100));
  expect_counts(sub, "/brook/pub/batch", 0, 100);

  /* An empty batch publishes nothing; a NULL element fails the whole batch. */
  CHECK_OK(brook_publisher_publish_batch(p, NULL, 0));
  {
    const brook_data *with_null[] = {values[0], values[1], NULL, values[3]};
    CHECK_STATUS(brook_publisher_publish_batch(p, with_null, 4), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("values[2] is NULL");
    CHECK_STATUS(brook_endpoint_publish_batch(b, "/brook/pub/batch", with_null, 4),
                 BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("values[2] is NULL");
  }

  /* Single publishes and the endpoint's batch on another topic follow, in order. */
  CHECK_OK(brook_publisher_publish(p, values[7]));
  CHECK_OK(brook_publisher_try_publish(p, values[8]));
  expect_counts(sub, "/brook/pub/batch", 7, 9);
  CHECK_OK(brook_endpoint_publish_batch(b, "/brook/pub/other",
                                        (const brook_data *const *)values + 10, 20));
  expect_counts(sub, "/brook/pub/other", 10, 30);
  {
    brook_message *m = NULL;
    CHECK_STATUS(brook_subscriber_next(sub, 50, &m), BROOK_STATUS_TIMEOUT);
  }

done:
  brook_publisher_free(p);
  brook_subscriber_free(sub);
  brook_endpoint_free(b);
  brook_endpoint_free(a);
  for (int i = 0; i < 100; i++) {
    brook_data_free(values[i]);
  }
}

/* A subscriber on a peer that stops reading (policy block, 4 places) holds the publish
 * queue (4 places) full, once the TCP buffers between are: try_publish says WOULD_BLOCK
 * and the fd is not writable until the subscriber takes enough messages. Nothing is lost
 * or reordered. */
static void test_backpressure_and_fd(void) {
  brook_config *c = tiny_queues();
  brook_endpoint *a = NULL, *ep = NULL;
  brook_subscriber *sub = NULL;
  brook_publisher *p = NULL, *p2 = NULL;
  brook_data *d = count(999);
  uint64_t next = 0;
  size_t n = 0;
  int fd = -1, fd2 = -2;

  if (!remote_pair(c, "/bp/", "/bp/values", &a, &ep, &sub, &p) ||
      !CHECK_OK(brook_endpoint_publisher(ep, "/unread", &p2)) ||
      !CHECK_OK(brook_publisher_fd(p, &fd))) {
    goto done;
  }
  /* One fd for the endpoint, writable while there is room. */
  CHECK_OK(brook_publisher_fd(p2, &fd2));
  CHECK(fd >= 0 && fd == fd2);
  CHECK(writable(fd, 0));
  CHECK_OK(brook_publisher_free_capacity(p, &n));
  CHECK(n == 4);

  if (!jam(p, sub, &next)) {
    goto done;
  }
  /* While the way stays full, the fd is not writable and the publish queue is full for
   * every publisher of the endpoint. The TCP buffers may still take a little more now
   * and then (a zero-window probe); then fill again and look once more. The values
   * published here go to topics that a did not subscribe to. */
  {
    int jammed = 0;
    for (int tries = 0; !jammed && tries < 20; tries++) {
      if (tries > 0 && !fill(p, &next)) {
        goto done;
      }
      jammed = !writable(fd, 0) && brook_publisher_free_capacity(p2, &n) == BROOK_STATUS_OK &&
               n == 0 && brook_publisher_try_publish(p2, d) == BROOK_STATUS_WOULD_BLOCK &&
               CHECK_ERROR_HAS("full") &&
               brook_endpoint_try_publish(ep, "/unread/x", d) == BROOK_STATUS_WOULD_BLOCK &&
               CHECK_ERROR_HAS("full") && !writable(fd, 0) &&
               brook_publisher_free_capacity(p, &n) == BROOK_STATUS_OK && n == 0;
    }
    CHECK(jammed);
  }

  /* A poll() loop drains the subscriber (POLLIN) until the publisher's fd turns writable
   * (POLLOUT): once the TCP buffers have room, the reactor has room again. */
  {
    struct pollfd fds[2] = {{-1, POLLIN, 0}, {fd, POLLOUT, 0}};
    uint64_t taken = 0;
    int64_t deadline = now_ms() + WAIT_MS;
    CHECK_OK(brook_subscriber_fd(sub, &fds[0].fd));
    CHECK(!writable(fd, 0));
    while (now_ms() < deadline && poll(fds, 2, (int)(deadline - now_ms())) > 0 &&
           !(fds[1].revents & POLLOUT)) {
      brook_message *msgs[4];
      size_t got = 0;
      if (!CHECK_OK(brook_subscriber_poll(sub, msgs, 4, &got))) {
        break;
      }
      for (size_t i = 0; i < got; i++, taken++) {
        uint64_t v = 0;
        if (!CHECK(take_count(msgs[i], "/bp/values", &v) && v == taken)) {
          fprintf(stderr, "  got %llu, expected %llu\n", (unsigned long long)v,
                  (unsigned long long)taken);
        }
      }
    }
    CHECK(fds[1].revents & POLLOUT);
    CHECK(taken >= 4 && taken <= next);
    CHECK(writable(fd, 0)); /* level-triggered: still writable */
    CHECK_OK(brook_publisher_free_capacity(p, &n));
    CHECK(n > 0);
    CHECK_OK(brook_publisher_try_publish(p, d));
    expect_counts(sub, "/bp/values", taken, next);
    {
      brook_message *m = NULL;
      uint64_t v = 0;
      if (CHECK_OK(brook_subscriber_next(sub, WAIT_MS, &m))) {
        CHECK(take_count(m, "/bp/values", &v) && v == 999);
      }
    }
  }

  /* Nothing was dropped or added. */
  {
    brook_message *m = NULL;
    uint64_t dropped = 1;
    CHECK_STATUS(brook_subscriber_next(sub, 50, &m), BROOK_STATUS_TIMEOUT);
    CHECK_OK(brook_subscriber_dropped(sub, &dropped));
    CHECK(dropped == 0);
  }
  CHECK(writable(fd, WAIT_MS));

done:
  brook_data_free(d);
  brook_publisher_free(p2);
  brook_publisher_free(p);
  brook_subscriber_free(sub);
  brook_endpoint_free(ep);
  brook_endpoint_free(a);
  brook_config_free(c);
}

#define PER_THREAD 200

struct publishing_thread {
  brook_publisher *p;
  uint64_t base;
  brook_status status;
};

static void *publish_many(void *arg) {
  struct publishing_thread *t = arg;
  t->status = BROOK_STATUS_OK;
  for (uint64_t i = 0; i < PER_THREAD && t->status == BROOK_STATUS_OK; i++) {
    brook_data *d = NULL;
    t->status = brook_data_new_count(t->base + i, &d);
    if (t->status == BROOK_STATUS_OK) {
      t->status = brook_publisher_publish(t->p, d);
    }
    brook_data_free(d);
  }
  return NULL;
}

/* Two threads publish through one publisher, held back by a subscriber of 4 places on a
 * peer; each thread's values arrive in its order. */
static void test_shared_between_threads(void) {
  brook_config *c = tiny_queues();
  brook_endpoint *a = NULL, *ep = NULL;
  brook_subscriber *sub = NULL;
  brook_publisher *p = NULL;
  struct publishing_thread t[2] = {{NULL, 0, BROOK_STATUS_OK}, {NULL, 1000, BROOK_STATUS_OK}};
  pthread_t threads[2];
  uint64_t want[2] = {0, 1000};
  int started = 0;

  if (!remote_pair(c, "/mt", "/mt", &a, &ep, &sub, &p)) {
    goto done;
  }
  for (; started < 2; started++) {
    t[started].p = p;
    if (!CHECK(pthread_create(&threads[started], NULL, publish_many, &t[started]) == 0)) {
      break;
    }
  }
  for (int i = 0; started == 2 && i < 2 * PER_THREAD; i++) {
    brook_message *m = NULL;
    uint64_t v = 0;
    if (!CHECK_OK(brook_subscriber_next(sub, WAIT_MS, &m)) || !CHECK(take_count(m, "/mt", &v))) {
      break;
    }
    if (!CHECK(v == want[v >= 1000])) {
      fprintf(stderr, "  got %llu, expected %llu\n", (unsigned long long)v,
              (unsigned long long)want[v >= 1000]);
      break;
    }
    want[v >= 1000]++;
  }
  CHECK(want[0] == PER_THREAD && want[1] == 1000 + PER_THREAD);

done:
  if (started < 2 || want[0] + want[1] != 1000 + 2 * PER_THREAD) {
    /* Release threads that still wait for room. */
    brook_endpoint_shutdown(ep);
  }
  for (int i = 0; i < started; i++) {
    pthread_join(threads[i], NULL);
  }
  for (int i = 0; i < started; i++) {
    CHECK(t[i].status == BROOK_STATUS_OK);
  }
  brook_publisher_free(p);
  brook_subscriber_free(sub);
  brook_endpoint_free(ep);
  brook_endpoint_free(a);
  brook_config_free(c);
}

static void test_null_arguments(void) {
  brook_endpoint *ep = NULL;
  brook_publisher *p = NULL, *none = NULL;
  brook_data *d = count(1);
  const brook_data *values[] = {d};
  const uint8_t *buf = NULL;
  size_t n = 0;
  int fd = -1;
  if (!CHECK_OK(brook_endpoint_new(NULL, &ep)) ||
      !CHECK_OK(brook_endpoint_publisher(ep, "/n", &p))) {
    goto done;
  }
  CHECK_STATUS(brook_endpoint_publisher(NULL, "/n", &none), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("endpoint is NULL");
  CHECK_STATUS(brook_endpoint_publisher(ep, NULL, &none), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("topic is NULL");
  CHECK_STATUS(brook_endpoint_publisher(ep, "/n", NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_publisher is NULL");
  CHECK_STATUS(brook_endpoint_publisher(ep, "", &none), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("empty");
  CHECK(none == NULL); /* out-parameters are written only on success */

  CHECK_STATUS(brook_publisher_publish(NULL, d), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("publisher is NULL");
  CHECK_STATUS(brook_publisher_publish(p, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("value is NULL");
  CHECK_STATUS(brook_publisher_try_publish(NULL, d), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_publisher_try_publish(p, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("value is NULL");
  CHECK_STATUS(brook_publisher_publish_batch(NULL, values, 1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("publisher is NULL");
  CHECK_STATUS(brook_publisher_publish_batch(p, NULL, 1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("values is NULL");
  CHECK_STATUS(brook_publisher_free_capacity(NULL, &n), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_publisher_free_capacity(p, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_n is NULL");
  CHECK_STATUS(brook_publisher_fd(NULL, &fd), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_publisher_fd(p, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_fd is NULL");
  CHECK(fd == -1);
  CHECK_STATUS(brook_publisher_topic(NULL, &buf, &n), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_publisher_topic(p, NULL, &n), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_publisher_topic(p, &buf, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK(buf == NULL);

  CHECK_STATUS(brook_endpoint_publish_batch(NULL, "/n", values, 1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("endpoint is NULL");
  CHECK_STATUS(brook_endpoint_publish_batch(ep, NULL, values, 1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("topic is NULL");
  CHECK_STATUS(brook_endpoint_publish_batch(ep, "/n", NULL, 1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("values is NULL");
  CHECK_STATUS(brook_endpoint_publish_batch(ep, "", values, 1), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_OK(brook_endpoint_publish_batch(ep, "/n", NULL, 0));

done:
  brook_publisher_free(p);
  brook_endpoint_free(ep);
  brook_data_free(d);
}

/* After shutdown, publishers report CLOSED, also once the endpoint is freed. */
static void test_after_shutdown(void) {
  brook_endpoint *ep = NULL, *ep2 = NULL;
  brook_publisher *p = NULL, *late = NULL, *orphan = NULL;
  brook_data *d = count(3);
  const brook_data *values[] = {d, d};
  size_t n = 0;
  int fd = -1;
  if (!CHECK_OK(brook_endpoint_new(NULL, &ep)) || !CHECK_OK(brook_endpoint_new(NULL, &ep2)) ||
      !CHECK_OK(brook_endpoint_publisher(ep, "/s", &p)) ||
      !CHECK_OK(brook_endpoint_publisher(ep2, "/s", &orphan))) {
    goto done;
  }
  CHECK_OK(brook_publisher_publish(p, d));
  CHECK_OK(brook_endpoint_shutdown(ep));

  CHECK_STATUS(brook_publisher_publish(p, d), BROOK_STATUS_CLOSED);
  CHECK_ERROR_HAS("shut down");
  CHECK_STATUS(brook_publisher_try_publish(p, d), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_publisher_publish_batch(p, values, 2), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_endpoint_publish_batch(ep, "/s", values, 2), BROOK_STATUS_CLOSED);
  CHECK_OK(brook_publisher_free_capacity(p, &n));
  CHECK_OK(brook_publisher_fd(p, &fd));
  CHECK(fd >= 0);

  /* A publisher made after shutdown is made, and reports CLOSED when used. */
  if (CHECK_OK(brook_endpoint_publisher(ep, "/s", &late))) {
    CHECK_STATUS(brook_publisher_publish(late, d), BROOK_STATUS_CLOSED);
  }

  /* Publishers outlive their endpoint, shut down or not. */
  brook_endpoint_free(ep);
  ep = NULL;
  CHECK_STATUS(brook_publisher_publish(p, d), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_publisher_try_publish(late, d), BROOK_STATUS_CLOSED);
  brook_endpoint_free(ep2);
  ep2 = NULL;
  CHECK_STATUS(brook_publisher_publish(orphan, d), BROOK_STATUS_CLOSED);
  CHECK_ERROR_HAS("shut down");
  CHECK_STATUS(brook_publisher_publish_batch(orphan, values, 2), BROOK_STATUS_CLOSED);
  CHECK_OK(brook_publisher_free_capacity(orphan, &n));

done:
  brook_publisher_free(orphan);
  brook_publisher_free(late);
  brook_publisher_free(p);
  brook_endpoint_free(ep2);
  brook_endpoint_free(ep);
  brook_data_free(d);
}

/* A loop waiting for the publisher's fd wakes up when the endpoint shuts down, and learns
 * from try_publish that it has. */
static void test_fd_after_shutdown(void) {
  brook_config *c = tiny_queues();
  brook_endpoint *a = NULL, *ep = NULL;
  brook_subscriber *sub = NULL;
  brook_publisher *p = NULL;
  brook_data *d = count(1);
  uint64_t next = 0;
  int fd = -1;
  if (!remote_pair(c, "/j", "/j", &a, &ep, &sub, &p) || !CHECK_OK(brook_publisher_fd(p, &fd)) ||
      !jam(p, sub, &next)) {
    goto done;
  }
  CHECK(!writable(fd, 0));
  CHECK_OK(brook_endpoint_shutdown(ep));
  CHECK(writable(fd, WAIT_MS));
  CHECK_STATUS(brook_publisher_try_publish(p, d), BROOK_STATUS_CLOSED);
  CHECK_ERROR_HAS("shut down");

done:
  brook_data_free(d);
  brook_publisher_free(p);
  brook_subscriber_free(sub);
  brook_endpoint_free(ep);
  brook_endpoint_free(a);
  brook_config_free(c);
}

static void test_free_null(void) {
  brook_publisher_free(NULL);
  CHECK(1);
}

int main(void) {
  test_batch_over_tcp();
  test_backpressure_and_fd();
  test_shared_between_threads();
  test_null_arguments();
  test_after_shutdown();
  test_fd_after_shutdown();
  test_free_null();
  return harness_finish();
}
