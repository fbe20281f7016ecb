/*
 * brook's C API for data stores: a master and a clone on two endpoints peering over
 * 127.0.0.1, every operation from both sides with its result and its error statuses,
 * put_unique both ways, expiry, MASTER_EXISTS; one store shared by two threads; the clone
 * options at work; an SQLite master reopened with its data, and corrupt files under both
 * failure modes; the proxy with its fd in poll(); then NULL arguments, free(NULL), and
 * calls after shutdown, including one another thread is waiting in. Every wait has a
 * timeout; nothing sleeps to let something happen.
 */
#define _XOPEN_SOURCE 700

#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* ---- helpers ------------------------------------------------------------------------ */

/* Values made by D(), freed together by free_values(). */
static brook_data *values[512];
static size_t n_values;

/* A value in brook's text form (`1` a count, `k` a string, `{1, 2}` a set, ...), owned by
 * the pool. */
static const brook_data *D(const char *text) {
  brook_data *d = NULL;
  if (!CHECK_OK(brook_data_from_text(text, &d))) {
    return NULL;
  }
  if (n_values == sizeof values / sizeof values[0]) {
    CHECK(!"the value pool is full");
    brook_data_free(d);
    return NULL;
  }
  values[n_values++] = d;
  return d;
}

static void free_values(void) {
  while (n_values > 0) {
    brook_data_free(values[--n_values]);
  }
}

/* True if `got` equals the value whose text is `want`; says what it got if not. */
static int same(const brook_data *got, const char *want) {
  brook_data *w = NULL;
  char *text = NULL;
  size_t len = 0;
  int ok;
  if (got == NULL || brook_data_from_text(want, &w) != BROOK_STATUS_OK) {
    return 0;
  }
  ok = brook_data_equal(got, w);
  if (!ok && brook_data_to_string(got, &text, &len) == BROOK_STATUS_OK) {
    fprintf(stderr, "  got %s, expected %s\n", text, want);
    brook_string_free(text);
  }
  brook_data_free(w);
  return ok;
}

/* Checks that the store's value at `key` is `want`, now. */
static int get_is(const brook_store *st, const char *key, const char *want) {
  brook_data *v = NULL;
  int ok;
  if (!CHECK_OK(brook_store_get(st, D(key), &v))) {
    return 0;
  }
  ok = CHECK(same(v, want));
  brook_data_free(v);
  return ok;
}

/* Checks that brook_store_get_index_from_value(key, index) gives `want`. */
static int index_is(const brook_store *st, const char *key, const char *index,
                    const char *want) {
  brook_data *v = NULL;
  int ok;
  if (!CHECK_OK(brook_store_get_index_from_value(st, D(key), D(index), &v))) {
    return 0;
  }
  ok = CHECK(same(v, want));
  brook_data_free(v);
  return ok;
}

/* True once the store's value at `key` is `want` (a clone catching up); polls for WAIT_MS. */
static int eventually_is(const brook_store *st, const char *key, const char *want) {
  const brook_data *k = D(key), *w = D(want);
  int64_t deadline = now_ms() + WAIT_MS;
  do {
    brook_data *v = NULL;
    if (brook_store_get(st, k, &v) == BROOK_STATUS_OK) {
      int eq = brook_data_equal(v, w);
      brook_data_free(v);
      if (eq) {
        return 1;
      }
    }
    pause_briefly();
  } while (now_ms() < deadline);
  return 0;
}

/* True once the store has no value at `key`; polls for WAIT_MS. */
static int eventually_absent(const brook_store *st, const char *key) {
  const brook_data *k = D(key);
  int64_t deadline = now_ms() + WAIT_MS;
  do {
    bool exists = true;
    if (brook_store_exists(st, k, &exists) == BROOK_STATUS_OK && !exists) {
      return 1;
    }
    pause_briefly();
  } while (now_ms() < deadline);
  return 0;
}

/* True once a read of `key` at `st` returns `status`; polls for WAIT_MS. */
static int eventually_status(const brook_store *st, const char *key, brook_status status) {
  const brook_data *k = D(key);
  int64_t deadline = now_ms() + WAIT_MS;
  do {
    brook_data *v = NULL;
    brook_status s = brook_store_get(st, k, &v);
    brook_data_free(v);
    if (s == status) {
      return 1;
    }
    pause_briefly();
  } while (now_ms() < deadline);
  return 0;
}

static int exists(const brook_store *st, const char *key) {
  bool e = false;
  CHECK_OK(brook_store_exists(st, D(key), &e));
  return e;
}

static size_t n_keys(const brook_store *st) {
  brook_data *keys = NULL;
  size_t n = (size_t)-1;
  if (CHECK_OK(brook_store_keys(st, &keys))) {
    CHECK(brook_data_get_type(keys) == BROOK_DATA_TYPE_SET);
    CHECK_OK(brook_data_container_len(keys, &n));
  }
  brook_data_free(keys);
  return n;
}

/* A master of `name` in memory on a new endpoint listening on 127.0.0.1, and a clone of it
 * on a second endpoint peered with the first. */
static int master_and_clone(const char *name, brook_endpoint **a, brook_store **master,
                            brook_endpoint **b, brook_store **clone) {
  uint16_t port = 0;
  return CHECK_OK(brook_endpoint_new(NULL, a)) &&
         CHECK_OK(brook_endpoint_attach_master(*a, name, BROOK_BACKEND_MEMORY, NULL, master)) &&
         CHECK_OK(brook_endpoint_listen(*a, "127.0.0.1", 0, &port)) &&
         CHECK_OK(brook_endpoint_new(NULL, b)) &&
         CHECK_OK(brook_endpoint_peer(*b, "127.0.0.1", port, 0, NULL)) &&
         CHECK_OK(brook_endpoint_attach_clone(*b, name, clone));
}

/* ---- a master and a clone ----------------------------------------------------------- */

static void test_master_and_clone(void) {
  brook_endpoint *a = NULL, *b = NULL, *third = NULL;
  brook_store *m = NULL, *c = NULL, *extra = NULL;
  const uint8_t *name = NULL;
  size_t len = 0;
  uint16_t port = 0;
  bool inserted = false;

  if (!master_and_clone("test/c", &a, &m, &b, &c)) {
    goto out;
  }
  CHECK_OK(brook_store_name(c, &name, &len));
  CHECK(len == 6 && memcmp(name, "test/c", 6) == 0);

  /* A put on the master, read back on the clone. */
  CHECK_OK(brook_store_put(m, D("k"), D("1"), -1));
  CHECK(eventually_is(c, "k", "1"));
  CHECK(exists(c, "k"));
  CHECK(!exists(c, "nothing"));
  CHECK(exists(m, "k"));

  /* A missing key at either side. */
  brook_data *v = NULL;
  CHECK_STATUS(brook_store_get(m, D("nothing"), &v), BROOK_STATUS_NO_SUCH_KEY);
  CHECK_ERROR_HAS("no key");
  CHECK_STATUS(brook_store_get(c, D("nothing"), &v), BROOK_STATUS_NO_SUCH_KEY);
  CHECK_ERROR_HAS("no key");
  CHECK(v == NULL); /* out-parameters stay untouched on failure */

  /* A write at the clone goes through the master; the clone reads its own writes. */
  CHECK_OK(brook_store_put(c, D("from-clone"), D("x"), -1));
  get_is(c, "from-clone", "x");
  CHECK(eventually_is(m, "from-clone", "x"));

  /* A counter incremented from both sides. */
  for (int i = 0; i < 3; i++) {
    CHECK_OK(brook_store_increment(m, D("n"), D("1"), -1));
    CHECK_OK(brook_store_increment(c, D("n"), D("1"), -1));
  }
  CHECK_OK(brook_store_await_idle(c));
  CHECK_OK(brook_store_await_idle(m));
  CHECK(eventually_is(m, "n", "6"));
  CHECK(eventually_is(c, "n", "6"));
  CHECK_OK(brook_store_decrement(c, D("n"), D("2"), -1));
  get_is(c, "n", "4");
  CHECK(eventually_is(m, "n", "4"));

  /* Errors of writes, at the master and inferred by the clone. */
  CHECK_STATUS(brook_store_decrement(m, D("nothing"), D("1"), -1), BROOK_STATUS_NO_SUCH_KEY);
  CHECK_ERROR_HAS("no key");
  CHECK_STATUS(brook_store_decrement(c, D("nothing"), D("1"), -1), BROOK_STATUS_NO_SUCH_KEY);
  CHECK_OK(brook_store_put(m, D("s"), D("ab"), -1));
  CHECK_STATUS(brook_store_increment(m, D("s"), D("1"), -1), BROOK_STATUS_TYPE_CLASH);
  CHECK_ERROR_HAS("cannot add");
  CHECK(eventually_is(c, "s", "ab"));
  CHECK_STATUS(brook_store_increment(c, D("s"), D("1"), -1), BROOK_STATUS_TYPE_CLASH);
  CHECK_STATUS(brook_store_increment(m, D("n"), D("-1"), -1), BROOK_STATUS_TYPE_CLASH);
  CHECK_ERROR_HAS("cannot add an integer to a count");
  CHECK_STATUS(brook_store_push(m, D("s"), D("1"), -1), BROOK_STATUS_TYPE_CLASH);
  CHECK_STATUS(brook_store_insert_into(c, D("s"), D("1"), NULL, -1), BROOK_STATUS_TYPE_CLASH);
  CHECK_STATUS(brook_store_remove_from(m, D("nothing"), D("1"), -1), BROOK_STATUS_NO_SUCH_KEY);
  CHECK_STATUS(brook_store_pop(c, D("nothing"), -1), BROOK_STATUS_NO_SUCH_KEY);
  get_is(m, "s", "ab"); /* unchanged */

  /* append */
  CHECK_OK(brook_store_append(c, D("s"), D("cd"), -1));
  get_is(c, "s", "abcd");
  CHECK_OK(brook_store_append(m, D("new-s"), D("x"), -1));
  get_is(m, "new-s", "x");

  /* insert_into and remove_from on a set; get_index_from_value on it */
  CHECK_OK(brook_store_insert_into(c, D("set"), D("1"), NULL, -1));
  CHECK_OK(brook_store_insert_into(c, D("set"), D("2"), NULL, -1));
  get_is(c, "set", "{1, 2}");
  index_is(c, "set", "1", "T");
  index_is(c, "set", "3", "F");
  CHECK_OK(brook_store_remove_from(c, D("set"), D("1"), -1));
  get_is(c, "set", "{2}");
  CHECK(eventually_is(m, "set", "{2}"));

  /* ... on a table */
  CHECK_OK(brook_store_insert_into(m, D("tab"), D("a"), D("1"), -1));
  CHECK_OK(brook_store_insert_into(m, D("tab"), D("b"), D("2"), -1));
  index_is(m, "tab", "a", "1");
  CHECK_STATUS(brook_store_get_index_from_value(m, D("tab"), D("z"), &v),
               BROOK_STATUS_NO_SUCH_KEY);
  CHECK_ERROR_HAS("no key");
  CHECK_OK(brook_store_remove_from(m, D("tab"), D("a"), -1));
  get_is(m, "tab", "{b -> 2}");
  CHECK(eventually_is(c, "tab", "{b -> 2}"));

  /* ... and push, pop and get_index_from_value on a vector */
  CHECK_OK(brook_store_push(m, D("vec"), D("1"), -1));
  CHECK_OK(brook_store_push(c, D("vec"), D("2"), -1));
  CHECK_OK(brook_store_push(m, D("vec"), D("3"), -1));
  get_is(m, "vec", "(1, 2, 3)");
  index_is(m, "vec", "1", "2");
  CHECK_STATUS(brook_store_get_index_from_value(m, D("vec"), D("5"), &v),
               BROOK_STATUS_NO_SUCH_KEY);
  CHECK_STATUS(brook_store_get_index_from_value(m, D("vec"), D("x"), &v),
               BROOK_STATUS_TYPE_CLASH);
  CHECK_ERROR_HAS("indexed by a count");
  CHECK_OK(brook_store_pop(c, D("vec"), -1));
  get_is(c, "vec", "(1, 2)");
  CHECK(eventually_is(m, "vec", "(1, 2)"));
  CHECK(v == NULL);

  /* put_unique, both ways, from both sides: the master decides. */
  CHECK_OK(brook_store_put_unique(c, D("u"), D("1"), -1, &inserted));
  CHECK(inserted);
  CHECK_OK(brook_store_put_unique(c, D("u"), D("2"), -1, &inserted));
  CHECK(!inserted);
  CHECK_OK(brook_store_put_unique(m, D("u"), D("3"), -1, &inserted));
  CHECK(!inserted);
  CHECK_OK(brook_store_put_unique(m, D("u2"), D("4"), -1, &inserted));
  CHECK(inserted);
  get_is(m, "u", "1");
  CHECK(eventually_is(c, "u2", "4"));

  /* keys: k from-clone n s new-s set tab vec u u2 */
  CHECK(n_keys(m) == 10);
  CHECK(n_keys(c) == 10); /* u2 came last */

  /* erase: a missing key is fine */
  CHECK_OK(brook_store_erase(c, D("k")));
  CHECK(!exists(c, "k"));
  CHECK(eventually_absent(m, "k"));
  CHECK_OK(brook_store_erase(m, D("k")));

  /* Expiry, applied by the master and seen by the clone; -1 never expires. */
  CHECK_OK(brook_store_put(m, D("short"), D("lived"), 300));
  CHECK_OK(brook_store_put(m, D("long"), D("lived"), -1));
  CHECK_OK(brook_store_increment(c, D("short-n"), D("1"), 300));
  CHECK(eventually_is(c, "short", "lived"));
  CHECK(eventually_absent(m, "short"));
  CHECK(eventually_absent(c, "short"));
  CHECK(eventually_absent(m, "short-n"));
  CHECK(eventually_absent(c, "short-n"));
  CHECK(exists(m, "long"));
  CHECK(exists(c, "long"));

  /* clear, from the clone */
  CHECK_OK(brook_store_clear(c));
  CHECK(n_keys(c) == 0);
  CHECK(eventually_absent(m, "long"));
  CHECK(n_keys(m) == 0);

  /* The timeout of blocking calls. */
  CHECK_STATUS(brook_store_set_timeout_ms(c, 0), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("at least 1 ms");
  CHECK_OK(brook_store_set_timeout_ms(c, 10000));

  /* One master per store: not beside the master or a clone, nor where a peer has one. */
  CHECK_STATUS(brook_endpoint_attach_master(a, "test/c", BROOK_BACKEND_MEMORY, NULL, &extra),
               BROOK_STATUS_MASTER_EXISTS);
  CHECK_ERROR_HAS("test/c");
  CHECK_STATUS(brook_endpoint_attach_clone(a, "test/c", &extra), BROOK_STATUS_MASTER_EXISTS);
  CHECK_STATUS(brook_endpoint_attach_master(b, "test/c", BROOK_BACKEND_MEMORY, NULL, &extra),
               BROOK_STATUS_MASTER_EXISTS);
  CHECK_ERROR_HAS("already has a master or clone here");
  if (CHECK_OK(brook_endpoint_new(NULL, &third)) &&
      CHECK_OK(brook_endpoint_listen(a, "127.0.0.1", 0, &port)) &&
      CHECK_OK(brook_endpoint_peer(third, "127.0.0.1", port, 0, NULL))) {
    CHECK_STATUS(
        brook_endpoint_attach_master(third, "test/c", BROOK_BACKEND_MEMORY, NULL, &extra),
        BROOK_STATUS_MASTER_EXISTS);
    CHECK_ERROR_HAS("a peer already has a master for store test/c");
  }
  CHECK(extra == NULL);

out:
  brook_store_free(c);
  brook_store_free(m);
  brook_endpoint_free(third);
  brook_endpoint_free(b);
  brook_endpoint_free(a);
  free_values();
}

/* ---- one store, two threads --------------------------------------------------------- */

#define THREAD_INCREMENTS 200

static void *increment_many(void *arg) {
  brook_store *st = arg;
  brook_data *key = NULL, *one = NULL;
  brook_status s = brook_data_new_string((const uint8_t *)"n", 1, &key);
  if (s == BROOK_STATUS_OK) {
    s = brook_data_new_count(1, &one);
  }
  for (int i = 0; i < THREAD_INCREMENTS && s == BROOK_STATUS_OK; i++) {
    s = brook_store_increment(st, key, one, -1);
  }
  brook_data_free(one);
  brook_data_free(key);
  return (void *)(intptr_t)s;
}

static void test_threads(void) {
  brook_endpoint *a = NULL, *b = NULL;
  brook_store *m = NULL, *c = NULL;
  pthread_t t1, t2;
  void *r1 = NULL, *r2 = NULL;

  /* One handle, the clone, shared by two threads; and the master's from this one. */
  if (!master_and_clone("test/threads", &a, &m, &b, &c)) {
    goto out;
  }
  CHECK(pthread_create(&t1, NULL, increment_many, c) == 0);
  CHECK(pthread_create(&t2, NULL, increment_many, c) == 0);
  for (int i = 0; i < THREAD_INCREMENTS; i++) {
    CHECK_OK(brook_store_increment(m, D("n"), D("1"), -1));
  }
  CHECK(pthread_join(t1, &r1) == 0);
  CHECK(pthread_join(t2, &r2) == 0);
  CHECK((brook_status)(intptr_t)r1 == BROOK_STATUS_OK);
  CHECK((brook_status)(intptr_t)r2 == BROOK_STATUS_OK);
  CHECK(eventually_is(m, "n", "600"));
  CHECK(eventually_is(c, "n", "600"));

out:
  brook_store_free(c);
  brook_store_free(m);
  brook_endpoint_free(b);
  brook_endpoint_free(a);
  free_values();
}

/* ---- clone options ------------------------------------------------------------------ */

static void test_clone_options(void) {
  brook_endpoint *lone = NULL, *a = NULL, *b = NULL, *c = NULL;
  brook_clone_options *quick = NULL, *stale0 = NULL, *never = NULL;
  brook_store *lonely = NULL, *m = NULL, *c0 = NULL, *cn = NULL;
  brook_data *v = NULL;
  uint16_t port = 0;
  int64_t t0;

  CHECK_OK(brook_clone_options_new(&quick));
  CHECK_OK(brook_clone_options_set_max_get_delay_ms(quick, 200));
  CHECK_OK(brook_clone_options_set_mutation_buffer_interval_ms(quick, 0));
  CHECK_OK(brook_clone_options_set_resync_interval_ms(quick, 100));

  /* A clone without a master: reads wait max_get_delay for a copy, then say it is stale;
   * writes fail at once with a zero mutation buffer. */
  CHECK_OK(brook_endpoint_new(NULL, &lone));
  if (!CHECK_OK(brook_endpoint_attach_clone_with(lone, "test/lonely", quick, &lonely))) {
    goto out;
  }
  brook_clone_options_free(quick); /* the clone keeps its own copy */
  quick = NULL;
  t0 = now_ms();
  CHECK_STATUS(brook_store_get(lonely, D("x"), &v), BROOK_STATUS_STALE_DATA);
  CHECK(now_ms() - t0 >= 150 && now_ms() - t0 < WAIT_MS);
  t0 = now_ms();
  CHECK_STATUS(brook_store_put(lonely, D("x"), D("1"), -1), BROOK_STATUS_NO_SUCH_MASTER);
  CHECK(now_ms() - t0 < 1000);

  /* Two clones that lose their master: one stale at once, one never. */
  CHECK_OK(brook_clone_options_new(&stale0));
  CHECK_OK(brook_clone_options_set_stale_interval_ms(stale0, 0));
  CHECK_OK(brook_clone_options_new(&never));
  CHECK_OK(brook_clone_options_set_stale_interval_ms(never, -1));
  CHECK_OK(brook_endpoint_new(NULL, &a));
  CHECK_OK(brook_endpoint_attach_master(a, "test/stale", BROOK_BACKEND_MEMORY, NULL, &m));
  CHECK_OK(brook_endpoint_listen(a, "127.0.0.1", 0, &port));
  CHECK_OK(brook_endpoint_new(NULL, &b));
  CHECK_OK(brook_endpoint_peer(b, "127.0.0.1", port, 0, NULL));
  CHECK_OK(brook_endpoint_attach_clone_with(b, "test/stale", stale0, &c0));
  CHECK_OK(brook_endpoint_new(NULL, &c));
  CHECK_OK(brook_endpoint_peer(c, "127.0.0.1", port, 0, NULL));
  CHECK_OK(brook_endpoint_attach_clone_with(c, "test/stale", never, &cn));
  CHECK_OK(brook_store_put(m, D("x"), D("1"), -1));
  CHECK(eventually_is(c0, "x", "1"));
  CHECK(eventually_is(cn, "x", "1"));
  CHECK_OK(brook_endpoint_shutdown(a));
  CHECK(eventually_status(c0, "x", BROOK_STATUS_STALE_DATA));
  get_is(cn, "x", "1");
  CHECK_STATUS(brook_store_get(c0, D("x"), &v), BROOK_STATUS_STALE_DATA);
  CHECK(v == NULL);

out:
  brook_store_free(cn);
  brook_store_free(c0);
  brook_store_free(m);
  brook_store_free(lonely);
  brook_endpoint_free(c);
  brook_endpoint_free(b);
  brook_endpoint_free(a);
  brook_endpoint_free(lone);
  brook_clone_options_free(never);
  brook_clone_options_free(stale0);
  brook_clone_options_free(quick);
  free_values();
}

/* ---- SQLite ------------------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static int write_file(const char *path, const char *text, int copies) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    return 0;
  }
  for (int i = 0; i < copies; i++) {
    fputs(text, f);
  }
  return fclose(f) == 0;
}

static void test_sqlite(void) {
  char dir[] = "/tmp/brook-test-store-XXXXXX";
  char path[128], bad[128];
  brook_sqlite_options *opts = NULL, *bad_opts = NULL;
  brook_endpoint *ep = NULL;
  brook_store *st = NULL, *extra = NULL;

  if (!CHECK(mkdtemp(dir) != NULL)) {
    return;
  }
  /* The directory "sub" does not exist yet: attaching creates it. */
  snprintf(path, sizeof path, "%s/sub/store.sqlite", dir);
  snprintf(bad, sizeof bad, "%s/bad.sqlite", dir);

  CHECK_STATUS(brook_sqlite_options_new("", &opts), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("path is empty");
  if (!CHECK_OK(brook_sqlite_options_new(path, &opts))) {
    goto out;
  }
  CHECK_OK(brook_sqlite_options_set_synchronous(opts, BROOK_SQLITE_SYNCHRONOUS_NORMAL));
  CHECK_OK(brook_sqlite_options_set_journal_mode(opts, BROOK_SQLITE_JOURNAL_MODE_WAL));
  CHECK_OK(brook_sqlite_options_set_failure_mode(opts, BROOK_SQLITE_FAILURE_MODE_FAIL));
  CHECK_OK(brook_sqlite_options_set_integrity_check(opts, true));
  CHECK_STATUS(brook_sqlite_options_set_synchronous(opts, 4), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("unknown value 4");
  CHECK_STATUS(brook_sqlite_options_set_journal_mode(opts, 2), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(brook_sqlite_options_set_failure_mode(opts, 99), BROOK_STATUS_INVALID_ARGUMENT);

  CHECK_OK(brook_endpoint_new(NULL, &ep));
  CHECK_STATUS(brook_endpoint_attach_master(ep, "test/db", BROOK_BACKEND_SQLITE, NULL, &st),
               BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("options is NULL");
  CHECK_STATUS(brook_endpoint_attach_master(ep, "test/db", BROOK_BACKEND_MEMORY, opts, &st),
               BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("memory");
  CHECK_STATUS(brook_endpoint_attach_master(ep, "test/db", 2, NULL, &st),
               BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("backend: unknown value 2");

  /* Write, then let the endpoint go: its stores close their files. */
  if (!CHECK_OK(brook_endpoint_attach_master(ep, "test/db", BROOK_BACKEND_SQLITE, opts, &st))) {
    goto out;
  }
  CHECK(access(path, F_OK) == 0);
  CHECK_OK(brook_store_put(st, D("a"), D("1"), -1));
  CHECK_OK(brook_store_increment(st, D("a"), D("1"), -1));
  CHECK_OK(brook_store_put(st, D("b"), D("two"), -1));
  CHECK_OK(brook_store_push(st, D("v"), D("1.5"), -1));
  CHECK_OK(brook_store_put(st, D("later"), D("T"), 3600 * 1000));
  CHECK_OK(brook_store_put(st, D("erased"), D("T"), -1));
  CHECK_OK(brook_store_erase(st, D("erased")));
  brook_store_free(st);
  st = NULL;
  brook_endpoint_free(ep);
  ep = NULL;

  /* The same file on a new endpoint serves the same data, expiries included. */
  CHECK_OK(brook_endpoint_new(NULL, &ep));
  if (!CHECK_OK(brook_endpoint_attach_master(ep, "test/db", BROOK_BACKEND_SQLITE, opts, &st))) {
    goto out;
  }
  get_is(st, "a", "2");
  get_is(st, "b", "two");
  get_is(st, "v", "(1.5)");
  CHECK(exists(st, "later"));
  CHECK(!exists(st, "erased"));
  CHECK(n_keys(st) == 4);

  /* A file that is not SQLite: refused under FAIL, replaced under DELETE. */
  CHECK(write_file(bad, "this is not an SQLite database\n", 200));
  CHECK_OK(brook_sqlite_options_new(bad, &bad_opts));
  CHECK_STATUS(
      brook_endpoint_attach_master(ep, "test/bad", BROOK_BACKEND_SQLITE, bad_opts, &extra),
      BROOK_STATUS_BACKEND_FAILURE);
  CHECK_ERROR_HAS("bad.sqlite");
  CHECK(extra == NULL);
  CHECK_OK(brook_sqlite_options_set_failure_mode(bad_opts, BROOK_SQLITE_FAILURE_MODE_DELETE));
  if (CHECK_OK(
          brook_endpoint_attach_master(ep, "test/bad", BROOK_BACKEND_SQLITE, bad_opts, &extra))) {
    CHECK(n_keys(extra) == 0);
    CHECK_OK(brook_store_put(extra, D("fresh"), D("1"), -1));
    get_is(extra, "fresh", "1");
  }

out:
  brook_store_free(extra);
  brook_store_free(st);
  brook_endpoint_free(ep);
  brook_sqlite_options_free(bad_opts);
  brook_sqlite_options_free(opts);
  nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
  free_values();
}

/* ---- the proxy ---------------------------------------------------------------------- */

enum { P_PUT, P_GET, P_GET_MISSING, P_PUT_S, P_CLASH, P_EXISTS, P_KEYS, P_UNIQUE, P_INDEX,
       P_INSERT, P_APPEND, P_PUSH, P_POP, P_DECREMENT_MISSING, P_ERASE, P_REMOVE,
       P_IDLE, P_COUNT };

static void test_proxy(void) {
  brook_endpoint *ep = NULL;
  brook_store *st = NULL;
  brook_store_proxy *p = NULL;
  brook_store_response *r = NULL;
  uint64_t ids[P_COUNT] = {0};
  int answered[P_COUNT] = {0};
  int n_answered = 0, fd = -1;
  int64_t deadline;

  CHECK_OK(brook_endpoint_new(NULL, &ep));
  if (!CHECK_OK(brook_endpoint_attach_master(ep, "test/proxy", BROOK_BACKEND_MEMORY, NULL, &st)) ||
      !CHECK_OK(brook_store_proxy_new(st, &p)) || !CHECK_OK(brook_store_proxy_fd(p, &fd))) {
    goto out;
  }
  CHECK(fd >= 0);

  /* Nothing asked, nothing to take. */
  CHECK(!readable(fd, 0));
  CHECK_STATUS(brook_store_proxy_receive(p, 0, &r), BROOK_STATUS_TIMEOUT);
  CHECK_ERROR_HAS("no store answer");
  CHECK(r == NULL);

  /* The master handles requests in the order they are sent. */
  CHECK_OK(brook_store_proxy_put(p, D("k"), D("1"), -1, &ids[P_PUT]));
  CHECK_OK(brook_store_proxy_get(p, D("k"), &ids[P_GET]));
  CHECK_OK(brook_store_proxy_get(p, D("nothing"), &ids[P_GET_MISSING]));
  CHECK_OK(brook_store_proxy_put(p, D("s"), D("x"), -1, &ids[P_PUT_S]));
  CHECK_OK(brook_store_proxy_increment(p, D("s"), D("1"), -1, &ids[P_CLASH]));
  CHECK_OK(brook_store_proxy_exists(p, D("k"), &ids[P_EXISTS]));
  CHECK_OK(brook_store_proxy_keys(p, &ids[P_KEYS]));
  CHECK_OK(brook_store_proxy_put_unique(p, D("k"), D("2"), -1, &ids[P_UNIQUE]));
  CHECK_OK(brook_store_proxy_insert_into(p, D("t"), D("a"), D("1"), -1, &ids[P_INSERT]));
  CHECK_OK(brook_store_proxy_get_index_from_value(p, D("t"), D("a"), &ids[P_INDEX]));
  CHECK_OK(brook_store_proxy_append(p, D("s"), D("y"), -1, &ids[P_APPEND]));
  CHECK_OK(brook_store_proxy_push(p, D("v"), D("1"), -1, &ids[P_PUSH]));
  CHECK_OK(brook_store_proxy_pop(p, D("v"), -1, &ids[P_POP]));
  CHECK_OK(brook_store_proxy_decrement(p, D("nothing"), D("1"), -1, &ids[P_DECREMENT_MISSING]));
  CHECK_OK(brook_store_proxy_erase(p, D("k"), &ids[P_ERASE]));
  CHECK_OK(brook_store_proxy_remove_from(p, D("t"), D("a"), -1, &ids[P_REMOVE]));
  CHECK_OK(brook_store_proxy_await_idle(p, &ids[P_IDLE]));
  for (int i = 0; i < P_COUNT; i++) {
    CHECK(ids[i] != 0);
    for (int j = 0; j < i; j++) {
      CHECK(ids[i] != ids[j]);
    }
  }

  /* Wait on the fd, then take what is there. */
  deadline = now_ms() + WAIT_MS;
  while (n_answered < P_COUNT && now_ms() < deadline) {
    brook_status s;
    if (!readable(fd, (int)(deadline - now_ms()))) {
      continue;
    }
    while ((s = brook_store_proxy_receive(p, 0, &r)) == BROOK_STATUS_OK) {
      uint64_t id = 0;
      int which = -1;
      brook_status status = BROOK_STATUS_PANIC;
      const brook_data *value = NULL;
      const char *message = "";
      CHECK_OK(brook_store_response_id(r, &id));
      CHECK_OK(brook_store_response_status(r, &status));
      CHECK_OK(brook_store_response_message(r, &message));
      for (int i = 0; i < P_COUNT; i++) {
        if (ids[i] == id) {
          which = i;
        }
      }
      if (!CHECK(which >= 0 && !answered[which])) {
        brook_store_response_free(r);
        continue;
      }
      answered[which] = 1;
      n_answered++;
      switch (which) {
      case P_GET_MISSING:
      case P_DECREMENT_MISSING:
        CHECK(status == BROOK_STATUS_NO_SUCH_KEY);
        CHECK(message != NULL && strstr(message, "no key") != NULL);
        /* The value of a failed request is its failure. */
        CHECK_STATUS(brook_store_response_value(r, &value), BROOK_STATUS_NO_SUCH_KEY);
        CHECK_ERROR_HAS("no key");
        CHECK(value == NULL);
        break;
      case P_CLASH:
        CHECK(status == BROOK_STATUS_TYPE_CLASH);
        CHECK(message != NULL && strstr(message, "cannot add") != NULL);
        CHECK_STATUS(brook_store_response_value(r, &value), BROOK_STATUS_TYPE_CLASH);
        CHECK_ERROR_HAS("cannot add");
        break;
      default: {
        const char *want[P_COUNT] = {
            [P_PUT] = "nil",    [P_GET] = "1",      [P_PUT_S] = "nil", [P_EXISTS] = "T",
            [P_KEYS] = "{k, s}", [P_UNIQUE] = "F",  [P_INSERT] = "nil", [P_INDEX] = "1",
            [P_APPEND] = "nil", [P_PUSH] = "nil",   [P_POP] = "nil",   [P_ERASE] = "nil",
            [P_REMOVE] = "nil", [P_IDLE] = "nil",
        };
        CHECK(status == BROOK_STATUS_OK);
        CHECK(message == NULL);
        if (CHECK_OK(brook_store_response_value(r, &value))) {
          if (!CHECK(same(value, want[which]))) {
            fprintf(stderr, "  (request %d)\n", which);
          }
        }
      }
      }
      brook_store_response_free(r);
      r = NULL;
    }
    CHECK(s == BROOK_STATUS_TIMEOUT);
  }
  CHECK(n_answered == P_COUNT);

  /* All taken: the fd is quiet again. */
  CHECK(!readable(fd, 0));
  CHECK_STATUS(brook_store_proxy_receive(p, 20, &r), BROOK_STATUS_TIMEOUT);

  /* The proxy keeps the store attached after its handle is freed. */
  brook_store_free(st);
  st = NULL;
  CHECK_OK(brook_store_proxy_get(p, D("s"), &ids[0]));
  if (CHECK_OK(brook_store_proxy_receive(p, WAIT_MS, &r))) {
    const brook_data *value = NULL;
    uint64_t id = 0;
    CHECK_OK(brook_store_response_id(r, &id));
    CHECK(id == ids[0]);
    CHECK_OK(brook_store_response_value(r, &value));
    CHECK(same(value, "xy"));
    brook_store_response_free(r);
  }

out:
  brook_store_proxy_free(p);
  brook_store_free(st);
  brook_endpoint_free(ep);
  free_values();
}

/* ---- NULL arguments and free(NULL) -------------------------------------------------- */

static void test_null_arguments(void) {
  brook_endpoint *ep = NULL;
  brook_store *st = NULL, *none = NULL;
  brook_store_proxy *p = NULL;
  brook_sqlite_options *so = NULL;
  brook_clone_options *co = NULL;
  brook_data *v = NULL;
  const brook_data *cv = NULL;
  const brook_data *k = D("k"), *one = D("1");
  const uint8_t *buf = NULL;
  const char *text = NULL;
  size_t len = 0;
  bool flag = false;
  uint64_t id = 0;
  int fd = 0;
  brook_status status;

  CHECK_OK(brook_endpoint_new(NULL, &ep));
  if (!CHECK_OK(brook_endpoint_attach_master(ep, "test/null", BROOK_BACKEND_MEMORY, NULL, &st)) ||
      !CHECK_OK(brook_store_proxy_new(st, &p))) {
    goto out;
  }

  CHECK_STATUS(brook_endpoint_attach_master(NULL, "x", 0, NULL, &none),
               BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("endpoint is NULL");
  CHECK_STATUS(brook_endpoint_attach_master(ep, NULL, 0, NULL, &none),
               BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("name is NULL");
  CHECK_STATUS(brook_endpoint_attach_master(ep, "x", 0, NULL, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_store is NULL");
  CHECK_STATUS(brook_endpoint_attach_clone(NULL, "x", &none), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_endpoint_attach_clone(ep, NULL, &none), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_endpoint_attach_clone(ep, "x", NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_endpoint_attach_clone_with(ep, "x", NULL, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK(none == NULL);

  CHECK_STATUS(brook_sqlite_options_new(NULL, &so), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("path is NULL");
  CHECK_STATUS(brook_sqlite_options_new("/tmp/x", NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_sqlite_options_set_synchronous(NULL, 0), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("options is NULL");
  CHECK_STATUS(brook_sqlite_options_set_journal_mode(NULL, 0), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_sqlite_options_set_failure_mode(NULL, 0), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_sqlite_options_set_integrity_check(NULL, true), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_clone_options_new(NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_clone_options_set_stale_interval_ms(NULL, 0), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("options is NULL");
  CHECK_STATUS(brook_clone_options_set_mutation_buffer_interval_ms(NULL, 0),
               BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_clone_options_set_resync_interval_ms(NULL, 0), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_clone_options_set_max_get_delay_ms(NULL, 0), BROOK_STATUS_NULL_ARGUMENT);
  CHECK(so == NULL && co == NULL);

  /* The store, each input, each output. */
  CHECK_STATUS(brook_store_name(NULL, &buf, &len), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("store is NULL");
  CHECK_STATUS(brook_store_name(st, NULL, &len), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_name(st, &buf, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_set_timeout_ms(NULL, 1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_exists(NULL, k, &flag), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_exists(st, NULL, &flag), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("key is NULL");
  CHECK_STATUS(brook_store_exists(st, k, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_exists is NULL");
  CHECK_STATUS(brook_store_get(NULL, k, &v), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_get(st, NULL, &v), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_get(st, k, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_value is NULL");
  CHECK_STATUS(brook_store_get_index_from_value(st, k, NULL, &v), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("index is NULL");
  CHECK_STATUS(brook_store_get_index_from_value(st, k, one, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_keys(NULL, &v), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_keys(st, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK(v == NULL);
  CHECK_STATUS(brook_store_put(NULL, k, one, -1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_put(st, NULL, one, -1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_put(st, k, NULL, -1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("value is NULL");
  CHECK_STATUS(brook_store_put_unique(st, k, one, -1, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_inserted is NULL");
  CHECK(!exists(st, "k")); /* nothing was written by a failed put_unique */
  CHECK_STATUS(brook_store_erase(st, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_clear(NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_increment(st, k, NULL, -1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("amount is NULL");
  CHECK_STATUS(brook_store_decrement(NULL, k, one, -1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_append(st, k, NULL, -1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("suffix is NULL");
  CHECK_STATUS(brook_store_insert_into(st, k, NULL, one, -1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("index is NULL");
  CHECK_STATUS(brook_store_remove_from(st, NULL, one, -1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_push(st, k, NULL, -1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_pop(st, NULL, -1), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_await_idle(NULL), BROOK_STATUS_NULL_ARGUMENT);

  /* The proxy and its responses. */
  CHECK_STATUS(brook_store_proxy_new(NULL, &p), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_proxy_new(st, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_proxy is NULL");
  CHECK_STATUS(brook_store_proxy_get(NULL, k, &id), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("proxy is NULL");
  CHECK_STATUS(brook_store_proxy_get(p, NULL, &id), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_proxy_get(p, k, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_id is NULL");
  CHECK_STATUS(brook_store_proxy_put(p, k, NULL, -1, &id), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_proxy_keys(p, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_proxy_exists(NULL, k, &id), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_proxy_increment(p, k, NULL, -1, &id), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_proxy_erase(p, NULL, &id), BROOK_STATUS_NULL_ARGUMENT);
  CHECK(id == 0);
  CHECK_STATUS(brook_store_proxy_receive(NULL, 0, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_proxy_receive(p, 0, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("out_response is NULL");
  CHECK_STATUS(brook_store_proxy_fd(NULL, &fd), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_proxy_fd(p, NULL), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_response_id(NULL, &id), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_ERROR_HAS("response is NULL");
  CHECK_STATUS(brook_store_response_status(NULL, &status), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_response_value(NULL, &cv), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(brook_store_response_message(NULL, &text), BROOK_STATUS_NULL_ARGUMENT);

  /* Nothing to free is fine. */
  brook_store_free(NULL);
  brook_store_proxy_free(NULL);
  brook_store_response_free(NULL);
  brook_sqlite_options_free(NULL);
  brook_clone_options_free(NULL);

out:
  brook_store_proxy_free(p);
  brook_store_free(st);
  brook_endpoint_free(ep);
  free_values();
}

/* ---- shutdown ----------------------------------------------------------------------- */

static brook_status waiter_status = BROOK_STATUS_PANIC;

/* Waits in a read on a clone that has no master. */
static void *read_and_wait(void *arg) {
  brook_store *st = arg;
  brook_data *key = NULL, *v = NULL;
  if (brook_data_new_string((const uint8_t *)"x", 1, &key) == BROOK_STATUS_OK) {
    waiter_status = brook_store_get(st, key, &v);
  }
  brook_data_free(v);
  brook_data_free(key);
  return NULL;
}

static void test_shutdown(void) {
  brook_endpoint *ep = NULL, *lone = NULL;
  brook_store *st = NULL, *clone = NULL, *none = NULL;
  brook_store_proxy *p = NULL, *cp = NULL;
  brook_data *v = NULL;
  const uint8_t *name = NULL;
  size_t len = 0;
  bool flag = false;
  uint64_t id = 0;
  pthread_t t;
  int64_t t0;

  CHECK_OK(brook_endpoint_new(NULL, &ep));
  if (!CHECK_OK(brook_endpoint_attach_master(ep, "test/down", BROOK_BACKEND_MEMORY, NULL, &st)) ||
      !CHECK_OK(brook_store_proxy_new(st, &p))) {
    goto out;
  }
  CHECK_OK(brook_store_put(st, D("k"), D("1"), -1));
  CHECK_OK(brook_endpoint_shutdown(ep));

  CHECK_STATUS(brook_store_put(st, D("k"), D("2"), -1), BROOK_STATUS_CLOSED);
  CHECK_ERROR_HAS("shut down");
  CHECK_STATUS(brook_store_get(st, D("k"), &v), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_store_exists(st, D("k"), &flag), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_store_keys(st, &v), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_store_increment(st, D("n"), D("1"), -1), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_store_put_unique(st, D("u"), D("1"), -1, &flag), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_store_erase(st, D("k")), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_store_clear(st), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_store_await_idle(st), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_store_proxy_get(p, D("k"), &id), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_store_proxy_put(p, D("k"), D("1"), -1, &id), BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_endpoint_attach_master(ep, "test/other", BROOK_BACKEND_MEMORY, NULL, &none),
               BROOK_STATUS_CLOSED);
  CHECK_STATUS(brook_endpoint_attach_clone(ep, "test/other", &none), BROOK_STATUS_CLOSED);
  CHECK(v == NULL && id == 0 && none == NULL);
  /* The name is the handle's own. */
  CHECK_OK(brook_store_name(st, &name, &len));
  CHECK(len == 9 && memcmp(name, "test/down", 9) == 0);

  /* A handle may outlive its endpoint. */
  brook_endpoint_free(ep);
  ep = NULL;
  CHECK_STATUS(brook_store_get(st, D("k"), &v), BROOK_STATUS_CLOSED);

  /* A read waiting for a clone's first copy (up to 5 s) ends when another thread shuts
   * the endpoint down; so does a proxy's request, with a response that says so. */
  CHECK_OK(brook_endpoint_new(NULL, &lone));
  if (CHECK_OK(brook_endpoint_attach_clone(lone, "test/down", &clone)) &&
      CHECK_OK(brook_store_proxy_new(clone, &cp)) &&
      CHECK_OK(brook_store_proxy_get(cp, D("x"), &id)) &&
      CHECK(pthread_create(&t, NULL, read_and_wait, clone) == 0)) {
    struct timespec pause = {0, 100 * 1000 * 1000};
    brook_store_response *r = NULL;
    brook_status status = BROOK_STATUS_OK;
    uint64_t rid = 0;
    nanosleep(&pause, NULL); /* let it start waiting; the check holds either way */
    t0 = now_ms();
    CHECK_OK(brook_endpoint_shutdown(lone));
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(waiter_status == BROOK_STATUS_CLOSED);
    CHECK(now_ms() - t0 < 3000);
    if (CHECK_OK(brook_store_proxy_receive(cp, WAIT_MS, &r))) {
      const brook_data *value = NULL;
      CHECK_OK(brook_store_response_id(r, &rid));
      CHECK(rid == id);
      CHECK_OK(brook_store_response_status(r, &status));
      CHECK(status == BROOK_STATUS_CLOSED);
      CHECK_STATUS(brook_store_response_value(r, &value), BROOK_STATUS_CLOSED);
      CHECK_ERROR_HAS("shut down");
      brook_store_response_free(r);
    }
  }

out:
  brook_store_proxy_free(cp);
  brook_store_proxy_free(p);
  brook_store_free(clone);
  brook_store_free(st);
  brook_endpoint_free(lone);
  brook_endpoint_free(ep);
  free_values();
}

int main(void) {
  test_master_and_clone();
  test_threads();
  test_clone_options();
  test_sqlite();
  test_proxy();
  test_null_arguments();
  test_shutdown();
  return harness_finish();
}
