// Per-GPU memory of a training plan by category: weights, gradients and optimizer states (with
// ZeRO 0-3), activations by Korthikanti et al. (arXiv 2205.05198) with the pipeline in-flight
// factor, and temporary buffers.
//
//   Plan plan{.tp = 8, .pp = 8, .dp = 1, .global_batch = 64, .seq = 2048};
//   std::vector<Memory> per_stage = plan_memory(model, plan);     // bytes, stage 0 first
//   double gib = per_stage[0].activations / (1 << 30);
#pragma once

#include <cstdint>
#include <vector>

#include "mlsys/model/model.h"
#include "mlsys/train/plan.h"

namespace mlsys::train {

/// Activation bytes one transformer layer keeps for backward, for one micro-batch on one TP rank
/// (16-bit activations, dropout masks one byte), Korthikanti Table 2 generalised:
///   no recompute:  s b h (10 + (4 + 4g + m_f)/t + 5 a c / (h t)),  the 10 divided by t with SP
///   selective:     the 5 a c / h term (attention core) dropped
///   full:          2 s b h (the layer input), divided by t with SP
/// where g = kv_heads / heads (1 without GQA), m_f = 4 ffn / h (6 ffn / h for SwiGLU; x top_k
/// expert_ffn for MoE), c = attended keys (s, or the sliding window). 10 + 24/t for GPT
/// (ffn = 4h), i.e. Megatron-LM's 18 + 4 ffn / h with SP and selective recompute.
/// `flash_attention` drops the s^2 term as selective recompute does (FlashAttention keeps only
/// the softmax statistics, 4 a s b bytes).
double layer_activation_bytes(const model::ModelSpec& model, int64_t micro_batch, int64_t seq, int64_t tp,
                              bool sequence_parallel, Recompute recompute, int64_t window = 0,
                              bool flash_attention = false);

/// Layer-micro-batches whose activations stage `stage` holds at its peak (the in-flight
/// factor): GPipe m x layers; 1F1B min(p - i, m) x layers; interleaved with v chunks
/// min(2 (p - i - 1) + (v - 1) p + 1, m v) x layers / v, which is L (1 + (p - 1)/(p v)) on stage 0.
double inflight_layer_microbatches(const model::ModelSpec& model, const Plan& plan, int64_t stage);

struct ActivationMemory {
  double layers = 0;     // transformer layers, in-flight factor applied
  double embedding = 0;  // first stage: embedding inputs (8 s b) and dropout mask (s b h), per in-flight micro-batch
  double output = 0;     // last stage: output layer and cross-entropy inputs 4 s b h (1 + V/h)
  double total() const { return layers + embedding + output; }
};

/// Activations of stage `stage` (bytes, one GPU). For stage 0 of a 1F1B/interleaved plan this is
/// Megatron-LM's theoretical_memory_usage; `layers` alone is Korthikanti Fig. 1's figure.
ActivationMemory stage_activations(const model::ModelSpec& model, const Plan& plan, int64_t stage);

/// Parameters (elements) one GPU of stage `stage` holds: its layers / tp (experts also / ep),
/// plus the embedding on the first stage and the LM head (or the tied embedding copy) on the last.
double stage_parameters(const model::ModelSpec& model, const Plan& plan, int64_t stage);

/// Memory of one GPU of stage `stage`: model states by ZeRO stage (bf16/fp16 parameters with
/// fp32 gradients and Adam: 2 + 4 + 12 bytes per parameter, the optimizer sharded over dp from
/// ZeRO-1, gradients from ZeRO-2, parameters from ZeRO-3; fp32 training 4 + 4 + 8), activations
/// and buffers (the SP all-gather workspace 2 s b h, and two gathered layers under ZeRO-3).
Memory stage_memory(const model::ModelSpec& model, const Plan& plan, int64_t stage);

/// stage_memory for every stage, stage 0 first.
std::vector<Memory> plan_memory(const model::ModelSpec& model, const Plan& plan);

}  // namespace mlsys::train
