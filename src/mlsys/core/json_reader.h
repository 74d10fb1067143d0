// Strict RFC 8259 JSON reader producing a Value tree with a source line on every node.
//
//   MLSYS_ASSIGN_OR_RETURN(Value cfg, read_json_file("config.json"));
//   MLSYS_ASSIGN_OR_RETURN(int layers, cfg.get_int("num_hidden_layers"));
//   // errors read "config.json:12: trailing comma (remove the ',' before '}')"
#pragma once

#include <string>
#include <string_view>

#include "mlsys/core/result.h"
#include "mlsys/core/value.h"

namespace mlsys {

/// Deepest nesting of arrays and objects accepted, so hostile input cannot exhaust the stack.
inline constexpr int kMaxJsonDepth = 512;

/// Parses one JSON document. Strict: no comments, trailing commas, NaN, single quotes or
/// duplicate keys. \u escapes (with surrogate pairs) decode to UTF-8; other bytes pass through
/// unchecked. A leading UTF-8 byte-order mark is skipped. Errors are located at
/// `filename`:<line> (1-based).
Result<Value> parse_json(std::string_view text, std::string_view filename);

/// Reads and parses a file; a missing file is ErrorCode::kNotFound naming the path.
Result<Value> read_json_file(const std::string& path);

}  // namespace mlsys
