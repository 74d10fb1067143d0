// KV-cache memory planning (how many paged-KV blocks fit on a GPU next to the weights) and the
// block allocator the schedulers share.
//
//   MLSYS_ASSIGN_OR_RETURN(KvPlan plan, plan_kv_cache(spec, GiB(80), {.tp = 1, .max_tokens = 4096}));
//   plan.num_blocks;                       // 7,424 for Llama-2-7B on an 80 GiB A100 (Vidur)
//   BlockAllocator kv(plan.num_blocks, /*watermark_fraction=*/0.01);
#pragma once

#include <cstdint>
#include <string>

#include "mlsys/core/check.h"
#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/model/model.h"

namespace mlsys::serve {

enum class MemoryPlanMode {
  /// Vidur's memory_planner.py: usable = memory · (1 − margin); weights = per-layer QKV, O and MLP
  /// matrices (no embeddings), TP-sharded, layers/PP, 2 B each; KV per request at max_tokens;
  /// max_batch = floor((usable − weights) / KV per request); blocks = max_batch · PP · max_tokens /
  /// block_size.
  kVidur,
  /// vLLM's profile-based rule: blocks = floor((memory · utilisation − weights (embeddings and
  /// head included) − activation peak) / block bytes); the activation peak is estimated as one
  /// forward pass of max_batched_tokens (fp16 MLP intermediate + QKV + logits).
  kVllm,
};

struct KvPlanOptions {
  int64_t tp = 1;
  int64_t pp = 1;
  int64_t block_size = 16;         // tokens per block
  int64_t max_tokens = 4096;       // longest request (Vidur's max_tokens / vLLM's max_model_len)
  MemoryPlanMode mode = MemoryPlanMode::kVidur;
  double margin = 0.1;             // kVidur: memory_margin_fraction
  double utilisation = 0.9;        // kVllm: gpu_memory_utilization
  int64_t max_batched_tokens = 4096;  // kVllm: the profiling forward pass
  int64_t bytes_per_element = 2;
};

struct KvPlan {
  Bytes usable;             // memory the plan may use on one GPU
  Bytes weights;            // weights per GPU
  Bytes activations;        // activation peak reserved (kVllm)
  Bytes kv_bytes_per_token; // per GPU: 2 (K,V) · layers/PP · ceil(kv_heads/TP) · head_dim · 2 B
  Bytes block_bytes;
  int64_t max_batch = 0;    // kVidur: requests of max_tokens that fit; kVllm: blocks·bs / max_tokens
  int64_t num_blocks = 0;
  std::string arithmetic;   // the computation in words, for --help-style output and errors

  int64_t kv_tokens(int64_t block_size) const { return num_blocks * block_size; }
};

/// Errors (kInvalidInput) when the weights alone exceed the usable memory, or when not one
/// max_tokens request fits; the message shows the arithmetic, the hint the ways out.
Result<KvPlan> plan_kv_cache(const model::ModelSpec& spec, Bytes gpu_memory, const KvPlanOptions& options);

/// KV bytes of `tokens` tokens of the whole model (all layers and KV heads), 2 B per element:
/// what DistServe moves from the prefill to the decode instance.
Bytes kv_bytes(const model::ModelSpec& spec, int64_t tokens);

/// Counts paged-KV blocks (no identities, as Vidur and vLLM's block-count checks need).
class BlockAllocator {
 public:
  BlockAllocator(int64_t total, double watermark_fraction)
      : total_(total), free_(total), watermark_(static_cast<int64_t>(static_cast<double>(total) * watermark_fraction)) {}

  int64_t total() const { return total_; }
  int64_t free() const { return free_; }
  int64_t used() const { return total_ - free_; }
  int64_t watermark() const { return watermark_; }
  /// vLLM's can_allocate for a new sequence: keeps `watermark` blocks free.
  bool can_admit(int64_t blocks) const { return free_ - blocks >= watermark_; }
  /// A sequence of `blocks` can never be admitted, even with the cache empty.
  bool never_fits(int64_t blocks) const { return total_ - blocks < watermark_; }
  bool can_allocate(int64_t blocks) const { return blocks <= free_; }
  void allocate(int64_t blocks) {
    MLSYS_CHECK(blocks <= free_, "KV block over-allocation");
    free_ -= blocks;
  }
  void release(int64_t blocks) {
    free_ += blocks;
    MLSYS_CHECK(free_ <= total_, "KV block double free");
  }

 private:
  int64_t total_;
  int64_t free_;
  int64_t watermark_;
};

constexpr int64_t blocks_for(int64_t tokens, int64_t block_size) { return (tokens + block_size - 1) / block_size; }

}  // namespace mlsys::serve
