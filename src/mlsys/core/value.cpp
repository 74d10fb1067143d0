#include "mlsys/core/value.h"

#include <charconv>
#include <climits>
#include <cmath>

#include "mlsys/core/check.h"
#include "mlsys/core/strings.h"

namespace mlsys {
namespace {

std::string number_text(double d) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

SourceName make_source(const std::string& file) {
  return file.empty() ? nullptr : std::make_shared<const std::string>(file);
}

}  // namespace

Value::Value(Kind kind, Location where)
    : kind_(kind), line_(where.line), file_(make_source(where.file)) {}

Value Value::null(Location where) { return Value(Kind::kNull, std::move(where)); }

Value Value::boolean(bool b, Location where) {
  Value v(Kind::kBool, std::move(where));
  v.bool_ = b;
  return v;
}

Value Value::number(double d, Location where) {
  Value v(Kind::kNumber, std::move(where));
  v.number_ = d;
  return v;
}

Value Value::integer(int64_t i, Location where) {
  Value v(Kind::kNumber, std::move(where));
  v.number_ = static_cast<double>(i);
  v.integer_ = i;
  v.is_integer_ = true;
  return v;
}

Value Value::string(std::string s, Location where) {
  Value v(Kind::kString, std::move(where));
  v.string_ = std::move(s);
  return v;
}

Value Value::array(Location where) { return Value(Kind::kArray, std::move(where)); }
Value Value::object(Location where) { return Value(Kind::kObject, std::move(where)); }

std::string_view Value::kind_name(Kind kind) {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "bool";
    case Kind::kNumber: return "number";
    case Kind::kString: return "string";
    case Kind::kArray: return "array";
    case Kind::kObject: return "object";
  }
  return "?";
}

std::string_view Value::kind_name() const { return kind_name(kind_); }

Location Value::location() const { return Location{file_ ? *file_ : std::string(), line_}; }

void Value::set_location(SourceName file, int line) {
  file_ = std::move(file);
  line_ = line;
}

Error Value::located(std::string message, std::string hint) const {
  return invalid_input(std::move(message), std::move(hint), location());
}

Error Value::type_error(std::string_view expected, std::string_view key) const {
  std::string message = "expected " + std::string(expected);
  if (!key.empty()) message += " for key '" + std::string(key) + "'";
  message += ", got " + std::string(kind_name());
  return located(std::move(message));
}

Result<bool> Value::as_bool() const {
  if (kind_ != Kind::kBool) return type_error("true or false", {});
  return bool_;
}

Result<double> Value::as_number() const {
  if (kind_ != Kind::kNumber) return type_error("a number", {});
  return number_;
}

Result<int64_t> Value::as_int64() const {
  if (kind_ != Kind::kNumber) return type_error("an integer", {});
  if (is_integer_) return integer_;
  // 2^63 is exactly representable; values at or beyond it do not fit.
  constexpr double kTwo63 = 9223372036854775808.0;
  if (!std::isfinite(number_) || number_ != std::floor(number_)) {
    return located("expected an integer, got " + number_text(number_));
  }
  if (number_ >= kTwo63 || number_ < -kTwo63) {
    return located("integer " + number_text(number_) + " is out of range");
  }
  return static_cast<int64_t>(number_);
}

Result<int> Value::as_int() const {
  MLSYS_ASSIGN_OR_RETURN(int64_t i, as_int64());
  if (i > INT_MAX || i < INT_MIN) {
    return located("integer " + std::to_string(i) + " is out of range",
                   "expected a value between " + std::to_string(INT_MIN) + " and " + std::to_string(INT_MAX));
  }
  return static_cast<int>(i);
}

Result<std::string> Value::as_string() const {
  if (kind_ != Kind::kString) return type_error("a string", {});
  return string_;
}

Result<std::span<const Value>> Value::as_array() const {
  if (kind_ != Kind::kArray) return type_error("an array", {});
  return std::span<const Value>(items_);
}

Result<std::span<const Member>> Value::as_object() const {
  if (kind_ != Kind::kObject) return type_error("an object", {});
  return std::span<const Member>(members_);
}

std::span<const Member> Value::members() const { return members_; }

size_t Value::size() const {
  if (kind_ == Kind::kArray) return items_.size();
  if (kind_ == Kind::kObject) return members_.size();
  return 0;
}

const Value* Value::find(std::string_view key) const {
  for (const Member& m : members_) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

Result<const Value*> Value::get(std::string_view key) const {
  if (kind_ != Kind::kObject) {
    return located("expected an object with key '" + std::string(key) + "', got " + std::string(kind_name()));
  }
  if (const Value* v = find(key)) return v;
  const std::vector<std::string> present = keys();
  const std::optional<std::string> near = closest_match(key, present);
  return located("missing key '" + std::string(key) + "'",
                 near ? "found '" + *near + "'; is it misspelled?" : std::string());
}

std::vector<std::string> Value::keys() const {
  std::vector<std::string> out;
  out.reserve(members_.size());
  for (const Member& m : members_) out.push_back(m.key);
  return out;
}

Result<bool> Value::get_bool(std::string_view key) const {
  MLSYS_ASSIGN_OR_RETURN(const Value* v, get(key));
  if (!v->is_bool()) return v->type_error("true or false", key);
  return v->bool_;
}

Result<double> Value::get_number(std::string_view key) const {
  MLSYS_ASSIGN_OR_RETURN(const Value* v, get(key));
  if (!v->is_number()) return v->type_error("a number", key);
  return v->number_;
}

Result<int64_t> Value::get_int64(std::string_view key) const {
  MLSYS_ASSIGN_OR_RETURN(const Value* v, get(key));
  if (!v->is_number()) return v->type_error("an integer", key);
  Result<int64_t> r = v->as_int64();
  if (!r) return r.error().context("key '" + std::string(key) + "'");
  return r;
}

Result<int> Value::get_int(std::string_view key) const {
  MLSYS_ASSIGN_OR_RETURN(const Value* v, get(key));
  if (!v->is_number()) return v->type_error("an integer", key);
  Result<int> r = v->as_int();
  if (!r) return r.error().context("key '" + std::string(key) + "'");
  return r;
}

Result<std::string> Value::get_string(std::string_view key) const {
  MLSYS_ASSIGN_OR_RETURN(const Value* v, get(key));
  if (!v->is_string()) return v->type_error("a string", key);
  return v->string_;
}

Status Value::check_keys(std::span<const std::string> allowed) const {
  if (kind_ != Kind::kObject) return type_error("an object", {});
  for (const Member& m : members_) {
    bool known = false;
    for (const std::string& a : allowed) known = known || a == m.key;
    if (known) continue;
    std::string hint = did_you_mean(m.key, allowed);
    if (hint.empty()) hint = "allowed keys: " + join(allowed, ", ");
    const int line = m.key_line > 0 ? m.key_line : (m.value.line_ > 0 ? m.value.line_ : line_);
    return invalid_input("unknown key '" + m.key + "'", std::move(hint),
                         Location{file_ ? *file_ : std::string(), line});
  }
  return ok_status();
}

void Value::push_back(Value v) {
  MLSYS_CHECK(kind_ == Kind::kArray, "push_back on a " + std::string(kind_name()));
  items_.push_back(std::move(v));
}

void Value::add_member(std::string key, Value v, int key_line) {
  MLSYS_CHECK(kind_ == Kind::kObject, "add_member on a " + std::string(kind_name()));
  members_.push_back(Member{std::move(key), std::move(v), key_line});
}

void Value::set(std::string key, Value v) {
  MLSYS_CHECK(kind_ == Kind::kObject, "set on a " + std::string(kind_name()));
  for (Member& m : members_) {
    if (m.key == key) {
      m.value = std::move(v);
      return;
    }
  }
  members_.push_back(Member{std::move(key), std::move(v), 0});
}

bool Value::operator==(const Value& other) const {
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case Kind::kNull: return true;
    case Kind::kBool: return bool_ == other.bool_;
    case Kind::kNumber:
      if (is_integer_ != other.is_integer_) return false;
      return is_integer_ ? integer_ == other.integer_ : number_ == other.number_;
    case Kind::kString: return string_ == other.string_;
    case Kind::kArray: return items_ == other.items_;
    case Kind::kObject:
      if (members_.size() != other.members_.size()) return false;
      for (size_t i = 0; i < members_.size(); ++i) {
        if (members_[i].key != other.members_[i].key || !(members_[i].value == other.members_[i].value)) {
          return false;
        }
      }
      return true;
  }
  return false;
}

}  // namespace mlsys
