// AdaPipe's two-level dynamic program (see adapipe.h).
#include "mlsys/train/adapipe.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <tuple>

#include "mlsys/core/check.h"
#include "mlsys/train/costs.h"
#include "mlsys/train/memory.h"

namespace mlsys::train {
namespace {

constexpr int64_t kInf = std::numeric_limits<int64_t>::max() / 4;

/// A point on the (saved bytes per micro-batch, time) Pareto front of a run of layers, with the
/// choice that produced it (parent index into the previous front).
struct FrontPoint {
  int64_t saved = 0;
  int64_t time = 0;
  int option = 0;
  int parent = -1;
};

/// Pareto fronts for layers [first, first + 1), ..., [first, last): fronts[n] covers n + 1
/// layers. Points are sorted by saved bytes ascending with strictly falling time.
std::vector<std::vector<FrontPoint>> build_fronts(const AdaPipeInput& in, int64_t first,
                                                  int64_t last, int64_t saved_limit) {
  std::vector<std::vector<FrontPoint>> fronts;
  std::vector<FrontPoint> prev{{0, 0, -1, -1}};
  for (int64_t l = first; l < last; ++l) {
    const AdaPipeLayer& layer = in.layers[l];
    const int64_t base = (layer.forward + layer.backward).ns();
    std::vector<FrontPoint> next;
    next.reserve(prev.size() * layer.options.size());
    for (size_t pi = 0; pi < prev.size(); ++pi) {
      for (size_t o = 0; o < layer.options.size(); ++o) {
        const int64_t saved = prev[pi].saved + layer.options[o].saved.count();
        if (saved > saved_limit) continue;  // infeasible at every stage position
        next.push_back({saved, prev[pi].time + base + layer.options[o].recompute.ns(),
                        static_cast<int>(o), static_cast<int>(pi)});
      }
    }
    // Ties broken by option index, so equal-cost choices resolve the same way every run.
    std::sort(next.begin(), next.end(), [](const FrontPoint& a, const FrontPoint& b) {
      if (a.saved != b.saved) return a.saved < b.saved;
      if (a.time != b.time) return a.time < b.time;
      return a.option < b.option;
    });
    std::vector<FrontPoint> pruned;
    for (const auto& p : next) {
      if (pruned.empty() || p.time < pruned.back().time) pruned.push_back(p);
    }
    fronts.push_back(std::move(pruned));
    prev = fronts.back();
  }
  return fronts;
}

int64_t inflight(const AdaPipeInput& in, int64_t stage) {
  return std::min(in.stages - stage, in.micro_batches);
}

/// Bytes of a stage apart from the per-layer saved activations.
int64_t fixed_bytes(const AdaPipeInput& in, int64_t stage, int64_t first, int64_t end) {
  int64_t b = in.reserved.count();
  for (int64_t l = first; l < end; ++l) b += in.layers[l].static_bytes.count();
  if (stage == 0) b += in.first_static.count() + inflight(in, stage) * in.first_saved.count();
  if (stage == in.stages - 1) b += in.last_static.count() + in.last_saved.count();
  return b;
}

int64_t extra_time(const AdaPipeInput& in, int64_t stage) {
  int64_t t = in.stage_overhead.ns();
  if (stage == 0) t += (in.first_forward + in.first_backward).ns();
  if (stage == in.stages - 1) t += (in.last_forward + in.last_backward).ns();
  return t;
}

/// Level-1 answer for stage `stage` over layers [first, first + n) using fronts built from
/// `first`: index of the best front point, or -1 when nothing fits.
int best_point(const AdaPipeInput& in, const std::vector<FrontPoint>& front, int64_t stage,
               int64_t fixed) {
  const int64_t room = in.memory_cap.count() - fixed;
  if (room < 0) return -1;
  const int64_t limit = room / inflight(in, stage);
  // Front sorted by saved ascending, time descending: the last point within the limit is best.
  auto it = std::upper_bound(front.begin(), front.end(), limit,
                             [](int64_t v, const FrontPoint& p) { return v < p.saved; });
  if (it == front.begin()) return -1;
  return static_cast<int>(it - front.begin()) - 1;
}

Status validate(const AdaPipeInput& in) {
  const int64_t n = static_cast<int64_t>(in.layers.size());
  if (n < 1) return invalid_input("AdaPipe needs at least one layer");
  if (in.stages < 1 || in.stages > n) {
    return invalid_input("stages must be in [1, layers]: " + std::to_string(in.stages) + " for " +
                             std::to_string(n) + " layers",
                         "", Location{"--pp", 0});
  }
  if (in.micro_batches < 1) return invalid_input("micro-batches must be >= 1");
  for (const auto& l : in.layers) {
    if (l.options.empty()) return invalid_input("every layer needs at least one recompute option");
  }
  return ok_status();
}

}  // namespace

Result<AdaPipeSolution> adapipe_evaluate(const AdaPipeInput& in,
                                         const std::vector<int64_t>& layers_per_stage,
                                         const std::vector<int>& option_per_layer) {
  MLSYS_RETURN_IF_ERROR(validate(in));
  const int64_t n = static_cast<int64_t>(in.layers.size());
  if (static_cast<int64_t>(layers_per_stage.size()) != in.stages ||
      static_cast<int64_t>(option_per_layer.size()) != n) {
    return invalid_input("partition or options do not match the input's stages and layers");
  }
  AdaPipeSolution s{layers_per_stage, option_per_layer, {}, {}, {}};
  int64_t first = 0;
  Time sum, worst;
  for (int64_t k = 0; k < in.stages; ++k) {
    const int64_t end = first + layers_per_stage[k];
    if (layers_per_stage[k] < 1 || end > n) return invalid_input("bad stage partition");
    int64_t t = extra_time(in, k), saved = 0;
    for (int64_t l = first; l < end; ++l) {
      const AdaPipeLayer& layer = in.layers[l];
      const int o = option_per_layer[l];
      if (o < 0 || o >= static_cast<int>(layer.options.size())) return invalid_input("bad option");
      t += (layer.forward + layer.backward + layer.options[o].recompute).ns();
      saved += layer.options[o].saved.count();
    }
    const int64_t mem = fixed_bytes(in, k, first, end) + inflight(in, k) * saved;
    if (mem > in.memory_cap.count()) {
      return not_found("stage " + std::to_string(k) + " needs " + std::to_string(mem >> 20) +
                       " MiB, above the cap of " + std::to_string(in.memory_cap.count() >> 20) +
                       " MiB");
    }
    s.stage_time.push_back(Time::from_ns(t));
    s.stage_memory.push_back(B(mem));
    sum += Time::from_ns(t);
    worst = std::max(worst, Time::from_ns(t));
    first = end;
  }
  if (first != n) return invalid_input("the partition does not cover every layer");
  s.objective = sum + worst * (in.micro_batches - 1);
  return s;
}

Result<AdaPipeSolution> adapipe_stage(const AdaPipeInput& in, int64_t stage, int64_t first,
                                      int64_t end) {
  MLSYS_RETURN_IF_ERROR(validate(in));
  const int64_t n = static_cast<int64_t>(in.layers.size());
  if (stage < 0 || stage >= in.stages || first < 0 || end <= first || end > n) {
    return invalid_input("bad stage or layer range");
  }
  const auto fronts = build_fronts(in, first, end, in.memory_cap.count());
  const int64_t fixed = fixed_bytes(in, stage, first, end);
  const auto& front = fronts.back();
  const int best = fronts.empty() ? -1 : best_point(in, front, stage, fixed);
  if (best < 0) return not_found("no recompute choice fits stage " + std::to_string(stage));
  AdaPipeSolution s;
  s.option_per_layer.assign(static_cast<size_t>(end - first), 0);
  int idx = best;
  for (int64_t l = end - 1; l >= first; --l) {
    const FrontPoint& p = fronts[l - first][idx];
    s.option_per_layer[l - first] = p.option;
    idx = p.parent;
  }
  s.layers_per_stage = {end - first};
  s.stage_time = {Time::from_ns(front[best].time + extra_time(in, stage))};
  s.stage_memory = {B(fixed + inflight(in, stage) * front[best].saved)};
  s.objective = s.stage_time[0];
  return s;
}

Result<AdaPipeSolution> adapipe_solve(const AdaPipeInput& in) {
  MLSYS_RETURN_IF_ERROR(validate(in));
  const int64_t n = static_cast<int64_t>(in.layers.size());
  const int64_t p = in.stages;
  // Level 1 for every (stage, first, end): g[k][i][j - i - 1] with the front point behind it.
  // The fronts of [i, j) do not depend on k; only the memory limit does.
  std::vector<std::vector<std::vector<int64_t>>> g(
      static_cast<size_t>(p), std::vector<std::vector<int64_t>>(static_cast<size_t>(n)));
  std::vector<int64_t> candidates;
  for (int64_t i = 0; i < n; ++i) {
    // Stage k holds at least one layer per earlier/later stage: i >= k, n - j >= p - 1 - k.
    const auto fronts = build_fronts(in, i, n, in.memory_cap.count());
    for (int64_t k = 0; k < p; ++k) {
      auto& row = g[k][i];
      row.assign(static_cast<size_t>(n - i), kInf);
      if (i < k) continue;
      for (int64_t j = i + 1; j <= n - (p - 1 - k); ++j) {
        const int best = best_point(in, fronts[j - i - 1], k, fixed_bytes(in, k, i, j));
        if (best < 0) continue;
        row[j - i - 1] = fronts[j - i - 1][best].time + extra_time(in, k);
        candidates.push_back(row[j - i - 1]);
      }
    }
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  if (candidates.empty()) return not_found("no stage fits the memory cap");

  // Level 2 for a bottleneck bound T: f[k][j] = min sum of stage times of layers [0, j) on
  // stages [0, k) with every stage <= T; cut[k][j] the start of stage k - 1.
  std::vector<std::vector<int64_t>> f(static_cast<size_t>(p + 1),
                                      std::vector<int64_t>(static_cast<size_t>(n + 1), kInf));
  std::vector<std::vector<int64_t>> cut(f.size(), std::vector<int64_t>(static_cast<size_t>(n + 1), -1));
  auto run = [&](int64_t bound) {
    for (auto& r : f) std::fill(r.begin(), r.end(), kInf);
    f[0][0] = 0;
    for (int64_t k = 1; k <= p; ++k) {
      for (int64_t j = k; j <= n - (p - k); ++j) {
        for (int64_t i = k - 1; i < j; ++i) {
          if (f[k - 1][i] >= kInf) continue;
          const int64_t t = g[k - 1][i][j - i - 1];
          if (t > bound) continue;
          if (f[k - 1][i] + t < f[k][j]) {
            f[k][j] = f[k - 1][i] + t;
            cut[k][j] = i;
          }
        }
      }
    }
    return f[p][n];
  };
  // Lower bound on sum_k t_k for any bound: the unconstrained optimum.
  const int64_t sum_floor = run(kInf);
  if (sum_floor >= kInf) return not_found("no partition fits the memory cap");
  int64_t best_obj = kInf, best_bound = -1;
  const int64_t m1 = in.micro_batches - 1;
  // Feasibility is monotone in the bound: bisect for the smallest feasible candidate.
  size_t lo = 0, hi = candidates.size() - 1;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (run(candidates[mid]) < kInf) hi = mid; else lo = mid + 1;
  }
  for (size_t c = lo; c < candidates.size(); ++c) {
    const int64_t bound = candidates[c];
    if (m1 * bound + sum_floor >= best_obj) break;  // larger bounds cannot win
    const int64_t sum = run(bound);
    if (sum >= kInf) continue;
    if (sum + m1 * bound < best_obj) {
      best_obj = sum + m1 * bound;
      best_bound = bound;
    }
  }
  MLSYS_CHECK(best_bound >= 0);
  run(best_bound);
  std::vector<int64_t> layers(static_cast<size_t>(p));
  std::vector<int> options(static_cast<size_t>(n), 0);
  for (int64_t k = p, j = n; k >= 1; --k) {
    const int64_t i = cut[k][j];
    layers[k - 1] = j - i;
    auto stage = adapipe_stage(in, k - 1, i, j);
    MLSYS_CHECK(stage.ok());
    std::copy(stage->option_per_layer.begin(), stage->option_per_layer.end(), options.begin() + i);
    j = i;
  }
  return adapipe_evaluate(in, layers, options);
}

Result<AdaPipeSolution> adapipe_best_uniform(const AdaPipeInput& in) {
  MLSYS_RETURN_IF_ERROR(validate(in));
  const int64_t n = static_cast<int64_t>(in.layers.size());
  if (n % in.stages != 0) {
    return invalid_input(std::to_string(n) + " layers do not split evenly over " +
                         std::to_string(in.stages) + " stages");
  }
  std::optional<AdaPipeSolution> best;
  const std::vector<int64_t> layers(static_cast<size_t>(in.stages), n / in.stages);
  for (size_t o = 0; o < in.layers[0].options.size(); ++o) {
    auto s = adapipe_evaluate(in, layers, std::vector<int>(static_cast<size_t>(n), static_cast<int>(o)));
    if (s && (!best || s->objective < best->objective)) best = *s;
  }
  if (!best) return not_found("no uniform plan fits the memory cap");
  return *best;
}

Result<AdaPipeInput> adapipe_input(const model::ModelSpec& model, const Cluster& cluster,
                                   const Plan& plan, const model::ComputeModel& compute,
                                   const CommModel& comm) {
  if (plan.pp < 1 || model.layers % plan.pp != 0) {
    return invalid_input(std::to_string(model.layers) + " layers do not split over pp = " +
                             std::to_string(plan.pp),
                         "AdaPipe prices the uniform plan first", Location{"--pp", 0});
  }
  Plan uniform = plan;
  uniform.layers_per_stage.clear();
  uniform.recompute_per_stage.clear();
  uniform.recompute = Recompute::kNone;
  MLSYS_RETURN_IF_ERROR(check_plan(model, cluster, uniform));
  AdaPipeInput in;
  in.stages = plan.pp;
  in.micro_batches = plan.micro_batches();
  in.memory_cap = cluster.gpu.hbm_capacity;
  in.option_names = {"none", "selective", "full"};
  const Recompute kinds[] = {Recompute::kNone, Recompute::kSelective, Recompute::kFull};
  AdaPipeLayer layer;
  for (Recompute r : kinds) {
    MLSYS_ASSIGN_OR_RETURN(LayerCost c, layer_cost(model, cluster, uniform, r, compute, comm));
    if (r == Recompute::kNone) {
      layer.forward = c.forward;
      layer.backward = c.backward;
    }
    const double saved = layer_activation_bytes(model, plan.micro_batch, plan.seq, plan.tp,
                                                plan.sequence_parallel, r, plan.sliding_window,
                                                plan.flash_attention);
    layer.options.push_back({c.recompute, B(static_cast<int64_t>(saved))});
  }
  // Model states per parameter from the train memory model of the uniform plan.
  const Memory m0 = stage_memory(model, uniform, 0);
  const double p0 = stage_parameters(model, uniform, 0);
  const double per_param = (m0.weights + m0.gradients + m0.optimizer) / p0;
  const double layer_params = model::parameter_count(model).per_layer / static_cast<double>(plan.tp);
  const int64_t per_stage = model.layers / plan.pp;
  layer.static_bytes = B(static_cast<int64_t>(layer_params * per_param));
  in.layers.assign(static_cast<size_t>(model.layers), layer);
  const double first_params = p0 - layer_params * static_cast<double>(per_stage);
  const double last_params =
      stage_parameters(model, uniform, plan.pp - 1) - layer_params * static_cast<double>(per_stage);
  if (plan.pp == 1) {
    in.first_static = B(static_cast<int64_t>(std::max(0.0, first_params) * per_param));
  } else {
    in.first_static = B(static_cast<int64_t>(std::max(0.0, first_params) * per_param));
    in.last_static = B(static_cast<int64_t>(std::max(0.0, last_params) * per_param));
  }
  const int64_t sb = plan.micro_batch * plan.seq;
  in.first_saved = B((8 * sb + sb * model.hidden) / plan.tp);
  in.last_saved = B(4 * sb * model.hidden * (1 + model.vocab / model.hidden) / plan.tp);
  in.reserved = B(static_cast<int64_t>(m0.buffers));
  // Embedding and head times: the first/last stage cost of the uniform plan minus its layers.
  MLSYS_ASSIGN_OR_RETURN(PlanCosts costs, plan_costs(model, cluster, uniform, compute, comm));
  const StageCost& s0 = costs.stages.front();
  const StageCost& sl = costs.stages.back();
  const Time layers_fwd = layer.forward * per_stage, layers_bwd = layer.backward * per_stage;
  in.first_forward = std::max(Time::zero(), s0.forward() - layers_fwd);
  in.first_backward = std::max(Time::zero(), s0.backward() - layers_bwd);
  if (plan.pp > 1) {
    in.last_forward = std::max(Time::zero(), sl.forward() - layers_fwd);
    in.last_backward = std::max(Time::zero(), sl.backward() - layers_bwd);
  }
  in.stage_overhead = plan.pp > 1 ? s0.p2p_next * 2 : Time::zero();
  return in;
}

Plan adapipe_plan(const Plan& base, const AdaPipeInput& in, const AdaPipeSolution& solution) {
  Plan plan = base;
  plan.layers_per_stage = solution.layers_per_stage;
  plan.recompute_per_stage.clear();
  int64_t first = 0;
  for (int64_t layers : solution.layers_per_stage) {
    int worst = 0;
    for (int64_t l = first; l < first + layers; ++l) {
      worst = std::max(worst, solution.option_per_layer[l]);
    }
    const std::string& name = in.option_names.at(static_cast<size_t>(worst));
    plan.recompute_per_stage.push_back(name == "full"        ? Recompute::kFull
                                       : name == "selective" ? Recompute::kSelective
                                                             : Recompute::kNone);
    first += layers;
  }
  return plan;
}

namespace {

bool same_plan(const Plan& a, const Plan& b) {
  auto key = [](const Plan& p) {
    return std::tie(p.tp, p.pp, p.dp, p.micro_batch, p.schedule, p.virtual_stages, p.recompute,
                    p.zero_stage, p.layers_per_stage, p.recompute_per_stage);
  };
  return key(a) == key(b);
}

}  // namespace

Result<RankedPlan> lower_recompute(const model::ModelSpec& model, const Cluster& cluster, Plan plan,
                                   const SimOptions& sim) {
  MLSYS_ASSIGN_OR_RETURN(Prediction best, simulate_iteration(model, cluster, plan, sim));
  if (plan.recompute_per_stage.empty()) return RankedPlan{plan, best};
  for (size_t k = 0; k < plan.recompute_per_stage.size(); ++k) {
    for (Recompute lower : {Recompute::kNone, Recompute::kSelective}) {
      if (lower >= plan.recompute_per_stage[k]) break;
      Plan trial = plan;
      trial.recompute_per_stage[k] = lower;
      auto p = simulate_iteration(model, cluster, trial, sim);
      if (!p || !p->fits || p->iteration_time >= best.iteration_time) continue;
      plan = std::move(trial);
      best = *p;
      break;
    }
  }
  return RankedPlan{plan, best};
}

PlannerSearch merge_with_grid(const GridResult& grid, std::vector<RankedPlan> candidates,
                              const std::string& planner, int top) {
  PlannerSearch out;
  if (!grid.best.empty()) out.grid_best = grid.best.front();
  std::vector<std::pair<RankedPlan, std::string>> all;
  for (RankedPlan& c : candidates) {
    if (c.prediction.fits) all.emplace_back(std::move(c), planner);
  }
  for (const RankedPlan& g : grid.best) all.emplace_back(g, "grid");
  // Ties go to the grid plan: it is uniform, so Megatron-LM runs it exactly as priced.
  std::stable_sort(all.begin(), all.end(), [](const auto& x, const auto& y) {
    if (x.first.prediction.iteration_time != y.first.prediction.iteration_time) {
      return x.first.prediction.iteration_time < y.first.prediction.iteration_time;
    }
    return x.second == "grid" && y.second != "grid";
  });
  for (auto& [rp, origin] : all) {
    if (static_cast<int>(out.best.size()) >= top) break;
    bool dup = false;
    for (const RankedPlan& kept : out.best) dup = dup || same_plan(kept.plan, rp.plan);
    if (dup) continue;
    out.best.push_back(rp);
    out.origin.push_back(origin);
  }
  return out;
}

Result<PlannerSearch> adapipe_search(const model::ModelSpec& model, const Cluster& cluster,
                                     const GridResult& grid, const PlannerSearchOptions& options) {
  if (grid.best.empty()) return invalid_input("the grid search returned no plan to start from");
  const Plan& first = grid.best.front().plan;
  std::unique_ptr<model::ComputeModel> owned;
  const model::ComputeModel* compute = options.sim.compute;
  if (compute == nullptr) {
    MLSYS_ASSIGN_OR_RETURN(owned, default_compute_model(cluster, first.precision));
    compute = owned.get();
  }
  SimOptions sim = options.sim;
  sim.compute = compute;
  const CommModel comm(cluster);
  std::vector<RankedPlan> candidates;
  int64_t bases = 0;
  for (const RankedPlan& rp : grid.best) {
    if (bases >= options.bases) break;
    Plan base = rp.plan;
    if (base.pp < 2) continue;  // one stage: nothing to partition, one recompute for all layers
    // AdaPipe's pipeline model is 1F1B.
    base.schedule = Schedule::k1F1B;
    base.virtual_stages = 1;
    ++bases;
    auto in = adapipe_input(model, cluster, base, *compute, comm);
    if (!in) continue;
    auto solution = adapipe_solve(*in);
    if (!solution) continue;
    auto ranked = lower_recompute(model, cluster, adapipe_plan(base, *in, *solution), sim);
    if (ranked && ranked->prediction.fits) candidates.push_back(std::move(*ranked));
  }
  const int64_t planned = static_cast<int64_t>(candidates.size());
  PlannerSearch out = merge_with_grid(grid, std::move(candidates), "adapipe", options.top);
  out.bases = bases;
  out.planned = planned;
  return out;
}

}  // namespace mlsys::train
