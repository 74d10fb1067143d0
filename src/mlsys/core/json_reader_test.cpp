#include "mlsys/core/json_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "mlsys/core/file_io.h"

namespace mlsys {
namespace {

// The error text for an input that must fail.
std::string error_of(std::string_view text) {
  const Result<Value> r = parse_json(text, "t.json");
  EXPECT_FALSE(r) << "parsed: " << text;
  return r ? std::string() : r.error().to_string();
}

TEST(JsonReader, ParsesScalars) {
  EXPECT_TRUE(parse_json("null", "t")->is_null());
  EXPECT_TRUE(*parse_json("true", "t")->as_bool());
  EXPECT_FALSE(*parse_json(" false ", "t")->as_bool());
  EXPECT_EQ(*parse_json("\"hi\"", "t")->as_string(), "hi");
  EXPECT_DOUBLE_EQ(*parse_json("-1.5e3", "t")->as_number(), -1500.0);
}

TEST(JsonReader, IntegersKeepIntegerFlag) {
  const Result<Value> i = parse_json("42", "t");
  EXPECT_TRUE(i->is_integer());
  EXPECT_EQ(*i->as_int64(), 42);
  EXPECT_FALSE(parse_json("42.0", "t")->is_integer());
  EXPECT_FALSE(parse_json("4e1", "t")->is_integer());
  EXPECT_EQ(*parse_json("-9223372036854775808", "t")->as_int64(), INT64_MIN);
}

TEST(JsonReader, HugeIntegerBecomesDouble) {
  const Result<Value> v = parse_json("123456789012345678901234567890", "t");
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->is_integer());
  EXPECT_DOUBLE_EQ(*v->as_number(), 1.2345678901234568e29);
}

TEST(JsonReader, ObjectKeepsKeyOrderAndLines) {
  const Result<Value> v = parse_json("{\n  \"b\": 1,\n  \"a\": [1,\n 2]\n}", "cfg.json");
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_EQ(v->keys(), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(v->line(), 1);
  EXPECT_EQ((*v->get("b"))->line(), 2);
  EXPECT_EQ((*v->get("a"))->line(), 3);
  EXPECT_EQ((*v->get("a"))->items()[1].line(), 4);
  EXPECT_EQ(v->members()[1].key_line, 3);
  EXPECT_EQ((*v->get("b"))->location().file, "cfg.json");
}

TEST(JsonReader, TypeErrorAfterParseIsLocated) {
  const Result<Value> v = parse_json("{\n\"bandwidth\": \"fast\"\n}", "net.json");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->get_number("bandwidth").error().to_string(),
            "net.json:2: expected a number for key 'bandwidth', got string");
}

TEST(JsonReader, DecodesEscapes) {
  EXPECT_EQ(*parse_json(R"("a\"b\\c\/d\b\f\n\r\t")", "t")->as_string(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(*parse_json(R"("\u0041\u00e9\u20ac")", "t")->as_string(), "A\xC3\xA9\xE2\x82\xAC");
}

TEST(JsonReader, DecodesSurrogatePairToUtf8) {
  EXPECT_EQ(*parse_json(R"("\ud83d\ude00")", "t")->as_string(), "\xF0\x9F\x98\x80");  // U+1F600
}

TEST(JsonReader, RejectsUnpairedSurrogates) {
  EXPECT_NE(error_of(R"("\ud83d")").find("unpaired high surrogate"), std::string::npos);
  EXPECT_NE(error_of(R"("\ud83dx")").find("unpaired high surrogate"), std::string::npos);
  EXPECT_NE(error_of(R"("\ude00")").find("unpaired low surrogate"), std::string::npos);
  EXPECT_NE(error_of(R"("\ud83d\u0041")").find("unpaired high surrogate"), std::string::npos);
}

TEST(JsonReader, SkipsByteOrderMark) {
  EXPECT_EQ(parse_json("\xEF\xBB\xBF[1]", "t")->size(), 1u);
}

TEST(JsonReader, UnterminatedStringNamesStartLine) {
  EXPECT_EQ(error_of("{\n\"a\": \"abc"), "t.json:2: unterminated string (add the closing '\"')");
  EXPECT_EQ(error_of("[\n\"abc\n\"]").substr(0, 29), "t.json:2: unterminated string");
}

TEST(JsonReader, TrailingCommaInObject) {
  EXPECT_EQ(error_of("{\"a\": 1,\n}"), "t.json:2: trailing comma (remove the ',' before '}')");
}

TEST(JsonReader, TrailingCommaInArray) {
  EXPECT_EQ(error_of("[1, 2,]"), "t.json:1: trailing comma (remove the ',' before ']')");
}

TEST(JsonReader, DuplicateKeyIsAnError) {
  EXPECT_EQ(error_of("{\"a\": 1,\n\"b\": 2,\n\"a\": 3}"), "t.json:3: duplicate key 'a' (first defined at line 1)");
}

TEST(JsonReader, BadEscape) {
  EXPECT_NE(error_of(R"("\x")").find("t.json:1: bad escape: 'x' after '\\'"), std::string::npos);
  EXPECT_NE(error_of(R"("\u12g4")").find("bad \\u escape"), std::string::npos);
}

TEST(JsonReader, RawControlCharacterInString) {
  EXPECT_NE(error_of("\"a\tb\"").find("byte 0x09 inside a string"), std::string::npos);
}

TEST(JsonReader, RejectsBadNumbers) {
  EXPECT_EQ(error_of("01"), "t.json:1: bad number '01' (numbers cannot have leading zeros)");
  EXPECT_NE(error_of("1.").find("expected a digit after '.'"), std::string::npos);
  EXPECT_NE(error_of("1e").find("exponent"), std::string::npos);
  EXPECT_NE(error_of("-").find("bad number"), std::string::npos);
  EXPECT_NE(error_of("+1").find("cannot start with '+'"), std::string::npos);
  EXPECT_NE(error_of(".5").find("leading zero"), std::string::npos);
  EXPECT_NE(error_of("1.2.3").find("bad number '1.2.3'"), std::string::npos);
  EXPECT_NE(error_of("1e999").find("out of range"), std::string::npos);
}

TEST(JsonReader, RejectsNonJsonLiterals) {
  EXPECT_NE(error_of("NaN").find("no NaN or Infinity"), std::string::npos);
  EXPECT_NE(error_of("[True]").find("lowercase"), std::string::npos);
  EXPECT_NE(error_of("nul").find("unexpected 'n'"), std::string::npos);
}

TEST(JsonReader, RejectsCommentsAndSingleQuotes) {
  EXPECT_NE(error_of("// c\n1").find("no comments"), std::string::npos);
  EXPECT_NE(error_of("'a'").find("double quotes"), std::string::npos);
}

TEST(JsonReader, RejectsStructuralErrors) {
  EXPECT_EQ(error_of(""), "t.json:1: empty document (expected a JSON value)");
  EXPECT_EQ(error_of("  \n "), "t.json:2: empty document (expected a JSON value)");
  EXPECT_NE(error_of("{\"a\" 1}").find("expected ':' after key 'a'"), std::string::npos);
  EXPECT_NE(error_of("{a: 1}").find("expected a string key"), std::string::npos);
  EXPECT_NE(error_of("[1 2]").find("expected ',' or ']'"), std::string::npos);
  EXPECT_NE(error_of("{\"a\":1 \"b\":2}").find("expected ',' or '}'"), std::string::npos);
  EXPECT_EQ(error_of("[1,\n2"), "t.json:1: unterminated array (add the closing ']')");
  EXPECT_EQ(error_of("{\"a\":\n1"), "t.json:1: unterminated object (add the closing '}')");
  EXPECT_NE(error_of("1 2").find("after the JSON value"), std::string::npos);
  EXPECT_NE(error_of("]").find("unexpected ']'"), std::string::npos);
}

TEST(JsonReader, NestingLimitStopsDeepInput) {
  const std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(parse_json(ok, "t"));
  const std::string deep = std::string(100000, '[');
  EXPECT_NE(error_of(deep).find("nesting deeper than 512 levels"), std::string::npos);
}

TEST(JsonReader, NonPrintableByteIsShownAsHex) {
  EXPECT_NE(error_of(std::string("\x01", 1)).find("unexpected byte 0x01"), std::string::npos);
}

TEST(JsonReader, EmbeddedNulEscapeDecodes) {
  const Result<Value> v = parse_json(R"("a\u0000b")", "t");
  ASSERT_TRUE(v);
  EXPECT_EQ(*v->as_string(), std::string("a\0b", 3));
}

TEST(JsonReader, MissingFileIsNotFoundWithPath) {
  const Result<Value> r = read_json_file("/nonexistent/dir/x.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r.error().where().file, "/nonexistent/dir/x.json");
}

TEST(JsonReader, ReadsFileAndLocatesErrorsByPath) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("mlsys_json_reader_" + std::to_string(::getpid()) + ".json")).string();
  ASSERT_TRUE(write_text_file(path, "{\n  \"a\": 1,\n  \"a\": 2\n}\n"));
  const Result<Value> r = read_json_file(path);
  std::filesystem::remove(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(), path + ":3: duplicate key 'a' (first defined at line 2)");
}

TEST(JsonReader, DirectoryIsAnIoError) {
  const Result<Value> r = read_json_file(std::filesystem::temp_directory_path().string());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace mlsys
