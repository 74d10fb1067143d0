#include "mlsys/model/ops.h"

#include <algorithm>
#include <utility>

namespace mlsys::model {

std::string_view to_string(OpKind kind) {
  switch (kind) {
    case OpKind::kGemm: return "gemm";
    case OpKind::kAttention: return "attention";
    case OpKind::kNorm: return "norm";
    case OpKind::kElementwise: return "elementwise";
    case OpKind::kEmbedding: return "embedding";
    case OpKind::kOptimizer: return "optimizer";
  }
  return "?";
}

namespace {

// FLOPs per element of the non-matmul ops. They only matter for the (rare) case where such an
// op is not memory-bound; model_flops_per_iteration() never counts them (neither convention does).
constexpr double kNormFlopsPerElement = 5;       // mean, variance, scale, shift
constexpr double kGeluFlopsPerElement = 8;       // tanh approximation
constexpr double kSwiGluFlopsPerElement = 5;     // sigmoid, multiply by x, multiply by up
constexpr double kResidualFlopsPerElement = 2;   // dropout scale + add
constexpr double kRopeFlopsPerElement = 3;       // rotate pairs: 2 multiplies + 1 add
constexpr double kSoftmaxCeFlopsPerElement = 5;  // max, exp, sum, log, gather
constexpr double kLogitBytes = 4;                // fp32 logits kept for the cross-entropy backward
constexpr double kTokenIdBytes = 8;              // int64 token ids
constexpr double kMaskBytes = 1;                 // dropout masks are bytes (Korthikanti)

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Per-rank view of a shape: tokens, heads and widths after the TP split.
struct Local {
  double tokens;     // b * s query tokens (GEMM rows; the full micro-batch on every TP rank)
  double sp_tokens;  // tokens a norm/dropout touches: tokens / t with sequence parallelism
  double e;          // bytes per element
  int64_t heads, kv_heads, ffn, expert_ffn, vocab;
  double tp;
  bool sp;
};

Local local_view(const ModelSpec& m, const Shape& s) {
  const int64_t tp = std::max<int64_t>(1, s.tp);
  Local l{};
  l.tokens = static_cast<double>(s.batch) * static_cast<double>(s.seq);
  l.sp = s.sequence_parallel && tp > 1;
  l.sp_tokens = l.sp ? l.tokens / static_cast<double>(tp) : l.tokens;
  l.e = static_cast<double>(s.bytes_per_element);
  l.heads = ceil_div(m.heads, tp);
  l.kv_heads = ceil_div(m.kv_heads, tp);  // fewer KV heads than ranks: each rank holds a copy
  l.ffn = ceil_div(m.ffn, tp);
  l.expert_ffn = ceil_div(m.moe.expert_ffn, tp);
  l.vocab = ceil_div(m.vocab, tp);
  l.tp = static_cast<double>(tp);
  return l;
}

Op gemm(std::string name, Stage stage, double m_rows, int64_t k, int64_t n, double e, bool bias) {
  Op op;
  op.name = std::move(name);
  op.kind = OpKind::kGemm;
  op.stage = stage;
  op.m = static_cast<int64_t>(m_rows);
  op.k = k;
  op.n = n;
  const double kd = static_cast<double>(k);
  const double nd = static_cast<double>(n);
  op.flops = 2.0 * m_rows * kd * nd;
  op.params = kd * nd + (bias ? nd : 0.0);
  op.bytes = e * (m_rows * kd + op.params + m_rows * nd);
  return op;
}

Op norm_op(std::string name, Stage stage, const ModelSpec& m, const Local& l, int64_t width) {
  Op op;
  op.name = std::move(name);
  op.kind = OpKind::kNorm;
  op.stage = stage;
  const double elements = l.sp_tokens * static_cast<double>(width);
  op.flops = kNormFlopsPerElement * elements;
  op.params = (m.norm == Norm::kLayerNorm ? 2.0 : 1.0) * static_cast<double>(width);
  op.bytes = l.e * (2.0 * elements + op.params);
  op.saved_bytes = l.e * elements;  // its input
  return op;
}

Op elementwise(std::string name, Stage stage, double elements_in, double elements_out, double flops_per_element,
               double e) {
  Op op;
  op.name = std::move(name);
  op.kind = OpKind::kElementwise;
  op.stage = stage;
  op.flops = flops_per_element * elements_out;
  op.bytes = e * (elements_in + elements_out);
  return op;
}

/// Mean keys each query attends to: `context` keys with the query block at its end, restricted
/// by causality (key position <= query position, counted as the continuous average so a full
/// causal square is s/2, as Megatron counts it) and by a sliding window.
double attended_keys(const ModelSpec& m, const Shape& s) {
  const double q = static_cast<double>(s.seq);
  // A context shorter than the query block cannot happen; treat it as the block itself.
  const double c = std::max(q, static_cast<double>(s.context));
  const double w = m.sliding_window > 0 ? static_cast<double>(m.sliding_window) : c;
  if (!m.causal || !s.causal_half) return std::min(c, w);
  // Query positions run over [c - q, c]; query at position x sees min(x, w) keys.
  const double lo = c - q;
  if (w >= c) return c - q / 2.0;
  if (w <= lo) return w;
  return ((w * w - lo * lo) / 2.0 + (c - w) * w) / q;
}

/// One MLP (or `copies` experts of the same shape, as one grouped GEMM per matrix over all their
/// `rows`). `input_saved` is what the first GEMM keeps of its input for backward.
void add_mlp(std::vector<Op>& ops, const ModelSpec& m, const Local& l, double rows, int64_t width, int64_t copies,
             const std::string& prefix, double input_saved) {
  const Stage st = Stage::kLayer;
  const int64_t h = m.hidden;
  const double n_copies = static_cast<double>(copies);
  const double act_elements = rows * static_cast<double>(width);
  auto scaled = [&](Op op) {
    op.params *= n_copies;
    op.bytes = l.e * (rows * static_cast<double>(op.k) + op.params + rows * static_cast<double>(op.n));
    return op;
  };
  if (m.mlp == Mlp::kSwiGlu) {
    Op gate = scaled(gemm(prefix + "gate", st, rows, h, width, l.e, m.bias));
    gate.saved_bytes = input_saved;
    ops.push_back(gate);
    ops.push_back(scaled(gemm(prefix + "up", st, rows, h, width, l.e, m.bias)));
    Op act = elementwise(prefix + "swiglu", st, 2.0 * act_elements, act_elements, kSwiGluFlopsPerElement, l.e);
    act.saved_bytes = 2.0 * l.e * act_elements;  // gate and up outputs
    ops.push_back(act);
  } else {
    Op up = scaled(gemm(prefix + "up", st, rows, h, width, l.e, m.bias));
    up.saved_bytes = input_saved;
    ops.push_back(up);
    Op act = elementwise(prefix + "gelu", st, act_elements, act_elements, kGeluFlopsPerElement, l.e);
    act.saved_bytes = l.e * act_elements;  // its input
    ops.push_back(act);
  }
  Op down = scaled(gemm(prefix + "down", st, rows, width, h, l.e, m.bias));
  down.saved_bytes = l.e * act_elements;  // its input
  ops.push_back(down);
}

}  // namespace

std::vector<Op> layer_ops(const ModelSpec& m, const Shape& s) {
  const Local l = local_view(m, s);
  const Stage st = Stage::kLayer;
  const int64_t h = m.hidden;
  const int64_t d = m.head_dim;
  const double hd = static_cast<double>(h);
  // Tensors a TP rank keeps whole without SP (LN inputs, GEMM inputs before the column split,
  // dropout masks) shrink by t with SP: Korthikanti's 10 sbh term.
  const double replicated = l.sp ? 1.0 / l.tp : 1.0;
  std::vector<Op> ops;

  // Attention block.
  ops.push_back(norm_op("ln1", st, m, l, h));
  const int64_t q_width = l.heads * d;
  const int64_t kv_width = l.kv_heads * d;
  Op qkv = gemm("qkv", st, l.tokens, h, q_width + 2 * kv_width, l.e, m.bias || m.qkv_bias);
  // Saved: its input (LN output) and its outputs Q, K, V, which the attention core reads in
  // backward (and recomputes from under selective recompute).
  qkv.saved_bytes = l.e * l.tokens * hd * replicated + l.e * l.tokens * static_cast<double>(q_width + 2 * kv_width);
  ops.push_back(qkv);
  if (m.qk_norm) {
    Op qk = norm_op("qk_norm", st, m, l, q_width + kv_width);
    qk.params = 2.0 * static_cast<double>(d);
    qk.saved_bytes = 0;  // recomputed from the saved Q, K inside the fused kernel
    qk.flops = kNormFlopsPerElement * l.tokens * static_cast<double>(q_width + kv_width);
    qk.bytes = 2.0 * l.e * l.tokens * static_cast<double>(q_width + kv_width);
    ops.push_back(qk);
  }
  if (m.position == Position::kRope) {
    const double elements = l.tokens * static_cast<double>(q_width + kv_width);
    ops.push_back(elementwise("rope", st, elements, elements, kRopeFlopsPerElement, l.e));
  }
  {
    Op attn;
    attn.name = "attn";
    attn.kind = OpKind::kAttention;
    attn.stage = st;
    const double keys = attended_keys(m, s);
    const double context = static_cast<double>(std::max(s.seq, s.context));
    const double heads = static_cast<double>(l.heads);
    // QK^T and AV: 2 FLOPs per MAC each, over the keys each query attends.
    attn.flops = 4.0 * l.tokens * keys * heads * static_cast<double>(d);
    // Fused (flash-style): read Q, K, V once, write O.
    attn.bytes = l.e * (2.0 * l.tokens * static_cast<double>(q_width) +
                        2.0 * static_cast<double>(s.batch) * context * static_cast<double>(kv_width));
    // Korthikanti: softmax output (2 bytes), its dropout mask (1) and the dropout output (2) per
    // score, a*s^2*b per rank: 5as^2b/t. Without dropout only the softmax output remains.
    const double scores = l.tokens * heads * context;
    attn.saved_bytes = m.dropout ? (2.0 * l.e + kMaskBytes) * scores : l.e * scores;
    attn.recomputed_by_selective = true;
    ops.push_back(attn);
  }
  Op proj = gemm("proj", st, l.tokens, q_width, h, l.e, m.bias);
  proj.saved_bytes = l.e * l.tokens * static_cast<double>(q_width);  // its input
  ops.push_back(proj);
  Op res1 = elementwise(m.dropout ? "dropout_add1" : "residual1", st, 2.0 * l.sp_tokens * hd, l.sp_tokens * hd,
                        kResidualFlopsPerElement, l.e);
  res1.saved_bytes = m.dropout ? kMaskBytes * l.tokens * hd * replicated : 0.0;
  ops.push_back(res1);

  // MLP block.
  ops.push_back(norm_op("ln2", st, m, l, h));
  if (m.is_moe()) {
    Op router = gemm("router", st, l.tokens, h, m.moe.experts, l.e, false);
    router.saved_bytes = l.e * l.tokens * hd * replicated;  // the LN output the experts share
    ops.push_back(router);
    // Each token visits top_k experts: the expert GEMMs see tokens * top_k rows in all.
    // Each token visits top_k experts: the expert GEMMs see tokens * top_k rows in all, and
    // keep the permuted copies of their input.
    const double routed = l.tokens * static_cast<double>(m.moe.top_k);
    add_mlp(ops, m, l, routed, l.expert_ffn, m.moe.experts, "expert_", l.e * routed * hd);
    if (m.moe.shared_experts > 0) {
      add_mlp(ops, m, l, l.tokens, l.expert_ffn * m.moe.shared_experts, 1, "shared_", 0.0);
    }
  } else {
    add_mlp(ops, m, l, l.tokens, l.ffn, 1, "mlp_", l.e * l.tokens * hd * replicated);
  }
  Op res2 = elementwise(m.dropout ? "dropout_add2" : "residual2", st, 2.0 * l.sp_tokens * hd, l.sp_tokens * hd,
                        kResidualFlopsPerElement, l.e);
  res2.saved_bytes = m.dropout ? kMaskBytes * l.tokens * hd * replicated : 0.0;
  ops.push_back(res2);
  return ops;
}

std::vector<Op> embedding_ops(const ModelSpec& m, const Shape& s) {
  const Local l = local_view(m, s);
  const Stage st = Stage::kEmbedding;
  const double hd = static_cast<double>(m.hidden);
  std::vector<Op> ops;
  if (m.is_vision()) {
    // The patch convolution as a GEMM: (patches x c*p*p) * (c*p*p x h).
    const double patches = static_cast<double>(s.batch) * static_cast<double>(s.seq - 1);
    const int64_t k = m.channels * m.patch_size * m.patch_size;
    Op patch = gemm("patch_embed", st, patches, k, m.hidden, l.e, false);
    patch.saved_bytes = l.e * patches * static_cast<double>(k);
    ops.push_back(patch);
    Op pos = elementwise("cls_pos_add", st, l.tokens * hd, l.tokens * hd, 1, l.e);
    pos.params = hd + static_cast<double>(s.seq) * hd;
    ops.push_back(pos);
    ops.push_back(norm_op("pre_ln", st, m, l, m.hidden));
    return ops;
  }
  Op embed;
  embed.name = "embed";
  embed.kind = OpKind::kEmbedding;
  embed.stage = st;
  // Vocabulary-parallel table: each rank holds V/t rows and gathers the tokens it owns; the
  // partial rows are summed across ranks (an all-reduce the caller times).
  embed.params = static_cast<double>(l.vocab) * hd;
  embed.bytes = l.e * 2.0 * l.tokens * hd + kTokenIdBytes * l.tokens;
  embed.saved_bytes = kTokenIdBytes * l.tokens;
  if (m.position == Position::kLearned) {
    embed.params += static_cast<double>(m.max_seq) * hd;
    embed.bytes += l.e * l.tokens * hd;
  }
  ops.push_back(embed);
  if (m.dropout) {
    Op drop = elementwise("embed_dropout", st, l.sp_tokens * hd, l.sp_tokens * hd, 1, l.e);
    drop.saved_bytes = kMaskBytes * l.sp_tokens * hd;
    ops.push_back(drop);
  }
  return ops;
}

std::vector<Op> head_ops(const ModelSpec& m, const Shape& s) {
  const Local l = local_view(m, s);
  const Stage st = Stage::kHead;
  const double hd = static_cast<double>(m.hidden);
  std::vector<Op> ops;
  ops.push_back(norm_op(m.is_vision() ? "post_ln" : "final_ln", st, m, l, m.hidden));
  if (m.vocab == 0 || !m.lm_head) return ops;
  Op head = gemm("lm_head", st, l.tokens, m.hidden, l.vocab, l.e, false);
  if (m.tied_embeddings) head.params = 0;  // the embedding holds the weight
  head.saved_bytes = l.e * l.tokens * hd;   // its input
  ops.push_back(head);
  const double logits = l.tokens * static_cast<double>(l.vocab);
  Op loss = elementwise("cross_entropy", st, logits, l.tokens, kSoftmaxCeFlopsPerElement, l.e);
  loss.flops = kSoftmaxCeFlopsPerElement * logits;
  loss.saved_bytes = kLogitBytes * logits;
  ops.push_back(loss);
  return ops;
}

// ---------------------------------------------------------------------------------------------
// Model FLOPs.

double model_flops_per_iteration(const ModelSpec& m, int64_t batch, int64_t seq, FlopConvention convention) {
  // Forward MACs per token, each counted as 2 FLOPs, forward + backward = 3 x forward:
  //   attention projections  h*a*d (Q) + 2*h*kv*d (K, V) + a*d*h (out)
  //   attention core         QK^T and AV over s keys (SC'21) or s/2 (Megatron causal)
  //   MLP                    (2 or 3 matrices) * h * ffn, times top_k (+ shared) for MoE
  //   logits                 h * V
  // Megatron's num_floating_point_operations leaves out the MoE router (h*E MACs), biases,
  // norms and activations; so does this.
  const double h = static_cast<double>(m.hidden);
  const double s = static_cast<double>(seq);
  const double ad = static_cast<double>(m.heads * m.head_dim);
  const double kvd = static_cast<double>(m.kv_heads * m.head_dim);
  const double matrices = m.mlp == Mlp::kSwiGlu ? 3.0 : 2.0;
  double ffn = static_cast<double>(m.ffn);
  if (m.is_moe()) {
    ffn = static_cast<double>(m.moe.top_k + m.moe.shared_experts) * static_cast<double>(m.moe.expert_ffn);
  }
  const bool half = convention == FlopConvention::kMegatron && m.causal;
  const double keys = half ? s / 2.0 : s;
  const double per_layer = 2.0 * h * ad + 2.0 * h * kvd + 2.0 * keys * ad + matrices * h * ffn;
  const double logits = m.lm_head ? h * static_cast<double>(m.vocab) : 0.0;
  const double forward_per_token = 2.0 * (static_cast<double>(m.layers) * per_layer + logits);
  return 3.0 * forward_per_token * static_cast<double>(batch) * s;
}

double sc21_flops_per_iteration(const ModelSpec& m, int64_t batch, int64_t seq) {
  const double b = static_cast<double>(batch);
  const double s = static_cast<double>(seq);
  const double l = static_cast<double>(m.layers);
  const double h = static_cast<double>(m.hidden);
  const double v = static_cast<double>(m.vocab);
  return 96.0 * b * s * l * h * h * (1.0 + s / (6.0 * h) + v / (16.0 * l * h));
}

}  // namespace mlsys::model
