#include "mlsys/train/simulate.h"

#include <algorithm>
#include <string>
#include <vector>

#include "mlsys/sim/engine.h"
#include "mlsys/train/additive_roofline.h"
#include "mlsys/train/memory.h"

namespace mlsys::train {
namespace {

double as_d(int64_t v) { return static_cast<double>(v); }

thread_local uint64_t g_last_events = 0;

enum class TaskKind : uint8_t { kForward, kBackward, kSendForward, kSendBackward, kReduce, kOptimizer, kGather };
enum StreamIndex : int { kCompute = 0, kSendFwd = 1, kSendBwd = 2, kDp = 3, kStreams = 4 };
constexpr const char* kStreamNames[kStreams] = {"compute", "pp send fwd", "pp send bwd", "dp"};

struct Task {
  TaskKind kind = TaskKind::kForward;
  int32_t stage = 0;
  int32_t micro_batch = 0;
  int32_t chunk = 0;
  int32_t piece = -1;  // layer piece of a split backward; -1: whole
  int32_t pending = 0;
  Time duration;
  Time start, end;
  std::vector<int32_t> dependents;
};

class Runner;

// One in-order stream of one stage: runs its tasks one at a time, each once its inputs are in.
class StreamComponent final : public sim::Component {
 public:
  StreamComponent(Runner& runner, int stream_id) : Component("stream"), runner_(runner), id_(stream_id) {}
  void on_wake(sim::Engine& engine) override;
  std::string pending_work() const override;

  std::vector<int32_t> order;
  size_t head = 0;
  bool busy = false;

 private:
  Runner& runner_;
  int id_;
};

class Runner {
 public:
  std::vector<Task> tasks;
  std::vector<std::unique_ptr<StreamComponent>> streams;  // stage * kStreams + stream
  std::vector<int32_t> stream_of;                          // per task
  sim::Engine engine;

  int32_t add(TaskKind kind, int stage, int stream, Time duration, int mb = 0, int chunk = 0, int piece = -1) {
    Task t;
    t.kind = kind;
    t.stage = stage;
    t.micro_batch = mb;
    t.chunk = chunk;
    t.piece = piece;
    t.duration = std::max(duration, Time::zero());
    tasks.push_back(std::move(t));
    const int32_t id = static_cast<int32_t>(tasks.size() - 1);
    const int sid = stage * kStreams + stream;
    stream_of.push_back(sid);
    streams[static_cast<size_t>(sid)]->order.push_back(id);
    return id;
  }
  void depend(int32_t before, int32_t after) {
    if (before < 0 || after < 0) return;
    tasks[static_cast<size_t>(before)].dependents.push_back(after);
    ++tasks[static_cast<size_t>(after)].pending;
  }

  void finish(int32_t id) {
    for (int32_t d : tasks[static_cast<size_t>(id)].dependents) {
      Task& t = tasks[static_cast<size_t>(d)];
      if (--t.pending == 0) {
        StreamComponent& s = *streams[static_cast<size_t>(stream_of[static_cast<size_t>(d)])];
        if (!s.busy && s.head < s.order.size() && s.order[s.head] == d) engine.post(s);
      }
    }
  }
};

void StreamComponent::on_wake(sim::Engine& engine) {
  if (busy) {
    const int32_t id = order[head];
    runner_.tasks[static_cast<size_t>(id)].end = engine.now();
    busy = false;
    ++head;
    runner_.finish(id);
  }
  if (head < order.size()) {
    Task& t = runner_.tasks[static_cast<size_t>(order[head])];
    if (t.pending == 0) {
      t.start = engine.now();
      busy = true;
      engine.wake_after(*this, t.duration);
    }
  }
}

std::string StreamComponent::pending_work() const {
  if (head >= order.size()) return {};
  return "stream " + std::to_string(id_) + " waits for task " + std::to_string(order[head]);
}

struct Slot {
  bool forward;
  int mb;
  int chunk;
};

// The compute order of stage `i` under the plan's schedule.
std::vector<Slot> schedule_order(const Plan& plan, int64_t i) {
  const int64_t p = plan.pp, m = plan.micro_batches(), v = plan.chunks();
  std::vector<Slot> out;
  out.reserve(static_cast<size_t>(2 * m * v));
  if (plan.schedule == Schedule::kGpipe) {
    for (int64_t k = 0; k < m; ++k) out.push_back({true, static_cast<int>(k), 0});
    for (int64_t k = 0; k < m; ++k) out.push_back({false, static_cast<int>(k), 0});
    return out;
  }
  if (plan.schedule == Schedule::k1F1B) {
    const int64_t warmup = std::min(p - i - 1, m);
    for (int64_t k = 0; k < warmup; ++k) out.push_back({true, static_cast<int>(k), 0});
    for (int64_t k = 0; k < m - warmup; ++k) {
      out.push_back({true, static_cast<int>(k + warmup), 0});
      out.push_back({false, static_cast<int>(k), 0});
    }
    for (int64_t k = m - warmup; k < m; ++k) out.push_back({false, static_cast<int>(k), 0});
    return out;
  }
  // Megatron-LM interleaved 1F1B: virtual micro-batch k runs chunk (k / p) % v of micro-batch
  // (k / (p v)) p + k % p; backward visits the chunks in reverse.
  const int64_t total = m * v;
  auto fwd_slot = [&](int64_t k) {
    return Slot{true, static_cast<int>((k / (p * v)) * p + k % p), static_cast<int>((k / p) % v)};
  };
  auto bwd_slot = [&](int64_t k) {
    return Slot{false, static_cast<int>((k / (p * v)) * p + k % p), static_cast<int>(v - 1 - (k / p) % v)};
  };
  const int64_t warmup = std::min(2 * (p - i - 1) + (v - 1) * p, total);
  for (int64_t k = 0; k < warmup; ++k) out.push_back(fwd_slot(k));
  for (int64_t k = 0; k < total - warmup; ++k) {
    out.push_back(fwd_slot(k + warmup));
    out.push_back(bwd_slot(k));
  }
  for (int64_t k = total - warmup; k < total; ++k) out.push_back(bwd_slot(k));
  return out;
}

// Fills the Prediction fields every path shares.
void finish_prediction(Prediction& pred, const model::ModelSpec& model, const Cluster& cluster, const Plan& plan,
                       const PlanCosts& costs) {
  const double t = std::max(pred.iteration_time.seconds(), 1e-12);
  const double gpus = as_d(plan.gpus());
  const double peak = cluster.gpu.peak(plan.precision).value_or(cluster.gpu.bf16_dense).base();
  pred.tokens_per_s = as_d(plan.global_batch) * as_d(plan.seq) / t;
  pred.mfu = costs.model_flops / (t * gpus * peak);
  pred.hfu = costs.hardware_flops / (t * gpus * peak);
  pred.memory_per_stage = plan_memory(model, plan);
  pred.memory = pred.memory_per_stage.front();
  pred.fits = true;
  for (const Memory& m : pred.memory_per_stage) {
    if (m.total() > pred.memory.total()) pred.memory = m;
    if (m.total() > static_cast<double>(cluster.gpu.hbm_capacity.count())) pred.fits = false;
  }
  pred.tflops_per_gpu = costs.reported_flops / t / gpus / 1e12;
  pred.stage_time.clear();
  for (const StageCost& s : costs.stages) pred.stage_time.push_back(s.forward() + s.backward());
}

}  // namespace

uint64_t last_simulation_events() { return g_last_events; }

Result<std::unique_ptr<model::ComputeModel>> default_compute_model(const Cluster& cluster, hw::Precision precision) {
  MLSYS_ASSIGN_OR_RETURN(model::EfficiencyTable table, model::EfficiencyTable::builtin(cluster.gpu.name));
  if (cluster.additive_compute) {
    return std::unique_ptr<model::ComputeModel>(
        std::make_unique<AdditiveRooflineModel>(cluster.gpu, precision, std::move(table)));
  }
  return std::unique_ptr<model::ComputeModel>(
      std::make_unique<model::RooflineModel>(cluster.gpu, precision, std::move(table)));
}

Prediction simulate_costs(const model::ModelSpec& model, const Cluster& cluster, const Plan& plan,
                          const PlanCosts& costs, ChromeTrace* trace) {
  const int p = static_cast<int>(plan.pp);
  const int v = static_cast<int>(plan.chunks());
  const int m = static_cast<int>(plan.micro_batches());
  Runner r;
  for (int s = 0; s < p * kStreams; ++s) r.streams.push_back(std::make_unique<StreamComponent>(r, s));
  r.tasks.reserve(static_cast<size_t>(p) * static_cast<size_t>(m) * static_cast<size_t>(v) * 4 + 64);

  // Index of each stage's forward / backward task (last piece for split backwards).
  auto key = [&](int stage, int mb, int chunk) {
    return (static_cast<size_t>(stage) * static_cast<size_t>(m) + static_cast<size_t>(mb)) * static_cast<size_t>(v) +
           static_cast<size_t>(chunk);
  };
  std::vector<int32_t> fwd(static_cast<size_t>(p) * static_cast<size_t>(m) * static_cast<size_t>(v), -1);
  std::vector<int32_t> bwd(fwd.size(), -1);
  std::vector<std::vector<int32_t>> reduce_pieces(static_cast<size_t>(p));
  std::vector<int32_t> last_compute(static_cast<size_t>(p), -1);

  // Compute streams first, in schedule order.
  for (int i = 0; i < p; ++i) {
    const StageCost& st = costs.stages[static_cast<size_t>(i)];
    const std::vector<Slot> order = schedule_order(plan, i);
    std::vector<int> last_b(static_cast<size_t>(v), -1);  // position of each chunk's last backward
    for (size_t k = 0; k < order.size(); ++k) {
      if (!order[k].forward) last_b[static_cast<size_t>(order[k].chunk)] = static_cast<int>(k);
    }
    const Time z3 = st.zero3_gather;
    int32_t prev = -1;
    for (size_t k = 0; k < order.size(); ++k) {
      const Slot s = order[k];
      const ChunkCost& cc = st.chunks[static_cast<size_t>(s.chunk)];
      const Time work = s.forward ? cc.forward : cc.backward;
      // ZeRO-3 gathers the chunk's parameters before each pass; prefetched when overlapped.
      const Time extra = plan.zero_stage >= 3 ? (plan.overlap_dp ? std::max(Time::zero(), z3 - work) : z3)
                                              : Time::zero();
      if (s.forward) {
        prev = r.add(TaskKind::kForward, i, kCompute, work + extra, s.mb, s.chunk);
        fwd[key(i, s.mb, s.chunk)] = prev;
      } else if (plan.overlap_dp && static_cast<int>(k) == last_b[static_cast<size_t>(s.chunk)] && cc.layers > 1) {
        // The last backward of a chunk produces each layer's final gradients in turn; each
        // layer's reduce-scatter can start as soon as its piece is done.
        const Time piece = (work + extra) / as_d(cc.layers);
        for (int64_t l = 0; l < cc.layers; ++l) {
          prev = r.add(TaskKind::kBackward, i, kCompute, piece, s.mb, s.chunk, static_cast<int>(l));
          const int32_t red = r.add(TaskKind::kReduce, i, kDp,
                                    st.dp_reduce / as_d(st.layers), s.mb, s.chunk, static_cast<int>(l));
          r.depend(prev, red);
          reduce_pieces[static_cast<size_t>(i)].push_back(red);
        }
        bwd[key(i, s.mb, s.chunk)] = prev;
      } else {
        prev = r.add(TaskKind::kBackward, i, kCompute, work + extra, s.mb, s.chunk);
        bwd[key(i, s.mb, s.chunk)] = prev;
        if (plan.overlap_dp && static_cast<int>(k) == last_b[static_cast<size_t>(s.chunk)]) {
          const int32_t red = r.add(TaskKind::kReduce, i, kDp, st.dp_reduce / as_d(v), s.mb, s.chunk);
          r.depend(prev, red);
          reduce_pieces[static_cast<size_t>(i)].push_back(red);
        }
      }
    }
    last_compute[static_cast<size_t>(i)] = prev;
    if (!plan.overlap_dp) {
      const int32_t red = r.add(TaskKind::kReduce, i, kDp, st.dp_reduce);
      r.depend(prev, red);
      reduce_pieces[static_cast<size_t>(i)].push_back(red);
    }
    const int32_t opt = r.add(TaskKind::kOptimizer, i, kCompute, st.optimizer);
    for (int32_t red : reduce_pieces[static_cast<size_t>(i)]) r.depend(red, opt);
    r.depend(prev, opt);
    // The parameter all-gather: with overlap only the first layer's share is exposed (the rest
    // is prefetched during the next iteration's forward).
    if (st.dp_gather > Time::zero()) {
      const Time gather = plan.overlap_dp ? st.dp_gather / as_d(std::max<int64_t>(1, st.layers)) : st.dp_gather;
      const int32_t ag = r.add(TaskKind::kGather, i, kDp, gather);
      r.depend(opt, ag);
    }
  }

  // PP messages: each forward (backward) output travels to the stage that consumes it.
  const Time wrap = p > 1 ? costs.stages[0].p2p_next : Time::zero();
  for (int i = 0; i < p; ++i) {
    const StageCost& st = costs.stages[static_cast<size_t>(i)];
    const StageCost& prev_st = costs.stages[static_cast<size_t>((i - 1 + p) % p)];
    for (int mb = 0; mb < m; ++mb) {
      for (int c = 0; c < v; ++c) {
        if (!(i == p - 1 && c == v - 1) && p > 1) {
          const int32_t f = fwd[key(i, mb, c)];
          const int ni = (i + 1) % p;
          const int nc = i == p - 1 ? c + 1 : c;
          const Time dur = i == p - 1 ? wrap : st.p2p_next;
          const int32_t send = r.add(TaskKind::kSendForward, i, kSendFwd, dur, mb, c);
          r.depend(f, send);
          r.depend(send, fwd[key(ni, mb, nc)]);
        }
        if (!(i == 0 && c == 0) && p > 1) {
          const int32_t b = bwd[key(i, mb, c)];
          const int ni = (i - 1 + p) % p;
          const int nc = i == 0 ? c - 1 : c;
          const Time dur = i == 0 ? wrap : prev_st.p2p_next;
          const int32_t send = r.add(TaskKind::kSendBackward, i, kSendBwd, dur, mb, c);
          r.depend(b, send);
          r.depend(send, bwd[key(ni, mb, nc)]);
        }
      }
    }
  }
  // The send streams of a stage run in the order their inputs appear, not in creation order:
  // sort each send stream by its producer's position in the compute order.
  std::vector<int32_t> position(r.tasks.size(), 0);
  for (int i = 0; i < p; ++i) {
    const auto& order = r.streams[static_cast<size_t>(i * kStreams + kCompute)]->order;
    for (size_t k = 0; k < order.size(); ++k) position[static_cast<size_t>(order[k])] = static_cast<int32_t>(k);
  }
  for (int i = 0; i < p; ++i) {
    for (int s : {kSendFwd, kSendBwd}) {
      auto& order = r.streams[static_cast<size_t>(i * kStreams + s)]->order;
      auto producer = [&](int32_t send) {
        const Task& t = r.tasks[static_cast<size_t>(send)];
        return s == kSendFwd ? fwd[key(i, t.micro_batch, t.chunk)] : bwd[key(i, t.micro_batch, t.chunk)];
      };
      std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return position[static_cast<size_t>(producer(a))] < position[static_cast<size_t>(producer(b))];
      });
      if (!plan.overlap_pp) {
        // Blocking p2p: the compute stream waits for each send before its next task.
        const auto& corder = r.streams[static_cast<size_t>(i * kStreams + kCompute)]->order;
        for (int32_t send : order) {
          const size_t pos = static_cast<size_t>(position[static_cast<size_t>(producer(send))]);
          if (pos + 1 < corder.size()) r.depend(send, corder[pos + 1]);
        }
      }
    }
  }

  for (auto& s : r.streams) r.engine.add(*s);
  for (auto& s : r.streams) r.engine.post(*s);
  auto summary = r.engine.run();
  MLSYS_CHECK(summary.ok(), "the pipeline schedule is deadlock-free by construction");
  g_last_events = summary->events_processed;

  // The iteration ends when the slowest stage is done; the breakdown follows that stage.
  Prediction pred;
  int critical = 0;
  std::vector<Time> stage_end(static_cast<size_t>(p));
  for (size_t id = 0; id < r.tasks.size(); ++id) {
    const Task& t = r.tasks[id];
    stage_end[static_cast<size_t>(t.stage)] = std::max(stage_end[static_cast<size_t>(t.stage)], t.end);
  }
  for (int i = 0; i < p; ++i) {
    if (stage_end[static_cast<size_t>(i)] > stage_end[static_cast<size_t>(critical)]) critical = i;
  }
  pred.iteration_time = stage_end[static_cast<size_t>(critical)];

  Breakdown& bd = pred.breakdown;
  const StageCost& cs = costs.stages[static_cast<size_t>(critical)];
  Time busy;
  for (const Slot s : schedule_order(plan, critical)) {
    const ChunkCost& cc = cs.chunks[static_cast<size_t>(s.chunk)];
    if (s.forward) {
      bd.tp_exposed += cc.tp_exposed_forward;
    } else {
      bd.tp_exposed += cc.tp_exposed_backward;
      bd.recompute += cc.recompute;
      bd.ep_exposed += cc.ep_exposed;
    }
  }
  Time opt_start, opt_end, last_compute_end;
  for (const Task& t : r.tasks) {
    if (t.stage != critical) continue;
    if (t.kind == TaskKind::kForward || t.kind == TaskKind::kBackward) {
      busy += t.duration;
      last_compute_end = std::max(last_compute_end, t.end);
    }
    if (t.kind == TaskKind::kOptimizer) {
      opt_start = t.start;
      opt_end = t.end;
    }
  }
  bd.compute = busy - bd.tp_exposed - bd.recompute - bd.ep_exposed;
  bd.optimizer = opt_end - opt_start;
  bd.dp_exposed = pred.iteration_time - last_compute_end - bd.optimizer;
  const Time idle = last_compute_end - busy;
  Time max_stage;
  for (const StageCost& s : costs.stages) max_stage = std::max(max_stage, s.forward() + s.backward());
  bd.bubble = std::min(idle, max_stage * (as_d(plan.pp - 1) / as_d(v)));
  bd.pp_exposed = idle - bd.bubble;

  if (trace != nullptr) {
    for (int i = 0; i < p; ++i) {
      trace->set_process_name(i, "stage " + std::to_string(i));
      for (int s = 0; s < kStreams; ++s) {
        trace->set_thread_name(i, s, kStreamNames[s]);
        trace->set_thread_sort_index(i, s, s);
      }
    }
    for (size_t id = 0; id < r.tasks.size(); ++id) {
      const Task& t = r.tasks[id];
      if (t.duration <= Time::zero()) continue;
      std::string name;
      const char* cat = "compute";
      switch (t.kind) {
        case TaskKind::kForward: name = "F"; break;
        case TaskKind::kBackward: name = "B"; break;
        case TaskKind::kSendForward: name = "send act"; cat = "pp"; break;
        case TaskKind::kSendBackward: name = "send grad"; cat = "pp"; break;
        case TaskKind::kReduce: name = plan.zero_stage == 0 ? "grad all-reduce" : "grad reduce-scatter"; cat = "dp"; break;
        case TaskKind::kOptimizer: name = "optimizer"; break;
        case TaskKind::kGather: name = "param all-gather"; cat = "dp"; break;
      }
      if (t.kind != TaskKind::kOptimizer && t.kind != TaskKind::kGather &&
          !(t.kind == TaskKind::kReduce && !plan.overlap_dp)) {
        name += " mb" + std::to_string(t.micro_batch);
        if (v > 1) name += " c" + std::to_string(t.chunk);
        if (t.piece >= 0) name += " L" + std::to_string(t.piece);
      }
      trace->add_complete(t.stage, r.stream_of[id] % kStreams, name, cat, t.start, t.duration);
    }
  }
  finish_prediction(pred, model, cluster, plan, costs);
  return pred;
}

Prediction estimate_costs(const model::ModelSpec& model, const Cluster& cluster, const Plan& plan,
                          const PlanCosts& costs) {
  const int64_t p = plan.pp, m = plan.micro_batches(), v = plan.chunks();
  Time sum, max_t, tail, p2p_path;
  Breakdown bd;
  for (int64_t i = 0; i < p; ++i) {
    const StageCost& s = costs.stages[static_cast<size_t>(i)];
    Time t = s.forward() + s.backward();
    if (plan.zero_stage >= 3) {
      for (const ChunkCost& c : s.chunks) {
        for (Time work : {c.forward, c.backward}) {
          t += plan.overlap_dp ? std::max(Time::zero(), s.zero3_gather - work) : s.zero3_gather;
        }
      }
    }
    // Overlapped p2p costs only along the fill/drain path; blocking p2p costs every micro-batch.
    if (!plan.overlap_pp && i + 1 < p) t += s.p2p_next * (2 * v);
    if (i + 1 < p) p2p_path += s.p2p_next * 2;
    sum += t;
    max_t = std::max(max_t, t);
    // The DP tail: what of the gradient reduce outlasts the last backward, the optimizer and
    // the exposed parameter gather.
    Time reduce_tail = s.dp_reduce;
    if (plan.overlap_dp) {
      const ChunkCost& last = s.chunks.front();
      const double layers = as_d(std::max<int64_t>(1, last.layers));
      const Time chunk_reduce = s.dp_reduce / as_d(v);
      const Time hidden = last.backward * ((layers - 1) / layers);
      reduce_tail = std::max(s.dp_reduce / as_d(std::max<int64_t>(1, s.layers)), chunk_reduce - hidden);
    }
    const Time gather = plan.overlap_dp ? s.dp_gather / as_d(std::max<int64_t>(1, s.layers)) : s.dp_gather;
    tail = std::max(tail, reduce_tail + s.optimizer + gather);
  }
  const Time pipeline = sum / as_d(v) + max_t * (as_d(m) - 1.0 / as_d(v)) + (plan.overlap_pp ? p2p_path : Time::zero());
  Prediction pred;
  pred.iteration_time = pipeline + tail;
  const StageCost& s0 = costs.stages.front();
  for (const ChunkCost& c : s0.chunks) {
    bd.tp_exposed += (c.tp_exposed_forward + c.tp_exposed_backward) * m;
    bd.recompute += c.recompute * m;
    bd.ep_exposed += c.ep_exposed * m;
  }
  bd.compute = (s0.forward() + s0.backward()) * m - bd.tp_exposed - bd.recompute - bd.ep_exposed;
  bd.bubble = max_t * (as_d(p - 1) / as_d(v));
  bd.pp_exposed = plan.overlap_pp ? p2p_path : Time::zero();
  bd.optimizer = s0.optimizer;
  bd.dp_exposed = tail - s0.optimizer;
  pred.breakdown = bd;
  finish_prediction(pred, model, cluster, plan, costs);
  return pred;
}

namespace {

Result<Prediction> run(const model::ModelSpec& model, const Cluster& cluster, const Plan& plan,
                       const SimOptions& options, bool event_sim) {
  MLSYS_RETURN_IF_ERROR(check_plan(model, cluster, plan));
  std::unique_ptr<model::ComputeModel> owned;
  const model::ComputeModel* compute = options.compute;
  if (compute == nullptr) {
    MLSYS_ASSIGN_OR_RETURN(owned, default_compute_model(cluster, plan.precision));
    compute = owned.get();
  }
  CommModel comm(cluster);
  MLSYS_ASSIGN_OR_RETURN(const PlanCosts costs, plan_costs(model, cluster, plan, *compute, comm, options.convention));
  return event_sim ? simulate_costs(model, cluster, plan, costs, options.trace)
                   : estimate_costs(model, cluster, plan, costs);
}

}  // namespace

Result<Prediction> simulate_iteration(const model::ModelSpec& model, const Cluster& cluster, const Plan& plan,
                                      const SimOptions& options) {
  return run(model, cluster, plan, options, true);
}

Result<Prediction> estimate_iteration(const model::ModelSpec& model, const Cluster& cluster, const Plan& plan,
                                      const SimOptions& options) {
  return run(model, cluster, plan, options, false);
}

}  // namespace mlsys::train
