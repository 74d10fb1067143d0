#include "mlsys/core/options.h"

#include <charconv>

#include "mlsys/core/check.h"

namespace mlsys {
namespace {

Result<int64_t> parse_int(std::string_view text) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    return invalid_input("'" + std::string(text) + "' is not an integer", "write a whole number, e.g. 8");
  }
  return v;
}

Result<double> parse_real(std::string_view text) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty() || !std::isfinite(v)) {
    return invalid_input("'" + std::string(text) + "' is not a number", "write a number, e.g. 0.5");
  }
  return v;
}

Result<bool> parse_flag(std::string_view text) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return false;
  return invalid_input("'" + std::string(text) + "' is not a boolean", "write true or false");
}

template <class T>
T must(Result<T> r) {
  // Values are validated when set, so a parse failure here is a bug.
  MLSYS_CHECK(r.ok(), r.ok() ? "" : r.error().to_string());
  return std::move(*r);
}

}  // namespace

std::string_view value_form(OptionType type) {
  switch (type) {
    case OptionType::kFlag: return "";
    case OptionType::kInt: return "INT";
    case OptionType::kReal: return "REAL";
    case OptionType::kString: return "TEXT";
    case OptionType::kTime: return "TIME";
    case OptionType::kBytes: return "SIZE";
    case OptionType::kBandwidth: return "BANDWIDTH";
    case OptionType::kFlopRate: return "FLOP/S";
  }
  return "";
}

Status validate_option_value(const OptionSpec& spec, std::string_view text) {
  Status st;
  switch (spec.type) {
    case OptionType::kFlag: if (auto r = parse_flag(text); !r) st = r.error(); break;
    case OptionType::kInt: if (auto r = parse_int(text); !r) st = r.error(); break;
    case OptionType::kReal: if (auto r = parse_real(text); !r) st = r.error(); break;
    case OptionType::kString: break;
    case OptionType::kTime: if (auto r = parse_time(text); !r) st = r.error(); break;
    case OptionType::kBytes: if (auto r = parse_bytes(text); !r) st = r.error(); break;
    case OptionType::kBandwidth: if (auto r = parse_bandwidth(text); !r) st = r.error(); break;
    case OptionType::kFlopRate: if (auto r = parse_flop_rate(text); !r) st = r.error(); break;
  }
  if (!st) return st;
  if (!spec.choices.empty()) {
    for (const auto& c : spec.choices) {
      if (c == text) return {};
    }
    std::string list;
    for (const auto& c : spec.choices) list += (list.empty() ? "" : ", ") + c;
    return invalid_input("'" + std::string(text) + "' is not a valid value", "choose one of: " + list);
  }
  return {};
}

OptionValues::OptionValues(std::span<const OptionSpec> specs) : specs_(specs.begin(), specs.end()) {
  for (const auto& s : specs_) {
    if (!s.default_value.empty()) values_[s.name] = s.default_value;
  }
}

const OptionSpec* OptionValues::spec(std::string_view name) const {
  for (const auto& s : specs_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Status OptionValues::set(std::string_view name, std::string_view text, Location where) {
  const OptionSpec* s = spec(name);
  if (s == nullptr) return invalid_input("unknown option '" + std::string(name) + "'", {}, where);
  if (Status st = validate_option_value(*s, text); !st) {
    // A config-file error names the key after file:line; a command-line error is located at the flag.
    std::string message = st.error().message();
    if (where.line > 0) message = "key '" + s->name + "': " + message;
    if (where.file.empty()) where.file = "--" + s->name;
    return Error(st.error().code(), message, st.error().hint(), where);
  }
  values_[s->name] = std::string(text);
  return {};
}

Status OptionValues::check_required() const {
  for (const auto& s : specs_) {
    if (s.required && !has(s.name)) {
      return invalid_input("missing required option --" + s.name,
                           "give --" + s.name + " " + std::string(value_form(s.type)) + ": " + s.description);
    }
  }
  return {};
}

bool OptionValues::has(std::string_view name) const { return values_.find(name) != values_.end(); }

const std::string& OptionValues::text(std::string_view name) const {
  auto it = values_.find(name);
  MLSYS_CHECK(it != values_.end(), "option without a value: " + std::string(name));
  return it->second;
}

bool OptionValues::flag(std::string_view name) const { return has(name) && must(parse_flag(text(name))); }
int64_t OptionValues::integer(std::string_view name) const { return must(parse_int(text(name))); }
double OptionValues::real(std::string_view name) const { return must(parse_real(text(name))); }
Time OptionValues::time(std::string_view name) const { return must(parse_time(text(name))); }
Bytes OptionValues::bytes(std::string_view name) const { return must(parse_bytes(text(name))); }
Bandwidth OptionValues::bandwidth(std::string_view name) const { return must(parse_bandwidth(text(name))); }
FlopRate OptionValues::flop_rate(std::string_view name) const { return must(parse_flop_rate(text(name))); }

std::vector<std::pair<std::string, std::string>> OptionValues::resolved() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& s : specs_) {
    if (auto it = values_.find(s.name); it != values_.end()) out.emplace_back(s.name, it->second);
  }
  return out;
}

}  // namespace mlsys
