#include "mlsys/core/yaml_reader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <optional>
#include <sstream>
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

// Thrown from event callbacks (which return void) to stop parsing; caught in parse_yaml.
struct BuildFailure {
  Error error;
};

// Builds a Value from yaml-cpp's parse events. Working from events rather than YAML::Node sees
// anchors and aliases directly, so alias copies are counted and cycles caught.
class ValueBuilder final : public YAML::EventHandler {
 public:
  explicit ValueBuilder(std::string_view filename)
      : filename_(filename), source_(std::make_shared<const std::string>(filename)) {}

  bool has_root() const { return root_.has_value(); }
  Value take_root() { return std::move(*root_); }
  int document_start() const { return document_start_; }

  void OnDocumentStart(const YAML::Mark& mark) override { document_start_ = mark.pos; }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (expecting_key()) fail(mark, "a mapping key must not be null", "quote it to use the text as a key");
    add(located(Value::null(), mark), anchor, 1, 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& text) override {
    if (expecting_key()) {
      Frame& map = stack_.back();
      const int line = line_of(mark);
      auto [it, inserted] = map.key_lines.emplace(text, line);
      if (!inserted) fail(mark, "duplicate key '" + text + "'", "first defined at line " + std::to_string(it->second));
      map.key = text;
      map.key_line = line;
      map.expect_key = false;
      if (anchor != 0) remember(anchor, Anchored{located(Value::string(text), mark), 1, 0});
      return;
    }
    Value v = resolves_like_plain(tag) ? resolve_plain_scalar(text) : Value::string(text);
    add(located(std::move(v), mark), anchor, 1, 0);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (expecting_key()) fail(mark, "an alias (*name) cannot be a mapping key");
    if (open_anchors_.count(anchor) > 0) {
      fail(mark, "recursive alias: a node contains itself", "an alias (*name) cannot refer to an enclosing anchor");
    }
    if (anchor >= anchors_.size() || !anchors_[anchor]) fail(mark, "alias to an unknown anchor");
    const Anchored& target = *anchors_[anchor];
    alias_nodes_ += target.nodes;
    if (alias_nodes_ > kMaxYamlAliasNodes) {
      fail(mark, "aliases expand to more than " + std::to_string(kMaxYamlAliasNodes) + " nodes",
           "are aliases (*name) nested too deeply?");
    }
    if (stack_.size() + static_cast<size_t>(target.height) > static_cast<size_t>(kMaxYamlDepth)) {
      fail(mark, "nesting deeper than " + std::to_string(kMaxYamlDepth) + " levels", "through aliases (*name)");
    }
    add(located(Value(target.value), mark), 0, target.nodes, target.height);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    open(mark, Value::array(), anchor, "a sequence");
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    open(mark, Value::object(), anchor, "a mapping");
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    Value value;  // the array or object being filled
    YAML::anchor_t anchor = 0;
    int64_t nodes = 1;  // nodes in this subtree so far, itself included
    int height = 1;     // levels of containers in this subtree, itself included
    bool expect_key = true;  // objects only: the next node is a key
    std::string key;
    int key_line = 0;
    std::unordered_map<std::string, int> key_lines;  // only for duplicate detection
  };
  struct Anchored {
    Value value;
    int64_t nodes;
    int height;
  };

  static int line_of(const YAML::Mark& mark) { return mark.is_null() ? 0 : mark.line + 1; }
  Value located(Value v, const YAML::Mark& mark) const {
    v.set_location(source_, line_of(mark));
    return v;
  }
  bool expecting_key() const { return !stack_.empty() && stack_.back().value.is_object() && stack_.back().expect_key; }

  [[noreturn]] void fail(const YAML::Mark& mark, std::string message, std::string hint = {}) const {
    throw BuildFailure{invalid_input(std::move(message), std::move(hint), Location{std::string(filename_), line_of(mark)})};
  }

  void open(const YAML::Mark& mark, Value container, YAML::anchor_t anchor, const char* what) {
    if (expecting_key()) fail(mark, std::string("a mapping key must be a scalar, got ") + what);
    if (stack_.size() >= static_cast<size_t>(kMaxYamlDepth)) {
      fail(mark, "nesting deeper than " + std::to_string(kMaxYamlDepth) + " levels");
    }
    if (anchor != 0) open_anchors_.insert(anchor);
    Frame frame;
    frame.value = located(std::move(container), mark);
    frame.anchor = anchor;
    stack_.push_back(std::move(frame));
  }

  void close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    if (frame.anchor != 0) open_anchors_.erase(frame.anchor);
    add(std::move(frame.value), frame.anchor, frame.nodes, frame.height);
  }

  void remember(YAML::anchor_t anchor, Anchored anchored) {
    if (anchor >= anchors_.size()) anchors_.resize(anchor + 1);
    anchors_[anchor] = std::move(anchored);
  }

  // Places a finished node into its parent (or makes it the root).
  void add(Value v, YAML::anchor_t anchor, int64_t nodes, int height) {
    if (anchor != 0) remember(anchor, Anchored{v, nodes, height});
    if (stack_.empty()) {
      root_ = std::move(v);
      return;
    }
    Frame& parent = stack_.back();
    parent.nodes += nodes;
    parent.height = std::max(parent.height, height + 1);
    if (parent.value.is_array()) {
      parent.value.push_back(std::move(v));
      return;
    }
    // yaml-cpp marks an empty value at the next token, often lines below; its key is the
    // place a reader looks for it.
    if (v.is_null()) v.set_location(source_, parent.key_line);
    parent.value.add_member(std::move(parent.key), std::move(v), parent.key_line);
    parent.key.clear();
    parent.expect_key = true;
  }

  std::string_view filename_;
  SourceName source_;
  std::vector<Frame> stack_;
  std::optional<Value> root_;
  std::vector<std::optional<Anchored>> anchors_;  // by anchor id
  std::unordered_set<YAML::anchor_t> open_anchors_;
  int64_t alias_nodes_ = 0;
  int document_start_ = 0;
};

// Sees where a document starts and ignores its content.
class DocumentProbe final : public YAML::EventHandler {
 public:
  int start() const { return start_; }
  void OnDocumentStart(const YAML::Mark& mark) override { start_ = mark.pos; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  int start_ = 0;
};

std::string describe_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 15];
}

int line_at(std::string_view text, size_t pos) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(std::min(pos, text.size())), '\n'));
}

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return ext;
}

}  // namespace

Result<Value> parse_yaml(std::string_view text, std::string_view filename) {
  std::istringstream in{std::string(text)};
  try {
    YAML::Parser parser(in);
    ValueBuilder builder(filename);
    if (!parser.HandleNextDocument(builder) || !builder.has_root()) {
      Value empty = Value::null();
      empty.set_location(std::make_shared<const std::string>(filename), 1);
      return empty;
    }
    // Only one more document is looked at: yaml-cpp reports an endless run of empty documents,
    // without consuming anything, for a stray token such as a leading ','.
    DocumentProbe probe;
    if (parser.HandleNextDocument(probe)) {
      const auto pos = static_cast<size_t>(std::max(0, probe.start()));
      const Location where{std::string(filename), line_at(text, pos)};
      if (text.substr(pos, 3) == "---") {
        return invalid_input("the file holds more than one YAML document", "remove the '---' separators", where);
      }
      const std::string what = pos < text.size() ? describe_char(text[pos]) : std::string("end of input");
      return invalid_input("bad YAML: unexpected " + what, {}, where);
    }
    return builder.take_root();
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    return invalid_input("bad YAML: " + e.msg, {}, Location{std::string(filename), line});
  } catch (const BuildFailure& failure) {
    return failure.error;
  }
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
