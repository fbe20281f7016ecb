/*
 * brook's C API against the golden vectors of a real Broker. argv[1] is the directory
 * (shared/vectors/golden). Every row is checked:
 *   data-bin-v1.tsv:   bytes -> brook_data_from_bytes -> brook_data_to_bytes gives the same
 *                      bytes; brook_data_to_string gives Broker's rendering (wire_text);
 *                      brook's JSON of the value reads back to the same bytes.
 *   zeek-messages.tsv: the same for each message, plus its JSON as Broker writes it; events
 *                      convert with brook_event_from_data exactly when Broker calls them
 *                      valid, and convert back to the same bytes; every message has the
 *                      kind brook_zeek_message_kind() gives exactly when Broker calls it
 *                      valid, reads with that kind's from_data call (and no other) and
 *                      converts back to the same bytes; the log create, log write,
 *                      identifier update and batch rows give their known parts, and the
 *                      same messages built from those parts give the same bytes.
 * Then the misuse of the Zeek message calls: NULL, bad UTF-8, wrong kinds, bad indexes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MAX_COLUMNS 16

/* A .tsv file read whole and split in place. */
typedef struct {
  char *text;
  char **lines;
  size_t n_lines;
  char *header[MAX_COLUMNS];
  size_t n_columns;
} tsv;

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  char *text = NULL;
  size_t len = 0, cap = 0, n;
  if (f == NULL) {
    fprintf(stderr, "cannot open %s\n", path);
    return NULL;
  }
  do {
    if (cap - len < 65536) {
      char *bigger = realloc(text, cap = cap * 2 + 65536);
      if (bigger == NULL) {
        free(text);
        fclose(f);
        return NULL;
      }
      text = bigger;
    }
    n = fread(text + len, 1, cap - len - 1, f);
    len += n;
  } while (n > 0);
  text[len] = '\0';
  fclose(f);
  return text;
}

/* Splits s at each `sep` in place; returns the number of fields (at most max). */
static size_t split(char *s, char sep, char **fields, size_t max) {
  size_t n = 0;
  fields[n++] = s;
  for (char *p = s; *p && n < max; p++) {
    if (*p == sep) {
      *p = '\0';
      fields[n++] = p + 1;
    }
  }
  return n;
}

static int tsv_open(tsv *t, const char *dir, const char *name) {
  char path[4096];
  size_t cap = 0;
  memset(t, 0, sizeof *t);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if ((t->text = read_file(path)) == NULL) {
    return 0;
  }
  for (char *p = t->text; *p; p++) {
    cap += *p == '\n';
  }
  t->lines = calloc(cap + 1, sizeof *t->lines);
  if (t->lines == NULL) {
    return 0;
  }
  for (char *line = t->text; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl) {
      *nl = '\0';
    }
    if (t->n_columns == 0) {
      t->n_columns = split(line, '\t', t->header, MAX_COLUMNS);
    } else if (*line && *line != '#') {
      t->lines[t->n_lines++] = line;
    }
    line = nl ? nl + 1 : NULL;
  }
  return 1;
}

static void tsv_close(tsv *t) {
  free(t->lines);
  free(t->text);
}

/* The fields of row i, in header order; missing trailing fields are "". */
static void tsv_row(const tsv *t, size_t i, char **fields) {
  size_t n = split(t->lines[i], '\t', fields, MAX_COLUMNS);
  for (; n < t->n_columns; n++) {
    fields[n] = "";
  }
}

static size_t tsv_column(const tsv *t, const char *name) {
  for (size_t i = 0; i < t->n_columns; i++) {
    if (strcmp(t->header[i], name) == 0) {
      return i;
    }
  }
  fprintf(stderr, "no column %s\n", name);
  exit(2);
}

static uint8_t *unhex(const char *hex, size_t *out_len) {
  size_t n = strlen(hex) / 2;
  uint8_t *out = malloc(n + 1);
  for (size_t i = 0; out && i < n; i++) {
    unsigned byte = 0;
    sscanf(hex + 2 * i, "%2x", &byte);
    out[i] = (uint8_t)byte;
  }
  *out_len = n;
  return out;
}

/* Reverses the golden files' escaping: "\\" is a backslash, "\xHH" a byte. */
static uint8_t *unescape(const char *s, size_t *out_len) {
  uint8_t *out = malloc(strlen(s) + 1);
  size_t n = 0;
  for (size_t i = 0; out && s[i];) {
    unsigned byte = 0;
    if (s[i] == '\\' && s[i + 1] == '\\') {
      out[n++] = '\\';
      i += 2;
    } else if (s[i] == '\\' && s[i + 1] == 'x' && sscanf(s + i + 2, "%2x", &byte) == 1) {
      out[n++] = (uint8_t)byte;
      i += 4;
    } else {
      out[n++] = (uint8_t)s[i++];
    }
  }
  if (out) {
    out[n] = '\0';
  }
  *out_len = n;
  return out;
}

/* Encodes d and compares with want; reports `what` for row `id` on a difference. */
static void check_bytes(const brook_data *d, const uint8_t *want, size_t want_len,
                        const char *id, const char *what) {
  uint8_t *buf = NULL;
  size_t len = 0;
  if (!CHECK_OK(brook_data_to_bytes(d, &buf, &len))) {
    fprintf(stderr, "  %s: %s\n", id, what);
    return;
  }
  if (!CHECK(len == want_len && memcmp(buf, want, len) == 0)) {
    fprintf(stderr, "  %s: %s: bytes differ\n", id, what);
  }
  brook_bytes_free(buf, len);
}

static void check_text(const brook_data *d, const char *escaped, const char *id) {
  size_t want_len = 0, len = 0;
  uint8_t *want = unescape(escaped, &want_len);
  char *s = NULL;
  if (CHECK_OK(brook_data_to_string(d, &s, &len))) {
    if (!CHECK(len == want_len && memcmp(s, want, len) == 0)) {
      fprintf(stderr, "  %s: text %.200s, expected %.200s\n", id, s, escaped);
    }
    brook_string_free(s);
  }
  free(want);
}

/* brook's JSON of d reads back to the same bytes. */
static void check_json_round_trip(const brook_data *d, const uint8_t *bytes, size_t len,
                                  const char *id) {
  char *json = NULL;
  brook_data *back = NULL;
  if (!CHECK_OK(brook_data_to_json(d, &json))) {
    return;
  }
  if (CHECK_OK(brook_data_from_json(json, &back))) {
    check_bytes(back, bytes, len, id, "JSON round trip");
  } else {
    fprintf(stderr, "  %s: brook cannot read its JSON %.200s\n", id, json);
  }
  brook_data_free(back);
  brook_string_free(json);
}

static size_t test_data_bin_v1(const char *dir) {
  tsv t;
  char *f[MAX_COLUMNS];
  if (!CHECK(tsv_open(&t, dir, "data-bin-v1.tsv"))) {
    return 0;
  }
  size_t c_id = tsv_column(&t, "id"), c_hex = tsv_column(&t, "bin_v1_hex");
  size_t c_wire = tsv_column(&t, "wire_text");
  for (size_t i = 0; i < t.n_lines; i++) {
    size_t len = 0;
    brook_data *d = NULL;
    tsv_row(&t, i, f);
    uint8_t *bytes = unhex(f[c_hex], &len);
    if (CHECK_OK(brook_data_from_bytes(bytes, len, &d))) {
      check_bytes(d, bytes, len, f[c_id], "re-encoded");
      check_text(d, f[c_wire], f[c_id]);
      check_json_round_trip(d, bytes, len, f[c_id]);
    } else {
      fprintf(stderr, "  %s: rejected\n", f[c_id]);
    }
    brook_data_free(d);
    free(bytes);
  }
  size_t rows = t.n_lines;
  tsv_close(&t);
  return rows;
}

/* ---- Zeek messages other than events ------------------------------------------------ */

static const char *const KIND_NAMES[] = {"", "Event", "LogCreate", "LogWrite", "IdentifierUpdate",
                                         "Batch"};

/* The kind a row's `kind` column names; 0 if none. */
static int kind_number(const char *name) {
  for (int k = 1; k <= 5; k++) {
    if (strcmp(KIND_NAMES[k], name) == 0) {
      return k;
    }
  }
  return 0;
}

/* d renders as `want` (plain ASCII text). */
static int renders(const brook_data *d, const char *want) {
  char *s = NULL;
  size_t len = 0;
  int ok = 0;
  if (CHECK_OK(brook_data_to_string(d, &s, &len))) {
    ok = CHECK(len == strlen(want) && memcmp(s, want, len) == 0);
    if (!ok) {
      fprintf(stderr, "  renders as %s, expected %s\n", s, want);
    }
    brook_string_free(s);
  }
  return ok;
}

static int bytes_are(const uint8_t *buf, size_t len, const void *want, size_t want_len) {
  return CHECK(len == want_len && (len == 0 || memcmp(buf, want, len) == 0));
}

/* Reads d with the from_data call of `kind` and converts it back; the bytes must be `want`.
 * Returns the status of the from_data call. */
static brook_status convert_as(int kind, const brook_data *d, const uint8_t *want,
                               size_t want_len, const char *id) {
  brook_data *again = NULL;
  brook_status st = BROOK_STATUS_INVALID_ARGUMENT;
  if (kind == BROOK_ZEEK_KIND_EVENT) {
    brook_event *e = NULL;
    if ((st = brook_event_from_data(d, &e)) == BROOK_STATUS_OK) {
      CHECK_OK(brook_event_to_data(e, &again));
    }
    brook_event_free(e);
  } else if (kind == BROOK_ZEEK_KIND_LOG_CREATE) {
    brook_log_create *l = NULL;
    if ((st = brook_log_create_from_data(d, &l)) == BROOK_STATUS_OK) {
      CHECK_OK(brook_log_create_to_data(l, &again));
    }
    brook_log_create_free(l);
  } else if (kind == BROOK_ZEEK_KIND_LOG_WRITE) {
    brook_log_write *l = NULL;
    if ((st = brook_log_write_from_data(d, &l)) == BROOK_STATUS_OK) {
      CHECK_OK(brook_log_write_to_data(l, &again));
    }
    brook_log_write_free(l);
  } else if (kind == BROOK_ZEEK_KIND_IDENTIFIER_UPDATE) {
    brook_identifier_update *u = NULL;
    if ((st = brook_identifier_update_from_data(d, &u)) == BROOK_STATUS_OK) {
      CHECK_OK(brook_identifier_update_to_data(u, &again));
    }
    brook_identifier_update_free(u);
  } else if (kind == BROOK_ZEEK_KIND_BATCH) {
    brook_zeek_batch *b = NULL;
    if ((st = brook_zeek_batch_from_data(d, &b)) == BROOK_STATUS_OK) {
      CHECK_OK(brook_zeek_batch_to_data(b, &again));
    }
    brook_zeek_batch_free(b);
  }
  if (st == BROOK_STATUS_OK && again != NULL) {
    check_bytes(again, want, want_len, id, "converted back");
  }
  brook_data_free(again);
  return st;
}

/* Every row: the kind, and each kind's from_data call accepting it or not. */
static void check_zeek_kinds(const brook_data *d, const uint8_t *bytes, size_t len,
                             const char *kind_name, int valid, const char *id) {
  int want = valid ? kind_number(kind_name) : 0;
  brook_zeek_kind kind = (brook_zeek_kind)0;
  if (want != 0) {
    if (CHECK_OK(brook_zeek_message_kind(d, &kind)) && !CHECK((int)kind == want)) {
      fprintf(stderr, "  %s: kind %d, expected %s\n", id, (int)kind, kind_name);
    }
  } else if (!CHECK_STATUS(brook_zeek_message_kind(d, &kind), BROOK_STATUS_TYPE_MISMATCH)) {
    fprintf(stderr, "  %s: invalid, but has a kind\n", id);
  }
  for (int k = 1; k <= 5; k++) {
    brook_status st = convert_as(k, d, bytes, len, id);
    brook_status expected = k == want ? BROOK_STATUS_OK : BROOK_STATUS_TYPE_MISMATCH;
    if (!CHECK(st == expected)) {
      fprintf(stderr, "  %s (%s, valid %d): read as %s gives %s\n", id, kind_name, valid,
              KIND_NAMES[k], brook_status_str(st));
    }
  }
}

static void check_log_create(const brook_data *d, const uint8_t *bytes, size_t len) {
  brook_log_create *l = NULL, *built = NULL;
  const char *s = NULL;
  const brook_data *info = NULL, *fields = NULL;
  brook_data *again = NULL;
  if (!CHECK_OK(brook_log_create_from_data(d, &l))) {
    return;
  }
  if (CHECK_OK(brook_log_create_stream_id(l, &s))) {
    CHECK(strcmp(s, "Conn::LOG") == 0);
  }
  if (CHECK_OK(brook_log_create_writer_id(l, &s))) {
    CHECK(strcmp(s, "Log::WRITER_ASCII") == 0);
  }
  if (CHECK_OK(brook_log_create_writer_info(l, &info))) {
    renders(info, "(conn, 0.000000, 3600.000000, 1681827194.000000, {tsv -> T}, )");
  }
  if (CHECK_OK(brook_log_create_fields_data(l, &fields))) {
    renders(fields, "((ts, nil, 6, 0, F), (uid, nil, 10, 0, F), (id.orig_h, nil, 11, 0, F))");
  }
  /* The same message from its parts. */
  if (info && fields &&
      CHECK_OK(brook_log_create_new("Conn::LOG", "Log::WRITER_ASCII", info, fields, &built)) &&
      CHECK_OK(brook_log_create_to_data(built, &again))) {
    check_bytes(again, bytes, len, "log-create", "built from its parts");
  }
  brook_data_free(again);
  brook_log_create_free(built);
  brook_log_create_free(l);
}

static const uint8_t SERIAL_1[] = {0, 0, 0, 3, 1, 2, 0xff};
static const uint8_t SERIAL_2[] = {0, 0, 0, 1};

static void check_log_write(const brook_data *d, const uint8_t *bytes, size_t len) {
  brook_log_write *l = NULL, *built = NULL;
  const char *s = NULL;
  const uint8_t *buf = NULL;
  size_t n = 0;
  brook_data *again = NULL;
  if (!CHECK_OK(brook_log_write_from_data(d, &l))) {
    return;
  }
  if (CHECK_OK(brook_log_write_stream_id(l, &s))) {
    CHECK(strcmp(s, "Conn::LOG") == 0);
  }
  if (CHECK_OK(brook_log_write_writer_id(l, &s))) {
    CHECK(strcmp(s, "Log::WRITER_ASCII") == 0);
  }
  if (CHECK_OK(brook_log_write_path(l, &buf, &n))) {
    bytes_are(buf, n, "conn", 4);
  }
  if (CHECK_OK(brook_log_write_serial_data(l, &buf, &n))) {
    bytes_are(buf, n, SERIAL_1, sizeof SERIAL_1);
  }
  if (CHECK_OK(brook_log_write_new("Conn::LOG", "Log::WRITER_ASCII", (const uint8_t *)"conn", 4,
                                   SERIAL_1, sizeof SERIAL_1, &built)) &&
      CHECK_OK(brook_log_write_to_data(built, &again))) {
    check_bytes(again, bytes, len, "log-write", "built from its parts");
  }
  brook_data_free(again);
  brook_log_write_free(built);
  brook_log_write_free(l);
}

static void check_identifier_update(const brook_data *d, const uint8_t *bytes, size_t len,
                                    const char *want_name, const char *want_value) {
  brook_identifier_update *u = NULL, *built = NULL;
  const char *s = NULL;
  const brook_data *v = NULL;
  brook_data *again = NULL;
  if (!CHECK_OK(brook_identifier_update_from_data(d, &u))) {
    return;
  }
  if (CHECK_OK(brook_identifier_update_id_name(u, &s))) {
    CHECK(strcmp(s, want_name) == 0);
  }
  if (CHECK_OK(brook_identifier_update_id_value(u, &v))) {
    renders(v, want_value);
  }
  if (v && CHECK_OK(brook_identifier_update_new(want_name, v, &built)) &&
      CHECK_OK(brook_identifier_update_to_data(built, &again))) {
    check_bytes(again, bytes, len, want_name, "built from its parts");
  }
  brook_data_free(again);
  brook_identifier_update_free(built);
  brook_identifier_update_free(u);
}

/* The kind of the message at `index` of b; 0 on failure. */
static int kind_at(const brook_zeek_batch *b, size_t index, const brook_data **out_message) {
  brook_zeek_kind kind = (brook_zeek_kind)0;
  if (CHECK_OK(brook_zeek_batch_message(b, index, out_message)) &&
      CHECK_OK(brook_zeek_message_kind(*out_message, &kind))) {
    return (int)kind;
  }
  return 0;
}

/* The name of the event in m, compared with `want`. */
static void event_named(const brook_data *m, const char *want) {
  brook_event *e = NULL;
  const char *name = NULL;
  if (CHECK_OK(brook_event_from_data(m, &e)) && CHECK_OK(brook_event_name(e, &name))) {
    CHECK(strcmp(name, want) == 0);
  }
  brook_event_free(e);
}

/* A log write built from its parts, as a data value. */
static brook_data *log_write_data(const uint8_t *serial, size_t serial_len) {
  brook_log_write *l = NULL;
  brook_data *d = NULL;
  if (CHECK_OK(brook_log_write_new("Conn::LOG", "Log::WRITER_ASCII", (const uint8_t *)"conn", 4,
                                   serial, serial_len, &l))) {
    CHECK_OK(brook_log_write_to_data(l, &d));
  }
  brook_log_write_free(l);
  return d;
}

static void check_batch(const brook_data *d, const uint8_t *bytes, size_t len, const char *id) {
  brook_zeek_batch *b = NULL, *built = NULL;
  const brook_data *m = NULL;
  brook_data *again = NULL;
  size_t n = 0;
  if (!CHECK_OK(brook_zeek_batch_from_data(d, &b)) ||
      !CHECK_OK(brook_zeek_batch_message_count(b, &n)) || !CHECK_OK(brook_zeek_batch_new(&built))) {
    goto done;
  }
  if (strcmp(id, "batch-2-events") == 0 && CHECK(n == 2)) {
    if (CHECK(kind_at(b, 0, &m) == BROOK_ZEEK_KIND_EVENT)) {
      event_named(m, "e1");
    }
    if (CHECK(kind_at(b, 1, &m) == BROOK_ZEEK_KIND_EVENT)) {
      event_named(m, "e2");
    }
  } else if (strcmp(id, "batch-2-logwrites") == 0 && CHECK(n == 2)) {
    brook_log_write *l = NULL;
    const uint8_t *buf = NULL;
    size_t blen = 0;
    CHECK(kind_at(b, 1, &m) == BROOK_ZEEK_KIND_LOG_WRITE);
    if (CHECK_OK(brook_log_write_from_data(m, &l))) {
      if (CHECK_OK(brook_log_write_serial_data(l, &buf, &blen))) {
        bytes_are(buf, blen, SERIAL_2, sizeof SERIAL_2);
      }
    }
    brook_log_write_free(l);
    /* The same batch from log writes built from their parts. */
    brook_data *w1 = log_write_data(SERIAL_1, sizeof SERIAL_1);
    brook_data *w2 = log_write_data(SERIAL_2, sizeof SERIAL_2);
    CHECK_OK(brook_zeek_batch_add_message(built, w1));
    CHECK_OK(brook_zeek_batch_add_message(built, w2));
    brook_data_free(w1);
    brook_data_free(w2);
  } else if (strcmp(id, "batch-nested") == 0 && CHECK(n == 2)) {
    brook_zeek_batch *inner = NULL;
    size_t inner_n = 0;
    brook_identifier_update *u = NULL;
    const char *name = NULL;
    CHECK(kind_at(b, 0, &m) == BROOK_ZEEK_KIND_BATCH);
    if (CHECK_OK(brook_zeek_batch_from_data(m, &inner)) &&
        CHECK_OK(brook_zeek_batch_message_count(inner, &inner_n)) && CHECK(inner_n == 1) &&
        CHECK(kind_at(inner, 0, &m) == BROOK_ZEEK_KIND_EVENT)) {
      event_named(m, "inner");
    }
    brook_zeek_batch_free(inner);
    CHECK(kind_at(b, 1, &m) == BROOK_ZEEK_KIND_IDENTIFIER_UPDATE);
    if (CHECK_OK(brook_identifier_update_from_data(m, &u))) {
      if (CHECK_OK(brook_identifier_update_id_name(u, &name))) {
        CHECK(strcmp(name, "x") == 0);
      }
    }
    brook_identifier_update_free(u);
  } else if (strcmp(id, "batch-empty") == 0) {
    CHECK(n == 0);
    CHECK_STATUS(brook_zeek_batch_message(b, 0, &m), BROOK_STATUS_OUT_OF_RANGE);
  } else {
    fprintf(stderr, "  %s: a batch the test does not know\n", id);
    CHECK(0);
  }
  /* Unless built from parts above: the messages of b, added one by one. */
  size_t built_n = 0;
  CHECK_OK(brook_zeek_batch_message_count(built, &built_n));
  for (size_t i = 0; built_n == 0 && i < n; i++) {
    if (CHECK_OK(brook_zeek_batch_message(b, i, &m))) {
      CHECK_OK(brook_zeek_batch_add_message(built, m));
    }
  }
  if (CHECK_OK(brook_zeek_batch_to_data(built, &again))) {
    check_bytes(again, bytes, len, id, "batch built message by message");
  }
done:
  brook_data_free(again);
  brook_zeek_batch_free(built);
  brook_zeek_batch_free(b);
}

/* The parts of the golden log create, log write, identifier updates and batches. */
static void check_zeek_parts(const brook_data *d, const uint8_t *bytes, size_t len,
                             const char *id, const char *kind) {
  if (strcmp(id, "log-create") == 0) {
    check_log_create(d, bytes, len);
  } else if (strcmp(id, "log-write") == 0) {
    check_log_write(d, bytes, len);
  } else if (strcmp(id, "id-update-count") == 0) {
    check_identifier_update(d, bytes, len, "Test::counter", "17");
  } else if (strcmp(id, "id-update-table") == 0) {
    check_identifier_update(d, bytes, len, "Site::local_nets", "{10.0.0.0/8, 192.168.0.0/16}");
  } else if (strcmp(kind, "Batch") == 0) {
    check_batch(d, bytes, len, id);
  } else if (strcmp(kind, "Event") != 0) {
    fprintf(stderr, "  %s: a %s the test does not know\n", id, kind);
    CHECK(0);
  }
}

static size_t test_zeek_messages(const char *dir) {
  tsv t;
  char *f[MAX_COLUMNS];
  if (!CHECK(tsv_open(&t, dir, "zeek-messages.tsv"))) {
    return 0;
  }
  size_t c_id = tsv_column(&t, "id"), c_kind = tsv_column(&t, "kind");
  size_t c_valid = tsv_column(&t, "broker_valid"), c_text = tsv_column(&t, "text");
  size_t c_hex = tsv_column(&t, "bin_v1_hex"), c_json = tsv_column(&t, "json_v1");
  for (size_t i = 0; i < t.n_lines; i++) {
    size_t len = 0, json_len = 0;
    brook_data *d = NULL, *from_json = NULL, *again = NULL;
    brook_event *ev = NULL;
    char *json = NULL;
    tsv_row(&t, i, f);
    const char *id = f[c_id];
    uint8_t *bytes = unhex(f[c_hex], &len);
    uint8_t *want_json = unescape(f[c_json], &json_len);
    if (!CHECK_OK(brook_data_from_bytes(bytes, len, &d))) {
      fprintf(stderr, "  %s: rejected\n", id);
      goto next;
    }
    check_bytes(d, bytes, len, id, "re-encoded");
    check_text(d, f[c_text], id);
    /* Broker writes a NUL byte in a string raw (and then cannot read it back); brook
     * writes \u0000. Such JSON cannot be a C string either: only the bytes are compared. */
    if (memchr(want_json, 0, json_len) != NULL) {
      check_json_round_trip(d, bytes, len, id);
      goto event;
    }
    if (CHECK_OK(brook_data_to_json(d, &json))) {
      if (!CHECK(strlen(json) == json_len && memcmp(json, want_json, json_len) == 0)) {
        fprintf(stderr, "  %s: JSON %.300s\n  expected %.300s\n", id, json, f[c_json]);
      }
      brook_string_free(json);
    }
    if (CHECK_OK(brook_data_from_json((const char *)want_json, &from_json))) {
      check_bytes(from_json, bytes, len, id, "Broker's JSON decoded");
    }
  event:
    if (strcmp(f[c_kind], "Event") == 0 && strcmp(f[c_valid], "true") == 0) {
      if (CHECK_OK(brook_event_from_data(d, &ev)) && CHECK_OK(brook_event_to_data(ev, &again))) {
        check_bytes(again, bytes, len, id, "event converted back");
      } else {
        fprintf(stderr, "  %s: a valid event\n", id);
      }
    } else if (!CHECK_STATUS(brook_event_from_data(d, &ev), BROOK_STATUS_TYPE_MISMATCH)) {
      fprintf(stderr, "  %s: %s, valid %s, should not convert\n", id, f[c_kind], f[c_valid]);
    }
    check_zeek_kinds(d, bytes, len, f[c_kind], strcmp(f[c_valid], "true") == 0, id);
    check_zeek_parts(d, bytes, len, id, f[c_kind]);
  next:
    brook_event_free(ev);
    brook_data_free(again);
    brook_data_free(from_json);
    brook_data_free(d);
    free(want_json);
    free(bytes);
  }
  size_t rows = t.n_lines;
  tsv_close(&t);
  return rows;
}

/* NULL arguments, bad UTF-8, wrong kinds and bad indexes; _free(NULL). */
static void test_zeek_misuse(void) {
  static const char bad_utf8[] = {'C', (char)0xff, 0};
  brook_data *five = count(5), *empty = NULL, *lw_data = NULL, *b_data = NULL;
  brook_log_create *lc = NULL;
  brook_log_write *lw = NULL;
  brook_identifier_update *u = NULL;
  brook_zeek_batch *b = NULL;
  brook_zeek_kind kind = (brook_zeek_kind)0;
  const char *s = NULL;
  const brook_data *m = NULL;
  const uint8_t *buf = NULL;
  size_t n = 0;

  CHECK_OK(brook_data_new_vector(&empty));

  /* Not Zeek messages at all. */
  CHECK_STATUS(brook_zeek_message_kind(NULL, &kind), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("message");
  CHECK_STATUS(brook_zeek_message_kind(five, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_kind");
  CHECK_STATUS(brook_zeek_message_kind(five, &kind), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_STATUS(brook_zeek_message_kind(empty, &kind), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_STATUS(brook_log_create_from_data(five, &lc), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_STATUS(brook_zeek_batch_from_data(empty, &b), BROOK_STATUS_TYPE_MISMATCH);
  CHECK(lc == NULL && b == NULL);

  /* Log create. */
  CHECK_STATUS(brook_log_create_new(NULL, "W", five, five, &lc), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("stream_id");
  CHECK_STATUS(brook_log_create_new("S", NULL, five, five, &lc), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("writer_id");
  CHECK_STATUS(brook_log_create_new("S", "W", NULL, five, &lc), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("writer_info");
  CHECK_STATUS(brook_log_create_new("S", "W", five, NULL, &lc), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("fields_data");
  CHECK_STATUS(brook_log_create_new("S", "W", five, five, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_log_create");
  CHECK_STATUS(brook_log_create_new(bad_utf8, "W", five, five, &lc), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("stream_id");
  CHECK(lc == NULL);
  if (CHECK_OK(brook_log_create_new("S::LOG", "W::X", five, empty, &lc))) {
    const brook_data *info = NULL;
    CHECK_STATUS(brook_log_create_stream_id(NULL, &s), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("log_create");
    CHECK_STATUS(brook_log_create_writer_id(lc, NULL), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("out_writer_id");
    CHECK_STATUS(brook_log_create_writer_info(lc, NULL), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(brook_log_create_fields_data(NULL, &m), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(brook_log_create_to_data(lc, NULL), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("out_data");
    CHECK_STATUS(brook_log_create_from_data(NULL, &lc), BROOK_STATUS_NULL_ARGUMENT);
    if (CHECK_OK(brook_log_create_writer_id(lc, &s))) {
      CHECK(strcmp(s, "W::X") == 0);
    }
    /* The parts are copies: the originals stay the caller's. */
    if (CHECK_OK(brook_log_create_writer_info(lc, &info))) {
      CHECK(info != five);
      CHECK(brook_data_equal(info, five));
    }
  }

  /* Log write. */
  CHECK_STATUS(brook_log_write_new(NULL, "W", NULL, 0, NULL, 0, &lw), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("stream_id");
  CHECK_STATUS(brook_log_write_new("S", "W", NULL, 1, NULL, 0, &lw), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("path");
  CHECK_STATUS(brook_log_write_new("S", "W", NULL, 0, NULL, 2, &lw), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("serial_data");
  CHECK_STATUS(brook_log_write_new("S", bad_utf8, NULL, 0, NULL, 0, &lw), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("writer_id");
  CHECK_STATUS(brook_log_write_new("S", "W", NULL, 0, NULL, 0, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_log_write");
  CHECK(lw == NULL);
  /* Empty buffers may be NULL; a path need not be UTF-8 and may hold NUL. */
  if (CHECK_OK(brook_log_write_new("S::LOG", "W::X", (const uint8_t *)"a\0\xff", 3, NULL, 0, &lw))) {
    if (CHECK_OK(brook_log_write_path(lw, &buf, &n))) {
      bytes_are(buf, n, "a\0\xff", 3);
    }
    if (CHECK_OK(brook_log_write_serial_data(lw, &buf, &n))) {
      CHECK(n == 0);
    }
    CHECK_STATUS(brook_log_write_path(lw, NULL, &n), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("out_buf");
    CHECK_STATUS(brook_log_write_serial_data(lw, &buf, NULL), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("out_len");
    CHECK_STATUS(brook_log_write_stream_id(NULL, &s), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("log_write");
    CHECK_STATUS(brook_log_write_writer_id(lw, NULL), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(brook_log_write_to_data(NULL, &lw_data), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(brook_log_write_from_data(five, NULL), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("out_log_write");
    CHECK_OK(brook_log_write_to_data(lw, &lw_data));
  }
  /* A log write is no other kind of message, and the message says which it is. */
  CHECK_STATUS(brook_log_create_from_data(lw_data, &lc), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_ERROR_HAS("is a log write, not a log create");
  CHECK_STATUS(brook_identifier_update_from_data(lw_data, &u), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_STATUS(brook_zeek_batch_from_data(lw_data, &b), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_ERROR_HAS("not a batch");
  CHECK(u == NULL && b == NULL);
  if (CHECK_OK(brook_zeek_message_kind(lw_data, &kind))) {
    CHECK(kind == BROOK_ZEEK_KIND_LOG_WRITE);
  }

  /* Identifier update. */
  CHECK_STATUS(brook_identifier_update_new(NULL, five, &u), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("id_name");
  CHECK_STATUS(brook_identifier_update_new("x", NULL, &u), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("id_value");
  CHECK_STATUS(brook_identifier_update_new("x", five, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_update");
  CHECK_STATUS(brook_identifier_update_new(bad_utf8, five, &u), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("id_name");
  CHECK(u == NULL);
  if (CHECK_OK(brook_identifier_update_new("x", five, &u))) {
    CHECK_STATUS(brook_identifier_update_id_name(NULL, &s), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("update");
    CHECK_STATUS(brook_identifier_update_id_name(u, NULL), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("out_id_name");
    CHECK_STATUS(brook_identifier_update_id_value(u, NULL), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("out_id_value");
    CHECK_STATUS(brook_identifier_update_to_data(u, NULL), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(brook_identifier_update_from_data(NULL, &u), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("d");
    if (CHECK_OK(brook_identifier_update_id_value(u, &m))) {
      CHECK(brook_data_equal(m, five));
    }
  }

  /* Batch. */
  CHECK_STATUS(brook_zeek_batch_new(NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_batch");
  if (CHECK_OK(brook_zeek_batch_new(&b))) {
    brook_zeek_batch *again = NULL;
    CHECK_STATUS(brook_zeek_batch_add_message(NULL, lw_data), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("batch");
    CHECK_STATUS(brook_zeek_batch_add_message(b, NULL), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("message");
    /* Only valid Zeek messages go in; a refused one leaves the batch as it was. */
    CHECK_STATUS(brook_zeek_batch_add_message(b, five), BROOK_STATUS_TYPE_MISMATCH);
    if (CHECK_OK(brook_zeek_batch_message_count(b, &n))) {
      CHECK(n == 0);
    }
    CHECK_OK(brook_zeek_batch_add_message(b, lw_data));
    /* A message borrowed from the batch itself can be added again. */
    if (CHECK_OK(brook_zeek_batch_message(b, 0, &m))) {
      CHECK_OK(brook_zeek_batch_add_message(b, m));
    }
    if (CHECK_OK(brook_zeek_batch_message_count(b, &n))) {
      CHECK(n == 2);
    }
    CHECK_STATUS(brook_zeek_batch_message(b, 2, &m), BROOK_STATUS_OUT_OF_RANGE);
    CHECK_ERROR_HAS("index 2");
    CHECK_STATUS(brook_zeek_batch_message(b, 0, NULL), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("out_message");
    CHECK_STATUS(brook_zeek_batch_message_count(NULL, &n), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(brook_zeek_batch_message_count(b, NULL), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_ERROR_HAS("out_count");
    CHECK_STATUS(brook_zeek_batch_to_data(NULL, &b_data), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(brook_zeek_batch_from_data(NULL, &again), BROOK_STATUS_NULL_ARGUMENT);
    /* A batch holding a batch: the outer one counts it as one message. */
    if (CHECK_OK(brook_zeek_batch_to_data(b, &b_data)) &&
        CHECK_OK(brook_zeek_batch_add_message(b, b_data))) {
      if (CHECK_OK(brook_zeek_batch_message_count(b, &n))) {
        CHECK(n == 3);
      }
      if (CHECK_OK(brook_zeek_batch_message(b, 2, &m))) {
        CHECK(brook_data_equal(m, b_data));
      }
      if (CHECK_OK(brook_zeek_message_kind(m, &kind))) {
        CHECK(kind == BROOK_ZEEK_KIND_BATCH);
      }
    }
    /* One invalid message makes a batch invalid: (1, 5, (5)). */
    brook_data *bad = NULL, *one = count(1), *inner = NULL, *c5 = count(5);
    CHECK_OK(brook_data_new_vector(&bad));
    CHECK_OK(brook_data_new_vector(&inner));
    CHECK_OK(brook_data_vector_push(inner, five));
    CHECK_OK(brook_data_vector_push(bad, one));
    CHECK_OK(brook_data_vector_push(bad, c5));
    CHECK_OK(brook_data_vector_push(bad, inner));
    CHECK_STATUS(brook_zeek_message_kind(bad, &kind), BROOK_STATUS_TYPE_MISMATCH);
    CHECK_STATUS(brook_zeek_batch_from_data(bad, &again), BROOK_STATUS_TYPE_MISMATCH);
    CHECK_STATUS(brook_zeek_batch_add_message(b, bad), BROOK_STATUS_TYPE_MISMATCH);
    CHECK(again == NULL);
    brook_data_free(c5);
    brook_data_free(inner);
    brook_data_free(one);
    brook_data_free(bad);
  }

  /* Freeing NULL does nothing. */
  brook_log_create_free(NULL);
  brook_log_write_free(NULL);
  brook_identifier_update_free(NULL);
  brook_zeek_batch_free(NULL);

  brook_zeek_batch_free(b);
  brook_identifier_update_free(u);
  brook_log_write_free(lw);
  brook_log_create_free(lc);
  brook_data_free(b_data);
  brook_data_free(lw_data);
  brook_data_free(empty);
  brook_data_free(five);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <golden vectors directory>\n", argv[0]);
    return 2;
  }
  size_t values = test_data_bin_v1(argv[1]);
  size_t messages = test_zeek_messages(argv[1]);
  test_zeek_misuse();
  /* The counts of shared/vectors/golden/README.md: a short read is a failure. */
  CHECK(values == 356);
  CHECK(messages == 19);
  printf("golden: %zu values, %zu Zeek messages\n", values, messages);
  return harness_finish();
}
