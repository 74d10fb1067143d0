// Value: the document tree that the JSON and YAML readers produce, with a source line on every node.
//
// Accessors return Result<> so a config reader can propagate a located error in one line:
//   MLSYS_ASSIGN_OR_RETURN(Value doc, read_config_file("net.yaml"));
//   MLSYS_ASSIGN_OR_RETURN(double gbps, doc.get_number("bandwidth"));
//   MLSYS_RETURN_IF_ERROR(doc.check_keys(kAllowedKeys));   // "unknown key 'bandwdth' (did you mean ...)"
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/core/result.h"

namespace mlsys {

struct Member;

/// A document's file name, shared by all of its nodes so each node costs one pointer, not a string.
using SourceName = std::shared_ptr<const std::string>;

class Value {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  /// A null with no location.
  Value() = default;

  // Factories. `where` is the node's source location ({} for values built in code).
  static Value null(Location where = {});
  static Value boolean(bool b, Location where = {});
  /// A number written with a fraction or exponent (or computed).
  static Value number(double d, Location where = {});
  /// A number written as an integer; keeps all 64 bits.
  static Value integer(int64_t i, Location where = {});
  static Value string(std::string s, Location where = {});
  static Value array(Location where = {});
  static Value object(Location where = {});

  Kind kind() const { return kind_; }
  /// "null", "bool", "number", "string", "array" or "object", for messages.
  std::string_view kind_name() const;
  static std::string_view kind_name(Kind kind);
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }
  /// True for a number written as an integer that fits in int64.
  bool is_integer() const { return kind_ == Kind::kNumber && is_integer_; }

  Location location() const;
  int line() const { return line_; }
  /// Sets where this node came from (readers call this with one SourceName per document).
  void set_location(SourceName file, int line);

  // Typed access; errors are "<file>:<line>: expected a number, got string".
  Result<bool> as_bool() const;
  Result<double> as_number() const;
  /// Fails for non-integral numbers (2.5) and for values outside int64.
  Result<int64_t> as_int64() const;
  /// As as_int64, and fails outside int's range.
  Result<int> as_int() const;
  Result<std::string> as_string() const;
  Result<std::span<const Value>> as_array() const;
  Result<std::span<const Member>> as_object() const;

  /// Elements of an array (empty for other kinds).
  std::span<const Value> items() const { return items_; }
  /// Members of an object in file order (empty for other kinds).
  std::span<const Member> members() const;
  /// Elements of an array or members of an object; 0 otherwise.
  size_t size() const;

  // Object access.
  /// The member's value, or nullptr when absent or when this is not an object.
  const Value* find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  /// The member's value; error "missing key 'x'" located at this object.
  Result<const Value*> get(std::string_view key) const;
  /// Keys in file order.
  std::vector<std::string> keys() const;
  // get(key) then the typed accessor; errors name the key:
  // "<file>:<line>: expected a number for key 'bandwidth', got string".
  Result<bool> get_bool(std::string_view key) const;
  Result<double> get_number(std::string_view key) const;
  Result<int64_t> get_int64(std::string_view key) const;
  Result<int> get_int(std::string_view key) const;
  Result<std::string> get_string(std::string_view key) const;
  /// Error for the first key not in `allowed`, located at that key, with "did you mean 'x'?" when
  /// one is close. Also fails when this is not an object.
  Status check_keys(std::span<const std::string> allowed) const;

  // Building. MLSYS_CHECKs that the kind matches.
  void push_back(Value v);
  /// Appends a member; does not look for an existing one (readers reject duplicates themselves).
  void add_member(std::string key, Value v, int key_line = 0);
  /// Replaces the member `key` if present, else appends it.
  void set(std::string key, Value v);

  /// Same content and kind, ignoring locations. An integer and a double compare by numeric value
  /// only when both are integers or both are not.
  bool operator==(const Value& other) const;

 private:
  Value(Kind kind, Location where);
  Error located(std::string message, std::string hint = {}) const;
  Error type_error(std::string_view expected, std::string_view key) const;

  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  bool is_integer_ = false;
  double number_ = 0.0;
  int64_t integer_ = 0;
  int line_ = 0;
  SourceName file_;
  std::string string_;
  std::vector<Value> items_;
  std::vector<Member> members_;
};

/// One key of an object: its name, value, and the line the key is on (0 when built in code).
struct Member {
  std::string key;
  Value value;
  int key_line = 0;
};

}  // namespace mlsys
