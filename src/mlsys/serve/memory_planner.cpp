#include "mlsys/serve/memory_planner.h"

#include <cmath>

#include "mlsys/model/model.h"

namespace mlsys::serve {
namespace {

std::string gib(Bytes b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(b.count()) / 1073741824.0);
  return buf;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Weight elements of one transformer layer on one TP rank: QKV, output projection and MLP
// matrices (Vidur's param_counter: no norms, no biases).
double layer_matrix_params(const model::ModelSpec& m, int64_t tp) {
  const double h = static_cast<double>(m.hidden);
  const double q = static_cast<double>(m.heads * m.head_dim);
  const double kv = static_cast<double>(m.kv_heads * m.head_dim);
  const double ffn = static_cast<double>(m.is_moe() ? m.moe.expert_ffn * (m.moe.experts + m.moe.shared_experts) : m.ffn);
  const double mlp_mats = m.mlp == model::Mlp::kSwiGlu ? 3.0 : 2.0;
  return (h * (q + 2 * kv) + q * h + mlp_mats * h * ffn) / static_cast<double>(tp);
}

}  // namespace

Bytes kv_bytes(const model::ModelSpec& spec, int64_t tokens) {
  return B(2 * spec.layers * spec.kv_heads * spec.head_dim * 2 * tokens);
}

Result<KvPlan> plan_kv_cache(const model::ModelSpec& spec, Bytes gpu_memory, const KvPlanOptions& o) {
  const Location where{"--tp"};
  if (o.tp < 1 || o.pp < 1 || o.block_size < 1 || o.max_tokens < 1) {
    return invalid_input("tp, pp, block size and max tokens must be >= 1", {}, where);
  }
  if (spec.layers % o.pp != 0) {
    return invalid_input("pp " + std::to_string(o.pp) + " does not divide " + std::to_string(spec.layers) + " layers",
                         {}, {"--pp"});
  }
  KvPlan plan;
  const int64_t layers = spec.layers / o.pp;
  const int64_t elem = o.bytes_per_element;
  plan.kv_bytes_per_token = B(2 * elem * spec.head_dim * ceil_div(spec.kv_heads, o.tp) * layers);
  plan.block_bytes = plan.kv_bytes_per_token * o.block_size;
  const Bytes per_request = plan.kv_bytes_per_token * o.max_tokens;
  const std::string where_text = spec.name + " at TP" + std::to_string(o.tp) + " PP" + std::to_string(o.pp);

  if (o.mode == MemoryPlanMode::kVidur) {
    plan.usable = gpu_memory * (1.0 - o.margin);
    plan.weights = B(std::llround(layer_matrix_params(spec, o.tp) * static_cast<double>(layers))) * elem;
    plan.arithmetic = gib(gpu_memory) + " x (1 - " + std::to_string(o.margin).substr(0, 4) + " margin) = " +
                      gib(plan.usable) + " usable; weights " + gib(plan.weights) + "; KV per " +
                      std::to_string(o.max_tokens) + "-token request " + gib(per_request);
    if (plan.weights >= plan.usable) {
      return invalid_input(where_text + " does not fit: " + plan.arithmetic + " (weights exceed usable memory)",
                           "raise --tp or --pp, or use a GPU with more memory", where);
    }
    plan.max_batch = (plan.usable - plan.weights).count() / per_request.count();
    if (plan.max_batch < 1) {
      return invalid_input(where_text + " leaves no room for one " + std::to_string(o.max_tokens) +
                               "-token request: " + plan.arithmetic,
                           "raise --tp or --pp, lower --max-tokens, or use a GPU with more memory", where);
    }
    plan.num_blocks = plan.max_batch * o.pp * o.max_tokens / o.block_size;
    plan.arithmetic += "; max batch floor((" + gib(plan.usable) + " - " + gib(plan.weights) + ") / " + gib(per_request) +
                       ") = " + std::to_string(plan.max_batch) + "; blocks " + std::to_string(plan.max_batch) + " x " +
                       std::to_string(o.pp) + " x " + std::to_string(o.max_tokens) + " / " +
                       std::to_string(o.block_size) + " = " + std::to_string(plan.num_blocks);
    return plan;
  }

  plan.usable = gpu_memory * o.utilisation;
  const model::ParameterCount params = model::parameter_count(spec);
  // The embedding sits on the first stage and the head on the last; a uniform share is close
  // enough for the block count and never under-counts with pp = 1.
  const double per_gpu = (params.layers / static_cast<double>(o.pp) + (params.embedding + params.head)) /
                         static_cast<double>(o.tp);
  plan.weights = B(std::llround(per_gpu)) * elem;
  const double t = static_cast<double>(o.max_batched_tokens);
  const double act = t * (static_cast<double>(spec.ffn) * 2.0 / static_cast<double>(o.tp) +
                          3.0 * static_cast<double>(spec.hidden)) +
                     t * static_cast<double>(spec.vocab) / static_cast<double>(o.tp);
  plan.activations = B(std::llround(act)) * elem;
  plan.arithmetic = gib(gpu_memory) + " x " + std::to_string(o.utilisation).substr(0, 4) + " utilisation = " +
                    gib(plan.usable) + "; weights " + gib(plan.weights) + "; activation peak " + gib(plan.activations);
  const Bytes left = plan.usable - plan.weights - plan.activations;
  if (left.count() < plan.block_bytes.count()) {
    return invalid_input(where_text + " does not fit: " + plan.arithmetic + " leaves " + gib(left) + " for the KV cache",
                         "raise --tp or --pp, or use a GPU with more memory", where);
  }
  plan.num_blocks = left.count() / plan.block_bytes.count();
  plan.max_batch = plan.num_blocks * o.block_size / o.max_tokens;
  plan.arithmetic += "; KV " + gib(left) + " / " + std::to_string(plan.block_bytes.count()) + " B per block = " +
                     std::to_string(plan.num_blocks) + " blocks";
  return plan;
}

}  // namespace mlsys::serve
