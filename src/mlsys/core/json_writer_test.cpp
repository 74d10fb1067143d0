#include "mlsys/core/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "mlsys/core/check.h"
#include "mlsys/core/json_reader.h"

namespace mlsys {
namespace {

TEST(JsonWriter, PrettyOutputIsIndentedAndStable) {
  std::ostringstream out;
  JsonWriter w(out);
  w.begin_object().field("name", "x").field("n", 3).key("list").begin_array().value(1).value(true).end_array();
  w.key("empty").begin_object().end_object().key("none").begin_array().end_array().end_object();
  EXPECT_EQ(out.str(),
            "{\n  \"name\": \"x\",\n  \"n\": 3,\n  \"list\": [\n    1,\n    true\n  ],\n  \"empty\": {},\n"
            "  \"none\": []\n}");
  EXPECT_TRUE(w.complete());
}

TEST(JsonWriter, CompactOutputHasNoWhitespace) {
  std::ostringstream out;
  JsonWriter w(out, JsonStyle::kCompact);
  w.begin_array().value("a").null().begin_object().field("k", false).end_object().end_array();
  EXPECT_EQ(out.str(), "[\"a\",null,{\"k\":false}]");
}

TEST(JsonWriter, EscapesStrings) {
  std::string s;
  append_json_string(s, std::string("q\"b\\n\n\t\x01\x7f\xC3\xA9", 11));
  EXPECT_EQ(s, "\"q\\\"b\\\\n\\n\\t\\u0001\\u007f\xC3\xA9\"");
}

TEST(JsonWriter, DoublesUseShortestFormAndStayDoubles) {
  std::ostringstream out;
  JsonWriter w(out, JsonStyle::kCompact);
  w.begin_array().value(0.1).value(5.0).value(1e21).value(-0.0).value(1.0 / 3.0).end_array();
  EXPECT_EQ(out.str(), "[0.1,5.0,1e+21,-0.0,0.3333333333333333]");
}

TEST(JsonWriter, NonFiniteDoublesBecomeNull) {
  std::ostringstream out;
  JsonWriter w(out, JsonStyle::kCompact);
  w.begin_array().value(std::nan("")).value(std::numeric_limits<double>::infinity()).end_array();
  EXPECT_EQ(out.str(), "[null,null]");
}

TEST(JsonWriter, IntegersOfAllWidths) {
  std::ostringstream out;
  JsonWriter w(out, JsonStyle::kCompact);
  w.begin_array().value(int64_t{-9223372036854775807 - 1}).value(uint64_t{18446744073709551615u}).value(size_t{7});
  w.end_array();
  EXPECT_EQ(out.str(), "[-9223372036854775808,18446744073709551615,7]");
}

TEST(JsonWriter, ValueWithoutKeyInObjectIsABug) {
  std::ostringstream out;
  JsonWriter w(out);
  w.begin_object();
  EXPECT_THROW(w.value(1), InternalError);
}

TEST(JsonWriter, UnbalancedEndIsABug) {
  std::ostringstream out;
  JsonWriter w(out);
  w.begin_array();
  EXPECT_THROW(w.end_object(), InternalError);
}

TEST(JsonWriter, SecondTopLevelValueIsABug) {
  std::ostringstream out;
  JsonWriter w(out);
  w.value(1);
  EXPECT_THROW(w.value(2), InternalError);
}

TEST(JsonRoundTrip, ParseWriteParseIsIdentity) {
  const std::string text = R"({"a": [1, -2.5, 1e-300, 12345678901234567], "s": "\u00e9\n\"x\"\u0001",
    "nested": {"t": true, "f": false, "n": null, "e": {}, "l": []}, "big": 1.7976931348623157e308})";
  const Result<Value> first = parse_json(text, "in.json");
  ASSERT_TRUE(first) << first.error().to_string();
  for (const JsonStyle style : {JsonStyle::kPretty, JsonStyle::kCompact}) {
    const std::string written = to_json(*first, style);
    const Result<Value> second = parse_json(written, "out.json");
    ASSERT_TRUE(second) << second.error().to_string() << "\n" << written;
    EXPECT_EQ(*first, *second);
    EXPECT_EQ(to_json(*second, style), written);  // stable bytes
  }
}

TEST(JsonRoundTrip, IntegerFlagSurvives) {
  Value v = Value::array();
  v.push_back(Value::integer(3));
  v.push_back(Value::number(3.0));
  const Result<Value> back = parse_json(to_json(v, JsonStyle::kCompact), "t");
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->items()[0].is_integer());
  EXPECT_FALSE(back->items()[1].is_integer());
}

TEST(JsonRoundTrip, ObjectKeyOrderIsPreserved) {
  const Result<Value> v = parse_json(R"({"z":1,"a":2,"m":3})", "t");
  ASSERT_TRUE(v);
  EXPECT_EQ(to_json(*v, JsonStyle::kCompact), R"({"z":1,"a":2,"m":3})");
}

}  // namespace
}  // namespace mlsys
