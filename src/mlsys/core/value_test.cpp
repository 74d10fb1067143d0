#include "mlsys/core/value.h"

#include <gtest/gtest.h>

#include <vector>

#include "mlsys/core/check.h"

namespace mlsys {
namespace {

Value sample() {
  Value obj = Value::object(Location{"net.yaml", 1});
  obj.add_member("bandwidth", Value::string("fast", Location{"net.yaml", 3}), 3);
  obj.add_member("latency", Value::number(500.5, Location{"net.yaml", 4}), 4);
  obj.add_member("npus", Value::integer(8, Location{"net.yaml", 5}), 5);
  obj.add_member("ring", Value::boolean(true, Location{"net.yaml", 6}), 6);
  return obj;
}

TEST(Value, DefaultIsNull) {
  Value v;
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(v.kind_name(), "null");
  EXPECT_EQ(v.line(), 0);
}

TEST(Value, TypedAccessorsReturnValues) {
  const Value v = sample();
  EXPECT_EQ(*v.get_string("bandwidth"), "fast");
  EXPECT_DOUBLE_EQ(*v.get_number("latency"), 500.5);
  EXPECT_EQ(*v.get_int("npus"), 8);
  EXPECT_EQ(*v.get_int64("npus"), 8);
  EXPECT_TRUE(*v.get_bool("ring"));
}

TEST(Value, TypeErrorNamesFileLineAndKey) {
  const Result<double> r = sample().get_number("bandwidth");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(), "net.yaml:3: expected a number for key 'bandwidth', got string");
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidInput);
}

TEST(Value, AsNumberErrorIsLocated) {
  const Result<double> r = Value::string("x", Location{"a.json", 7}).as_number();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(), "a.json:7: expected a number, got string");
}

TEST(Value, MissingKeyIsLocatedAtObject) {
  const Result<const Value*> r = sample().get("topology");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(), "net.yaml:1: missing key 'topology'");
}

TEST(Value, MissingKeyHintsAtMisspelledPresentKey) {
  const Result<const Value*> r = sample().get("latncy");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().hint(), "found 'latency'; is it misspelled?");
}

TEST(Value, AsInt64RejectsFractions) {
  EXPECT_FALSE(Value::number(2.5).as_int64());
  EXPECT_EQ(Value::number(2.5).as_int64().error().message(), "expected an integer, got 2.5");
}

TEST(Value, AsInt64AcceptsIntegralDoubles) {
  EXPECT_EQ(*Value::number(1e3).as_int64(), 1000);
  EXPECT_FALSE(Value::number(1e19).as_int64());
}

TEST(Value, IntegerKeepsAll64Bits) {
  const int64_t big = 9007199254740993;  // 2^53 + 1, not a double
  EXPECT_EQ(*Value::integer(big).as_int64(), big);
  EXPECT_TRUE(Value::integer(big).is_integer());
  EXPECT_FALSE(Value::number(3.0).is_integer());
}

TEST(Value, AsIntRejectsOutOfRange) {
  const Result<int> r = Value::integer(int64_t{1} << 40).as_int();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("out of range"), std::string::npos);
}

TEST(Value, GetIntErrorNamesKey) {
  Value obj = Value::object(Location{"f.json", 1});
  obj.add_member("layers", Value::number(2.5, Location{"f.json", 2}), 2);
  const Result<int> r = obj.get_int("layers");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(), "f.json:2: key 'layers': expected an integer, got 2.5");
}

TEST(Value, KeysKeepFileOrder) {
  EXPECT_EQ(sample().keys(), (std::vector<std::string>{"bandwidth", "latency", "npus", "ring"}));
}

TEST(Value, FindReturnsNullForAbsentKeyOrNonObject) {
  EXPECT_EQ(sample().find("nope"), nullptr);
  EXPECT_EQ(Value::integer(1).find("a"), nullptr);
  EXPECT_NE(sample().find("npus"), nullptr);
}

TEST(Value, CheckKeysAcceptsAllowedKeys) {
  const std::vector<std::string> allowed = {"bandwidth", "latency", "npus", "ring", "extra"};
  EXPECT_TRUE(sample().check_keys(allowed));
}

TEST(Value, CheckKeysSuggestsClosestKey) {
  Value obj = Value::object(Location{"net.yaml", 1});
  obj.add_member("topology", Value::string("Ring"), 2);
  obj.add_member("bandwdth", Value::integer(50), 3);
  const std::vector<std::string> allowed = {"topology", "bandwidth", "latency"};
  const Status s = obj.check_keys(allowed);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().to_string(), "net.yaml:3: unknown key 'bandwdth' (did you mean 'bandwidth'?)");
}

TEST(Value, CheckKeysListsAllowedWhenNothingIsClose) {
  const std::vector<std::string> allowed = {"bandwidth", "latency", "ring"};
  const Status s = sample().check_keys(allowed);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().hint(), "allowed keys: bandwidth, latency, ring");
}

TEST(Value, ArrayAccess) {
  Value a = Value::array();
  a.push_back(Value::integer(1));
  a.push_back(Value::string("two"));
  ASSERT_TRUE(a.as_array());
  EXPECT_EQ(a.as_array()->size(), 2u);
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(*a.items()[1].as_string(), "two");
  EXPECT_FALSE(a.as_object());
}

TEST(Value, SetReplacesExistingMember) {
  Value obj = Value::object();
  obj.set("a", Value::integer(1));
  obj.set("a", Value::integer(2));
  EXPECT_EQ(obj.size(), 1u);
  EXPECT_EQ(*obj.get_int("a"), 2);
}

TEST(Value, PushBackOnNonArrayIsABug) {
  Value v = Value::object();
  EXPECT_THROW(v.push_back(Value()), InternalError);
}

TEST(Value, EqualityIgnoresLocationButNotKind) {
  EXPECT_EQ(Value::integer(3, Location{"a", 1}), Value::integer(3, Location{"b", 9}));
  EXPECT_FALSE(Value::integer(3) == Value::number(3.0));
  EXPECT_FALSE(Value::string("1") == Value::integer(1));
  EXPECT_EQ(sample(), sample());
}

}  // namespace
}  // namespace mlsys
