// YAML reader (through yaml-cpp) producing the same Value tree as the JSON reader, and
// read_config_file, which picks the reader from the file extension.
//
//   MLSYS_ASSIGN_OR_RETURN(Value net, read_config_file("net.yaml"));   // or .yml / .json
//   MLSYS_ASSIGN_OR_RETURN(const Value* bw, net.get("bandwidth"));
//   // errors read "net.yaml:3: expected a number for key 'bandwidth', got string"
#pragma once

#include <string>
#include <string_view>

#include "mlsys/core/result.h"
#include "mlsys/core/value.h"

namespace mlsys {

/// Nodes that aliases (*name) may add in all: each alias is copied into the tree, so this bounds
/// "billion laughs" documents. Nodes written out in the text are not limited.
inline constexpr int kMaxYamlAliasNodes = 100'000;
/// Deepest nesting of sequences and mappings accepted (an alias to an enclosing anchor is an error).
inline constexpr int kMaxYamlDepth = 512;

/// Parses one YAML document (an empty text is null; several documents are an error).
/// Plain scalars resolve as in the YAML 1.2 core schema, restricted to finite decimal numbers:
/// true/false (also True/TRUE/False/FALSE) are bools, decimal integers and floats are numbers,
/// null/Null/NULL/~/empty are null, anything else is a string. Quoted scalars are always
/// strings. Duplicate keys and non-scalar keys are errors. Lines are 1-based.
Result<Value> parse_yaml(std::string_view text, std::string_view filename);

/// Reads and parses a YAML file; a missing file is ErrorCode::kNotFound naming the path.
Result<Value> read_yaml_file(const std::string& path);

/// Reads a configuration file: .json with the JSON reader, .yaml/.yml with the YAML reader
/// (extension case-insensitive); any other extension is ErrorCode::kUnsupported.
Result<Value> read_config_file(const std::string& path);

}  // namespace mlsys
