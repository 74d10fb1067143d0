#include "mlsys/train/memory.h"

#include <algorithm>

namespace mlsys::train {
namespace {

double as_d(int64_t v) { return static_cast<double>(v); }

// Weight matrices of one expert MLP (elements).
double expert_mlp_params(const model::ModelSpec& model) {
  const double mats = model.mlp == model::Mlp::kSwiGlu ? 3.0 : 2.0;
  return mats * as_d(model.hidden) * as_d(model.moe.expert_ffn) * as_d(model.moe.experts);
}

struct StateBytes {
  double weights, gradients, optimizer;  // per parameter
};

// Bytes per parameter by ZeRO stage for `shard` ranks sharing the states (Megatron-LM
// docs/user-guide/features/dist_optimizer.md: bf16 params with fp32 grads are 6 + 12/d).
StateBytes state_bytes(const Plan& plan, double shard) {
  const bool fp32 = plan.precision == hw::Precision::kFp32 || plan.precision == hw::Precision::kTf32;
  const double w = fp32 ? 4 : 2, g = 4, o = fp32 ? 8 : 12;  // o: (fp32 master copy +) Adam m and v
  return {plan.zero_stage >= 3 ? w / shard : w, plan.zero_stage >= 2 ? g / shard : g,
          plan.zero_stage >= 1 ? o / shard : o};
}

}  // namespace

double layer_activation_bytes(const model::ModelSpec& model, int64_t micro_batch, int64_t seq, int64_t tp,
                              bool sequence_parallel, Recompute recompute, int64_t window, bool flash_attention) {
  const double sbh = as_d(seq) * as_d(micro_batch) * as_d(model.hidden);
  const double t = as_d(tp);
  const double sp_div = sequence_parallel ? t : 1.0;
  if (recompute == Recompute::kFull) return 2.0 * sbh / sp_div;

  const double h = as_d(model.hidden);
  const double g = model.kv_heads > 0 && model.heads > 0 ? as_d(model.kv_heads) / as_d(model.heads) : 1.0;
  double mlp = 0;
  const double per_ffn = model.mlp == model::Mlp::kSwiGlu ? 6.0 : 4.0;
  if (model.is_moe()) {
    mlp = per_ffn * as_d(model.moe.expert_ffn) / h * as_d(model.moe.top_k + model.moe.shared_experts);
  } else {
    mlp = per_ffn * as_d(model.ffn) / h;
  }
  // Q (2) and the output-projection input (2) are always full width; K and V (2 each) shrink
  // with GQA.
  const double split = 4.0 + 4.0 * g + mlp;
  double per_sbh = 10.0 / sp_div + split / t;
  const int64_t window_eff = window > 0 ? std::min(window, seq) : (model.sliding_window > 0 ? std::min(model.sliding_window, seq) : seq);
  double core = 0;  // bytes of the attention core (softmax output, dropout mask and output)
  if (flash_attention) {
    core = 4.0 * as_d(model.heads) * as_d(seq) * as_d(micro_batch) / t;  // fp32 log-sum-exp per row
  } else if (recompute == Recompute::kNone) {
    core = 5.0 * as_d(model.heads) * as_d(seq) * as_d(window_eff) * as_d(micro_batch) / t;
  }
  return per_sbh * sbh + core;
}

double inflight_layer_microbatches(const model::ModelSpec& model, const Plan& plan, int64_t stage) {
  const double layers = as_d(plan.stage_layers(model.layers, stage));
  const int64_t p = plan.pp, m = plan.micro_batches(), v = plan.chunks();
  switch (plan.schedule) {
    case Schedule::kGpipe: return as_d(m) * layers;
    case Schedule::k1F1B: return as_d(std::min(p - stage, m)) * layers;
    case Schedule::kInterleaved: {
      const int64_t chunks = std::min(2 * (p - stage - 1) + (v - 1) * p + 1, m * v);
      return as_d(chunks) * layers / as_d(v);
    }
  }
  return layers;
}

ActivationMemory stage_activations(const model::ModelSpec& model, const Plan& plan, int64_t stage) {
  ActivationMemory a;
  const Recompute rc = plan.stage_recompute(stage);
  const double per_layer = layer_activation_bytes(model, plan.micro_batch, plan.seq, plan.tp, plan.sequence_parallel,
                                                  rc, plan.sliding_window, plan.flash_attention);
  a.layers = per_layer * inflight_layer_microbatches(model, plan, stage);
  const double sb = as_d(plan.seq) * as_d(plan.micro_batch);
  const double sbh = sb * as_d(model.hidden);
  const double t = as_d(plan.tp);
  if (stage == 0) {
    const int64_t p = plan.pp, m = plan.micro_batches(), v = plan.chunks();
    double inflight = 0;
    switch (plan.schedule) {
      case Schedule::kGpipe: inflight = as_d(m); break;
      case Schedule::k1F1B: inflight = as_d(std::min(p, m)); break;
      case Schedule::kInterleaved: inflight = as_d(p) * (1.0 + as_d(p - 1) / as_d(p * v)); break;
    }
    a.embedding = (8.0 * sb + sbh) * inflight / t;
  }
  if (stage == plan.pp - 1 && model.vocab > 0) {
    a.output = 4.0 * sbh * (1.0 + as_d(model.vocab) / as_d(model.hidden)) / t;
  }
  return a;
}

double stage_parameters(const model::ModelSpec& model, const Plan& plan, int64_t stage) {
  const model::ParameterCount pc = model::parameter_count(model);
  const double t = as_d(plan.tp);
  const double layers = as_d(plan.stage_layers(model.layers, stage));
  double per_layer = pc.per_layer / t;
  if (model.is_moe() && plan.ep > 1) {
    const double experts = expert_mlp_params(model);
    per_layer = (pc.per_layer - experts) / t + experts / t / as_d(plan.ep);
  }
  double params = layers * per_layer;
  if (stage == 0) params += pc.embedding / t;
  if (stage == plan.pp - 1) {
    // A tied head on a later stage keeps its own copy of the word embedding (Megatron-LM).
    const bool tied_copy = model.tied_embeddings && plan.pp > 1;
    params += (pc.head + (tied_copy ? as_d(model.vocab) * as_d(model.hidden) : 0.0)) / t;
  }
  return params;
}

Memory stage_memory(const model::ModelSpec& model, const Plan& plan, int64_t stage) {
  Memory mem;
  const double params = stage_parameters(model, plan, stage);
  double expert_params = 0;
  if (model.is_moe()) {
    expert_params = as_d(plan.stage_layers(model.layers, stage)) * expert_mlp_params(model) / as_d(plan.tp) /
                    as_d(plan.ep);
  }
  const double dense_params = params - expert_params;
  const StateBytes dense = state_bytes(plan, as_d(plan.dp));
  const StateBytes expert = state_bytes(plan, as_d(std::max<int64_t>(1, plan.dp / plan.ep)));
  mem.weights = dense_params * dense.weights + expert_params * expert.weights;
  mem.gradients = dense_params * dense.gradients + expert_params * expert.gradients;
  mem.optimizer = dense_params * dense.optimizer + expert_params * expert.optimizer;
  mem.activations = stage_activations(model, plan, stage).total();

  const double sbh = as_d(plan.seq) * as_d(plan.micro_batch) * as_d(model.hidden);
  if (plan.sequence_parallel && plan.tp > 1) mem.buffers += 2.0 * sbh;  // gathered GEMM input
  if (plan.zero_stage >= 3) {
    const double layers = as_d(plan.stage_layers(model.layers, stage));
    mem.buffers += 2.0 * 2.0 * params / std::max(1.0, layers);  // current and prefetched layer, 16-bit
  }
  return mem;
}

std::vector<Memory> plan_memory(const model::ModelSpec& model, const Plan& plan) {
  std::vector<Memory> out;
  out.reserve(static_cast<size_t>(plan.pp));
  for (int64_t i = 0; i < plan.pp; ++i) out.push_back(stage_memory(model, plan, i));
  return out;
}

}  // namespace mlsys::train
