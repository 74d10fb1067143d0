#include "mlsys/serve/capacity.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace mlsys::serve {

bool meets_slo(const SimResult& run, const CapacityOptions& o, CapacityTrial& trial) {
  if (o.criterion == CapacityCriterion::kSarathi) {
    const Summary s = run.metrics.summary(o.slo);
    trial.tbt_p99_s = s.tbt.p99;
    trial.scheduling_delay_p50_s = s.scheduling_delay.p50;
    const bool tbt = !o.slo.tbt_p99 || s.tbt.p99 <= o.slo.tbt_p99->seconds();
    // Requests the scheduler dropped count against the run: a rate that sheds load is not served.
    return tbt && s.scheduling_delay.p50 <= o.slo.max_median_scheduling_delay.seconds() &&
           run.finished + run.ignored == run.requests && run.finished > 0;
  }
  const double offered = static_cast<double>(std::max<int64_t>(1, run.requests));
  const Summary ttft = run.metrics.summary(Slo{.ttft = o.slo.ttft});
  const Summary tpot = run.metrics.summary(Slo{.tpot = o.slo.tpot});
  // Attainment over offered requests, so unfinished ones count as misses.
  trial.ttft_attainment = ttft.slo_attainment * static_cast<double>(ttft.requests) / offered;
  trial.tpot_attainment = tpot.slo_attainment * static_cast<double>(tpot.requests) / offered;
  trial.tbt_p99_s = ttft.tbt.p99;
  trial.scheduling_delay_p50_s = ttft.scheduling_delay.p50;
  return trial.ttft_attainment >= o.attainment && trial.tpot_attainment >= o.attainment;
}

Result<CapacityResult> find_capacity(const WorkloadAtRate& workload, const SimConfig& config, const CapacityOptions& o) {
  if (!(o.start_rate > 0) || !(o.max_rate >= o.start_rate)) {
    return invalid_input("capacity search needs 0 < start rate <= max rate", {}, {"--start-rate"});
  }
  CapacityResult result;
  auto trial = [&](double rate) -> Result<bool> {
    MLSYS_ASSIGN_OR_RETURN(Workload w, workload(rate));
    MLSYS_ASSIGN_OR_RETURN(SimResult run, simulate(w, config));
    CapacityTrial t{.rate = rate};
    t.ok = meets_slo(run, o, t);
    result.trials.push_back(t);
    return t.ok;
  };
  double lo = 0, hi = 0;
  double rate = o.start_rate;
  MLSYS_ASSIGN_OR_RETURN(bool ok, trial(rate));
  int trials = 1;
  if (ok) {
    lo = rate;
    while (trials < o.max_trials) {
      rate = std::min(o.max_rate, rate * 2);
      MLSYS_ASSIGN_OR_RETURN(bool up, trial(rate));
      ++trials;
      if (!up) {
        hi = rate;
        break;
      }
      lo = rate;
      if (rate >= o.max_rate) {
        result.capacity_rps = lo;
        return result;
      }
    }
  } else {
    hi = rate;
    while (trials < o.max_trials && lo == 0) {
      rate /= 2;
      MLSYS_ASSIGN_OR_RETURN(bool down, trial(rate));
      ++trials;
      if (down) lo = rate; else hi = rate;
      if (rate < o.start_rate * 1e-4) break;
    }
    if (lo == 0) return result;
  }
  while (hi > 0 && (hi - lo) / hi > o.tolerance && trials < o.max_trials) {
    const double mid = 0.5 * (lo + hi);
    MLSYS_ASSIGN_OR_RETURN(bool m, trial(mid));
    ++trials;
    if (m) lo = mid; else hi = mid;
  }
  result.capacity_rps = lo;
  return result;
}

Result<PlacementResult> search_placement(const WorkloadAtRate& workload, const InstanceFactory& factory,
                                         const PlacementOptions& o) {
  PlacementResult result;
  std::map<std::pair<int64_t, int64_t>, Result<InstanceModel>> cache;
  auto get = [&](int64_t tp, int64_t pp) -> const Result<InstanceModel>& {
    auto it = cache.find({tp, pp});
    if (it == cache.end()) it = cache.emplace(std::pair{tp, pp}, factory(tp, pp)).first;
    return it->second;
  };
  for (int64_t tpp : o.tp) {
    for (int64_t ppp : o.pp) {
      for (int64_t tpd : o.tp) {
        for (int64_t ppd : o.pp) {
          const int64_t gpus = tpp * ppp + tpd * ppd;
          if (gpus > o.gpus) continue;
          const Result<InstanceModel>& pre = get(tpp, ppp);
          const Result<InstanceModel>& dec = get(tpd, ppd);
          if (!pre || !dec) {
            ++result.skipped;
            continue;
          }
          SimConfig c{.scheduler = SchedulerKind::kDistServe, .options = o.scheduler};
          c.distserve = o.base;
          c.distserve.prefill_instances = 1;
          c.distserve.decode_instances = 1;
          c.distserve.prefill_time = pre->time;
          c.distserve.decode_time = dec->time;
          c.distserve.prefill_blocks = pre->blocks;
          c.distserve.decode_blocks = dec->blocks;
          MLSYS_ASSIGN_OR_RETURN(CapacityResult cap, find_capacity(workload, c, o.capacity));
          result.candidates.push_back({.prefill_tp = tpp, .prefill_pp = ppp, .decode_tp = tpd, .decode_pp = ppd,
                                       .gpus = gpus, .pair_rps = cap.capacity_rps,
                                       .goodput_per_gpu = cap.capacity_rps / static_cast<double>(gpus)});
        }
      }
    }
  }
  if (result.candidates.empty()) {
    return invalid_input("no placement fits: every (tp, pp) was refused or exceeds " + std::to_string(o.gpus) + " GPUs",
                         "allow more GPUs or other tp/pp degrees", {"--gpus"});
  }
  std::stable_sort(result.candidates.begin(), result.candidates.end(),
                   [](const PlacementCandidate& a, const PlacementCandidate& b) {
                     if (a.goodput_per_gpu != b.goodput_per_gpu) return a.goodput_per_gpu > b.goodput_per_gpu;
                     return a.gpus < b.gpus;
                   });
  return result;
}

}  // namespace mlsys::serve
