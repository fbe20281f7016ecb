/*
 * brook.hpp's endpoints: two endpoints peering over 127.0.0.1 with port 0 (TLS at its
 * default, and plain TCP), every data type published by one and received by the other,
 * Zeek events, the subscriber fd in poll(), get with and without timeouts, poll, batches
 * copied by poll_into, publishers (also from two threads), unicast, topics added and
 * removed, status subscribers with and without statuses, unpeering; then errors as
 * exceptions and through error_info (nobody listening, bad arguments, after shutdown) and
 * moved handles. Every wait has a timeout, and each test runs under the harness's
 * watchdog.
 */
#include <atomic>
#include <thread>
#include <vector>

#include "harness.hpp"

using namespace std::chrono_literals;
using brook::data;
using brook::data_view;
using harness::WAIT;

namespace {

// A port on 127.0.0.1 that nobody listens on: bound by an endpoint that then stops.
uint16_t closed_port() {
  brook::endpoint ep(harness::plain_config());
  return ep.listen("127.0.0.1", 0);
}

// The next status event (or error event) with one of `codes`, skipping others; none
// after WAIT.
brook::status_event next_with(brook::status_subscriber& st, bool error, std::initializer_list<uint32_t> codes) {
  auto deadline = std::chrono::steady_clock::now() + WAIT;
  while (std::chrono::steady_clock::now() < deadline) {
    std::optional<brook::status_event> ev = st.get(deadline - std::chrono::steady_clock::now());
    if (!ev || ev->is_error() != error) {
      continue;
    }
    for (uint32_t code : codes) {
      if (ev->code() == code) {
        return std::move(*ev);
      }
    }
  }
  return {};
}

uint32_t code(brook::sc c) { return static_cast<uint32_t>(c); }
uint32_t code(brook::ec c) { return static_cast<uint32_t>(c); }

// Every type, nested ones included.
brook::vector every_value() {
  brook::vector xs;
  xs.emplace_back(brook::nil);
  xs.emplace_back(true);
  xs.emplace_back(false);
  xs.emplace_back(uint64_t{18446744073709551615u});
  xs.emplace_back(int64_t{-42});
  xs.emplace_back(3.25);
  xs.emplace_back(std::string("bytes\0with nul", 14));
  xs.emplace_back(brook::address::from_string("192.168.0.1"));
  xs.emplace_back(brook::address::from_string("2001:db8::ff"));
  xs.emplace_back(brook::subnet::from_string("10.0.0.0/8"));
  xs.emplace_back(brook::port(443, brook::port::protocol::tcp));
  xs.emplace_back(brook::timestamp(brook::timespan(1681827194123456789)));
  xs.emplace_back(brook::timespan(-1500000));
  xs.emplace_back(brook::enum_value{"Conn::LOG"});
  xs.push_back(brook::make_set({1u, "a", brook::port(53, brook::port::protocol::udp)}));
  xs.push_back(brook::make_table({{"k", 1u}, {brook::make_vector({1u}), brook::make_set({})}}));
  xs.push_back(brook::make_vector({1u, brook::make_vector({2u, brook::make_vector({})}), brook::nil}));
  return xs;
}

// Two peered endpoints, `a` listening and `b` peered with it; `a` subscribes to `t`
// before the peering, so `b` can publish at once.
struct pair {
  brook::endpoint a;
  brook::subscriber sub;
  brook::endpoint b;
  uint16_t port = 0;
  brook::endpoint_id a_id;

  explicit pair(std::string_view t, bool tls = false)
      : a(tls ? brook::configuration() : harness::plain_config()),
        sub(a.make_subscriber({brook::topic(t)})),
        b(tls ? brook::configuration() : harness::plain_config()) {
    port = a.listen("127.0.0.1", 0);
    a_id = b.peer("127.0.0.1", port, 0s);
    CHECK(harness::peer_subscribed(b, t));
  }
};

void test_peering() {
  // Both at their defaults: TLS, as Broker's.
  brook::endpoint a;
  brook::status_subscriber a_status = a.make_status_subscriber(true);
  uint16_t port = a.listen("127.0.0.1", 0);
  CHECK(port != 0);
  brook::endpoint b;
  brook::endpoint_id id = b.peer("127.0.0.1", port, 0s);
  CHECK(id.valid());
  CHECK(id == a.node_id());
  CHECK(a.node_id() != b.node_id());
  CHECK_EQ(id.to_string().size(), 36u);
  CHECK_EQ(brook::to_string(id), id.to_string());

  std::vector<brook::peer_info> peers = b.peers();
  if (CHECK_EQ(peers.size(), 1u)) {
    CHECK(peers[0].peer.node == a.node_id());
    CHECK(peers[0].status == brook::peer_status::peered);
    CHECK(peers[0].outbound);
    CHECK(peers[0].peer.network && peers[0].peer.network->address == "127.0.0.1" &&
          peers[0].peer.network->port == port);
  }
  CHECK(harness::eventually([&] {
    auto ps = a.peers();
    return ps.size() == 1 && ps[0].peer.node == b.node_id() && !ps[0].outbound;
  }));

  brook::status_event added = next_with(a_status, false, {code(brook::sc::peer_added)});
  if (CHECK(added)) {
    CHECK(added.is_status());
    CHECK(added.status_code() == brook::sc::peer_added);
    CHECK_EQ(added.name(), "peer_added");
    CHECK(!added.message().empty());
    CHECK(added.context().node == b.node_id());
  }

  // Unpeering: `a` sees the peer go.
  b.unpeer("127.0.0.1", port);
  brook::status_event gone = next_with(a_status, false, {code(brook::sc::peer_lost), code(brook::sc::peer_removed)});
  if (CHECK(gone)) {
    CHECK(gone.context().node == b.node_id());
  }
  CHECK(harness::eventually([&] { return b.peers().empty(); }));
}

void test_every_type() {
  pair p("/cpp/t");
  brook::vector values = every_value();
  for (const data& v : values) {
    p.b.publish("/cpp/t/x", v);
  }
  for (const data& want : values) {
    std::optional<brook::message> m = p.sub.get(WAIT);
    if (!CHECK(m)) {
      return;
    }
    CHECK_EQ(m->topic(), "/cpp/t/x");
    CHECK_EQ(brook::get_topic(*m), "/cpp/t/x");
    data got = m->value();
    if (!CHECK(got == want)) {
      std::cerr << "  got " << got << ", expected " << want << std::endl;
    }
    CHECK(got.get_type() == want.get_type());
    CHECK(data::from_bytes(m->payload()) == want);
  }
  // Typed reads on the other side, and literals published directly.
  p.b.publish("/cpp/t/y", 7u);
  p.b.publish("/cpp/t/y", "text");
  p.b.publish("/cpp/t/y", brook::make_vector({1u, "two"}));
  std::vector<brook::message> ms = p.sub.get(3, WAIT);
  if (CHECK_EQ(ms.size(), 3u)) {
    CHECK_EQ(ms[0].value().as_count(), 7u);
    CHECK_EQ(brook::get_data(ms[1]).as_string(), "text");
    CHECK_EQ(brook::to_string(ms[2].value()), "(1, two)");
  }
}

void test_events() {
  pair p("/cpp/events", true);
  brook::zeek::Event ping("ping", {1u, "payload"});
  ping.set_ts(brook::timestamp(brook::timespan(5000)));
  p.b.publish("/cpp/events/ping", ping);
  std::optional<brook::message> m = p.sub.get(WAIT);
  if (!CHECK(m)) {
    return;
  }
  brook::zeek::Event ev = m->event();
  CHECK_EQ(ev.name(), "ping");
  CHECK_EQ(ev.args().size(), 2u);
  CHECK_EQ(ev.args()[0].as_count(), 1u);
  CHECK_EQ(ev.args()[1].as_string(), "payload");
  CHECK(ev.ts() && ev.ts()->time_since_epoch().count() == 5000);
  brook::zeek::Event again(*m);  // Broker's form
  CHECK_EQ(again.name(), "ping");
  // A plain value is no event.
  p.b.publish("/cpp/events/x", 1u);
  m = p.sub.get(WAIT);
  if (CHECK(m)) {
    CHECK_THROWS(m->event(), BROOK_STATUS_TYPE_MISMATCH);
    brook::error_info err;
    CHECK(!m->event(err));
    CHECK_ERR(err, BROOK_STATUS_TYPE_MISMATCH);
  }
}

void test_fd_and_waits() {
  pair p("/cpp/fd");
  int fd = p.sub.fd();
  CHECK(fd >= 0);
  CHECK(!harness::readable(fd, 0));
  CHECK_EQ(p.sub.available(), 0u);
  // A timed get with nothing to get: no message, no error, bounded in time.
  auto start = std::chrono::steady_clock::now();
  CHECK(!p.sub.get(50ms));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 45ms && took < 3s);
  brook::error_info err;
  CHECK(!p.sub.get(0ms, err));
  CHECK_NO_ERR(err);
  CHECK(p.sub.poll().empty());

  p.b.publish("/cpp/fd/a", 1u);
  CHECK(harness::readable(fd, 5000));
  CHECK(harness::eventually([&] { return p.sub.available() == 1; }));
  std::optional<brook::message> m = p.sub.get(0s);
  if (CHECK(m)) {
    CHECK_EQ(m->value().as_count(), 1u);
  }
  CHECK(!harness::readable(fd, 0));

  // poll() takes what waits; get(n, timeout) stops at the timeout with what came.
  for (unsigned i = 0; i < 100; i++) {
    p.b.publish("/cpp/fd/b", i);
  }
  CHECK(harness::eventually([&] { return p.sub.available() == 100; }));
  std::vector<brook::message> all = p.sub.poll();
  if (CHECK_EQ(all.size(), 100u)) {
    CHECK_EQ(all[99].value().as_count(), 99u);
  }
  p.b.publish("/cpp/fd/c", 1u);
  std::vector<brook::message> some = p.sub.get(2, 200ms);
  CHECK_EQ(some.size(), 1u);

  // get() without a timeout, answered from another thread.
  std::thread later([&] {
    std::this_thread::sleep_for(20ms);
    p.b.publish("/cpp/fd/d", "late");
  });
  brook::message late = p.sub.get();
  later.join();
  CHECK_EQ(late.value().as_string(), "late");
}

void test_poll_into() {
  pair p("/cpp/batch");
  brook::message_batch batch(16);  // too small for any message: it grows
  CHECK_EQ(p.sub.poll_into(batch), 0u);
  CHECK(batch.empty());
  for (unsigned i = 0; i < 10; i++) {
    p.b.publish("/cpp/batch/" + std::to_string(i), brook::make_vector({i, "some text"}));
  }
  size_t total = 0;
  std::vector<std::string> topics;
  auto deadline = std::chrono::steady_clock::now() + WAIT;
  while (total < 10 && std::chrono::steady_clock::now() < deadline) {
    size_t n = p.sub.poll_into(batch, 100ms);
    CHECK_EQ(n, batch.size());
    for (const brook::message_batch::entry& e : batch) {
      topics.emplace_back(e.topic());
      data v = e.value();
      CHECK_EQ(v[0].as_count(), total);
      CHECK_EQ(v[1].as_string(), "some text");
      total++;
    }
  }
  CHECK_EQ(total, 10u);
  CHECK(batch.capacity() > 16);
  CHECK(!topics.empty() && topics[0] == "/cpp/batch/0" && topics.back() == "/cpp/batch/9");

  // Many at once into a large batch, at most `max` each time; events decode from entries.
  for (unsigned i = 0; i < 50; i++) {
    p.b.publish("/cpp/batch/e", brook::zeek::Event("tick", {i}));
  }
  CHECK(harness::eventually([&] { return p.sub.available() == 50; }));
  brook::message_batch big;
  CHECK_EQ(p.sub.poll_into(big, 0ms, 20), 20u);
  size_t i = 0;
  for (const auto& e : big) {
    brook::zeek::Event ev = e.event();
    CHECK_EQ(ev.name(), "tick");
    CHECK_EQ(ev.args()[0].as_count(), i++);
  }
  CHECK_EQ(p.sub.poll_into(big, 0ms, 100), 30u);
  CHECK(big.bytes_used() > 0 && big.bytes().size() == big.bytes_used());
}

void test_publisher() {
  pair p("/cpp/pub");
  brook::publisher pub = p.b.make_publisher("/cpp/pub/x");
  CHECK_EQ(pub.topic(), "/cpp/pub/x");
  CHECK(pub.free_capacity() > 0);
  CHECK(pub.capacity() >= pub.free_capacity());
  CHECK_EQ(pub.demand(), pub.free_capacity());
  CHECK(pub.buffered() <= pub.capacity());
  brook::publisher none_pub;
  CHECK_EQ(none_pub.capacity(), 0u);
  CHECK_EQ(none_pub.buffered(), 0u);
  CHECK(harness::writable(pub.fd(), 5000));
  pub.publish(1u);
  brook::vector batch;
  batch.emplace_back(2u);
  batch.emplace_back(3u);
  pub.publish(batch);
  CHECK(pub.try_publish(4u));
  p.b.publish_batch("/cpp/pub/y", batch);
  std::vector<brook::message> ms = p.sub.get(6, WAIT);
  if (CHECK_EQ(ms.size(), 6u)) {
    for (unsigned i = 0; i < 4; i++) {
      CHECK_EQ(ms[i].topic(), "/cpp/pub/x");
      CHECK_EQ(ms[i].value().as_count(), i + 1);
    }
    CHECK_EQ(ms[4].topic(), "/cpp/pub/y");
  }
  CHECK(p.b.try_publish("/cpp/pub/z", 5u));
  CHECK(p.sub.get(WAIT));
  // A topic longer than the wrapper's inline copy.
  std::string long_topic = "/cpp/pub/" + std::string(300, 'x');
  p.b.publish(long_topic, 6u);
  std::optional<brook::message> lm = p.sub.get(WAIT);
  if (CHECK(lm)) {
    CHECK_EQ(lm->topic(), long_topic);
  }
  CHECK_THROWS(p.b.publish(long_topic + std::string(1, '\0'), 1u), BROOK_STATUS_INVALID_ARGUMENT);

  // One publisher shared by two threads ("Safe to share between threads").
  std::atomic<int> failures{0};
  auto work = [&](unsigned base) {
    for (unsigned i = 0; i < 500; i++) {
      brook::error_info err;
      pub.publish(base + i, err);
      if (err) {
        failures++;
      }
    }
  };
  std::thread t1(work, 0), t2(work, 1000);
  t1.join();
  t2.join();
  CHECK_EQ(failures.load(), 0);
  std::vector<brook::message> got = p.sub.get(1000, WAIT);
  CHECK_EQ(got.size(), 1000u);
  p.b.flush();
}

void test_unicast_and_topics() {
  pair p("/cpp/uni");
  brook::subscriber direct = p.b.make_subscriber({"/direct"});
  // To a peer's ID, whatever the peer subscribed to: b's subscriber is on b itself.
  brook::subscriber self = p.a.make_subscriber({"/self"});
  p.a.publish(p.a.node_id(), "/self/x", "to myself");
  std::optional<brook::message> m = self.get(WAIT);
  if (CHECK(m)) {
    CHECK_EQ(m->value().as_string(), "to myself");
  }
  p.a.publish(p.b.node_id(), "/direct/x", 1u);
  CHECK(direct.get(WAIT));
  brook::endpoint_info dst{p.b.node_id(), std::nullopt};
  p.a.publish(dst, "/direct/y", 2u);
  CHECK(direct.get(WAIT));
  // Without an ID, an endpoint's own publications skip its own subscribers, as in Broker.
  p.a.publish("/self/y", 1u);
  CHECK(!self.get(100ms));

  // Topics added later reach the peers; removed ones stop arriving here.
  p.sub.add_topic("/cpp/more");
  CHECK(harness::peer_subscribed(p.b, "/cpp/more/x"));
  p.b.publish("/cpp/more/x", 1u);
  m = p.sub.get(WAIT);
  if (CHECK(m)) {
    CHECK_EQ(m->topic(), "/cpp/more/x");
  }
  p.sub.remove_topic("/cpp/more");
  p.b.publish("/cpp/more/x", 2u);
  p.b.publish("/cpp/uni/x", 3u);  // still subscribed: arrives after the removed one would
  m = p.sub.get(WAIT);
  if (CHECK(m)) {
    CHECK_EQ(m->topic(), "/cpp/uni/x");
  }
  std::vector<brook::topic> subs = p.b.peer_subscriptions();
  bool has = false;
  for (const brook::topic& t : subs) {
    has = has || t.string() == "/cpp/uni";
  }
  CHECK(has);
  CHECK_NOTHROW(p.a.forward({"/cpp/forwarded"}));
  CHECK(harness::peer_subscribed(p.b, "/cpp/forwarded/x"));
}

void test_status_subscribers() {
  brook::endpoint a(harness::plain_config());
  brook::status_subscriber errors_only = a.make_status_subscriber();
  brook::status_subscriber both = a.make_status_subscriber(true);
  CHECK(errors_only.fd() >= 0);
  uint16_t dead = closed_port();
  a.peer_nosync("127.0.0.1", dead, 0s);
  brook::status_event e = next_with(errors_only, true, {code(brook::ec::peer_unavailable)});
  if (CHECK(e)) {
    CHECK(e.is_error());
    CHECK(e.error_code() == brook::ec::peer_unavailable);
    CHECK_EQ(e.name(), "peer_unavailable");
    brook::endpoint_info ctx = e.context();
    CHECK(ctx.network && ctx.network->port == dead);
  }
  CHECK(next_with(both, true, {code(brook::ec::peer_unavailable)}));

  // A peering: the status goes to `both` only.
  uint16_t port = a.listen("127.0.0.1", 0);
  brook::endpoint b(harness::plain_config());
  b.peer("127.0.0.1", port, 0s);
  CHECK(next_with(both, false, {code(brook::sc::peer_added)}));
  CHECK(harness::readable(errors_only.fd(), 5000) || errors_only.available() > 0);
  CHECK(!errors_only.get(100ms));  // the status is skipped, not handed out
  CHECK(errors_only.poll().empty());
}

void test_errors() {
  brook::endpoint a(harness::plain_config());
  uint16_t dead = closed_port();
  // Nobody listening: an exception with the status and brook's message.
  try {
    a.peer("127.0.0.1", dead, 0s);
    CHECK(!"peer() with nobody listening threw nothing");
  } catch (const brook::error& e) {
    CHECK_EQ(e.code(), BROOK_STATUS_PEER_UNAVAILABLE);
    CHECK(std::string(e.what()).find("127.0.0.1") != std::string::npos);
  }
  // The same through error_info: an invalid ID, the status and the message.
  brook::error_info err;
  brook::endpoint_id none = a.peer("127.0.0.1", dead, 0s, err);
  CHECK(!none);
  CHECK_ERR(err, BROOK_STATUS_PEER_UNAVAILABLE);
  CHECK(err.message.find("127.0.0.1") != std::string::npos);
  CHECK(a.listen("127.0.0.1", 0, err) != 0);
  CHECK_NO_ERR(err);

  CHECK_THROWS(a.listen("not an address!", 0), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_EQ(a.listen("not an address!", 0, err), 0);
  CHECK_ERR(err, BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_THROWS(a.publish("", 1u), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_THROWS(a.publish(std::string_view("/a\0b", 4), 1u), BROOK_STATUS_INVALID_ARGUMENT);
  a.publish(std::string_view("/a\0b", 4), 1u, err);
  CHECK_ERR(err, BROOK_STATUS_INVALID_ARGUMENT);
  CHECK(err.message.find("NUL") != std::string::npos);
  CHECK_THROWS(a.unpeer("127.0.0.1", dead), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_THROWS(a.make_publisher(""), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_THROWS(a.make_subscriber({"/x"}, 16777217), BROOK_STATUS_INVALID_ARGUMENT);
  brook::subscriber none_sub = a.make_subscriber({"/x"}, 16777217, err);
  CHECK(!none_sub);
  CHECK_ERR(err, BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_THROWS(a.publish("/x", data()), BROOK_STATUS_NULL_ARGUMENT);  // no value
  // The short error_info forms.
  CHECK(!a.peer("127.0.0.1", dead, err));
  CHECK_ERR(err, BROOK_STATUS_PEER_UNAVAILABLE);
  // The default retry of 10 s keeps trying in the background, listed as reconnecting;
  // unpeer() stops it (brook reports INVALID_ARGUMENT then, as no connection exists).
  std::vector<brook::peer_info> retrying = a.peers();
  CHECK(retrying.size() == 1 && retrying[0].status == brook::peer_status::reconnecting && retrying[0].outbound);
  a.unpeer("127.0.0.1", dead, err);
  CHECK(a.peers().empty());
  CHECK(a.make_subscriber({"/y"}, err));
  CHECK_NO_ERR(err);
  CHECK(a.make_status_subscriber(err));
  CHECK_NO_ERR(err);
  brook::store kept = a.attach_master("cpp/short-form", err);  // attached while it lives
  CHECK(kept);
  CHECK_NO_ERR(err);
  CHECK(!a.attach_master("cpp/short-form", err));
  CHECK_ERR(err, BROOK_STATUS_MASTER_EXISTS);

  brook::configuration bad;
  bad.openssl_certificate("/nonexistent/cert.pem");
  CHECK_THROWS(brook::endpoint(bad), BROOK_STATUS_INVALID_ARGUMENT);
  brook::endpoint not_started = brook::endpoint::make(bad, err);
  CHECK(!not_started);
  CHECK_ERR(err, BROOK_STATUS_INVALID_ARGUMENT);
  CHECK(err.message.find("cert.pem") != std::string::npos);
}

void test_shutdown() {
  pair p("/cpp/down");
  brook::publisher pub = p.b.make_publisher("/cpp/down/x");
  p.b.publish("/cpp/down/x", 1u);
  CHECK(harness::eventually([&] { return p.sub.available() == 1; }));
  brook::endpoint_id id = p.a.node_id();
  CHECK(p.b.shutdown() == 0);     // everything it published arrived
  CHECK(p.a.shutdown() == 0);
  CHECK(p.a.shutdown() == 0);     // again: nothing
  CHECK(p.a.node_id() == id);     // still known
  CHECK_THROWS(p.a.publish("/cpp/down/x", 1u), BROOK_STATUS_CLOSED);
  CHECK_THROWS(p.a.peers(), BROOK_STATUS_CLOSED);
  CHECK_THROWS(p.a.listen("127.0.0.1", 0), BROOK_STATUS_CLOSED);
  brook::error_info err;
  CHECK(p.a.peers(err).empty());
  CHECK_ERR(err, BROOK_STATUS_CLOSED);
  // The subscriber hands out what it holds, then reports CLOSED; its fd stays readable.
  std::optional<brook::message> m = p.sub.get(WAIT);
  if (CHECK(m)) {
    CHECK_EQ(m->value().as_count(), 1u);
  }
  CHECK_THROWS(p.sub.get(), BROOK_STATUS_CLOSED);
  CHECK_THROWS(p.sub.poll(), BROOK_STATUS_CLOSED);
  CHECK(harness::readable(p.sub.fd(), 0));
  p.sub.get(err);
  CHECK_ERR(err, BROOK_STATUS_CLOSED);

  // A publisher outliving its endpoint.
  p.b = brook::endpoint(harness::plain_config());  // the old b is freed here
  CHECK_THROWS(pub.publish(1u), BROOK_STATUS_CLOSED);
  CHECK(!pub.try_publish(1u, err));
  CHECK_ERR(err, BROOK_STATUS_CLOSED);
}

void test_moves() {
  brook::endpoint a(harness::plain_config());
  brook::subscriber sub = a.make_subscriber({"/cpp/mv"});
  uint16_t port = a.listen("127.0.0.1", 0);
  brook::endpoint moved = std::move(a);
  CHECK(!a);  // NOLINT: moved-from is empty
  CHECK(moved);
  CHECK_THROWS(a.listen("127.0.0.1", 0), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_THROWS(a.shutdown(), BROOK_STATUS_NULL_ARGUMENT);
  CHECK(!a.node_id());
  brook::error_info err;
  a.publish("/x", 1u, err);
  CHECK_ERR(err, BROOK_STATUS_NULL_ARGUMENT);

  brook::endpoint b(harness::plain_config());
  CHECK(b.peer("127.0.0.1", port, 0s) == moved.node_id());
  CHECK(harness::peer_subscribed(b, "/cpp/mv"));
  b.publish("/cpp/mv", 1u);
  brook::subscriber sub2 = std::move(sub);
  CHECK(!sub);  // NOLINT
  CHECK_EQ(sub.fd(), -1);
  CHECK_EQ(sub.available(), 0u);
  CHECK_THROWS(sub.get(0s), BROOK_STATUS_NULL_ARGUMENT);
  std::optional<brook::message> m = sub2.get(WAIT);
  if (CHECK(m)) {
    brook::message m2 = std::move(*m);
    CHECK(!*m);  // NOLINT
    CHECK_EQ(m->topic(), "");
    CHECK_THROWS(m->value(), BROOK_STATUS_NULL_ARGUMENT);
    CHECK_EQ(m2.value().as_count(), 1u);
  }
  // Move-assigning over a live endpoint shuts the old one down and frees it.
  brook::endpoint_id old = b.node_id();
  b = brook::endpoint(harness::plain_config());
  CHECK(b.node_id() != old);
  CHECK(harness::eventually([&] { return moved.peers().empty(); }));
  // The subscriber outlives its endpoint.
  moved = brook::endpoint();
  CHECK_THROWS(sub2.get(), BROOK_STATUS_CLOSED);
}

}  // namespace

int main() {
  harness::run("peering", test_peering);
  harness::run("every type", test_every_type);
  harness::run("events", test_events);
  harness::run("fd and waits", test_fd_and_waits);
  harness::run("poll_into", test_poll_into);
  harness::run("publisher", test_publisher);
  harness::run("unicast and topics", test_unicast_and_topics);
  harness::run("status subscribers", test_status_subscribers);
  harness::run("errors", test_errors);
  harness::run("shutdown", test_shutdown);
  harness::run("moves", test_moves);
  return harness::finish();
}
