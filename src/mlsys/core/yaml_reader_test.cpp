#include "mlsys/core/yaml_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "mlsys/core/file_io.h"

namespace mlsys {
namespace {

Value parse_ok(std::string_view text) {
  Result<Value> r = parse_yaml(text, "t.yaml");
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? std::move(*r) : Value();
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("mlsys_yaml_" + std::to_string(::getpid()) + "_" + name)).string();
}

TEST(YamlReader, ResolvesPlainScalars) {
  const Value v = parse_ok("i: 42\nf: -1.5e3\nb: true\nB: False\nn: null\nt: ~\ne:\ns: hello\nh: 0x10\n");
  EXPECT_EQ(*v.get_int("i"), 42);
  EXPECT_TRUE((*v.get("i"))->is_integer());
  EXPECT_DOUBLE_EQ(*v.get_number("f"), -1500.0);
  EXPECT_TRUE(*v.get_bool("b"));
  EXPECT_FALSE(*v.get_bool("B"));
  EXPECT_TRUE((*v.get("n"))->is_null());
  EXPECT_TRUE((*v.get("t"))->is_null());
  EXPECT_TRUE((*v.get("e"))->is_null());
  EXPECT_EQ(*v.get_string("s"), "hello");
  EXPECT_EQ(*v.get_string("h"), "0x10");
}

TEST(YamlReader, ResolvesCoreSchemaFloatForms) {
  const Value v = parse_ok("a: .5\nb: 1.\nc: +2\nd: 3.0\n");
  EXPECT_DOUBLE_EQ(*v.get_number("a"), 0.5);
  EXPECT_DOUBLE_EQ(*v.get_number("b"), 1.0);
  EXPECT_EQ(*v.get_int("c"), 2);
  EXPECT_FALSE((*v.get("d"))->is_integer());
}

TEST(YamlReader, NonDecimalWordsStayStrings) {
  const Value v = parse_ok("a: yes\nb: .inf\nc: 1e\nd: 1_000\ne: 12GB\n");
  for (const char* key : {"a", "b", "c", "d", "e"}) EXPECT_TRUE((*v.get(key))->is_string()) << key;
}

TEST(YamlReader, QuotedScalarsAreStrings) {
  const Value v = parse_ok("a: \"42\"\nb: 'true'\nc: \"null\"\nd: ''\ne: !!str 7\n");
  EXPECT_EQ(*v.get_string("a"), "42");
  EXPECT_EQ(*v.get_string("b"), "true");
  EXPECT_EQ(*v.get_string("c"), "null");
  EXPECT_EQ(*v.get_string("d"), "");
  EXPECT_EQ(*v.get_string("e"), "7");
}

TEST(YamlReader, CoreTagsResolveLikePlain) {
  const Value v = parse_ok("a: !!int 7\nb: !!float 2.5\n");
  EXPECT_EQ(*v.get_int("a"), 7);
  EXPECT_DOUBLE_EQ(*v.get_number("b"), 2.5);
}

TEST(YamlReader, SequencesAndFlowStyle) {
  const Value v = parse_ok("topology: [ Ring, Switch ]\nnpus:\n  - 4\n  - 8\n");
  ASSERT_EQ((*v.get("topology"))->size(), 2u);
  EXPECT_EQ(*(*v.get("topology"))->items()[1].as_string(), "Switch");
  EXPECT_EQ(*(*v.get("npus"))->items()[1].as_int(), 8);
}

TEST(YamlReader, RecordsLinesAndKeyOrder) {
  const Value v = parse_ok("# comment\nzeta: 1\nalpha:\n  x: 2\n  y: [1,\n    2]\n");
  EXPECT_EQ(v.keys(), (std::vector<std::string>{"zeta", "alpha"}));
  EXPECT_EQ((*v.get("zeta"))->line(), 2);
  EXPECT_EQ(v.members()[1].key_line, 3);
  const Value& alpha = **v.get("alpha");
  EXPECT_EQ((*alpha.get("x"))->line(), 4);
  EXPECT_EQ((*alpha.get("y"))->items()[1].line(), 6);
}

TEST(YamlReader, TypeErrorsNameFileAndLine) {
  const Value v = parse_ok("topology: Ring\nbandwidth: fast\n");
  EXPECT_EQ(v.get_number("bandwidth").error().to_string(),
            "t.yaml:2: expected a number for key 'bandwidth', got string");
}

TEST(YamlReader, UnknownKeyIsReportedAtKeyLine) {
  const Value v = parse_ok("topology: Ring\n\nbandwdth: 5\n");
  const std::vector<std::string> allowed = {"topology", "bandwidth"};
  EXPECT_EQ(v.check_keys(allowed).error().to_string(), "t.yaml:3: unknown key 'bandwdth' (did you mean 'bandwidth'?)");
}

TEST(YamlReader, NullValueIsLocatedAtItsKey) {
  const Value v = parse_ok("a: 1\nb:\n\nc: 2\n");
  EXPECT_TRUE((*v.get("b"))->is_null());
  EXPECT_EQ((*v.get("b"))->line(), 2);
}

TEST(YamlReader, SyntaxErrorIsLocated) {
  const Result<Value> r = parse_yaml("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().where().file, "bad.yaml");
  EXPECT_GE(r.error().where().line, 2);
  EXPECT_EQ(r.error().message().rfind("bad YAML: ", 0), 0u);
}

TEST(YamlReader, DuplicateKeyIsAnError) {
  const Result<Value> r = parse_yaml("a: 1\nb: 2\na: 3\n", "d.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(), "d.yaml:3: duplicate key 'a' (first defined at line 1)");
}

TEST(YamlReader, NonScalarKeyIsAnError) {
  const Result<Value> r = parse_yaml("? [1, 2]\n: x\n", "k.yaml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("a mapping key must be a scalar"), std::string::npos);
}

TEST(YamlReader, SeveralDocumentsAreAnError) {
  const Result<Value> r = parse_yaml("a: 1\n---\nb: 2\n", "m.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(), "m.yaml:2: the file holds more than one YAML document (remove the '---' separators)");
}

TEST(YamlReader, StrayLeadingCommaIsAnErrorNotAHang) {
  // Fuzzer finding: yaml-cpp reports endless empty documents for a leading ',' without
  // consuming it, so loading every document never returned.
  const Result<Value> r = parse_yaml(",qex", "c.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(), "c.yaml:1: bad YAML: unexpected ','");
}

TEST(YamlReader, AliasToScalarAndAnchoredKey) {
  const Value v = parse_ok("a: &n 5\nb: *n\n&k key: 1\nc: *k\n");
  EXPECT_EQ(*v.get_int("b"), 5);
  EXPECT_EQ(*v.get_string("c"), "key");
}

TEST(YamlReader, NullKeyIsAnError) {
  const Result<Value> r = parse_yaml("a: 1\n~: 2\n", "n.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(), "n.yaml:2: a mapping key must not be null (quote it to use the text as a key)");
}

TEST(YamlReader, EmptyTextIsNull) {
  EXPECT_TRUE(parse_ok("").is_null());
  EXPECT_TRUE(parse_ok("# only a comment\n").is_null());
}

TEST(YamlReader, AliasesAreCopied) {
  const Value v = parse_ok("base: &b {x: 1}\nother: *b\n");
  EXPECT_EQ(*(*v.get("other"))->get_int("x"), 1);
}

TEST(YamlReader, AliasExpansionIsBounded) {
  // Each level doubles the node count: 2^30 nodes if expanded without a limit.
  std::string doc = "l0: &l0 [x, x]\n";
  for (int i = 1; i <= 30; ++i) {
    doc += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l" + std::to_string(i - 1) + ", *l" +
           std::to_string(i - 1) + "]\n";
  }
  const Result<Value> r = parse_yaml(doc, "bomb.yaml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("aliases expand to more than 100000 nodes"), std::string::npos);
}

TEST(YamlReader, AliasesWithinBudgetAreExpanded) {
  std::string doc = "l0: &l0 [x, x]\n";
  for (int i = 1; i <= 12; ++i) {  // 2^13 nodes in the last list
    doc += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l" + std::to_string(i - 1) + ", *l" +
           std::to_string(i - 1) + "]\n";
  }
  EXPECT_TRUE(parse_yaml(doc, "ok.yaml"));
}

TEST(YamlReader, RecursiveAliasIsAnError) {
  // Fuzzer finding: an alias inside its own anchor made the converter recurse forever.
  for (const char* doc : {"&a [*a]", "a: &a {x: *a, y: *a}", "&a [1, [2, *a]]"}) {
    const Result<Value> r = parse_yaml(doc, "cycle.yaml");
    ASSERT_FALSE(r) << doc;
    EXPECT_NE(r.error().message().find("recursive alias"), std::string::npos) << doc;
  }
}

TEST(YamlReader, RepeatedAliasIsNotACycle) {
  const Value v = parse_ok("base: &b [1, 2]\nx: [*b, *b]\ny: {p: *b, q: *b}\n");
  EXPECT_EQ((*v.get("x"))->items()[1].size(), 2u);
  EXPECT_EQ(*(*(*v.get("y"))->get("q"))->items()[0].as_int(), 1);
}

TEST(YamlReader, NestingThroughAliasesIsLimited) {
  // yaml-cpp stops deep text itself; aliases can stack two 300-deep lists into 600 levels.
  const std::string open(300, '['), close(300, ']');
  EXPECT_TRUE(parse_yaml("a: &a " + open + close, "ok.yaml"));
  const Result<Value> r = parse_yaml("a: &a " + open + close + "\nb: " + open + "*a" + close + "\n", "deep.yaml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("nesting deeper than 512 levels"), std::string::npos);
  EXPECT_FALSE(parse_yaml(std::string(5000, '[') + std::string(5000, ']'), "deeper.yaml"));
}

TEST(YamlReader, DeepNestingIsAnErrorNotACrash) {
  const Result<Value> r = parse_yaml(std::string(20000, '['), "deep.yaml");
  EXPECT_FALSE(r);
}

TEST(YamlReader, MissingFileIsNotFound) {
  const Result<Value> r = read_yaml_file("/nonexistent/x.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r.error().where().file, "/nonexistent/x.yaml");
}

TEST(ReadConfigFile, DispatchesOnExtension) {
  const std::string yaml = temp_path("c.YML");
  const std::string json = temp_path("c.json");
  ASSERT_TRUE(write_text_file(yaml, "a: 1\n"));
  ASSERT_TRUE(write_text_file(json, "{\"a\": 2}"));
  const Result<Value> y = read_config_file(yaml);
  const Result<Value> j = read_config_file(json);
  std::filesystem::remove(yaml);
  std::filesystem::remove(json);
  ASSERT_TRUE(y);
  ASSERT_TRUE(j);
  EXPECT_EQ(*y->get_int("a"), 1);
  EXPECT_EQ(*j->get_int("a"), 2);
}

TEST(ReadConfigFile, JsonFileIsParsedStrictly) {
  const std::string json = temp_path("strict.json");
  ASSERT_TRUE(write_text_file(json, "{\"a\": 1,}"));
  const Result<Value> r = read_config_file(json);
  std::filesystem::remove(json);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("trailing comma"), std::string::npos);
}

TEST(ReadConfigFile, UnknownExtensionIsUnsupported) {
  const Result<Value> r = read_config_file("net.toml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(r.error().to_string(), "net.toml: unknown configuration file type '.toml' (use a .json, .yaml or .yml file)");
  EXPECT_EQ(read_config_file("noext").error().code(), ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace mlsys
