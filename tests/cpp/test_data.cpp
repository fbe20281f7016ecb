/*
 * brook.hpp's values: every Broker type made from C++ values and read back (as_*, to_*
 * with fallbacks, get<T>, is<T>), Broker's text of each, containers built, searched and
 * iterated in Broker's order, copies into and out of std containers, the binary, JSON
 * and text codecs, the value types (address, subnet, port, enum values, time), topics,
 * Zeek's messages; then errors as exceptions and through error_info, and move semantics
 * (a moved-from handle is empty and every free happens once: ASan checks that).
 */
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <type_traits>
#include <vector>

#include "harness.hpp"

using namespace std::chrono_literals;
using brook::data;
using brook::data_view;

namespace {

std::string text(data_view d) { return brook::to_string(d); }

void test_scalars() {
  data n(brook::nil);
  CHECK(n.is_none());
  CHECK_EQ(text(n), "nil");

  data t(true), f(false);
  CHECK(t.is_boolean());
  CHECK_EQ(t.as_boolean(), true);
  CHECK_EQ(f.as_boolean(), false);
  CHECK_EQ(text(t), "T");

  data c(42u);
  CHECK(c.is_count());
  CHECK(c.get_type() == brook::data_type::count);
  CHECK_EQ(std::string(c.get_type_name()), "count");
  CHECK_EQ(c.as_count(), 42u);
  data big(std::numeric_limits<uint64_t>::max());
  CHECK_EQ(big.as_count(), std::numeric_limits<uint64_t>::max());

  data i(-7);
  CHECK(i.is_integer());
  CHECK_EQ(i.as_integer(), -7);
  CHECK_EQ(data(int64_t{-9223372036854775807 - 1}).as_integer(), std::numeric_limits<int64_t>::min());
  CHECK_EQ(text(i), "-7");

  data r(4.2);
  CHECK(r.is_real());
  CHECK_EQ(r.as_real(), 4.2);
  CHECK_EQ(text(r), "4.200000");
  CHECK(std::isnan(data(std::nan("")).as_real()));
  CHECK_EQ(data(2.5f).as_real(), 2.5);

  data s("hello"), s2(std::string("wor\0ld", 6)), s3(std::string_view("sv"));
  CHECK(s.is_string());
  CHECK_EQ(s.as_string(), "hello");
  CHECK_EQ(s2.as_string().size(), 6u);
  CHECK_EQ(s2.as_string(), std::string_view("wor\0ld", 6));
  CHECK_EQ(s3.as_string(), "sv");
  CHECK_EQ(text(s), "hello");
  CHECK_EQ(data(std::string()).as_string(), "");

  data e(brook::enum_value{"Conn::LOG"});
  CHECK(e.is_enum_value());
  CHECK_EQ(e.as_enum_value().name, "Conn::LOG");
  CHECK_EQ(text(e), "Conn::LOG");
  CHECK_EQ(data(brook::enum_value_view{"A::B"}).as_enum_value().name, "A::B");

  brook::timestamp ts{brook::timespan{1681827194000000000}};
  data tsd(ts);
  CHECK(tsd.is_timestamp());
  CHECK(tsd.as_timestamp() == ts);
  CHECK_EQ(text(tsd), "1681827194000000000ns");
  data span(brook::timespan(1500000));
  CHECK(span.is_timespan());
  CHECK(span.as_timespan() == 1500us);
  CHECK_EQ(text(span), "1500000ns");
  CHECK(data(std::chrono::seconds(-2)).as_timespan() == -2s);
}

void test_network_types() {
  brook::address a4 = brook::address::from_string("10.0.0.1");
  CHECK(a4.is_v4());
  CHECK_EQ(a4.to_string(), "10.0.0.1");
  CHECK(a4 == brook::address::v4({10, 0, 0, 1}));
  brook::address a6 = brook::address::from_string("2001:db8::1");
  CHECK(a6.is_v6());
  CHECK_EQ(a6.to_string(), "2001:db8::1");
  CHECK(a6.bytes()[0] == 0x20 && a6.bytes()[15] == 1);
  data ad(a6);
  CHECK(ad.is_address());
  CHECK(ad.as_address() == a6);
  CHECK_EQ(text(data(a4)), "10.0.0.1");

  brook::subnet sn(brook::address::from_string("10.1.2.3"), 8);
  CHECK_EQ(sn.to_string(), "10.0.0.0/8");
  CHECK_EQ(static_cast<int>(sn.length()), 8);
  CHECK(sn.network() == brook::address::from_string("10.0.0.0"));
  CHECK(sn.contains(brook::address::from_string("10.200.0.1")));
  CHECK(!sn.contains(brook::address::from_string("11.0.0.1")));
  CHECK(!sn.contains(a6));
  brook::subnet sn6 = brook::subnet::from_string("2001:db8::/32");
  CHECK(sn6.contains(a6));
  data snd(sn);
  CHECK(snd.is_subnet());
  CHECK(snd.as_subnet() == sn);
  CHECK_EQ(text(snd), "10.0.0.0/8");

  brook::port p(80, brook::port::protocol::tcp);
  data pd(p);
  CHECK(pd.is_port());
  CHECK(pd.as_port() == p);
  CHECK_EQ(pd.as_port().number(), 80);
  CHECK(pd.as_port().type() == brook::port::protocol::tcp);
  CHECK_EQ(text(pd), "80/tcp");
  CHECK_EQ(p.to_string(), "80/tcp");
  CHECK_EQ(brook::port().to_string(), "0/?");
  CHECK_EQ(text(data(brook::port(53, brook::port::protocol::udp))), "53/udp");
  CHECK_EQ(text(data(brook::port(8, brook::port::protocol::icmp))), "8/icmp");

  brook::error_info err;
  CHECK(brook::address::from_string("10.0.0.300", err) == brook::address());
  CHECK_ERR(err, BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_THROWS(brook::address::from_string("nope"), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_THROWS(brook::subnet(a4, 33), BROOK_STATUS_INVALID_ARGUMENT);
  brook::subnet bad = brook::subnet::make(a4, 40, err);
  CHECK_ERR(err, BROOK_STATUS_INVALID_ARGUMENT);
  CHECK(bad == brook::subnet());
  brook::subnet good = brook::subnet::make(a6, 64, err);
  CHECK_NO_ERR(err);
  CHECK_EQ(good.to_string(), "2001:db8::/64");
  CHECK_THROWS(brook::subnet::from_string("10.0.0.0/40"), BROOK_STATUS_INVALID_ARGUMENT);
}

void test_containers() {
  data v = brook::make_vector({1u, "two", 3.0, brook::nil, -4});
  CHECK(v.is_vector());
  CHECK(v.is_list());
  CHECK_EQ(v.size(), 5u);
  CHECK_EQ(v[0].as_count(), 1u);
  CHECK_EQ(v.at(1).as_string(), "two");
  CHECK(v[3].is_none());
  CHECK_EQ(text(v), "(1, two, 3.000000, nil, -4)");
  std::vector<std::string> seen;
  for (data_view x : v) {
    seen.push_back(text(x));
  }
  CHECK(seen == (std::vector<std::string>{"1", "two", "3.000000", "nil", "-4"}));
  v.push_back(brook::make_vector({5u}));
  CHECK_EQ(v.size(), 6u);
  CHECK_EQ(text(v[5]), "(5)");

  // Sets iterate in Broker's order: by type, then by value; duplicates count once.
  data s = brook::make_set({"b", 2u, "a", 1u, 2u});
  CHECK(s.is_set());
  CHECK_EQ(s.size(), 4u);
  CHECK_EQ(text(s), "{1, 2, a, b}");
  CHECK(s.contains(data("a")));
  CHECK(!s.contains(data("z")));
  CHECK(s.insert("z"));
  CHECK(!s.insert("z"));
  seen.clear();
  for (data_view x : s) {
    seen.push_back(text(x));
  }
  CHECK(seen == (std::vector<std::string>{"1", "2", "a", "b", "z"}));

  data t = brook::make_table({{"b", 2u}, {"a", 1u}, {"b", 3u}});
  CHECK(t.is_table());
  CHECK_EQ(t.size(), 2u);
  CHECK_EQ(text(t), "{a -> 1, b -> 3}");
  CHECK_EQ(t.find(data("a")).as_count(), 1u);
  CHECK(!t.find(data("nothing")));
  CHECK(t.contains(data("b")));
  t.insert_or_assign("c", brook::make_set({1u}));
  std::vector<std::string> items;
  for (auto [k, val] : t.items()) {
    items.push_back(text(k) + "=" + text(val));
  }
  CHECK(items == (std::vector<std::string>{"a=1", "b=3", "c={1}"}));
  seen.clear();
  for (data_view k : t) {  // a table iterates its keys
    seen.push_back(text(k));
  }
  CHECK(seen == (std::vector<std::string>{"a", "b", "c"}));

  // An empty container and nesting.
  data empty = data::make_vector();
  CHECK(empty.empty());
  CHECK(empty.begin() == empty.end());
  data nested = brook::make_table({{brook::make_vector({1u, 2u}), brook::make_set({"x"})}});
  CHECK_EQ(text(nested), "{(1, 2) -> {x}}");
}

void test_std_containers() {
  brook::vector xs;
  xs.emplace_back(1u);
  xs.emplace_back("two");
  xs.push_back(brook::make_vector({3u}));
  data v(xs);
  CHECK_EQ(text(v), "(1, two, (3))");
  brook::vector back = v.as_vector();
  CHECK_EQ(back.size(), 3u);
  CHECK(back[1] == data("two"));
  CHECK(back[0].native_handle() != xs[0].native_handle());  // copies, not shared

  brook::set ss;
  ss.insert(data(2u));
  ss.insert(data(1u));
  ss.insert(data(1u));
  CHECK_EQ(ss.size(), 2u);
  data s(ss);
  CHECK_EQ(text(s), "{1, 2}");
  brook::set sback = s.as_set();
  CHECK_EQ(sback.size(), 2u);
  CHECK(sback.count(data(2u)) == 1);

  brook::table tt;
  tt.emplace(data("k"), data(1u));
  tt.emplace(data("j"), data(brook::make_vector({})));
  data t(tt);
  CHECK_EQ(text(t), "{j -> (), k -> 1}");
  brook::table tback = t.as_table();
  CHECK(tback.at(data("k")) == data(1u));

  brook::error_info err;
  CHECK(v.as_set(err).empty());
  CHECK_ERR(err, BROOK_STATUS_TYPE_MISMATCH);
  CHECK_THROWS(t.as_vector(), BROOK_STATUS_TYPE_MISMATCH);
}

void test_order_and_equality() {
  CHECK(data(1u) == data(1u));
  CHECK(data(1u) != data(1));  // a count is no integer
  CHECK(data(1u) < data(-5));  // by type first: count before integer
  CHECK(data("a") < data("b"));
  CHECK(data(0.0) == data(-0.0));
  CHECK(data(std::nan("")) == data(std::nan("")));
  CHECK(data(1.0) < data(std::nan("")));
  CHECK(data(brook::nil) < data(false));
  CHECK(data_view() < data(brook::nil));
  CHECK(brook::make_vector({1u, 2u}) == brook::make_vector({1u, 2u}));
  CHECK(brook::make_vector({1u, 2u}) != brook::make_vector({2u, 1u}));
}

void test_get_is_and_fallbacks() {
  data c(7u), s("x"), e(brook::enum_value{"E::A"});
  CHECK(brook::is<brook::count>(c));
  CHECK(!brook::is<brook::integer>(c));
  CHECK(brook::is<std::string>(s));
  CHECK(brook::is<brook::enum_value>(e));
  CHECK(!brook::is<bool>(data_view()));
  CHECK_EQ(brook::get<brook::count>(c), 7u);
  CHECK_EQ(brook::get<std::string>(s), "x");
  CHECK_EQ(brook::get<std::string_view>(s), "x");
  CHECK_EQ(brook::get<brook::enum_value>(e).name, "E::A");
  CHECK_THROWS(brook::get<brook::integer>(c), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_THROWS(brook::get<brook::none>(c), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_NOTHROW(brook::get<brook::none>(data(brook::nil)));
  CHECK_EQ(brook::get<brook::vector>(brook::make_vector({1u})).size(), 1u);
  static_assert(brook::data_tag<brook::table>() == brook::data_type::table);

  // Broker's to_*(): the value, or the fallback for another type.
  CHECK_EQ(c.to_count(), 7u);
  CHECK_EQ(s.to_count(99), 99u);
  CHECK_EQ(s.to_string(), "x");
  CHECK_EQ(c.to_string(), "");
  CHECK_EQ(c.to_integer(-1), -1);
  CHECK_EQ(data(true).to_boolean(), true);
  CHECK_EQ(c.to_boolean(true), true);
  CHECK_EQ(c.to_real(1.5), 1.5);
  CHECK(c.to_address() == brook::address());
  CHECK(c.to_port() == brook::port());
  CHECK(c.to_timespan(3s) == 3s);
  CHECK_EQ(e.to_enum_value().name, "E::A");
  CHECK_EQ(data_view().to_count(5), 5u);
}

void test_codecs() {
  data v = brook::make_vector({1u, "two", brook::address::from_string("10.0.0.1"),
                               brook::port(443, brook::port::protocol::tcp), brook::make_set({true})});
  std::vector<uint8_t> bytes = v.to_bytes();
  CHECK(!bytes.empty());
  data back = data::from_bytes(bytes);
  CHECK(back == v);
  // Broker's binary format v1 of the count 42: tag 2, then 8 bytes big-endian.
  std::vector<uint8_t> want = {2, 0, 0, 0, 0, 0, 0, 0, 42};
  CHECK(data(42u).to_bytes() == want);
  CHECK(data::from_bytes(brook::byte_view(want.data(), want.size())) == data(42u));

  std::string json = data(42u).to_json();
  CHECK_EQ(json, "{\"@data-type\":\"count\",\"data\":42}");
  CHECK(data::from_json(json) == data(42u));
  CHECK(data::from_json(v.to_json()) == v);

  CHECK(data::from_text("(42, 80/tcp, {a, b})") == brook::make_vector({42u, brook::port(80, brook::port::protocol::tcp),
                                                                         brook::make_set({"a", "b"})}));
  CHECK(data::from_text("-1") == data(-1));
  CHECK(data::from_text("'Conn::LOG'") == data(brook::enum_value{"Conn::LOG"}));
  data c = v.clone();
  CHECK(c == v);
  CHECK(c.native_handle() != v.native_handle());
  std::ostringstream os;
  os << data(5u) << " " << data_view();
  CHECK_EQ(os.str(), "5 <no value>");
}

void test_topics() {
  using namespace brook::literals;
  brook::topic t = "/zeek/events"_t;
  CHECK_EQ(t.string(), "/zeek/events");
  CHECK(brook::topic("/zeek/").prefix_of(t));
  CHECK(!brook::topic("/bro").prefix_of(t));
  CHECK_EQ((brook::topic("/a") / brook::topic("b")).string(), "/a/b");
  CHECK_EQ((brook::topic("/a/") / brook::topic("/b")).string(), "/a/b");
  CHECK_EQ(t.suffix(), "events");
  CHECK(brook::topic::split(brook::topic("/a//b/c")) == (std::vector<std::string>{"a", "b", "c"}));
  CHECK_EQ(brook::topic::join({"a", "b"}).string(), "a/b");
  CHECK_EQ(brook::topic::store_events().string(), "<$>/local/data/store-events");
  std::string_view sv = t;
  CHECK_EQ(sv, "/zeek/events");
}

void test_zeek_messages() {
  namespace zeek = brook::zeek;
  zeek::Event ev("ping", {1u, "x", brook::make_vector({2u})});
  CHECK(ev.valid());
  CHECK_EQ(ev.name(), "ping");
  CHECK_EQ(ev.args().size(), 3u);
  CHECK_EQ(ev.args()[0].as_count(), 1u);
  CHECK_EQ(ev.args().at(1).as_string(), "x");
  std::vector<std::string> args;
  for (data_view a : ev.args()) {
    args.push_back(text(a));
  }
  CHECK(args == (std::vector<std::string>{"1", "x", "(2)"}));
  CHECK(!ev.ts());
  ev.add_arg(brook::nil);
  CHECK_EQ(ev.args().size(), 4u);
  CHECK_EQ(text(ev.as_data()), "(1, 1, (ping, (1, x, (2), nil)))");
  CHECK(zeek::type_of(ev.as_data()) == zeek::message_type::event);

  brook::timestamp ts{brook::timespan{1000000000}};
  brook::vector vargs;
  vargs.emplace_back(5u);
  zeek::Event with_ts("pong", vargs, ts);
  CHECK(with_ts.ts() && *with_ts.ts() == ts);
  zeek::Event back(with_ts.as_data());
  CHECK_EQ(back.name(), "pong");
  CHECK_EQ(back.args()[0].as_count(), 5u);
  CHECK(back.ts() && *back.ts() == ts);
  zeek::Event bare("bare");
  CHECK(bare.args().empty());
  CHECK_THROWS(bare.args().at(0), BROOK_STATUS_OUT_OF_RANGE);

  brook::error_info err;
  zeek::Event none = zeek::Event::from_data(data(1u), err);
  CHECK(!none.valid());
  CHECK_ERR(err, BROOK_STATUS_TYPE_MISMATCH);
  CHECK_THROWS(zeek::Event(data("no event")), BROOK_STATUS_TYPE_MISMATCH);
  CHECK(zeek::type_of(data(1u)) == zeek::message_type::invalid);
  zeek::Event bad = zeek::Event::make(std::string_view("a\0b", 3), {}, err);
  CHECK(!bad);
  CHECK_ERR(err, BROOK_STATUS_INVALID_ARGUMENT);

  zeek::IdentifierUpdate up("Site::local_nets", brook::make_set({brook::subnet::from_string("10.0.0.0/8")}));
  CHECK_EQ(up.id_name(), "Site::local_nets");
  CHECK_EQ(text(up.id_value()), "{10.0.0.0/8}");
  CHECK(zeek::type_of(up.as_data()) == zeek::message_type::identifier_update);
  CHECK_EQ(zeek::IdentifierUpdate(up.as_data()).id_name(), "Site::local_nets");

  zeek::LogCreate lc(brook::enum_value{"Conn::LOG"}, brook::enum_value{"Log::WRITER_ASCII"},
                     brook::make_vector({"conn"}), brook::make_vector({}));
  CHECK_EQ(lc.stream_id().name, "Conn::LOG");
  CHECK_EQ(lc.writer_id().name, "Log::WRITER_ASCII");
  CHECK_EQ(text(lc.writer_info()), "(conn)");
  CHECK(zeek::type_of(lc.as_data()) == zeek::message_type::log_create);
  CHECK_EQ(zeek::LogCreate(lc.as_data()).writer_id().name, "Log::WRITER_ASCII");

  zeek::LogWrite lw(brook::enum_value{"Conn::LOG"}, brook::enum_value{"Log::WRITER_ASCII"}, "conn",
                    std::string_view("\x01\0\x02", 3));
  CHECK_EQ(lw.path_str(), "conn");
  CHECK_EQ(lw.serial_data_str(), std::string_view("\x01\0\x02", 3));
  CHECK(zeek::type_of(lw.as_data()) == zeek::message_type::log_write);

  zeek::Batch batch = zeek::Batch::make();
  CHECK(batch.empty());
  batch.add(lw.as_data());
  batch.add(ev.as_data());
  CHECK_EQ(batch.size(), 2u);
  CHECK(zeek::type_of(batch[0]) == zeek::message_type::log_write);
  CHECK_EQ(zeek::Event(batch[1]).name(), "ping");
  CHECK_THROWS(batch.add(data(1u)), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_EQ(batch.size(), 2u);
  zeek::Batch again(batch.as_data());
  CHECK_EQ(again.size(), 2u);
  std::vector<zeek::message_type> kinds;
  for (data_view msg : again) {
    kinds.push_back(zeek::type_of(msg));
  }
  CHECK(kinds == (std::vector<zeek::message_type>{zeek::message_type::log_write, zeek::message_type::event}));
  CHECK(zeek::type_of(batch.as_data()) == zeek::message_type::batch);
  CHECK_THROWS(batch.at(2), BROOK_STATUS_OUT_OF_RANGE);
}

void test_errors() {
  data s("text");
  // As an exception: brook's status and message.
  try {
    (void)s.as_count();
    CHECK(!"as_count() on a string threw nothing");
  } catch (const brook::error& e) {
    CHECK_EQ(e.code(), BROOK_STATUS_TYPE_MISMATCH);
    CHECK(std::string(e.what()).find("string") != std::string::npos);
    const std::runtime_error& base = e;  // derived from std::runtime_error
    CHECK_EQ(std::string(base.what()), std::string(e.what()));
  }
  // The same failure through error_info: a default value, the status and the message.
  brook::error_info err;
  CHECK_EQ(s.as_count(err), 0u);
  CHECK_ERR(err, BROOK_STATUS_TYPE_MISMATCH);
  std::string msg = err.message;
  CHECK(msg.find("string") != std::string::npos);
  CHECK_EQ(s.as_string(err), "text");  // success clears it
  CHECK_NO_ERR(err);

  CHECK_THROWS(data::from_bytes(std::vector<uint8_t>{2, 0, 0}), BROOK_STATUS_DECODE_ERROR);
  data none = data::from_bytes(std::vector<uint8_t>{99}, err);
  CHECK(!none);
  CHECK_ERR(err, BROOK_STATUS_DECODE_ERROR);
  CHECK(err.message.find("offset") != std::string::npos || err.message.find("type") != std::string::npos);
  CHECK_THROWS(data::from_bytes(std::vector<uint8_t>{2, 0, 0, 0, 0, 0, 0, 0, 42, 0}), BROOK_STATUS_DECODE_ERROR);
  CHECK_THROWS(data::from_text("(1, "), BROOK_STATUS_DECODE_ERROR);
  CHECK_THROWS(data::from_json("{"), BROOK_STATUS_DECODE_ERROR);
  CHECK_THROWS(data::from_text(std::string_view("a\0b", 3)), BROOK_STATUS_INVALID_ARGUMENT);
  data v = brook::make_vector({1u});
  CHECK_THROWS(v[1], BROOK_STATUS_OUT_OF_RANGE);
  CHECK(!v.at(7, err));
  CHECK_ERR(err, BROOK_STATUS_OUT_OF_RANGE);
  CHECK_THROWS(v.insert(1u), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_THROWS(s.size(), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_THROWS(s.begin(), BROOK_STATUS_TYPE_MISMATCH);
  CHECK_THROWS(s.find(data(1u)), BROOK_STATUS_TYPE_MISMATCH);
  v.push_back(2u, err);
  CHECK_NO_ERR(err);
  s.push_back(2u, err);
  CHECK_ERR(err, BROOK_STATUS_TYPE_MISMATCH);
}

void test_moves() {
  data a(1u);
  brook_data* raw = a.native_handle();
  CHECK(a);
  data b(std::move(a));
  CHECK(!a);  // NOLINT: moved-from is empty
  CHECK(a.native_handle() == nullptr);
  CHECK(b.native_handle() == raw);
  CHECK_EQ(b.as_count(), 1u);
  // An empty handle reports brook.h's NULL check, and reads nothing.
  CHECK_THROWS(a.as_count(), BROOK_STATUS_NULL_ARGUMENT);
  brook::error_info err;
  CHECK_EQ(a.as_count(err), 0u);
  CHECK_ERR(err, BROOK_STATUS_NULL_ARGUMENT);
  CHECK(a.is_none());  // brook_data_get_type(NULL)
  CHECK_EQ(a.to_count(3), 3u);
  // Assigning over a value frees it (ASan would report a leak or a double free).
  data c("old");
  c = std::move(b);
  CHECK(!b);
  CHECK_EQ(c.as_count(), 1u);
  c = std::move(c);  // self-move keeps the value
  CHECK_EQ(c.as_count(), 1u);
  data d;
  CHECK(!d);
  d = data("new");
  CHECK_EQ(d.as_string(), "new");
  brook_data* released = d.release();
  CHECK(!d);
  data adopted = data::adopt(released);
  CHECK_EQ(adopted.as_string(), "new");
  static_assert(!std::is_copy_constructible_v<data>);
  // Pointers do not turn into booleans (a raw brook_data* is no value to publish).
  static_assert(!std::is_constructible_v<data, const brook_data*>);
  static_assert(!std::is_constructible_v<brook::data_arg, const void*>);
  static_assert(std::is_constructible_v<brook::data_arg, const char*>);
  static_assert(std::is_nothrow_move_constructible_v<data>);

  brook::zeek::Event ev("e", {1u});
  brook::zeek::Event ev2 = std::move(ev);
  CHECK(!ev.valid());
  CHECK_EQ(ev.name(), "");
  CHECK_EQ(ev.args().size(), 0u);
  CHECK_THROWS(ev.add_arg(1u), BROOK_STATUS_NULL_ARGUMENT);
  CHECK_EQ(ev2.name(), "e");
  static_assert(!std::is_copy_constructible_v<brook::zeek::Event>);
  static_assert(!std::is_copy_constructible_v<brook::endpoint>);
  static_assert(!std::is_copy_constructible_v<brook::subscriber>);
  static_assert(!std::is_copy_constructible_v<brook::store>);
  static_assert(!std::is_copy_constructible_v<brook::message>);
  static_assert(!std::is_copy_constructible_v<brook::configuration>);

  // Values in std containers move, never copy.
  brook::vector xs;
  for (unsigned i = 0; i < 100; i++) {
    xs.emplace_back(i);
  }
  CHECK_EQ(data(xs).size(), 100u);
}

void test_config() {
  brook::configuration cfg;
  CHECK(cfg);
  CHECK_NOTHROW(cfg.set("broker.disable-ssl", true));
  CHECK_NOTHROW(cfg.set("broker.peer-buffer-size", 128));
  CHECK_NOTHROW(cfg.set("broker.ssl.cafile", "/nonexistent/ca.pem"));
  CHECK_NOTHROW(cfg.set_subscriber_queue_size(16));
  CHECK_NOTHROW(cfg.set_busy_poll(0us));
  CHECK_NOTHROW(cfg.set_max_frame_size(size_t{2147483643}));
  CHECK_THROWS(cfg.set_max_frame_size(size_t{2147483644}), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_NOTHROW(cfg.set_listen_backlog(1024));
  CHECK_THROWS(cfg.set_listen_backlog(0), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_NOTHROW(cfg.set("brook.listen-backlog", 64));
  CHECK_THROWS(cfg.set("broker.nope", "1"), BROOK_STATUS_INVALID_ARGUMENT);
  brook::error_info err;
  cfg.set("broker.peer-buffer-size", "x", err);
  CHECK_ERR(err, BROOK_STATUS_INVALID_ARGUMENT);
  CHECK(err.message.find("broker.peer-buffer-size") != std::string::npos);
  cfg.set_busy_poll(2s, err);
  CHECK_ERR(err, BROOK_STATUS_INVALID_ARGUMENT);
  // Block is the default peer policy; an unknown value is refused.
  cfg.set_peer_overflow_policy(brook::overflow_policy::block, err);
  CHECK(!err);
  cfg.set_peer_overflow_policy(static_cast<brook::overflow_policy>(99), err);
  CHECK_ERR(err, BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_THROWS(cfg.set(std::string_view("broker.ttl\0x", 12), "1"), BROOK_STATUS_INVALID_ARGUMENT);
  brook::broker_options bad;
  bad.peer_buffer_size = 0;
  brook::configuration none = brook::configuration::make(bad, err);
  CHECK(!none);
  CHECK_ERR(err, BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_THROWS(brook::configuration(bad), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_THROWS(cfg.read_file("/nonexistent/broker.conf"), BROOK_STATUS_INVALID_ARGUMENT);
  CHECK_EQ(std::string(brook::version()), std::string(BROOK_VERSION_STRING));
}

}  // namespace

int main() {
  harness::run("scalars", test_scalars);
  harness::run("network types", test_network_types);
  harness::run("containers", test_containers);
  harness::run("std containers", test_std_containers);
  harness::run("order and equality", test_order_and_equality);
  harness::run("get, is and fallbacks", test_get_is_and_fallbacks);
  harness::run("codecs", test_codecs);
  harness::run("topics", test_topics);
  harness::run("zeek messages", test_zeek_messages);
  harness::run("errors", test_errors);
  harness::run("moves", test_moves);
  harness::run("configuration", test_config);
  return harness::finish();
}
