/*
 * A small test harness for brook's C API.
 *
 *   CHECK(cond)                    any condition
 *   CHECK_OK(call)                 call returns BROOK_STATUS_OK and brook_last_error() is NULL
 *   CHECK_STATUS(call, status)     call returns `status` and brook_last_error() has a message
 *   CHECK_ERROR_HAS(text)          the current brook_last_error() contains `text`
 *
 * Each macro evaluates to 1 on success, so a test can stop early:
 *   if (!CHECK_OK(brook_data_new_set(&s))) return;
 * Failures print the expression, the statuses as brook_status_str() spells them, and
 * brook_last_error(). harness_finish() prints "N passed, N failed" and gives the exit code.
 *
 * Helpers the tests share: count(v) makes a value; and, for tests that define
 * _POSIX_C_SOURCE 200809L (or _XOPEN_SOURCE 700) before their first #include, the waits:
 * WAIT_MS, now_ms(), pause_briefly(), readable(fd, ms), writable(fd, ms) and
 * peer_subscribed(ep, topic). Without POSIX (test_data.c, test_golden.c) they are left out.
 */
#ifndef BROOK_TEST_HARNESS_H
#define BROOK_TEST_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "brook.h"

static int harness_passed;
static int harness_failed;

static inline int harness_record(int ok) {
  if (ok) {
    harness_passed++;
  } else {
    harness_failed++;
  }
  return ok;
}

static inline int harness_check(int ok, const char *expr, const char *file, int line) {
  if (!ok) {
    fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, expr);
  }
  return harness_record(ok);
}

static inline int harness_check_status(brook_status got, brook_status want, const char *expr,
                                       const char *file, int line) {
  /* Read at once: the message belongs to the call just made. */
  const char *err = brook_last_error();
  int ok = got == want;
  if (ok && want == BROOK_STATUS_OK && err != NULL) {
    fprintf(stderr, "%s:%d: FAILED: %s: ok, but brook_last_error() is \"%s\", not NULL\n",
            file, line, expr, err);
    return harness_record(0);
  }
  if (ok && want != BROOK_STATUS_OK && (err == NULL || err[0] == '\0')) {
    fprintf(stderr, "%s:%d: FAILED: %s: %s as expected, but without a message\n", file,
            line, expr, brook_status_str(got));
    return harness_record(0);
  }
  if (!ok) {
    fprintf(stderr, "%s:%d: FAILED: %s\n  returned %d (%s), expected %d (%s)\n  last error: %s\n",
            file, line, expr, (int)got, brook_status_str(got), (int)want,
            brook_status_str(want), err ? err : "(none)");
  }
  return harness_record(ok);
}

static inline int harness_check_error_has(const char *text, const char *file, int line) {
  const char *err = brook_last_error();
  int ok = err != NULL && strstr(err, text) != NULL;
  if (!ok) {
    fprintf(stderr, "%s:%d: FAILED: last error \"%s\" does not contain \"%s\"\n", file, line,
            err ? err : "(none)", text);
  }
  return harness_record(ok);
}

static inline int harness_finish(void) {
  printf("%d passed, %d failed\n", harness_passed, harness_failed);
  return harness_failed == 0 ? 0 : 1;
}

#define CHECK(cond) harness_check((cond) ? 1 : 0, #cond, __FILE__, __LINE__)
#define CHECK_STATUS(call, status) \
  harness_check_status((call), (status), #call, __FILE__, __LINE__)
#define CHECK_OK(call) CHECK_STATUS(call, BROOK_STATUS_OK)
#define CHECK_ERROR_HAS(text) harness_check_error_has((text), __FILE__, __LINE__)

/* ---- shared helpers ----------------------------------------------------------------- */

/* A value that a test needs and whose construction cannot reasonably fail. */
static inline brook_data *count(uint64_t v) {
  brook_data *d = NULL;
  CHECK_OK(brook_data_new_count(v, &d));
  return d;
}

#if defined(_POSIX_C_SOURCE) && _POSIX_C_SOURCE >= 200809L

#include <poll.h>
#include <time.h>

/* How long a test waits for something that should happen at once. */
#define WAIT_MS 5000

static inline int64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static inline void pause_briefly(void) {
  struct timespec t = {0, 10 * 1000 * 1000};
  nanosleep(&t, NULL);
}

/* True if `fd` polls for `events` (POLLIN, POLLOUT) within `ms` milliseconds. */
static inline int harness_ready(int fd, short events, int ms) {
  struct pollfd p = {fd, events, 0};
  return poll(&p, 1, ms) == 1 && (p.revents & events);
}

/* True if `fd` becomes readable within `ms` milliseconds. */
static inline int readable(int fd, int ms) {
  return harness_ready(fd, POLLIN, ms);
}

/* True if `fd` polls writable within `ms` milliseconds. */
static inline int writable(int fd, int ms) {
  return harness_ready(fd, POLLOUT, ms);
}

/* True once some topic the peers of `ep` subscribed to is a prefix of `topic`; polls the
 * subscription list until WAIT_MS have passed. */
static inline int peer_subscribed(const brook_endpoint *ep, const char *topic) {
  int64_t deadline = now_ms() + WAIT_MS;
  do {
    brook_topic_list *list = NULL;
    size_t n = 0;
    int found = 0;
    if (brook_endpoint_peer_subscriptions(ep, &list) != BROOK_STATUS_OK ||
        brook_topic_list_len(list, &n) != BROOK_STATUS_OK) {
      brook_topic_list_free(list);
      return 0;
    }
    for (size_t i = 0; i < n && !found; i++) {
      const uint8_t *buf = NULL;
      size_t len = 0;
      if (brook_topic_list_get(list, i, &buf, &len) == BROOK_STATUS_OK) {
        found = len <= strlen(topic) && memcmp(buf, topic, len) == 0;
      }
    }
    brook_topic_list_free(list);
    if (found) {
      return 1;
    }
    pause_briefly();
  } while (now_ms() < deadline);
  return 0;
}

#endif /* _POSIX_C_SOURCE >= 200809L */

#endif /* BROOK_TEST_HARNESS_H */
