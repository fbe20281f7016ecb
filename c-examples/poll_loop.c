/*
 * brook inside a program's own poll() loop. Two endpoints in one process: "sensor"
 * publishes a reading every 100 ms, timed by the loop, and "monitor" receives them over
 * TCP. The loop waits on the monitor's subscriber fd and status fd together, with the time
 * to the next reading as poll()'s timeout, and prints every message in Broker's text form.
 * It ends by itself after the last reading.
 *
 *   poll_loop
 */
#define _POSIX_C_SOURCE 200809L

#include <brook.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Every brook call returns a status; on failure, brook_last_error() says why. */
#define TRY(call)                                                                      \
  do {                                                                                 \
    brook_status st_ = (call);                                                         \
    if (st_ != BROOK_STATUS_OK) {                                                      \
      fprintf(stderr, "poll_loop: %s failed: %s: %s\n", #call, brook_status_str(st_),  \
              brook_last_error());                                                     \
      exit(1);                                                                         \
    }                                                                                  \
  } while (0)

#define READINGS 6
#define INTERVAL_MS 100

static int64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Reading i: a plain value, or every other time a Zeek event. */
static void publish_reading(brook_endpoint *sensor, unsigned i) {
  char text[64];
  brook_data *value = NULL;
  snprintf(text, sizeof text, "(%u, 10.0.0.%u, 443/tcp, %u.5)", i, i + 1, 20 + i);
  TRY(brook_data_from_text(text, &value));
  if (i % 2 == 0) {
    TRY(brook_endpoint_publish(sensor, "/sensor/readings", value));
  } else {
    brook_event *ev = NULL;
    TRY(brook_event_new("sensor_reading", &ev));
    TRY(brook_event_add_arg(ev, value));
    TRY(brook_endpoint_publish_event(sensor, "/sensor/events", ev));
    brook_event_free(ev);
  }
  brook_data_free(value);
}

static void print_message(const brook_message *m) {
  const uint8_t *topic = NULL;
  size_t topic_len = 0;
  brook_data *value = NULL;
  char *text = NULL;
  TRY(brook_message_topic(m, &topic, &topic_len));
  TRY(brook_message_data(m, &value));
  TRY(brook_data_to_string(value, &text, NULL));
  printf("%.*s: %s\n", (int)topic_len, (const char *)topic, text);
  brook_string_free(text);
  brook_data_free(value);
}

/* Prints the status events that wait, without waiting for more. */
static void print_status_events(brook_status_subscriber *st) {
  brook_status_event *ev = NULL;
  brook_status s;
  while ((s = brook_status_subscriber_next(st, 0, &ev)) == BROOK_STATUS_OK) {
    const char *name = NULL, *message = NULL;
    TRY(brook_status_event_name(ev, &name));
    TRY(brook_status_event_message(ev, &message));
    printf("status: %s (%s)\n", name, message);
    brook_status_event_free(ev);
  }
  if (s != BROOK_STATUS_TIMEOUT) {
    TRY(s);
  }
}

int main(void) {
  const char *topics[] = {"/sensor/"};
  brook_endpoint *monitor = NULL, *sensor = NULL;
  brook_subscriber *sub = NULL;
  brook_status_subscriber *st = NULL;
  struct pollfd fds[2];
  uint16_t port = 0;
  unsigned sent = 0, received = 0;
  int64_t next_reading, give_up = now_ms() + 10000;

  TRY(brook_endpoint_new(NULL, &monitor));
  TRY(brook_endpoint_subscribe(monitor, topics, 1, &sub));
  TRY(brook_endpoint_status_subscriber(monitor, true, &st));
  TRY(brook_endpoint_listen(monitor, "127.0.0.1", 0, &port));
  TRY(brook_endpoint_new(NULL, &sensor));
  TRY(brook_endpoint_peer(sensor, "127.0.0.1", port, 0, NULL));

  fds[0].events = fds[1].events = POLLIN;
  TRY(brook_subscriber_fd(sub, &fds[0].fd));
  TRY(brook_status_subscriber_fd(st, &fds[1].fd));
  next_reading = now_ms();

  while (received < READINGS) {
    int64_t now = now_ms();
    int timeout = sent < READINGS ? (int)(next_reading > now ? next_reading - now : 0) : 1000;
    if (now > give_up) {
      fprintf(stderr, "poll_loop: only %u of %u readings arrived\n", received, READINGS);
      return 1;
    }
    fds[0].revents = fds[1].revents = 0;
    if (poll(fds, 2, timeout) < 0 && errno != EINTR) {
      perror("poll");
      return 1;
    }
    if (fds[1].revents & POLLIN) {
      print_status_events(st);
    }
    if (fds[0].revents & POLLIN) {
      /* Level-triggered: take a batch now; poll() reports the rest next time round. */
      brook_message *batch[4];
      size_t n = 0;
      TRY(brook_subscriber_poll(sub, batch, 4, &n));
      for (size_t i = 0; i < n; i++, received++) {
        print_message(batch[i]);
        brook_message_free(batch[i]);
      }
    }
    if (sent < READINGS && now_ms() >= next_reading) {
      publish_reading(sensor, sent++);
      next_reading += INTERVAL_MS;
    }
  }

  printf("received %u readings\n", received);
  brook_status_subscriber_free(st);
  brook_subscriber_free(sub);
  brook_endpoint_free(sensor);
  brook_endpoint_free(monitor);
  return 0;
}
