#include "mlsys/core/log.h"

#include <atomic>
#include <iostream>
#include <mutex>
#include <string>

namespace mlsys {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kWarn};
std::atomic<std::ostream*> g_stream{nullptr};
std::mutex g_write_mutex;

constexpr std::string_view kNames[] = {"error", "warn", "info", "debug"};

}  // namespace

Result<LogLevel> parse_log_level(std::string_view text) {
  for (int i = 0; i < 4; ++i) {
    if (kNames[i] == text) return static_cast<LogLevel>(i);
  }
  return invalid_input("unknown log level '" + std::string(text) + "'", "use error, warn, info or debug");
}

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }
void set_log_stream(std::ostream* stream) { g_stream = stream; }

void log(LogLevel level, std::string_view message) {
  if (level > g_level.load()) return;
  std::ostream* s = g_stream.load();
  std::lock_guard<std::mutex> lock(g_write_mutex);
  (s != nullptr ? *s : std::cerr) << "mlsys: " << kNames[static_cast<int>(level)] << ": " << message << "\n";
}

}  // namespace mlsys
