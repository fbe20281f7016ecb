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
 */
#ifndef BROOK_TEST_HARNESS_H
#define BROOK_TEST_HARNESS_H

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

#endif /* BROOK_TEST_HARNESS_H */
