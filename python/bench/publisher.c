/*
 * The C side of the Python subscriber benchmark (bench_subscriber.py): listens, waits for a
 * peer to subscribe to /bench, then publishes N values there as fast as brook takes them,
 * in batches, and waits until they have left.
 *
 *   publisher --count N [--kind event|count] [--batch B]
 *
 * The first line of output is "listening on <port>". An event is bench_event(count i), a
 * small Zeek event (45 bytes on the wire); a count is the plain value i.
 */
#define _POSIX_C_SOURCE 200809L

#include <brook.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TRY(call)                                                                      \
  do {                                                                                 \
    brook_status st_ = (call);                                                         \
    if (st_ != BROOK_STATUS_OK) {                                                      \
      fprintf(stderr, "publisher: %s failed: %s: %s\n", #call, brook_status_str(st_),  \
              brook_last_error());                                                     \
      exit(1);                                                                         \
    }                                                                                  \
  } while (0)

static brook_data *value(unsigned long i, int event) {
  brook_data *n = NULL, *d = NULL;
  brook_event *ev = NULL;
  TRY(brook_data_new_count(i, &n));
  if (!event) {
    return n;
  }
  TRY(brook_event_new("bench_event", &ev));
  TRY(brook_event_add_arg(ev, n));
  TRY(brook_event_to_data(ev, &d));
  brook_event_free(ev);
  brook_data_free(n);
  return d;
}

/* True once a peer has subscribed to a prefix of /bench. */
static bool subscribed(brook_endpoint *ep) {
  brook_topic_list *list = NULL;
  size_t n = 0;
  bool found = false;
  TRY(brook_endpoint_peer_subscriptions(ep, &list));
  TRY(brook_topic_list_len(list, &n));
  for (size_t i = 0; i < n && !found; i++) {
    const uint8_t *buf = NULL;
    size_t len = 0;
    TRY(brook_topic_list_get(list, i, &buf, &len));
    found = len <= 6 && memcmp(buf, "/bench", len) == 0;
  }
  brook_topic_list_free(list);
  return found;
}

int main(int argc, char **argv) {
  unsigned long count = 0, batch = 1000;
  int event = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--count") == 0) {
      count = strtoul(argv[i + 1], NULL, 10);
    } else if (strcmp(argv[i], "--batch") == 0) {
      batch = strtoul(argv[i + 1], NULL, 10);
    } else if (strcmp(argv[i], "--kind") == 0) {
      event = strcmp(argv[i + 1], "count") != 0;
    }
  }
  if (count == 0 || batch == 0) {
    fprintf(stderr, "usage: publisher --count N [--kind event|count] [--batch B]\n");
    return 2;
  }

  brook_endpoint *ep = NULL;
  uint16_t port = 0;
  TRY(brook_endpoint_new(NULL, &ep));
  TRY(brook_endpoint_listen(ep, "127.0.0.1", 0, &port));
  printf("listening on %u\n", (unsigned)port);
  fflush(stdout);

  struct timespec tick = {0, 1000000};
  for (int waited = 0; !subscribed(ep); waited++) {
    if (waited > 30000) {
      fprintf(stderr, "publisher: nobody subscribed to /bench\n");
      return 1;
    }
    nanosleep(&tick, NULL);
  }

  brook_data **values = calloc(batch, sizeof *values);
  for (unsigned long sent = 0; sent < count;) {
    size_t n = 0;
    for (; n < batch && sent + n < count; n++) {
      values[n] = value(sent + n, event);
    }
    TRY(brook_endpoint_publish_batch(ep, "/bench", (const brook_data *const *)values, n));
    for (size_t i = 0; i < n; i++) {
      brook_data_free(values[i]);
    }
    sent += n;
  }
  free(values);
  TRY(brook_endpoint_flush(ep));
  printf("published %lu\n", count);
  fflush(stdout);
  /* Stay until the subscriber has read everything and hangs up (stdin closes). */
  while (getchar() != EOF) {
  }
  brook_endpoint_free(ep);
  return 0;
}
