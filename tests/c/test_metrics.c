/*
 * brook's C API for an endpoint's counters: brook_endpoint_metrics() and its accessors
 * while two endpoints exchange messages over 127.0.0.1, the Prometheus listener scraped
 * with a plain socket, and the error paths (NULL, unknown counters, indices out of range,
 * bad metrics options).
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

enum { N = 100 };

/* GETs `path` from 127.0.0.1:port into `buf` (NUL-terminated); the bytes read, or -1. */
static ssize_t http_get(uint16_t port, const char *path, char *buf, size_t size) {
  struct sockaddr_in sa;
  struct timeval tv = {5, 0};
  char req[256];
  size_t used = 0;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return -1;
  }
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
    close(fd);
    return -1;
  }
  for (;;) {
    ssize_t n = read(fd, buf + used, size - 1 - used);
    if (n <= 0) {
      break;
    }
    used += (size_t)n;
  }
  buf[used] = '\0';
  close(fd);
  return (ssize_t)used;
}

static uint64_t endpoint_counter(const brook_metrics *m, brook_endpoint_counter c) {
  uint64_t v = 0;
  CHECK_OK(brook_metrics_endpoint(m, (uint32_t)c, &v));
  return v;
}

static void test_counters_and_listener(void) {
  brook_config *cfg = NULL;
  brook_endpoint *a = NULL, *b = NULL;
  brook_subscriber *sub = NULL;
  brook_metrics *m = NULL;
  const char *topics[] = {"/m"};
  uint8_t b_id[16], peer_id[16];
  uint16_t port = 0;
  int32_t metrics_port = 0;
  static char page[1 << 16];

  if (!CHECK_OK(brook_config_new(&cfg)) ||
      !CHECK_OK(brook_config_set_metrics_port(cfg, 0, "127.0.0.1")) ||
      !CHECK_OK(brook_endpoint_new(cfg, &a)) || !CHECK_OK(brook_endpoint_new(NULL, &b))) {
    goto done;
  }
  CHECK_OK(brook_endpoint_id(b, b_id));
  CHECK_OK(brook_endpoint_metrics_port(a, &metrics_port));
  CHECK(metrics_port > 0);
  {
    int32_t none = 0;
    CHECK_OK(brook_endpoint_metrics_port(b, &none));
    CHECK(none == -1);
  }
  if (!CHECK_OK(brook_endpoint_subscribe(a, topics, 1, &sub)) ||
      !CHECK_OK(brook_endpoint_listen(a, "127.0.0.1", 0, &port)) ||
      !CHECK_OK(brook_endpoint_peer(b, "127.0.0.1", port, 0, peer_id)) ||
      !CHECK(peer_subscribed(b, "/m"))) {
    goto done;
  }
  for (uint64_t i = 0; i < N; i++) {
    brook_data *d = count(i);
    CHECK_OK(brook_endpoint_publish(b, "/m/x", d));
    brook_data_free(d);
  }
  for (int i = 0; i < N; i++) {
    brook_message *msg = NULL;
    int fd = -1;
    if (!CHECK_OK(brook_subscriber_fd(sub, &fd)) || !CHECK(readable(fd, WAIT_MS)) ||
        !CHECK_OK(brook_subscriber_next(sub, 0, &msg))) {
      goto done;
    }
    brook_message_free(msg);
  }

  if (!CHECK_OK(brook_endpoint_metrics(a, &m))) {
    goto done;
  }
  CHECK(endpoint_counter(m, BROOK_ENDPOINT_COUNTER_PROCESSED_DATA) == N);
  CHECK(endpoint_counter(m, BROOK_ENDPOINT_COUNTER_CONNECTIONS) == 1);
  CHECK(endpoint_counter(m, BROOK_ENDPOINT_COUNTER_PEERINGS) == 1);
  /* Peerings and metrics. */
  CHECK(endpoint_counter(m, BROOK_ENDPOINT_COUNTER_LISTENERS) == 2);
  CHECK(endpoint_counter(m, BROOK_ENDPOINT_COUNTER_TURNS) > 0);
  {
    size_t n = 0;
    uint64_t v = 0;
    const char *ip = NULL, *text = NULL;
    uint16_t p = 0;
    uint8_t id[16];
    brook_peer_status status = BROOK_PEER_STATUS_CONNECTING;
    if (CHECK_OK(brook_metrics_peers_len(m, &n)) && CHECK(n == 1)) {
      CHECK_OK(brook_metrics_peer(m, 0, BROOK_PEER_COUNTER_FRAMES_IN, &v));
      CHECK(v >= N);
      CHECK_OK(brook_metrics_peer(m, 0, BROOK_PEER_COUNTER_QUEUED_FRAMES, &v));
      CHECK(v == 0);
      CHECK_OK(brook_metrics_peer_address(m, 0, &ip, &p, id, &status));
      CHECK(ip != NULL && strcmp(ip, "127.0.0.1") == 0 && p != 0);
      CHECK(memcmp(id, b_id, 16) == 0);
      CHECK(status == BROOK_PEER_STATUS_PEERED);
      CHECK_OK(brook_metrics_peer_address(m, 0, &ip, NULL, NULL, NULL));
    }
    if (CHECK_OK(brook_metrics_subscribers_len(m, &n)) && CHECK(n == 1)) {
      CHECK_OK(brook_metrics_subscriber(m, 0, BROOK_SUBSCRIBER_COUNTER_DELIVERED, &v));
      CHECK(v == N);
      CHECK_OK(brook_metrics_subscriber(m, 0, BROOK_SUBSCRIBER_COUNTER_DROPPED, &v));
      CHECK(v == 0);
    }
    if (CHECK_OK(brook_metrics_text(m, &text))) {
      CHECK(strstr(text, "broker_processed_messages_total{type=\"data\"} 100\n") != NULL);
    }
    /* The error paths. */
    CHECK_STATUS(brook_metrics_endpoint(m, 99, &v), BROOK_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(brook_metrics_peer(m, 1, BROOK_PEER_COUNTER_BYTES_IN, &v),
                 BROOK_STATUS_OUT_OF_RANGE);
    CHECK_STATUS(brook_metrics_peer(m, 0, 42, &v), BROOK_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(brook_metrics_subscriber(m, 3, BROOK_SUBSCRIBER_COUNTER_ID, &v),
                 BROOK_STATUS_OUT_OF_RANGE);
    CHECK_STATUS(brook_metrics_peer_address(m, 0, NULL, NULL, NULL, NULL),
                 BROOK_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(brook_metrics_endpoint(NULL, 0, &v), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(brook_metrics_text(m, NULL), BROOK_STATUS_NULL_ARGUMENT);
  }

  /* The same counter over HTTP. */
  CHECK_OK(brook_endpoint_metrics_port(a, &metrics_port));
  if (CHECK(http_get((uint16_t)metrics_port, "/metrics", page, sizeof page) > 0)) {
    CHECK(strncmp(page, "HTTP/1.1 200 OK", 15) == 0);
    CHECK(strstr(page, "broker_processed_messages_total{type=\"data\"} 100\n") != NULL);
  }
  if (CHECK(http_get((uint16_t)metrics_port, "/other", page, sizeof page) > 0)) {
    CHECK(strncmp(page, "HTTP/1.1 404", 12) == 0);
  }

done:
  brook_metrics_free(m);
  brook_subscriber_free(sub);
  brook_endpoint_free(b);
  brook_endpoint_free(a);
  brook_config_free(cfg);
}

static void test_bad_options(void) {
  brook_config *cfg = NULL;
  brook_endpoint *ep = NULL;
  brook_metrics *m = NULL;
  if (!CHECK_OK(brook_config_new(&cfg))) {
    return;
  }
  CHECK_STATUS(brook_config_set_metrics_port(cfg, 70000, NULL), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("65535");
  CHECK_STATUS(brook_config_set_metrics_port(cfg, 9000, "not-an-ip"),
               BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("not-an-ip");
  CHECK_STATUS(brook_config_set_metrics_port(NULL, 9000, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_OK(brook_config_set_metrics_port(cfg, -1, NULL));
  CHECK_STATUS(brook_endpoint_metrics(NULL, &m), BROOK_STATUS_NULL_ARGUMENT);
  if (CHECK_OK(brook_endpoint_new(cfg, &ep))) {
    CHECK_STATUS(brook_endpoint_metrics(ep, NULL), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_OK(brook_endpoint_shutdown(ep));
    CHECK_STATUS(brook_endpoint_metrics(ep, &m), BROOK_STATUS_CLOSED);
  }
  brook_metrics_free(NULL);
  brook_endpoint_free(ep);
  brook_config_free(cfg);
}

int main(void) {
  test_counters_and_listener();
  test_bad_options();
  return harness_finish();
}
