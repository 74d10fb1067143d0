#include "mlsys/core/yaml_reader.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "mlsys/core/file_io.h"
#include "mlsys/core/json_reader.h"

namespace mlsys {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A decimal number in the core-schema form [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?,
// or nullopt when the scalar is not one (then it is a string).
std::optional<Value> resolve_number(std::string_view s) {
  size_t i = 0;
  const bool negative = i < s.size() && s[i] == '-';
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  const size_t int_start = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  const size_t int_digits = i - int_start;
  bool integral = true;
  size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    integral = false;
    const size_t frac_start = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    frac_digits = i - frac_start;
  }
  if (int_digits == 0 && frac_digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    integral = false;
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    const size_t exp_start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == exp_start) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;

  // from_chars takes neither a '+' nor a bare leading or trailing '.': normalise first.
  std::string text;
  if (negative) text += '-';
  std::string_view body = s.substr(int_start);
  if (int_digits == 0) text += '0';
  text += body;
  const size_t dot = text.find('.');
  if (dot != std::string::npos && frac_digits == 0) text.insert(dot + 1, "0");

  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (integral) {
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(first, last, n);
    if (ec == std::errc() && ptr == last) return Value::integer(n);
  }
  double d = 0.0;
  auto [ptr, ec] = std::from_chars(first, last, d);
  if (ec != std::errc() || ptr != last || !std::isfinite(d)) return std::nullopt;
  return Value::number(d);
}

Value resolve_plain_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return Value::null();
  if (s == "true" || s == "True" || s == "TRUE") return Value::boolean(true);
  if (s == "false" || s == "False" || s == "FALSE") return Value::boolean(false);
  if (std::optional<Value> number = resolve_number(s)) return std::move(*number);
  return Value::string(s);
}

// Tags that ask for the same resolution as a plain scalar; any other tag keeps the text.
bool resolves_like_plain(const std::string& tag) {
  return tag == "?" || tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
         tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null";
}

class YamlConverter {
 public:
  explicit YamlConverter(std::string_view filename)
      : filename_(filename), source_(std::make_shared<const std::string>(filename)) {}

  Result<Value> convert(const YAML::Node& node, int fallback_line) {
    const YAML::Mark mark = node.Mark();
    const int line = mark.is_null() ? fallback_line : mark.line + 1;
    // An alias yields its anchored node again, mark included: a container whose position was
    // converted before is an alias copy, and one still open on the path is a cycle.
    const bool container = node.IsSequence() || node.IsMap();
    const int pos = container && !mark.is_null() ? mark.pos : -1;
    if (pos >= 0 && open_.count(pos) > 0) {
      return error(line, "recursive alias: a node contains itself", "an alias (*name) cannot refer to an enclosing anchor");
    }
    if (depth_ >= kMaxYamlDepth) return error(line, "nesting deeper than " + std::to_string(kMaxYamlDepth) + " levels");
    const bool copy = pos >= 0 && !converted_.insert(pos).second;
    if ((copy || copy_depth_ > 0) && ++alias_nodes_ > kMaxYamlAliasNodes) {
      return error(line, "aliases expand to more than " + std::to_string(kMaxYamlAliasNodes) + " nodes",
                   "are aliases (*name) nested too deeply?");
    }
    const Scope scope(*this, pos, copy);
    Value out;
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out = Value::null();
        break;
      case YAML::NodeType::Scalar:
        out = resolves_like_plain(node.Tag()) ? resolve_plain_scalar(node.Scalar()) : Value::string(node.Scalar());
        break;
      case YAML::NodeType::Sequence: {
        out = Value::array();
        for (const YAML::Node& item : node) {
          MLSYS_ASSIGN_OR_RETURN(Value v, convert(item, line));
          out.push_back(std::move(v));
        }
        break;
      }
      case YAML::NodeType::Map: {
        MLSYS_ASSIGN_OR_RETURN(out, convert_map(node, line));
        break;
      }
    }
    out.set_location(source_, line);
    return out;
  }

 private:
  Result<Value> convert_map(const YAML::Node& node, int line) {
    Value out = Value::object();
    std::unordered_map<std::string, int> key_lines;  // only for duplicate detection
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      const YAML::Mark key_mark = key.Mark();
      const int key_line = key_mark.is_null() ? line : key_mark.line + 1;
      if (!key.IsScalar()) {
        return error(key_line, "a mapping key must be a scalar, got " +
                                   std::string(key.IsNull() ? "null" : key.IsMap() ? "a mapping" : "a sequence"));
      }
      const std::string& name = key.Scalar();
      auto [it, inserted] = key_lines.emplace(name, key_line);
      if (!inserted) {
        return error(key_line, "duplicate key '" + name + "'", "first defined at line " + std::to_string(it->second));
      }
      MLSYS_ASSIGN_OR_RETURN(Value v, convert(entry.second, key_line));
      // yaml-cpp marks an empty value at the next token, often lines below; its key is the
      // place a reader looks for it.
      if (v.is_null()) v.set_location(source_, key_line);
      out.add_member(name, std::move(v), key_line);
    }
    return out;
  }

  Error error(int line, std::string message, std::string hint = {}) const {
    return invalid_input(std::move(message), std::move(hint), Location{std::string(filename_), line});
  }

  // Marks one node as open for the duration of its conversion.
  class Scope {
   public:
    Scope(YamlConverter& c, int pos, bool copy) : c_(c), pos_(pos), copy_(copy) {
      ++c_.depth_;
      if (pos_ >= 0) c_.open_.insert(pos_);
      if (copy_) ++c_.copy_depth_;
    }
    ~Scope() {
      --c_.depth_;
      if (pos_ >= 0) c_.open_.erase(pos_);
      if (copy_) --c_.copy_depth_;
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    YamlConverter& c_;
    int pos_;
    bool copy_;
  };

  std::string_view filename_;
  SourceName source_;
  std::unordered_set<int> converted_;  // positions of containers converted so far
  std::unordered_set<int> open_;       // positions of containers being converted
  int depth_ = 0;
  int copy_depth_ = 0;  // > 0 while inside an alias copy
  int alias_nodes_ = 0;
};

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return ext;
}

}  // namespace

Result<Value> parse_yaml(std::string_view text, std::string_view filename) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    return invalid_input("bad YAML: " + e.msg, {}, Location{std::string(filename), line});
  }
  if (documents.empty()) {
    Value empty = Value::null();
    empty.set_location(std::make_shared<const std::string>(filename), 1);
    return empty;
  }
  if (documents.size() > 1) {
    const YAML::Mark mark = documents[1].Mark();
    return invalid_input("the file holds " + std::to_string(documents.size()) + " YAML documents, expected one",
                         "remove the '---' separators", Location{std::string(filename), mark.is_null() ? 0 : mark.line + 1});
  }
  YamlConverter converter(filename);
  return converter.convert(documents.front(), 1);
}

Result<Value> read_yaml_file(const std::string& path) {
  MLSYS_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  return parse_yaml(text, path);
}

Result<Value> read_config_file(const std::string& path) {
  const std::string ext = lower_extension(path);
  if (ext == ".json") return read_json_file(path);
  if (ext == ".yaml" || ext == ".yml") return read_yaml_file(path);
  const std::string what = ext.empty() ? "a configuration file needs an extension"
                                       : "unknown configuration file type '" + ext + "'";
  return unsupported(what, "use a .json, .yaml or .yml file", Location{path, 0});
}

}  // namespace mlsys
