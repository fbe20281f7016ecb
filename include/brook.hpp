/*
 * brook.hpp: brook's C API (brook.h) for C++17, shaped after Broker's C++ API.
 *
 * Header-only, over the C ABI alone: it calls nothing but the functions of brook.h, so a
 * C++ program builds and links as a C one does:
 *
 *   c++ -std=c++17 prog.cpp $(pkg-config --cflags --libs brook)
 *
 * docs/migration-cpp.md says how Broker C++ code moves over.
 *
 * OBJECTS. Every brook object is a move-only RAII handle: brook::endpoint, subscriber,
 * status_subscriber, publisher, store, store::proxy, store::response, message,
 * status_event, data, zeek::Event (and the other Zeek messages), configuration,
 * sqlite_options and clone_options. The destructor frees the C object (its brook_*_free).
 * A moved-from handle is empty, and so is a default-constructed one, except that
 * endpoint(), configuration() and clone_options() make one with the defaults, as Broker's
 * do. An empty handle's `explicit operator bool` is false, destroying it does nothing,
 * and a call through it fails with BROOK_STATUS_NULL_ARGUMENT, as brook.h's NULL checks
 * report it. A data value is copied only on request, with clone(). native_handle() gives
 * the C pointer, which the C++ object still owns, for calls this header does not wrap.
 *
 * BORROWED VIEWS. data_view, std::string_view and byte_view results point into the object
 * that gave them and follow brook.h's rule for that pointer ("Borrowed: valid until ...",
 * said at each function). A data is a data_view of its own value, so a view taken from a
 * temporary dangles as a std::string_view of a temporary std::string does.
 *
 * ARGUMENTS. Strings and topics come in as std::string_view. brook.h wants NUL-terminated
 * text, so they are copied, and one holding a NUL byte fails with
 * BROOK_STATUS_INVALID_ARGUMENT; data strings and enum names take any bytes. Values come
 * in as `const data_arg&`: a data or data_view (only read, never copied), or anything a
 * data can be made from (`1u`, `-1`, `"text"`, `2.5`, an address, ...), made into a
 * temporary for the call.
 *
 * ERRORS. Every call that can fail has two forms:
 *   - The plain form throws brook::error, derived from std::runtime_error: code() is the
 *     brook_status and what() the message brook_last_error() gave for the failed call
 *     (brook_status_str() when there was none).
 *   - The form whose last parameter is `brook::error_info& err` throws no brook::error, as
 *     std::filesystem's overloads that take a std::error_code& do: on failure it stores
 *     the status and the message in `err` and returns an empty value (an empty handle, 0,
 *     false, std::nullopt, an empty view or vector); on success it clears `err`. Test it
 *     with `if (err)`.
 * Both forms may throw std::bad_alloc. "Throws" in a function's documentation names the
 * statuses it reports either way. A wait that ends on its timeout is no failure: it gives
 * std::nullopt or false, as in Broker. Constructors throw; where making an object can fail
 * because of its arguments or the system, a static make(..., error_info& err) returns an
 * empty object instead. Accessors that can only fail on an empty handle (available(),
 * fd(), get_type(), name(), topic(), ...) are noexcept and then give 0, -1 or an empty
 * value.
 *
 * THREADS. As in brook.h: endpoint, publisher and store are safe to share between threads
 * (though not to move, assign or destroy while another thread uses them); every other
 * object is used from one thread at a time. An error's message is copied out of
 * brook_last_error() on the failing thread, at once.
 *
 * BROKER'S NAMES. endpoint (listen, peer, peer_nosync, unpeer, peers, peer_subscriptions,
 * forward, publish, make_publisher, make_subscriber, make_status_subscriber,
 * attach_master, attach_clone, shutdown, node_id), subscriber (get, poll, available, fd,
 * add_topic, remove_topic), publisher (publish, capacity, free_capacity, buffered,
 * demand, fd), store and store::proxy (Broker's operations, response, receive, mailbox's
 * fd), zeek::Event (name, args, ts), data (is_*, to_* with a fallback, get<T>, Broker's
 * type names), topic, configuration and broker_options keep Broker's names and arguments.
 * brook's C API has no counterpart for these, so they are left out: peer_async,
 * unpeer_nosync (unpeer() does not wait for the answer anyway), await_peer,
 * await_filter_entry, workers (publish_all, subscribe with callbacks), hubs, the clock and
 * advance_time, publisher::drop_all_on_destruction, store::frontend/frontend_id, the
 * RocksDB backend, configuration(argc, argv) and add_option/read_*, WebSocket clients. A
 * data is a handle on brook's value, not a std::variant, so get_data, visit, get_if and
 * std::hash of data are not there either. Not wrapped here, though brook.h has them:
 * metrics (brook_endpoint_metrics(), through endpoint::native_handle()).
 */

#ifndef BROOK_HPP
#define BROOK_HPP

#include "brook.h"

#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace brook {

// ---- errors ----------------------------------------------------------------------------

/// A failed brook call: its brook_status, and brook's message for people as what().
/// Thrown by every call that can fail, except the forms taking a brook::error_info&.
class error : public std::runtime_error {
 public:
  /// Makes an error with `code` and `message`.
  error(brook_status code, const std::string& message)
      : std::runtime_error(message), code_(code) {}

  /// The status of the failed call, such as BROOK_STATUS_NO_SUCH_KEY.
  brook_status code() const noexcept { return code_; }

 private:
  brook_status code_;
};

/// Where the non-throwing form of a call reports a failure, as a std::error_code does for
/// std::filesystem. `code` is BROOK_STATUS_OK and `message` empty after a call that
/// succeeded. Use from one thread at a time.
struct error_info {
  /// The status of the last call given this error_info.
  brook_status code = BROOK_STATUS_OK;
  /// brook's message for that call's failure, empty after success.
  std::string message;

  /// True if the call failed.
  explicit operator bool() const noexcept { return code != BROOK_STATUS_OK; }

  /// Forgets the failure: `code` BROOK_STATUS_OK, `message` empty.
  void clear() noexcept {
    code = BROOK_STATUS_OK;
    message.clear();
  }
};

/// A short static description of a status, such as "type mismatch" (brook_status_str()).
inline const char* status_str(brook_status s) noexcept { return brook_status_str(s); }

/// brook's version as "MAJOR.MINOR.PATCH", from the library (brook_version()). Compare it
/// with BROOK_VERSION_STRING to detect a header/library mismatch.
inline std::string_view version() noexcept { return brook_version(); }

namespace detail {

// The message of the call that just failed on this thread; read before any other call.
inline std::string last_error_text(brook_status st) {
  const char* m = brook_last_error();
  return std::string(m != nullptr && *m != '\0' ? m : brook_status_str(st));
}

// Reports a failure: throws when `err` is null, fills `err` otherwise. Returns false.
inline bool fail(brook_status st, std::string message, error_info* err) {
  if (err == nullptr) {
    throw error(st, message);
  }
  err->code = st;
  err->message = std::move(message);
  return false;
}

// True on BROOK_STATUS_OK (clearing `err`); otherwise reports the failure.
inline bool check(brook_status st, error_info* err) {
  if (st == BROOK_STATUS_OK) {
    if (err != nullptr) {
      err->clear();
    }
    return true;
  }
  return fail(st, last_error_text(st), err);
}

// A success that carries no result (a wait that timed out): clears `err`.
inline void succeed(error_info* err) noexcept {
  if (err != nullptr) {
    err->clear();
  }
}

// Copies `text` into `out` for brook.h, which wants it NUL-terminated.
inline bool c_text(std::string_view text, const char* what, std::string& out, error_info* err) {
  if (text.find('\0') != std::string_view::npos) {
    return fail(BROOK_STATUS_INVALID_ARGUMENT, std::string(what) + " contains a NUL byte", err);
  }
  out.assign(text.data(), text.size());
  return true;
}

// A NUL-terminated copy of a topic for brook.h, kept inline when short: publishing does
// not allocate for it.
class c_string {
 public:
  /// An empty handle (see OBJECTS at the top of this file).
  c_string() noexcept = default;
  c_string(const c_string&) = delete;
  c_string& operator=(const c_string&) = delete;
  bool assign(std::string_view text, const char* what, error_info* err) {
    if (text.size() < sizeof small_) {
      if (text.find('\0') != std::string_view::npos) {
        return fail(BROOK_STATUS_INVALID_ARGUMENT, std::string(what) + " contains a NUL byte", err);
      }
      std::memcpy(small_, text.data(), text.size());
      small_[text.size()] = '\0';
      p_ = small_;
      return true;
    }
    if (!c_text(text, what, big_, err)) {
      return false;
    }
    p_ = big_.c_str();
    return true;
  }
  const char* c_str() const noexcept { return p_; }

 private:
  char small_[128] = {0};
  std::string big_;
  const char* p_ = small_;
};

template <class T, void (*Free)(T*)>
struct deleter {
  void operator()(T* p) const noexcept { Free(p); }
};

// An owned C object: freed with its brook_*_free, empty after a move.
template <class T, void (*Free)(T*)>
using handle = std::unique_ptr<T, deleter<T, Free>>;

inline std::string_view bytes_text(const uint8_t* buf, size_t len) noexcept {
  return len == 0 ? std::string_view() : std::string_view(reinterpret_cast<const char*>(buf), len);
}

// A relative wait for brook.h: 0 for none or a negative one, rounded up to milliseconds,
// -1 (until something arrives) from about 30,000 years on, brook::infinite included.
template <class Rep, class Period>
int64_t wait_ms(std::chrono::duration<Rep, Period> d) noexcept {
  double ms = std::chrono::duration<double, std::milli>(d).count();
  if (!(ms > 0)) {
    return 0;
  }
  if (ms >= 1e15) {
    return -1;
  }
  return static_cast<int64_t>(std::ceil(ms));
}

inline uint32_t ms32(std::chrono::milliseconds d) noexcept {
  if (d.count() <= 0) {
    return 0;
  }
  if (d.count() >= static_cast<int64_t>(std::numeric_limits<uint32_t>::max())) {
    return std::numeric_limits<uint32_t>::max();
  }
  return static_cast<uint32_t>(d.count());
}

}  // namespace detail

// ---- small value types -----------------------------------------------------------------

/// The type of a data value; the numbers are Broker's binary type tags (brook_data_type).
enum class data_type : uint8_t {
  none = BROOK_DATA_TYPE_NONE,
  boolean = BROOK_DATA_TYPE_BOOLEAN,
  count = BROOK_DATA_TYPE_COUNT,
  integer = BROOK_DATA_TYPE_INTEGER,
  real = BROOK_DATA_TYPE_REAL,
  string = BROOK_DATA_TYPE_STRING,
  address = BROOK_DATA_TYPE_ADDRESS,
  subnet = BROOK_DATA_TYPE_SUBNET,
  port = BROOK_DATA_TYPE_PORT,
  timestamp = BROOK_DATA_TYPE_TIMESTAMP,
  timespan = BROOK_DATA_TYPE_TIMESPAN,
  enum_value = BROOK_DATA_TYPE_ENUM,
  set = BROOK_DATA_TYPE_SET,
  table = BROOK_DATA_TYPE_TABLE,
  vector = BROOK_DATA_TYPE_VECTOR,
};

/// Broker's C++ name of a type, such as "count" or "enum_value".
inline const char* type_name(data_type t) noexcept {
  switch (t) {
    case data_type::none: return "none";
    case data_type::boolean: return "boolean";
    case data_type::count: return "count";
    case data_type::integer: return "integer";
    case data_type::real: return "real";
    case data_type::string: return "string";
    case data_type::address: return "address";
    case data_type::subnet: return "subnet";
    case data_type::port: return "port";
    case data_type::timestamp: return "timestamp";
    case data_type::timespan: return "timespan";
    case data_type::enum_value: return "enum_value";
    case data_type::set: return "set";
    case data_type::table: return "table";
    case data_type::vector: return "vector";
  }
  return "unknown";
}

/// Broker's names for the plain types of data values.
using boolean = bool;
using count = uint64_t;
using integer = int64_t;
using real = double;

/// A signed duration with nanosecond precision, as Broker's `timespan`.
using timespan = std::chrono::duration<int64_t, std::nano>;

/// A point in time since the Unix epoch (UTC), in nanoseconds, as Broker's `timestamp`.
using timestamp = std::chrono::time_point<std::chrono::system_clock, timespan>;

/// A wait without end, as Broker's `infinite`.
inline constexpr timespan infinite = timespan::max();

/// The current time, as Broker's `broker::now()`.
inline timestamp now() noexcept {
  return std::chrono::time_point_cast<timespan>(std::chrono::system_clock::now());
}

/// Broker's `none`: the type of the value nil.
struct none {};

/// Broker's `nil`: `brook::data(brook::nil)` is the none value.
inline constexpr none nil{};

inline bool operator==(none, none) noexcept { return true; }
inline bool operator!=(none, none) noexcept { return false; }

/// A contiguous run of bytes that someone else owns, as a std::span<const uint8_t>.
/// Borrowed, as the function that returned it says.
class byte_view {
 public:
  /// No bytes.
  constexpr byte_view() noexcept = default;
  /// The `size` bytes at `data`.
  constexpr byte_view(const uint8_t* data, size_t size) noexcept : ptr_(data), len_(size) {}
  /// The bytes of `s`.
  byte_view(std::string_view s) noexcept
      : ptr_(reinterpret_cast<const uint8_t*>(s.data())), len_(s.size()) {}
  /// The bytes of `v`.
  byte_view(const std::vector<uint8_t>& v) noexcept : ptr_(v.data()), len_(v.size()) {}

  /// The bytes, their number, and iteration over them.
  constexpr const uint8_t* data() const noexcept { return ptr_; }
  constexpr size_t size() const noexcept { return len_; }
  constexpr bool empty() const noexcept { return len_ == 0; }
  constexpr const uint8_t* begin() const noexcept { return ptr_; }
  constexpr const uint8_t* end() const noexcept { return ptr_ + len_; }
  constexpr uint8_t operator[](size_t i) const noexcept { return ptr_[i]; }
  /// The same bytes as text.
  std::string_view as_string_view() const noexcept { return detail::bytes_text(ptr_, len_); }

 private:
  const uint8_t* ptr_ = nullptr;
  size_t len_ = 0;
};

/// An endpoint's 16-byte ID, as Broker's `endpoint_id`. All zeros means none (a peer
/// whose handshake has not told it yet).
class endpoint_id {
 public:
  /// The ID of nobody: all zeros.
  endpoint_id() noexcept = default;
  /// The ID with these 16 bytes.
  explicit endpoint_id(const std::array<uint8_t, 16>& bytes) noexcept : bytes_(bytes) {}
  /// The ID in the 16 bytes at `id16`, as brook.h hands them out.
  static endpoint_id from_bytes(const uint8_t* id16) noexcept {
    endpoint_id id;
    std::memcpy(id.bytes_.data(), id16, 16);
    return id;
  }

  /// The 16 bytes.
  const std::array<uint8_t, 16>& bytes() const noexcept { return bytes_; }
  /// True unless all zeros.
  bool valid() const noexcept {
    for (uint8_t b : bytes_) {
      if (b != 0) {
        return true;
      }
    }
    return false;
  }
  explicit operator bool() const noexcept { return valid(); }

  /// Broker's rendering, `8-4-4-4-12` lowercase hex digits (brook_id_to_string()).
  std::string to_string() const {
    char* s = nullptr;
    detail::check(brook_id_to_string(bytes_.data(), &s), nullptr);
    std::string out(s);
    brook_string_free(s);
    return out;
  }

  /// Equality, and an order by the bytes.
  friend bool operator==(const endpoint_id& a, const endpoint_id& b) noexcept {
    return a.bytes_ == b.bytes_;
  }
  friend bool operator!=(const endpoint_id& a, const endpoint_id& b) noexcept { return !(a == b); }
  friend bool operator<(const endpoint_id& a, const endpoint_id& b) noexcept {
    return a.bytes_ < b.bytes_;
  }

 private:
  std::array<uint8_t, 16> bytes_{};
};

/// Broker's rendering of an endpoint ID.
inline std::string to_string(const endpoint_id& id) { return id.to_string(); }

/// A hierarchical topic, as Broker's `topic`: a string whose prefixes subscribers match.
/// Converts to std::string_view, which is what every call taking a topic accepts.
class topic {
 public:
  /// The separator between the levels of a topic.
  static constexpr char sep = '/';
  /// What marks Broker's internal topics.
  static constexpr std::string_view reserved = "<$>";
  /// Where the endpoint's own error and status events go (Broker's names).
  static constexpr std::string_view errors_str = "<$>/local/data/errors";
  static constexpr std::string_view statuses_str = "<$>/local/data/statuses";
  /// The prefix of a store's events: `store_events_str/<store name>`.
  static constexpr std::string_view store_events_str = "<$>/local/data/store-events";
  static constexpr std::string_view master_suffix_str = "<$>/data/master";
  static constexpr std::string_view clone_suffix_str = "<$>/data/clone";

  /// The empty topic, or one with the text given.
  topic() = default;
  topic(std::string s) : str_(std::move(s)) {}
  topic(std::string_view s) : str_(s) {}
  topic(const char* s) : str_(s) {}

  /// The topics of the constants above, as Broker's functions of the same names.
  static topic errors() { return topic(errors_str); }
  static topic statuses() { return topic(statuses_str); }
  static topic store_events() { return topic(store_events_str); }
  static topic master_suffix() { return topic(master_suffix_str); }
  static topic clone_suffix() { return topic(clone_suffix_str); }

  /// The topic as text.
  const std::string& string() const noexcept { return str_; }
  /// The topic as text, moved out.
  std::string&& move_string() && noexcept { return std::move(str_); }
  operator std::string_view() const noexcept { return str_; }
  bool empty() const noexcept { return str_.empty(); }

  /// True if `prefix` is a prefix of `str`: the rule by which topics match.
  static bool is_prefix(std::string_view str, std::string_view prefix) noexcept {
    return str.substr(0, prefix.size()) == prefix;
  }
  /// True if this topic is a prefix of `t`, so that a subscriber to this one receives `t`.
  bool prefix_of(const topic& t) const noexcept { return is_prefix(t.str_, str_); }

  /// The last level: the part after the last separator.
  std::string_view suffix() const noexcept {
    std::string_view s = str_;
    size_t i = s.rfind(sep);
    return i == std::string_view::npos ? s : s.substr(i + 1);
  }

  /// The levels of `t`, without separators and empty levels.
  static std::vector<std::string> split(const topic& t) {
    std::vector<std::string> out;
    std::string_view s = t.str_;
    while (!s.empty()) {
      size_t i = s.find(sep);
      std::string_view part = s.substr(0, i);
      if (!part.empty()) {
        out.emplace_back(part);
      }
      s = i == std::string_view::npos ? std::string_view() : s.substr(i + 1);
    }
    return out;
  }

  /// The levels joined with separators.
  static topic join(const std::vector<std::string>& components) {
    topic t;
    for (const std::string& c : components) {
      t /= topic(c);
    }
    return t;
  }

  /// Appends `t` with one separator in between.
  topic& operator/=(const topic& t) {
    if (t.str_.empty()) {
      return *this;
    }
    if (!str_.empty() && str_.back() != sep && t.str_.front() != sep) {
      str_ += sep;
    }
    if (!str_.empty() && str_.back() == sep && t.str_.front() == sep) {
      str_ += t.str_.substr(1);
    } else {
      str_ += t.str_;
    }
    return *this;
  }

  /// `a` and `b` joined with one separator; equality and order of the text.
  friend topic operator/(topic a, const topic& b) { return a /= b; }
  friend bool operator==(const topic& a, const topic& b) noexcept { return a.str_ == b.str_; }
  friend bool operator!=(const topic& a, const topic& b) noexcept { return a.str_ != b.str_; }
  friend bool operator<(const topic& a, const topic& b) noexcept { return a.str_ < b.str_; }

 private:
  std::string str_;
};

/// The topic as text.
inline const std::string& to_string(const topic& t) noexcept { return t.string(); }

/// Topics to subscribe to, as Broker's `filter_type`.
using filter_type = std::vector<topic>;

namespace literals {
/// `"/zeek/events"_t` is a brook::topic, as Broker's global `_t` literal.
inline topic operator""_t(const char* s, size_t n) { return topic(std::string_view(s, n)); }
}  // namespace literals

/// An enum value, known by its name alone (`Conn::LOG`), as Broker's `enum_value`.
struct enum_value {
  std::string name;
};

/// An enum value's name, borrowed, as Broker's `enum_value_view`.
struct enum_value_view {
  std::string_view name;
};

/// Equality and order of the names.
inline bool operator==(const enum_value& a, const enum_value& b) noexcept { return a.name == b.name; }
inline bool operator!=(const enum_value& a, const enum_value& b) noexcept { return a.name != b.name; }
inline bool operator<(const enum_value& a, const enum_value& b) noexcept { return a.name < b.name; }

class data;

/// An IPv4 or IPv6 address, as Broker's `address`: 16 bytes in network order, IPv4 being
/// v4-mapped (`::ffff:a.b.c.d`). Plain C++; text goes through brook.
class address {
 public:
  /// The address family, as in Broker.
  enum class family : uint8_t { ipv4, ipv6 };

  /// `::`, all zeros.
  address() noexcept = default;

  /// The IPv4 address with these 4 bytes in network order (`{192, 168, 0, 1}`).
  static address v4(const std::array<uint8_t, 4>& bytes) noexcept {
    address a;
    a.bytes_[10] = 0xff;
    a.bytes_[11] = 0xff;
    std::memcpy(a.bytes_.data() + 12, bytes.data(), 4);
    return a;
  }

  /// The address with these 16 bytes of IPv6 in network order.
  static address v6(const std::array<uint8_t, 16>& bytes) noexcept {
    address a;
    a.bytes_ = bytes;
    return a;
  }

  /// Parses dotted IPv4 (`10.0.0.1`) or IPv6 (`2001:db8::1`), through
  /// brook_data_new_address_from_string().
  /// Throws brook::error: BROOK_STATUS_INVALID_ARGUMENT if `text` is not an address.
  static address from_string(std::string_view text) { return parse(text, nullptr); }
  static address from_string(std::string_view text, error_info& err) { return parse(text, &err); }

  /// True if v4-mapped.
  bool is_v4() const noexcept {
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(bytes_.data(), prefix, 12) == 0;
  }
  bool is_v6() const noexcept { return !is_v4(); }
  family get_family() const noexcept { return is_v4() ? family::ipv4 : family::ipv6; }

  /// The 16 bytes, network order.
  const std::array<uint8_t, 16>& bytes() const noexcept { return bytes_; }
  std::array<uint8_t, 16>& bytes() noexcept { return bytes_; }

  /// Broker's text: `10.0.0.1` or `2001:db8::1`.
  std::string to_string() const;

  /// Equality, and an order by the bytes.
  friend bool operator==(const address& a, const address& b) noexcept { return a.bytes_ == b.bytes_; }
  friend bool operator!=(const address& a, const address& b) noexcept { return a.bytes_ != b.bytes_; }
  friend bool operator<(const address& a, const address& b) noexcept { return a.bytes_ < b.bytes_; }

 private:
  static address parse(std::string_view text, error_info* err);

  std::array<uint8_t, 16> bytes_{};
};

/// An IPv4 or IPv6 subnet, as Broker's `subnet`: a network address, masked, and a prefix
/// length in bits of the address's own family (at most 32 for IPv4, 128 for IPv6).
class subnet {
 public:
  /// `::/0`.
  subnet() noexcept = default;

  /// The subnet of `addr` with `length` bits, the address masked as Broker does
  /// (`10.1.2.3` with 8 gives `10.0.0.0/8`), through brook_data_new_subnet().
  /// Throws brook::error: BROOK_STATUS_INVALID_ARGUMENT if `length` is too long.
  subnet(const address& addr, uint8_t length) { *this = build(addr, length, nullptr); }
  /// Like the constructor, but an invalid length gives `::/0` and `err`.
  static subnet make(const address& addr, uint8_t length, error_info& err) {
    return build(addr, length, &err);
  }
  /// A subnet taken as it is, without masking or checks (Broker's `subnet::unchecked`).
  static subnet unchecked(const address& network, uint8_t length) noexcept {
    subnet s;
    s.net_ = network;
    s.len_ = length;
    return s;
  }

  /// Parses `address/prefix` (`10.0.0.0/8`), masking the address, through
  /// brook_data_new_subnet_from_string().
  /// Throws brook::error: BROOK_STATUS_INVALID_ARGUMENT if `text` is not a subnet.
  static subnet from_string(std::string_view text) { return parse(text, nullptr); }
  static subnet from_string(std::string_view text, error_info& err) { return parse(text, &err); }

  /// The network address (masked) and the prefix length.
  const address& network() const noexcept { return net_; }
  uint8_t length() const noexcept { return len_; }

  /// True if `a` lies in the subnet.
  bool contains(const address& a) const noexcept {
    if (net_.is_v4() != a.is_v4()) {
      return false;
    }
    unsigned bits = (net_.is_v4() ? 96u : 0u) + len_;
    for (unsigned i = 0; i < 16 && bits > 0; i++, bits = bits > 8 ? bits - 8 : 0) {
      uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
      if ((net_.bytes()[i] & mask) != (a.bytes()[i] & mask)) {
        return false;
      }
    }
    return true;
  }

  /// Broker's text: `10.0.0.0/8`.
  std::string to_string() const;

  /// Equality, and an order by network, then length.
  friend bool operator==(const subnet& a, const subnet& b) noexcept {
    return a.len_ == b.len_ && a.net_ == b.net_;
  }
  friend bool operator!=(const subnet& a, const subnet& b) noexcept { return !(a == b); }
  friend bool operator<(const subnet& a, const subnet& b) noexcept {
    return a.net_ < b.net_ || (a.net_ == b.net_ && a.len_ < b.len_);
  }

 private:
  static subnet build(const address& addr, uint8_t length, error_info* err);
  static subnet parse(std::string_view text, error_info* err);

  address net_;
  uint8_t len_ = 0;
};

/// A transport-layer port such as `80/tcp`, as Broker's `port`.
class port {
 public:
  using number_type = uint16_t;
  /// The transport protocol; the numbers are Broker's (brook_protocol).
  enum class protocol : uint8_t {
    unknown = BROOK_PROTOCOL_UNKNOWN,
    tcp = BROOK_PROTOCOL_TCP,
    udp = BROOK_PROTOCOL_UDP,
    icmp = BROOK_PROTOCOL_ICMP,
  };

  /// `0/?`.
  port() noexcept = default;
  port(number_type num, protocol p) noexcept : num_(num), proto_(p) {}

  /// The port number and its protocol.
  number_type number() const noexcept { return num_; }
  protocol type() const noexcept { return proto_; }

  /// Broker's text: `80/tcp`, `53/udp`, `8/icmp`, `0/?`.
  std::string to_string() const {
    static const char* const names[] = {"?", "tcp", "udp", "icmp"};
    return std::to_string(num_) + "/" + names[static_cast<unsigned>(proto_) & 3u];
  }

  /// Equality, and an order by number, then protocol.
  friend bool operator==(const port& a, const port& b) noexcept {
    return a.num_ == b.num_ && a.proto_ == b.proto_;
  }
  friend bool operator!=(const port& a, const port& b) noexcept { return !(a == b); }
  friend bool operator<(const port& a, const port& b) noexcept {
    return a.num_ < b.num_ || (a.num_ == b.num_ && a.proto_ < b.proto_);
  }

 private:
  number_type num_ = 0;
  protocol proto_ = protocol::unknown;
};

/// Broker's text of an address, a subnet or a port.
inline std::string to_string(const address& a) { return a.to_string(); }
inline std::string to_string(const subnet& s) { return s.to_string(); }
inline std::string to_string(const port& p) { return p.to_string(); }

// ---- data values -----------------------------------------------------------------------

/// A sequence of values, as Broker's `vector` (here of move-only brook::data).
using vector = std::vector<data>;
/// A set of values in Broker's order, as Broker's `set`.
using set = std::set<data>;
/// A map from values to values in Broker's order of the keys, as Broker's `table`.
using table = std::map<data, data>;

class data_view;

namespace detail {

// A position in a set, table or vector (brook_iter). Copies share the position, as
// input iterators may; the end is the empty state.
class container_walk {
 public:
  /// An empty handle (see OBJECTS at the top of this file).
  container_walk() noexcept = default;
  explicit container_walk(const brook_data* container) {
    brook_iter* raw = nullptr;
    check(brook_data_iter_new(container, &raw), nullptr);
    it_ = std::shared_ptr<brook_iter>(raw, brook_iter_free);
    step();
  }
  void step() {
    bool done = false;
    check(brook_iter_next(it_.get(), &key_, &value_, &done), nullptr);
    if (done) {
      it_.reset();
      key_ = value_ = nullptr;
    }
  }
  bool at_end() const noexcept { return it_ == nullptr; }
  bool same(const container_walk& o) const noexcept { return it_ == o.it_; }
  const brook_data* key() const noexcept { return key_; }
  const brook_data* value() const noexcept { return value_; }

 private:
  std::shared_ptr<brook_iter> it_;
  const brook_data* key_ = nullptr;
  const brook_data* value_ = nullptr;
};

}  // namespace detail

/// A data value that someone else owns: read-only access to any brook value. It is
/// borrowed, valid as long as the call that gave it says (typically until its container
/// is modified or freed). A default-constructed view refers to no value: operator bool is
/// false and reading it fails with BROOK_STATUS_NULL_ARGUMENT. Use from one thread at a
/// time, as the value it refers to.
class data_view {
 public:
  /// Broker's name of the type enumeration.
  using type = data_type;

  /// Iterates the elements of a set or vector, or the keys of a table, in order: Broker's
  /// order for sets and tables, insertion order for vectors. An input iterator; the
  /// container must outlive it and not be modified meanwhile.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = data_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const data_view*;
    using reference = data_view;

    /// The standard iterator operations; a default-constructed iterator is the end.
    iterator() noexcept = default;
    data_view operator*() const noexcept;
    iterator& operator++() {
      walk_.step();
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      walk_.step();
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.walk_.same(b.walk_); }
    friend bool operator!=(const iterator& a, const iterator& b) noexcept { return !(a == b); }

   private:
    friend class data_view;
    explicit iterator(const brook_data* c) : walk_(c) {}
    detail::container_walk walk_;
  };

  /// Iterates the entries of a table as (key, value) pairs of views, in Broker's order of
  /// the keys. An input iterator, like data_view::iterator.
  class item_iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = std::pair<data_view, data_view>;
    using difference_type = std::ptrdiff_t;
    using pointer = const value_type*;
    using reference = value_type;

    /// The standard iterator operations; a default-constructed iterator is the end.
    item_iterator() noexcept = default;
    value_type operator*() const noexcept;
    item_iterator& operator++() {
      walk_.step();
      return *this;
    }
    item_iterator operator++(int) {
      item_iterator old = *this;
      walk_.step();
      return old;
    }
    friend bool operator==(const item_iterator& a, const item_iterator& b) noexcept {
      return a.walk_.same(b.walk_);
    }
    friend bool operator!=(const item_iterator& a, const item_iterator& b) noexcept { return !(a == b); }

   private:
    friend class data_view;
    explicit item_iterator(const brook_data* c) : walk_(c) {}
    detail::container_walk walk_;
  };

  /// The entries of a table, for `for (auto [key, value] : d.items())`.
  struct item_range {
    item_iterator first;
    /// The first entry and the end.
    item_iterator begin() const noexcept { return first; }
    item_iterator end() const noexcept { return item_iterator(); }
  };

  /// A view of no value.
  data_view() noexcept = default;
  /// A view of the value at `d`, which stays the caller's.
  explicit data_view(const brook_data* d) noexcept : p_(d) {}

  /// The C value viewed (NULL for none).
  const brook_data* native_handle() const noexcept { return p_; }
  /// True if the view refers to a value (of any type, none included).
  explicit operator bool() const noexcept { return p_ != nullptr; }

  // -- type ------------------------------------------------------------------------------

  /// The value's type; data_type::none for a view of no value (brook_data_get_type()).
  type get_type() const noexcept { return static_cast<type>(brook_data_get_type(p_)); }
  /// Broker's name of the value's type, such as "count".
  const char* get_type_name() const noexcept { return type_name(get_type()); }

  /// True if the value has that type (false for a view of no value, except is_none()).
  bool is_none() const noexcept { return get_type() == type::none; }
  bool is_boolean() const noexcept { return get_type() == type::boolean; }
  bool is_count() const noexcept { return get_type() == type::count; }
  bool is_integer() const noexcept { return get_type() == type::integer; }
  bool is_real() const noexcept { return get_type() == type::real; }
  bool is_string() const noexcept { return get_type() == type::string; }
  bool is_address() const noexcept { return get_type() == type::address; }
  bool is_subnet() const noexcept { return get_type() == type::subnet; }
  bool is_port() const noexcept { return get_type() == type::port; }
  bool is_timestamp() const noexcept { return get_type() == type::timestamp; }
  bool is_timespan() const noexcept { return get_type() == type::timespan; }
  bool is_enum_value() const noexcept { return get_type() == type::enum_value; }
  bool is_set() const noexcept { return get_type() == type::set; }
  bool is_table() const noexcept { return get_type() == type::table; }
  bool is_vector() const noexcept { return get_type() == type::vector; }
  /// Broker's name for is_vector().
  bool is_list() const noexcept { return is_vector(); }

  // -- reading, with brook's errors ------------------------------------------------------

  /// The boolean (brook_data_get_bool()). Throws brook::error: BROOK_STATUS_TYPE_MISMATCH
  /// if the value is not a boolean, BROOK_STATUS_NULL_ARGUMENT for a view of no value. The
  /// other as_*() calls report the same for their own type.
  bool as_boolean() const { return get_bool(nullptr); }
  bool as_boolean(error_info& err) const { return get_bool(&err); }
  /// The count. A count is not an integer, nor the other way round.
  count as_count() const { return get_count(nullptr); }
  count as_count(error_info& err) const { return get_count(&err); }
  integer as_integer() const { return get_integer(nullptr); }
  integer as_integer(error_info& err) const { return get_integer(&err); }
  real as_real() const { return get_real(nullptr); }
  real as_real(error_info& err) const { return get_real(&err); }
  /// The string's bytes, which need not be UTF-8 and may hold NUL.
  /// Borrowed: valid until the value is modified or freed.
  std::string_view as_string() const { return get_string(nullptr); }
  std::string_view as_string(error_info& err) const { return get_string(&err); }
  address as_address() const { return get_address(nullptr); }
  address as_address(error_info& err) const { return get_address(&err); }
  subnet as_subnet() const { return get_subnet(nullptr); }
  subnet as_subnet(error_info& err) const { return get_subnet(&err); }
  port as_port() const { return get_port(nullptr); }
  port as_port(error_info& err) const { return get_port(&err); }
  timestamp as_timestamp() const { return get_timestamp(nullptr); }
  timestamp as_timestamp(error_info& err) const { return get_timestamp(&err); }
  timespan as_timespan() const { return get_timespan(nullptr); }
  timespan as_timespan(error_info& err) const { return get_timespan(&err); }
  /// The enum value's name. Borrowed: valid until the value is modified or freed.
  enum_value_view as_enum_value() const { return get_enum(nullptr); }
  enum_value_view as_enum_value(error_info& err) const { return get_enum(&err); }
  /// Copies of a vector's elements. The result is new; the caller owns it. Throws
  /// brook::error: BROOK_STATUS_TYPE_MISMATCH if the value is not a vector.
  brook::vector as_vector() const;
  brook::vector as_vector(error_info& err) const;
  /// Copies of a set's elements. Like as_vector(), but for sets.
  brook::set as_set() const;
  brook::set as_set(error_info& err) const;
  /// Copies of a table's entries. Like as_vector(), but for tables.
  brook::table as_table() const;
  brook::table as_table(error_info& err) const;

  // -- reading as in Broker: a fallback instead of an error ------------------------------

  /// The boolean, or `fallback` if the value is none (Broker's `to_boolean`). The other
  /// to_*() calls work the same way for their type; none throws.
  bool to_boolean(bool fallback = false) const noexcept { return or_else(&data_view::get_bool, fallback); }
  count to_count(count fallback = 0) const noexcept { return or_else(&data_view::get_count, fallback); }
  integer to_integer(integer fallback = 0) const noexcept {
    return or_else(&data_view::get_integer, fallback);
  }
  real to_real(real fallback = 0) const noexcept { return or_else(&data_view::get_real, fallback); }
  /// The string's bytes, or an empty view if the value is no string (Broker's
  /// `to_string` member; brook::to_string(d) renders a value as text).
  /// Borrowed: valid until the value is modified or freed.
  std::string_view to_string() const noexcept {
    return or_else(&data_view::get_string, std::string_view());
  }
  address to_address(const address& fallback = {}) const noexcept {
    return or_else(&data_view::get_address, fallback);
  }
  subnet to_subnet(const subnet& fallback = {}) const noexcept {
    return or_else(&data_view::get_subnet, fallback);
  }
  port to_port(port fallback = {}) const noexcept { return or_else(&data_view::get_port, fallback); }
  timestamp to_timestamp(timestamp fallback = {}) const noexcept {
    return or_else(&data_view::get_timestamp, fallback);
  }
  timespan to_timespan(timespan fallback = {}) const noexcept {
    return or_else(&data_view::get_timespan, fallback);
  }
  /// The enum value's name, or an empty one. Borrowed: valid until the value is modified
  /// or freed.
  enum_value_view to_enum_value() const noexcept {
    return or_else(&data_view::get_enum, enum_value_view{});
  }

  // -- containers ------------------------------------------------------------------------

  /// The number of elements of a set or vector, or of entries of a table
  /// (brook_data_container_len()). Throws brook::error: BROOK_STATUS_TYPE_MISMATCH if the
  /// value is not a container.
  size_t size() const { return container_size(nullptr); }
  size_t size(error_info& err) const { return container_size(&err); }
  /// True if the container has no elements. Throws as size().
  bool empty() const { return size() == 0; }

  /// The element at `index` of a vector (brook_data_vector_get()).
  /// Borrowed: valid until the vector is modified or freed.
  /// Throws brook::error: BROOK_STATUS_OUT_OF_RANGE if `index` is not below the length,
  /// BROOK_STATUS_TYPE_MISMATCH if the value is not a vector.
  data_view at(size_t index) const { return vector_get(index, nullptr); }
  data_view at(size_t index, error_info& err) const { return vector_get(index, &err); }
  /// Like at().
  data_view operator[](size_t index) const { return vector_get(index, nullptr); }

  /// The value of `key` in a table, or a view of no value if the key is absent
  /// (brook_data_table_find()). Borrowed: valid until the table is modified or freed.
  /// Throws brook::error: BROOK_STATUS_TYPE_MISMATCH if the value is not a table.
  data_view find(data_view key) const { return table_find(key, nullptr); }
  data_view find(data_view key, error_info& err) const { return table_find(key, &err); }

  /// True if a set holds an element equal to `x`, or a table has the key `x`.
  /// Throws brook::error: BROOK_STATUS_TYPE_MISMATCH if the value is neither.
  bool contains(data_view x) const { return container_has(x, nullptr); }
  bool contains(data_view x, error_info& err) const { return container_has(x, &err); }

  /// The first element of a set or vector, or the first key of a table (see iterator).
  /// Throws brook::error: BROOK_STATUS_TYPE_MISMATCH if the value is not a container.
  iterator begin() const { return iterator(p_); }
  iterator end() const noexcept { return iterator(); }
  /// The entries of a table as (key, value) pairs. Throws as begin().
  item_range items() const { return item_range{item_iterator(p_)}; }

  // -- copies and encodings --------------------------------------------------------------

  /// A deep copy of the value (brook_data_clone()). The result is new; the caller owns
  /// it. Throws brook::error: BROOK_STATUS_NULL_ARGUMENT for a view of no value.
  data clone() const;
  data clone(error_info& err) const;

  /// The value in Broker's binary format v1 (brook_data_to_bytes()), copied into a vector
  /// the caller owns. Throws brook::error: BROOK_STATUS_ENCODE_ERROR if a string or
  /// container inside is 2^32 bytes or elements long or more.
  std::vector<uint8_t> to_bytes() const { return encode(nullptr); }
  std::vector<uint8_t> to_bytes(error_info& err) const { return encode(&err); }

  /// The value as a JSON object of Broker's WebSocket API v1 (brook_data_to_json()).
  /// Throws brook::error: BROOK_STATUS_NULL_ARGUMENT for a view of no value.
  std::string to_json() const { return json(nullptr); }
  std::string to_json(error_info& err) const { return json(&err); }

 protected:
  const brook_data* p_ = nullptr;

 private:
  template <class T>
  T or_else(T (data_view::*get)(error_info*) const, T fallback) const noexcept {
    error_info err;
    try {
      T v = (this->*get)(&err);
      return err ? fallback : v;
    } catch (...) {
      return fallback;
    }
  }

  bool get_bool(error_info* err) const {
    bool v = false;
    detail::check(brook_data_get_bool(p_, &v), err);
    return v;
  }
  count get_count(error_info* err) const {
    uint64_t v = 0;
    detail::check(brook_data_get_count(p_, &v), err);
    return v;
  }
  integer get_integer(error_info* err) const {
    int64_t v = 0;
    detail::check(brook_data_get_integer(p_, &v), err);
    return v;
  }
  real get_real(error_info* err) const {
    double v = 0;
    detail::check(brook_data_get_real(p_, &v), err);
    return v;
  }
  std::string_view get_string(error_info* err) const {
    const uint8_t* buf = nullptr;
    size_t len = 0;
    if (!detail::check(brook_data_get_string(p_, &buf, &len), err)) {
      return {};
    }
    return detail::bytes_text(buf, len);
  }
  enum_value_view get_enum(error_info* err) const {
    const uint8_t* buf = nullptr;
    size_t len = 0;
    if (!detail::check(brook_data_get_enum(p_, &buf, &len), err)) {
      return {};
    }
    return enum_value_view{detail::bytes_text(buf, len)};
  }
  address get_address(error_info* err) const {
    std::array<uint8_t, 16> b{};
    if (!detail::check(brook_data_get_address(p_, b.data()), err)) {
      return {};
    }
    return address::v6(b);
  }
  subnet get_subnet(error_info* err) const {
    std::array<uint8_t, 16> b{};
    uint8_t len = 0;
    if (!detail::check(brook_data_get_subnet(p_, b.data(), &len), err)) {
      return {};
    }
    return subnet::unchecked(address::v6(b), len);
  }
  port get_port(error_info* err) const {
    uint16_t n = 0;
    brook_protocol proto = BROOK_PROTOCOL_UNKNOWN;
    if (!detail::check(brook_data_get_port(p_, &n, &proto), err)) {
      return {};
    }
    return port(n, static_cast<port::protocol>(proto));
  }
  timestamp get_timestamp(error_info* err) const {
    int64_t ns = 0;
    detail::check(brook_data_get_timestamp(p_, &ns), err);
    return timestamp(timespan(ns));
  }
  timespan get_timespan(error_info* err) const {
    int64_t ns = 0;
    detail::check(brook_data_get_timespan(p_, &ns), err);
    return timespan(ns);
  }
  size_t container_size(error_info* err) const {
    size_t n = 0;
    detail::check(brook_data_container_len(p_, &n), err);
    return n;
  }
  data_view vector_get(size_t index, error_info* err) const {
    const brook_data* e = nullptr;
    detail::check(brook_data_vector_get(p_, index, &e), err);
    return data_view(e);
  }
  data_view table_find(data_view key, error_info* err) const {
    const brook_data* v = nullptr;
    detail::check(brook_data_table_find(p_, key.p_, &v), err);
    return data_view(v);
  }
  bool container_has(data_view x, error_info* err) const {
    if (is_table()) {
      return static_cast<bool>(table_find(x, err));
    }
    bool has = false;
    detail::check(brook_data_set_contains(p_, x.p_, &has), err);
    return has;
  }
  std::vector<uint8_t> encode(error_info* err) const {
    uint8_t* buf = nullptr;
    size_t len = 0;
    if (!detail::check(brook_data_to_bytes(p_, &buf, &len), err)) {
      return {};
    }
    std::vector<uint8_t> out;
    try {
      out.assign(buf, buf + len);
    } catch (...) {
      brook_bytes_free(buf, len);
      throw;
    }
    brook_bytes_free(buf, len);
    return out;
  }
  std::string json(error_info* err) const {
    char* s = nullptr;
    if (!detail::check(brook_data_to_json(p_, &s), err)) {
      return {};
    }
    std::unique_ptr<char, void (*)(char*)> owned(s, brook_string_free);
    return std::string(s);
  }
  template <class C>
  C copy_container(type want, error_info* err) const;
  data clone_impl(error_info* err) const;
};

/// Broker's text rendering of a value, byte for byte as `broker::to_string` gives it
/// (brook_data_to_string()): `(1, T, 4.200000, 10.0.0.0/8, {a, b}, {k -> v})`. May hold
/// NUL bytes (strings are copied raw). Throws brook::error: BROOK_STATUS_NULL_ARGUMENT for
/// a view of no value.
inline std::string to_string(data_view d) {
  char* s = nullptr;
  size_t len = 0;
  detail::check(brook_data_to_string(d.native_handle(), &s, &len), nullptr);
  std::unique_ptr<char, void (*)(char*)> owned(s, brook_string_free);
  return std::string(s, len);
}

/// Writes to_string(d), or `<no value>` for a view of no value.
inline std::ostream& operator<<(std::ostream& os, data_view d) {
  return d ? os << to_string(d) : os << "<no value>";
}

/// Broker's total order: by type first, then by value (brook_data_compare()); NaN equals
/// NaN and sorts after every other real. A view of no value sorts first.
inline int compare(data_view a, data_view b) noexcept {
  if (!a || !b) {
    return (a ? 1 : 0) - (b ? 1 : 0);
  }
  int order = 0;
  brook_data_compare(a.native_handle(), b.native_handle(), &order);
  return order;
}
inline bool operator==(data_view a, data_view b) noexcept {
  return brook_data_equal(a.native_handle(), b.native_handle());
}
inline bool operator!=(data_view a, data_view b) noexcept { return !(a == b); }
inline bool operator<(data_view a, data_view b) noexcept { return compare(a, b) < 0; }
inline bool operator<=(data_view a, data_view b) noexcept { return compare(a, b) <= 0; }
inline bool operator>(data_view a, data_view b) noexcept { return compare(a, b) > 0; }
inline bool operator>=(data_view a, data_view b) noexcept { return compare(a, b) >= 0; }

/// A data value the caller owns, of any Broker type, as Broker's `data`: a move-only
/// handle on a brook_data, freed with it. It is a data_view of its own value, so every
/// reading call of data_view works on it. Implicit constructors make values from C++
/// values as Broker's do: bool a boolean, unsigned integers a count, signed integers an
/// integer, floating point a real, text a string, brook::nil none. Copies are explicit:
/// clone(). A default-constructed or moved-from data holds no value (operator bool is
/// false), unlike Broker's, which is nil. Use from one thread at a time.
class data : public data_view {
 public:
  /// No value (not nil: that is `data(nil)`).
  data() noexcept = default;
  data(data&& other) noexcept : data_view(other.p_) { other.p_ = nullptr; }
  data& operator=(data&& other) noexcept {
    if (this != &other) {
      brook_data_free(mut());
      p_ = other.p_;
      other.p_ = nullptr;
    }
    return *this;
  }
  data(const data&) = delete;
  data& operator=(const data&) = delete;
  ~data() { brook_data_free(mut()); }

  /// Takes ownership of `d`, a value the caller owned (from a brook.h call).
  static data adopt(brook_data* d) noexcept {
    data out;
    out.p_ = d;
    return out;
  }
  /// The value, still owned by this object.
  brook_data* native_handle() const noexcept { return mut(); }
  /// Gives up ownership: the caller owns the result and frees it with brook_data_free().
  brook_data* release() noexcept {
    brook_data* d = mut();
    p_ = nullptr;
    return d;
  }

  // -- making values (each throws only on memory or brook failing: BROOK_STATUS_PANIC) --

  /// None, Broker's nil (`nil` in text).
  data(none) { make([](brook_data** o) { return brook_data_new_none(o); }); }
  /// A boolean. (A template, so that pointers do not turn into booleans.)
  template <class T, std::enable_if_t<std::is_same_v<T, bool>, int> = 0>
  data(T x) {
    make([x](brook_data** o) { return brook_data_new_bool(x, o); });
  }
  /// A count from an unsigned integer, an integer from a signed one (chars included).
  template <class T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  data(T x) {
    if constexpr (std::is_unsigned_v<T>) {
      uint64_t v = x;
      make([v](brook_data** o) { return brook_data_new_count(v, o); });
    } else {
      int64_t v = x;
      make([v](brook_data** o) { return brook_data_new_integer(v, o); });
    }
  }
  /// A real.
  template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  data(T x) {
    double v = static_cast<double>(x);
    make([v](brook_data** o) { return brook_data_new_real(v, o); });
  }
  /// A string, copied: any bytes, NUL included.
  data(std::string_view s) {
    make([s](brook_data** o) {
      return brook_data_new_string(reinterpret_cast<const uint8_t*>(s.data()), s.size(), o);
    });
  }
  data(const std::string& s) : data(std::string_view(s)) {}
  data(const char* s) : data(std::string_view(s)) {}
  data(std::nullptr_t) = delete;
  /// An address.
  data(const address& a) {
    make([&a](brook_data** o) { return brook_data_new_address_v6(a.bytes().data(), o); });
  }
  /// A subnet. Its address is masked, as subnet's constructor does.
  data(const subnet& s) {
    data net(s.network());
    make([&](brook_data** o) { return brook_data_new_subnet(net.native_handle(), s.length(), o); });
  }
  /// A port.
  data(const port& p) {
    make([&p](brook_data** o) {
      return brook_data_new_port(p.number(), static_cast<uint32_t>(p.type()), o);
    });
  }
  /// A timestamp.
  data(timestamp t) {
    int64_t ns = t.time_since_epoch().count();
    make([ns](brook_data** o) { return brook_data_new_timestamp(ns, o); });
  }
  /// A timespan.
  data(timespan t) {
    int64_t ns = t.count();
    make([ns](brook_data** o) { return brook_data_new_timespan(ns, o); });
  }
  /// An enum value.
  data(const enum_value& e) : data(enum_value_view{e.name}) {}
  data(enum_value_view e) {
    make([e](brook_data** o) {
      return brook_data_new_enum(reinterpret_cast<const uint8_t*>(e.name.data()), e.name.size(), o);
    });
  }
  /// A vector of copies of the elements of `xs`.
  data(const brook::vector& xs) : data(make_vector()) {
    for (const data& x : xs) {
      detail::check(brook_data_vector_push(mut(), x.p_), nullptr);
    }
  }
  /// A set of copies of the elements of `xs`.
  data(const brook::set& xs) : data(make_set()) {
    for (const data& x : xs) {
      detail::check(brook_data_set_insert(mut(), x.p_, nullptr), nullptr);
    }
  }
  /// A table of copies of the entries of `xs`.
  data(const brook::table& xs) : data(make_table()) {
    for (const auto& kv : xs) {
      detail::check(brook_data_table_insert(mut(), kv.first.p_, kv.second.p_), nullptr);
    }
  }

  /// An empty set; add elements with insert().
  static data make_set() {
    data d;
    d.make([](brook_data** o) { return brook_data_new_set(o); });
    return d;
  }
  /// An empty table; add entries with insert_or_assign().
  static data make_table() {
    data d;
    d.make([](brook_data** o) { return brook_data_new_table(o); });
    return d;
  }
  /// An empty vector; append elements with push_back().
  static data make_vector() {
    data d;
    d.make([](brook_data** o) { return brook_data_new_vector(o); });
    return d;
  }

  /// Decodes one value in Broker's binary format v1 (brook_data_from_bytes()); trailing
  /// bytes are an error. The result is new; the caller owns it.
  /// Throws brook::error: BROOK_STATUS_DECODE_ERROR for malformed input (the message names
  /// the byte offset).
  static data from_bytes(byte_view bytes) { return decode(bytes, nullptr); }
  static data from_bytes(byte_view bytes, error_info& err) { return decode(bytes, &err); }
  /// Decodes a JSON value object of Broker's WebSocket API v1 (brook_data_from_json()).
  /// Throws brook::error: BROOK_STATUS_DECODE_ERROR for malformed input,
  /// BROOK_STATUS_INVALID_ARGUMENT if `json` holds a NUL byte.
  static data from_json(std::string_view json) { return parse_json(json, nullptr); }
  static data from_json(std::string_view json, error_info& err) { return parse_json(json, &err); }
  /// Parses brook's reading of Broker's text form (brook_data_from_text()): `42` a count,
  /// `-1` an integer, `'Conn::LOG'` an enum value, `{1, 2}` a set, ...
  /// Throws brook::error: BROOK_STATUS_DECODE_ERROR if it does not parse (the message names
  /// the offset), BROOK_STATUS_INVALID_ARGUMENT for a NUL byte or text that is not UTF-8.
  static data from_text(std::string_view text) { return parse_text(text, nullptr); }
  static data from_text(std::string_view text, error_info& err) { return parse_text(text, &err); }

  // -- changing containers ---------------------------------------------------------------

  /// Appends a copy of `x` to a vector (brook_data_vector_push()). Invalidates views into
  /// this value. Throws brook::error: BROOK_STATUS_TYPE_MISMATCH if the value is not a
  /// vector.
  void push_back(const class data_arg& x);
  void push_back(const class data_arg& x, error_info& err);
  /// Inserts a copy of `x` into a set unless an equal element is there already
  /// (brook_data_set_insert()); true if it was inserted. Invalidates views into this value.
  /// Throws brook::error: BROOK_STATUS_TYPE_MISMATCH if the value is not a set.
  bool insert(const class data_arg& x);
  bool insert(const class data_arg& x, error_info& err);
  /// Sets `key` to a copy of `value` in a table, replacing any value it had
  /// (brook_data_table_insert()). Invalidates views into this value.
  /// Throws brook::error: BROOK_STATUS_TYPE_MISMATCH if the value is not a table.
  void insert_or_assign(const class data_arg& key, const class data_arg& value);
  void insert_or_assign(const class data_arg& key, const class data_arg& value, error_info& err);

 private:
  brook_data* mut() const noexcept { return const_cast<brook_data*>(p_); }

  template <class F>
  void make(F&& f) {
    brook_data* out = nullptr;
    detail::check(f(&out), nullptr);
    brook_data_free(mut());
    p_ = out;
  }

  static data decode(byte_view bytes, error_info* err) {
    brook_data* out = nullptr;
    if (!detail::check(brook_data_from_bytes(bytes.data(), bytes.size(), &out), err)) {
      return {};
    }
    return adopt(out);
  }
  static data parse_json(std::string_view json, error_info* err) {
    std::string text;
    brook_data* out = nullptr;
    if (!detail::c_text(json, "JSON text", text, err) ||
        !detail::check(brook_data_from_json(text.c_str(), &out), err)) {
      return {};
    }
    return adopt(out);
  }
  static data parse_text(std::string_view s, error_info* err) {
    std::string text;
    brook_data* out = nullptr;
    if (!detail::c_text(s, "text", text, err) ||
        !detail::check(brook_data_from_text(text.c_str(), &out), err)) {
      return {};
    }
    return adopt(out);
  }
};

/// What every call taking a value accepts: a data or a data_view, only read, or anything
/// a data can be made from (`1u`, `"text"`, an address, brook::nil, ...), made into a
/// temporary data that lives until the call returns. Not copyable: it only passes values
/// into calls.
class data_arg {
 public:
  /// The value `v` refers to, borrowed for the call.
  data_arg(data_view v) noexcept : view_(v) {}
  /// A temporary value made from `x` as a data constructor makes it.
  template <class T, std::enable_if_t<!std::is_base_of_v<data_view, std::decay_t<T>> &&
                                          !std::is_same_v<std::decay_t<T>, data_arg> &&
                                          std::is_constructible_v<data, T&&>,
                                      int> = 0>
  data_arg(T&& x) : owned_(std::forward<T>(x)), view_(owned_) {}
  data_arg(const data_arg&) = delete;
  data_arg& operator=(const data_arg&) = delete;

  /// The value.
  data_view view() const noexcept { return view_; }
  /// The C value, for brook.h (NULL for a view of no value).
  const brook_data* get() const noexcept { return view_.native_handle(); }

 private:
  data owned_;
  data_view view_;
};

/// One entry for make_table(): a key and its value.
struct key_value {
  data_arg key;
  data_arg value;
};

/// A vector of copies of `xs`, in order: `brook::make_vector({1u, "two", 3.0})` is
/// Broker's `broker::vector{1u, "two", 3.0}`. The result is new; the caller owns it.
inline data make_vector(std::initializer_list<data_arg> xs) {
  data d = data::make_vector();
  for (const data_arg& x : xs) {
    d.push_back(x);
  }
  return d;
}

/// A set of copies of `xs` (duplicates count once): `brook::make_set({1u, 2u})`.
inline data make_set(std::initializer_list<data_arg> xs) {
  data d = data::make_set();
  for (const data_arg& x : xs) {
    d.insert(x);
  }
  return d;
}

/// A table of copies of `xs` (a later equal key wins): `brook::make_table({{"a", 1u}})`.
inline data make_table(std::initializer_list<key_value> xs) {
  data d = data::make_table();
  for (const key_value& kv : xs) {
    d.insert_or_assign(kv.key, kv.value);
  }
  return d;
}

inline void data::push_back(const data_arg& x) { detail::check(brook_data_vector_push(mut(), x.get()), nullptr); }
inline void data::push_back(const data_arg& x, error_info& err) {
  detail::check(brook_data_vector_push(mut(), x.get()), &err);
}
inline bool data::insert(const data_arg& x) {
  bool inserted = false;
  detail::check(brook_data_set_insert(mut(), x.get(), &inserted), nullptr);
  return inserted;
}
inline bool data::insert(const data_arg& x, error_info& err) {
  bool inserted = false;
  detail::check(brook_data_set_insert(mut(), x.get(), &inserted), &err);
  return inserted;
}
inline void data::insert_or_assign(const data_arg& key, const data_arg& value) {
  detail::check(brook_data_table_insert(mut(), key.get(), value.get()), nullptr);
}
inline void data::insert_or_assign(const data_arg& key, const data_arg& value, error_info& err) {
  detail::check(brook_data_table_insert(mut(), key.get(), value.get()), &err);
}

inline data_view data_view::iterator::operator*() const noexcept { return data_view(walk_.key()); }
inline std::pair<data_view, data_view> data_view::item_iterator::operator*() const noexcept {
  return {data_view(walk_.key()), data_view(walk_.value())};
}

inline data data_view::clone() const { return clone_impl(nullptr); }
inline data data_view::clone(error_info& err) const { return clone_impl(&err); }

template <class C>
C data_view::copy_container(type want, error_info* err) const {
  C out;
  if (!detail::check(p_ == nullptr ? BROOK_STATUS_NULL_ARGUMENT : BROOK_STATUS_OK, err)) {
    return out;
  }
  if (get_type() != want) {
    detail::fail(BROOK_STATUS_TYPE_MISMATCH,
                 std::string("expected a ") + type_name(want) + ", got a " + get_type_name(), err);
    return out;
  }
  if constexpr (std::is_same_v<C, brook::table>) {
    for (auto [k, v] : items()) {
      out.emplace(k.clone(), v.clone());
    }
  } else if constexpr (std::is_same_v<C, brook::set>) {
    for (data_view x : *this) {
      out.insert(x.clone());
    }
  } else {
    for (data_view x : *this) {
      out.push_back(x.clone());
    }
  }
  return out;
}

inline brook::vector data_view::as_vector() const { return copy_container<brook::vector>(type::vector, nullptr); }
inline brook::vector data_view::as_vector(error_info& err) const {
  return copy_container<brook::vector>(type::vector, &err);
}
inline brook::set data_view::as_set() const { return copy_container<brook::set>(type::set, nullptr); }
inline brook::set data_view::as_set(error_info& err) const { return copy_container<brook::set>(type::set, &err); }
inline brook::table data_view::as_table() const { return copy_container<brook::table>(type::table, nullptr); }
inline brook::table data_view::as_table(error_info& err) const {
  return copy_container<brook::table>(type::table, &err);
}

inline data data_view::clone_impl(error_info* err) const {
  brook_data* out = nullptr;
  if (!detail::check(brook_data_clone(p_, &out), err)) {
    return {};
  }
  return data::adopt(out);
}

inline address address::parse(std::string_view text, error_info* err) {
  std::string t;
  brook_data* d = nullptr;
  if (!detail::c_text(text, "an address", t, err) ||
      !detail::check(brook_data_new_address_from_string(t.c_str(), &d), err)) {
    return {};
  }
  return data::adopt(d).to_address();
}

inline std::string address::to_string() const { return brook::to_string(data(*this)); }

inline subnet subnet::build(const address& addr, uint8_t length, error_info* err) {
  data net(addr);
  brook_data* d = nullptr;
  if (!detail::check(brook_data_new_subnet(net.native_handle(), length, &d), err)) {
    return {};
  }
  return data::adopt(d).to_subnet();
}

inline subnet subnet::parse(std::string_view text, error_info* err) {
  std::string t;
  brook_data* d = nullptr;
  if (!detail::c_text(text, "a subnet", t, err) ||
      !detail::check(brook_data_new_subnet_from_string(t.c_str(), &d), err)) {
    return {};
  }
  return data::adopt(d).to_subnet();
}

inline std::string subnet::to_string() const { return brook::to_string(data(*this)); }

namespace detail {
template <class>
inline constexpr bool unsupported_type = false;
}  // namespace detail

/// The type tag of `T` among the types a data value holds (bool, count, integer, real,
/// std::string and std::string_view, address, subnet, port, timestamp, timespan,
/// enum_value, none, brook::set, brook::table, brook::vector).
template <class T>
constexpr data_type data_tag() noexcept {
  using U = std::decay_t<T>;
  if constexpr (std::is_same_v<U, none>) {
    return data_type::none;
  } else if constexpr (std::is_same_v<U, bool>) {
    return data_type::boolean;
  } else if constexpr (std::is_same_v<U, count>) {
    return data_type::count;
  } else if constexpr (std::is_same_v<U, integer>) {
    return data_type::integer;
  } else if constexpr (std::is_same_v<U, real>) {
    return data_type::real;
  } else if constexpr (std::is_same_v<U, std::string> || std::is_same_v<U, std::string_view>) {
    return data_type::string;
  } else if constexpr (std::is_same_v<U, address>) {
    return data_type::address;
  } else if constexpr (std::is_same_v<U, subnet>) {
    return data_type::subnet;
  } else if constexpr (std::is_same_v<U, port>) {
    return data_type::port;
  } else if constexpr (std::is_same_v<U, timestamp>) {
    return data_type::timestamp;
  } else if constexpr (std::is_same_v<U, timespan>) {
    return data_type::timespan;
  } else if constexpr (std::is_same_v<U, enum_value> || std::is_same_v<U, enum_value_view>) {
    return data_type::enum_value;
  } else if constexpr (std::is_same_v<U, brook::set>) {
    return data_type::set;
  } else if constexpr (std::is_same_v<U, brook::table>) {
    return data_type::table;
  } else if constexpr (std::is_same_v<U, brook::vector>) {
    return data_type::vector;
  } else {
    static_assert(detail::unsupported_type<T>, "not a type a brook data value holds");
    return data_type::none;
  }
}

/// True if `d` holds a `T` (a type that data_tag() knows), as Broker's `is<T>`.
template <class T>
bool is(data_view d) noexcept {
  return d && d.get_type() == data_tag<T>();
}

/// The `T` that `d` holds, as Broker's `get<T>`, but throwing brook::error instead of
/// bad_variant_access: BROOK_STATUS_TYPE_MISMATCH if `d` holds another type. A
/// std::string_view or enum_value_view result is borrowed, valid until `d` is modified or
/// freed; containers come as copies the caller owns.
template <class T>
T get(data_view d) {
  using U = std::decay_t<T>;
  if constexpr (std::is_same_v<U, none>) {
    if (!d.is_none()) {
      detail::fail(d ? BROOK_STATUS_TYPE_MISMATCH : BROOK_STATUS_NULL_ARGUMENT,
                   std::string("expected none, got a ") + d.get_type_name(), nullptr);
    }
    return none{};
  } else if constexpr (std::is_same_v<U, bool>) {
    return d.as_boolean();
  } else if constexpr (std::is_same_v<U, count>) {
    return d.as_count();
  } else if constexpr (std::is_same_v<U, integer>) {
    return d.as_integer();
  } else if constexpr (std::is_same_v<U, real>) {
    return d.as_real();
  } else if constexpr (std::is_same_v<U, std::string_view>) {
    return d.as_string();
  } else if constexpr (std::is_same_v<U, std::string>) {
    return std::string(d.as_string());
  } else if constexpr (std::is_same_v<U, address>) {
    return d.as_address();
  } else if constexpr (std::is_same_v<U, subnet>) {
    return d.as_subnet();
  } else if constexpr (std::is_same_v<U, port>) {
    return d.as_port();
  } else if constexpr (std::is_same_v<U, timestamp>) {
    return d.as_timestamp();
  } else if constexpr (std::is_same_v<U, timespan>) {
    return d.as_timespan();
  } else if constexpr (std::is_same_v<U, enum_value_view>) {
    return d.as_enum_value();
  } else if constexpr (std::is_same_v<U, enum_value>) {
    return enum_value{std::string(d.as_enum_value().name)};
  } else if constexpr (std::is_same_v<U, brook::set>) {
    return d.as_set();
  } else if constexpr (std::is_same_v<U, brook::table>) {
    return d.as_table();
  } else if constexpr (std::is_same_v<U, brook::vector>) {
    return d.as_vector();
  } else {
    static_assert(detail::unsupported_type<T>, "not a type a brook data value holds");
  }
}

// ---- messages and Zeek's messages ------------------------------------------------------

namespace zeek {
class Event;
}  // namespace zeek

/// A message taken from a subscriber: its topic and its value, kept in Broker's binary
/// format until value() or event() decodes it. As Broker's `data_message`. A move-only
/// handle on a brook_message. Use from one thread at a time.
class message {
 public:
  /// No message.
  message() noexcept = default;
  /// Takes ownership of `m`, a message the caller owned (from brook_subscriber_next()).
  static message adopt(brook_message* m) noexcept {
    message out;
    out.h_.reset(m);
    return out;
  }

  /// The topic it was published on (brook_message_topic()); empty for no message.
  /// Borrowed: valid until the message is freed.
  std::string_view topic() const noexcept {
    const uint8_t* buf = nullptr;
    size_t len = 0;
    if (brook_message_topic(h_.get(), &buf, &len) != BROOK_STATUS_OK) {
      return {};
    }
    return detail::bytes_text(buf, len);
  }

  /// The value's bytes as they came off the wire, in Broker's binary format v1
  /// (brook_message_payload()); empty for no message. data::from_bytes() decodes them.
  /// Borrowed: valid until the message is freed.
  byte_view payload() const noexcept {
    const uint8_t* buf = nullptr;
    size_t len = 0;
    if (brook_message_payload(h_.get(), &buf, &len) != BROOK_STATUS_OK) {
      return {};
    }
    return byte_view(buf, len);
  }

  /// Decodes the value (brook_message_data()). The result is new; the caller owns it.
  /// Throws brook::error: BROOK_STATUS_DECODE_ERROR if a peer sent a malformed value.
  data value() const { return decode(nullptr); }
  data value(error_info& err) const { return decode(&err); }

  /// Decodes the value as a Zeek event, checking it as Broker's `valid()` does
  /// (brook_message_event()). The result is new; the caller owns it.
  /// Throws brook::error: BROOK_STATUS_TYPE_MISMATCH if the value is no Zeek event,
  /// BROOK_STATUS_DECODE_ERROR if it is malformed.
  zeek::Event event() const;
  zeek::Event event(error_info& err) const;

  /// The message, still owned by this object.
  brook_message* native_handle() const noexcept { return h_.get(); }
  /// Gives up ownership: the caller owns the result and frees it with brook_message_free().
  brook_message* release() noexcept { return h_.release(); }
  /// True unless the handle is empty.
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  data decode(error_info* err) const {
    brook_data* d = nullptr;
    if (!detail::check(brook_message_data(h_.get(), &d), err)) {
      return {};
    }
    return data::adopt(d);
  }
  zeek::Event decode_event(error_info* err) const;

  detail::handle<brook_message, brook_message_free> h_;
};

/// The topic of `m`, as Broker's `get_topic`. Borrowed: valid until `m` is freed.
inline std::string_view get_topic(const message& m) noexcept { return m.topic(); }
/// The decoded value of `m`, as Broker's `get_data`; throws as message::value().
inline data get_data(const message& m) { return m.value(); }

namespace detail {

// Walks what `Get` reads by index from an owner (an event's arguments, a batch's
// messages), as views. A forward iterator; the owner must outlive it.
template <class T, brook_status (*Get)(const T*, size_t, const brook_data**)>
class index_iterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = data_view;
  using difference_type = std::ptrdiff_t;
  using pointer = const data_view*;
  using reference = data_view;

  /// An empty handle (see OBJECTS at the top of this file).
  index_iterator() noexcept = default;
  index_iterator(const T* owner, size_t i) noexcept : owner_(owner), i_(i) {}
  data_view operator*() const noexcept {
    const brook_data* d = nullptr;
    Get(owner_, i_, &d);
    return data_view(d);
  }
  index_iterator& operator++() noexcept {
    ++i_;
    return *this;
  }
  index_iterator operator++(int) noexcept {
    index_iterator old = *this;
    ++i_;
    return old;
  }
  friend bool operator==(const index_iterator& a, const index_iterator& b) noexcept {
    return a.owner_ == b.owner_ && a.i_ == b.i_;
  }
  friend bool operator!=(const index_iterator& a, const index_iterator& b) noexcept { return !(a == b); }

 private:
  const T* owner_ = nullptr;
  size_t i_ = 0;
};

}  // namespace detail

namespace zeek {

/// Which Zeek message a value holds, as Broker's `zeek::Message::Type`; the numbers are
/// the types Zeek puts on the wire (brook_zeek_kind).
enum class message_type : uint8_t {
  invalid = 0,
  event = BROOK_ZEEK_KIND_EVENT,
  log_create = BROOK_ZEEK_KIND_LOG_CREATE,
  log_write = BROOK_ZEEK_KIND_LOG_WRITE,
  identifier_update = BROOK_ZEEK_KIND_IDENTIFIER_UPDATE,
  batch = BROOK_ZEEK_KIND_BATCH,
};

/// Which Zeek message `msg` holds, after checking all of it as Broker's `valid()` does
/// (brook_zeek_message_kind()); message_type::invalid for anything else.
inline message_type type_of(data_view msg) noexcept {
  brook_zeek_kind k = BROOK_ZEEK_KIND_EVENT;
  if (brook_zeek_message_kind(msg.native_handle(), &k) != BROOK_STATUS_OK) {
    return message_type::invalid;
  }
  return static_cast<message_type>(k);
}

/// A Zeek event: a name, its arguments and optional metadata such as the network
/// timestamp, as Broker's `zeek::Event`. A move-only handle on a brook_event. Use from
/// one thread at a time.
class Event {
 public:
  /// The arguments of an event, read by index. Borrowed: valid until the event is
  /// modified or freed.
  class args_view {
   public:
    /// Walks the arguments in order. A forward iterator.
    using iterator = detail::index_iterator<brook_event, brook_event_arg>;

    /// The number of arguments.
    size_t size() const noexcept { return n_; }
    bool empty() const noexcept { return n_ == 0; }
    /// The argument at `index` (brook_event_arg()).
    /// Throws brook::error: BROOK_STATUS_OUT_OF_RANGE if `index` is not below size().
    data_view at(size_t index) const { return get(index, nullptr); }
    data_view at(size_t index, error_info& err) const { return get(index, &err); }
    data_view operator[](size_t index) const { return get(index, nullptr); }
    iterator begin() const noexcept { return iterator(e_, 0); }
    iterator end() const noexcept { return iterator(e_, n_); }

   private:
    friend class Event;
    args_view(const brook_event* e, size_t n) noexcept : e_(e), n_(n) {}
    data_view get(size_t index, error_info* err) const {
      const brook_data* a = nullptr;
      detail::check(brook_event_arg(e_, index, &a), err);
      return data_view(a);
    }
    const brook_event* e_;
    size_t n_;
  };

  /// No event.
  Event() noexcept = default;
  /// The event `name` (UTF-8) without arguments (brook_event_new()).
  /// Throws brook::error: BROOK_STATUS_INVALID_ARGUMENT if `name` is not UTF-8 or holds a
  /// NUL byte.
  explicit Event(std::string_view name) {
    const data_arg* none = nullptr;
    build(name, none, none, std::nullopt, nullptr);
  }
  /// The event `name` with copies of `args`: `Event("ping", {1u, "x"})`. Throws as the
  /// constructor from a name does.
  Event(std::string_view name, std::initializer_list<data_arg> args) {
    build(name, args.begin(), args.end(), std::nullopt, nullptr);
  }
  /// The event `name` with copies of the elements of `args`, as Broker's constructor.
  Event(std::string_view name, const brook::vector& args) {
    build(name, args.begin(), args.end(), std::nullopt, nullptr);
  }
  /// Like the constructor without `ts`, with the network timestamp `ts` as metadata.
  Event(std::string_view name, std::initializer_list<data_arg> args, timestamp ts) {
    build(name, args.begin(), args.end(), ts, nullptr);
  }
  Event(std::string_view name, const brook::vector& args, timestamp ts) {
    build(name, args.begin(), args.end(), ts, nullptr);
  }
  /// Like the constructor, but a failure gives no event and `err`.
  static Event make(std::string_view name, std::initializer_list<data_arg> args, error_info& err) {
    Event ev;
    ev.build(name, args.begin(), args.end(), std::nullopt, &err);
    return ev;
  }

  /// The event a message holds (message::event()); throws as that does.
  explicit Event(const message& msg);
  /// The event a data value received from Zeek holds, checked as Broker's `valid()` does
  /// (brook_event_from_data()). Throws brook::error: BROOK_STATUS_TYPE_MISMATCH if `d` is
  /// no valid Zeek event (the message says what is wrong).
  explicit Event(data_view d) { *this = parse(d, nullptr); }
  /// Like the constructor from a value, but a failure gives no event and `err`.
  static Event from_data(data_view d, error_info& err) { return parse(d, &err); }
  /// Takes ownership of `e`, an event the caller owned.
  static Event adopt(brook_event* e) noexcept {
    Event ev;
    ev.h_.reset(e);
    return ev;
  }

  /// The event's name (brook_event_name()); empty for no event. A name from the wire with
  /// a NUL byte appears cut short. Borrowed: valid until the event is freed.
  std::string_view name() const noexcept {
    const char* n = nullptr;
    return brook_event_name(h_.get(), &n) == BROOK_STATUS_OK ? std::string_view(n) : std::string_view();
  }

  /// The arguments (none for no event). Borrowed: valid until the event is modified or
  /// freed.
  args_view args() const noexcept {
    size_t n = 0;
    if (brook_event_arg_count(h_.get(), &n) != BROOK_STATUS_OK) {
      n = 0;
    }
    return args_view(h_.get(), n);
  }

  /// Appends a copy of `x` to the arguments (brook_event_add_arg()). Invalidates views of
  /// the arguments. Throws brook::error: BROOK_STATUS_NULL_ARGUMENT for no event.
  void add_arg(const data_arg& x) { detail::check(brook_event_add_arg(h_.get(), x.get()), nullptr); }
  void add_arg(const data_arg& x, error_info& err) { detail::check(brook_event_add_arg(h_.get(), x.get()), &err); }

  /// The network timestamp from the metadata, if the event has one, as Broker's `ts()`.
  std::optional<timestamp> ts() const noexcept {
    int64_t ns = 0;
    bool present = false;
    if (brook_event_network_timestamp(h_.get(), &ns, &present) != BROOK_STATUS_OK || !present) {
      return std::nullopt;
    }
    return timestamp(timespan(ns));
  }
  /// Sets or replaces the network timestamp (brook_event_set_network_timestamp()).
  /// Throws brook::error: BROOK_STATUS_NULL_ARGUMENT for no event.
  void set_ts(timestamp t) {
    detail::check(brook_event_set_network_timestamp(h_.get(), t.time_since_epoch().count()), nullptr);
  }
  void set_ts(timestamp t, error_info& err) {
    detail::check(brook_event_set_network_timestamp(h_.get(), t.time_since_epoch().count()), &err);
  }

  /// The value Zeek sends for the event, `(1, 1, (name, (args...)))` plus metadata
  /// (brook_event_to_data()), as Broker's `as_data()`. The result is new; the caller owns
  /// it. Throws brook::error: BROOK_STATUS_NULL_ARGUMENT for no event.
  data as_data() const { return to_data(nullptr); }
  data as_data(error_info& err) const { return to_data(&err); }

  /// True for an event (Broker's `valid()`: brook only makes valid ones).
  bool valid() const noexcept { return h_ != nullptr; }
  explicit operator bool() const noexcept { return valid(); }
  /// The event, still owned by this object.
  brook_event* native_handle() const noexcept { return h_.get(); }
  /// Gives up ownership: the caller owns the result and frees it with brook_event_free().
  brook_event* release() noexcept { return h_.release(); }

 private:
  template <class It>
  void build(std::string_view name, It first, It last, std::optional<timestamp> ts, error_info* err) {
    std::string n;
    brook_event* raw = nullptr;
    if (!detail::c_text(name, "an event name", n, err) || !detail::check(brook_event_new(n.c_str(), &raw), err)) {
      return;
    }
    detail::handle<brook_event, brook_event_free> ev(raw);
    for (; first != last; ++first) {
      const brook_data* arg = nullptr;
      if constexpr (std::is_same_v<std::decay_t<decltype(*first)>, data_arg>) {
        arg = first->get();
      } else {
        arg = first->native_handle();
      }
      if (!detail::check(brook_event_add_arg(ev.get(), arg), err)) {
        return;
      }
    }
    if (ts && !detail::check(brook_event_set_network_timestamp(ev.get(), ts->time_since_epoch().count()), err)) {
      return;
    }
    h_ = std::move(ev);
  }
  static Event parse(data_view d, error_info* err) {
    brook_event* e = nullptr;
    if (!detail::check(brook_event_from_data(d.native_handle(), &e), err)) {
      return {};
    }
    return adopt(e);
  }
  data to_data(error_info* err) const {
    brook_data* d = nullptr;
    if (!detail::check(brook_event_to_data(h_.get(), &d), err)) {
      return {};
    }
    return data::adopt(d);
  }

  detail::handle<brook_event, brook_event_free> h_;
};

/// A Zeek identifier update: a new value for a global script identifier, as Broker's
/// `zeek::IdentifierUpdate` (Zeek's `Broker::publish_id`). A move-only handle on a
/// brook_identifier_update. Use from one thread at a time.
class IdentifierUpdate {
 public:
  /// An empty handle (see OBJECTS at the top of this file).
  IdentifierUpdate() noexcept = default;
  /// Sets the global `id_name` (UTF-8, such as "Site::local_nets") to a copy of
  /// `id_value` (brook_identifier_update_new()).
  /// Throws brook::error: BROOK_STATUS_INVALID_ARGUMENT if `id_name` is not UTF-8.
  IdentifierUpdate(std::string_view id_name, const data_arg& id_value) { build(id_name, id_value, nullptr); }
  static IdentifierUpdate make(std::string_view id_name, const data_arg& id_value, error_info& err) {
    IdentifierUpdate u;
    u.build(id_name, id_value, &err);
    return u;
  }
  /// The update a value received from Zeek holds (brook_identifier_update_from_data()).
  /// Throws brook::error: BROOK_STATUS_TYPE_MISMATCH if `d` is no valid identifier update.
  explicit IdentifierUpdate(data_view d) { *this = parse(d, nullptr); }
  static IdentifierUpdate from_data(data_view d, error_info& err) { return parse(d, &err); }

  /// The identifier's name; empty for no update. Borrowed: valid until the update is freed.
  std::string_view id_name() const noexcept {
    const char* n = nullptr;
    return brook_identifier_update_id_name(h_.get(), &n) == BROOK_STATUS_OK ? std::string_view(n)
                                                                            : std::string_view();
  }
  /// The identifier's new value; no value for no update. Borrowed: valid until the update
  /// is freed.
  data_view id_value() const noexcept {
    const brook_data* v = nullptr;
    brook_identifier_update_id_value(h_.get(), &v);
    return data_view(v);
  }
  /// The value Zeek sends, `(1, 4, (id_name, id_value))`. The result is new; the caller
  /// owns it. Throws brook::error: BROOK_STATUS_NULL_ARGUMENT for no update.
  data as_data() const { return to_data(nullptr); }
  data as_data(error_info& err) const { return to_data(&err); }

  /// True unless the handle is empty (Broker's `valid()`: brook makes only valid ones).
  bool valid() const noexcept { return h_ != nullptr; }
  explicit operator bool() const noexcept { return valid(); }
  /// The C object, still owned by this object; NULL for an empty handle.
  brook_identifier_update* native_handle() const noexcept { return h_.get(); }

 private:
  void build(std::string_view id_name, const data_arg& id_value, error_info* err) {
    std::string n;
    brook_identifier_update* raw = nullptr;
    if (detail::c_text(id_name, "an identifier name", n, err) &&
        detail::check(brook_identifier_update_new(n.c_str(), id_value.get(), &raw), err)) {
      h_.reset(raw);
    }
  }
  static IdentifierUpdate parse(data_view d, error_info* err) {
    brook_identifier_update* raw = nullptr;
    IdentifierUpdate u;
    if (detail::check(brook_identifier_update_from_data(d.native_handle(), &raw), err)) {
      u.h_.reset(raw);
    }
    return u;
  }
  data to_data(error_info* err) const {
    brook_data* d = nullptr;
    if (!detail::check(brook_identifier_update_to_data(h_.get(), &d), err)) {
      return {};
    }
    return data::adopt(d);
  }

  detail::handle<brook_identifier_update, brook_identifier_update_free> h_;
};

/// A Zeek log create, announcing a log stream with its writer, as Broker's
/// `zeek::LogCreate`. A move-only handle on a brook_log_create. Use from one thread at a
/// time.
class LogCreate {
 public:
  /// An empty handle (see OBJECTS at the top of this file).
  LogCreate() noexcept = default;
  /// For the stream `stream_id` and the writer `writer_id` (Zeek enum names, such as
  /// "Conn::LOG" and "Log::WRITER_ASCII"), with copies of `writer_info` and `fields_data`
  /// (brook_log_create_new()).
  /// Throws brook::error: BROOK_STATUS_INVALID_ARGUMENT if an id is not UTF-8.
  LogCreate(const enum_value& stream_id, const enum_value& writer_id, const data_arg& writer_info,
            const data_arg& fields_data) {
    build(stream_id.name, writer_id.name, writer_info, fields_data, nullptr);
  }
  static LogCreate make(const enum_value& stream_id, const enum_value& writer_id, const data_arg& writer_info,
                        const data_arg& fields_data, error_info& err) {
    LogCreate l;
    l.build(stream_id.name, writer_id.name, writer_info, fields_data, &err);
    return l;
  }
  /// The log create a value received from Zeek holds (brook_log_create_from_data()).
  /// Throws brook::error: BROOK_STATUS_TYPE_MISMATCH if `d` is no valid log create.
  explicit LogCreate(data_view d) { *this = parse(d, nullptr); }
  static LogCreate from_data(data_view d, error_info& err) { return parse(d, &err); }

  /// The stream id; empty for no log create. Borrowed: valid until it is freed.
  enum_value_view stream_id() const noexcept { return text(brook_log_create_stream_id); }
  /// The writer id; empty for no log create. Borrowed: valid until it is freed.
  enum_value_view writer_id() const noexcept { return text(brook_log_create_writer_id); }
  /// The writer info. Borrowed: valid until the log create is freed.
  data_view writer_info() const noexcept { return value(brook_log_create_writer_info); }
  /// The column descriptions. Borrowed: valid until the log create is freed.
  data_view fields_data() const noexcept { return value(brook_log_create_fields_data); }
  /// The value Zeek sends, `(1, 2, (stream_id, writer_id, writer_info, fields_data))`.
  /// The result is new; the caller owns it. Throws brook::error:
  /// BROOK_STATUS_NULL_ARGUMENT for no log create.
  data as_data() const { return to_data(nullptr); }
  data as_data(error_info& err) const { return to_data(&err); }

  /// True unless the handle is empty (Broker's `valid()`: brook makes only valid ones).
  bool valid() const noexcept { return h_ != nullptr; }
  explicit operator bool() const noexcept { return valid(); }
  /// The C object, still owned by this object; NULL for an empty handle.
  brook_log_create* native_handle() const noexcept { return h_.get(); }

 private:
  void build(std::string_view stream, std::string_view writer, const data_arg& info, const data_arg& fields,
             error_info* err) {
    std::string s, w;
    brook_log_create* raw = nullptr;
    if (detail::c_text(stream, "a stream id", s, err) && detail::c_text(writer, "a writer id", w, err) &&
        detail::check(brook_log_create_new(s.c_str(), w.c_str(), info.get(), fields.get(), &raw), err)) {
      h_.reset(raw);
    }
  }
  static LogCreate parse(data_view d, error_info* err) {
    brook_log_create* raw = nullptr;
    LogCreate l;
    if (detail::check(brook_log_create_from_data(d.native_handle(), &raw), err)) {
      l.h_.reset(raw);
    }
    return l;
  }
  enum_value_view text(brook_status (*get)(const brook_log_create*, const char**)) const noexcept {
    const char* t = nullptr;
    return enum_value_view{get(h_.get(), &t) == BROOK_STATUS_OK ? std::string_view(t) : std::string_view()};
  }
  data_view value(brook_status (*get)(const brook_log_create*, const brook_data**)) const noexcept {
    const brook_data* v = nullptr;
    get(h_.get(), &v);
    return data_view(v);
  }
  data to_data(error_info* err) const {
    brook_data* d = nullptr;
    if (!detail::check(brook_log_create_to_data(h_.get(), &d), err)) {
      return {};
    }
    return data::adopt(d);
  }

  detail::handle<brook_log_create, brook_log_create_free> h_;
};

/// A Zeek log write: one record in Zeek's own serialization, as Broker's `zeek::LogWrite`.
/// Zeek sends them inside batches. A move-only handle on a brook_log_write. Use from one
/// thread at a time.
class LogWrite {
 public:
  /// An empty handle (see OBJECTS at the top of this file).
  LogWrite() noexcept = default;
  /// For the stream `stream_id` and the writer `writer_id` (Zeek enum names), with copies
  /// of the log's path and of the record's bytes, which brook passes on unread
  /// (brook_log_write_new()).
  /// Throws brook::error: BROOK_STATUS_INVALID_ARGUMENT if an id is not UTF-8.
  LogWrite(const enum_value& stream_id, const enum_value& writer_id, std::string_view path,
           std::string_view serial_data) {
    build(stream_id.name, writer_id.name, path, serial_data, nullptr);
  }
  static LogWrite make(const enum_value& stream_id, const enum_value& writer_id, std::string_view path,
                       std::string_view serial_data, error_info& err) {
    LogWrite l;
    l.build(stream_id.name, writer_id.name, path, serial_data, &err);
    return l;
  }
  /// The log write a value received from Zeek holds (brook_log_write_from_data()).
  /// Throws brook::error: BROOK_STATUS_TYPE_MISMATCH if `d` is no valid log write.
  explicit LogWrite(data_view d) { *this = parse(d, nullptr); }
  static LogWrite from_data(data_view d, error_info& err) { return parse(d, &err); }

  /// The stream id; empty for no log write. Borrowed: valid until it is freed.
  enum_value_view stream_id() const noexcept { return text(brook_log_write_stream_id); }
  /// The writer id; empty for no log write. Borrowed: valid until it is freed.
  enum_value_view writer_id() const noexcept { return text(brook_log_write_writer_id); }
  /// The log's path, such as "conn". Borrowed: valid until the log write is freed.
  std::string_view path_str() const noexcept { return bytes(brook_log_write_path); }
  /// The record in Zeek's serialization. Borrowed: valid until the log write is freed.
  std::string_view serial_data_str() const noexcept { return bytes(brook_log_write_serial_data); }
  /// The value Zeek sends, `(1, 3, (stream_id, writer_id, path, serial_data))`. The
  /// result is new; the caller owns it. Throws brook::error: BROOK_STATUS_NULL_ARGUMENT
  /// for no log write.
  data as_data() const { return to_data(nullptr); }
  data as_data(error_info& err) const { return to_data(&err); }

  /// True unless the handle is empty (Broker's `valid()`: brook makes only valid ones).
  bool valid() const noexcept { return h_ != nullptr; }
  explicit operator bool() const noexcept { return valid(); }
  /// The C object, still owned by this object; NULL for an empty handle.
  brook_log_write* native_handle() const noexcept { return h_.get(); }

 private:
  void build(std::string_view stream, std::string_view writer, std::string_view path, std::string_view serial,
             error_info* err) {
    std::string s, w;
    brook_log_write* raw = nullptr;
    if (detail::c_text(stream, "a stream id", s, err) && detail::c_text(writer, "a writer id", w, err) &&
        detail::check(brook_log_write_new(s.c_str(), w.c_str(), reinterpret_cast<const uint8_t*>(path.data()),
                                          path.size(), reinterpret_cast<const uint8_t*>(serial.data()),
                                          serial.size(), &raw),
                      err)) {
      h_.reset(raw);
    }
  }
  static LogWrite parse(data_view d, error_info* err) {
    brook_log_write* raw = nullptr;
    LogWrite l;
    if (detail::check(brook_log_write_from_data(d.native_handle(), &raw), err)) {
      l.h_.reset(raw);
    }
    return l;
  }
  enum_value_view text(brook_status (*get)(const brook_log_write*, const char**)) const noexcept {
    const char* t = nullptr;
    return enum_value_view{get(h_.get(), &t) == BROOK_STATUS_OK ? std::string_view(t) : std::string_view()};
  }
  std::string_view bytes(brook_status (*get)(const brook_log_write*, const uint8_t**, size_t*)) const noexcept {
    const uint8_t* buf = nullptr;
    size_t len = 0;
    return get(h_.get(), &buf, &len) == BROOK_STATUS_OK ? detail::bytes_text(buf, len) : std::string_view();
  }
  data to_data(error_info* err) const {
    brook_data* d = nullptr;
    if (!detail::check(brook_log_write_to_data(h_.get(), &d), err)) {
      return {};
    }
    return data::adopt(d);
  }

  detail::handle<brook_log_write, brook_log_write_free> h_;
};

/// A Zeek batch: Zeek messages sent as one and dispatched in order, as Broker's
/// `zeek::Batch` (and its BatchBuilder). Each message is held as its data value; tell
/// them apart with type_of(). A move-only handle on a brook_zeek_batch. Use from one
/// thread at a time.
class Batch {
 public:
  /// Walks the messages in order, as data values. A forward iterator.
  using iterator = detail::index_iterator<brook_zeek_batch, brook_zeek_batch_message>;

  /// No batch (not an empty one: that is Batch::make()).
  Batch() noexcept = default;
  /// An empty batch (brook_zeek_batch_new()). Throws only if brook fails.
  static Batch make() {
    brook_zeek_batch* raw = nullptr;
    detail::check(brook_zeek_batch_new(&raw), nullptr);
    Batch b;
    b.h_.reset(raw);
    return b;
  }
  /// The batch a value received from Zeek holds, checked whole, nested batches included
  /// (brook_zeek_batch_from_data()).
  /// Throws brook::error: BROOK_STATUS_TYPE_MISMATCH if `d` is no valid batch.
  explicit Batch(data_view d) { *this = parse(d, nullptr); }
  static Batch from_data(data_view d, error_info& err) { return parse(d, &err); }

  /// Appends a copy of the Zeek message `msg`, given as its data value, after checking it
  /// (brook_zeek_batch_add_message()). Invalidates views of the messages.
  /// Throws brook::error: BROOK_STATUS_TYPE_MISMATCH if `msg` is no valid Zeek message.
  void add(const data_arg& msg) { detail::check(brook_zeek_batch_add_message(h_.get(), msg.get()), nullptr); }
  void add(const data_arg& msg, error_info& err) {
    detail::check(brook_zeek_batch_add_message(h_.get(), msg.get()), &err);
  }

  /// The number of messages (a nested batch counts as one); 0 for no batch.
  size_t size() const noexcept {
    size_t n = 0;
    return brook_zeek_batch_message_count(h_.get(), &n) == BROOK_STATUS_OK ? n : 0;
  }
  bool empty() const noexcept { return size() == 0; }
  /// The message at `index`, as a data value (brook_zeek_batch_message()).
  /// Borrowed: valid until the batch is modified or freed.
  /// Throws brook::error: BROOK_STATUS_OUT_OF_RANGE if `index` is not below size().
  data_view at(size_t index) const { return get(index, nullptr); }
  data_view at(size_t index, error_info& err) const { return get(index, &err); }
  data_view operator[](size_t index) const { return get(index, nullptr); }
  /// The first message and the end, for `for (data_view msg : batch)`. Borrowed: valid
  /// until the batch is modified or freed.
  iterator begin() const noexcept { return iterator(h_.get(), 0); }
  iterator end() const noexcept { return iterator(h_.get(), size()); }

  /// The value Zeek sends, `(1, 5, (message, ...))`. The result is new; the caller owns
  /// it. Throws brook::error: BROOK_STATUS_NULL_ARGUMENT for no batch.
  data as_data() const { return to_data(nullptr); }
  data as_data(error_info& err) const { return to_data(&err); }

  /// True unless the handle is empty (Broker's `valid()`: brook makes only valid ones).
  bool valid() const noexcept { return h_ != nullptr; }
  explicit operator bool() const noexcept { return valid(); }
  /// The C object, still owned by this object; NULL for an empty handle.
  brook_zeek_batch* native_handle() const noexcept { return h_.get(); }

 private:
  static Batch parse(data_view d, error_info* err) {
    brook_zeek_batch* raw = nullptr;
    Batch b;
    if (detail::check(brook_zeek_batch_from_data(d.native_handle(), &raw), err)) {
      b.h_.reset(raw);
    }
    return b;
  }
  data_view get(size_t index, error_info* err) const {
    const brook_data* m = nullptr;
    detail::check(brook_zeek_batch_message(h_.get(), index, &m), err);
    return data_view(m);
  }
  data to_data(error_info* err) const {
    brook_data* d = nullptr;
    if (!detail::check(brook_zeek_batch_to_data(h_.get(), &d), err)) {
      return {};
    }
    return data::adopt(d);
  }

  detail::handle<brook_zeek_batch, brook_zeek_batch_free> h_;
};

}  // namespace zeek

inline zeek::Event message::decode_event(error_info* err) const {
  brook_event* e = nullptr;
  if (!detail::check(brook_message_event(h_.get(), &e), err)) {
    return {};
  }
  return zeek::Event::adopt(e);
}
inline zeek::Event message::event() const { return decode_event(nullptr); }
inline zeek::Event message::event(error_info& err) const { return decode_event(&err); }
inline zeek::Event::Event(const message& msg) : Event(msg.event()) {}

/// A batch of messages copied out of a subscriber by subscriber::poll_into(), in one
/// buffer that the batch owns and reuses: the receive path with no object per message
/// (brook_subscriber_poll_into()). Iterate it for the entries. Plain C++: copyable; use
/// from one thread at a time.
class message_batch {
 public:
  /// One message of the batch. Borrowed: valid until the batch is filled again or freed.
  class entry {
   public:
    /// The topic the message was published on.
    std::string_view topic() const noexcept { return topic_; }
    /// The value in Broker's binary format v1.
    byte_view payload() const noexcept { return payload_; }
    /// Decodes the value. The result is new; the caller owns it.
    /// Throws brook::error: BROOK_STATUS_DECODE_ERROR for a malformed value.
    data value() const { return data::from_bytes(payload_); }
    data value(error_info& err) const { return data::from_bytes(payload_, err); }
    /// Decodes the value as a Zeek event. The result is new; the caller owns it.
    /// Throws brook::error: BROOK_STATUS_DECODE_ERROR for a malformed value,
    /// BROOK_STATUS_TYPE_MISMATCH if it is no Zeek event.
    zeek::Event event() const { return zeek::Event(data::from_bytes(payload_)); }
    zeek::Event event(error_info& err) const {
      data d = data::from_bytes(payload_, err);
      return err ? zeek::Event() : zeek::Event::from_data(d, err);
    }

   private:
    friend class message_batch;
    std::string_view topic_;
    byte_view payload_;
  };

  /// Walks the entries in the order they arrived. A forward iterator.
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = entry;
    using difference_type = std::ptrdiff_t;
    using pointer = const entry*;
    using reference = const entry&;

    /// The standard iterator operations; a default-constructed iterator is the end.
    iterator() noexcept = default;
    const entry& operator*() const noexcept { return cur_; }
    const entry* operator->() const noexcept { return &cur_; }
    iterator& operator++() noexcept {
      pos_ += 8 + cur_.topic_.size() + cur_.payload_.size();
      left_--;
      load();
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.left_ == b.left_; }
    friend bool operator!=(const iterator& a, const iterator& b) noexcept { return !(a == b); }

   private:
    friend class message_batch;
    iterator(const uint8_t* pos, size_t n) noexcept : pos_(pos), left_(n) { load(); }
    static uint32_t u32(const uint8_t* p) noexcept {
      return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
             static_cast<uint32_t>(p[3]) << 24;
    }
    void load() noexcept {
      if (left_ == 0) {
        cur_ = entry();
        return;
      }
      uint32_t tlen = u32(pos_), plen = u32(pos_ + 4);
      cur_.topic_ = detail::bytes_text(pos_ + 8, tlen);
      cur_.payload_ = byte_view(pos_ + 8 + tlen, plen);
    }
    const uint8_t* pos_ = nullptr;
    size_t left_ = 0;
    entry cur_;
  };

  /// An empty batch with room for `capacity` bytes; poll_into() grows it when a message
  /// needs more.
  explicit message_batch(size_t capacity = 64 * 1024) : buf_(capacity) {}

  /// The number of messages.
  size_t size() const noexcept { return n_; }
  bool empty() const noexcept { return n_ == 0; }
  /// The bytes the messages take, and the room for them.
  size_t bytes_used() const noexcept { return used_; }
  size_t capacity() const noexcept { return buf_.size(); }
  /// Makes room for at least `bytes` bytes (it never shrinks). Empties the batch.
  void reserve(size_t bytes) {
    clear();
    if (bytes > buf_.size()) {
      buf_.resize(bytes);
    }
  }
  /// Forgets the messages.
  void clear() noexcept { n_ = used_ = 0; }
  /// The records as brook_subscriber_poll_into() wrote them.
  byte_view bytes() const noexcept { return byte_view(buf_.data(), used_); }

  /// The first entry and the end, for `for (const auto& e : batch)`.
  iterator begin() const noexcept { return iterator(buf_.data(), n_); }
  iterator end() const noexcept { return iterator(buf_.data() + used_, 0); }

 private:
  friend class subscriber;
  std::vector<uint8_t> buf_;
  size_t n_ = 0;
  size_t used_ = 0;
};

// ---- configuration ---------------------------------------------------------------------

/// What a full queue does with one more message (brook_overflow_policy).
enum class overflow_policy : uint32_t {
  /// End the peering (a peer), or close the subscriber once it has taken what it holds.
  disconnect = BROOK_OVERFLOW_POLICY_DISCONNECT,
  /// Drop the message that does not fit, and count it.
  drop_newest = BROOK_OVERFLOW_POLICY_DROP_NEWEST,
  /// Drop the oldest waiting message to make room, and count it.
  drop_oldest = BROOK_OVERFLOW_POLICY_DROP_OLDEST,
  /// Keep the message back until there is room: nothing is lost. The default for
  /// subscribers and for peers (a slow peer makes publishers wait; a dead one is found by
  /// the peer timeout).
  block = BROOK_OVERFLOW_POLICY_BLOCK,
};

/// The options of Broker's `broker_options` that brook has, with Broker's defaults, for
/// configuration's constructor. (skip_ssl_init, use_real_time, ignore_broker_conf, ttl
/// and the WebSocket options have no counterpart in brook's C API; brook.h reads no
/// broker.conf unless told to, with configuration::read_file().)
struct broker_options {
  /// Peer over plain TCP instead of TLS (Broker's `broker.disable-ssl`).
  bool disable_ssl = false;
  /// Pass no messages from one peer on to another (Zeek's setting).
  bool disable_forwarding = false;
  /// Messages a peer's send buffer holds before publishers wait.
  size_t peer_buffer_size = 2048;
  /// What happens to a peer that stays full: brook's block (the default) waits for it;
  /// Broker's disconnect and the drop policies apply after the peer stall timeout.
  overflow_policy peer_overflow_policy = overflow_policy::block;
};

/// Options for an endpoint, as Broker's `configuration`: a move-only handle on a
/// brook_config, holding brook's defaults (Broker's where Broker has one) until set.
/// Endpoints made from it keep their own copy. Every setter throws brook::error:
/// BROOK_STATUS_INVALID_ARGUMENT for a value out of range (the message names the option).
/// Use from one thread at a time.
class configuration {
 public:
  /// The defaults (brook_config_new()). Throws only if brook fails.
  configuration() {
    brook_config* raw = nullptr;
    detail::check(brook_config_new(&raw), nullptr);
    h_.reset(raw);
  }
  /// The defaults with `opts` applied. Throws brook::error: BROOK_STATUS_INVALID_ARGUMENT
  /// for a peer buffer size out of range.
  explicit configuration(const broker_options& opts) : configuration() { apply(opts, nullptr); }
  /// Like the constructor from options, but a failure gives an empty configuration and
  /// `err`.
  static configuration make(const broker_options& opts, error_info& err) {
    configuration c;
    if (!c.apply(opts, &err)) {
      c.h_.reset();
    }
    return c;
  }

  // -- by Broker's option names ----------------------------------------------------------

  /// Sets an option by its Broker name, such as `broker.ssl.cafile`, `broker.disable-ssl`
  /// (`true`/`false`) or `broker.peer-buffer-size` (brook_config_set()).
  /// Throws brook::error: BROOK_STATUS_INVALID_ARGUMENT for an unknown name or a value that
  /// does not parse, or text with a NUL byte.
  void set(std::string_view key, std::string_view value) { set_text(key, value, nullptr); }
  void set(std::string_view key, std::string_view value, error_info& err) { set_text(key, value, &err); }
  void set(std::string_view key, const char* value) { set_text(key, value, nullptr); }
  void set(std::string_view key, const char* value, error_info& err) { set_text(key, value, &err); }
  void set(std::string_view key, const std::string& value) { set_text(key, value, nullptr); }
  void set(std::string_view key, const std::string& value, error_info& err) { set_text(key, value, &err); }
  /// Sets an option to a boolean (`true`/`false`) or a number, as Broker's `set`.
  template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
  void set(std::string_view key, T value) {
    set_text(key, number_text(value), nullptr);
  }
  template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
  void set(std::string_view key, T value, error_info& err) {
    set_text(key, number_text(value), &err);
  }

  /// Broker's TLS setters: the certificate chain (PEM), its private key, the key's
  /// passphrase, and the CA file or directory a peer's certificate must chain to
  /// (`broker.ssl.*`). The files are read when an endpoint starts.
  void openssl_certificate(std::string_view path) { set_text("broker.ssl.certificate", path, nullptr); }
  void openssl_certificate(std::string_view path, error_info& err) {
    set_text("broker.ssl.certificate", path, &err);
  }
  void openssl_key(std::string_view path) { set_text("broker.ssl.key", path, nullptr); }
  void openssl_key(std::string_view path, error_info& err) { set_text("broker.ssl.key", path, &err); }
  void openssl_passphrase(std::string_view pass) { set_text("broker.ssl.passphrase", pass, nullptr); }
  void openssl_passphrase(std::string_view pass, error_info& err) {
    set_text("broker.ssl.passphrase", pass, &err);
  }
  void openssl_cafile(std::string_view path) { set_text("broker.ssl.cafile", path, nullptr); }
  void openssl_cafile(std::string_view path, error_info& err) { set_text("broker.ssl.cafile", path, &err); }
  void openssl_capath(std::string_view path) { set_text("broker.ssl.capath", path, nullptr); }
  void openssl_capath(std::string_view path, error_info& err) { set_text("broker.ssl.capath", path, &err); }

  /// Applies a configuration file in Broker's syntax (broker.conf), each setting as set()
  /// would (brook_config_read_file()). Returns one line per key brook does not know and
  /// skipped, or an empty string.
  /// Throws brook::error: BROOK_STATUS_INVALID_ARGUMENT if the file cannot be read or has
  /// a value that does not parse (the message names the file, the line and the key); the
  /// configuration is then partly updated.
  std::string read_file(std::string_view path) { return read(path, nullptr); }
  std::string read_file(std::string_view path, error_info& err) { return read(path, &err); }

  // -- typed setters (brook_config_set_*) ------------------------------------------------

  /// Messages a peer's send buffer holds before publishers wait, 1 to 16777216 (2048).
  void set_peer_buffer_size(size_t n) { call(brook_config_set_peer_buffer_size, n, nullptr); }
  void set_peer_buffer_size(size_t n, error_info& err) { call(brook_config_set_peer_buffer_size, n, &err); }
  /// What happens to a peer that stays full (block: publishers wait, nothing is lost).
  void set_peer_overflow_policy(overflow_policy p) {
    call(brook_config_set_peer_overflow_policy, static_cast<uint32_t>(p), nullptr);
  }
  void set_peer_overflow_policy(overflow_policy p, error_info& err) {
    call(brook_config_set_peer_overflow_policy, static_cast<uint32_t>(p), &err);
  }
  /// A dead peer (host gone, path cut) is dropped within about this time (30 s; 0: the
  /// system's settings), through TCP keepalive and the kernel's acknowledgement times.
  void set_peer_timeout(std::chrono::milliseconds t) {
    call(brook_config_set_peer_timeout_ms, detail::ms32(t), nullptr);
  }
  void set_peer_timeout(std::chrono::milliseconds t, error_info& err) {
    call(brook_config_set_peer_timeout_ms, detail::ms32(t), &err);
  }
  /// How long a full peer may take no bytes before a disconnect or drop policy applies
  /// (10 s; not used under block).
  void set_peer_stall_timeout(std::chrono::milliseconds t) {
    call(brook_config_set_peer_stall_timeout_ms, detail::ms32(t), nullptr);
  }
  void set_peer_stall_timeout(std::chrono::milliseconds t, error_info& err) {
    call(brook_config_set_peer_stall_timeout_ms, detail::ms32(t), &err);
  }
  /// Messages a subscriber's queue holds, 1 to 16777216 (8192).
  void set_subscriber_queue_size(size_t n) { call(brook_config_set_subscriber_queue_size, n, nullptr); }
  void set_subscriber_queue_size(size_t n, error_info& err) {
    call(brook_config_set_subscriber_queue_size, n, &err);
  }
  /// What a full subscriber queue does with one more message (block).
  void set_subscriber_overflow_policy(overflow_policy p) {
    call(brook_config_set_subscriber_overflow_policy, static_cast<uint32_t>(p), nullptr);
  }
  void set_subscriber_overflow_policy(overflow_policy p, error_info& err) {
    call(brook_config_set_subscriber_overflow_policy, static_cast<uint32_t>(p), &err);
  }
  /// Pass no messages from one peer on to another (false).
  void set_disable_forwarding(bool disable) { call(brook_config_set_disable_forwarding, disable, nullptr); }
  void set_disable_forwarding(bool disable, error_info& err) {
    call(brook_config_set_disable_forwarding, disable, &err);
  }
  /// The largest frame accepted from and sent to a peer, 1 to 2147483643 bytes (Broker's
  /// 2^31 - 5); publishing what needs a larger one throws BROOK_STATUS_ENCODE_ERROR.
  void set_max_frame_size(size_t n) { call(brook_config_set_max_frame_size, n, nullptr); }
  void set_max_frame_size(size_t n, error_info& err) { call(brook_config_set_max_frame_size, n, &err); }
  /// Connections the kernel queues for a listener before it accepts them (4096, SOMAXCONN).
  void set_listen_backlog(uint32_t n) { call(brook_config_set_listen_backlog, n, nullptr); }
  void set_listen_backlog(uint32_t n, error_info& err) { call(brook_config_set_listen_backlog, n, &err); }
  /// How long the reactor busy-polls for more work, at most 1 s (50 us; 0: never).
  void set_busy_poll(std::chrono::microseconds t) {
    call(brook_config_set_busy_poll_us, us32(t), nullptr);
  }
  void set_busy_poll(std::chrono::microseconds t, error_info& err) {
    call(brook_config_set_busy_poll_us, us32(t), &err);
  }
  /// How long a connection may take for Broker's handshake, at least 1 ms (10 s).
  void set_handshake_timeout(std::chrono::milliseconds t) {
    call(brook_config_set_handshake_timeout_ms, detail::ms32(t), nullptr);
  }
  void set_handshake_timeout(std::chrono::milliseconds t, error_info& err) {
    call(brook_config_set_handshake_timeout_ms, detail::ms32(t), &err);
  }
  /// How long unpeering and shutdown wait for a peer's goodbye (3 s).
  void set_unpeer_timeout(std::chrono::milliseconds t) {
    call(brook_config_set_unpeer_timeout_ms, detail::ms32(t), nullptr);
  }
  void set_unpeer_timeout(std::chrono::milliseconds t, error_info& err) {
    call(brook_config_set_unpeer_timeout_ms, detail::ms32(t), &err);
  }
  /// After how many malformed messages in a row a peering ends, at least 1 (100).
  void set_max_malformed_in_a_row(uint32_t n) { call(brook_config_set_max_malformed_in_a_row, n, nullptr); }
  void set_max_malformed_in_a_row(uint32_t n, error_info& err) {
    call(brook_config_set_max_malformed_in_a_row, n, &err);
  }
  /// Peer over plain TCP instead of TLS (false); both peers must agree.
  void set_disable_ssl(bool disable) { call(brook_config_set_disable_ssl, disable, nullptr); }
  void set_disable_ssl(bool disable, error_info& err) { call(brook_config_set_disable_ssl, disable, &err); }
  /// Serves the counters to Prometheus on `port` (0: any free port, negative: off, the
  /// default), bound to `address` (empty: every interface).
  void set_metrics_port(int32_t port, std::string_view address = {}) { metrics(port, address, nullptr); }
  void set_metrics_port(int32_t port, std::string_view address, error_info& err) { metrics(port, address, &err); }

  /// The configuration, still owned by this object.
  brook_config* native_handle() const noexcept { return h_.get(); }
  /// True unless the handle is empty.
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  template <class T>
  static std::string number_text(T value) {
    if constexpr (std::is_same_v<T, bool>) {
      return value ? "true" : "false";
    } else {
      return std::to_string(value);
    }
  }
  static uint32_t us32(std::chrono::microseconds t) noexcept {
    return t.count() <= 0 ? 0
                          : t.count() > 0xffffffffLL ? 0xffffffffu : static_cast<uint32_t>(t.count());
  }
  template <class T>
  bool call(brook_status (*f)(brook_config*, T), T value, error_info* err) {
    return detail::check(f(h_.get(), value), err);
  }
  bool apply(const broker_options& o, error_info* err) {
    return call(brook_config_set_disable_ssl, o.disable_ssl, err) &&
           call(brook_config_set_disable_forwarding, o.disable_forwarding, err) &&
           call(brook_config_set_peer_buffer_size, o.peer_buffer_size, err) &&
           call(brook_config_set_peer_overflow_policy, static_cast<uint32_t>(o.peer_overflow_policy), err);
  }
  bool set_text(std::string_view key, std::string_view value, error_info* err) {
    std::string k, v;
    return detail::c_text(key, "an option name", k, err) && detail::c_text(value, "an option value", v, err) &&
           detail::check(brook_config_set(h_.get(), k.c_str(), v.c_str()), err);
  }
  std::string read(std::string_view path, error_info* err) {
    std::string p;
    char* warnings = nullptr;
    if (!detail::c_text(path, "a path", p, err) ||
        !detail::check(brook_config_read_file(h_.get(), p.c_str(), &warnings), err)) {
      return {};
    }
    std::unique_ptr<char, void (*)(char*)> owned(warnings, brook_string_free);
    return warnings == nullptr ? std::string() : std::string(warnings);
  }
  bool metrics(int32_t port, std::string_view address, error_info* err) {
    std::string a;
    if (!detail::c_text(address, "an address", a, err)) {
      return false;
    }
    return detail::check(brook_config_set_metrics_port(h_.get(), port, address.empty() ? nullptr : a.c_str()), err);
  }

  detail::handle<brook_config, brook_config_free> h_;
};

// ---- peers and status events -----------------------------------------------------------

/// Where a peer is: its IP as text and its TCP port, as Broker's `network_info`.
struct network_info {
  std::string address;
  uint16_t port = 0;
};

inline bool operator==(const network_info& a, const network_info& b) noexcept {
  return a.address == b.address && a.port == b.port;
}
inline bool operator!=(const network_info& a, const network_info& b) noexcept { return !(a == b); }

/// Who a peer is: its ID (invalid until its handshake told it) and, if known, where it
/// is, as Broker's `endpoint_info`.
struct endpoint_info {
  endpoint_id node;
  std::optional<network_info> network;
};

/// How far a peering has come (brook_peer_status); Broker has more states.
enum class peer_status : uint8_t {
  connecting = BROOK_PEER_STATUS_CONNECTING,
  peered = BROOK_PEER_STATUS_PEERED,
  reconnecting = BROOK_PEER_STATUS_RECONNECTING,
};

/// One peering or peering attempt from endpoint::peers(), as Broker's `peer_info`
/// (whose peer_flags become `outbound`).
struct peer_info {
  endpoint_info peer;
  peer_status status = peer_status::connecting;
  /// True if this endpoint made the peering (with peer()); only those are retried.
  bool outbound = false;
  /// Messages for the peer that its overflow policy dropped.
  uint64_t dropped = 0;
};

/// Broker's status codes (`sc`), the codes of status events.
enum class sc : uint32_t {
  unspecified = 0,
  peer_added = 1,
  peer_removed = 2,
  peer_lost = 3,
  endpoint_discovered = 4,
  endpoint_unreachable = 5,
};

/// Broker's error codes (`ec`), the codes of error events.
enum class ec : uint32_t {
  none = 0,
  unspecified = 1,
  peer_incompatible = 2,
  peer_invalid = 3,
  peer_unavailable = 4,
  peer_disconnect_during_handshake = 5,
  peer_timeout = 6,
  master_exists = 7,
  no_such_master = 8,
  no_such_key = 9,
  request_timeout = 10,
  type_clash = 11,
  invalid_data = 12,
  backend_failure = 13,
  stale_data = 14,
  cannot_open_file = 15,
  cannot_write_file = 16,
  invalid_topic_key = 17,
  end_of_file = 18,
  invalid_tag = 19,
  invalid_message = 20,
  invalid_status = 21,
  conversion_failed = 22,
  consumer_exists = 23,
  connection_timeout = 24,
  bad_member_function_call = 25,
  repeated_request_id = 26,
  broken_clone = 27,
  shutting_down = 28,
  invalid_peering_request = 29,
  repeated_peering_handshake_request = 30,
  unexpected_handshake_message = 31,
  invalid_handshake_state = 32,
  no_path_to_peer = 33,
  no_connector_available = 34,
  cannot_open_resource = 35,
  serialization_failed = 36,
  deserialization_failed = 37,
  wrong_magic_number = 38,
  redundant_connection = 39,
  logic_error = 40,
  invalid_json = 41,
};

/// A status or error event from a status subscriber, as Broker's `status` and `error`
/// values. A move-only handle on a brook_status_event. Use from one thread at a time.
class status_event {
 public:
  /// An empty handle (see OBJECTS at the top of this file).
  status_event() noexcept = default;
  /// Takes ownership of `e`, an event the caller owned.
  static status_event adopt(brook_status_event* e) noexcept {
    status_event out;
    out.h_.reset(e);
    return out;
  }

  /// True for an error event (its code an `ec`), false for a status (an `sc`).
  bool is_error() const noexcept {
    brook_status_kind k = BROOK_STATUS_KIND_STATUS;
    return brook_status_event_kind(h_.get(), &k) == BROOK_STATUS_OK && k == BROOK_STATUS_KIND_ERROR;
  }
  bool is_status() const noexcept { return h_ != nullptr && !is_error(); }
  /// Broker's number for the status or error; 0 for no event.
  uint32_t code() const noexcept {
    uint32_t c = 0;
    return brook_status_event_code(h_.get(), &c) == BROOK_STATUS_OK ? c : 0;
  }
  /// The code as a status code: meaningful when is_status().
  sc status_code() const noexcept { return static_cast<sc>(code()); }
  /// The code as an error code: meaningful when is_error().
  ec error_code() const noexcept { return static_cast<ec>(code()); }
  /// Broker's snake_case name of the code, such as "peer_added". Borrowed: valid until
  /// the event is freed.
  std::string_view name() const noexcept {
    const char* n = nullptr;
    return brook_status_event_name(h_.get(), &n) == BROOK_STATUS_OK && n ? std::string_view(n)
                                                                          : std::string_view();
  }
  /// The message for people, such as "handshake successful". Borrowed: valid until the
  /// event is freed.
  std::string_view message() const noexcept {
    const char* m = nullptr;
    return brook_status_event_message(h_.get(), &m) == BROOK_STATUS_OK && m ? std::string_view(m)
                                                                             : std::string_view();
  }
  /// The peer or endpoint the event concerns, as far as it names one (Broker's
  /// `context<endpoint_info>()`).
  endpoint_info context() const {
    endpoint_info info;
    uint8_t id[16] = {0};
    bool known = false;
    if (brook_status_event_endpoint(h_.get(), id, &known) == BROOK_STATUS_OK && known) {
      info.node = endpoint_id::from_bytes(id);
    }
    const char* ip = nullptr;
    uint16_t port = 0;
    if (brook_status_event_address(h_.get(), &ip, &port) == BROOK_STATUS_OK && ip != nullptr) {
      info.network = network_info{ip, port};
    }
    return info;
  }

  /// True unless the handle is empty.
  explicit operator bool() const noexcept { return h_ != nullptr; }
  /// The C object, still owned by this object; NULL for an empty handle.
  brook_status_event* native_handle() const noexcept { return h_.get(); }

 private:
  detail::handle<brook_status_event, brook_status_event_free> h_;
};

// ---- subscribers and publishers --------------------------------------------------------

/// Receives the messages published on its topics, locally or by peers, in the order they
/// arrived, as Broker's `subscriber`. Its fd() lets a poll() loop wait for them. A
/// move-only handle on a brook_subscriber; it may outlive its endpoint. Calls that take
/// messages throw brook::error with BROOK_STATUS_CLOSED once the endpoint has shut down
/// and every message it delivered has been taken. Use from one thread at a time.
class subscriber {
 public:
  /// An empty handle (see OBJECTS at the top of this file).
  subscriber() noexcept = default;
  /// Takes ownership of `s`, a subscriber the caller owned.
  static subscriber adopt(brook_subscriber* s) noexcept {
    subscriber out;
    out.h_.reset(s);
    return out;
  }

  /// Takes the next message, waiting as long as it takes (brook_subscriber_next()). The
  /// result is new; the caller owns it. Throws brook::error: BROOK_STATUS_CLOSED (see the
  /// class).
  message get() { return next(-1, nullptr).value_or(message()); }
  message get(error_info& err) { return next(-1, &err).value_or(message()); }
  /// Takes the next message, waiting up to `timeout` for one; std::nullopt if none came.
  template <class Rep, class Period>
  std::optional<message> get(std::chrono::duration<Rep, Period> timeout) {
    return next(detail::wait_ms(timeout), nullptr);
  }
  template <class Rep, class Period>
  std::optional<message> get(std::chrono::duration<Rep, Period> timeout, error_info& err) {
    return next(detail::wait_ms(timeout), &err);
  }
  /// Takes `num` messages, waiting as long as it takes.
  std::vector<message> get(size_t num) { return take(num, -1, nullptr); }
  /// Takes up to `num` messages, waiting up to `timeout` in all: fewer if the time ran out.
  template <class Rep, class Period>
  std::vector<message> get(size_t num, std::chrono::duration<Rep, Period> timeout) {
    return take(num, detail::wait_ms(timeout), nullptr);
  }
  template <class Rep, class Period>
  std::vector<message> get(size_t num, std::chrono::duration<Rep, Period> timeout, error_info& err) {
    return take(num, detail::wait_ms(timeout), &err);
  }

  /// Takes every message already waiting, without waiting (brook_subscriber_poll(), in
  /// batches). Each message is new; the caller owns it.
  std::vector<message> poll() { return poll_all(nullptr); }
  std::vector<message> poll(error_info& err) { return poll_all(&err); }

  /// Fills `batch` with up to `max` messages copied into its buffer, waiting up to
  /// `timeout` for the first; after it, only messages already waiting are taken
  /// (brook_subscriber_poll_into()). Grows the batch's buffer when a message does not fit
  /// (no message is lost). Returns the number of messages; 0 if none came in time.
  template <class Rep, class Period>
  size_t poll_into(message_batch& batch, std::chrono::duration<Rep, Period> timeout,
                   size_t max = std::numeric_limits<size_t>::max()) {
    return fill(batch, detail::wait_ms(timeout), max, nullptr);
  }
  template <class Rep, class Period>
  size_t poll_into(message_batch& batch, std::chrono::duration<Rep, Period> timeout, size_t max,
                   error_info& err) {
    return fill(batch, detail::wait_ms(timeout), max, &err);
  }
  /// Like poll_into() with a timeout, without waiting.
  size_t poll_into(message_batch& batch) {
    return fill(batch, 0, std::numeric_limits<size_t>::max(), nullptr);
  }

  /// The number of messages waiting (brook_subscriber_available()); 0 for no subscriber.
  size_t available() const noexcept {
    size_t n = 0;
    return brook_subscriber_available(h_.get(), &n) == BROOK_STATUS_OK ? n : 0;
  }
  /// The messages the queue's overflow policy dropped so far; 0 for no subscriber.
  uint64_t dropped() const noexcept {
    uint64_t n = 0;
    return brook_subscriber_dropped(h_.get(), &n) == BROOK_STATUS_OK ? n : 0;
  }
  /// A file descriptor readable while messages wait, and once the endpoint has shut down
  /// (level-triggered, for poll(), select() or epoll; brook_subscriber_fd()); -1 for no
  /// subscriber. Never read, write or close it. Borrowed: valid until the subscriber is
  /// freed.
  int fd() const noexcept {
    int fd = -1;
    return brook_subscriber_fd(h_.get(), &fd) == BROOK_STATUS_OK ? fd : -1;
  }

  /// Adds the topic prefix `t` and advertises it to the peers (brook_subscriber_add_topic()).
  /// `block` is Broker's and changes nothing. Throws brook::error: BROOK_STATUS_CLOSED
  /// after shutdown.
  void add_topic(std::string_view t, bool block = false) { (void)block; topic_call(brook_subscriber_add_topic, t, nullptr); }
  void add_topic(std::string_view t, bool block, error_info& err) {
    (void)block;
    topic_call(brook_subscriber_add_topic, t, &err);
  }
  /// Removes the topic prefix `t`; as in Broker, the peers keep sending on it
  /// (brook_subscriber_remove_topic()). Throws as add_topic().
  void remove_topic(std::string_view t, bool block = false) {
    (void)block;
    topic_call(brook_subscriber_remove_topic, t, nullptr);
  }
  void remove_topic(std::string_view t, bool block, error_info& err) {
    (void)block;
    topic_call(brook_subscriber_remove_topic, t, &err);
  }

  /// The subscriber, still owned by this object.
  brook_subscriber* native_handle() const noexcept { return h_.get(); }
  /// True unless the handle is empty.
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  std::optional<message> next(int64_t ms, error_info* err) {
    brook_message* m = nullptr;
    brook_status st = brook_subscriber_next(h_.get(), ms, &m);
    if (st == BROOK_STATUS_TIMEOUT) {
      detail::succeed(err);
      return std::nullopt;
    }
    if (!detail::check(st, err)) {
      return std::nullopt;
    }
    return message::adopt(m);
  }
  std::vector<message> take(size_t num, int64_t ms, error_info* err) {
    std::vector<message> out;
    out.reserve(num < 1024 ? num : 1024);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms < 0 ? 0 : ms);
    while (out.size() < num) {
      int64_t left = -1;
      if (ms >= 0) {
        left = detail::wait_ms(deadline - std::chrono::steady_clock::now());
      }
      std::optional<message> m = next(left, err);
      if (!m) {
        break;
      }
      out.push_back(std::move(*m));
    }
    return out;
  }
  std::vector<message> poll_all(error_info* err) {
    std::vector<message> out;
    for (;;) {
      brook_message* raw[64];
      size_t n = 0;
      out.reserve(out.size() + 64);
      brook_status st = brook_subscriber_poll(h_.get(), raw, 64, &n);
      if (st == BROOK_STATUS_CLOSED && !out.empty()) {
        detail::succeed(err);
        return out;
      }
      if (!detail::check(st, err)) {
        return {};
      }
      for (size_t i = 0; i < n; i++) {
        out.push_back(message::adopt(raw[i]));
      }
      if (n < 64) {
        return out;
      }
    }
  }
  size_t fill(message_batch& b, int64_t ms, size_t max, error_info* err) {
    b.clear();
    for (;;) {
      size_t n = 0, used = 0, needed = 0;
      if (!detail::check(
              brook_subscriber_poll_into(h_.get(), ms, max, b.buf_.data(), b.buf_.size(), &n, &used, &needed),
              err)) {
        return 0;
      }
      if (n == 0 && needed > b.buf_.size()) {
        b.buf_.resize(needed);  // the message waits for us, ahead of the queue
        ms = 0;
        continue;
      }
      b.n_ = n;
      b.used_ = used;
      return n;
    }
  }
  bool topic_call(brook_status (*f)(brook_subscriber*, const char*), std::string_view t, error_info* err) {
    std::string text;
    return detail::c_text(t, "a topic", text, err) && detail::check(f(h_.get(), text.c_str()), err);
  }

  detail::handle<brook_subscriber, brook_subscriber_free> h_;
};

/// Receives the endpoint's error events and, if made so, its status events, as Broker's
/// `status_subscriber`. A move-only handle on a brook_status_subscriber; it may outlive
/// its endpoint. brook hands it both kinds; one made without `receive_statuses` skips the
/// status events as get() and poll() meet them, so available() and fd() count them until
/// then. Use from one thread at a time.
class status_subscriber {
 public:
  /// An empty handle (see OBJECTS at the top of this file).
  status_subscriber() noexcept = default;

  /// Takes the next wanted event, waiting as long as it takes
  /// (brook_status_subscriber_next()). Throws brook::error: BROOK_STATUS_CLOSED once the
  /// endpoint has shut down and every event has been taken.
  status_event get() { return next(-1, nullptr).value_or(status_event()); }
  status_event get(error_info& err) { return next(-1, &err).value_or(status_event()); }
  /// Takes the next wanted event, waiting up to `timeout`; std::nullopt if none came.
  template <class Rep, class Period>
  std::optional<status_event> get(std::chrono::duration<Rep, Period> timeout) {
    return next(detail::wait_ms(timeout), nullptr);
  }
  template <class Rep, class Period>
  std::optional<status_event> get(std::chrono::duration<Rep, Period> timeout, error_info& err) {
    return next(detail::wait_ms(timeout), &err);
  }
  /// Takes every wanted event already waiting, without waiting.
  std::vector<status_event> poll() { return poll_all(nullptr); }
  std::vector<status_event> poll(error_info& err) { return poll_all(&err); }

  /// The number of events waiting, skipped ones included; 0 for no subscriber.
  size_t available() const noexcept {
    size_t n = 0;
    return brook_status_subscriber_available(h_.get(), &n) == BROOK_STATUS_OK ? n : 0;
  }
  /// A file descriptor readable while events wait (level-triggered); -1 for no
  /// subscriber. Never read, write or close it. Borrowed: valid until the subscriber is
  /// freed.
  int fd() const noexcept {
    int fd = -1;
    return brook_status_subscriber_fd(h_.get(), &fd) == BROOK_STATUS_OK ? fd : -1;
  }

  /// The C object, still owned by this object; NULL for an empty handle.
  brook_status_subscriber* native_handle() const noexcept { return h_.get(); }
  /// True unless the handle is empty.
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  friend class endpoint;
  std::optional<status_event> next(int64_t ms, error_info* err) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms < 0 ? 0 : ms);
    for (;;) {
      brook_status_event* e = nullptr;
      brook_status st = brook_status_subscriber_next(h_.get(), ms, &e);
      if (st == BROOK_STATUS_TIMEOUT) {
        detail::succeed(err);
        return std::nullopt;
      }
      if (!detail::check(st, err)) {
        return std::nullopt;
      }
      status_event ev = status_event::adopt(e);
      if (statuses_ || ev.is_error()) {
        return ev;
      }
      if (ms >= 0) {
        ms = detail::wait_ms(deadline - std::chrono::steady_clock::now());
      }
    }
  }
  std::vector<status_event> poll_all(error_info* err) {
    std::vector<status_event> out;
    for (;;) {
      brook_status_event* e = nullptr;
      brook_status st = brook_status_subscriber_next(h_.get(), 0, &e);
      if (st == BROOK_STATUS_TIMEOUT || (st == BROOK_STATUS_CLOSED && !out.empty())) {
        detail::succeed(err);
        return out;
      }
      if (!detail::check(st, err)) {
        return {};
      }
      status_event ev = status_event::adopt(e);
      if (statuses_ || ev.is_error()) {
        out.push_back(std::move(ev));
      }
    }
  }

  detail::handle<brook_status_subscriber, brook_status_subscriber_free> h_;
  bool statuses_ = false;
};

/// Publishes on one topic, to the peers subscribed to it, as Broker's `publisher`. A
/// move-only handle on a brook_publisher; it may outlive its endpoint, after which its
/// publishes throw brook::error with BROOK_STATUS_CLOSED. Its fd() polls writable while
/// the endpoint's publish queue has room. Safe to share between threads.
class publisher {
 public:
  /// An empty handle (see OBJECTS at the top of this file).
  publisher() noexcept = default;

  /// Publishes a copy of `x`, waiting while the publish queue is full
  /// (brook_publisher_publish()). Throws brook::error: BROOK_STATUS_ENCODE_ERROR if `x`
  /// cannot be encoded, BROOK_STATUS_CLOSED if the endpoint is or gets shut down.
  void publish(const data_arg& x) { detail::check(brook_publisher_publish(h_.get(), x.get()), nullptr); }
  void publish(const data_arg& x, error_info& err) { detail::check(brook_publisher_publish(h_.get(), x.get()), &err); }
  /// Publishes copies of `xs` in order, handed to the reactor at once
  /// (brook_publisher_publish_batch()); if it fails, none is published. Throws as
  /// publish().
  void publish(const brook::vector& xs) { batch(xs, nullptr); }
  void publish(const brook::vector& xs, error_info& err) { batch(xs, &err); }
  /// Like publish(), but returns false instead of waiting when the queue is full; the
  /// value is then not published (brook_publisher_try_publish()). Throws as publish().
  bool try_publish(const data_arg& x) { return attempt(x, nullptr); }
  bool try_publish(const data_arg& x, error_info& err) { return attempt(x, &err); }

  /// How many publishes would go through now without waiting: the free places in the
  /// endpoint's publish queue, which all its publishers share; 0 for no publisher.
  size_t free_capacity() const noexcept {
    size_t n = 0;
    return brook_publisher_free_capacity(h_.get(), &n) == BROOK_STATUS_OK ? n : 0;
  }
  /// How many publications the endpoint's publish queue holds at most (a batch counts as
  /// one), as Broker's `capacity` (brook_publisher_capacity()); 0 for no publisher.
  size_t capacity() const noexcept {
    size_t n = 0;
    return brook_publisher_capacity(h_.get(), &n) == BROOK_STATUS_OK ? n : 0;
  }
  /// How many publications, from all the endpoint's publishers, are queued and not yet
  /// taken by the reactor, as Broker's `buffered` (brook_publisher_buffered()); 0 for no
  /// publisher.
  size_t buffered() const noexcept {
    size_t n = 0;
    return brook_publisher_buffered(h_.get(), &n) == BROOK_STATUS_OK ? n : 0;
  }
  /// Broker's `demand`: how many more publications the queue takes now, which is
  /// free_capacity() (as in brook's Python package).
  size_t demand() const noexcept { return free_capacity(); }
  /// A file descriptor that polls writable (POLLOUT) while the publish queue has room
  /// (brook_publisher_fd()); -1 for no publisher. Never read, write or close it.
  /// Borrowed: valid until the endpoint or the publisher is freed.
  int fd() const noexcept {
    int fd = -1;
    return brook_publisher_fd(h_.get(), &fd) == BROOK_STATUS_OK ? fd : -1;
  }
  /// The topic it publishes on. Borrowed: valid until the publisher is freed.
  std::string_view topic() const noexcept {
    const uint8_t* buf = nullptr;
    size_t len = 0;
    return brook_publisher_topic(h_.get(), &buf, &len) == BROOK_STATUS_OK ? detail::bytes_text(buf, len)
                                                                          : std::string_view();
  }

  /// The C object, still owned by this object; NULL for an empty handle.
  brook_publisher* native_handle() const noexcept { return h_.get(); }
  /// True unless the handle is empty.
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  friend class endpoint;
  bool batch(const brook::vector& xs, error_info* err) {
    std::vector<const brook_data*> ptrs;
    ptrs.reserve(xs.size());
    for (const data& x : xs) {
      ptrs.push_back(x.native_handle());
    }
    return detail::check(brook_publisher_publish_batch(h_.get(), ptrs.data(), ptrs.size()), err);
  }
  bool attempt(const data_arg& x, error_info* err) {
    brook_status st = brook_publisher_try_publish(h_.get(), x.get());
    if (st == BROOK_STATUS_WOULD_BLOCK) {
      detail::succeed(err);
      return false;
    }
    return detail::check(st, err);
  }

  detail::handle<brook_publisher, brook_publisher_free> h_;
};

// ---- data stores -----------------------------------------------------------------------

/// Where a store master keeps its data (brook_backend), as Broker's `backend`; brook has
/// no RocksDB.
enum class backend : uint32_t {
  memory = BROOK_BACKEND_MEMORY,
  sqlite = BROOK_BACKEND_SQLITE,
};

/// SQLite's `PRAGMA synchronous` (brook_sqlite_synchronous).
enum class sqlite_synchronous : uint32_t {
  off = BROOK_SQLITE_SYNCHRONOUS_OFF,
  normal = BROOK_SQLITE_SYNCHRONOUS_NORMAL,
  full = BROOK_SQLITE_SYNCHRONOUS_FULL,
  extra = BROOK_SQLITE_SYNCHRONOUS_EXTRA,
};

/// SQLite's `PRAGMA journal_mode` (brook_sqlite_journal_mode); `delete_` is DELETE.
enum class sqlite_journal_mode : uint32_t {
  delete_ = BROOK_SQLITE_JOURNAL_MODE_DELETE,
  wal = BROOK_SQLITE_JOURNAL_MODE_WAL,
};

/// What attaching does with a file that is not a usable store (brook_sqlite_failure_mode).
enum class sqlite_failure_mode : uint32_t {
  fail = BROOK_SQLITE_FAILURE_MODE_FAIL,
  delete_ = BROOK_SQLITE_FAILURE_MODE_DELETE,
};

/// How a master opens its SQLite file: the path and Broker's options, as Broker's
/// backend_options for SQLite. A move-only handle on a brook_sqlite_options; masters keep
/// their own copy. Use from one thread at a time.
class sqlite_options {
 public:
  /// An empty handle (see OBJECTS at the top of this file).
  sqlite_options() noexcept = default;
  /// Options for the file at `path`, with SQLite's default pragmas
  /// (brook_sqlite_options_new()). Throws brook::error: BROOK_STATUS_INVALID_ARGUMENT if
  /// `path` is empty or holds a NUL byte.
  explicit sqlite_options(std::string_view path) { build(path, nullptr); }
  static sqlite_options make(std::string_view path, error_info& err) {
    sqlite_options o;
    o.build(path, &err);
    return o;
  }

  /// Sets `PRAGMA synchronous`. Throws brook::error: BROOK_STATUS_NULL_ARGUMENT for no
  /// options; so do the other setters.
  void set_synchronous(sqlite_synchronous m) { call(brook_sqlite_options_set_synchronous, static_cast<uint32_t>(m), nullptr); }
  void set_synchronous(sqlite_synchronous m, error_info& err) {
    call(brook_sqlite_options_set_synchronous, static_cast<uint32_t>(m), &err);
  }
  /// Sets `PRAGMA journal_mode`; wal makes writes much cheaper.
  void set_journal_mode(sqlite_journal_mode m) {
    call(brook_sqlite_options_set_journal_mode, static_cast<uint32_t>(m), nullptr);
  }
  void set_journal_mode(sqlite_journal_mode m, error_info& err) {
    call(brook_sqlite_options_set_journal_mode, static_cast<uint32_t>(m), &err);
  }
  /// Sets what attaching does with an unusable file (fail).
  void set_failure_mode(sqlite_failure_mode m) {
    call(brook_sqlite_options_set_failure_mode, static_cast<uint32_t>(m), nullptr);
  }
  void set_failure_mode(sqlite_failure_mode m, error_info& err) {
    call(brook_sqlite_options_set_failure_mode, static_cast<uint32_t>(m), &err);
  }
  /// With `check` true, attaching runs `PRAGMA integrity_check` (false).
  void set_integrity_check(bool check) { call(brook_sqlite_options_set_integrity_check, check, nullptr); }
  void set_integrity_check(bool check, error_info& err) {
    call(brook_sqlite_options_set_integrity_check, check, &err);
  }

  /// The C object, still owned by this object; NULL for an empty handle.
  brook_sqlite_options* native_handle() const noexcept { return h_.get(); }
  /// True unless the handle is empty.
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  void build(std::string_view path, error_info* err) {
    std::string p;
    brook_sqlite_options* raw = nullptr;
    if (detail::c_text(path, "a path", p, err) && detail::check(brook_sqlite_options_new(p.c_str(), &raw), err)) {
      h_.reset(raw);
    }
  }
  template <class T>
  bool call(brook_status (*f)(brook_sqlite_options*, T), T v, error_info* err) {
    return detail::check(f(h_.get(), v), err);
  }

  detail::handle<brook_sqlite_options, brook_sqlite_options_free> h_;
};

/// How a clone behaves while it has no master, holding brook's defaults until set. A
/// move-only handle on a brook_clone_options; clones keep their own copy. Use from one
/// thread at a time.
class clone_options {
 public:
  /// The defaults (brook_clone_options_new()). Throws only if brook fails.
  clone_options() {
    brook_clone_options* raw = nullptr;
    detail::check(brook_clone_options_new(&raw), nullptr);
    h_.reset(raw);
  }
  /// How long a clone that lost its master keeps answering reads (5 min); 0: stale at
  /// once; negative: never stale. Throws brook::error: BROOK_STATUS_NULL_ARGUMENT for no
  /// options; so do the other setters.
  void set_stale_interval(std::chrono::milliseconds t) {
    detail::check(brook_clone_options_set_stale_interval_ms(h_.get(), t.count()), nullptr);
  }
  void set_stale_interval(std::chrono::milliseconds t, error_info& err) {
    detail::check(brook_clone_options_set_stale_interval_ms(h_.get(), t.count()), &err);
  }
  /// How long a write made without a master waits for one (2 min); 0: fail at once.
  void set_mutation_buffer_interval(std::chrono::milliseconds t) {
    detail::check(brook_clone_options_set_mutation_buffer_interval_ms(h_.get(), detail::ms32(t)), nullptr);
  }
  void set_mutation_buffer_interval(std::chrono::milliseconds t, error_info& err) {
    detail::check(brook_clone_options_set_mutation_buffer_interval_ms(h_.get(), detail::ms32(t)), &err);
  }
  /// How often a clone without a master asks for one (200 ms; acts at least every 100).
  void set_resync_interval(std::chrono::milliseconds t) {
    detail::check(brook_clone_options_set_resync_interval_ms(h_.get(), detail::ms32(t)), nullptr);
  }
  void set_resync_interval(std::chrono::milliseconds t, error_info& err) {
    detail::check(brook_clone_options_set_resync_interval_ms(h_.get(), detail::ms32(t)), &err);
  }
  /// How long reads on a new clone wait for the master's first copy (5 s).
  void set_max_get_delay(std::chrono::milliseconds t) {
    detail::check(brook_clone_options_set_max_get_delay_ms(h_.get(), detail::ms32(t)), nullptr);
  }
  void set_max_get_delay(std::chrono::milliseconds t, error_info& err) {
    detail::check(brook_clone_options_set_max_get_delay_ms(h_.get(), detail::ms32(t)), &err);
  }

  /// The C object, still owned by this object; NULL for an empty handle.
  brook_clone_options* native_handle() const noexcept { return h_.get(); }
  /// True unless the handle is empty.
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  detail::handle<brook_clone_options, brook_clone_options_free> h_;
};

/// The id of a proxy's request, as Broker's `request_id`; 0 is none.
using request_id = uint64_t;

namespace detail {
// A store expiry for brook.h: -1 for none, else milliseconds rounded up, at least 0.
inline int64_t expiry_ms(const std::optional<timespan>& e) noexcept {
  if (!e) {
    return -1;
  }
  int64_t ms = wait_ms(*e);
  return ms;
}
}  // namespace detail

/// A data store attached to an endpoint as its master or as a clone, as Broker's `store`:
/// a key-value map that Broker and Zeek nodes share. Each call waits for its answer, at
/// most the store's timeout (set_timeout(), 10 s), and throws brook::error with
/// BROOK_STATUS_TIMEOUT past it, BROOK_STATUS_CLOSED after shutdown, and Broker's error
/// codes as statuses (BROOK_STATUS_NO_SUCH_KEY, BROOK_STATUS_TYPE_CLASH,
/// BROOK_STATUS_STALE_DATA at a clone without a current copy, BROOK_STATUS_NO_SUCH_MASTER
/// at a clone whose master stays away, BROOK_STATUS_BACKEND_FAILURE), as the brook_store_*
/// call named says. An expiry (std::nullopt: none) counts from when the master applies the
/// write, to the millisecond. A move-only handle on a brook_store; once it and its
/// proxies are freed, the store is detached. Safe to share between threads.
class store {
 public:
  class proxy;
  class response;

  /// An empty handle (see OBJECTS at the top of this file).
  store() noexcept = default;

  /// The store's name; empty for no store. Borrowed: valid until the store is freed.
  std::string_view name() const noexcept {
    const uint8_t* buf = nullptr;
    size_t len = 0;
    return brook_store_name(h_.get(), &buf, &len) == BROOK_STATUS_OK ? detail::bytes_text(buf, len)
                                                                     : std::string_view();
  }
  /// How long each call on this handle waits for its answer, at least 1 ms
  /// (brook_store_set_timeout_ms()). Throws brook::error: BROOK_STATUS_INVALID_ARGUMENT
  /// for 0.
  void set_timeout(std::chrono::milliseconds t) { detail::check(brook_store_set_timeout_ms(h_.get(), detail::ms32(t)), nullptr); }
  void set_timeout(std::chrono::milliseconds t, error_info& err) {
    detail::check(brook_store_set_timeout_ms(h_.get(), detail::ms32(t)), &err);
  }

  // -- reads -----------------------------------------------------------------------------

  /// True if the store has a value at `key` (brook_store_exists()).
  bool exists(const data_arg& key) const { return ask_bool(brook_store_exists, key, nullptr); }
  bool exists(const data_arg& key, error_info& err) const { return ask_bool(brook_store_exists, key, &err); }
  /// A copy of the value at `key` (brook_store_get()). The result is new; the caller owns
  /// it. Throws brook::error: BROOK_STATUS_NO_SUCH_KEY if there is none.
  data get(const data_arg& key) const { return ask(brook_store_get, key, nullptr); }
  data get(const data_arg& key, error_info& err) const { return ask(brook_store_get, key, &err); }
  /// A copy of one element of the container at `key`: a vector's element at the count
  /// `index`, a table's value at `index`, or for a set whether it holds `index`
  /// (brook_store_get_index_from_value()). The result is new; the caller owns it.
  data get_index_from_value(const data_arg& key, const data_arg& index) const { return ask_index(key, index, nullptr); }
  data get_index_from_value(const data_arg& key, const data_arg& index, error_info& err) const {
    return ask_index(key, index, &err);
  }
  /// Copies of every key, as a set (brook_store_keys()). The result is new; the caller
  /// owns it.
  data keys() const { return ask_keys(nullptr); }
  data keys(error_info& err) const { return ask_keys(&err); }

  // -- writes ----------------------------------------------------------------------------

  /// Stores a copy of `value` at `key`, replacing any value there, and returns once the
  /// write is applied (at a clone: once the master took it and the clone sees it)
  /// (brook_store_put()).
  void put(const data_arg& key, const data_arg& value, std::optional<timespan> expiry = {}) {
    put_(key, value, expiry, nullptr);
  }
  void put(const data_arg& key, const data_arg& value, std::optional<timespan> expiry, error_info& err) {
    put_(key, value, expiry, &err);
  }
  void put(const data_arg& key, const data_arg& value, error_info& err) { put_(key, value, {}, &err); }
  /// Like put(), but only if the store has no value at `key`; true if it stored it (the
  /// master decides, so two racing writers see one true) (brook_store_put_unique()).
  bool put_unique(const data_arg& key, const data_arg& value, std::optional<timespan> expiry = {}) {
    return put_unique_(key, value, expiry, nullptr);
  }
  bool put_unique(const data_arg& key, const data_arg& value, std::optional<timespan> expiry, error_info& err) {
    return put_unique_(key, value, expiry, &err);
  }
  bool put_unique(const data_arg& key, const data_arg& value, error_info& err) {
    return put_unique_(key, value, {}, &err);
  }
  /// Removes the value at `key`; a missing key is no error (brook_store_erase()).
  void erase(const data_arg& key) { detail::check(brook_store_erase(h_.get(), key.get()), nullptr); }
  void erase(const data_arg& key, error_info& err) { detail::check(brook_store_erase(h_.get(), key.get()), &err); }
  /// Removes every key (brook_store_clear()).
  void clear() { detail::check(brook_store_clear(h_.get()), nullptr); }
  void clear(error_info& err) { detail::check(brook_store_clear(h_.get()), &err); }
  /// Adds `amount` to the value at `key` by Broker's rules; a missing key starts from
  /// zero of `amount`'s type (brook_store_increment()). Throws brook::error:
  /// BROOK_STATUS_TYPE_CLASH if the value cannot take `amount`.
  void increment(const data_arg& key, const data_arg& amount, std::optional<timespan> expiry = {}) {
    write(brook_store_increment, key, amount, expiry, nullptr);
  }
  void increment(const data_arg& key, const data_arg& amount, std::optional<timespan> expiry, error_info& err) {
    write(brook_store_increment, key, amount, expiry, &err);
  }
  void increment(const data_arg& key, const data_arg& amount, error_info& err) {
    write(brook_store_increment, key, amount, {}, &err);
  }
  /// Subtracts `amount`; a missing key is BROOK_STATUS_NO_SUCH_KEY (brook_store_decrement()).
  void decrement(const data_arg& key, const data_arg& amount, std::optional<timespan> expiry = {}) {
    write(brook_store_decrement, key, amount, expiry, nullptr);
  }
  void decrement(const data_arg& key, const data_arg& amount, std::optional<timespan> expiry, error_info& err) {
    write(brook_store_decrement, key, amount, expiry, &err);
  }
  void decrement(const data_arg& key, const data_arg& amount, error_info& err) {
    write(brook_store_decrement, key, amount, {}, &err);
  }
  /// Appends the string `str` to the string at `key`; a missing key starts empty
  /// (brook_store_append()).
  void append(const data_arg& key, const data_arg& str, std::optional<timespan> expiry = {}) {
    write(brook_store_append, key, str, expiry, nullptr);
  }
  void append(const data_arg& key, const data_arg& str, std::optional<timespan> expiry, error_info& err) {
    write(brook_store_append, key, str, expiry, &err);
  }
  void append(const data_arg& key, const data_arg& str, error_info& err) {
    write(brook_store_append, key, str, {}, &err);
  }
  /// Inserts `index` into the set at `key`; a missing key starts an empty set
  /// (brook_store_insert_into()).
  void insert_into(const data_arg& key, const data_arg& index, std::optional<timespan> expiry = {}) {
    insert_(key, index, nullptr, expiry, nullptr);
  }
  void insert_into(const data_arg& key, const data_arg& index, std::optional<timespan> expiry, error_info& err) {
    insert_(key, index, nullptr, expiry, &err);
  }
  void insert_into(const data_arg& key, const data_arg& index, error_info& err) {
    insert_(key, index, nullptr, {}, &err);
  }
  /// Inserts `index` mapped to `value` into the table at `key`; a missing key starts an
  /// empty table.
  void insert_into(const data_arg& key, const data_arg& index, const data_arg& value,
                   std::optional<timespan> expiry = {}) {
    insert_(key, index, value.get(), expiry, nullptr);
  }
  void insert_into(const data_arg& key, const data_arg& index, const data_arg& value,
                   std::optional<timespan> expiry, error_info& err) {
    insert_(key, index, value.get(), expiry, &err);
  }
  void insert_into(const data_arg& key, const data_arg& index, const data_arg& value, error_info& err) {
    insert_(key, index, value.get(), {}, &err);
  }
  /// Removes `index` from the set or table at `key`; from a vector, the last element, as
  /// Broker does (brook_store_remove_from()).
  void remove_from(const data_arg& key, const data_arg& index, std::optional<timespan> expiry = {}) {
    write(brook_store_remove_from, key, index, expiry, nullptr);
  }
  void remove_from(const data_arg& key, const data_arg& index, std::optional<timespan> expiry, error_info& err) {
    write(brook_store_remove_from, key, index, expiry, &err);
  }
  void remove_from(const data_arg& key, const data_arg& index, error_info& err) {
    write(brook_store_remove_from, key, index, {}, &err);
  }
  /// Appends a copy of `value` to the vector at `key`; a missing key starts an empty
  /// vector (brook_store_push()).
  void push(const data_arg& key, const data_arg& value, std::optional<timespan> expiry = {}) {
    write(brook_store_push, key, value, expiry, nullptr);
  }
  void push(const data_arg& key, const data_arg& value, std::optional<timespan> expiry, error_info& err) {
    write(brook_store_push, key, value, expiry, &err);
  }
  void push(const data_arg& key, const data_arg& value, error_info& err) {
    write(brook_store_push, key, value, {}, &err);
  }
  /// Removes the last element of the vector at `key` (brook_store_pop()).
  void pop(const data_arg& key, std::optional<timespan> expiry = {}) {
    detail::check(brook_store_pop(h_.get(), key.get(), detail::expiry_ms(expiry)), nullptr);
  }
  void pop(const data_arg& key, std::optional<timespan> expiry, error_info& err) {
    detail::check(brook_store_pop(h_.get(), key.get(), detail::expiry_ms(expiry)), &err);
  }
  void pop(const data_arg& key, error_info& err) { detail::check(brook_store_pop(h_.get(), key.get(), -1), &err); }

  /// Waits until every write made so far through this handle is applied (at a clone:
  /// acknowledged by the master), as Broker's `await_idle`; false if that took longer than
  /// the store's timeout (brook_store_await_idle()).
  [[nodiscard]] bool await_idle() { return idle(nullptr); }
  [[nodiscard]] bool await_idle(error_info& err) { return idle(&err); }

  /// The C object, still owned by this object; NULL for an empty handle.
  brook_store* native_handle() const noexcept { return h_.get(); }
  /// True unless the handle is empty.
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  friend class endpoint;
  bool ask_bool(brook_status (*f)(const brook_store*, const brook_data*, bool*), const data_arg& key,
                error_info* err) const {
    bool v = false;
    detail::check(f(h_.get(), key.get(), &v), err);
    return v;
  }
  data ask(brook_status (*f)(const brook_store*, const brook_data*, brook_data**), const data_arg& key,
           error_info* err) const {
    brook_data* v = nullptr;
    if (!detail::check(f(h_.get(), key.get(), &v), err)) {
      return {};
    }
    return data::adopt(v);
  }
  data ask_index(const data_arg& key, const data_arg& index, error_info* err) const {
    brook_data* v = nullptr;
    if (!detail::check(brook_store_get_index_from_value(h_.get(), key.get(), index.get(), &v), err)) {
      return {};
    }
    return data::adopt(v);
  }
  data ask_keys(error_info* err) const {
    brook_data* v = nullptr;
    if (!detail::check(brook_store_keys(h_.get(), &v), err)) {
      return {};
    }
    return data::adopt(v);
  }
  void put_(const data_arg& key, const data_arg& value, const std::optional<timespan>& expiry, error_info* err) {
    detail::check(brook_store_put(h_.get(), key.get(), value.get(), detail::expiry_ms(expiry)), err);
  }
  bool put_unique_(const data_arg& key, const data_arg& value, const std::optional<timespan>& expiry,
                   error_info* err) {
    bool inserted = false;
    detail::check(brook_store_put_unique(h_.get(), key.get(), value.get(), detail::expiry_ms(expiry), &inserted),
                  err);
    return inserted;
  }
  void write(brook_status (*f)(brook_store*, const brook_data*, const brook_data*, int64_t), const data_arg& key,
             const data_arg& x, const std::optional<timespan>& expiry, error_info* err) {
    detail::check(f(h_.get(), key.get(), x.get(), detail::expiry_ms(expiry)), err);
  }
  void insert_(const data_arg& key, const data_arg& index, const brook_data* value,
               const std::optional<timespan>& expiry, error_info* err) {
    detail::check(brook_store_insert_into(h_.get(), key.get(), index.get(), value, detail::expiry_ms(expiry)), err);
  }
  bool idle(error_info* err) {
    brook_status st = brook_store_await_idle(h_.get());
    if (st == BROOK_STATUS_TIMEOUT) {
      detail::succeed(err);
      return false;
    }
    return detail::check(st, err);
  }

  detail::handle<brook_store, brook_store_free> h_;
};

/// The answer to one proxy request, as Broker's `store::response`: its id, and either
/// its value or its failure (a status and a message). A move-only handle on a
/// brook_store_response. Use from one thread at a time.
class store::response {
 public:
  /// An empty handle (see OBJECTS at the top of this file).
  response() noexcept = default;

  /// The id of the request it answers; 0 for no response.
  request_id id() const noexcept {
    uint64_t id = 0;
    return brook_store_response_id(h_.get(), &id) == BROOK_STATUS_OK ? id : 0;
  }
  /// BROOK_STATUS_OK, or the status the blocking call would have thrown
  /// (BROOK_STATUS_NO_SUCH_KEY, ...); BROOK_STATUS_NULL_ARGUMENT for no response.
  brook_status status() const noexcept {
    brook_status s = BROOK_STATUS_NULL_ARGUMENT;
    return brook_store_response_status(h_.get(), &s) == BROOK_STATUS_OK ? s : BROOK_STATUS_NULL_ARGUMENT;
  }
  /// True if the request succeeded.
  bool ok() const noexcept { return status() == BROOK_STATUS_OK; }
  /// The failed request's message; empty if it succeeded. Borrowed: valid until the
  /// response is freed.
  std::string_view message() const noexcept {
    const char* m = nullptr;
    return brook_store_response_message(h_.get(), &m) == BROOK_STATUS_OK && m ? std::string_view(m)
                                                                               : std::string_view();
  }
  /// The request's value, as the blocking call gives it (a boolean for exists and
  /// put_unique, the set of keys for keys, none for other writes)
  /// (brook_store_response_value()). Borrowed: valid until the response is freed.
  /// Throws brook::error with the failed request's status and message.
  data_view answer() const { return value(nullptr); }
  data_view answer(error_info& err) const { return value(&err); }

  /// The C object, still owned by this object; NULL for an empty handle.
  brook_store_response* native_handle() const noexcept { return h_.get(); }
  /// True unless the handle is empty.
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  friend class store::proxy;
  data_view value(error_info* err) const {
    const brook_data* v = nullptr;
    detail::check(brook_store_response_value(h_.get(), &v), err);
    return data_view(v);
  }

  detail::handle<brook_store_response, brook_store_response_free> h_;
};

/// Sends store requests without waiting, as Broker's `store::proxy`: each request call
/// returns at once with a request id, and the answers come as responses from receive(),
/// in the order the store gives them. Its fd() (Broker's `mailbox().descriptor()`) lets
/// a poll() loop wait for them. Request calls throw brook::error with
/// BROOK_STATUS_CLOSED after shutdown; a request that fails gives a response with its
/// status. A move-only handle on a brook_store_proxy; it keeps its store attached. Use
/// from one thread at a time.
class store::proxy {
 public:
  /// An empty handle (see OBJECTS at the top of this file).
  proxy() noexcept = default;
  /// A proxy for `s` (brook_store_proxy_new()). Throws brook::error:
  /// BROOK_STATUS_NULL_ARGUMENT for no store, BROOK_STATUS_IO if its fd cannot be made.
  explicit proxy(const store& s) { build(s, nullptr); }
  static proxy make(const store& s, error_info& err) {
    proxy p;
    p.build(s, &err);
    return p;
  }

  /// Asks whether the store has a value at `key`; the answer is a boolean.
  request_id exists(const data_arg& key) { return req1(brook_store_proxy_exists, key, nullptr); }
  request_id exists(const data_arg& key, error_info& err) { return req1(brook_store_proxy_exists, key, &err); }
  /// Asks for the value at `key`.
  request_id get(const data_arg& key) { return req1(brook_store_proxy_get, key, nullptr); }
  request_id get(const data_arg& key, error_info& err) { return req1(brook_store_proxy_get, key, &err); }
  /// Asks for an element of the container at `key`, as store::get_index_from_value().
  request_id get_index_from_value(const data_arg& key, const data_arg& index) {
    return req2(brook_store_proxy_get_index_from_value, key, index, nullptr);
  }
  request_id get_index_from_value(const data_arg& key, const data_arg& index, error_info& err) {
    return req2(brook_store_proxy_get_index_from_value, key, index, &err);
  }
  /// Asks for the set of every key.
  request_id keys() { return req0(brook_store_proxy_keys, nullptr); }
  request_id keys(error_info& err) { return req0(brook_store_proxy_keys, &err); }
  /// Sends store::put()'s write; the answer is none once applied.
  request_id put(const data_arg& key, const data_arg& value, std::optional<timespan> expiry = {}) {
    return reqw(brook_store_proxy_put, key, value, expiry, nullptr);
  }
  request_id put(const data_arg& key, const data_arg& value, std::optional<timespan> expiry, error_info& err) {
    return reqw(brook_store_proxy_put, key, value, expiry, &err);
  }
  /// Sends store::put_unique()'s write; the answer is a boolean, true if inserted.
  request_id put_unique(const data_arg& key, const data_arg& value, std::optional<timespan> expiry = {}) {
    return reqw(brook_store_proxy_put_unique, key, value, expiry, nullptr);
  }
  request_id put_unique(const data_arg& key, const data_arg& value, std::optional<timespan> expiry,
                        error_info& err) {
    return reqw(brook_store_proxy_put_unique, key, value, expiry, &err);
  }
  /// Sends store::erase()'s write.
  request_id erase(const data_arg& key) { return req1(brook_store_proxy_erase, key, nullptr); }
  request_id erase(const data_arg& key, error_info& err) { return req1(brook_store_proxy_erase, key, &err); }
  /// Sends store::clear()'s write.
  request_id clear() { return req0(brook_store_proxy_clear, nullptr); }
  request_id clear(error_info& err) { return req0(brook_store_proxy_clear, &err); }
  /// Sends store::increment()'s write.
  request_id increment(const data_arg& key, const data_arg& amount, std::optional<timespan> expiry = {}) {
    return reqw(brook_store_proxy_increment, key, amount, expiry, nullptr);
  }
  request_id increment(const data_arg& key, const data_arg& amount, std::optional<timespan> expiry,
                       error_info& err) {
    return reqw(brook_store_proxy_increment, key, amount, expiry, &err);
  }
  /// Sends store::decrement()'s write.
  request_id decrement(const data_arg& key, const data_arg& amount, std::optional<timespan> expiry = {}) {
    return reqw(brook_store_proxy_decrement, key, amount, expiry, nullptr);
  }
  request_id decrement(const data_arg& key, const data_arg& amount, std::optional<timespan> expiry,
                       error_info& err) {
    return reqw(brook_store_proxy_decrement, key, amount, expiry, &err);
  }
  /// Sends store::append()'s write.
  request_id append(const data_arg& key, const data_arg& str, std::optional<timespan> expiry = {}) {
    return reqw(brook_store_proxy_append, key, str, expiry, nullptr);
  }
  request_id append(const data_arg& key, const data_arg& str, std::optional<timespan> expiry, error_info& err) {
    return reqw(brook_store_proxy_append, key, str, expiry, &err);
  }
  /// Sends store::insert_into()'s write for a set.
  request_id insert_into(const data_arg& key, const data_arg& index, std::optional<timespan> expiry = {}) {
    return insert_(key, index, nullptr, expiry, nullptr);
  }
  request_id insert_into(const data_arg& key, const data_arg& index, std::optional<timespan> expiry,
                         error_info& err) {
    return insert_(key, index, nullptr, expiry, &err);
  }
  /// Sends store::insert_into()'s write for a table.
  request_id insert_into(const data_arg& key, const data_arg& index, const data_arg& value,
                         std::optional<timespan> expiry = {}) {
    return insert_(key, index, value.get(), expiry, nullptr);
  }
  request_id insert_into(const data_arg& key, const data_arg& index, const data_arg& value,
                         std::optional<timespan> expiry, error_info& err) {
    return insert_(key, index, value.get(), expiry, &err);
  }
  /// Sends store::remove_from()'s write.
  request_id remove_from(const data_arg& key, const data_arg& index, std::optional<timespan> expiry = {}) {
    return reqw(brook_store_proxy_remove_from, key, index, expiry, nullptr);
  }
  request_id remove_from(const data_arg& key, const data_arg& index, std::optional<timespan> expiry,
                         error_info& err) {
    return reqw(brook_store_proxy_remove_from, key, index, expiry, &err);
  }
  /// Sends store::push()'s write.
  request_id push(const data_arg& key, const data_arg& value, std::optional<timespan> expiry = {}) {
    return reqw(brook_store_proxy_push, key, value, expiry, nullptr);
  }
  request_id push(const data_arg& key, const data_arg& value, std::optional<timespan> expiry, error_info& err) {
    return reqw(brook_store_proxy_push, key, value, expiry, &err);
  }
  /// Sends store::pop()'s write.
  request_id pop(const data_arg& key, std::optional<timespan> expiry = {}) { return pop_(key, expiry, nullptr); }
  request_id pop(const data_arg& key, std::optional<timespan> expiry, error_info& err) {
    return pop_(key, expiry, &err);
  }
  /// Asks to be answered (with none) once every write made so far through the store is
  /// applied.
  request_id await_idle() { return req0(brook_store_proxy_await_idle, nullptr); }
  request_id await_idle(error_info& err) { return req0(brook_store_proxy_await_idle, &err); }

  /// Takes the next response, waiting as long as it takes (brook_store_proxy_receive()).
  /// When the endpoint shuts down, the requests it has not answered get responses with
  /// BROOK_STATUS_CLOSED. The result is new; the caller owns it. Throws brook::error:
  /// BROOK_STATUS_NULL_ARGUMENT for no proxy.
  response receive() { return next(-1, nullptr).value_or(response()); }
  response receive(error_info& err) { return next(-1, &err).value_or(response()); }
  /// Takes the next response, waiting up to `timeout`; std::nullopt if none came.
  template <class Rep, class Period>
  std::optional<response> receive(std::chrono::duration<Rep, Period> timeout) {
    return next(detail::wait_ms(timeout), nullptr);
  }
  template <class Rep, class Period>
  std::optional<response> receive(std::chrono::duration<Rep, Period> timeout, error_info& err) {
    return next(detail::wait_ms(timeout), &err);
  }
  /// Takes `n` responses, waiting as long as it takes.
  std::vector<response> receive(size_t n) {
    std::vector<response> out;
    out.reserve(n);
    while (out.size() < n) {
      out.push_back(receive());
    }
    return out;
  }

  /// A file descriptor readable while responses wait (level-triggered;
  /// brook_store_proxy_fd()); -1 for no proxy. Never read, write or close it. Borrowed:
  /// valid until the proxy is freed.
  int fd() const noexcept {
    int fd = -1;
    return brook_store_proxy_fd(h_.get(), &fd) == BROOK_STATUS_OK ? fd : -1;
  }

  /// The C object, still owned by this object; NULL for an empty handle.
  brook_store_proxy* native_handle() const noexcept { return h_.get(); }
  /// True unless the handle is empty.
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  void build(const store& s, error_info* err) {
    brook_store_proxy* raw = nullptr;
    if (detail::check(brook_store_proxy_new(s.native_handle(), &raw), err)) {
      h_.reset(raw);
    }
  }
  request_id req0(brook_status (*f)(brook_store_proxy*, uint64_t*), error_info* err) {
    uint64_t id = 0;
    return detail::check(f(h_.get(), &id), err) ? id : 0;
  }
  request_id req1(brook_status (*f)(brook_store_proxy*, const brook_data*, uint64_t*), const data_arg& key,
                  error_info* err) {
    uint64_t id = 0;
    return detail::check(f(h_.get(), key.get(), &id), err) ? id : 0;
  }
  request_id req2(brook_status (*f)(brook_store_proxy*, const brook_data*, const brook_data*, uint64_t*),
                  const data_arg& key, const data_arg& x, error_info* err) {
    uint64_t id = 0;
    return detail::check(f(h_.get(), key.get(), x.get(), &id), err) ? id : 0;
  }
  request_id reqw(brook_status (*f)(brook_store_proxy*, const brook_data*, const brook_data*, int64_t, uint64_t*),
                  const data_arg& key, const data_arg& x, const std::optional<timespan>& expiry, error_info* err) {
    uint64_t id = 0;
    return detail::check(f(h_.get(), key.get(), x.get(), detail::expiry_ms(expiry), &id), err) ? id : 0;
  }
  request_id insert_(const data_arg& key, const data_arg& index, const brook_data* value,
                     const std::optional<timespan>& expiry, error_info* err) {
    uint64_t id = 0;
    return detail::check(brook_store_proxy_insert_into(h_.get(), key.get(), index.get(), value,
                                                       detail::expiry_ms(expiry), &id),
                         err)
               ? id
               : 0;
  }
  request_id pop_(const data_arg& key, const std::optional<timespan>& expiry, error_info* err) {
    uint64_t id = 0;
    return detail::check(brook_store_proxy_pop(h_.get(), key.get(), detail::expiry_ms(expiry), &id), err) ? id : 0;
  }
  std::optional<response> next(int64_t ms, error_info* err) {
    brook_store_response* r = nullptr;
    brook_status st = brook_store_proxy_receive(h_.get(), ms, &r);
    if (st == BROOK_STATUS_TIMEOUT) {
      detail::succeed(err);
      return std::nullopt;
    }
    if (!detail::check(st, err)) {
      return std::nullopt;
    }
    response out;
    out.h_.reset(r);
    return out;
  }

  detail::handle<brook_store_proxy, brook_store_proxy_free> h_;
};

// ---- endpoints -------------------------------------------------------------------------

/// An endpoint: one reactor thread with its listeners, peers, subscriptions and stores,
/// as Broker's `endpoint`. Endpoints peer over TCP (TLS by default, as Broker's) to
/// exchange messages: what one publishes goes to the peers subscribed to its topic, not to
/// its own subscribers (unless sent to its own ID). A move-only handle on a
/// brook_endpoint; destroying it or assigning over it shuts it down and frees it
/// (brook_endpoint_free()), so no other thread may be using it then: to release threads
/// that wait in it, call shutdown() first. Its subscribers, publishers and stores may
/// outlive it. Calls throw brook::error with BROOK_STATUS_CLOSED once it has shut down.
/// Safe to share between threads.
class endpoint {
 public:
  /// Starts an endpoint with the defaults and its reactor thread
  /// (brook_endpoint_new()). Throws brook::error: BROOK_STATUS_IO if the thread or its
  /// poller cannot be made.
  endpoint() { start(nullptr, nullptr); }
  /// Starts an endpoint with a copy of `config`. Throws brook::error:
  /// BROOK_STATUS_INVALID_ARGUMENT if a TLS file cannot be read or a key decrypted (the
  /// message names the file), BROOK_STATUS_IO as the default constructor.
  explicit endpoint(const configuration& config) { start(config.native_handle(), nullptr); }
  /// Like the constructors, but a failure gives an empty endpoint and `err`.
  static endpoint make(const configuration& config, error_info& err) {
    endpoint ep(nullptr);
    ep.start(config.native_handle(), &err);
    return ep;
  }
  static endpoint make(error_info& err) {
    endpoint ep(nullptr);
    ep.start(nullptr, &err);
    return ep;
  }
  /// Takes ownership of `ep`, an endpoint the caller owned; NULL gives an empty endpoint.
  static endpoint adopt(brook_endpoint* ep) noexcept {
    endpoint out(nullptr);
    out.h_.reset(ep);
    return out;
  }

  /// The endpoint's ID, also after shutdown; invalid for an empty endpoint.
  endpoint_id node_id() const noexcept {
    uint8_t id[16] = {0};
    brook_endpoint_id(h_.get(), id);
    return endpoint_id::from_bytes(id);
  }

  // -- peerings --------------------------------------------------------------------------

  /// Listens for peers at `address` (an IP or host name; empty: every IPv4 interface, as
  /// "0.0.0.0") and `port` (0: any free port); returns the port bound
  /// (brook_endpoint_listen()). Throws brook::error: BROOK_STATUS_INVALID_ARGUMENT if
  /// `address` does not resolve, BROOK_STATUS_IO if the port cannot be bound.
  uint16_t listen(std::string_view address = {}, uint16_t port = 0) { return listen_(address, port, nullptr); }
  uint16_t listen(std::string_view address, uint16_t port, error_info& err) { return listen_(address, port, &err); }

  /// Peers with the endpoint listening at `address` and `port` and waits until the
  /// handshake has succeeded (at most the handshake timeout plus 5 s); returns the peer's
  /// ID (brook_endpoint_peer()). With a non-zero `retry` (10 s, as in Broker) brook keeps
  /// retrying a failed or lost peering in the background at that interval, also when this
  /// first attempt failed; 0 means never. Broker returns false where this throws
  /// brook::error: BROOK_STATUS_PEER_UNAVAILABLE if nobody answers or the handshake fails
  /// (the message says why), BROOK_STATUS_TIMEOUT if the wait ends first,
  /// BROOK_STATUS_INVALID_ARGUMENT if `address` does not resolve. The error_info form
  /// returns an invalid ID then.
  endpoint_id peer(std::string_view address, uint16_t port,
                   std::chrono::milliseconds retry = std::chrono::seconds(10)) {
    return peer_(address, port, retry, nullptr);
  }
  endpoint_id peer(std::string_view address, uint16_t port, std::chrono::milliseconds retry, error_info& err) {
    return peer_(address, port, retry, &err);
  }
  endpoint_id peer(std::string_view address, uint16_t port, error_info& err) {
    return peer_(address, port, std::chrono::seconds(10), &err);
  }
  /// Like peer(), but returns at once; the outcome arrives as a status event (peer_added)
  /// or an error event (peer_unavailable) (brook_endpoint_peer_nosync()).
  void peer_nosync(std::string_view address, uint16_t port,
                   std::chrono::milliseconds retry = std::chrono::seconds(10)) {
    peer_nosync_(address, port, retry, nullptr);
  }
  void peer_nosync(std::string_view address, uint16_t port, std::chrono::milliseconds retry, error_info& err) {
    peer_nosync_(address, port, retry, &err);
  }
  /// Ends the peering with `address` and `port`, as given to peer(), and stops retrying
  /// it; returns once the goodbye is on its way (brook_endpoint_unpeer()). Throws
  /// brook::error: BROOK_STATUS_INVALID_ARGUMENT if there is no such peering. A peering
  /// that is only being retried (no connection at the moment) stops being retried, but
  /// brook reports BROOK_STATUS_INVALID_ARGUMENT for it too.
  void unpeer(std::string_view address, uint16_t port) { unpeer_(address, port, nullptr); }
  void unpeer(std::string_view address, uint16_t port, error_info& err) { unpeer_(address, port, &err); }

  /// The endpoint's peerings and peering attempts, in both directions
  /// (brook_endpoint_peers()).
  std::vector<peer_info> peers() const { return peers_(nullptr); }
  std::vector<peer_info> peers(error_info& err) const { return peers_(&err); }
  /// The topic prefixes the peers subscribed to, sorted (brook_endpoint_peer_subscriptions()).
  std::vector<topic> peer_subscriptions() const { return subscriptions_(nullptr); }
  std::vector<topic> peer_subscriptions(error_info& err) const { return subscriptions_(&err); }
  /// Subscribes to `ts` on the peers without a local subscriber, so that messages on them
  /// reach this endpoint and go on to its other peers (brook_endpoint_forward()).
  void forward(const filter_type& ts) { forward_(ts, nullptr); }
  void forward(const filter_type& ts, error_info& err) { forward_(ts, &err); }

  // -- publishing ------------------------------------------------------------------------

  /// Publishes a copy of `x` on `t` to the peers subscribed to it, waiting while the
  /// publish queue is full (brook_endpoint_publish()). Throws brook::error:
  /// BROOK_STATUS_INVALID_ARGUMENT if `t` is empty, BROOK_STATUS_ENCODE_ERROR if `x`
  /// cannot be encoded.
  void publish(std::string_view t, const data_arg& x) { publish_(t, x.get(), nullptr); }
  void publish(std::string_view t, const data_arg& x, error_info& err) { publish_(t, x.get(), &err); }
  /// Publishes a Zeek event on `t`; a Zeek node subscribed to `t` raises it
  /// (brook_endpoint_publish_event()). Throws as publish() of a value.
  void publish(std::string_view t, const zeek::Event& ev) { publish_event_(t, ev, nullptr); }
  void publish(std::string_view t, const zeek::Event& ev, error_info& err) { publish_event_(t, ev, &err); }
  /// Sends a copy of `x` on `t` to the direct peer `dst` only, whatever it subscribed to
  /// (brook_endpoint_publish_to()); this endpoint's own ID reaches its own subscribers.
  void publish(const endpoint_id& dst, std::string_view t, const data_arg& x) { publish_to_(dst, t, x, nullptr); }
  void publish(const endpoint_id& dst, std::string_view t, const data_arg& x, error_info& err) {
    publish_to_(dst, t, x, &err);
  }
  /// Like publish() to an ID, as Broker's form taking an endpoint_info.
  void publish(const endpoint_info& dst, std::string_view t, const data_arg& x) {
    publish_to_(dst.node, t, x, nullptr);
  }
  void publish(const endpoint_info& dst, std::string_view t, const data_arg& x, error_info& err) {
    publish_to_(dst.node, t, x, &err);
  }
  /// Publishes copies of `xs` on `t` in order, handed to the reactor at once
  /// (brook_endpoint_publish_batch()); if it fails, none is published. Throws as publish().
  void publish_batch(std::string_view t, const brook::vector& xs) { batch_(t, xs, nullptr); }
  void publish_batch(std::string_view t, const brook::vector& xs, error_info& err) { batch_(t, xs, &err); }
  /// Like publish(), but returns false instead of waiting when the publish queue is full;
  /// the value is then not published (brook_endpoint_try_publish()).
  bool try_publish(std::string_view t, const data_arg& x) { return try_(t, x, nullptr); }
  bool try_publish(std::string_view t, const data_arg& x, error_info& err) { return try_(t, x, &err); }
  /// Waits until everything published so far is handed to the peers' sockets
  /// (brook_endpoint_flush()). Throws brook::error: BROOK_STATUS_TIMEOUT after 30 s.
  void flush() { detail::check(brook_endpoint_flush(h_.get()), nullptr); }
  void flush(error_info& err) { detail::check(brook_endpoint_flush(h_.get()), &err); }
  /// A publisher for `t`, which keeps its own copy of the topic
  /// (brook_endpoint_publisher()). The result is new; the caller owns it.
  /// Throws brook::error: BROOK_STATUS_INVALID_ARGUMENT if `t` is empty.
  publisher make_publisher(std::string_view t) { return publisher_(t, nullptr); }
  publisher make_publisher(std::string_view t, error_info& err) { return publisher_(t, &err); }

  // -- subscribing -----------------------------------------------------------------------

  /// A subscriber to the topic prefixes `filter`, with a queue of `queue_size` messages
  /// (0: the configured size) (brook_endpoint_subscribe_sized()). The peers learn the
  /// topics. The result is new; the caller owns it. Throws brook::error:
  /// BROOK_STATUS_INVALID_ARGUMENT if `queue_size` is above 16777216, BROOK_STATUS_IO if
  /// its fd cannot be made.
  subscriber make_subscriber(const filter_type& filter, size_t queue_size = 0) {
    return subscribe_(filter, queue_size, nullptr);
  }
  subscriber make_subscriber(const filter_type& filter, size_t queue_size, error_info& err) {
    return subscribe_(filter, queue_size, &err);
  }
  subscriber make_subscriber(const filter_type& filter, error_info& err) { return subscribe_(filter, 0, &err); }
  /// A subscriber to the endpoint's error events and, with `receive_statuses`, its status
  /// events (peer_added, peer_lost, ...), as in Broker (brook_endpoint_status_subscriber()).
  /// The result is new; the caller owns it. Throws brook::error: BROOK_STATUS_IO if its fd
  /// cannot be made.
  status_subscriber make_status_subscriber(bool receive_statuses = false) {
    return status_(receive_statuses, nullptr);
  }
  status_subscriber make_status_subscriber(bool receive_statuses, error_info& err) {
    return status_(receive_statuses, &err);
  }
  status_subscriber make_status_subscriber(error_info& err) { return status_(false, &err); }

  // -- data stores -----------------------------------------------------------------------

  /// Attaches the master of the store `name`, in memory (brook_endpoint_attach_master()).
  /// The result is new; the caller owns it. Broker returns an expected<store> where this
  /// throws brook::error: BROOK_STATUS_MASTER_EXISTS if this endpoint has a master or
  /// clone of `name` or a peer has its master. backend::sqlite needs options.
  store attach_master(std::string_view name, backend type = backend::memory) {
    return master_(name, type, nullptr, nullptr);
  }
  store attach_master(std::string_view name, backend type, error_info& err) {
    return master_(name, type, nullptr, &err);
  }
  store attach_master(std::string_view name, error_info& err) { return master_(name, backend::memory, nullptr, &err); }
  /// Attaches the master of the store `name` kept by `type` with `opts` (backend::sqlite
  /// with its options). An SQLite file is read whole here, on the calling thread. Throws
  /// brook::error: BROOK_STATUS_BACKEND_FAILURE if the file cannot be opened (the message
  /// says why), BROOK_STATUS_INVALID_ARGUMENT for options with backend::memory.
  store attach_master(std::string_view name, backend type, const sqlite_options& opts) {
    return master_(name, type, opts.native_handle(), nullptr);
  }
  store attach_master(std::string_view name, backend type, const sqlite_options& opts, error_info& err) {
    return master_(name, type, opts.native_handle(), &err);
  }
  /// Attaches a clone of the store `name` with brook's clone defaults
  /// (brook_endpoint_attach_clone()). It finds the master among the peers, now or once
  /// they peer; reads made before the first copy arrives wait for it. The result is new;
  /// the caller owns it. Throws brook::error: BROOK_STATUS_MASTER_EXISTS if this endpoint
  /// has a master or clone of `name`.
  store attach_clone(std::string_view name) { return clone_(name, nullptr, nullptr); }
  store attach_clone(std::string_view name, error_info& err) { return clone_(name, nullptr, &err); }
  /// Like attach_clone(name), with the intervals of `opts`.
  store attach_clone(std::string_view name, const clone_options& opts) {
    return clone_(name, opts.native_handle(), nullptr);
  }
  store attach_clone(std::string_view name, const clone_options& opts, error_info& err) {
    return clone_(name, opts.native_handle(), &err);
  }
  /// Like attach_clone(name), with Broker's intervals in seconds: how often to look for
  /// the master, how long reads stay served without one (negative: forever), how long
  /// writes wait for one (0 or negative: not at all).
  store attach_clone(std::string_view name, double resync_interval, double stale_interval = 300.0,
                     double mutation_buffer_interval = 120.0) {
    return broker_clone_(name, resync_interval, stale_interval, mutation_buffer_interval, nullptr);
  }
  store attach_clone(std::string_view name, double resync_interval, double stale_interval,
                     double mutation_buffer_interval, error_info& err) {
    return broker_clone_(name, resync_interval, stale_interval, mutation_buffer_interval, &err);
  }

  /// Stops the endpoint: sends what is queued, says goodbye to every peer (waiting up to
  /// the unpeer timeout for them to take it) and ends the reactor thread
  /// (brook_endpoint_shutdown_report()). Returns how many messages it could not deliver
  /// (0 on a second call). Calls waiting in other threads return with
  /// BROOK_STATUS_CLOSED. Throws brook::error: BROOK_STATUS_NULL_ARGUMENT for an empty
  /// endpoint.
  uint64_t shutdown() {
    uint64_t n = 0;
    detail::check(brook_endpoint_shutdown_report(h_.get(), &n), nullptr);
    return n;
  }
  uint64_t shutdown(error_info& err) {
    uint64_t n = 0;
    detail::check(brook_endpoint_shutdown_report(h_.get(), &n), &err);
    return n;
  }

  /// The endpoint, still owned by this object (for brook_endpoint_metrics() and other
  /// calls not wrapped here).
  brook_endpoint* native_handle() const noexcept { return h_.get(); }
  /// True unless the handle is empty.
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  explicit endpoint(std::nullptr_t) noexcept {}

  void start(const brook_config* config, error_info* err) {
    brook_endpoint* raw = nullptr;
    if (detail::check(brook_endpoint_new(config, &raw), err)) {
      h_.reset(raw);
    }
  }
  uint16_t listen_(std::string_view address, uint16_t port, error_info* err) {
    std::string a;
    uint16_t out = 0;
    if (!detail::c_text(address.empty() ? std::string_view("0.0.0.0") : address, "an address", a, err) ||
        !detail::check(brook_endpoint_listen(h_.get(), a.c_str(), port, &out), err)) {
      return 0;
    }
    return out;
  }
  endpoint_id peer_(std::string_view address, uint16_t port, std::chrono::milliseconds retry, error_info* err) {
    std::string a;
    uint8_t id[16] = {0};
    if (!detail::c_text(address, "an address", a, err) ||
        !detail::check(brook_endpoint_peer(h_.get(), a.c_str(), port, detail::ms32(retry), id), err)) {
      return {};
    }
    return endpoint_id::from_bytes(id);
  }
  void peer_nosync_(std::string_view address, uint16_t port, std::chrono::milliseconds retry, error_info* err) {
    std::string a;
    if (detail::c_text(address, "an address", a, err)) {
      detail::check(brook_endpoint_peer_nosync(h_.get(), a.c_str(), port, detail::ms32(retry)), err);
    }
  }
  void unpeer_(std::string_view address, uint16_t port, error_info* err) {
    std::string a;
    if (detail::c_text(address, "an address", a, err)) {
      detail::check(brook_endpoint_unpeer(h_.get(), a.c_str(), port), err);
    }
  }
  std::vector<peer_info> peers_(error_info* err) const {
    brook_peer_list* raw = nullptr;
    if (!detail::check(brook_endpoint_peers(h_.get(), &raw), err)) {
      return {};
    }
    detail::handle<brook_peer_list, brook_peer_list_free> list(raw);
    size_t n = 0;
    brook_peer_list_len(raw, &n);
    std::vector<peer_info> out;
    out.reserve(n);
    for (size_t i = 0; i < n; i++) {
      peer_info p;
      uint8_t id[16] = {0};
      bool known = false;
      if (brook_peer_list_id(raw, i, id, &known) == BROOK_STATUS_OK && known) {
        p.peer.node = endpoint_id::from_bytes(id);
      }
      const char* ip = nullptr;
      uint16_t port = 0;
      if (brook_peer_list_address(raw, i, &ip, &port) == BROOK_STATUS_OK && ip != nullptr) {
        p.peer.network = network_info{ip, port};
      }
      brook_peer_list_outbound(raw, i, &p.outbound);
      brook_peer_list_dropped(raw, i, &p.dropped);
      brook_peer_status st = BROOK_PEER_STATUS_CONNECTING;
      brook_peer_list_status(raw, i, &st);
      p.status = static_cast<peer_status>(st);
      out.push_back(std::move(p));
    }
    detail::succeed(err);
    return out;
  }
  std::vector<topic> subscriptions_(error_info* err) const {
    brook_topic_list* raw = nullptr;
    if (!detail::check(brook_endpoint_peer_subscriptions(h_.get(), &raw), err)) {
      return {};
    }
    detail::handle<brook_topic_list, brook_topic_list_free> list(raw);
    size_t n = 0;
    brook_topic_list_len(raw, &n);
    std::vector<topic> out;
    out.reserve(n);
    for (size_t i = 0; i < n; i++) {
      const uint8_t* buf = nullptr;
      size_t len = 0;
      if (brook_topic_list_get(raw, i, &buf, &len) == BROOK_STATUS_OK) {
        out.emplace_back(detail::bytes_text(buf, len));
      }
    }
    detail::succeed(err);
    return out;
  }
  void forward_(const filter_type& ts, error_info* err) {
    for (const topic& t : ts) {
      std::string text;
      if (!detail::c_text(t.string(), "a topic", text, err) ||
          !detail::check(brook_endpoint_forward(h_.get(), text.c_str()), err)) {
        return;
      }
    }
    detail::succeed(err);
  }
  void publish_(std::string_view t, const brook_data* x, error_info* err) {
    detail::c_string text;
    if (text.assign(t, "a topic", err)) {
      detail::check(brook_endpoint_publish(h_.get(), text.c_str(), x), err);
    }
  }
  void publish_event_(std::string_view t, const zeek::Event& ev, error_info* err) {
    detail::c_string text;
    if (text.assign(t, "a topic", err)) {
      detail::check(brook_endpoint_publish_event(h_.get(), text.c_str(), ev.native_handle()), err);
    }
  }
  void publish_to_(const endpoint_id& dst, std::string_view t, const data_arg& x, error_info* err) {
    detail::c_string text;
    if (text.assign(t, "a topic", err)) {
      detail::check(brook_endpoint_publish_to(h_.get(), dst.bytes().data(), text.c_str(), x.get()), err);
    }
  }
  void batch_(std::string_view t, const brook::vector& xs, error_info* err) {
    std::string text;
    if (!detail::c_text(t, "a topic", text, err)) {
      return;
    }
    std::vector<const brook_data*> ptrs;
    ptrs.reserve(xs.size());
    for (const data& x : xs) {
      ptrs.push_back(x.native_handle());
    }
    detail::check(brook_endpoint_publish_batch(h_.get(), text.c_str(), ptrs.data(), ptrs.size()), err);
  }
  bool try_(std::string_view t, const data_arg& x, error_info* err) {
    detail::c_string text;
    if (!text.assign(t, "a topic", err)) {
      return false;
    }
    brook_status st = brook_endpoint_try_publish(h_.get(), text.c_str(), x.get());
    if (st == BROOK_STATUS_WOULD_BLOCK) {
      detail::succeed(err);
      return false;
    }
    return detail::check(st, err);
  }
  publisher publisher_(std::string_view t, error_info* err) {
    std::string text;
    brook_publisher* raw = nullptr;
    publisher out;
    if (detail::c_text(t, "a topic", text, err) &&
        detail::check(brook_endpoint_publisher(h_.get(), text.c_str(), &raw), err)) {
      out.h_.reset(raw);
    }
    return out;
  }
  subscriber subscribe_(const filter_type& filter, size_t queue_size, error_info* err) {
    std::vector<std::string> texts(filter.size());
    std::vector<const char*> ptrs(filter.size());
    for (size_t i = 0; i < filter.size(); i++) {
      if (!detail::c_text(filter[i].string(), "a topic", texts[i], err)) {
        return {};
      }
      ptrs[i] = texts[i].c_str();
    }
    brook_subscriber* raw = nullptr;
    brook_status st = queue_size == 0
                          ? brook_endpoint_subscribe(h_.get(), ptrs.data(), ptrs.size(), &raw)
                          : brook_endpoint_subscribe_sized(h_.get(), ptrs.data(), ptrs.size(), queue_size, &raw);
    if (!detail::check(st, err)) {
      return {};
    }
    return subscriber::adopt(raw);
  }
  status_subscriber status_(bool receive_statuses, error_info* err) {
    brook_status_subscriber* raw = nullptr;
    status_subscriber out;
    // brook hands out both kinds when asked for errors; the wrapper skips statuses unless
    // they were asked for, as Broker's status subscriber does.
    if (detail::check(brook_endpoint_status_subscriber(h_.get(), true, &raw), err)) {
      out.h_.reset(raw);
      out.statuses_ = receive_statuses;
    }
    return out;
  }
  store master_(std::string_view name, backend type, const brook_sqlite_options* opts, error_info* err) {
    std::string n;
    brook_store* raw = nullptr;
    store out;
    if (detail::c_text(name, "a store name", n, err) &&
        detail::check(brook_endpoint_attach_master(h_.get(), n.c_str(), static_cast<uint32_t>(type), opts, &raw),
                      err)) {
      out.h_.reset(raw);
    }
    return out;
  }
  store clone_(std::string_view name, const brook_clone_options* opts, error_info* err) {
    std::string n;
    brook_store* raw = nullptr;
    store out;
    if (detail::c_text(name, "a store name", n, err) &&
        detail::check(opts == nullptr ? brook_endpoint_attach_clone(h_.get(), n.c_str(), &raw)
                                      : brook_endpoint_attach_clone_with(h_.get(), n.c_str(), opts, &raw),
                      err)) {
      out.h_.reset(raw);
    }
    return out;
  }
  store broker_clone_(std::string_view name, double resync, double stale, double mutation, error_info* err) {
    auto ms = [](double secs) { return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(secs * 1000.0))); };
    clone_options opts;
    if (!detail::check(brook_clone_options_set_resync_interval_ms(opts.native_handle(),
                                                                   detail::ms32(ms(resync > 0 ? resync : 0))),
                       err) ||
        !detail::check(brook_clone_options_set_stale_interval_ms(opts.native_handle(),
                                                                  stale < 0 ? -1 : ms(stale).count()),
                       err) ||
        !detail::check(brook_clone_options_set_mutation_buffer_interval_ms(
                           opts.native_handle(), detail::ms32(ms(mutation > 0 ? mutation : 0))),
                       err)) {
      return {};
    }
    return clone_(name, opts.native_handle(), err);
  }

  detail::handle<brook_endpoint, brook_endpoint_free> h_;
};

}  // namespace brook

#endif  // BROOK_HPP
