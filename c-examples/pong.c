/*
 * The answering half of a ping-pong over Broker's protocol: listens for peers, subscribes
 * to /brook/ping and answers each Zeek event ping(n) with pong(n) on /brook/pong. Its
 * partner is ping.c, or Zeek itself:
 *
 *   pong [--address ADDR] [--port PORT] [--count N] [--set NAME=VALUE]...
 *
 * ADDR is 127.0.0.1 and PORT 9999 unless given; with PORT 0 the system picks a free port.
 * Either way the first line of output is "listening on <port>". pong stops after N pings
 * (0, the default, means never) or on SIGINT or SIGTERM. --set sets a Broker option by
 * name, as in ping.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <brook.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every brook call returns a status; on failure, brook_last_error() says why. */
#define TRY(call)                                                                      \
  do {                                                                                 \
    brook_status st_ = (call);                                                         \
    if (st_ != BROOK_STATUS_OK) {                                                      \
      fprintf(stderr, "pong: %s failed: %s: %s\n", #call, brook_status_str(st_),       \
              brook_last_error());                                                     \
      exit(1);                                                                         \
    }                                                                                  \
  } while (0)

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static void usage(void) {
  fprintf(stderr, "usage: pong [--address ADDR] [--port PORT] [--count N] [--set NAME=VALUE]...\n");
  exit(2);
}

/* Reads the number of a ping(n) event; false for any other message. */
static bool ping_number(const brook_message *m, uint64_t *out_n) {
  brook_event *ev = NULL;
  const char *name = NULL;
  const brook_data *arg = NULL; /* borrowed from ev */
  size_t n_args = 0;
  bool ok = false;

  if (brook_message_event(m, &ev) != BROOK_STATUS_OK) {
    fprintf(stderr, "pong: ignoring a message that is not an event: %s\n", brook_last_error());
    return false;
  }
  TRY(brook_event_name(ev, &name));
  TRY(brook_event_arg_count(ev, &n_args));
  if (strcmp(name, "ping") == 0 && n_args == 1) {
    TRY(brook_event_arg(ev, 0, &arg));
    ok = brook_data_get_count(arg, out_n) == BROOK_STATUS_OK;
  }
  if (!ok) {
    fprintf(stderr, "pong: ignoring event %s with %zu arguments\n", name, n_args);
  }
  brook_event_free(ev);
  return ok;
}

static void send_pong(brook_endpoint *ep, uint64_t n) {
  brook_event *pong = NULL;
  brook_data *arg = NULL;
  TRY(brook_event_new("pong", &pong));
  TRY(brook_data_new_count(n, &arg));
  TRY(brook_event_add_arg(pong, arg)); /* the event keeps a copy */
  TRY(brook_endpoint_publish_event(ep, "/brook/pong", pong));
  brook_data_free(arg);
  brook_event_free(pong);
}

int main(int argc, char **argv) {
  const char *address = "127.0.0.1";
  unsigned long port_arg = 9999, count = 0, answered = 0;
  const char *topics[] = {"/brook/ping"};
  brook_endpoint *ep = NULL;
  brook_subscriber *sub = NULL;
  uint16_t port = 0;
  struct sigaction sa;
  brook_config *cfg = NULL;

  TRY(brook_config_new(&cfg));
  for (int i = 1; i < argc; i++) {
    if (i + 1 == argc) {
      usage();
    } else if (strcmp(argv[i], "--address") == 0) {
      address = argv[++i];
    } else if (strcmp(argv[i], "--port") == 0) {
      port_arg = strtoul(argv[++i], NULL, 10);
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
  if (port_arg > 65535) {
    usage();
  }

  /* No SA_RESTART needed: the loop below never blocks for longer than its timeout. */
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  TRY(brook_endpoint_new(cfg, &ep));
  brook_config_free(cfg);
  /* Subscribe first: peers then learn the topic in the handshake. */
  TRY(brook_endpoint_subscribe(ep, topics, 1, &sub));
  TRY(brook_endpoint_listen(ep, address, (uint16_t)port_arg, &port));
  printf("listening on %u\n", (unsigned)port);
  fflush(stdout);

  while (!stop && (count == 0 || answered < count)) {
    brook_message *m = NULL;
    uint64_t n = 0;
    /* A timed wait, so that a signal is noticed within a quarter of a second. */
    brook_status st = brook_subscriber_next(sub, 250, &m);
    if (st == BROOK_STATUS_TIMEOUT) {
      continue;
    }
    TRY(st);
    if (ping_number(m, &n)) {
      send_pong(ep, n);
      answered++;
      printf("ping(%llu) -> pong(%llu)\n", (unsigned long long)n, (unsigned long long)n);
      fflush(stdout);
    }
    brook_message_free(m);
  }

  /* Shutting down sends what is queued and says goodbye to the peers. */
  printf("answered %lu pings%s\n", answered, stop ? " (stopped by a signal)" : "");
  brook_subscriber_free(sub);
  brook_endpoint_free(ep);
  return 0;
}
