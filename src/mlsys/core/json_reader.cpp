#include "mlsys/core/json_reader.h"

#include <charconv>
#include <cstdint>
#include <unordered_map>

#include "mlsys/core/file_io.h"

namespace mlsys {
namespace {

// How a byte is shown in a message: 'x' when printable, else its hex code.
std::string describe_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 15];
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class JsonParser {
 public:
  JsonParser(std::string_view text, std::string_view filename)
      : text_(text), filename_(filename), source_(std::make_shared<const std::string>(filename)) {}

  Result<Value> parse_document() {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    skip_whitespace();
    if (at_end()) return error("empty document", "expected a JSON value");
    MLSYS_ASSIGN_OR_RETURN(Value root, parse_value());
    skip_whitespace();
    if (!at_end()) {
      return error("unexpected " + describe_byte(peek()) + " after the JSON value",
                   "a JSON document holds one value; wrap several in an array");
    }
    return root;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  Error error(std::string message, std::string hint = {}) const { return error_at(line_, std::move(message), std::move(hint)); }
  Error error_at(int line, std::string message, std::string hint = {}) const {
    return invalid_input(std::move(message), std::move(hint), Location{std::string(filename_), line});
  }

  Value located(Value v, int line) const {
    v.set_location(source_, line);
    return v;
  }

  void skip_whitespace() {
    while (!at_end()) {
      const char c = peek();
      if (c == '\n') {
        ++line_;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        return;
      }
      ++pos_;
    }
  }

  Result<Value> parse_value() {
    if (at_end()) return error("unexpected end of input", "the document is truncated");
    const char c = peek();
    switch (c) {
      case '{': return parse_object();
      case '[': return parse_array();
      case '"': {
        const int line = line_;
        MLSYS_ASSIGN_OR_RETURN(std::string s, parse_string());
        return located(Value::string(std::move(s)), line);
      }
      case 't': return parse_literal("true", Value::boolean(true));
      case 'f': return parse_literal("false", Value::boolean(false));
      case 'n': return parse_literal("null", Value::null());
      default: break;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
    return unexpected_value_start();
  }

  Error unexpected_value_start() const {
    const char c = peek();
    if (c == '\'') return error("unexpected \"'\"", "JSON strings use double quotes");
    if (c == '/' || c == '#') return error("unexpected " + describe_byte(c), "JSON has no comments");
    if (c == '+') return error("unexpected '+'", "numbers cannot start with '+'");
    if (c == '.') return error("unexpected '.'", "write a leading zero: 0.5");
    if (c == '}' || c == ']') return error("unexpected " + describe_byte(c), "expected a value");
    const std::string_view rest = text_.substr(pos_, 8);
    if (rest.starts_with("NaN") || rest.starts_with("Infinity")) {
      return error("unexpected " + describe_byte(c), "JSON has no NaN or Infinity");
    }
    if (rest.starts_with("True") || rest.starts_with("False") || rest.starts_with("None") ||
        rest.starts_with("Null")) {
      return error("unexpected " + describe_byte(c), "JSON literals are lowercase: true, false, null");
    }
    return error("unexpected " + describe_byte(c),
                 "expected a value: object, array, string, number, true, false or null");
  }

  Result<Value> parse_literal(std::string_view word, Value v) {
    if (text_.substr(pos_, word.size()) != word) return unexpected_value_start();
    pos_ += word.size();
    return located(std::move(v), line_);
  }

  Result<Value> parse_number() {
    const int line = line_;
    const size_t start = pos_;
    // Take the whole token first so the message can quote it, then check the grammar.
    while (!at_end()) {
      const char c = peek();
      if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
        ++pos_;
      } else {
        break;
      }
    }
    const std::string_view token = text_.substr(start, pos_ - start);
    const std::string quoted = "'" + std::string(token) + "'";
    size_t i = 0;
    auto digits = [&] {
      const size_t from = i;
      while (i < token.size() && token[i] >= '0' && token[i] <= '9') ++i;
      return i - from;
    };
    if (i < token.size() && token[i] == '-') ++i;
    const size_t int_start = i;
    const size_t int_digits = digits();
    if (int_digits == 0) return error_at(line, "bad number " + quoted, "expected a digit after '-'");
    if (int_digits > 1 && token[int_start] == '0') {
      return error_at(line, "bad number " + quoted, "numbers cannot have leading zeros");
    }
    bool integral = true;
    if (i < token.size() && token[i] == '.') {
      ++i;
      integral = false;
      if (digits() == 0) return error_at(line, "bad number " + quoted, "expected a digit after '.'");
    }
    if (i < token.size() && (token[i] == 'e' || token[i] == 'E')) {
      ++i;
      integral = false;
      if (i < token.size() && (token[i] == '+' || token[i] == '-')) ++i;
      if (digits() == 0) return error_at(line, "bad number " + quoted, "expected a digit in the exponent");
    }
    if (i != token.size()) return error_at(line, "bad number " + quoted);

    const char* first = token.data();
    const char* last = token.data() + token.size();
    if (integral) {
      int64_t n = 0;
      auto [ptr, ec] = std::from_chars(first, last, n);
      if (ec == std::errc() && ptr == last) return located(Value::integer(n), line);
      // Too big for int64: keep it as a double.
    }
    double d = 0.0;
    auto [ptr, ec] = std::from_chars(first, last, d);
    if (ec != std::errc() || ptr != last) {
      return error_at(line, "number " + quoted + " is out of range", "JSON numbers here must fit a double");
    }
    return located(Value::number(d), line);
  }

  Result<uint32_t> parse_hex4(int line) {
    if (text_.size() - pos_ < 4) return error_at(line, "bad \\u escape", "expected 4 hex digits");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text_[pos_ + k];
      uint32_t digit = 0;
      if (c >= '0' && c <= '9') {
        digit = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return error_at(line, "bad \\u escape", "expected 4 hex digits");
      }
      v = v * 16 + digit;
    }
    pos_ += 4;
    return v;
  }

  // After "\u": one code point, joining a surrogate pair.
  Result<uint32_t> parse_unicode_escape() {
    const int line = line_;
    MLSYS_ASSIGN_OR_RETURN(uint32_t cp, parse_hex4(line));
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return error_at(line, "unpaired low surrogate in \\u escape", "a \\uDC00-\\uDFFF escape must follow a high surrogate");
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (text_.substr(pos_, 2) != "\\u") {
        return error_at(line, "unpaired high surrogate in \\u escape", "follow it with a \\uDC00-\\uDFFF escape");
      }
      pos_ += 2;
      MLSYS_ASSIGN_OR_RETURN(uint32_t low, parse_hex4(line));
      if (low < 0xDC00 || low > 0xDFFF) {
        return error_at(line, "unpaired high surrogate in \\u escape", "follow it with a \\uDC00-\\uDFFF escape");
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    return cp;
  }

  Result<std::string> parse_string() {
    const int start_line = line_;
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (at_end()) return error_at(start_line, "unterminated string", "add the closing '\"'");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\n') {
        return error_at(start_line, "unterminated string",
                        "a string cannot hold a raw newline; close it with '\"' or write \\n");
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return error(describe_byte(c) + " inside a string", "control characters must be escaped, e.g. \\t or \\u0001");
      }
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      if (pos_ + 1 >= text_.size()) return error_at(start_line, "unterminated string", "add the closing '\"'");
      const char e = text_[pos_ + 1];
      pos_ += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          MLSYS_ASSIGN_OR_RETURN(uint32_t cp, parse_unicode_escape());
          append_utf8(out, cp);
          break;
        }
        default:
          return error("bad escape: " + describe_byte(e) + " after '\\'",
                       "valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX");
      }
    }
  }

  Status enter(int line) {
    if (++depth_ > kMaxJsonDepth) {
      return error_at(line, "nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    return ok_status();
  }

  Result<Value> parse_array() {
    const int line = line_;
    MLSYS_RETURN_IF_ERROR(enter(line));
    ++pos_;
    Value array = located(Value::array(), line);
    skip_whitespace();
    if (!at_end() && peek() == ']') {
      ++pos_;
      --depth_;
      return array;
    }
    for (;;) {
      skip_whitespace();
      if (!at_end() && peek() == ']') return error("trailing comma", "remove the ',' before ']'");
      MLSYS_ASSIGN_OR_RETURN(Value item, parse_value());
      array.push_back(std::move(item));
      skip_whitespace();
      if (at_end()) return error_at(line, "unterminated array", "add the closing ']'");
      const char c = peek();
      ++pos_;
      if (c == ']') break;
      if (c != ',') {
        --pos_;
        return error("expected ',' or ']' after an array element, got " + describe_byte(c), "missing comma?");
      }
    }
    --depth_;
    return array;
  }

  Result<Value> parse_object() {
    const int line = line_;
    MLSYS_RETURN_IF_ERROR(enter(line));
    ++pos_;
    Value object = located(Value::object(), line);
    std::unordered_map<std::string, int> key_lines;  // only for duplicate detection
    skip_whitespace();
    if (!at_end() && peek() == '}') {
      ++pos_;
      --depth_;
      return object;
    }
    for (;;) {
      skip_whitespace();
      if (at_end()) return error_at(line, "unterminated object", "add the closing '}'");
      if (peek() == '}') return error("trailing comma", "remove the ',' before '}'");
      if (peek() != '"') {
        return error("expected a string key, got " + describe_byte(peek()), "object keys are double-quoted strings");
      }
      const int key_line = line_;
      MLSYS_ASSIGN_OR_RETURN(std::string key, parse_string());
      auto [it, inserted] = key_lines.emplace(key, key_line);
      if (!inserted) {
        return error_at(key_line, "duplicate key '" + key + "'",
                        "first defined at line " + std::to_string(it->second));
      }
      skip_whitespace();
      if (at_end() || peek() != ':') {
        return error("expected ':' after key '" + key + "'");
      }
      ++pos_;
      skip_whitespace();
      MLSYS_ASSIGN_OR_RETURN(Value value, parse_value());
      object.add_member(std::move(key), std::move(value), key_line);
      skip_whitespace();
      if (at_end()) return error_at(line, "unterminated object", "add the closing '}'");
      const char c = peek();
      ++pos_;
      if (c == '}') break;
      if (c != ',') {
        --pos_;
        return error("expected ',' or '}' after a member, got " + describe_byte(c), "missing comma?");
      }
    }
    --depth_;
    return object;
  }

  std::string_view text_;
  std::string_view filename_;
  SourceName source_;
  size_t pos_ = 0;
  int line_ = 1;
  int depth_ = 0;
};

}  // namespace

Result<Value> parse_json(std::string_view text, std::string_view filename) {
  JsonParser parser(text, filename);
  return parser.parse_document();
}

Result<Value> read_json_file(const std::string& path) {
  MLSYS_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  return parse_json(text, path);
}

}  // namespace mlsys
