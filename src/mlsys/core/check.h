// MLSYS_CHECK: guards internal invariants. Never used on user input (that returns an Error).
//
//   MLSYS_CHECK(heap_.size() < kMaxEvents, "event queue overflow");
//
// A failed check is a bug in mlsys: it throws InternalError, which the CLI reports with exit 3.
#pragma once

#include <stdexcept>
#include <string>

namespace mlsys {

class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] inline void check_failed(const char* expr, const char* file, int line,
                                      const std::string& message) {
  throw InternalError(std::string(file) + ":" + std::to_string(line) + ": check failed: " + expr +
                      (message.empty() ? "" : " (" + message + ")"));
}

}  // namespace mlsys

#define MLSYS_CHECK(cond, ...)                                                          \
  do {                                                                                  \
    if (!(cond)) ::mlsys::check_failed(#cond, __FILE__, __LINE__, std::string{__VA_ARGS__}); \
  } while (false)
