/*
 * Built by `make install-test` with nothing but the flags of the installed brook.pc:
 *   c++ -std=c++17 pkgconfig_test.cpp $(pkg-config --cflags --libs brook)
 * It checks that the installed brook.hpp, brook.h and library belong together and work.
 */
#include <brook.hpp>

#include <iostream>
#include <string>

int main() {
  if (brook::version() != BROOK_VERSION_STRING) {
    std::cerr << "library " << brook::version() << ", header " << BROOK_VERSION_STRING << "\n";
    return 1;
  }
  try {
    brook::data d = brook::data::from_text("(42, 80/tcp)");
    std::string text = brook::to_string(d);
    bool ok = text == "(42, 80/tcp)" && d[0].as_count() == 42;
    std::cout << "installed brook.hpp " << brook::version() << " via pkg-config: " << (ok ? "ok" : text)
              << std::endl;
    return ok ? 0 : 1;
  } catch (const brook::error& e) {
    std::cerr << "brook: " << e.what() << "\n";
    return 1;
  }
}
