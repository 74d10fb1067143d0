// Streaming JSON writer with stable, deterministic output (pretty or compact), and to_json for a
// Value tree. Doubles print in their shortest round-trip form.
//
//   JsonWriter w(std::cout);
//   w.begin_object().field("model", "llama").field("layers", 32).field("mfu", 0.52).end_object();
//   std::string text = to_json(value, JsonStyle::kCompact);
#pragma once

#include <concepts>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/core/value.h"

namespace mlsys {

enum class JsonStyle {
  kPretty,   // two-space indent, one member or element per line
  kCompact,  // no whitespace at all
};

/// Appends `s` as a quoted JSON string: escapes '"', '\\' and control characters; other bytes
/// (UTF-8 included) are copied unchanged.
void append_json_string(std::string& out, std::string_view s);

/// Writes one JSON value to a stream. Misuse (a value where a key is due, unbalanced end_*)
/// is a bug and fails an MLSYS_CHECK.
class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out, JsonStyle style = JsonStyle::kPretty);

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  /// The next member's key; only inside an object.
  JsonWriter& key(std::string_view k);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b);
  /// Shortest round-trip form; always reads back as a non-integer ("5.0", not "5"), so the
  /// integer/double distinction survives a round trip. NaN and infinities are written as null.
  JsonWriter& value(double d);
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  JsonWriter& value(T i) {
    return write_integer(std::to_string(i));
  }
  JsonWriter& value(const Value& v);
  JsonWriter& null();
  /// Writes `literal` verbatim as a number; the caller guarantees it is valid JSON number text.
  JsonWriter& number_literal(std::string_view literal);

  /// key(k) then value(v).
  template <class T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  /// True once one complete top-level value has been written.
  bool complete() const { return complete_; }

 private:
  struct Frame {
    bool is_object;
    int count;
  };
  void before_value();
  void newline_indent(size_t depth);
  JsonWriter& write_integer(const std::string& digits);

  std::ostream& out_;
  JsonStyle style_;
  std::vector<Frame> stack_;
  bool key_pending_ = false;
  bool complete_ = false;
  std::string scratch_;
};

/// The whole Value as JSON text (no trailing newline).
std::string to_json(const Value& v, JsonStyle style = JsonStyle::kPretty);

}  // namespace mlsys
