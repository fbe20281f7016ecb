/*
 * Zeek log records through the C API: the LogCreate and LogWrites a real Zeek sent
 * (tests/data/zeek_logs/all_types.bin, the path given as argv[1]) read as streams and
 * records, their fields iterated by name, type, data value and TSV text; and a log write
 * built from data values, read back.
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STREAMS 8

static brook_log_stream *streams[MAX_STREAMS];
static char *stream_ids[MAX_STREAMS];
static int nstreams;
static int test_records, small_records;

static brook_log_stream *stream_for(const char *id) {
  for (int i = 0; i < nstreams; i++)
    if (strcmp(stream_ids[i], id) == 0) return streams[i];
  return NULL;
}

static int text_is(const brook_log_record *r, size_t i, const char *want) {
  const uint8_t *buf = NULL;
  size_t len = 0;
  if (brook_log_record_field_text(r, i, &buf, &len) != BROOK_STATUS_OK) return 0;
  if (len != strlen(want) || memcmp(buf, want, len) != 0) {
    fprintf(stderr, "field %zu: got %.*s, want %s\n", i, (int)len, (const char *)buf, want);
    return 0;
  }
  return 1;
}

static void check_first_test_record(const brook_log_record *r) {
  const char *name = NULL, *type = NULL;
  bool is_set = false;
  const brook_data *value = NULL;
  CHECK(brook_log_record_field_count(r) == 17);
  CHECK_OK(brook_log_record_field(r, 0, &name, &type, &is_set, &value));
  CHECK(strcmp(name, "b") == 0 && strcmp(type, "bool") == 0 && is_set);
  CHECK(brook_data_get_type(value) == BROOK_DATA_TYPE_BOOLEAN);
  CHECK_OK(brook_log_record_field(r, 2, &name, &type, NULL, &value));
  uint64_t c = 0;
  CHECK_OK(brook_data_get_count(value, &c));
  CHECK(c == UINT64_MAX);
  CHECK_OK(brook_log_record_field(r, 11, &name, &type, NULL, &value));
  CHECK(strcmp(name, "ss") == 0 && strcmp(type, "set[string]") == 0);
  CHECK(brook_data_get_type(value) == BROOK_DATA_TYPE_SET);
  CHECK(text_is(r, 3, "3.0"));
  CHECK(text_is(r, 4, "1700000000.123456"));
  CHECK(text_is(r, 8, "10.0.0.0/8"));
  CHECK(text_is(r, 10, "Test::RED"));
  CHECK(text_is(r, 11, "b\\x2cc,a"));
  CHECK(text_is(r, 16, "x,(empty)"));
  const uint8_t *path = NULL;
  size_t path_len = 0;
  CHECK_OK(brook_log_record_path(r, &path, &path_len));
  CHECK(path_len == 10 && memcmp(path, "brook_test", 10) == 0);
  CHECK_STATUS(brook_log_record_field(r, 17, &name, NULL, NULL, NULL), BROOK_STATUS_INVALID_ARGUMENT);
}

static void handle(const brook_data *msg) {
  brook_zeek_kind kind;
  if (brook_zeek_message_kind(msg, &kind) != BROOK_STATUS_OK) return;
  if (kind == BROOK_ZEEK_KIND_LOG_CREATE) {
    brook_log_create *lc = NULL;
    CHECK_OK(brook_log_create_from_data(msg, &lc));
    const char *id = NULL;
    CHECK_OK(brook_log_create_stream_id(lc, &id));
    if (nstreams < MAX_STREAMS && !stream_for(id)) {
      CHECK_OK(brook_log_stream_from_create(lc, &streams[nstreams]));
      stream_ids[nstreams] = strdup(id);
      nstreams++;
    }
    brook_log_create_free(lc);
  } else if (kind == BROOK_ZEEK_KIND_LOG_WRITE) {
    brook_log_write *lw = NULL;
    CHECK_OK(brook_log_write_from_data(msg, &lw));
    const char *id = NULL;
    CHECK_OK(brook_log_write_stream_id(lw, &id));
    brook_log_stream *s = stream_for(id);
    CHECK(s != NULL);
    brook_log_record *r = NULL;
    if (s && CHECK_OK(brook_log_record_from_write(s, lw, &r))) {
      if (strcmp(id, "Test::LOG") == 0 && test_records++ == 0) check_first_test_record(r);
      if (strcmp(id, "Test::LOG2") == 0) small_records++;
    }
    brook_log_record_free(r);
    brook_log_write_free(lw);
  } else if (kind == BROOK_ZEEK_KIND_BATCH) {
    brook_zeek_batch *b = NULL;
    CHECK_OK(brook_zeek_batch_from_data(msg, &b));
    size_t n = 0;
    CHECK_OK(brook_zeek_batch_message_count(b, &n));
    for (size_t i = 0; i < n; i++) {
      const brook_data *m = NULL;
      CHECK_OK(brook_zeek_batch_message(b, i, &m));
      handle(m);
    }
    brook_zeek_batch_free(b);
  }
}

static void test_captured(const char *file) {
  FILE *f = fopen(file, "rb");
  CHECK(f != NULL);
  if (!f) return;
  uint8_t head[4];
  while (fread(head, 1, 4, f) == 4) {
    size_t n = ((size_t)head[0] << 24) | ((size_t)head[1] << 16) | ((size_t)head[2] << 8) | head[3];
    uint8_t *buf = malloc(n);
    CHECK(fread(buf, 1, n, f) == n);
    brook_data *d = NULL;
    if (CHECK_OK(brook_data_from_bytes(buf, n, &d))) handle(d);
    brook_data_free(d);
    free(buf);
  }
  fclose(f);
  CHECK(test_records == 6);
  CHECK(small_records == 3);
}

static void test_build(void) {
  brook_log_stream *s = stream_for("Test::LOG2");
  CHECK(s != NULL);
  if (!s) return;
  CHECK(brook_log_stream_field_count(s) == 2);
  const char *name = NULL, *type = NULL;
  CHECK_OK(brook_log_stream_field(s, 1, &name, &type));
  CHECK(strcmp(name, "msg") == 0 && strcmp(type, "string") == 0);

  brook_data *values = NULL, *msg = NULL;
  CHECK_OK(brook_data_new_vector(&values));
  brook_data *seven = count(7);
  CHECK_OK(brook_data_vector_push(values, seven));
  brook_data_free(seven);
  CHECK_OK(brook_data_new_string((const uint8_t *)"from C\x01", 7, &msg));
  CHECK_OK(brook_data_vector_push(values, msg));
  brook_log_write *w = NULL;
  CHECK_OK(brook_log_stream_write(s, (const uint8_t *)"brook_small", 11, values, &w));
  brook_log_record *r = NULL;
  CHECK_OK(brook_log_record_from_write(s, w, &r));
  CHECK(text_is(r, 0, "7"));
  CHECK(text_is(r, 1, "from C\\x01"));
  brook_log_record_free(r);
  brook_log_write_free(w);

  /* A value that does not fit its field. */
  brook_data *bad = NULL;
  CHECK_OK(brook_data_new_vector(&bad));
  CHECK_OK(brook_data_vector_push(bad, msg));
  CHECK_OK(brook_data_vector_push(bad, msg));
  CHECK_STATUS(brook_log_stream_write(s, (const uint8_t *)"x", 1, bad, &w), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_ERROR_HAS("field n");
  CHECK_STATUS(brook_log_stream_write(s, (const uint8_t *)"x", 1, msg, &w), BROOK_STATUS_TYPE_MISMATCH);
  brook_data_free(bad);
  brook_data_free(msg);
  brook_data_free(values);

  /* Malformed serial data is an error, not a crash. */
  brook_log_write *junk = NULL;
  CHECK_OK(brook_log_write_new("Test::LOG2", "Log::WRITER_ASCII", (const uint8_t *)"p", 1,
                               (const uint8_t *)"\0\0\0\2", 4, &junk));
  CHECK_STATUS(brook_log_record_from_write(s, junk, &r), BROOK_STATUS_DECODE_ERROR);
  CHECK_ERROR_HAS("fields do not fit");
  brook_log_write_free(junk);
}

static void test_null_arguments(void) {
  brook_log_stream *s = NULL;
  CHECK_STATUS(brook_log_stream_from_create(NULL, &s), BROOK_STATUS_NULL_ARGUMENT);
  CHECK(brook_log_stream_field_count(NULL) == 0);
  CHECK(brook_log_record_field_count(NULL) == 0);
  brook_log_stream_free(NULL);
  brook_log_record_free(NULL);
}

int main(int argc, char **argv) {
  test_captured(argc > 1 ? argv[1] : "tests/data/zeek_logs/all_types.bin");
  test_build();
  test_null_arguments();
  for (int i = 0; i < nstreams; i++) {
    brook_log_stream_free(streams[i]);
    free(stream_ids[i]);
  }
  return harness_finish();
}
