/*
 * brook's C API for TLS and options by name: two endpoints over 127.0.0.1 with TLS (the
 * default) and with it disabled on both sides, a mismatch (one side only) that fails with
 * BROOK_STATUS_PEER_UNAVAILABLE, credentials that cannot be loaded, and the setters' error
 * paths. (Certificates that work are in c-examples/run-tls-demo.sh.)
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* An endpoint made from a config with `name` set to `value` (NULL: defaults). */
static brook_endpoint *endpoint_with(const char *name, const char *value) {
  brook_config *cfg = NULL;
  brook_endpoint *ep = NULL;
  if (!CHECK_OK(brook_config_new(&cfg))) {
    return NULL;
  }
  if (name != NULL) {
    CHECK_OK(brook_config_set(cfg, name, value));
  }
  CHECK_OK(brook_endpoint_new(cfg, &ep));
  brook_config_free(cfg);
  return ep;
}

/* Whether `b` can peer with `a`. */
static brook_status try_peer(brook_endpoint *a, brook_endpoint *b) {
  uint16_t port = 0;
  uint8_t id[16];
  if (!CHECK_OK(brook_endpoint_listen(a, "127.0.0.1", 0, &port))) {
    return BROOK_STATUS_IO;
  }
  return brook_endpoint_peer(b, "127.0.0.1", port, 0, id);
}

static void test_modes(void) {
  brook_endpoint *tls1 = endpoint_with(NULL, NULL), *tls2 = endpoint_with(NULL, NULL);
  brook_endpoint *plain1 = endpoint_with("broker.disable-ssl", "true");
  brook_endpoint *plain2 = endpoint_with("broker.disable-ssl", "true");
  brook_endpoint *plain3 = endpoint_with("broker.disable-ssl", "true");
  brook_metrics *m = NULL;
  const char *text = NULL;
  if (!tls1 || !tls2 || !plain1 || !plain2 || !plain3) {
    goto done;
  }
  CHECK_OK(try_peer(tls1, tls2));
  if (CHECK_OK(brook_endpoint_metrics(tls2, &m)) && CHECK_OK(brook_metrics_text(m, &text))) {
    CHECK(strstr(text, "transport=\"tls\"") != NULL);
  }
  CHECK_OK(try_peer(plain1, plain2));
  /* TLS on one side only: refused, saying why, in both roles. */
  CHECK_STATUS(try_peer(tls1, plain3), BROOK_STATUS_PEER_UNAVAILABLE);
  CHECK_ERROR_HAS("disable_ssl");
  CHECK_STATUS(try_peer(plain3, tls2), BROOK_STATUS_PEER_UNAVAILABLE);
  CHECK_ERROR_HAS("disable_ssl");
done:
  brook_metrics_free(m);
  brook_endpoint_free(tls1);
  brook_endpoint_free(tls2);
  brook_endpoint_free(plain1);
  brook_endpoint_free(plain2);
  brook_endpoint_free(plain3);
}

static void test_credentials_and_setters(void) {
  brook_config *cfg = NULL;
  brook_endpoint *ep = NULL;
  if (!CHECK_OK(brook_config_new(&cfg))) {
    return;
  }
  /* A certificate that is not there fails the endpoint, naming the file. */
  CHECK_OK(brook_config_set_ssl(cfg, "/nonexistent/cert.pem", "/nonexistent/key.pem", NULL,
                                "/nonexistent/ca.pem", NULL));
  CHECK_STATUS(brook_endpoint_new(cfg, &ep), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("/nonexistent/cert.pem");
  CHECK(ep == NULL);
  /* Unset again: anonymous TLS works. */
  CHECK_OK(brook_config_set_ssl(cfg, NULL, NULL, NULL, NULL, NULL));
  if (CHECK_OK(brook_endpoint_new(cfg, &ep))) {
    brook_endpoint_free(ep);
  }
  CHECK_STATUS(brook_config_set_ssl(cfg, "", NULL, NULL, NULL, NULL),
               BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(brook_config_set_ssl(NULL, NULL, NULL, NULL, NULL, NULL),
               BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_config_set(cfg, "broker.no-such-option", "1"),
               BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("broker.no-such-option");
  CHECK_STATUS(brook_config_set(cfg, "broker.disable-ssl", "maybe"),
               BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("broker.disable-ssl");
  CHECK_STATUS(brook_config_set(cfg, NULL, "1"), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_config_set(cfg, "broker.peer-buffer-size", NULL),
               BROOK_STATUS_NULL_ARGUMENT);
  CHECK_OK(brook_config_set(cfg, "broker.peer-buffer-size", "64"));
  CHECK_OK(brook_config_set_disable_ssl(cfg, true));
  CHECK_STATUS(brook_config_set_disable_ssl(NULL, true), BROOK_STATUS_NULL_ARGUMENT);
  brook_config_free(cfg);
}

static void test_config_file(void) {
  char path[] = "/tmp/brook-test-conf-XXXXXX";
  const char *text = "# Broker's syntax\nbroker {\n  disable-ssl = true\n  odd-one = 1\n}\n";
  brook_config *cfg = NULL;
  brook_endpoint *a = NULL, *b = NULL;
  char *warnings = NULL;
  int fd = mkstemp(path);
  if (!CHECK(fd >= 0) || !CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text))) {
    return;
  }
  close(fd);
  if (CHECK_OK(brook_config_new(&cfg)) &&
      CHECK_OK(brook_config_read_file(cfg, path, &warnings))) {
    CHECK(warnings != NULL && strstr(warnings, "broker.odd-one") != NULL);
    /* The file made it plain TCP: it peers with a plain endpoint, not with a TLS one. */
    if (CHECK_OK(brook_endpoint_new(cfg, &a))) {
      b = endpoint_with("broker.disable-ssl", "true");
      CHECK_OK(try_peer(a, b));
    }
  }
  brook_string_free(warnings);
  CHECK_STATUS(brook_config_read_file(cfg, "/nonexistent/broker.conf", NULL),
               BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("/nonexistent/broker.conf");
  CHECK_STATUS(brook_config_read_file(cfg, NULL, NULL), BROOK_STATUS_NULL_ARGUMENT);
  brook_endpoint_free(a);
  brook_endpoint_free(b);
  brook_config_free(cfg);
  unlink(path);
}

int main(void) {
  test_modes();
  test_credentials_and_setters();
  test_config_file();
  return harness_finish();
}
