#include "mlsys/core/json_writer.h"

#include <cmath>
#include <sstream>

#include "mlsys/core/check.h"
#include "mlsys/core/strings.h"

namespace mlsys {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 15];
        } else {
          out += c;
        }
      }
    }
  }
  out += '"';
}

JsonWriter::JsonWriter(std::ostream& out, JsonStyle style) : out_(out), style_(style) {}

void JsonWriter::newline_indent(size_t depth) {
  if (style_ == JsonStyle::kCompact) return;
  out_ << '\n';
  for (size_t i = 0; i < depth; ++i) out_ << "  ";
}

void JsonWriter::before_value() {
  MLSYS_CHECK(!complete_, "JSON writer: a second top-level value");
  if (stack_.empty()) return;
  Frame& top = stack_.back();
  if (top.is_object) {
    MLSYS_CHECK(key_pending_, "JSON writer: value inside an object without a key");
    key_pending_ = false;
    return;
  }
  if (top.count++ > 0) out_ << ',';
  newline_indent(stack_.size());
}

JsonWriter& JsonWriter::key(std::string_view k) {
  MLSYS_CHECK(!stack_.empty() && stack_.back().is_object && !key_pending_, "JSON writer: key outside an object");
  Frame& top = stack_.back();
  if (top.count++ > 0) out_ << ',';
  newline_indent(stack_.size());
  scratch_.clear();
  append_json_string(scratch_, k);
  out_ << scratch_ << (style_ == JsonStyle::kPretty ? ": " : ":");
  key_pending_ = true;
  return *this;
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  out_ << '{';
  stack_.push_back(Frame{true, 0});
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  MLSYS_CHECK(!stack_.empty() && stack_.back().is_object && !key_pending_, "JSON writer: unbalanced end_object");
  const bool empty = stack_.back().count == 0;
  stack_.pop_back();
  if (!empty) newline_indent(stack_.size());
  out_ << '}';
  complete_ = stack_.empty();
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  out_ << '[';
  stack_.push_back(Frame{false, 0});
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  MLSYS_CHECK(!stack_.empty() && !stack_.back().is_object, "JSON writer: unbalanced end_array");
  const bool empty = stack_.back().count == 0;
  stack_.pop_back();
  if (!empty) newline_indent(stack_.size());
  out_ << ']';
  complete_ = stack_.empty();
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  before_value();
  scratch_.clear();
  append_json_string(scratch_, s);
  out_ << scratch_;
  complete_ = stack_.empty();
  return *this;
}

JsonWriter& JsonWriter::value(bool b) {
  before_value();
  out_ << (b ? "true" : "false");
  complete_ = stack_.empty();
  return *this;
}

JsonWriter& JsonWriter::value(double d) {
  if (!std::isfinite(d)) return null();
  std::string text = format_shortest(d);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return number_literal(text);
}

JsonWriter& JsonWriter::write_integer(const std::string& digits) { return number_literal(digits); }

JsonWriter& JsonWriter::number_literal(std::string_view literal) {
  before_value();
  out_ << literal;
  complete_ = stack_.empty();
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ << "null";
  complete_ = stack_.empty();
  return *this;
}

JsonWriter& JsonWriter::value(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: return null();
    case Value::Kind::kBool: return value(*v.as_bool());
    case Value::Kind::kNumber:
      if (v.is_integer()) return value(*v.as_int64());
      return value(*v.as_number());
    case Value::Kind::kString: return value(std::string_view(*v.as_string()));
    case Value::Kind::kArray:
      begin_array();
      for (const Value& item : v.items()) value(item);
      return end_array();
    case Value::Kind::kObject:
      begin_object();
      for (const Member& m : v.members()) {
        key(m.key);
        value(m.value);
      }
      return end_object();
  }
  return *this;
}

std::string to_json(const Value& v, JsonStyle style) {
  std::ostringstream out;
  JsonWriter writer(out, style);
  writer.value(v);
  return out.str();
}

}  // namespace mlsys
