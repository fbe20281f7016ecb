/*
 * brook.hpp's data stores: a master and a clone on two endpoints peering over 127.0.0.1,
 * writes on either side read back on the other, every operation with its result, expiry,
 * put_unique both ways; Broker's errors as exceptions and through error_info; the proxy
 * with its fd in poll(); one store handle shared by two threads; Broker's clone intervals
 * and clone_options; an SQLite master reopened with its data; calls after shutdown.
 * Every wait has a timeout, and each test runs under the harness's watchdog.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "harness.hpp"

using namespace std::chrono_literals;
using brook::data;
using brook::data_view;
using harness::WAIT;

namespace {

// A master of `name` on `a`, listening, and a clone on `b`, peered with it.
struct replicas {
  brook::endpoint a{harness::plain_config()};
  brook::store master;
  brook::endpoint b{harness::plain_config()};
  brook::store clone;
  uint16_t port = 0;

  explicit replicas(std::string_view name) {
    master = a.attach_master(name);
    port = a.listen("127.0.0.1", 0);
    b.peer("127.0.0.1", port, 0s);
    clone = b.attach_clone(name);
  }
};

// True once the store's value at `key` equals `want`.
bool eventually_is(const brook::store& s, const brook::data_arg& key, const brook::data_arg& want) {
  return harness::eventually([&] {
    brook::error_info err;
    data v = s.get(key, err);
    return !err && v == want.view();
  });
}

bool eventually_absent(const brook::store& s, const brook::data_arg& key) {
  return harness::eventually([&] {
    brook::error_info err;
    return !s.exists(key, err) && !err;
  });
}

std::string text(data_view d) { return brook::to_string(d); }

void test_replication() {
  replicas r("cpp/replication");
  CHECK_EQ(r.master.name(), "cpp/replication");
  CHECK_EQ(r.clone.name(), "cpp/replication");
  // A put on the master, read back on the clone.
  r.master.put("k", 1u);
  CHECK(eventually_is(r.clone, "k", 1u));
  CHECK(r.clone.exists("k"));
  CHECK(!r.clone.exists("nothing"));
  // A clone's writes go through the master.
  r.clone.increment("hits", 1u);
  r.clone.increment("hits", 2u);
  CHECK(r.clone.await_idle());
  CHECK_EQ(r.master.get("hits").as_count(), 3u);
  r.clone.put("from-clone", brook::make_vector({"a", "b"}));
  CHECK_EQ(text(r.master.get("from-clone")), "(a, b)");
  CHECK_EQ(text(r.clone.get("from-clone")), "(a, b)");
  // Values of every kind as keys and values.
  data key = brook::make_vector({brook::address::from_string("10.0.0.1"), brook::port(80, brook::port::protocol::tcp)});
  r.master.put(key, brook::make_table({{"x", 1.5}}));
  CHECK(eventually_is(r.clone, key, brook::make_table({{"x", 1.5}})));
  data keys = r.clone.keys();
  CHECK(keys.is_set());
  CHECK_EQ(keys.size(), 4u);
  CHECK(keys.contains(data("k")));
}

void test_operations() {
  replicas r("cpp/ops");
  brook::store& m = r.master;
  // put_unique both ways: the master decides.
  CHECK(m.put_unique("u", 1u));
  CHECK(!m.put_unique("u", 2u));
  CHECK(!r.clone.put_unique("u", 3u));
  CHECK(r.clone.put_unique("u2", 4u));
  CHECK_EQ(m.get("u").as_count(), 1u);
  CHECK_EQ(m.get("u2").as_count(), 4u);

  m.erase("u");
  CHECK(!m.exists("u"));
  CHECK(eventually_absent(r.clone, "u"));
  CHECK_NOTHROW(m.erase("never there"));

  m.put("n", 10);
  m.decrement("n", 3);
  m.increment("n", 1);
  CHECK_EQ(m.get("n").as_integer(), 8);
  m.increment("fresh", 2.5);
  CHECK_EQ(m.get("fresh").as_real(), 2.5);
  m.increment("when", brook::timespan(5s));
  CHECK(m.get("when").is_timestamp());
  m.append("s", "ab");
  m.append("s", "cd");
  CHECK_EQ(m.get("s").as_string(), "abcd");

  m.insert_into("set", 1u);
  m.insert_into("set", 2u);
  m.remove_from("set", 1u);
  CHECK_EQ(text(m.get("set")), "{2}");
  CHECK_EQ(m.get_index_from_value("set", 2u).as_boolean(), true);
  CHECK_EQ(m.get_index_from_value("set", 5u).as_boolean(), false);
  m.insert_into("tbl", "a", 1u);
  m.insert_into("tbl", "b", 2u);
  CHECK_EQ(text(m.get("tbl")), "{a -> 1, b -> 2}");
  CHECK_EQ(m.get_index_from_value("tbl", "b").as_count(), 2u);
  m.push("vec", "x");
  m.push("vec", "y");
  m.push("vec", "z");
  m.pop("vec");
  CHECK_EQ(text(m.get("vec")), "(x, y)");
  CHECK_EQ(m.get_index_from_value("vec", 1u).as_string(), "y");
  CHECK(eventually_is(r.clone, "vec", brook::make_vector({"x", "y"})));
  CHECK(eventually_is(r.clone, "tbl", brook::make_table({{"a", 1u}, {"b", 2u}})));

  // Expiry, counted by the master; the clone sees the key go too.
  m.put("short", 1u, brook::timespan(100ms));
  CHECK(m.exists("short"));
  CHECK(eventually_absent(m, "short"));
  CHECK(eventually_absent(r.clone, "short"));
  m.put("long", 1u, std::nullopt);
  CHECK(m.exists("long"));

  m.clear();
  CHECK_EQ(m.keys().size(), 0u);
  CHECK(harness::eventually([&] { return r.clone.keys().size() == 0; }));
}

void test_errors() {
  replicas r("cpp/errors");
  // A missing key: an exception with Broker's code as status, and brook's message.
  try {
    (void)r.master.get("nothing");
    CHECK(!"get() of a missing key threw nothing");
  } catch (const brook::error& e) {
    CHECK_EQ(e.code(), BROOK_STATUS_NO_SUCH_KEY);
    CHECK(std::string(e.what()).find("no key") != std::string::npos);
  }
  CHECK_THROWS(r.clone.get("nothing"), BROOK_STATUS_NO_SUCH_KEY);
  // The same through error_info: no value, the status and the message.
  brook::error_info err;
  data none = r.master.get("nothing", err);
  CHECK(!none);
  CHECK_ERR(err, BROOK_STATUS_NO_SUCH_KEY);
  CHECK(err.message.find("no key") != std::string::npos);
  r.master.put("k", 1u, err);
  CHECK_NO_ERR(err);

  CHECK_THROWS(r.master.decrement("absent", 1u), BROOK_STATUS_NO_SUCH_KEY);
  r.master.put("str", "text");
  CHECK_THROWS(r.master.increment("str", 1u), BROOK_STATUS_TYPE_CLASH);
  r.master.increment("str", 1u, err);
  CHECK_ERR(err, BROOK_STATUS_TYPE_CLASH);
  CHECK_EQ(r.master.get_index_from_value("str", 1u).as_string(), "text");  // no container: whole
  r.master.push("vec", 1u);
  CHECK_THROWS(r.master.get_index_from_value("vec", "not a count"), BROOK_STATUS_TYPE_CLASH);
  CHECK_THROWS(r.master.get_index_from_value("vec", 5u), BROOK_STATUS_NO_SUCH_KEY);
  CHECK_THROWS(r.a.attach_master("cpp/errors"), BROOK_STATUS_MASTER_EXISTS);
  CHECK_THROWS(r.b.attach_master("cpp/errors"), BROOK_STATUS_MASTER_EXISTS);  // the peer has it
  brook::store dup = r.a.attach_clone("cpp/errors", err);
  CHECK(!dup);
  CHECK_ERR(err, BROOK_STATUS_MASTER_EXISTS);
  CHECK_THROWS(r.master.set_timeout(0ms), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_THROWS(r.a.attach_master("cpp/sqlite-without-options", brook::backend::sqlite), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_THROWS(brook::sqlite_options(""), BROOK_STATUS_INVALID_ARGUMENT);
  brook::sqlite_options no_opts = brook::sqlite_options::make("", err);
  CHECK(!no_opts);
  CHECK_ERR(err, BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_THROWS(r.a.attach_master("cpp/memory-with-options", brook::backend::memory, brook::sqlite_options("x.db")),
               BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_THROWS(r.a.attach_master(std::string_view("a\0b", 3)), BROOK_STATUS_INVALID_ARGUMENT);
}

void test_proxy() {
  replicas r("cpp/proxy");
  brook::store::proxy p(r.master);
  CHECK(p.fd() >= 0);
  CHECK(!harness::readable(p.fd(), 0));
  CHECK(!p.receive(0ms));

  brook::request_id put = p.put("k", 7u);
  brook::request_id get = p.get("k");
  brook::request_id exists = p.exists("k");
  brook::request_id missing = p.get("nothing");
  brook::request_id keys = p.keys();
  brook::request_id uniq = p.put_unique("k", 8u);
  CHECK(put != 0 && get != put && exists != get && missing != exists);
  CHECK(harness::readable(p.fd(), 5000));

  std::map<brook::request_id, brook::store::response> answers;
  while (answers.size() < 6) {
    std::optional<brook::store::response> resp = p.receive(WAIT);
    if (!CHECK(resp)) {
      return;
    }
    brook::request_id id = resp->id();
    answers.emplace(id, std::move(*resp));
  }
  CHECK(answers.at(put).ok());
  CHECK(answers.at(put).answer().is_none());
  CHECK_EQ(answers.at(get).answer().as_count(), 7u);
  CHECK_EQ(answers.at(exists).answer().as_boolean(), true);
  CHECK_EQ(answers.at(uniq).answer().as_boolean(), false);
  CHECK_EQ(answers.at(keys).answer().size(), 1u);
  // A failed request: its response holds the status and the message.
  const brook::store::response& fail = answers.at(missing);
  CHECK(!fail.ok());
  CHECK_EQ(fail.status(), BROOK_STATUS_NO_SUCH_KEY);
  CHECK(!fail.message().empty());
  CHECK_THROWS(fail.answer(), BROOK_STATUS_NO_SUCH_KEY);
  brook::error_info err;
  CHECK(!fail.answer(err));
  CHECK_ERR(err, BROOK_STATUS_NO_SUCH_KEY);
  CHECK(!harness::readable(p.fd(), 0));

  // Writes through a proxy of the clone, answered once applied.
  brook::store::proxy cp(r.clone);
  cp.increment("c", 5u);
  cp.insert_into("t", "a", 1u);
  cp.push("v", 1u);
  brook::request_id idle = cp.await_idle();
  std::vector<brook::store::response> rs = cp.receive(4);
  bool idle_seen = false;
  for (const auto& resp : rs) {
    CHECK(resp.ok());
    idle_seen = idle_seen || resp.id() == idle;
  }
  CHECK(idle_seen);
  CHECK_EQ(r.master.get("c").as_count(), 5u);
  CHECK_EQ(text(r.master.get("t")), "{a -> 1}");

  // A proxy keeps its store attached after the handle is gone.
  brook::store::proxy kept(r.master);
  r.master = brook::store();
  kept.get("k");
  std::optional<brook::store::response> resp = kept.receive(WAIT);
  CHECK(resp && resp->answer().as_count() == 7u);

  brook::store::proxy empty = brook::store::proxy::make(brook::store(), err);
  CHECK(!empty);
  CHECK_ERR(err, BROOK_STATUS_NULL_ARGUMENT);
  CHECK_THROWS(empty.get("k"), BROOK_STATUS_NULL_ARGUMENT);
}

void test_threads_and_clone_options() {
  replicas r("cpp/threads");
  // One handle, two threads ("Safe to share between threads").
  std::atomic<int> failures{0};
  auto work = [&] {
    for (int i = 0; i < 200; i++) {
      brook::error_info err;
      r.master.increment("n", 1u, err);
      if (err) {
        failures++;
      }
    }
  };
  std::thread t1(work), t2(work);
  t1.join();
  t2.join();
  CHECK_EQ(failures.load(), 0);
  CHECK_EQ(r.master.get("n").as_count(), 400u);
  CHECK(eventually_is(r.clone, "n", 400u));

  // Broker's intervals in seconds, and clone_options.
  brook::endpoint c(harness::plain_config());
  c.peer("127.0.0.1", r.port, 0s);
  brook::store broker_style = c.attach_clone("cpp/threads", 0.2, -1.0, 5.0);
  CHECK(eventually_is(broker_style, "n", 400u));
  brook::endpoint d(harness::plain_config());
  d.peer("127.0.0.1", r.port, 0s);
  brook::clone_options opts;
  opts.set_resync_interval(100ms);
  opts.set_stale_interval(0ms);
  opts.set_mutation_buffer_interval(0ms);
  brook::store with_opts = d.attach_clone("cpp/threads", opts);
  CHECK(eventually_is(with_opts, "n", 400u));
  // The master goes: with a stale interval of 0 the clone's reads fail at once, and its
  // writes (no buffering) fail without a master.
  r.master = brook::store();
  r.a.shutdown();
  CHECK(harness::eventually([&] {
    brook::error_info err;
    with_opts.get("n", err);
    return err.code == BROOK_STATUS_STALE_DATA;
  }));
  brook::error_info err;
  with_opts.put("x", 1u, err);
  CHECK_ERR(err, BROOK_STATUS_NO_SUCH_MASTER);
  CHECK(eventually_is(broker_style, "n", 400u));  // never stale
}

void test_sqlite_and_shutdown() {
  char dir[] = "/tmp/brook-cpp-store-XXXXXX";
  if (!CHECK(mkdtemp(dir) != nullptr)) {
    return;
  }
  std::string path = std::string(dir) + "/sub/store.db";
  {
    brook::endpoint ep(harness::plain_config());
    brook::sqlite_options opts(path);
    opts.set_journal_mode(brook::sqlite_journal_mode::wal);
    opts.set_synchronous(brook::sqlite_synchronous::normal);
    opts.set_integrity_check(true);
    brook::store m = ep.attach_master("cpp/sqlite", brook::backend::sqlite, opts);
    m.put("kept", brook::make_set({"a", "b"}));
    m.put("n", 5u);
    CHECK(m.await_idle());
  }
  {
    brook::endpoint ep(harness::plain_config());
    brook::store m = ep.attach_master("cpp/sqlite", brook::backend::sqlite, brook::sqlite_options(path));
    CHECK_EQ(text(m.get("kept")), "{a, b}");
    CHECK_EQ(m.get("n").as_count(), 5u);
    // After shutdown: CLOSED, both ways.
    ep.shutdown();
    CHECK_THROWS(m.get("n"), BROOK_STATUS_CLOSED);
    CHECK_THROWS(m.put("n", 6u), BROOK_STATUS_CLOSED);
    brook::error_info err;
    CHECK(!m.exists("n", err));
    CHECK_ERR(err, BROOK_STATUS_CLOSED);
    CHECK_THROWS(ep.attach_master("cpp/other"), BROOK_STATUS_CLOSED);
  }
  // A file that is no store fails the attach, naming the reason.
  std::string junk = std::string(dir) + "/junk.db";
  FILE* f = std::fopen(junk.c_str(), "w");
  if (CHECK(f != nullptr)) {
    std::fputs("this is not an SQLite database, not at all, but long enough to look\n", f);
    std::fclose(f);
    brook::endpoint ep(harness::plain_config());
    CHECK_THROWS(ep.attach_master("cpp/junk", brook::backend::sqlite, brook::sqlite_options(junk)),
                 BROOK_STATUS_BACKEND_FAILURE);
    brook::sqlite_options del(junk);
    del.set_failure_mode(brook::sqlite_failure_mode::delete_);
    brook::store fresh = ep.attach_master("cpp/junk", brook::backend::sqlite, del);
    CHECK_EQ(fresh.keys().size(), 0u);
  }
  std::string cmd = std::string("rm -rf ") + dir;
  CHECK(std::system(cmd.c_str()) == 0);
}

}  // namespace

int main() {
  harness::run("replication", test_replication);
  harness::run("operations", test_operations);
  harness::run("errors", test_errors);
  harness::run("proxy", test_proxy);
  harness::run("threads and clone options", test_threads_and_clone_options);
  harness::run("sqlite and shutdown", test_sqlite_and_shutdown);
  return harness::finish();
}
