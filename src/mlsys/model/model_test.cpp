#include "mlsys/model/model.h"

#include <cmath>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mlsys::model {
namespace {

using ::testing::HasSubstr;

const std::string kModels = std::string(MLSYS_SHARED_DATA) + "/models/";

ModelSpec zoo_model(std::string_view name) {
  Result<ModelSpec> m = find_model(name);
  EXPECT_TRUE(m.ok()) << (m ? "" : m.error().to_string());
  return m ? *m : ModelSpec{};
}

double billions(double params) { return params / 1e9; }

// SC'21 Table 1's parameter column, to the 0.1 B the paper prints.
TEST(ParameterCount, MatchesSc21TableOneToTheTenthOfABillion) {
  const std::vector<std::pair<std::string, double>> rows = {
      {"gpt-1.7b", 1.7},     {"gpt-3.6b", 3.6},     {"gpt-7.5b", 7.5},     {"gpt-18.4b", 18.4},
      {"gpt-39.1b", 39.1},   {"gpt-76.1b", 76.1},   {"gpt-145.6b", 145.6}, {"gpt-310.1b", 310.1},
      {"gpt-529.6b", 529.6}, {"gpt-1t", 1008.0}};
  for (const auto& [name, paper] : rows) {
    const double ours = billions(parameter_count(zoo_model(name)).total);
    EXPECT_NEAR(ours, paper, 0.05) << name;
  }
}

TEST(ParameterCount, Gpt3Is174Point6Billion) {
  EXPECT_NEAR(billions(parameter_count(zoo_model("gpt3-175b")).total), 174.6, 0.05);
}

TEST(ParameterCount, GptFollowsTheMegatronClosedForm) {
  // P = 12 L h^2 (1 + 13/(12h) + (V+s)/(12Lh)) plus the final LayerNorm (2h), which the closed
  // form leaves out.
  const ModelSpec m = zoo_model("gpt-18.4b");
  const double l = 40, h = 6144, v = 51200, s = 2048;
  const double closed = 12 * l * h * h * (1 + 13 / (12 * h) + (v + s) / (12 * l * h));
  EXPECT_DOUBLE_EQ(parameter_count(m).total, closed + 2 * h);
}

TEST(ParameterCount, LlamaModelsMatchTheirPublishedSizes) {
  EXPECT_NEAR(billions(parameter_count(zoo_model("llama2-7b")).total), 6.738, 0.0005);
  EXPECT_NEAR(billions(parameter_count(zoo_model("llama2-13b")).total), 13.016, 0.0005);
  EXPECT_NEAR(billions(parameter_count(zoo_model("llama2-70b")).total), 68.977, 0.0005);
  EXPECT_NEAR(billions(parameter_count(zoo_model("llama3-8b")).total), 8.030, 0.0005);
  EXPECT_NEAR(billions(parameter_count(zoo_model("llama3-70b")).total), 70.554, 0.0005);
  EXPECT_NEAR(billions(parameter_count(zoo_model("llama3.1-405b")).total), 405.853, 0.0005);
}

TEST(ParameterCount, Llama2SevenBIsExact) {
  // 32 * (4*4096^2 + 3*4096*11008 + 2*4096) + 2*32000*4096 + 4096, by hand.
  EXPECT_DOUBLE_EQ(parameter_count(zoo_model("llama2-7b")).total, 6738415616.0);
}

TEST(ParameterCount, MixtralTotalAndActive) {
  const ParameterCount c = parameter_count(zoo_model("mixtral-8x7b"));
  EXPECT_NEAR(billions(c.total), 46.703, 0.0005);
  EXPECT_NEAR(billions(c.active), 12.880, 0.0005);
}

TEST(ParameterCount, DenseModelsHaveActiveEqualToTotal) {
  const ParameterCount c = parameter_count(zoo_model("llama2-70b"));
  EXPECT_DOUBLE_EQ(c.active, c.total);
}

TEST(ParameterCount, ClipTowers) {
  // transformers' CLIPVisionModel ViT-L/14: 303.18 M; CLIPTextModel: 123.06 M (no projections).
  EXPECT_NEAR(parameter_count(zoo_model("clip-vit-l14-vision")).total / 1e6, 303.18, 0.01);
  EXPECT_NEAR(parameter_count(zoo_model("clip-vit-l14-text")).total / 1e6, 123.06, 0.01);
}

TEST(ParameterCount, PartsAddUp) {
  for (const ModelSpec& m : zoo()) {
    const ParameterCount c = parameter_count(m);
    EXPECT_DOUBLE_EQ(c.total, c.embedding + c.layers + c.head) << m.name;
    EXPECT_DOUBLE_EQ(c.layers, c.per_layer * static_cast<double>(m.layers)) << m.name;
  }
}

TEST(Zoo, EveryEntryValidates) {
  for (const ModelSpec& m : zoo()) {
    Status s = validate(m);
    EXPECT_TRUE(s.ok()) << m.name << ": " << (s ? "" : s.error().to_string());
  }
}

TEST(Zoo, NamesAndAliasesAreUnique) {
  std::set<std::string> seen;
  for (const ModelSpec& m : zoo()) {
    EXPECT_TRUE(seen.insert(m.name).second) << m.name;
    for (const std::string& a : m.aliases) {
      std::string lowered;
      for (char c : a) lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      EXPECT_TRUE(seen.insert(lowered).second || lowered == m.name) << a;
    }
  }
}

TEST(FindModel, AcceptsAliasesInAnyCase) {
  EXPECT_EQ(zoo_model("GPT3").name, "gpt3-175b");
  EXPECT_EQ(zoo_model("Llama-2-7b").name, "llama2-7b");
  EXPECT_EQ(zoo_model("mixtral").name, "mixtral-8x7b");
}

TEST(FindModel, UnknownNameListsTheZooAndSuggests) {
  Result<ModelSpec> m = find_model("llama2-7");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(m.error().message(), HasSubstr("gpt3-175b"));
  EXPECT_THAT(m.error().hint(), HasSubstr("did you mean 'llama2-7b'"));
}

TEST(Validate, RejectsHeadsNotAMultipleOfKvHeads) {
  ModelSpec m = zoo_model("llama2-70b");
  m.kv_heads = 7;
  Status s = validate(m);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message(), HasSubstr("multiple of key/value heads"));
}

TEST(Validate, RejectsTopKAboveExperts) {
  ModelSpec m = zoo_model("mixtral-8x7b");
  m.moe.top_k = 9;
  EXPECT_FALSE(validate(m).ok());
}

TEST(Validate, RejectsZeroHidden) {
  ModelSpec m = zoo_model("gpt3");
  m.hidden = 0;
  EXPECT_FALSE(validate(m).ok());
}

// ---------------------------------------------------------------------------------------------
// HF import: every shipped config.json imports or is refused with its reason.

TEST(HfImport, Llama2SevenBMatchesTheZoo) {
  Result<ModelSpec> m = load_model(kModels + "llama-2-7b-hf.config.json");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->name, "llama-2-7b-hf");
  EXPECT_DOUBLE_EQ(parameter_count(*m).total, parameter_count(zoo_model("llama2-7b")).total);
  EXPECT_EQ(m->mlp, Mlp::kSwiGlu);
  EXPECT_FALSE(m->bias);
}

TEST(HfImport, Llama2SeventyBMatchesTheZoo) {
  Result<ModelSpec> m = load_model(kModels + "llama-2-70b-hf.config.json");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->kv_heads, 8);
  EXPECT_DOUBLE_EQ(parameter_count(*m).total, parameter_count(zoo_model("llama2-70b")).total);
}

TEST(HfImport, Llama31EightB) {
  Result<ModelSpec> m = load_model(kModels + "llama-3.1-8b.config.json");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->max_seq, 131072);
  EXPECT_NEAR(billions(parameter_count(*m).total), 8.030, 0.0005);
}

TEST(HfImport, OpenLlamaDefaultsKvHeadsToHeads) {
  Result<ModelSpec> m = load_model(kModels + "open_llama_7b.config.json");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->kv_heads, 32);
  EXPECT_EQ(m->max_seq, 2048);
  EXPECT_DOUBLE_EQ(parameter_count(*m).total, parameter_count(zoo_model("llama2-7b")).total);
}

TEST(HfImport, MixtralMatchesTheZoo) {
  Result<ModelSpec> m = load_model(kModels + "mixtral-8x7b-instruct-v0.1.config.json");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->moe.experts, 8);
  EXPECT_EQ(m->moe.top_k, 2);
  EXPECT_EQ(m->sliding_window, 0);  // "sliding_window": null
  EXPECT_DOUBLE_EQ(parameter_count(*m).total, parameter_count(zoo_model("mixtral-8x7b")).total);
  EXPECT_DOUBLE_EQ(parameter_count(*m).active, parameter_count(zoo_model("mixtral-8x7b")).active);
}

TEST(HfImport, Qwen3EightB) {
  Result<ModelSpec> m = load_model(kModels + "qwen3-8b.config.json");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_TRUE(m->qk_norm);
  EXPECT_EQ(m->head_dim, 128);
  // Qwen3-8B: 8.19 B parameters (Qwen3 technical report, 6.95 B without embeddings).
  EXPECT_NEAR(billions(parameter_count(*m).total), 8.19, 0.005);
}

TEST(HfImport, Qwen3MoeUsesMoeIntermediateSize) {
  Result<ModelSpec> m = load_model(kModels + "qwen3-30b-a3b.config.json");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->moe.experts, 128);
  EXPECT_EQ(m->moe.top_k, 8);
  EXPECT_EQ(m->moe.expert_ffn, 768);
  EXPECT_EQ(m->head_dim, 128);  // not hidden / heads = 64
  // Qwen3-30B-A3B: 30.5 B total, 3.3 B activated (Qwen3 model card, which truncates: we count
  // 3.353 B with both embedding tables).
  EXPECT_NEAR(billions(parameter_count(*m).total), 30.5, 0.05);
  EXPECT_NEAR(billions(parameter_count(*m).active), 3.3, 0.06);
}

TEST(HfImport, DeepSeekV3IsRefusedForMla) {
  Result<ModelSpec> m = load_model(kModels + "deepseek-v3.config.json");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kUnsupported);
  EXPECT_THAT(m.error().message(), HasSubstr("multi-head latent attention"));
  EXPECT_THAT(m.error().hint(), HasSubstr("qwen3_moe"));
  EXPECT_GT(m.error().where().line, 1);
}

TEST(HfImport, ClipHoldsTwoTowersWithHfDefaults) {
  Result<std::vector<ModelSpec>> towers = load_models(kModels + "clip-vit-large-patch14.config.json");
  ASSERT_TRUE(towers.ok()) << towers.error().to_string();
  ASSERT_EQ(towers->size(), 2u);
  const ModelSpec& text = (*towers)[0];
  const ModelSpec& vision = (*towers)[1];
  EXPECT_EQ(text.name, "clip-vit-large-patch14-text");
  EXPECT_EQ(text.layers, 12);     // default
  EXPECT_EQ(text.vocab, 49408);   // default
  EXPECT_EQ(text.max_seq, 77);    // default
  EXPECT_EQ(text.mlp, Mlp::kQuickGelu);
  EXPECT_EQ(vision.image_size, 224);
  EXPECT_EQ(vision.max_seq, 257);
  EXPECT_DOUBLE_EQ(parameter_count(text).total, parameter_count(zoo_model("clip-vit-l14-text")).total);
  EXPECT_DOUBLE_EQ(parameter_count(vision).total, parameter_count(zoo_model("clip-vit-l14-vision")).total);
}

TEST(HfImport, ClipNeedsATowerForOneModel) {
  Result<ModelSpec> m = load_model(kModels + "clip-vit-large-patch14.config.json");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.error().hint(), HasSubstr("#text"));
  Result<ModelSpec> v = load_model(kModels + "clip-vit-large-patch14.config.json#vision");
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(v->architecture, "clip-vision");
}

TEST(HfImport, MissingKeyIsNamedWithItsFile) {
  Result<ModelSpec> m = parse_hf_config(R"({"model_type": "llama", "hidden_size": 64})", "cfg.json");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.error().to_string(), HasSubstr("cfg.json:1: missing key 'num_hidden_layers'"));
}

TEST(HfImport, UnsupportedModelTypeListsTheSupportedOnes) {
  Result<ModelSpec> m = parse_hf_config("{\n  \"model_type\": \"bert\"\n}", "bert.json");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(m.error().where().line, 2);
  EXPECT_THAT(m.error().to_string(), HasSubstr("model_type 'bert' is not supported"));
  EXPECT_THAT(m.error().hint(), HasSubstr("gpt2, llama, mistral, mixtral"));
}

TEST(HfImport, MissingModelTypeIsAnError) {
  Result<ModelSpec> m = parse_hf_config(R"({"hidden_size": 64})", "x.json");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.error().message(), HasSubstr("model_type"));
}

TEST(HfImport, WrongTypeNamesTheKeyAndLine) {
  Result<ModelSpec> m = parse_hf_config(
      "{\"model_type\": \"llama\",\n\"hidden_size\": \"big\"}", "t.json");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.error().to_string(), HasSubstr("t.json:2"));
  EXPECT_THAT(m.error().to_string(), HasSubstr("hidden_size"));
}

TEST(HfImport, InconsistentShapeIsRejected) {
  Result<ModelSpec> m = parse_hf_config(
      R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 8,
          "num_key_value_heads": 3, "intermediate_size": 128, "vocab_size": 100,
          "max_position_embeddings": 32})",
      "gqa.json");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.error().message(), HasSubstr("multiple of key/value heads"));
}

TEST(HfImport, HugeDimensionIsOutOfRange) {
  Result<ModelSpec> m = parse_hf_config(
      R"({"model_type": "llama", "hidden_size": 99999999999, "num_hidden_layers": 2})", "big.json");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.error().message(), HasSubstr("out of range"));
}

TEST(HfImport, MistralKeepsItsSlidingWindow) {
  Result<ModelSpec> m = parse_hf_config(
      R"({"model_type": "mistral", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
          "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 32000,
          "max_position_embeddings": 32768, "sliding_window": 4096})",
      "mistral.json");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->sliding_window, 4096);
}

TEST(HfImport, Gpt2SmallIs124M) {
  Result<ModelSpec> m = parse_hf_config(
      R"({"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "vocab_size": 50257,
          "n_positions": 1024, "n_inner": null})",
      "gpt2.json");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_NEAR(parameter_count(*m).total / 1e6, 124.44, 0.01);  // GPT-2 small, tied head
}

TEST(HfImport, MissingFileIsNotFound) {
  Result<ModelSpec> m = load_model("/nonexistent/config.json");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kNotFound);
}

TEST(ResolveModel, ZooNameThenPath) {
  Result<ModelSpec> a = resolve_model("llama2-7b");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->name, "llama2-7b");
  Result<ModelSpec> b = resolve_model(kModels + "llama-2-7b-hf.config.json");
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  EXPECT_EQ(b->name, "llama-2-7b-hf");
  Result<ModelSpec> c = resolve_model("nonsense");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace mlsys::model
