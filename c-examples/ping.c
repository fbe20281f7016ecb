/*
 * The asking half of a ping-pong over Broker's protocol: peers with pong.c (or a Zeek node
 * that answers ping(n) with pong(n)), sends the Zeek events ping(1) to ping(N) on
 * /brook/ping, waits for each pong on /brook/pong and prints its round-trip time.
 *
 *   ping [--host HOST] [--port PORT] [--count N] [--set NAME=VALUE]...
 *
 * HOST is 127.0.0.1, PORT 9999 and N 5 unless given. --set sets a Broker option by name,
 * such as broker.disable-ssl=true or broker.ssl.cafile=ca.pem (TLS is on by default, as in
 * Broker; c-examples/run-tls-demo.sh runs the demo with certificates). Exits with status 1 if a pong is
 * missing or wrong.
 */
#define _POSIX_C_SOURCE 200809L

#include <brook.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Every brook call returns a status; on failure, brook_last_error() says why. */
#define TRY(call)                                                                      \
  do {                                                                                 \
    brook_status st_ = (call);                                                         \
    if (st_ != BROOK_STATUS_OK) {                                                      \
      fprintf(stderr, "ping: %s failed: %s: %s\n", #call, brook_status_str(st_),       \
              brook_last_error());                                                     \
      exit(1);                                                                         \
    }                                                                                  \
  } while (0)

/* How long to wait for each pong, and for pong's subscription. */
#define WAIT_MS 5000

static int64_t now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void usage(void) {
  fprintf(stderr, "usage: ping [--host HOST] [--port PORT] [--count N] [--set NAME=VALUE]...\n");
  exit(2);
}

/* True once a peer subscribed to a prefix of `topic`, so that publishing it reaches them.
 * pong subscribes before it listens, so this is true at once; a Zeek script that
 * subscribes later is waited for. */
static bool peer_subscribed(const brook_endpoint *ep, const char *topic) {
  int64_t deadline = now_us() + WAIT_MS * 1000;
  while (now_us() < deadline) {
    brook_topic_list *list = NULL;
    size_t n = 0;
    bool found = false;
    TRY(brook_endpoint_peer_subscriptions(ep, &list));
    TRY(brook_topic_list_len(list, &n));
    for (size_t i = 0; i < n && !found; i++) {
      const uint8_t *t = NULL;
      size_t len = 0;
      TRY(brook_topic_list_get(list, i, &t, &len));
      found = len <= strlen(topic) && memcmp(t, topic, len) == 0;
    }
    brook_topic_list_free(list);
    if (found) {
      return true;
    }
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  }
  return false;
}

static void send_ping(brook_endpoint *ep, uint64_t n) {
  brook_event *ping = NULL;
  brook_data *arg = NULL;
  TRY(brook_event_new("ping", &ping));
  TRY(brook_data_new_count(n, &arg));
  TRY(brook_event_add_arg(ping, arg)); /* the event keeps a copy */
  TRY(brook_endpoint_publish_event(ep, "/brook/ping", ping));
  brook_data_free(arg);
  brook_event_free(ping);
}

/* Waits until `deadline` for pong(n), skipping anything else; true if it came. */
static bool await_pong(brook_subscriber *sub, uint64_t n, int64_t deadline) {
  for (;;) {
    brook_message *m = NULL;
    brook_event *ev = NULL;
    const char *name = NULL;
    const brook_data *arg = NULL;
    uint64_t got = 0;
    size_t n_args = 0;
    bool match = false;
    int64_t left_ms = (deadline - now_us()) / 1000;
    brook_status st = brook_subscriber_next(sub, left_ms > 0 ? left_ms : 0, &m);
    if (st == BROOK_STATUS_TIMEOUT) {
      return false;
    }
    TRY(st);
    if (brook_message_event(m, &ev) == BROOK_STATUS_OK) {
      TRY(brook_event_name(ev, &name));
      TRY(brook_event_arg_count(ev, &n_args));
      if (strcmp(name, "pong") == 0 && n_args == 1) {
        TRY(brook_event_arg(ev, 0, &arg));
        match = brook_data_get_count(arg, &got) == BROOK_STATUS_OK && got == n;
      }
      brook_event_free(ev);
    }
    brook_message_free(m);
    if (match) {
      return true;
    }
    fprintf(stderr, "ping: skipping a message that is not pong(%llu)\n", (unsigned long long)n);
  }
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  unsigned long port = 9999, count = 5, missing = 0;
  const char *topics[] = {"/brook/pong"};
  brook_endpoint *ep = NULL;
  brook_subscriber *sub = NULL;
  uint8_t peer_id[16];
  char *peer_text = NULL;
  brook_config *cfg = NULL;

  TRY(brook_config_new(&cfg));
  for (int i = 1; i < argc; i++) {
    if (i + 1 == argc) {
      usage();
    } else if (strcmp(argv[i], "--host") == 0) {
      host = argv[++i];
    } else if (strcmp(argv[i], "--port") == 0) {
      port = strtoul(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--count") == 0) {
      count = strtoul(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--set") == 0) {
      char *name = argv[++i], *eq = strchr(name, '=');
      if (eq == NULL) {
        usage();
      }
      *eq = '\0';
      TRY(brook_config_set(cfg, name, eq + 1));
    } else {
      usage();
    }
  }
  if (port == 0 || port > 65535) {
    usage();
  }

  TRY(brook_endpoint_new(cfg, &ep));
  brook_config_free(cfg);
  TRY(brook_endpoint_subscribe(ep, topics, 1, &sub));
  /* Blocks until the handshake is done; no retries. */
  TRY(brook_endpoint_peer(ep, host, (uint16_t)port, 0, peer_id));
  TRY(brook_id_to_string(peer_id, &peer_text));
  printf("peered with %s at %s:%lu\n", peer_text, host, port);
  brook_string_free(peer_text);
  if (!peer_subscribed(ep, "/brook/ping")) {
    fprintf(stderr, "ping: the peer did not subscribe to /brook/ping\n");
    return 1;
  }

  for (uint64_t i = 1; i <= count; i++) {
    int64_t sent = now_us();
    send_ping(ep, i);
    if (await_pong(sub, i, sent + WAIT_MS * 1000)) {
      printf("pong(%llu): %.3f ms\n", (unsigned long long)i, (double)(now_us() - sent) / 1000.0);
    } else {
      printf("pong(%llu): missing after %d ms\n", (unsigned long long)i, WAIT_MS);
      missing++;
    }
    fflush(stdout);
  }

  printf("%lu pings, %lu pongs\n", count, count - missing);
  brook_subscriber_free(sub);
  brook_endpoint_free(ep);
  return missing == 0 ? 0 : 1;
}
