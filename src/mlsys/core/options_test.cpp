#include "mlsys/core/options.h"

#include <gtest/gtest.h>

namespace mlsys {
namespace {

std::vector<OptionSpec> test_specs() {
  return {
      {.name = "link-bw", .type = OptionType::kBandwidth, .default_value = "400Gbps", .description = "link bandwidth"},
      {.name = "latency", .type = OptionType::kTime, .default_value = "1us", .description = "per hop"},
      {.name = "size", .type = OptionType::kBytes, .description = "message size", .required = true},
      {.name = "iters", .type = OptionType::kInt, .default_value = "10", .description = "iterations"},
      {.name = "model", .type = OptionType::kString, .default_value = "analytic", .description = "timing model",
       .choices = {"analytic", "flow"}},
      {.name = "verbose", .type = OptionType::kFlag, .description = "more output"},
  };
}

TEST(Options, DefaultsAreResolved) {
  OptionValues v(test_specs());
  EXPECT_DOUBLE_EQ(v.bandwidth("link-bw").base(), 50e9);
  EXPECT_EQ(v.time("latency"), us(1));
  EXPECT_EQ(v.integer("iters"), 10);
  EXPECT_FALSE(v.flag("verbose"));
  EXPECT_FALSE(v.has("size"));
}

TEST(Options, LaterSourcesOverride) {
  OptionValues v(test_specs());
  ASSERT_TRUE(v.set("link-bw", "25GBps", {"cfg.yaml", 3}));
  ASSERT_TRUE(v.set("link-bw", "100Gbps", {"--link-bw"}));
  EXPECT_DOUBLE_EQ(v.bandwidth("link-bw").base(), 12.5e9);
}

TEST(Options, MissingUnitIsAnErrorNamingTheOption) {
  OptionValues v(test_specs());
  Status st = v.set("size", "64", {"--size"});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().to_string().find("--size"), std::string::npos);
  EXPECT_NE(st.error().to_string().find("missing unit"), std::string::npos);
}

TEST(Options, ConfigErrorsCarryFileAndLine) {
  OptionValues v(test_specs());
  Status st = v.set("iters", "ten", {"run.yaml", 7});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().to_string().rfind("run.yaml:7: key 'iters'", 0), 0u) << st.error().to_string();
}

TEST(Options, ChoicesAreEnforced) {
  OptionValues v(test_specs());
  EXPECT_TRUE(v.set("model", "flow", {}));
  Status st = v.set("model", "packet", {"--model"});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().hint().find("analytic, flow"), std::string::npos);
}

TEST(Options, RequiredOptionsAreChecked) {
  OptionValues v(test_specs());
  EXPECT_FALSE(v.check_required());
  ASSERT_TRUE(v.set("size", "1MiB", {}));
  EXPECT_TRUE(v.check_required());
}

TEST(Options, UnknownNameIsAnError) {
  OptionValues v(test_specs());
  EXPECT_FALSE(v.set("nope", "1", {}));
}

TEST(Options, ResolvedListsValuesInDeclarationOrder) {
  OptionValues v(test_specs());
  ASSERT_TRUE(v.set("verbose", "true", {}));
  auto r = v.resolved();
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0].first, "link-bw");
  EXPECT_EQ(r[4].first, "verbose");
}

}  // namespace
}  // namespace mlsys
