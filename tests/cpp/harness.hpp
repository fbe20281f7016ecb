/*
 * A small test harness for brook.hpp, the C++ counterpart of tests/c/harness.h.
 *
 *   CHECK(cond)                      any condition
 *   CHECK_EQ(a, b)                   a == b, printing both (they must be printable)
 *   CHECK_THROWS(expr, status)       expr throws brook::error with `status` and a message
 *   CHECK_NOTHROW(expr)              expr throws nothing
 *   CHECK_ERR(err, status)           an error_info holds `status` and a message
 *   CHECK_NO_ERR(err)                an error_info holds BROOK_STATUS_OK and no message
 *
 * Each macro evaluates to true on success, so a test can stop early. run(name, fn) runs
 * one test under a watchdog: a test still running after TEST_LIMIT_S seconds ends the
 * program with a message, so that no test can hang. finish() prints "N passed, N failed"
 * and gives the exit code.
 *
 * Helpers the tests share: WAIT, eventually(pred), readable(fd, ms), writable(fd, ms),
 * peer_subscribed(ep, topic) and plain_config() (TLS off, for tests that do not test TLS).
 */
#ifndef BROOK_CPP_TEST_HARNESS_HPP
#define BROOK_CPP_TEST_HARNESS_HPP

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "brook.hpp"

namespace harness {

inline int passed = 0;
inline int failed = 0;
inline const char* current = "";

// Longest a single test may run.
constexpr unsigned TEST_LIMIT_S = 60;

// How long a test waits for something that should happen at once.
constexpr auto WAIT = std::chrono::seconds(5);

inline bool record(bool ok, const char* expr, const char* file, int line, const std::string& detail = {}) {
  if (ok) {
    passed++;
  } else {
    failed++;
    std::cerr << file << ":" << line << ": FAILED in " << current << ": " << expr;
    if (!detail.empty()) {
      std::cerr << "\n  " << detail;
    }
    std::cerr << std::endl;
  }
  return ok;
}

template <class A, class B>
bool check_eq(const A& a, const B& b, const char* expr, const char* file, int line) {
  bool ok = a == b;
  std::ostringstream detail;
  if (!ok) {
    detail << "got " << a << ", expected " << b;
  }
  return record(ok, expr, file, line, detail.str());
}

template <class F>
bool check_throws(F&& f, brook_status want, const char* expr, const char* file, int line) {
  try {
    f();
  } catch (const brook::error& e) {
    std::ostringstream detail;
    bool ok = e.code() == want && e.what()[0] != '\0';
    if (!ok) {
      detail << "threw " << brook::status_str(e.code()) << " (\"" << e.what() << "\"), expected "
             << brook::status_str(want) << " with a message";
    }
    return record(ok, expr, file, line, detail.str());
  } catch (const std::exception& e) {
    return record(false, expr, file, line, std::string("threw another exception: ") + e.what());
  }
  return record(false, expr, file, line, std::string("threw nothing, expected ") + brook::status_str(want));
}

template <class F>
bool check_nothrow(F&& f, const char* expr, const char* file, int line) {
  try {
    f();
  } catch (const brook::error& e) {
    return record(false, expr, file, line,
                  std::string("threw ") + brook::status_str(e.code()) + ": " + e.what());
  } catch (const std::exception& e) {
    return record(false, expr, file, line, std::string("threw: ") + e.what());
  }
  return record(true, expr, file, line);
}

inline bool check_err(const brook::error_info& err, brook_status want, const char* expr, const char* file,
                      int line) {
  bool ok = static_cast<bool>(err) && err.code == want && !err.message.empty();
  std::string detail;
  if (!ok) {
    detail = std::string("error_info holds ") + brook::status_str(err.code) + " (\"" + err.message +
             "\"), expected " + brook::status_str(want) + " with a message";
  }
  return record(ok, expr, file, line, detail);
}

inline bool check_no_err(const brook::error_info& err, const char* expr, const char* file, int line) {
  bool ok = !err && err.code == BROOK_STATUS_OK && err.message.empty();
  return record(ok, expr, file, line,
                ok ? std::string() : std::string("error_info holds ") + brook::status_str(err.code) + ": " + err.message);
}

inline void on_alarm(int) {
  static const char msg[] = "FAILED: a test ran past its time limit: ";
  ssize_t r = write(2, msg, sizeof msg - 1);
  r = write(2, current, std::strlen(current));
  r = write(2, "\n", 1);
  (void)r;
  _exit(1);
}

// Runs one test under the watchdog; an escaping exception counts as a failure.
inline void run(const char* name, const std::function<void()>& test) {
  current = name;
  signal(SIGALRM, on_alarm);
  alarm(TEST_LIMIT_S);
  try {
    test();
  } catch (const brook::error& e) {
    record(false, "the test threw brook::error", __FILE__, __LINE__,
           std::string(brook::status_str(e.code())) + ": " + e.what());
  } catch (const std::exception& e) {
    record(false, "the test threw", __FILE__, __LINE__, e.what());
  }
  alarm(0);
}

inline int finish() {
  std::cout << passed << " passed, " << failed << " failed" << std::endl;
  return failed == 0 && passed > 0 ? 0 : 1;
}

// True once `pred()` holds, trying until WAIT has passed.
template <class F>
bool eventually(F&& pred) {
  auto deadline = std::chrono::steady_clock::now() + WAIT;
  do {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

inline bool ready(int fd, short events, int ms) {
  struct pollfd p = {fd, events, 0};
  return poll(&p, 1, ms) == 1 && (p.revents & events);
}

// True if `fd` becomes readable within `ms` milliseconds.
inline bool readable(int fd, int ms) { return ready(fd, POLLIN, ms); }
// True if `fd` polls writable within `ms` milliseconds.
inline bool writable(int fd, int ms) { return ready(fd, POLLOUT, ms); }

// True once a topic a peer of `ep` subscribed to is a prefix of `t`.
inline bool peer_subscribed(const brook::endpoint& ep, std::string_view t) {
  return eventually([&] {
    for (const brook::topic& sub : ep.peer_subscriptions()) {
      if (brook::topic::is_prefix(t, sub.string())) {
        return true;
      }
    }
    return false;
  });
}

// The defaults with TLS off: faster handshakes for tests that are not about TLS.
inline brook::configuration plain_config() {
  brook::broker_options opts;
  opts.disable_ssl = true;
  return brook::configuration(opts);
}

}  // namespace harness

#define CHECK(cond) harness::record(static_cast<bool>(cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ(a, b) harness::check_eq((a), (b), #a " == " #b, __FILE__, __LINE__)
#define CHECK_THROWS(expr, status) \
  harness::check_throws([&] { (void)(expr); }, (status), #expr, __FILE__, __LINE__)
#define CHECK_NOTHROW(expr) harness::check_nothrow([&] { (void)(expr); }, #expr, __FILE__, __LINE__)
#define CHECK_ERR(err, status) harness::check_err((err), (status), #err, __FILE__, __LINE__)
#define CHECK_NO_ERR(err) harness::check_no_err((err), #err, __FILE__, __LINE__)

#endif  // BROOK_CPP_TEST_HARNESS_HPP
