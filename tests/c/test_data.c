/*
 * brook's C API for values and Zeek events: every type built, read back, rendered, encoded
 * and decoded; containers and iteration; the error paths (NULL, wrong type, bad input).
 * Expected texts and bytes are Broker's own (shared/vectors/golden/data-bin-v1.tsv).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* ---- helpers ------------------------------------------------------------------------ */

static void to_hex(const uint8_t *buf, size_t len, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[buf[i] >> 4];
    out[2 * i + 1] = digits[buf[i] & 15];
  }
  out[2 * len] = '\0';
}

/* Checks that `d` has type `type`, renders as the `text_len` bytes of `text`, encodes as
 * `want_hex`, and that its bytes and its JSON both read back to an equal value. Frees d. */
static void check_value_at(brook_data *d, brook_data_type type, const char *text,
                           size_t text_len, const char *want_hex, int line) {
  int failed_before = harness_failed;
  char *s = NULL, *json = NULL;
  size_t s_len = 0, len = 0, len2 = 0;
  uint8_t *buf = NULL, *buf2 = NULL;
  brook_data *back = NULL, *from_json = NULL;
  char got_hex[1024];

  CHECK(brook_data_get_type(d) == type);
  if (CHECK_OK(brook_data_to_string(d, &s, &s_len))) {
    CHECK(s_len == text_len && memcmp(s, text, text_len) == 0);
    CHECK(s[s_len] == '\0');
    brook_string_free(s);
  }
  if (CHECK_OK(brook_data_to_bytes(d, &buf, &len))) {
    CHECK(len * 2 < sizeof got_hex);
    if (len * 2 < sizeof got_hex) {
      to_hex(buf, len, got_hex);
      if (!CHECK(strcmp(got_hex, want_hex) == 0)) {
        fprintf(stderr, "  bytes %s, expected %s\n", got_hex, want_hex);
      }
    }
    if (CHECK_OK(brook_data_from_bytes(buf, len, &back))) {
      CHECK(brook_data_equal(d, back));
      if (CHECK_OK(brook_data_to_bytes(back, &buf2, &len2))) {
        CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
        brook_bytes_free(buf2, len2);
      }
    }
    brook_bytes_free(buf, len);
  }
  if (CHECK_OK(brook_data_to_json(d, &json))) {
    if (CHECK_OK(brook_data_from_json(json, &from_json))) {
      CHECK(brook_data_equal(d, from_json));
    }
    brook_string_free(json);
  }
  if (harness_failed > failed_before) {
    fprintf(stderr, "  ^ while checking the value at line %d (%s)\n", line, want_hex);
  }
  brook_data_free(from_json);
  brook_data_free(back);
  brook_data_free(d);
}

/* `text` must be a string literal: its length comes from sizeof, so it may hold NUL. */
#define CHECK_VALUE(d, type, text, hex) \
  check_value_at((d), (type), (text), sizeof(text) - 1, (hex), __LINE__)

static brook_data *string(const char *s) {
  brook_data *d = NULL;
  CHECK_OK(brook_data_new_string((const uint8_t *)s, strlen(s), &d));
  return d;
}

/* The text form of d, for comparisons; "" if it cannot be rendered. Caller frees. */
static char *render(const brook_data *d) {
  char *s = NULL;
  if (!CHECK_OK(brook_data_to_string(d, &s, NULL))) {
    return NULL;
  }
  return s;
}

static int renders_as(const brook_data *d, const char *want) {
  char *s = render(d);
  int ok = s != NULL && strcmp(s, want) == 0;
  if (!ok) {
    fprintf(stderr, "  rendered \"%s\", expected \"%s\"\n", s ? s : "(null)", want);
  }
  brook_string_free(s);
  return ok;
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_version(void) {
  char macros[64];
  snprintf(macros, sizeof macros, "%d.%d.%d", BROOK_VERSION_MAJOR, BROOK_VERSION_MINOR,
           BROOK_VERSION_PATCH);
  CHECK(strcmp(brook_version(), BROOK_VERSION_STRING) == 0);
  CHECK(strcmp(macros, BROOK_VERSION_STRING) == 0);
}

static void test_status_str(void) {
  CHECK(strcmp(brook_status_str(BROOK_STATUS_OK), "ok") == 0);
  CHECK(strcmp(brook_status_str(BROOK_STATUS_NULL_ARGUMENT), "null argument") == 0);
  CHECK(strcmp(brook_status_str(BROOK_STATUS_TYPE_MISMATCH), "type mismatch") == 0);
  CHECK(strcmp(brook_status_str(BROOK_STATUS_DECODE_ERROR), "decode error") == 0);
  CHECK(strcmp(brook_status_str(BROOK_STATUS_PANIC), "panic") == 0);
  /* A value brook never returns is answered, not undefined behaviour. */
  CHECK(strcmp(brook_status_str((brook_status)12345), "unknown status") == 0);
  CHECK(strcmp(brook_status_str((brook_status)-1), "unknown status") == 0);
}

static void test_scalars(void) {
  brook_data *d = NULL;

  CHECK_OK(brook_data_new_none(&d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_NONE, "nil", "00");
  CHECK_OK(brook_data_new_bool(true, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_BOOLEAN, "T", "0101");
  CHECK_OK(brook_data_new_bool(false, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_BOOLEAN, "F", "0100");
  CHECK_OK(brook_data_new_count(42, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_COUNT, "42", "02000000000000002a");
  CHECK_OK(brook_data_new_count(UINT64_MAX, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_COUNT, "18446744073709551615", "02ffffffffffffffff");
  CHECK_OK(brook_data_new_integer(-7, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_INTEGER, "-7", "03fffffffffffffff9");
  CHECK_OK(brook_data_new_integer(INT64_MIN, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_INTEGER, "-9223372036854775808", "038000000000000000");
  CHECK_OK(brook_data_new_real(1.5, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_REAL, "1.500000", "043ff8000000000000");
  CHECK_OK(brook_data_new_real(-0.0, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_REAL, "-0.000000", "048000000000000000");
  CHECK_OK(brook_data_new_real(NAN, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_REAL, "nan", "04ffffffffffffffff");
  CHECK_OK(brook_data_new_real(-INFINITY, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_REAL, "-inf", "047ff0000000000000");
  CHECK_OK(brook_data_new_string((const uint8_t *)"hello world", 11, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_STRING, "hello world", "050b68656c6c6f20776f726c64");
  /* Strings are bytes: NUL inside, invalid UTF-8, and the empty string from NULL. */
  CHECK_OK(brook_data_new_string((const uint8_t *)"a\0b", 3, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_STRING, "a\0b", "0503610062");
  CHECK_OK(brook_data_new_string((const uint8_t *)"\xc3(\xa0\xa1", 4, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_STRING, "\xc3(\xa0\xa1", "0504c328a0a1");
  CHECK_OK(brook_data_new_string(NULL, 0, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_STRING, "", "0500");
  CHECK_OK(brook_data_new_enum((const uint8_t *)"Conn::LOG", 9, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_ENUM, "Conn::LOG", "0b09436f6e6e3a3a4c4f47");
  CHECK_OK(brook_data_new_port(80, BROOK_PROTOCOL_TCP, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_PORT, "80/tcp", "08005001");
  CHECK_OK(brook_data_new_port(22, BROOK_PROTOCOL_UNKNOWN, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_PORT, "22/?", "08001600");
  CHECK_OK(brook_data_new_port(8, BROOK_PROTOCOL_ICMP, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_PORT, "8/icmp", "08000803");
  CHECK_OK(brook_data_new_timestamp(1681827194000000000, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_TIMESTAMP, "1681827194000000000ns", "0917570cec17f64400");
  CHECK_OK(brook_data_new_timespan(-1500000, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_TIMESPAN, "-1500000ns", "0affffffffffe91ca0");
}

static void test_addresses_and_subnets(void) {
  static const uint8_t v4[4] = {192, 168, 1, 10};
  static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  brook_data *d = NULL, *addr = NULL;
  uint8_t bytes[16] = {0};
  uint8_t prefix = 0;

  CHECK_OK(brook_data_new_address_v4(v4, &d));
  CHECK_OK(brook_data_get_address(d, bytes));
  CHECK(bytes[10] == 0xff && bytes[11] == 0xff && memcmp(bytes + 12, v4, 4) == 0);
  CHECK_VALUE(d, BROOK_DATA_TYPE_ADDRESS, "192.168.1.10", "0600000000000000000000ffffc0a8010a");
  CHECK_OK(brook_data_new_address_v6(v6, &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_ADDRESS, "2001:db8::1", "0620010db8000000000000000000000001");
  CHECK_OK(brook_data_new_address_from_string("fe80::1:2:3:4", &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_ADDRESS, "fe80::1:2:3:4",
              "06fe800000000000000001000200030004");
  CHECK_OK(brook_data_new_address_from_string("127.0.0.1", &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_ADDRESS, "127.0.0.1", "0600000000000000000000ffff7f000001");
  d = NULL;
  CHECK_STATUS(brook_data_new_address_from_string("300.1.1.1", &d),
               BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("300.1.1.1");
  CHECK(d == NULL);

  /* Subnets mask their address, and count the prefix in the address's own family. */
  CHECK_OK(brook_data_new_address_from_string("192.168.9.8", &addr));
  CHECK_OK(brook_data_new_subnet(addr, 24, &d));
  CHECK_OK(brook_data_get_subnet(d, bytes, &prefix));
  CHECK(prefix == 24 && bytes[15] == 0 && bytes[14] == 9);
  CHECK_VALUE(d, BROOK_DATA_TYPE_SUBNET, "192.168.9.0/24",
              "0700000000000000000000ffffc0a8090078");
  CHECK_STATUS(brook_data_new_subnet(addr, 33, &d), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("33");
  CHECK_STATUS(brook_data_new_subnet(addr, 0x100 + 24, &d), BROOK_STATUS_INVALID_ARGUMENT);
  brook_data_free(addr);
  addr = count(1);
  CHECK_STATUS(brook_data_new_subnet(addr, 8, &d), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_ERROR_HAS("address");
  brook_data_free(addr);
  CHECK_OK(brook_data_new_subnet_from_string("2001:db8::1/64", &d));
  CHECK_VALUE(d, BROOK_DATA_TYPE_SUBNET, "2001:db8::/64",
              "0720010db800000000000000000000000040");
  CHECK_STATUS(brook_data_new_subnet_from_string("10.0.0.0/33", &d),
               BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(brook_data_new_subnet_from_string("nonsense", &d), BROOK_STATUS_INVALID_ARGUMENT);
}

static void test_accessors(void) {
  brook_data *c = count(7), *s = string("xyz"), *d = NULL;
  uint64_t u = 777;
  int64_t i = 777;
  double r = 0;
  bool b = false;
  const uint8_t *buf = NULL;
  size_t len = 0;
  uint16_t number = 0;
  brook_protocol proto = BROOK_PROTOCOL_UNKNOWN;

  CHECK_OK(brook_data_get_count(c, &u));
  CHECK(u == 7);
  CHECK_OK(brook_data_get_string(s, &buf, &len));
  CHECK(len == 3 && memcmp(buf, "xyz", 3) == 0);

  /* The wrong type is a mismatch that names both types, and the out-param is untouched. */
  u = 777;
  CHECK_STATUS(brook_data_get_count(s, &u), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_ERROR_HAS("count");
  CHECK_ERROR_HAS("string");
  CHECK(u == 777);
  /* A count is not an integer: no silent conversions. */
  CHECK_STATUS(brook_data_get_integer(c, &i), BROOK_STATUS_TYPE_MISMATCH);
  CHECK(i == 777);
  CHECK_STATUS(brook_data_get_real(c, &r), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_STATUS(brook_data_get_bool(c, &b), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_STATUS(brook_data_get_string(c, &buf, &len), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_STATUS(brook_data_get_enum(s, &buf, &len), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_STATUS(brook_data_get_port(s, &number, &proto), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_STATUS(brook_data_get_timestamp(c, &i), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_STATUS(brook_data_get_timespan(c, &i), BROOK_STATUS_TYPE_MISMATCH);

  CHECK_OK(brook_data_new_bool(true, &d));
  CHECK_OK(brook_data_get_bool(d, &b));
  CHECK(b);
  brook_data_free(d);
  CHECK_OK(brook_data_new_integer(-3, &d));
  CHECK_OK(brook_data_get_integer(d, &i));
  CHECK(i == -3);
  brook_data_free(d);
  CHECK_OK(brook_data_new_real(2.25, &d));
  CHECK_OK(brook_data_get_real(d, &r));
  CHECK(r == 2.25);
  brook_data_free(d);
  CHECK_OK(brook_data_new_enum((const uint8_t *)"E::A", 4, &d));
  CHECK_OK(brook_data_get_enum(d, &buf, &len));
  CHECK(len == 4 && memcmp(buf, "E::A", 4) == 0);
  brook_data_free(d);
  CHECK_OK(brook_data_new_port(53, BROOK_PROTOCOL_UDP, &d));
  CHECK_OK(brook_data_get_port(d, &number, &proto));
  CHECK(number == 53 && proto == BROOK_PROTOCOL_UDP);
  brook_data_free(d);
  CHECK_OK(brook_data_new_timestamp(-1, &d));
  CHECK_OK(brook_data_get_timestamp(d, &i));
  CHECK(i == -1);
  brook_data_free(d);
  CHECK_OK(brook_data_new_timespan(5, &d));
  CHECK_OK(brook_data_get_timespan(d, &i));
  CHECK(i == 5);
  brook_data_free(d);

  /* Unknown enum values coming in are rejected. */
  d = NULL;
  CHECK_STATUS(brook_data_new_port(80, 4, &d), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("protocol");
  CHECK(d == NULL);

  brook_data_free(c);
  brook_data_free(s);
}

static void test_null_arguments(void) {
  brook_data *d = count(1), *out = NULL;
  uint8_t *buf = NULL;
  size_t len = 0;
  char *s = NULL;
  uint64_t u = 0;

  CHECK_STATUS(brook_data_new_count(1, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_data");
  CHECK_STATUS(brook_data_to_bytes(NULL, &buf, &len), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("d is NULL");
  CHECK_STATUS(brook_data_to_bytes(d, NULL, &len), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_data_to_bytes(d, &buf, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_data_from_bytes(NULL, 3, &out), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("buf");
  CHECK_STATUS(brook_data_from_json(NULL, &out), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_data_from_text(NULL, &out), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_data_to_json(NULL, &s), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_data_to_string(d, NULL, &len), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_data_get_count(NULL, &u), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_data_get_count(d, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_data_new_string(NULL, 1, &out), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_data_new_address_v4(NULL, &out), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_data_clone(NULL, &out), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_data_set_insert(NULL, d, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_event_new(NULL, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK(out == NULL && buf == NULL && s == NULL);
  CHECK(brook_data_get_type(NULL) == BROOK_DATA_TYPE_NONE);
  CHECK(brook_data_equal(NULL, NULL));
  CHECK(!brook_data_equal(d, NULL));
  brook_data_free(d);
}

static void test_last_error_lifetime(void) {
  brook_data *d = NULL;
  uint64_t u = 0;

  CHECK_STATUS(brook_data_get_count(NULL, &u), BROOK_STATUS_NULL_ARGUMENT);
  /* Calls without a status leave the message alone... */
  brook_data_free(NULL);
  CHECK(brook_data_get_type(NULL) == BROOK_DATA_TYPE_NONE);
  CHECK_ERROR_HAS("d is NULL");
  /* ...and the next status-returning call clears it on success. */
  CHECK_OK(brook_data_new_none(&d));
  CHECK(brook_last_error() == NULL);
  brook_data_free(d);
}

static void test_free_null(void) {
  brook_data_free(NULL);
  brook_event_free(NULL);
  brook_iter_free(NULL);
  brook_bytes_free(NULL, 0);
  brook_bytes_free(NULL, 5);
  brook_string_free(NULL);
  CHECK(1);
}

static void test_decode_errors(void) {
  static const uint8_t truncated[] = {0x02, 0x00, 0x00};
  static const uint8_t bad_tag[] = {0x0f};
  static const uint8_t trailing[] = {0x00, 0x00};
  static const uint8_t huge_vector[] = {0x0e, 0xff, 0xff, 0xff, 0xff, 0x0f};
  brook_data *d = NULL;

  CHECK_STATUS(brook_data_from_bytes(truncated, sizeof truncated, &d), BROOK_STATUS_DECODE_ERROR);
  CHECK_ERROR_HAS("offset 1");
  CHECK_STATUS(brook_data_from_bytes(bad_tag, sizeof bad_tag, &d), BROOK_STATUS_DECODE_ERROR);
  CHECK_ERROR_HAS("offset 0");
  CHECK_STATUS(brook_data_from_bytes(trailing, sizeof trailing, &d), BROOK_STATUS_DECODE_ERROR);
  CHECK_ERROR_HAS("offset");
  CHECK_STATUS(brook_data_from_bytes(huge_vector, sizeof huge_vector, &d),
               BROOK_STATUS_DECODE_ERROR);
  CHECK_STATUS(brook_data_from_bytes(NULL, 0, &d), BROOK_STATUS_DECODE_ERROR);
  CHECK(d == NULL);

  CHECK_STATUS(brook_data_from_json("{\"@data-type\":\"count\",\"data\":-1}", &d),
               BROOK_STATUS_DECODE_ERROR);
  CHECK_STATUS(brook_data_from_json("{\"@data-type\":\"count\"", &d), BROOK_STATUS_DECODE_ERROR);
  CHECK_ERROR_HAS("offset");
  CHECK_STATUS(brook_data_from_text("(1, 2", &d), BROOK_STATUS_DECODE_ERROR);
  CHECK_ERROR_HAS("offset");
  CHECK_STATUS(brook_data_from_text("\xff", &d), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK(d == NULL);
}

static void test_json_and_text(void) {
  brook_data *d = NULL, *back = NULL;
  char *json = NULL;

  CHECK_OK(brook_data_from_json("{\"@data-type\":\"count\",\"data\":42}", &d));
  CHECK(renders_as(d, "42"));
  CHECK_OK(brook_data_to_json(d, &json));
  CHECK(strcmp(json, "{\"@data-type\":\"count\",\"data\":42}") == 0);
  brook_string_free(json);
  brook_data_free(d);

  /* A NUL in a string travels as \u0000, so the JSON text has no NUL before its end. */
  CHECK_OK(brook_data_new_string((const uint8_t *)"a\0b", 3, &d));
  CHECK_OK(brook_data_to_json(d, &json));
  CHECK(strcmp(json, "{\"@data-type\":\"string\",\"data\":\"a\\u0000b\"}") == 0);
  CHECK_OK(brook_data_from_json(json, &back));
  CHECK(brook_data_equal(d, back));
  brook_string_free(json);
  brook_data_free(back);
  brook_data_free(d);

  CHECK_OK(brook_data_from_text(
      "(1, -2, 2.5, T, nil, \"a b\", 'Conn::LOG', 10.0.0.1, 10.1.0.0/16, 80/tcp, @5ns, 7ns, "
      "{2, 1}, {b -> 1, a -> 2})",
      &d));
  CHECK(brook_data_get_type(d) == BROOK_DATA_TYPE_VECTOR);
  CHECK(renders_as(d, "(1, -2, 2.500000, T, nil, a b, Conn::LOG, 10.0.0.1, 10.1.0.0/16, "
                      "80/tcp, 5ns, 7ns, {1, 2}, {a -> 2, b -> 1})"));
  brook_data_free(d);
}

static void test_containers(void) {
  brook_data *set = NULL, *table = NULL, *vec = NULL, *one = count(1), *two = count(2);
  brook_data *a = string("a"), *b = string("b"), *copy = NULL;
  const brook_data *elem = NULL, *value = NULL;
  bool inserted = false, contains = false, done = false;
  size_t len = 0;
  uint64_t u = 0;
  brook_iter *it = NULL;

  /* Sets: copies in, duplicates refused, Broker's order out. */
  CHECK_OK(brook_data_new_set(&set));
  CHECK_OK(brook_data_set_insert(set, two, &inserted));
  CHECK(inserted);
  CHECK_OK(brook_data_set_insert(set, one, &inserted));
  CHECK_OK(brook_data_set_insert(set, one, &inserted));
  CHECK(!inserted);
  CHECK_OK(brook_data_set_insert(set, a, NULL));
  CHECK_OK(brook_data_container_len(set, &len));
  CHECK(len == 3);
  CHECK_OK(brook_data_set_contains(set, two, &contains));
  CHECK(contains);
  CHECK_OK(brook_data_set_contains(set, b, &contains));
  CHECK(!contains);
  CHECK(renders_as(set, "{1, 2, a}"));
  CHECK_STATUS(brook_data_set_insert(one, two, NULL), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_ERROR_HAS("set");

  /* Tables: insert replaces; find borrows. */
  CHECK_OK(brook_data_new_table(&table));
  CHECK_OK(brook_data_table_insert(table, b, one));
  CHECK_OK(brook_data_table_insert(table, a, one));
  CHECK_OK(brook_data_table_insert(table, a, two));
  CHECK(renders_as(table, "{a -> 2, b -> 1}"));
  CHECK_OK(brook_data_table_find(table, a, &value));
  CHECK(value != NULL && brook_data_equal(value, two));
  CHECK_OK(brook_data_table_find(table, one, &value));
  CHECK(value == NULL);
  CHECK_STATUS(brook_data_table_insert(set, a, b), BROOK_STATUS_TYPE_MISMATCH);

  /* Vectors: push copies, get borrows, out of range is reported. */
  CHECK_OK(brook_data_new_vector(&vec));
  CHECK_OK(brook_data_vector_push(vec, one));
  CHECK_OK(brook_data_vector_push(vec, set));
  CHECK_OK(brook_data_vector_push(vec, table));
  CHECK_OK(brook_data_container_len(vec, &len));
  CHECK(len == 3);
  CHECK_OK(brook_data_vector_get(vec, 0, &elem));
  CHECK_OK(brook_data_get_count(elem, &u));
  CHECK(u == 1);
  CHECK_STATUS(brook_data_vector_get(vec, 3, &elem), BROOK_STATUS_OUT_OF_RANGE);
  CHECK_ERROR_HAS("3");
  /* An element pushed onto its own vector is copied before the vector changes. */
  CHECK_OK(brook_data_vector_get(vec, 0, &elem));
  CHECK_OK(brook_data_vector_push(vec, elem));
  CHECK_OK(brook_data_vector_push(vec, vec));
  CHECK(renders_as(vec, "(1, {1, 2, a}, {a -> 2, b -> 1}, 1, (1, {1, 2, a}, {a -> 2, b -> 1}, 1))"));
  CHECK_STATUS(brook_data_container_len(one, &len), BROOK_STATUS_TYPE_MISMATCH);

  /* Copies are deep and independent. */
  CHECK_OK(brook_data_clone(set, &copy));
  CHECK_OK(brook_data_set_insert(copy, b, NULL));
  CHECK(renders_as(set, "{1, 2, a}"));
  CHECK(renders_as(copy, "{1, 2, a, b}"));

  /* Iteration: sets and table keys in Broker's order, vectors in order. */
  CHECK_OK(brook_data_iter_new(copy, &it));
  {
    const char *want[] = {"1", "2", "a", "b"};
    size_t n = 0;
    for (;;) {
      if (!CHECK_OK(brook_iter_next(it, &elem, &value, &done)) || done) {
        break;
      }
      CHECK(value == NULL);
      CHECK(n < 4 && renders_as(elem, want[n]));
      n++;
    }
    CHECK(n == 4 && elem == NULL);
    /* Stepping past the end stays at the end. */
    CHECK_OK(brook_iter_next(it, &elem, NULL, &done));
    CHECK(done && elem == NULL);
  }
  brook_iter_free(it);
  CHECK_OK(brook_data_iter_new(table, &it));
  {
    size_t n = 0;
    while (CHECK_OK(brook_iter_next(it, &elem, &value, &done)) && !done) {
      CHECK(renders_as(elem, n == 0 ? "a" : "b"));
      CHECK(renders_as(value, n == 0 ? "2" : "1"));
      n++;
    }
    CHECK(n == 2);
  }
  brook_iter_free(it);
  CHECK_OK(brook_data_iter_new(vec, &it));
  {
    size_t n = 0;
    while (CHECK_OK(brook_iter_next(it, &elem, NULL, &done)) && !done) {
      n++;
    }
    CHECK(n == 5);
  }
  brook_iter_free(it);
  it = NULL;
  CHECK_STATUS(brook_data_iter_new(a, &it), BROOK_STATUS_TYPE_MISMATCH);
  CHECK(it == NULL);

  brook_data_free(copy);
  brook_data_free(vec);
  brook_data_free(table);
  brook_data_free(set);
  brook_data_free(a);
  brook_data_free(b);
  brook_data_free(one);
  brook_data_free(two);
}

static void test_order(void) {
  brook_data *one = count(1), *two = count(2), *s = string("1"), *nan1 = NULL, *nan2 = NULL;
  brook_data *inf = NULL;
  int order = 5;

  CHECK_OK(brook_data_compare(one, two, &order));
  CHECK(order == -1);
  CHECK_OK(brook_data_compare(two, one, &order));
  CHECK(order == 1);
  CHECK_OK(brook_data_compare(one, one, &order));
  CHECK(order == 0);
  /* Across types, the type tag decides: count (2) sorts before string (5). */
  CHECK_OK(brook_data_compare(s, one, &order));
  CHECK(order == 1);
  CHECK(!brook_data_equal(one, s));
  /* NaN equals NaN and sorts after every other real. */
  CHECK_OK(brook_data_new_real(NAN, &nan1));
  CHECK_OK(brook_data_new_real(-NAN, &nan2));
  CHECK_OK(brook_data_new_real(INFINITY, &inf));
  CHECK(brook_data_equal(nan1, nan2));
  CHECK_OK(brook_data_compare(nan1, inf, &order));
  CHECK(order == 1);
  CHECK_STATUS(brook_data_compare(one, NULL, &order), BROOK_STATUS_NULL_ARGUMENT);
  brook_data_free(inf);
  brook_data_free(nan2);
  brook_data_free(nan1);
  brook_data_free(s);
  brook_data_free(two);
  brook_data_free(one);
}

/* The Zeek event event_1(42, "test"), as Broker builds it (zeek-messages.tsv). */
static const char EVENT_1_HEX[] =
    "0e030200000000000000010200000000000000010e0205076576656e745f310e0203000000000000002a"
    "050474657374";
/* The same with network timestamp 2023-04-18T14:13:14Z (event-netts). */
static const char EVENT_1_NETTS_HEX[] =
    "0e030200000000000000010200000000000000010e0305076576656e745f310e0203000000000000002a"
    "0504746573740e010e020200000000000000010917570cec17f64400";

static void test_events(void) {
  brook_event *ev = NULL, *back = NULL;
  brook_data *i42 = NULL, *test = string("test"), *d = NULL, *wrong = NULL;
  const brook_data *arg = NULL;
  const char *name = NULL;
  size_t n = 0, len = 0;
  int64_t ts = 0, i = 0;
  bool present = true;
  uint8_t *buf = NULL;
  char hex[512];

  CHECK_OK(brook_data_new_integer(42, &i42));
  CHECK_OK(brook_event_new("event_1", &ev));
  CHECK_OK(brook_event_add_arg(ev, i42));
  CHECK_OK(brook_event_add_arg(ev, test));
  CHECK_OK(brook_event_name(ev, &name));
  CHECK(strcmp(name, "event_1") == 0);
  CHECK_OK(brook_event_arg_count(ev, &n));
  CHECK(n == 2);
  CHECK_OK(brook_event_network_timestamp(ev, &ts, &present));
  CHECK(!present && ts == 0);

  CHECK_OK(brook_event_to_data(ev, &d));
  CHECK(renders_as(d, "(1, 1, (event_1, (42, test)))"));
  CHECK_OK(brook_data_to_bytes(d, &buf, &len));
  to_hex(buf, len, hex);
  CHECK(strcmp(hex, EVENT_1_HEX) == 0);
  brook_bytes_free(buf, len);
  brook_data_free(d);

  CHECK_OK(brook_event_set_network_timestamp(ev, 1681827194000000000));
  CHECK_OK(brook_event_network_timestamp(ev, &ts, &present));
  CHECK(present && ts == 1681827194000000000);
  CHECK_OK(brook_event_to_data(ev, &d));
  CHECK_OK(brook_data_to_bytes(d, &buf, &len));
  to_hex(buf, len, hex);
  CHECK(strcmp(hex, EVENT_1_NETTS_HEX) == 0);
  brook_bytes_free(buf, len);

  /* ...and back: what a receiver of those bytes sees. */
  CHECK_OK(brook_event_from_data(d, &back));
  CHECK_OK(brook_event_name(back, &name));
  CHECK(strcmp(name, "event_1") == 0);
  CHECK_OK(brook_event_arg(back, 0, &arg));
  CHECK_OK(brook_data_get_integer(arg, &i));
  CHECK(i == 42);
  CHECK_OK(brook_event_arg(back, 1, &arg));
  CHECK(brook_data_equal(arg, test));
  CHECK_STATUS(brook_event_arg(back, 2, &arg), BROOK_STATUS_OUT_OF_RANGE);
  CHECK_OK(brook_event_network_timestamp(back, &ts, NULL));
  CHECK(ts == 1681827194000000000);
  brook_event_free(back);
  brook_data_free(d);

  /* Values that are not events are a mismatch that says why. */
  back = NULL;
  CHECK_STATUS(brook_event_from_data(test, &back), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_ERROR_HAS("vector");
  CHECK_OK(brook_data_from_text("(1, 1, (7, ()))", &wrong));
  CHECK_STATUS(brook_event_from_data(wrong, &back), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_ERROR_HAS("event name");
  brook_data_free(wrong);
  CHECK_OK(brook_data_from_text("(1, 4, (x, 1))", &wrong));
  CHECK_STATUS(brook_event_from_data(wrong, &back), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_ERROR_HAS("not an event");
  brook_data_free(wrong);
  CHECK(back == NULL);
  CHECK_STATUS(brook_event_new("\xff", &back), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("UTF-8");

  brook_event_free(ev);
  brook_data_free(test);
  brook_data_free(i42);
}

int main(void) {
  test_version();
  test_status_str();
  test_scalars();
  test_addresses_and_subnets();
  test_accessors();
  test_null_arguments();
  test_last_error_lifetime();
  test_free_null();
  test_decode_errors();
  test_json_and_text();
  test_containers();
  test_order();
  test_events();
  return harness_finish();
}
