/*
 * brook's C API for the spool: brook_config_set_spool_*() and the spool's counters. A
 * publisher with a spool publishes while nobody listens, shuts down, and a new endpoint on
 * the same directory delivers everything, in order, to a subscriber over 127.0.0.1; the
 * setters' error paths; a directory in use.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

enum { N = 300 };

static uint64_t endpoint_counter(const brook_endpoint *ep, brook_endpoint_counter c) {
  brook_metrics *m = NULL;
  uint64_t v = UINT64_MAX;
  if (CHECK_OK(brook_endpoint_metrics(ep, &m))) {
    CHECK_OK(brook_metrics_endpoint(m, (uint32_t)c, &v));
  }
  brook_metrics_free(m);
  return v;
}

static brook_config *spool_config(const char *dir) {
  brook_config *cfg = NULL;
  const char *topics[] = {"/logs/"};
  if (!CHECK_OK(brook_config_new(&cfg))) {
    return NULL;
  }
  CHECK_OK(brook_config_set_disable_ssl(cfg, true));
  CHECK_OK(brook_config_set_spool_dir(cfg, dir));
  CHECK_OK(brook_config_set_spool_max_size(cfg, 1 << 20));
  CHECK_OK(brook_config_set_spool_policy(cfg, BROOK_SPOOL_POLICY_BLOCK));
  CHECK_OK(brook_config_set_spool_topics(cfg, topics, 1));
  CHECK_OK(brook_config_set_spool_fsync(cfg, true));
  return cfg;
}

static void test_spooled_then_delivered_by_a_new_endpoint(const char *dir) {
  brook_config *cfg = spool_config(dir);
  brook_config *plain = NULL;
  brook_endpoint *pub = NULL, *pub2 = NULL, *logger = NULL;
  brook_subscriber *sub = NULL;
  const char *topics[] = {"/logs"};
  uint8_t id[16];
  uint16_t port = 0;

  if (cfg == NULL || !CHECK_OK(brook_endpoint_new(cfg, &pub))) {
    goto done;
  }
  for (uint64_t i = 0; i < N; i++) {
    brook_data *d = count(i);
    CHECK_OK(brook_endpoint_publish(pub, "/logs/x", d));
    brook_data_free(d);
  }
  CHECK_OK(brook_endpoint_flush(pub));
  CHECK(endpoint_counter(pub, BROOK_ENDPOINT_COUNTER_SPOOLED) == N);
  CHECK(endpoint_counter(pub, BROOK_ENDPOINT_COUNTER_SPOOL_RECORDS) == N);
  CHECK(endpoint_counter(pub, BROOK_ENDPOINT_COUNTER_SPOOL_BYTES) > 0);
  /* A second endpoint may not share the directory while the first has it. */
  CHECK_STATUS(brook_endpoint_new(cfg, &pub2), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("in use");
  CHECK_OK(brook_endpoint_shutdown(pub));
  brook_endpoint_free(pub);
  pub = NULL;

  if (!CHECK_OK(brook_config_new(&plain)) ||
      !CHECK_OK(brook_config_set_disable_ssl(plain, true)) ||
      !CHECK_OK(brook_endpoint_new(plain, &logger)) ||
      !CHECK_OK(brook_endpoint_subscribe(logger, topics, 1, &sub)) ||
      !CHECK_OK(brook_endpoint_listen(logger, "127.0.0.1", 0, &port)) ||
      !CHECK_OK(brook_endpoint_new(cfg, &pub2))) {
    goto done;
  }
  CHECK(endpoint_counter(pub2, BROOK_ENDPOINT_COUNTER_SPOOL_RECORDS) == N);
  if (!CHECK_OK(brook_endpoint_peer(pub2, "127.0.0.1", port, 100, id))) {
    goto done;
  }
  for (uint64_t i = 0; i < N; i++) {
    brook_message *msg = NULL;
    brook_data *d = NULL;
    uint64_t v = 0;
    int fd = -1;
    if (!CHECK_OK(brook_subscriber_fd(sub, &fd)) || !CHECK(readable(fd, WAIT_MS)) ||
        !CHECK_OK(brook_subscriber_next(sub, 0, &msg))) {
      goto done;
    }
    if (CHECK_OK(brook_message_data(msg, &d))) {
      CHECK_OK(brook_data_get_count(d, &v));
      if (!CHECK(v == i)) {
        fprintf(stderr, "  message %llu is %llu\n", (unsigned long long)i,
                (unsigned long long)v);
      }
    }
    brook_data_free(d);
    brook_message_free(msg);
  }
  CHECK_OK(brook_endpoint_flush(pub2));
  CHECK(endpoint_counter(pub2, BROOK_ENDPOINT_COUNTER_SPOOL_RECORDS) == 0);
  CHECK(endpoint_counter(pub2, BROOK_ENDPOINT_COUNTER_REPLAYED) == N);
  CHECK(endpoint_counter(pub2, BROOK_ENDPOINT_COUNTER_SPOOL_DROPPED) == 0);
  CHECK(endpoint_counter(pub2, BROOK_ENDPOINT_COUNTER_SPOOL_DAMAGED) == 0);

done:
  brook_subscriber_free(sub);
  brook_endpoint_free(pub2);
  brook_endpoint_free(pub);
  brook_endpoint_free(logger);
  brook_config_free(plain);
  brook_config_free(cfg);
}

static void test_bad_settings(void) {
  brook_config *cfg = NULL;
  const char *empty[] = {""};
  const char *none[] = {NULL};
  if (!CHECK_OK(brook_config_new(&cfg))) {
    return;
  }
  CHECK_STATUS(brook_config_set_spool_dir(NULL, "/tmp"), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_config_set_spool_dir(cfg, ""), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_OK(brook_config_set_spool_dir(cfg, NULL));
  CHECK_STATUS(brook_config_set_spool_max_size(cfg, 1000), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("at least");
  CHECK_STATUS(brook_config_set_spool_policy(cfg, 7), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(brook_config_set_spool_topics(cfg, NULL, 1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_config_set_spool_topics(cfg, none, 1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_config_set_spool_topics(cfg, empty, 1), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_OK(brook_config_set_spool_topics(cfg, NULL, 0));
  CHECK_STATUS(brook_config_set_spool_fsync(NULL, true), BROOK_STATUS_NULL_ARGUMENT);
  /* The same options by name. */
  CHECK_OK(brook_config_set(cfg, "brook.spool.max-size", "64M"));
  CHECK_OK(brook_config_set(cfg, "brook.spool.policy", "drop_oldest"));
  CHECK_STATUS(brook_config_set(cfg, "brook.spool.policy", "sometimes"),
               BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("brook.spool.policy");
  brook_config_free(cfg);
}

int main(void) {
  char dir[] = "/tmp/brook-c-spool-XXXXXX";
  char spool[sizeof dir + 16];
  char cmd[sizeof spool + 16];
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(spool, sizeof spool, "%s/spool", dir);
  test_spooled_then_delivered_by_a_new_endpoint(spool);
  test_bad_settings();
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "could not remove %s\n", dir);
  }
  return harness_finish();
}
