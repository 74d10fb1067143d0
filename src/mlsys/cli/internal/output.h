// Shared output helpers for commands: the JSON envelope every --json result carries, and
// writing side files (--out, --trace, --plot).
#pragma once

#include <string>
#include <string_view>

#include "mlsys/cli/command.h"
#include "mlsys/core/json_writer.h"

namespace mlsys::cli {

/// Begins the top-level JSON object and writes its "mlsys" member: version, command, seed and
/// the fully resolved options, so every output records how it was made. The caller adds its
/// members and calls end_object().
void begin_json_result(JsonWriter& w, const Context& ctx);

/// Writes `content` to `path`, creating parent folders; notes the path on stderr unless quiet.
Status write_side_file(const Context& ctx, const std::string& path, std::string_view content,
                       std::string_view what);

/// Formats a real number with `digits` significant digits for tables ("1.234", "5.6e+09").
std::string fmt(double v, int digits = 4);

}  // namespace mlsys::cli
