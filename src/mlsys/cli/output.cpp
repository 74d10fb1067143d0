#include "mlsys/cli/internal/output.h"

#include <cstdio>
#include <filesystem>
#include <ostream>

#include "mlsys/core/file_io.h"

namespace mlsys::cli {

void begin_json_result(JsonWriter& w, const Context& ctx) {
  w.begin_object();
  w.key("mlsys").begin_object();
  w.field("version", version_string());
  w.field("command", ctx.command_path);
  w.field("seed", static_cast<int64_t>(ctx.global.seed));
  w.key("options").begin_object();
  for (const auto& [name, text] : ctx.options.resolved()) w.field(name, text);
  w.end_object();
  w.end_object();
}

Status write_side_file(const Context& ctx, const std::string& path, std::string_view content,
                       std::string_view what) {
  const std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  if (ec) {
    return Error(ErrorCode::kIo, "cannot create folder '" + p.parent_path().string() + "': " + ec.message(),
                 "check the path and permissions");
  }
  MLSYS_RETURN_IF_ERROR(write_text_file(path, content));
  if (!ctx.global.quiet) ctx.err << "mlsys: wrote " << what << " to " << path << "\n";
  return {};
}

std::string fmt(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

}  // namespace mlsys::cli
