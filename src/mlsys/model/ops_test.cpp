#include "mlsys/model/ops.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mlsys::model {
namespace {

ModelSpec zoo_model(std::string_view name) {
  Result<ModelSpec> m = find_model(name);
  EXPECT_TRUE(m.ok());
  return m ? *m : ModelSpec{};
}

double sum_saved(const std::vector<Op>& ops, bool only_selective = false) {
  double total = 0;
  for (const Op& op : ops) {
    if (!only_selective || op.recomputed_by_selective) total += op.saved_bytes;
  }
  return total;
}

double sum_matmul_flops(const std::vector<Op>& ops) {
  double total = 0;
  for (const Op& op : ops) {
    if (op.kind == OpKind::kGemm || op.kind == OpKind::kAttention) total += op.flops;
  }
  return total;
}

const Op& find_op(const std::vector<Op>& ops, std::string_view name) {
  for (const Op& op : ops) {
    if (op.name == name) return op;
  }
  ADD_FAILURE() << "no op " << name;
  static const Op kNone;
  return kNone;
}

// Korthikanti et al. (arXiv 2205.05198) Table 2: s*b*h*(34 + 5*a*s/h) bytes per layer, no
// parallelism, 16-bit activations with dropout masks.
TEST(LayerOps, SavedBytesMatchKorthikantiWithoutParallelism) {
  const ModelSpec m = zoo_model("gpt3-175b");
  const double s = 2048, b = 1, h = 12288, a = 96;
  const Shape shape{.batch = 1, .seq = 2048, .tp = 1};
  EXPECT_DOUBLE_EQ(sum_saved(layer_ops(m, shape)), s * b * h * (34 + 5 * a * s / h));
}

TEST(LayerOps, SavedBytesMatchKorthikantiTensorParallelOnly) {
  const ModelSpec m = zoo_model("gpt-18.4b");
  const double s = 2048, b = 4, h = 6144, a = 48, t = 8;
  const Shape shape{.batch = 4, .seq = 2048, .tp = 8};
  EXPECT_DOUBLE_EQ(sum_saved(layer_ops(m, shape)), s * b * h * (10 + 24 / t + 5 * a * s / (h * t)));
}

TEST(LayerOps, SavedBytesMatchKorthikantiWithSequenceParallel) {
  const ModelSpec m = zoo_model("mt-nlg-530b");
  const double s = 2048, b = 1, h = 20480, a = 128, t = 8;
  const Shape shape{.batch = 1, .seq = 2048, .tp = 8, .sequence_parallel = true};
  const std::vector<Op> ops = layer_ops(m, shape);
  EXPECT_DOUBLE_EQ(sum_saved(ops), s * b * h / t * (34 + 5 * a * s / h));
  // Selective recompute drops exactly the 5as/h term: 34 sbh/t remain.
  EXPECT_DOUBLE_EQ(sum_saved(ops) - sum_saved(ops, true), 34 * s * b * h / t);
  EXPECT_DOUBLE_EQ(sum_saved(ops, true), s * b * h / t * 5 * a * s / h);
}

TEST(LayerOps, GptForwardFlopsAre24bsh2Plus4bs2hFullSquare) {
  // SC'21 Eq. 3 derivation: forward per layer 24 B s h^2 + 4 B s^2 h with the full s^2 square.
  const ModelSpec m = zoo_model("gpt-7.5b");
  const double b = 2, s = 2048, h = 4096;
  const Shape shape{.batch = 2, .seq = 2048, .causal_half = false};
  EXPECT_DOUBLE_EQ(sum_matmul_flops(layer_ops(m, shape)), 24 * b * s * h * h + 4 * b * s * s * h);
}

TEST(LayerOps, CausalHalfHalvesTheAttentionCore) {
  const ModelSpec m = zoo_model("gpt-7.5b");
  const Op full = find_op(layer_ops(m, {.batch = 1, .seq = 2048, .causal_half = false}), "attn");
  const Op half = find_op(layer_ops(m, {.batch = 1, .seq = 2048, .causal_half = true}), "attn");
  EXPECT_DOUBLE_EQ(half.flops * 2, full.flops);
}

TEST(LayerOps, TensorParallelSplitsGemmsAndHeads) {
  const ModelSpec m = zoo_model("llama2-70b");
  const std::vector<Op> one = layer_ops(m, {.batch = 1, .seq = 4096, .tp = 1});
  const std::vector<Op> eight = layer_ops(m, {.batch = 1, .seq = 4096, .tp = 8});
  EXPECT_DOUBLE_EQ(sum_matmul_flops(one), 8 * sum_matmul_flops(eight));
  const Op qkv = find_op(eight, "qkv");
  EXPECT_EQ(qkv.m, 4096);
  EXPECT_EQ(qkv.k, 8192);
  EXPECT_EQ(qkv.n, (64 / 8 + 2 * 1) * 128);  // 8 query heads + 1 K + 1 V head per rank
}

TEST(LayerOps, GqaShrinksTheKvProjection) {
  const Op qkv = find_op(layer_ops(zoo_model("llama2-70b"), {.batch = 1, .seq = 16}), "qkv");
  EXPECT_EQ(qkv.n, 8192 + 2 * 8 * 128);
}

TEST(LayerOps, SwiGluHasThreeMatrices) {
  const std::vector<Op> ops = layer_ops(zoo_model("llama2-7b"), {.batch = 1, .seq = 16});
  EXPECT_EQ(find_op(ops, "mlp_gate").n, 11008);
  EXPECT_EQ(find_op(ops, "mlp_up").n, 11008);
  EXPECT_EQ(find_op(ops, "mlp_down").k, 11008);
}

TEST(LayerOps, ParamsOfOneLayerMatchParameterCount) {
  for (const char* name : {"gpt3-175b", "llama2-70b", "mixtral-8x7b", "clip-vit-l14-vision"}) {
    const ModelSpec m = zoo_model(name);
    double params = 0;
    for (const Op& op : layer_ops(m, {.batch = 1, .seq = 128})) params += op.params;
    EXPECT_DOUBLE_EQ(params, parameter_count(m).per_layer) << name;
  }
}

TEST(LayerOps, MoeExpertsSeeTopKTokensEach) {
  const ModelSpec m = zoo_model("mixtral-8x7b");
  const std::vector<Op> ops = layer_ops(m, {.batch = 2, .seq = 1024});
  const Op up = find_op(ops, "expert_up");
  EXPECT_EQ(up.m, 2 * 1024 * 2);
  EXPECT_DOUBLE_EQ(up.flops, 2.0 * 2048 * 2 * 4096 * 14336);
  EXPECT_DOUBLE_EQ(up.params, 8.0 * 4096 * 14336);
  EXPECT_EQ(find_op(ops, "router").n, 8);
}

TEST(LayerOps, SlidingWindowReducesAttentionWork) {
  ModelSpec m = zoo_model("llama2-7b");
  const Shape shape{.batch = 1, .seq = 8192};
  const double full = find_op(layer_ops(m, shape), "attn").flops;
  m.sliding_window = 1024;
  const double windowed = find_op(layer_ops(m, shape), "attn").flops;
  // Mean keys per query: (w^2/2 + (s - w) w) / s = 960 against s/2 = 4096.
  EXPECT_DOUBLE_EQ(windowed / full, 960.0 / 4096.0);
}

TEST(LayerOps, DecodeStepAttendsTheWholeContext) {
  const ModelSpec m = zoo_model("llama2-7b");
  const Op decode = find_op(layer_ops(m, {.batch = 1, .seq = 1, .context = 4000}), "attn");
  // One query at the end of 4000 keys: 4000 - 1/2 keys on the continuous count.
  EXPECT_DOUBLE_EQ(decode.flops, 4.0 * 3999.5 * 32 * 128);
}

TEST(LayerOps, EncoderAttentionIsFullSquare) {
  const ModelSpec m = zoo_model("clip-vit-l14-vision");
  const Op attn = find_op(layer_ops(m, {.batch = 1, .seq = 257}), "attn");
  EXPECT_DOUBLE_EQ(attn.flops, 4.0 * 257 * 257 * 1024);
}

TEST(HeadOps, LmHeadSplitsTheVocabulary) {
  const ModelSpec m = zoo_model("llama2-7b");
  const Op head = find_op(head_ops(m, {.batch = 1, .seq = 4096, .tp = 4}), "lm_head");
  EXPECT_EQ(head.n, 8000);
  EXPECT_DOUBLE_EQ(head.params, 8000.0 * 4096);
}

TEST(HeadOps, TiedHeadHoldsNoWeights) {
  const Op head = find_op(head_ops(zoo_model("gpt3"), {.batch = 1, .seq = 2048}), "lm_head");
  EXPECT_EQ(head.params, 0);
  EXPECT_GT(head.flops, 0);
}

TEST(EmbeddingOps, VisionTowerEmbedsPatches) {
  const ModelSpec m = zoo_model("clip-vit-l14-vision");
  const Op patch = find_op(embedding_ops(m, {.batch = 1, .seq = 257}), "patch_embed");
  EXPECT_EQ(patch.m, 256);
  EXPECT_EQ(patch.k, 3 * 14 * 14);
}

TEST(EmbeddingAndHead, ParamsMatchParameterCount) {
  for (const char* name : {"gpt3-175b", "llama2-7b", "clip-vit-l14-vision", "clip-vit-l14-text"}) {
    const ModelSpec m = zoo_model(name);
    const Shape shape{.batch = 1, .seq = tokens_per_sample(m)};
    double params = 0;
    for (const Op& op : embedding_ops(m, shape)) params += op.params;
    for (const Op& op : head_ops(m, shape)) params += op.params;
    const ParameterCount c = parameter_count(m);
    EXPECT_DOUBLE_EQ(params, c.embedding + c.head) << name;
  }
}

// ---------------------------------------------------------------------------------------------
// Model FLOPs.

TEST(Sc21Flops, OneTrillionRowIs5Point139e19) {
  EXPECT_NEAR(sc21_flops_per_iteration(zoo_model("gpt-1t"), 3072, 2048) / 1e19, 5.139, 0.0005);
}

TEST(ModelFlops, Sc21ConventionIsThreeQuartersOfEq3WithoutTheHeadRecompute) {
  // 72 B s L h^2 (1 + s/(6h) + V/(12 L h)): model FLOPs without recompute.
  const ModelSpec m = zoo_model("gpt3-175b");
  const double b = 1536, s = 2048, l = 96, h = 12288, v = 51200;
  EXPECT_NEAR(model_flops_per_iteration(m, 1536, 2048, FlopConvention::kSc21) /
                  (72 * b * s * l * h * h * (1 + s / (6 * h) + v / (12 * l * h))),
              1.0, 1e-12);
}

TEST(ModelFlops, MegatronLlama2SevenByHand) {
  // Per token forward MACs: 32 layers x (4 h^2 + s/2 * 2h + 3 h ffn) + h V, h=4096, ffn=11008.
  const double h = 4096, s = 4096, l = 32, ffn = 11008, v = 32000, b = 8;
  const double macs = l * (4 * h * h + s * h + 3 * h * ffn) + h * v;
  EXPECT_NEAR(model_flops_per_iteration(zoo_model("llama2-7b"), 8, 4096, FlopConvention::kMegatron) / (6 * b * s * macs),
              1.0, 1e-12);
}

TEST(ModelFlops, MegatronMixtralByHand) {
  // GQA: q and out 2 h^2, k and v 2 h (8*128); top-2 of 3 h ffn; causal half; logits.
  const double h = 4096, kv = 1024, s = 4096, l = 32, ffn = 14336, v = 32000;
  const double macs = l * (2 * h * h + 2 * h * kv + s * h + 2 * 3 * h * ffn) + h * v;
  EXPECT_NEAR(model_flops_per_iteration(zoo_model("mixtral-8x7b"), 1, 4096, FlopConvention::kMegatron) / (6 * s * macs),
              1.0, 1e-12);
}

TEST(ModelFlops, MegatronIsCloseToSixTimesActiveParamsPerToken) {
  // The 6 N D rule of thumb with N = active parameters, ignoring attention and embeddings.
  const ModelSpec m = zoo_model("mixtral-8x7b");
  const double tokens = 128;
  const double flops = model_flops_per_iteration(m, 1, 128, FlopConvention::kMegatron);
  EXPECT_NEAR(flops / (6 * parameter_count(m).active * tokens), 1.0, 0.05);
}

TEST(ModelFlops, LayerOpsAgreeWithTheMegatronCount) {
  // Differential check: the op list's GEMM + attention FLOPs (minus the router, which Megatron
  // leaves out) times 3 reproduce the closed form.
  for (const char* name : {"llama2-70b", "mixtral-8x7b", "gpt3-175b", "llama3-8b"}) {
    const ModelSpec m = zoo_model(name);
    const Shape shape{.batch = 2, .seq = 1024};
    double forward = 0;
    for (const Op& op : layer_ops(m, shape)) {
      if ((op.kind == OpKind::kGemm || op.kind == OpKind::kAttention) && op.name != "router") forward += op.flops;
    }
    forward *= static_cast<double>(m.layers);
    for (const Op& op : head_ops(m, shape)) {
      if (op.kind == OpKind::kGemm) forward += op.flops;
    }
    // Biases add m*n FLOPs-free terms only; GEMM FLOPs ignore them, as the closed form does.
    EXPECT_NEAR(3 * forward / model_flops_per_iteration(m, 2, 1024, FlopConvention::kMegatron), 1.0, 1e-12) << name;
  }
}

TEST(ModelFlops, SwiGluCountsThreeHalvesOfTheMlp) {
  ModelSpec gelu = zoo_model("llama2-7b");
  gelu.mlp = Mlp::kGelu;
  const ModelSpec swiglu = zoo_model("llama2-7b");
  const double attn_free = [](const ModelSpec& m) {
    return model_flops_per_iteration(m, 1, 2, FlopConvention::kMegatron);
  }(swiglu) - model_flops_per_iteration(gelu, 1, 2, FlopConvention::kMegatron);
  // The difference is one extra h x ffn matrix: 6 * tokens * L * h * ffn.
  EXPECT_NEAR(attn_free, 6.0 * 2 * 32 * 4096 * 11008, 1.0);
}

}  // namespace
}  // namespace mlsys::model
