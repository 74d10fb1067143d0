#include "mlsys/train/costs.h"

#include <algorithm>

#include "mlsys/model/ops.h"
#include "mlsys/train/memory.h"

namespace mlsys::train {
namespace {

double as_d(int64_t v) { return static_cast<double>(v); }

int64_t element_bytes(const Plan& plan) {
  return plan.precision == hw::Precision::kFp32 || plan.precision == hw::Precision::kTf32 ? 4 : 2;
}

// The model with the plan's model-side switches applied (sliding window).
model::ModelSpec effective_model(const model::ModelSpec& m, const Plan& plan) {
  model::ModelSpec out = m;
  if (plan.sliding_window > 0) out.sliding_window = plan.sliding_window;
  return out;
}

model::Shape shape_for(const Plan& plan, bool causal_half) {
  return {.batch = plan.micro_batch, .seq = plan.seq, .context = 0, .tp = plan.tp,
          .sequence_parallel = plan.sequence_parallel, .bytes_per_element = element_bytes(plan),
          .causal_half = causal_half};
}

// Megatron-LM before FlashAttention materialised the attention scores: QK^T writes them,
// the fused scale-mask-softmax reads and writes them, dropout reads them and writes its output
// and a one-byte mask, and AV reads them again: 13 bytes per score forward, on HBM. This op
// adds that traffic (model/'s attention op is the fused kernel, which keeps scores on chip).
model::Op unfused_softmax_op(const model::ModelSpec& m, const Plan& plan) {
  const double heads = std::max(1.0, as_d(m.heads) / as_d(plan.tp));
  const int64_t keys = m.sliding_window > 0 ? std::min(m.sliding_window, plan.seq) : plan.seq;
  const double scores = as_d(plan.micro_batch) * as_d(plan.seq) * as_d(keys) * heads;
  model::Op op;
  op.name = "softmax_dropout";
  op.kind = model::OpKind::kElementwise;
  op.flops = 5.0 * scores;
  op.bytes = 13.0 * scores;
  op.recomputed_by_selective = true;
  return op;
}

struct OpsTime {
  Time forward, backward, selective_forward, gemm_forward, gemm_backward;
};

OpsTime time_ops(const std::vector<model::Op>& ops, const model::ComputeModel& compute) {
  OpsTime t;
  for (const model::Op& op : ops) {
    const model::OpTime ot = compute.time(op);
    t.forward += ot.forward;
    t.backward += ot.backward;
    if (op.recomputed_by_selective) t.selective_forward += ot.forward;
    if (op.kind == model::OpKind::kGemm) {
      t.gemm_forward += ot.forward;
      t.gemm_backward += ot.backward;
    }
  }
  return t;
}

// TP communication of one pass through a layer: `pairs` collectives of the b*s*h activation
// (all-reduce, or all-gather + reduce-scatter with SP).
Time tp_pass_comm(const Plan& plan, const model::ModelSpec& m, const CommModel& comm, int64_t pairs) {
  if (plan.tp <= 1) return Time::zero();
  const Bytes act = B(plan.micro_batch * plan.seq * m.hidden * element_bytes(plan));
  const Group g{.ranks = plan.tp, .per_node = comm.cluster().gpus_per_node};
  Time one = plan.sequence_parallel ? comm.collective(coll::Collective::kAllgather, g, act) +
                                          comm.collective(coll::Collective::kReduceScatter, g, act)
                                    : comm.collective(coll::Collective::kAllreduce, g, act);
  return one * pairs;
}

// MegaScale's TP overlap: the all-gather is fused with the following column-parallel GEMM and the
// reduce-scatter with the row-parallel one, both cut into tp chunks and pipelined; the first
// chunk's communication cannot hide, and the rest hides behind the GEMMs it overlaps.
Time tp_exposed(const Plan& plan, Time comm, Time gemm) {
  if (!plan.overlap_tp || plan.tp <= 1) return comm;
  const Time first = comm / static_cast<double>(plan.tp);
  const Time rest = comm - first;
  return first + std::max(Time::zero(), rest - gemm);
}

}  // namespace

Tier pp_tier(const Cluster& cluster, const Plan& plan, int64_t stage) {
  const int64_t stride = plan.tp * plan.dp;  // ranks between consecutive stages
  const int64_t a = stage * stride / cluster.gpus_per_node;
  const int64_t b = (stage + 1) * stride / cluster.gpus_per_node;
  return a == b ? Tier::kNvLink : Tier::kNic;
}

Time StageCost::forward() const {
  Time t;
  for (const ChunkCost& c : chunks) t += c.forward;
  return t;
}

Time StageCost::backward() const {
  Time t;
  for (const ChunkCost& c : chunks) t += c.backward;
  return t;
}

Result<LayerCost> layer_cost(const model::ModelSpec& model_in, const Cluster& cluster, const Plan& plan,
                             Recompute recompute, const model::ComputeModel& compute, const CommModel& comm) {
  (void)cluster;
  const model::ModelSpec m = effective_model(model_in, plan);
  std::vector<model::Op> ops = model::layer_ops(m, shape_for(plan, plan.flash_attention));
  if (!plan.flash_attention) ops.push_back(unfused_softmax_op(m, plan));
  const OpsTime t = time_ops(ops, compute);

  const int64_t pairs = plan.parallel_block ? 1 : 2;
  const Time tp_pass = tp_pass_comm(plan, m, comm, pairs);
  LayerCost c;
  c.forward_compute = t.forward;
  c.backward_compute = t.backward;
  c.tp_forward = tp_exposed(plan, tp_pass, t.gemm_forward);
  c.tp_backward = tp_exposed(plan, tp_pass, t.gemm_backward);
  if (m.is_moe() && plan.ep > 1) {
    // Dispatch and combine: every routed token's hidden vector leaves and comes back.
    const Bytes routed = B(plan.micro_batch * plan.seq * m.hidden * element_bytes(plan) * m.moe.top_k /
                           (plan.sequence_parallel ? plan.tp : 1));
    const int64_t per_node = std::max<int64_t>(1, comm.cluster().gpus_per_node / plan.tp);
    const Time a2a = comm.collective(coll::Collective::kAlltoall, {.ranks = plan.ep, .per_node = per_node}, routed);
    c.ep_forward = a2a * 2;
    c.ep_backward = a2a * 2;
  }
  switch (recompute) {
    case Recompute::kNone: break;
    case Recompute::kSelective: c.recompute = t.selective_forward; break;
    case Recompute::kFull:
      c.tp_recompute = c.tp_forward;
      c.recompute = t.forward + c.tp_recompute + c.ep_forward;
      break;
  }
  c.forward = c.forward_compute + c.tp_forward + c.ep_forward;
  c.backward = c.backward_compute + c.tp_backward + c.ep_backward;
  return c;
}

Result<PlanCosts> plan_costs(const model::ModelSpec& model_in, const Cluster& cluster, const Plan& plan,
                             const model::ComputeModel& compute, const CommModel& comm,
                             model::FlopConvention convention) {
  const model::ModelSpec m = effective_model(model_in, plan);
  PlanCosts out;
  const int64_t v = plan.chunks();

  // Per-layer costs for each recompute mode in use (layer costs do not depend on the stage).
  LayerCost by_mode[3];
  bool have[3] = {false, false, false};
  auto cost_for = [&](Recompute r) -> Result<LayerCost> {
    const int i = static_cast<int>(r);
    if (!have[i]) {
      MLSYS_ASSIGN_OR_RETURN(by_mode[i], layer_cost(m, cluster, plan, r, compute, comm));
      have[i] = true;
    }
    return by_mode[i];
  };

  const model::Shape shape = shape_for(plan, plan.flash_attention);
  const OpsTime embed = time_ops(model::embedding_ops(m, shape), compute);
  const OpsTime head = time_ops(model::head_ops(m, shape), compute);
  // The vocabulary-parallel embedding sums partial rows (an all-reduce, or a reduce-scatter into
  // the sequence-parallel region); the head all-gathers its input with SP.
  Time embed_tp, head_tp;
  if (plan.tp > 1) {
    const Bytes act = B(plan.micro_batch * plan.seq * m.hidden * element_bytes(plan));
    const Group g{.ranks = plan.tp, .per_node = cluster.gpus_per_node};
    embed_tp = comm.collective(plan.sequence_parallel ? coll::Collective::kReduceScatter : coll::Collective::kAllreduce,
                               g, act);
    head_tp = plan.sequence_parallel ? comm.collective(coll::Collective::kAllgather, g, act) : Time::zero();
  }

  const Bytes p2p_bytes = B(plan.micro_batch * plan.seq * m.hidden * element_bytes(plan) /
                            (plan.sequence_parallel ? plan.tp : 1));
  for (int64_t i = 0; i < plan.pp; ++i) {
    StageCost st;
    st.layers = plan.stage_layers(m.layers, i);
    MLSYS_ASSIGN_OR_RETURN(const LayerCost lc, cost_for(plan.stage_recompute(i)));
    const int64_t per_chunk = st.layers / v;
    for (int64_t c = 0; c < v; ++c) {
      ChunkCost cc;
      cc.layers = per_chunk;
      cc.forward = lc.forward * per_chunk;
      cc.recompute = lc.recompute * per_chunk;
      cc.backward = lc.backward * per_chunk + cc.recompute;
      cc.tp_exposed_forward = lc.tp_forward * per_chunk;
      cc.tp_exposed_backward = (lc.tp_backward + lc.tp_recompute) * per_chunk;
      cc.ep_exposed = (lc.ep_forward + lc.ep_backward) * per_chunk;
      if (i == 0 && c == 0) {
        cc.forward += embed.forward + embed_tp;
        cc.backward += embed.backward + embed_tp;
        cc.tp_exposed_forward += embed_tp;
        cc.tp_exposed_backward += embed_tp;
      }
      if (i == plan.pp - 1 && c == v - 1) {
        cc.forward += head.forward + head_tp;
        cc.backward += head.backward + head_tp;
        cc.tp_exposed_forward += head_tp;
        cc.tp_exposed_backward += head_tp;
      }
      st.chunks.push_back(cc);
    }
    if (i + 1 < plan.pp) st.p2p_next = comm.p2p(pp_tier(cluster, plan, i), p2p_bytes);

    // DP: the stage's gradients (fp32 buffers, as Megatron-LM accumulates them) and, from
    // ZeRO-1 on, the all-gather of the updated 16-bit parameters.
    const double params = stage_parameters(m, plan, i);
    const int64_t dp_per_node = std::max<int64_t>(1, cluster.gpus_per_node / plan.tp);
    const Group dpg{.ranks = plan.dp, .per_node = dp_per_node};
    const Bytes grads = B(static_cast<int64_t>(params * 4.0));
    const Bytes weights = B(static_cast<int64_t>(params * static_cast<double>(element_bytes(plan))));
    if (plan.zero_stage == 0) {
      st.dp_reduce = comm.collective(coll::Collective::kAllreduce, dpg, grads);
    } else {
      st.dp_reduce = comm.collective(coll::Collective::kReduceScatter, dpg, grads);
      st.dp_gather = comm.collective(coll::Collective::kAllgather, dpg, weights);
    }
    if (plan.zero_stage >= 3) st.zero3_gather = st.dp_gather / static_cast<double>(v);
    const double shard = plan.zero_stage >= 1 ? params / as_d(plan.dp) : params;
    st.optimizer = compute.optimizer_step(shard);
    out.stages.push_back(std::move(st));
  }

  // FLOPs: model FLOPs by the convention; recompute adds the forward FLOPs of what is redone
  // (from the op list under the same attention convention).
  out.model_flops = model::model_flops_per_iteration(m, plan.global_batch, plan.seq, convention);
  const bool half = convention == model::FlopConvention::kMegatron;
  const std::vector<model::Op> ops = model::layer_ops(m, shape_for(plan, half));
  double fwd = 0, selective = 0;
  for (const model::Op& op : ops) {
    // Model FLOPs count only the matrix work; so does the recompute term.
    if (op.kind != model::OpKind::kGemm && op.kind != model::OpKind::kAttention) continue;
    fwd += op.flops;
    if (op.recomputed_by_selective) selective += op.flops;
  }
  const double micro_batches_total = as_d(plan.global_batch) / as_d(plan.micro_batch);
  double recompute_flops = 0;
  for (int64_t i = 0; i < plan.pp; ++i) {
    const double layers = as_d(plan.stage_layers(m.layers, i));
    const Recompute r = plan.stage_recompute(i);
    const double per_layer = r == Recompute::kFull ? fwd : (r == Recompute::kSelective ? selective : 0.0);
    recompute_flops += per_layer * as_d(plan.tp) * layers * micro_batches_total;
  }
  out.hardware_flops = out.model_flops + recompute_flops;
  out.reported_flops = convention == model::FlopConvention::kSc21 ? out.hardware_flops : out.model_flops;
  return out;
}

}  // namespace mlsys::train
