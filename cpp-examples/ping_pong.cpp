/*
 * ping.c and pong.c in C++, through brook.hpp, in one process: two endpoints peering over
 * 127.0.0.1. "pong" listens on a port the system picks and answers each Zeek event
 * ping(n, payload) on /brook/ping with pong(n, payload) on /brook/pong, from a thread
 * that waits on its subscriber's fd with poll(). "ping" peers with it, sends ping(1) to
 * ping(N) and waits for each pong, printing its round-trip time. It ends by itself.
 *
 *   ping_pong [--count N] [--set NAME=VALUE]...
 *
 * N is 5 unless given. --set sets a Broker option on both endpoints by name, such as
 * broker.disable-ssl=true (TLS is on by default, as in Broker). Exits with status 1 if a
 * pong is missing or wrong, or a brook call fails (brook::error says why).
 */
#include <brook.hpp>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

// How long to wait for each pong.
constexpr auto WAIT = 5s;

[[noreturn]] void usage() {
  std::cerr << "usage: ping_pong [--count N] [--set NAME=VALUE]...\n";
  std::exit(2);
}

brook::configuration make_config(const std::vector<std::pair<std::string, std::string>>& options) {
  brook::configuration cfg;
  for (const auto& [name, value] : options) {
    cfg.set(name, value);  // throws brook::error for an unknown option
  }
  return cfg;
}

// The pong side: a thread that answers pings until it is stopped, polling the
// subscriber fd as a program's own event loop would, with a timeout so that it notices
// the stop. Destroying it stops and joins the thread.
class pong_side {
 public:
  pong_side(brook::endpoint& ep, brook::subscriber& sub) : thread_([this, &ep, &sub] { run(ep, sub); }) {}
  ~pong_side() {
    stop_ = true;
    thread_.join();
  }

 private:
  void run(brook::endpoint& ep, brook::subscriber& sub) {
    struct pollfd p = {sub.fd(), POLLIN, 0};
    try {
      while (!stop_) {
        if (poll(&p, 1, 100) <= 0) {
          continue;
        }
        for (brook::message& m : sub.poll()) {
          brook::error_info err;
          brook::zeek::Event ping = m.event(err);  // the form that does not throw
          if (err || ping.name() != "ping" || ping.args().size() != 2) {
            std::cerr << "pong: ignoring a message on " << m.topic() << "\n";
            continue;
          }
          // The answer carries copies of the ping's arguments.
          ep.publish("/brook/pong", brook::zeek::Event("pong", {ping.args()[0], ping.args()[1]}));
        }
      }
    } catch (const brook::error& e) {
      std::cerr << "pong: " << brook::status_str(e.code()) << ": " << e.what() << "\n";
    }
  }

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  unsigned long count = 5;
  std::vector<std::pair<std::string, std::string>> options;
  for (int i = 1; i < argc; i++) {
    if (i + 1 == argc) {
      usage();
    } else if (std::strcmp(argv[i], "--count") == 0) {
      count = std::strtoul(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--set") == 0) {
      std::string opt = argv[++i];
      size_t eq = opt.find('=');
      if (eq == std::string::npos) {
        usage();
      }
      options.emplace_back(opt.substr(0, eq), opt.substr(eq + 1));
    } else {
      usage();
    }
  }

  try {
    // pong: subscribe first, so that peers learn the topic in the handshake.
    brook::endpoint pong(make_config(options));
    brook::subscriber pings = pong.make_subscriber({"/brook/ping"});
    uint16_t port = pong.listen("127.0.0.1", 0);
    std::cout << "pong: listening on " << port << std::endl;
    pong_side answering(pong, pings);

    // ping: peers (waiting for the handshake, no retries), then pings.
    brook::endpoint ping(make_config(options));
    brook::subscriber pongs = ping.make_subscriber({"/brook/pong"});
    brook::endpoint_id peer = ping.peer("127.0.0.1", port, 0s);
    std::cout << "ping: peered with " << peer.to_string() << std::endl;

    unsigned long missing = 0;
    for (brook::count n = 1; n <= count; n++) {
      auto sent = std::chrono::steady_clock::now();
      ping.publish("/brook/ping", brook::zeek::Event("ping", {n, "payload " + std::to_string(n)}));
      bool answered = false;
      while (!answered) {
        auto left = WAIT - (std::chrono::steady_clock::now() - sent);
        std::optional<brook::message> m = pongs.get(left);
        if (!m) {
          break;  // timed out
        }
        brook::zeek::Event ev = m->event();
        answered = ev.name() == "pong" && ev.args().size() == 2 && ev.args()[0].to_count() == n;
      }
      std::chrono::duration<double, std::milli> rtt = std::chrono::steady_clock::now() - sent;
      if (answered) {
        std::printf("pong(%llu): %.3f ms\n", static_cast<unsigned long long>(n), rtt.count());
      } else {
        std::printf("pong(%llu): missing\n", static_cast<unsigned long long>(n));
        missing++;
      }
      std::fflush(stdout);
    }

    std::cout << count << " pings, " << count - missing << " pongs" << std::endl;
    // Going out of scope, ping's endpoint shuts down first (saying goodbye to pong), then
    // the pong thread stops, then pong's endpoint shuts down.
    return missing == 0 ? 0 : 1;
  } catch (const brook::error& e) {
    std::cerr << "ping_pong: " << brook::status_str(e.code()) << ": " << e.what() << "\n";
    return 1;
  }
}
