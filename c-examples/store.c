/*
 * A data store shared by two processes: the master of the store "brook/counter" in one,
 * a clone of it in the other, and a counter that both increment. Each side adds 1 N times,
 * then waits until it sees the other's increments too and prints the final value, 2N.
 *
 *   store master [--address ADDR] [--port PORT] [--count N]
 *   store clone  [--host HOST] --port PORT [--count N]
 *
 * The master listens (ADDR 127.0.0.1, PORT 9999 unless given; with PORT 0 the system picks
 * a free port) and prints "listening on <port>" first. The clone peers with it. N is 100
 * unless given. Both print "counter = <value>" and exit with status 0 if the value is 2N.
 * c-examples/run-store-demo.sh runs the two together.
 */
#define _POSIX_C_SOURCE 200809L

#include <brook.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *role = "store";

/* Every brook call returns a status; on failure, brook_last_error() says why. */
#define TRY(call)                                                                      \
  do {                                                                                 \
    brook_status st_ = (call);                                                         \
    if (st_ != BROOK_STATUS_OK) {                                                      \
      fprintf(stderr, "%s: %s failed: %s: %s\n", role, #call, brook_status_str(st_),   \
              brook_last_error());                                                     \
      exit(1);                                                                         \
    }                                                                                  \
  } while (0)

/* How long each side waits for the other. */
#define WAIT_MS 30000

static int64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void pause_briefly(void) {
  nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
}

static void usage(void) {
  fprintf(stderr, "usage: store master [--address ADDR] [--port PORT] [--count N]\n"
                  "       store clone [--host HOST] --port PORT [--count N]\n");
  exit(2);
}

static brook_data *string(const char *s) {
  brook_data *d = NULL;
  TRY(brook_data_new_string((const uint8_t *)s, strlen(s), &d));
  return d;
}

/* Reads the counter; 0 while the store has none yet. */
static uint64_t read_counter(const brook_store *st, const brook_data *key) {
  brook_data *value = NULL;
  uint64_t n = 0;
  brook_status s = brook_store_get(st, key, &value);
  if (s == BROOK_STATUS_NO_SUCH_KEY) {
    return 0; /* nobody has incremented it yet */
  }
  TRY(s);
  TRY(brook_data_get_count(value, &n));
  brook_data_free(value);
  return n;
}

/* Adds 1 to the counter `count` times, then waits until it reads `want`, and prints it. */
static bool count_to(brook_store *st, unsigned long count, uint64_t want) {
  brook_data *key = string("counter");
  brook_data *one = NULL;
  uint64_t n = 0;
  int64_t deadline = now_ms() + WAIT_MS;

  TRY(brook_data_new_count(1, &one));
  for (unsigned long i = 0; i < count; i++) {
    /* At a clone, each increment goes to the master; the call returns once it is applied
     * there and the clone sees the result. A missing key starts from 0. */
    TRY(brook_store_increment(st, key, one, -1));
  }
  while ((n = read_counter(st, key)) < want && now_ms() < deadline) {
    pause_briefly();
  }
  printf("counter = %llu\n", (unsigned long long)n);
  fflush(stdout);
  brook_data_free(one);
  brook_data_free(key);
  return n == want;
}

static int run_master(const char *address, uint16_t port_arg, unsigned long count) {
  brook_endpoint *ep = NULL;
  brook_store *st = NULL;
  brook_data *done = string("clone done");
  bool ok = false, exists = false;
  uint16_t port = 0;
  int64_t deadline;

  TRY(brook_endpoint_new(NULL, &ep));
  TRY(brook_endpoint_attach_master(ep, "brook/counter", BROOK_BACKEND_MEMORY, NULL, &st));
  TRY(brook_endpoint_listen(ep, address, port_arg, &port));
  printf("listening on %u\n", (unsigned)port);
  fflush(stdout);

  ok = count_to(st, count, 2 * (uint64_t)count);
  /* The clone reads from its own copy, which follows the master's: stay until it says it
   * has seen the final value too. */
  deadline = now_ms() + WAIT_MS;
  while (ok && !exists && now_ms() < deadline) {
    TRY(brook_store_exists(st, done, &exists));
    if (!exists) {
      pause_briefly();
    }
  }
  if (ok && !exists) {
    fprintf(stderr, "master: the clone did not finish\n");
  }
  brook_data_free(done);
  brook_store_free(st);
  brook_endpoint_free(ep);
  return ok && exists ? 0 : 1;
}

static int run_clone(const char *host, uint16_t port, unsigned long count) {
  brook_endpoint *ep = NULL;
  brook_store *st = NULL;
  brook_data *done = string("clone done");
  brook_data *yes = NULL;
  bool ok;

  TRY(brook_endpoint_new(NULL, &ep));
  TRY(brook_endpoint_peer(ep, host, port, 0, NULL));
  /* The clone finds the master among its peers and copies the store. */
  TRY(brook_endpoint_attach_clone(ep, "brook/counter", &st));

  ok = count_to(st, count, 2 * (uint64_t)count);
  if (ok) {
    TRY(brook_data_new_bool(true, &yes));
    TRY(brook_store_put(st, done, yes, -1));
  }
  brook_data_free(yes);
  brook_data_free(done);
  brook_store_free(st);
  brook_endpoint_free(ep);
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  const char *address = "127.0.0.1";
  unsigned long port = 9999, count = 100;
  bool master, port_given = false;

  if (argc < 2) {
    usage();
  }
  if (strcmp(argv[1], "master") == 0) {
    master = true;
  } else if (strcmp(argv[1], "clone") == 0) {
    master = false;
  } else {
    usage();
  }
  role = argv[1];
  for (int i = 2; i < argc; i++) {
    if (i + 1 == argc) {
      usage();
    } else if (strcmp(argv[i], master ? "--address" : "--host") == 0) {
      address = argv[++i];
    } else if (strcmp(argv[i], "--port") == 0) {
      port = strtoul(argv[++i], NULL, 10);
      port_given = true;
    } else if (strcmp(argv[i], "--count") == 0) {
      count = strtoul(argv[++i], NULL, 10);
    } else {
      usage();
    }
  }
  if (port > 65535 || (!master && (!port_given || port == 0))) {
    usage();
  }
  return master ? run_master(address, (uint16_t)port, count)
                : run_clone(address, (uint16_t)port, count);
}
