/*
 * brook's C API against the golden vectors of a real Broker. argv[1] is the directory
 * (shared/vectors/golden). Every row is checked:
 *   data-bin-v1.tsv:   bytes -> brook_data_from_bytes -> brook_data_to_bytes gives the same
 *                      bytes; brook_data_to_string gives Broker's rendering (wire_text);
 *                      brook's JSON of the value reads back to the same bytes.
 *   zeek-messages.tsv: the same for each message, plus its JSON as Broker writes it; events
 *                      convert with brook_event_from_data exactly when Broker calls them
 *                      valid, and convert back to the same bytes.
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

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <golden vectors directory>\n", argv[0]);
    return 2;
  }
  size_t values = test_data_bin_v1(argv[1]);
  size_t messages = test_zeek_messages(argv[1]);
  /* The counts of shared/vectors/golden/README.md: a short read is a failure. */
  CHECK(values == 356);
  CHECK(messages == 19);
  printf("golden: %zu values, %zu Zeek messages\n", values, messages);
  return harness_finish();
}
