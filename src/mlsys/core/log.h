// Diagnostics on stderr, filtered by level (the CLI's --log). Results never go through here.
//
//   set_log_level(LogLevel::kInfo);
//   log(LogLevel::kInfo, "config: link-bw = 25GBps (run.yaml:3)");
//   // stderr: "mlsys: info: config: link-bw = 25GBps (run.yaml:3)"
#pragma once

#include <iosfwd>
#include <string_view>

#include "mlsys/core/result.h"

namespace mlsys {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

/// "error", "warn", "info" or "debug".
Result<LogLevel> parse_log_level(std::string_view text);
void set_log_level(LogLevel level);
LogLevel log_level();
/// Redirects log output (tests); the default is std::cerr.
void set_log_stream(std::ostream* stream);
/// Writes "mlsys: <level>: <message>" when `level` is enabled.
void log(LogLevel level, std::string_view message);

}  // namespace mlsys
