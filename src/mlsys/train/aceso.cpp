// Aceso's cost model (search/aceso_cost_model.py semantics) and search (bottleneck alleviation).
#include "mlsys/train/aceso.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <unordered_set>

#include "mlsys/core/check.h"
#include "mlsys/model/ops.h"
#include "mlsys/train/simulate.h"

namespace mlsys::train {
namespace {

constexpr double kMiB = 1048576.0;
// Aceso's GPT op names for the layer boundary and the ops its shared-space rule adjusts.
constexpr std::string_view kLayerFirstOp = "enc-1st-layernorm";
constexpr std::string_view kLayerLastOp = "enc-post-MLP-dropout";

Bytes mib_bytes(double mb) { return B(std::llround(mb * kMiB)); }

struct Key {
  double overflow = 0;  // MiB above the limit, summed over stages
  int64_t time = 0;     // iteration ns
  bool operator<(const Key& o) const {
    if (overflow != o.overflow) return overflow < o.overflow;
    return time < o.time;
  }
};

Key key_of(const AcesoEstimate& e) { return {e.memory_overflow_mb, e.iteration.ns()}; }

/// Time, memory and breakdown of one stage.
struct StageEval {
  bool valid = true;
  Time time, ideal, eff_loss, recompute;
  double memory_mb = 0;
  double weights_mb = 0;
};

const std::vector<AcesoOpCost>* stage_rows(const AcesoProblem& pr, int64_t micro_batch,
                                           const AcesoStage& st) {
  if (st.dp <= 0 || micro_batch % st.dp != 0) return nullptr;
  return pr.rows(micro_batch / st.dp, st.tp);
}

/// Activation accounting of Aceso's get_activations_v3 / get_peak_activations.
void recompute_memory(const AcesoProblem& pr, const std::vector<AcesoOpCost>& rows,
                      const AcesoStage& st, double& saved, double& peak) {
  saved = 0;
  peak = 0;
  const int64_t n = st.num_ops();
  if (!pr.pairwise_recompute) {
    for (int64_t i = 0; i < n; ++i) {
      if (!st.recompute[i]) continue;
      const AcesoOpCost& c = rows[pr.op_row[st.first_op + i]];
      const double freed = std::max(0.0, c.activations_mb - c.recompute_keeps_mb);
      saved += freed;
      peak = std::max(peak, freed);
    }
    return;
  }
  double segment = 0;
  for (int64_t i = 0; i + 1 < n; ++i) {
    const int64_t op = st.first_op + i;
    if (st.recompute[i] && st.recompute[i + 1]) {
      const double act = rows[pr.op_row[op]].activations_mb;
      const bool next_starts_layer = pr.starts_layer[op + 1];
      if (!next_starts_layer) saved += act;
      segment += act;
      if (next_starts_layer || i + 2 == n) {
        peak = std::max(peak, segment);
        segment = 0;
      }
    } else if (segment > 0) {
      peak = std::max(peak, segment);
      segment = 0;
    }
  }
  peak = std::max(peak, segment);
}

StageEval eval_stage(const AcesoProblem& pr, int64_t micro_batch, const AcesoStage& st,
                     int64_t stages_behind) {
  StageEval ev;
  const auto* rows = stage_rows(pr, micro_batch, st);
  const auto* ideal_rows = st.dp > 0 && micro_batch % st.dp == 0
                               ? pr.rows(micro_batch / st.dp, 1)
                               : nullptr;
  if (rows == nullptr || st.num_ops() <= 0) {
    ev.valid = false;
    return ev;
  }
  Time fwd, bwd, rc, ideal;
  double weights = 0, acts = 0, fwd_res = 0, bwd_res = 0;
  const int64_t n = st.num_ops();
  for (int64_t i = 0; i < n; ++i) {
    const AcesoOpCost& c = (*rows)[pr.op_row[st.first_op + i]];
    fwd += c.forward;
    bwd += c.backward;
    if (st.recompute[i]) rc += c.forward;
    if (ideal_rows != nullptr) {
      const AcesoOpCost& u = (*ideal_rows)[pr.op_row[st.first_op + i]];
      ideal += u.forward + u.backward;
    }
    weights += c.weights_mb;
    acts += c.activations_mb;
    if (i + 1 < n) {  // Aceso's reserved-space scan stops before the stage's last op
      fwd_res = std::max(fwd_res, c.fwd_reserved_mb);
      bwd_res = std::max(bwd_res, c.bwd_reserved_mb);
    }
  }
  const AcesoOpCost& first = (*rows)[pr.op_row[st.first_op]];
  const AcesoOpCost& last = (*rows)[pr.op_row[st.end_op - 1]];
  ev.time = fwd + bwd + rc + pr.p2p(first.input_mb) + pr.p2p(last.output_mb);
  // Ideal: the same ops on one GPU processing all replicas' samples, spread over the stage's GPUs.
  ev.ideal = ideal_rows != nullptr ? ideal * static_cast<double>(st.dp) /
                                         static_cast<double>(st.gpus())
                                   : fwd + bwd;
  ev.eff_loss = std::max(Time::zero(), fwd + bwd - ev.ideal);
  ev.recompute = rc;
  double saved = 0, peak = 0;
  recompute_memory(pr, *rows, st, saved, peak);
  const double in_flight = first.input_mb + acts - saved;
  const double reserved = std::max(fwd_res + bwd_res, weights);
  ev.weights_mb = weights;
  ev.memory_mb = weights * (2 + pr.main_params_factor + pr.optimizer_factor) +
                 in_flight * static_cast<double>(stages_behind) + in_flight + peak + reserved;
  return ev;
}

/// Ring all-reduce of the stage's fp16 gradients over its dp replicas.
Time dp_sync(const AcesoProblem& pr, const AcesoStage& st, double weights_mb) {
  if (pr.dp_bandwidth.base() <= 0 || st.dp <= 1) return Time::zero();
  const double factor = 2.0 * static_cast<double>(st.dp - 1) / static_cast<double>(st.dp);
  return mib_bytes(weights_mb * factor) / pr.dp_bandwidth;
}

uint64_t signature(const AcesoConfig& c) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](int64_t v) {
    h ^= static_cast<uint64_t>(v) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 1099511628211ull;
  };
  mix(c.micro_batch);
  for (const auto& s : c.stages) {
    mix(s.first_op);
    mix(s.end_op);
    mix(s.tp);
    mix(s.dp);
  }
  return h;
}

/// Aceso's check_recompute: no recompute if the stage fits; otherwise recompute the op pairs
/// with the largest saved activations first, as few as make the stage fit. Memory falls with
/// every pair added, so the shortest fitting prefix is found by bisection.
void fix_recompute(const AcesoProblem& pr, int64_t micro_batch, AcesoStage& st,
                   int64_t stages_behind, double limit_mb) {
  const int64_t n = st.num_ops();
  st.recompute.assign(static_cast<size_t>(std::max<int64_t>(n, 0)), 0);
  const auto* rows = stage_rows(pr, micro_batch, st);
  if (rows == nullptr || n <= 0) return;
  if (eval_stage(pr, micro_batch, st, stages_behind).memory_mb <= limit_mb) return;
  std::vector<std::pair<double, int64_t>> cands;  // (-freed, op index in stage)
  for (int64_t i = 0; i < n; ++i) {
    const AcesoOpCost& c = (*rows)[pr.op_row[st.first_op + i]];
    if (pr.pairwise_recompute) {
      if (i + 1 < n && !pr.starts_layer[st.first_op + i + 1] && c.activations_mb > 0) {
        cands.emplace_back(-c.activations_mb, i);
      }
    } else if (c.activations_mb > c.recompute_keeps_mb) {
      cands.emplace_back(-(c.activations_mb - c.recompute_keeps_mb), i);
    }
  }
  std::stable_sort(cands.begin(), cands.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  auto apply_prefix = [&](size_t k) {
    std::fill(st.recompute.begin(), st.recompute.end(), 0);
    for (size_t j = 0; j < k; ++j) {
      const int64_t i = cands[j].second;
      st.recompute[i] = 1;
      if (pr.pairwise_recompute) st.recompute[i + 1] = 1;
    }
  };
  size_t lo = 0, hi = cands.size();  // answer in (lo, hi]
  apply_prefix(hi);
  if (eval_stage(pr, micro_batch, st, stages_behind).memory_mb > limit_mb) return;  // overflows
  while (hi - lo > 1) {
    const size_t mid = lo + (hi - lo) / 2;
    apply_prefix(mid);
    if (eval_stage(pr, micro_batch, st, stages_behind).memory_mb <= limit_mb) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  apply_prefix(hi);
}

int64_t stages_behind(const AcesoConfig& c, size_t i) {
  return static_cast<int64_t>(c.stages.size()) - 1 - static_cast<int64_t>(i);
}

struct Evaluated {
  AcesoConfig config;
  AcesoEstimate estimate;
};

class Searcher {
 public:
  Searcher(const AcesoProblem& pr, const AcesoOptions& opt)
      : pr_(pr), opt_(opt), limit_mb_(static_cast<double>(opt.memory_limit.count()) / kMiB) {}

  int64_t evaluations() const { return evals_; }
  int64_t improvements() const { return improvements_; }

  /// Bottleneck alleviation from `start` until no move within max_hops improves or the budget
  /// is spent.
  std::optional<Evaluated> run(AcesoConfig start) {
    visited_.clear();
    budget_left_ = opt_.budget;
    for (size_t i = 0; i < start.stages.size(); ++i) fix(start, i);
    Evaluated cur{start, estimate(start)};
    if (!cur.estimate.valid) return std::nullopt;
    visited_.insert(signature(cur.config));
    while (budget_left_ > 0) {
      std::optional<Evaluated> next = hop(cur, key_of(cur.estimate), 1);
      if (!next) break;
      cur = std::move(*next);
      ++improvements_;
    }
    return cur;
  }

  AcesoEstimate estimate(const AcesoConfig& c) {
    ++evals_;
    --budget_left_;
    return aceso_estimate(pr_, c, opt_.memory_limit);
  }

 private:
  void fix(AcesoConfig& c, size_t i) {
    fix_recompute(pr_, c.micro_batch, c.stages[i], stages_behind(c, i), limit_mb_);
  }
  void fix_all(AcesoConfig& c) {
    for (size_t i = 0; i < c.stages.size(); ++i) fix(c, i);
  }

  bool tp_ok(int64_t tp) const {
    return tp >= 1 && tp <= opt_.max_tp &&
           std::binary_search(pr_.tensor_parallel.begin(), pr_.tensor_parallel.end(), tp);
  }
  bool stage_ok(int64_t micro_batch, const AcesoStage& s) const {
    return tp_ok(s.tp) && s.dp >= 1 && stage_rows(pr_, micro_batch, s) != nullptr;
  }

  /// Stage time alone (no p2p neighbours needed), for ranking GPU producers and consumers.
  Time stage_time(int64_t micro_batch, AcesoStage s, int64_t behind) {
    fix_recompute(pr_, micro_batch, s, behind, limit_mb_);
    return eval_stage(pr_, micro_batch, s, behind).time;
  }

  /// Halve (consumer: double) stage j along its better dimension; false if neither is valid.
  bool resize(AcesoConfig& c, size_t j, bool grow) {
    AcesoStage best;
    Time best_time = Time::max();
    for (int dim = 0; dim < 2; ++dim) {
      AcesoStage s = c.stages[j];
      int64_t& v = dim == 0 ? s.tp : s.dp;
      if (grow) {
        v *= 2;
      } else {
        if (v % 2 != 0) continue;
        v /= 2;
      }
      if (!stage_ok(c.micro_batch, s)) continue;
      const Time t = stage_time(c.micro_batch, s, stages_behind(c, j));
      if (t < best_time) {
        best_time = t;
        best = s;
      }
    }
    if (best_time == Time::max()) return false;
    c.stages[j] = best;
    return true;
  }

  /// GPU conservation: take `need` GPUs from producer stages (halving them, smallest predicted
  /// slowdown first) or give `need` GPUs to consumers (doubling the slowest first).
  bool rebalance(AcesoConfig& c, size_t b, int64_t need, bool take) {
    std::vector<std::pair<int64_t, size_t>> order;  // (rank key, stage)
    for (size_t j = 0; j < c.stages.size(); ++j) {
      if (j == b) continue;
      const AcesoStage& s = c.stages[j];
      if (take ? s.gpus() < 2 || s.gpus() / 2 > need : s.gpus() > need) continue;
      AcesoStage probe = s;
      if (take) {
        if (probe.dp % 2 == 0) probe.dp /= 2; else if (probe.tp % 2 == 0) probe.tp /= 2; else continue;
      }
      const int64_t t = stage_ok(c.micro_batch, probe)
                            ? stage_time(c.micro_batch, probe, stages_behind(c, j)).ns()
                            : std::numeric_limits<int64_t>::max() / 2;
      order.emplace_back(take ? t : -t, j);
    }
    std::stable_sort(order.begin(), order.end());
    int64_t left = need;
    for (const auto& [rank, j] : order) {
      if (left == 0) break;
      const int64_t delta = take ? c.stages[j].gpus() / 2 : c.stages[j].gpus();
      if (delta > left) continue;
      if (!resize(c, j, !take)) continue;
      left -= delta;
    }
    return left == 0;
  }

  enum class Action { kDecOpLeft, kDecOpRight, kIncTp, kIncDp, kDecTp, kDecDp, kIncTpDecDp,
                      kIncDpDecTp, kIncMbs, kDecMbs };

  /// Aceso's action-ordering policy from the bottleneck's state.
  std::vector<Action> policy(const AcesoEstimate& e, int b) const {
    using A = Action;
    const bool oom = e.memory_overflow_mb > 0;
    std::vector<A> order;
    if (oom) {
      order = {A::kDecOpLeft, A::kDecOpRight, A::kIncTpDecDp, A::kIncTp, A::kIncDp, A::kDecMbs};
    } else {
      const Time ideal = e.ideal[b], loss = e.efficiency_loss[b], rc = e.recompute[b];
      if (rc >= ideal && rc >= loss) {
        order = {A::kDecOpLeft, A::kDecOpRight, A::kIncTpDecDp, A::kIncTp, A::kIncDp, A::kDecMbs};
      } else if (loss >= ideal) {
        order = {A::kIncMbs, A::kIncDpDecTp, A::kDecOpLeft, A::kDecOpRight, A::kIncDp, A::kIncTp};
      } else {
        order = {A::kDecOpLeft, A::kDecOpRight, A::kIncTp, A::kIncDp, A::kIncDpDecTp, A::kIncMbs};
      }
    }
    for (A a : {A::kDecOpLeft, A::kDecOpRight, A::kIncTp, A::kIncDp, A::kIncTpDecDp,
                A::kIncDpDecTp, A::kIncMbs, A::kDecMbs, A::kDecTp, A::kDecDp}) {
      if (std::find(order.begin(), order.end(), a) == order.end()) order.push_back(a);
    }
    return order;
  }

  /// Applies one primitive to the bottleneck; nullopt when it does not apply.
  std::optional<AcesoConfig> apply(const Evaluated& base, int b, Action a) {
    AcesoConfig c = base.config;
    AcesoStage& s = c.stages[b];
    switch (a) {
      case Action::kDecOpLeft:
      case Action::kDecOpRight:
        return move_ops(base, b, a == Action::kDecOpLeft ? -1 : 1);
      case Action::kIncTp:
      case Action::kIncDp: {
        if (opt_.uniform_parallelism) return std::nullopt;
        const int64_t g = s.gpus();
        (a == Action::kIncTp ? s.tp : s.dp) *= 2;
        if (!stage_ok(c.micro_batch, s) || !rebalance(c, b, g, true)) return std::nullopt;
        fix(c, b);
        return c;
      }
      case Action::kDecTp:
      case Action::kDecDp: {
        if (opt_.uniform_parallelism) return std::nullopt;
        int64_t& v = a == Action::kDecTp ? s.tp : s.dp;
        if (v % 2 != 0) return std::nullopt;
        v /= 2;
        if (!stage_ok(c.micro_batch, s) || !rebalance(c, b, c.stages[b].gpus(), false)) {
          return std::nullopt;
        }
        fix(c, b);
        return c;
      }
      case Action::kIncTpDecDp:
      case Action::kIncDpDecTp: {
        if (opt_.uniform_parallelism) return std::nullopt;
        int64_t& up = a == Action::kIncTpDecDp ? s.tp : s.dp;
        int64_t& down = a == Action::kIncTpDecDp ? s.dp : s.tp;
        if (down % 2 != 0) return std::nullopt;
        up *= 2;
        down /= 2;
        if (!stage_ok(c.micro_batch, s)) return std::nullopt;
        fix(c, b);
        return c;
      }
      case Action::kIncMbs:
      case Action::kDecMbs: {
        if (a == Action::kIncMbs) {
          c.micro_batch *= 2;
        } else {
          if (c.micro_batch % 2 != 0) return std::nullopt;
          c.micro_batch /= 2;
        }
        if (!opt_.micro_batches.empty() &&
            std::find(opt_.micro_batches.begin(), opt_.micro_batches.end(), c.micro_batch) ==
                opt_.micro_batches.end()) {
          return std::nullopt;
        }
        if (c.micro_batch < 1 || pr_.global_batch % c.micro_batch != 0) return std::nullopt;
        for (const auto& st : c.stages) {
          if (!stage_ok(c.micro_batch, st)) return std::nullopt;
        }
        fix_all(c);
        return c;
      }
    }
    return std::nullopt;
  }

  /// dec_op: move k ops from the bottleneck to its neighbour on side `dir`; k is Aceso's
  /// predicted balance point, found by trying powers of two and keeping the best.
  std::optional<AcesoConfig> move_ops(const Evaluated& base, int b, int dir) {
    const int partner = b + dir;
    if (partner < 0 || partner >= static_cast<int>(base.config.stages.size())) return std::nullopt;
    std::optional<AcesoConfig> best;
    Key best_key{std::numeric_limits<double>::max(), std::numeric_limits<int64_t>::max()};
    const int64_t n = base.config.stages[b].num_ops();
    for (int64_t k = 1; k < n && budget_left_ > 0; k *= 2) {
      AcesoConfig c = base.config;
      if (dir < 0) {
        c.stages[b].first_op += k;
        c.stages[partner].end_op += k;
      } else {
        c.stages[b].end_op -= k;
        c.stages[partner].first_op -= k;
      }
      fix(c, b);
      fix(c, partner);
      const AcesoEstimate e = estimate(c);
      if (!e.valid) continue;
      if (key_of(e) < best_key) {
        best_key = key_of(e);
        best = std::move(c);
      }
    }
    return best;
  }

  std::vector<Evaluated> neighbours(const Evaluated& base) {
    const AcesoEstimate& e = base.estimate;
    int b = e.bottleneck;
    if (e.memory_overflow_mb > 0) {
      double worst = 0;
      for (size_t i = 0; i < e.memory_mb.size(); ++i) {
        if (e.memory_mb[i] - limit_mb_ > worst) {
          worst = e.memory_mb[i] - limit_mb_;
          b = static_cast<int>(i);
        }
      }
    }
    std::vector<Evaluated> out;
    for (Action a : policy(e, b)) {
      if (budget_left_ <= 0) break;
      std::optional<AcesoConfig> c = apply(base, b, a);
      if (!c) continue;
      const uint64_t sig = signature(*c);
      if (!visited_.insert(sig).second) continue;
      AcesoEstimate est = estimate(*c);
      if (!est.valid) continue;
      out.push_back({std::move(*c), std::move(est)});
    }
    return out;
  }

  /// First neighbour (in policy order) better than `target`; else recurse into the most
  /// promising neighbours, up to max_hops actions deep.
  std::optional<Evaluated> hop(const Evaluated& base, Key target, int depth) {
    std::vector<Evaluated> cands = neighbours(base);
    for (auto& c : cands) {
      if (key_of(c.estimate) < target) return std::move(c);
    }
    if (depth >= opt_.max_hops) return std::nullopt;
    std::stable_sort(cands.begin(), cands.end(), [](const Evaluated& x, const Evaluated& y) {
      if (x.estimate.memory_overflow_mb != y.estimate.memory_overflow_mb) {
        return x.estimate.memory_overflow_mb < y.estimate.memory_overflow_mb;
      }
      return x.estimate.stage_time[x.estimate.bottleneck] <
             y.estimate.stage_time[y.estimate.bottleneck];
    });
    const size_t width = std::min<size_t>(cands.size(), static_cast<size_t>(opt_.hop_width));
    for (size_t i = 0; i < width && budget_left_ > 0; ++i) {
      if (auto r = hop(cands[i], target, depth + 1)) return r;
    }
    return std::nullopt;
  }

  const AcesoProblem& pr_;
  const AcesoOptions& opt_;
  double limit_mb_;
  std::unordered_set<uint64_t> visited_;  // membership only: never iterated into output
  int64_t budget_left_ = 0;
  int64_t evals_ = 0;
  int64_t improvements_ = 0;
};

/// Aceso's "balance" initial point: ops spread evenly; GPUs doubled round-robin, tp first up to
/// max_tp, then dp (Aceso stops at max_tp; dp lets the same rule reach 1,024 GPUs).
std::optional<AcesoConfig> balanced_config(const AcesoProblem& pr, const AcesoOptions& opt,
                                           int64_t stages) {
  const int64_t n = pr.num_ops();
  if (stages > n) return std::nullopt;
  std::vector<int64_t> gpus(static_cast<size_t>(stages), 1);
  int64_t used = stages;
  for (bool grew = true; grew && used < opt.gpus;) {
    grew = false;
    for (auto& g : gpus) {
      if (used < opt.gpus && g <= opt.gpus - used) {
        used += g;
        g *= 2;
        grew = true;
      }
    }
  }
  if (used != opt.gpus) return std::nullopt;
  AcesoConfig c;
  const int64_t per = n / stages;
  for (int64_t i = 0; i < stages; ++i) {
    AcesoStage s;
    s.first_op = i * per;
    s.end_op = i + 1 == stages ? n : (i + 1) * per;
    s.tp = std::min(gpus[i], opt.max_tp);
    s.dp = gpus[i] / s.tp;
    c.stages.push_back(s);
  }
  // The smallest micro-batch every stage can run.
  std::vector<int64_t> mbs = opt.micro_batches;
  if (mbs.empty()) {
    for (int64_t m = 1; m <= pr.global_batch; m *= 2) mbs.push_back(m);
  }
  for (int64_t m : mbs) {
    if (pr.global_batch % m != 0) continue;
    bool ok = true;
    for (const auto& s : c.stages) ok = ok && stage_rows(pr, m, s) != nullptr;
    if (ok) {
      c.micro_batch = m;
      return c;
    }
  }
  return std::nullopt;
}

}  // namespace

const std::vector<AcesoOpCost>* AcesoProblem::rows(int64_t mbs, int64_t tp) const {
  auto it = table.find({mbs, tp});
  return it == table.end() ? nullptr : &it->second;
}

Time AcesoProblem::p2p(double mb) const {
  if (mb <= 0) return Time::zero();
  if (profile) return profile->p2p(mib_bytes(mb));
  if (p2p_bandwidth.base() <= 0) return Time::zero();
  return mib_bytes(mb) / p2p_bandwidth;
}

int64_t AcesoConfig::gpus() const {
  int64_t g = 0;
  for (const auto& s : stages) g += s.gpus();
  return g;
}

Result<AcesoProblem> aceso_problem_from_profiles(const model::ProfileDb& db, int64_t layers,
                                                 int64_t global_batch) {
  if (layers < 1) return invalid_input("layers must be >= 1", "", Location{"--layers", 0});
  if (global_batch < 1) {
    return invalid_input("global batch must be >= 1", "", Location{"--global-batch", 0});
  }
  AcesoProblem pr;
  pr.layers = layers;
  pr.global_batch = global_batch;
  pr.micro_batches = db.micro_batches();
  pr.tensor_parallel = db.tensor_parallel();
  pr.profile = db;
  MLSYS_ASSIGN_OR_RETURN(auto base, db.ops(pr.micro_batches.front(), 1, 0));
  int first = -1, last = -1;
  for (size_t i = 0; i < base.size(); ++i) {
    if (base[i].name == kLayerFirstOp) first = static_cast<int>(i);
    if (base[i].name == kLayerLastOp) last = static_cast<int>(i);
  }
  if (first < 0 || last < first) {
    return unsupported("profile has no GPT layer ops (" + std::string(kLayerFirstOp) + " .. " +
                           std::string(kLayerLastOp) + ")",
                       "the Aceso planner reads GPT profiles");
  }
  auto add = [&](int row) {
    pr.op_names.push_back(base[row].name);
    pr.op_row.push_back(row);
    pr.starts_layer.push_back(row == first);
  };
  for (int r = 0; r < first; ++r) add(r);
  for (int64_t l = 0; l < layers; ++l) {
    for (int r = first; r <= last; ++r) add(r);
  }
  for (int r = last + 1; r < static_cast<int>(base.size()); ++r) add(r);
  for (int64_t mbs : pr.micro_batches) {
    for (int64_t tp : pr.tensor_parallel) {
      auto ops = db.ops(mbs, tp, 0);
      if (!ops) continue;  // holes in the grid are simply not offered to the search
      std::vector<AcesoOpCost> rows;
      for (const auto& op : *ops) {
        AcesoOpCost c;
        c.forward = op.forward;
        c.backward = op.backward;
        c.input_mb = op.input_mb;
        c.output_mb = op.output_mb;
        c.weights_mb = op.weights_mb;
        // Aceso's shared-space rule: softmax output shares dropout's buffer; dropout keeps a mask.
        c.activations_mb = op.name == "enc-attention-softmax"   ? 0.0
                           : op.name == "enc-attention-dropout" ? op.activations_mb * 1.5
                                                                : op.activations_mb;
        c.fwd_reserved_mb = op.fwd_reserved_mb;
        c.bwd_reserved_mb = op.bwd_reserved_mb;
        rows.push_back(c);
      }
      pr.table[{mbs, tp}] = std::move(rows);
    }
  }
  pr.name = "aceso-profile";
  return pr;
}

Result<AcesoProblem> aceso_problem_from_model(const model::ModelSpec& spec,
                                              const model::ComputeModel& compute,
                                              const Cluster& cluster, int64_t seq,
                                              int64_t global_batch,
                                              std::vector<int64_t> micro_batches,
                                              std::vector<int64_t> tensor_parallel) {
  if (seq < 1 || global_batch < 1 || micro_batches.empty() || tensor_parallel.empty()) {
    return invalid_input("seq, global batch, micro-batches and tp list must be positive",
                         "", Location{"aceso", 0});
  }
  std::sort(micro_batches.begin(), micro_batches.end());
  std::sort(tensor_parallel.begin(), tensor_parallel.end());
  AcesoProblem pr;
  pr.name = spec.name;
  pr.layers = spec.layers;
  pr.global_batch = global_batch;
  pr.pairwise_recompute = false;
  pr.micro_batches = micro_batches;
  pr.p2p_bandwidth = cluster.inter_node * cluster.inter_efficiency;
  pr.dp_bandwidth = cluster.inter_node * cluster.inter_efficiency;
  pr.op_names.push_back("embedding");
  pr.op_row.push_back(0);
  pr.starts_layer.push_back(false);
  for (int64_t l = 0; l < spec.layers; ++l) {
    pr.op_names.push_back("layer" + std::to_string(l));
    pr.op_row.push_back(1);
    pr.starts_layer.push_back(true);
  }
  pr.op_names.push_back("head");
  pr.op_row.push_back(2);
  pr.starts_layer.push_back(false);
  const Bandwidth tp_bw = cluster.intra_node * cluster.intra_efficiency;
  for (int64_t tp : tensor_parallel) {
    if (spec.heads % tp != 0) continue;
    pr.tensor_parallel.push_back(tp);
    for (int64_t mbs : micro_batches) {
      model::Shape shape{.batch = mbs, .seq = seq, .tp = tp, .sequence_parallel = tp > 1};
      const double act_bytes = static_cast<double>(mbs * seq * spec.hidden) * 2.0;
      auto price = [&](const std::vector<model::Op>& ops, int64_t tp_collectives) {
        AcesoOpCost c;
        double params = 0, saved = 0;
        for (const auto& op : ops) {
          const model::OpTime t = compute.time(op);
          c.forward += t.forward;
          c.backward += t.backward;
          params += op.params;
          saved += op.saved_bytes;
        }
        if (tp > 1 && tp_collectives > 0) {
          // Ring all-reduce (or RS+AG) of b*s*h fp16 elements: 2(t-1)/t of the bytes per link.
          const double ring = 2.0 * static_cast<double>(tp - 1) / static_cast<double>(tp);
          const Time one = B(std::llround(act_bytes * ring)) / tp_bw + cluster.intra_latency;
          c.forward += one * (tp_collectives / 2);
          c.backward += one * (tp_collectives / 2);
        }
        c.input_mb = act_bytes / (tp > 1 ? static_cast<double>(tp) : 1.0) / kMiB;
        c.output_mb = c.input_mb;
        c.weights_mb = params * 2.0 / kMiB;
        c.activations_mb = saved / kMiB;
        c.recompute_keeps_mb = act_bytes / static_cast<double>(tp) / kMiB;
        return c;
      };
      std::vector<AcesoOpCost> rows = {price(model::embedding_ops(spec, shape), 0),
                                       price(model::layer_ops(spec, shape), 4),
                                       price(model::head_ops(spec, shape), 0)};
      rows[0].recompute_keeps_mb = rows[0].activations_mb;
      rows[2].recompute_keeps_mb = rows[2].activations_mb;
      pr.table[{mbs, tp}] = std::move(rows);
    }
  }
  if (pr.tensor_parallel.empty()) {
    return invalid_input("no tensor-parallel degree divides the " + std::to_string(spec.heads) +
                             " heads", "", Location{"--tp", 0});
  }
  return pr;
}

AcesoEstimate aceso_estimate(const AcesoProblem& pr, const AcesoConfig& config,
                             Bytes memory_limit) {
  AcesoEstimate e;
  const size_t p = config.stages.size();
  const double limit_mb = static_cast<double>(memory_limit.count()) / kMiB;
  if (p == 0 || config.micro_batch < 1 || pr.global_batch % config.micro_batch != 0) {
    e.valid = false;
    return e;
  }
  e.micro_batches = pr.global_batch / config.micro_batch;
  Time sum, sync;
  for (size_t i = 0; i < p; ++i) {
    const AcesoStage& st = config.stages[i];
    if (static_cast<int64_t>(st.recompute.size()) != st.num_ops()) {
      e.valid = false;
      return e;
    }
    const StageEval ev = eval_stage(pr, config.micro_batch, st, stages_behind(config, i));
    if (!ev.valid) {
      e.valid = false;
      return e;
    }
    e.stage_time.push_back(ev.time);
    e.memory_mb.push_back(ev.memory_mb);
    e.ideal.push_back(ev.ideal);
    e.efficiency_loss.push_back(ev.eff_loss);
    e.recompute.push_back(ev.recompute);
    e.memory_overflow_mb += std::max(0.0, ev.memory_mb - limit_mb);
    sum += ev.time;
    sync = std::max(sync, dp_sync(pr, st, ev.weights_mb));
  }
  Time worst;
  for (size_t i = 0; i < p; ++i) {
    const Time t = e.stage_time[i] * (e.micro_batches - 1) + sum;
    if (t > worst) {
      worst = t;
      e.bottleneck = static_cast<int>(i);
    }
  }
  e.iteration = worst + sync;
  return e;
}

Result<AcesoConfig> aceso_uniform_config(const AcesoProblem& pr, int64_t pp, int64_t tp,
                                         int64_t dp, int64_t micro_batch, bool full_recompute) {
  if (pp < 1 || pr.layers % pp != 0) {
    return invalid_input(std::to_string(pr.layers) + " layers do not split over " +
                         std::to_string(pp) + " stages");
  }
  // Op index where layer l starts.
  std::vector<int64_t> layer_start;
  for (int64_t i = 0; i < pr.num_ops(); ++i) {
    if (pr.starts_layer[i]) layer_start.push_back(i);
  }
  if (static_cast<int64_t>(layer_start.size()) != pr.layers) {
    return Error(ErrorCode::kInternal, "layer markers do not match the layer count");
  }
  AcesoConfig c;
  c.micro_batch = micro_batch;
  const int64_t per = pr.layers / pp;
  for (int64_t i = 0; i < pp; ++i) {
    AcesoStage s;
    s.first_op = i == 0 ? 0 : layer_start[i * per];
    s.end_op = i + 1 == pp ? pr.num_ops() : layer_start[(i + 1) * per];
    s.tp = tp;
    s.dp = dp;
    s.recompute.assign(static_cast<size_t>(s.num_ops()), full_recompute ? 1 : 0);
    c.stages.push_back(std::move(s));
  }
  return c;
}

Result<AcesoResult> aceso_megatron_baseline(const AcesoProblem& pr, const AcesoOptions& opt) {
  std::optional<AcesoResult> best;
  int64_t evals = 0;
  for (int64_t pp = 1; pp <= std::min(opt.gpus, pr.layers); ++pp) {
    if (pr.layers % pp != 0 || opt.gpus % pp != 0) continue;
    for (int64_t tp : pr.tensor_parallel) {
      if (tp > opt.max_tp || (opt.gpus / pp) % tp != 0) continue;
      const int64_t dp = opt.gpus / pp / tp;
      for (int64_t mbs = dp; mbs <= pr.global_batch; mbs *= 2) {
        if (pr.global_batch % mbs != 0 || pr.rows(mbs / dp, tp) == nullptr || mbs % dp != 0) continue;
        for (bool full : {false, true}) {
          auto c = aceso_uniform_config(pr, pp, tp, dp, mbs, full);
          if (!c) continue;
          AcesoEstimate e = aceso_estimate(pr, *c, opt.memory_limit);
          ++evals;
          if (!e.valid || e.memory_overflow_mb > 0) continue;
          if (!best || e.iteration < best->estimate.iteration) {
            best = AcesoResult{*c, e, 0, 0, {}};
          }
        }
      }
    }
  }
  if (!best) {
    return invalid_input("no uniform plan fits the memory limit",
                         "raise the limit or add GPUs", Location{"--memory-limit", 0});
  }
  best->evaluations = evals;
  return *best;
}

Result<AcesoResult> aceso_search(const AcesoProblem& pr, const AcesoOptions& opt) {
  if (opt.gpus < 1) return invalid_input("gpus must be >= 1", "", Location{"--gpus", 0});
  if (opt.max_hops < 1 || opt.budget < 1) {
    return invalid_input("max_hops and budget must be >= 1", "", Location{"aceso", 0});
  }
  AcesoResult result;
  std::optional<Evaluated> best;
  Searcher searcher(pr, opt);
  auto consider = [&](const std::optional<Evaluated>& r, bool record) {
    if (!r || r->estimate.memory_overflow_mb > 0) return;
    if (record) {
      result.best_per_stage_count.emplace_back(
          static_cast<int64_t>(r->config.stages.size()), r->estimate.iteration);
    }
    if (!best || r->estimate.iteration < best->estimate.iteration) best = r;
  };
  const int64_t max_stages = std::min({opt.gpus, opt.max_stages, pr.layers});
  for (int64_t p = 1; p <= max_stages; ++p) {
    if (opt.seeds_only) break;
    auto start = balanced_config(pr, opt, p);
    if (!start) continue;
    if (opt.uniform_parallelism &&
        std::any_of(start->stages.begin(), start->stages.end(), [&](const AcesoStage& s) {
          return s.tp != start->stages[0].tp || s.dp != start->stages[0].dp;
        })) {
      continue;
    }
    consider(searcher.run(std::move(*start)), true);
  }
  for (const auto& seed : opt.seeds) {
    if (seed.gpus() != opt.gpus) {
      return invalid_input("seed configuration uses " + std::to_string(seed.gpus()) +
                           " GPUs, not " + std::to_string(opt.gpus));
    }
    consider(searcher.run(seed), false);
  }
  if (!best) {
    return invalid_input("no configuration fits the memory limit of " +
                             std::to_string(opt.memory_limit.count() >> 20) + " MiB",
                         "raise --memory-limit or add GPUs", Location{"--memory-limit", 0});
  }
  result.config = best->config;
  result.estimate = best->estimate;
  result.evaluations = searcher.evaluations();
  result.improvements = searcher.improvements();
  return result;
}

Result<Plan> aceso_to_plan(const AcesoProblem& pr, const AcesoConfig& config, int64_t seq) {
  if (config.stages.empty()) return invalid_input("empty configuration");
  Plan plan;
  plan.tp = config.stages[0].tp;
  plan.dp = config.stages[0].dp;
  plan.pp = static_cast<int64_t>(config.stages.size());
  plan.seq = seq;
  plan.global_batch = pr.global_batch;
  plan.micro_batch = config.micro_batch / plan.dp;
  for (const auto& s : config.stages) {
    if (s.tp != plan.tp || s.dp != plan.dp) {
      return unsupported("stages differ in tp x dp (" + std::to_string(s.tp) + "x" +
                             std::to_string(s.dp) + " vs " + std::to_string(plan.tp) + "x" +
                             std::to_string(plan.dp) + ")",
                         "a train::Plan has one tp and dp; print the Aceso configuration instead");
    }
    int64_t layers = 0, recomputed = 0;
    for (int64_t i = s.first_op; i < s.end_op; ++i) {
      if (pr.starts_layer[i]) ++layers;
      if (s.recompute[i - s.first_op]) ++recomputed;
    }
    plan.layers_per_stage.push_back(layers);
    plan.recompute_per_stage.push_back(recomputed == 0 ? Recompute::kNone : Recompute::kFull);
  }
  return plan;
}

std::string describe(const AcesoProblem& pr, const AcesoConfig& config,
                     const AcesoEstimate& estimate) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof(line), "micro-batch %lld, %lld micro-batches, iteration %.2f ms\n",
                static_cast<long long>(config.micro_batch),
                static_cast<long long>(estimate.micro_batches),
                estimate.iteration.seconds() * 1e3);
  out += line;
  for (size_t i = 0; i < config.stages.size(); ++i) {
    const auto& s = config.stages[i];
    const int64_t rc = std::count(s.recompute.begin(), s.recompute.end(), uint8_t{1});
    std::snprintf(line, sizeof(line),
                  "stage %zu: ops [%lld, %lld) %s..%s, tp %lld x dp %lld, %lld recomputed, "
                  "%.2f ms, %.0f MiB\n",
                  i, static_cast<long long>(s.first_op), static_cast<long long>(s.end_op),
                  pr.op_names[s.first_op].c_str(), pr.op_names[s.end_op - 1].c_str(),
                  static_cast<long long>(s.tp), static_cast<long long>(s.dp),
                  static_cast<long long>(rc),
                  i < estimate.stage_time.size() ? estimate.stage_time[i].seconds() * 1e3 : 0.0,
                  i < estimate.memory_mb.size() ? estimate.memory_mb[i] : 0.0);
    out += line;
  }
  return out;
}

Result<PlannerSearch> aceso_plan_search(const model::ModelSpec& model, const Cluster& cluster,
                                        const GridResult& grid, const PlannerSearchOptions& options,
                                        const AcesoProblem* problem) {
  if (grid.best.empty()) return invalid_input("the grid search returned no plan to start from");
  const Plan& template_plan = grid.best.front().plan;
  std::unique_ptr<model::ComputeModel> owned;
  const model::ComputeModel* compute = options.sim.compute;
  if (compute == nullptr) {
    MLSYS_ASSIGN_OR_RETURN(owned, default_compute_model(cluster, template_plan.precision));
    compute = owned.get();
  }
  SimOptions sim = options.sim;
  sim.compute = compute;
  std::optional<AcesoProblem> from_model;
  if (problem == nullptr) {
    // Per-replica micro-batches: the grid's choices plus the small powers of two Aceso tries.
    std::vector<int64_t> mbs = {1, 2, 4};
    for (const RankedPlan& rp : grid.best) {
      if (std::find(mbs.begin(), mbs.end(), rp.plan.micro_batch) == mbs.end()) {
        mbs.push_back(rp.plan.micro_batch);
      }
    }
    std::vector<int64_t> tps;
    for (int64_t t = 1; t <= cluster.gpus_per_node && t <= cluster.gpus; t *= 2) tps.push_back(t);
    MLSYS_ASSIGN_OR_RETURN(from_model, aceso_problem_from_model(model, *compute, cluster,
                                                                template_plan.seq,
                                                                template_plan.global_batch, mbs, tps));
    problem = &*from_model;
  } else if (problem->layers != model.layers) {
    return invalid_input("the profiles describe " + std::to_string(problem->layers) +
                             "-layer stages but " + model.name + " has " +
                             std::to_string(model.layers) + " layers",
                         "use --model gpt-1.3b-aceso with the shipped GPT-1.3B profiles",
                         Location{"--profiles", 0});
  }
  AcesoOptions base_opt{.gpus = cluster.gpus,
                        .memory_limit = cluster.gpu.hbm_capacity,
                        .max_tp = std::min(cluster.gpus_per_node, cluster.gpus),
                        .uniform_parallelism = true};
  // One search from the balanced starts, one from each grid plan Aceso's op list can express:
  // each run's best becomes a candidate, so the list shows more than one plan.
  std::vector<AcesoOptions> runs = {base_opt};
  int64_t bases = 0;
  for (const RankedPlan& rp : grid.best) {
    if (bases >= options.bases) break;
    const Plan& g = rp.plan;
    auto seed = aceso_uniform_config(*problem, g.pp, g.tp, g.dp, g.micro_batch * g.dp,
                                     g.recompute == Recompute::kFull);
    if (!seed || !aceso_estimate(*problem, *seed, base_opt.memory_limit).valid) continue;
    AcesoOptions o = base_opt;
    o.seeds_only = true;
    o.seeds = {*seed};
    runs.push_back(std::move(o));
    ++bases;
  }
  std::vector<RankedPlan> candidates;
  for (const AcesoOptions& o : runs) {
    auto r = aceso_search(*problem, o);
    if (!r) continue;
    auto shape = aceso_to_plan(*problem, r->config, template_plan.seq);
    if (!shape) continue;
    // The grid plan's settings (ZeRO, precision, overlap, MegaScale) with Aceso's shape.
    Plan plan = template_plan;
    plan.tp = shape->tp;
    plan.pp = shape->pp;
    plan.dp = shape->dp;
    plan.micro_batch = shape->micro_batch;
    plan.schedule = Schedule::k1F1B;
    plan.virtual_stages = 1;
    plan.layers_per_stage = shape->layers_per_stage;
    plan.recompute_per_stage = shape->recompute_per_stage;
    auto ranked = lower_recompute(model, cluster, plan, sim);
    if (!ranked || !ranked->prediction.fits) continue;
    candidates.push_back(std::move(*ranked));
  }
  const int64_t planned = static_cast<int64_t>(candidates.size());
  PlannerSearch out = merge_with_grid(grid, std::move(candidates), "aceso", options.top);
  out.bases = bases;
  out.planned = planned;
  return out;
}

}  // namespace mlsys::train
