// The operator list of one transformer layer (plus embedding and head) for a given shape: FLOPs,
// bytes moved and saved activations per operator, forward pass. Backward of a GEMM is 2x its
// forward FLOPs (input and weight gradients); of other ops ~1x-2x as noted per kind.
//
// Training and serving both describe work as a Shape and ask for ops:
//   Shape s{.batch = 1, .seq = 2048, .tp = 8, .sequence_parallel = true};
//   for (const Op& op : layer_ops(model, s)) ...      // qkv, attention core, out proj, mlp ...
// Serving passes query and context tokens separately (prefill chunk or decode step).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlsys/model/model.h"

namespace mlsys::model {

enum class OpKind {
  kGemm,         // dense matmul: qkv, out proj, mlp up/gate/down, lm head, router
  kAttention,    // QK^T, softmax, AV (flash-attention style: one fused op)
  kNorm,         // layernorm / rmsnorm
  kElementwise,  // activation, dropout, residual add, rotary
  kEmbedding,    // gather
  kOptimizer,    // optimizer step over the parameters (Adam)
};
std::string_view to_string(OpKind kind);

enum class Stage { kEmbedding, kLayer, kHead };

struct Op {
  std::string name;        // "qkv", "attn", "proj", "mlp_up", "mlp_down", "ln1", ...
  OpKind kind = OpKind::kGemm;
  Stage stage = Stage::kLayer;
  double flops = 0;        // forward FLOPs on one TP rank (2 per MAC)
  double bytes = 0;        // forward bytes read + written on one TP rank (weights + activations)
  double params = 0;       // weight elements held by one TP rank (all experts)
  double saved_bytes = 0;  // activation bytes kept for backward (Korthikanti accounting)
  // GEMM shape on one TP rank (m x k) * (k x n); zero for other kinds.
  int64_t m = 0, n = 0, k = 0;
  bool recomputed_by_selective = false;  // the attention core that selective recompute drops
};

/// How the work is shaped: tokens, parallel split and precision.
struct Shape {
  int64_t batch = 1;        // sequences in the micro-batch (training) or batch (serving)
  int64_t seq = 0;          // query tokens per sequence (training: sequence length)
  int64_t context = 0;      // tokens attended: cached prefix + this query block, the block at
                            // its end (decode: seq 1, context = tokens so far); 0: = seq
  int64_t tp = 1;           // tensor-parallel degree (heads, ffn and vocab split)
  bool sequence_parallel = false;  // norms/dropout split over tp (Korthikanti SP)
  int64_t bytes_per_element = 2;   // bf16/fp16
  bool causal_half = true;  // causal attention counts half the s^2 work (current Megatron);
                            // false: full square (SC'21 Eq. 3)
};

/// Ops of one transformer layer, forward pass, on one TP rank. Causal attention counts the mean
/// keys per query (s/2 for a full causal block with causal_half, context - s/2 for a block at the
/// end of a longer context, the window's average with sliding_window). saved_bytes sum to
/// Korthikanti's s*b*h*(34 + 5as/h) for a GPT layer (with dropout masks), divided as his Table 2
/// says under TP and SP; the op flagged recomputed_by_selective holds the 5as/h term.
std::vector<Op> layer_ops(const ModelSpec& model, const Shape& shape);
/// Embedding (token + position) and head (final norm + LM head + loss) ops.
std::vector<Op> embedding_ops(const ModelSpec& model, const Shape& shape);
std::vector<Op> head_ops(const ModelSpec& model, const Shape& shape);

/// FLOP counting conventions for MFU/HFU.
enum class FlopConvention {
  kSc21,      // Narayanan et al. SC'21 Eq. 3: full s^2 attention, 96 = 4x forward with recompute
  kMegatron,  // current Megatron-LM num_floating_point_operations: causal half, GQA, SwiGLU, MoE top-k
};

/// Model FLOPs of one training iteration (forward + backward, no recompute) for `batch`
/// sequences of `seq` tokens, whole model (all TP/PP ranks).
double model_flops_per_iteration(const ModelSpec& model, int64_t batch, int64_t seq,
                                 FlopConvention convention);
/// SC'21 Eq. 3 exactly: F = 96 B s L h^2 (1 + s/(6h) + V/(16 L h)) (hardware FLOPs with full
/// recompute), for GPT shapes.
double sc21_flops_per_iteration(const ModelSpec& model, int64_t batch, int64_t seq);

}  // namespace mlsys::model
