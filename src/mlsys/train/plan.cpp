#include "mlsys/train/plan.h"

#include <string>

#include "mlsys/core/csv_reader.h"
#include "mlsys/train/internal/embedded_data.h"

namespace mlsys::train {
namespace {

std::string str(int64_t v) { return std::to_string(v); }

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

struct TierRow {
  double efficiency = 1.0;
  Time latency;
};

// The network.csv rows for `family` (falling back to "default"), tiers nvlink and nic.
Result<std::pair<TierRow, TierRow>> network_rows(std::string_view family) {
  MLSYS_ASSIGN_OR_RETURN(CsvReader csv,
                         CsvReader::from_string(std::string(internal::embedded_network_csv()), "data/train/network.csv"));
  TierRow nvlink, nic, def_nvlink, def_nic;
  bool have_nvlink = false, have_nic = false, have_def_nvlink = false, have_def_nic = false;
  CsvRow row;
  for (;;) {
    MLSYS_ASSIGN_OR_RETURN(bool more, csv.next(row));
    if (!more) break;
    MLSYS_ASSIGN_OR_RETURN(std::string_view gpu, row.get("gpu"));
    MLSYS_ASSIGN_OR_RETURN(std::string_view tier, row.get("tier"));
    MLSYS_ASSIGN_OR_RETURN(double eff, row.get_double("efficiency"));
    MLSYS_ASSIGN_OR_RETURN(double lat, row.get_double("latency_us"));
    const TierRow r{eff, us(lat)};
    const bool nvl = tier == "nvlink";
    if (gpu == family) {
      (nvl ? nvlink : nic) = r;
      (nvl ? have_nvlink : have_nic) = true;
    } else if (gpu == "default") {
      (nvl ? def_nvlink : def_nic) = r;
      (nvl ? have_def_nvlink : have_def_nic) = true;
    }
  }
  if (!have_nvlink) nvlink = def_nvlink;
  if (!have_nic) nic = def_nic;
  if (!(have_nvlink || have_def_nvlink) || !(have_nic || have_def_nic)) {
    return Error(ErrorCode::kInternal, "data/train/network.csv lacks default nvlink/nic rows");
  }
  return std::pair{nvlink, nic};
}

// "a100" for "A100-SXM4-80GB": the family key of the data tables.
std::string gpu_family(const hw::GpuSpec& gpu) {
  std::string lower = to_lower(gpu.name);
  const size_t dash = lower.find('-');
  return dash == std::string::npos ? lower : lower.substr(0, dash);
}

}  // namespace

std::string_view to_string(Schedule schedule) {
  switch (schedule) {
    case Schedule::kGpipe: return "gpipe";
    case Schedule::k1F1B: return "1f1b";
    case Schedule::kInterleaved: return "interleaved";
  }
  return "?";
}

std::string_view to_string(Recompute recompute) {
  switch (recompute) {
    case Recompute::kNone: return "none";
    case Recompute::kSelective: return "selective";
    case Recompute::kFull: return "full";
  }
  return "?";
}

Result<std::pair<Schedule, int64_t>> parse_schedule(std::string_view text) {
  const std::string t = to_lower(text);
  if (t == "gpipe") return std::pair{Schedule::kGpipe, int64_t{1}};
  if (t == "1f1b") return std::pair{Schedule::k1F1B, int64_t{1}};
  const std::string prefix = "interleaved:";
  if (t.rfind(prefix, 0) == 0) {
    const std::string digits = t.substr(prefix.size());
    int64_t v = 0;
    bool ok = !digits.empty() && digits.size() <= 6;
    for (char c : digits) {
      if (c < '0' || c > '9') ok = false;
      else v = v * 10 + (c - '0');
    }
    if (!ok || v < 2) {
      return invalid_input("bad schedule '" + std::string(text) + "'",
                           "interleaved:V needs V >= 2 model chunks per device, e.g. interleaved:2");
    }
    return std::pair{Schedule::kInterleaved, v};
  }
  return invalid_input("unknown schedule '" + std::string(text) + "'", "accepted: gpipe, 1f1b, interleaved:V");
}

Result<Recompute> parse_recompute(std::string_view text) {
  const std::string t = to_lower(text);
  if (t == "none") return Recompute::kNone;
  if (t == "selective") return Recompute::kSelective;
  if (t == "full") return Recompute::kFull;
  return invalid_input("unknown recompute mode '" + std::string(text) + "'", "accepted: none, selective, full");
}

int64_t Plan::stage_layers(int64_t total_layers, int64_t stage) const {
  if (!layers_per_stage.empty()) return layers_per_stage[static_cast<size_t>(stage)];
  return total_layers / pp;
}

Recompute Plan::stage_recompute(int64_t stage) const {
  if (!recompute_per_stage.empty()) return recompute_per_stage[static_cast<size_t>(stage)];
  return recompute;
}

void apply_megascale(Plan& plan) {
  plan.parallel_block = true;
  plan.overlap_tp = true;
  plan.overlap_pp = true;
  plan.overlap_dp = true;
  plan.flash_attention = true;
}

void apply_megatron_baseline(Plan& plan) {
  plan.parallel_block = false;
  plan.overlap_tp = false;
  plan.overlap_pp = true;
  plan.overlap_dp = true;
  plan.flash_attention = false;
}

void apply_megatron_sc21(Plan& plan) {
  apply_megatron_baseline(plan);
  plan.overlap_dp = false;
  plan.overlap_pp = false;
}

Result<Cluster> make_cluster(const hw::GpuSpec& gpu, int64_t gpus) {
  if (gpus < 1) return invalid_input("--gpus must be >= 1, got " + str(gpus), {}, {"--gpus"});
  Cluster c;
  c.gpu = gpu;
  c.gpus = gpus;
  c.gpus_per_node = 8;
  if (gpus > c.gpus_per_node && gpus % c.gpus_per_node != 0) {
    return invalid_input("--gpus " + str(gpus) + " is not a whole number of " + str(c.gpus_per_node) + "-GPU nodes",
                         "use a multiple of 8", {"--gpus"});
  }
  c.intra_node = gpu.nvlink_bandwidth.base() > 0 ? gpu.nvlink_bandwidth : gpu.nic_bandwidth;
  c.inter_node = gpu.nic_bandwidth;
  if (c.intra_node.base() <= 0 || c.inter_node.base() <= 0) {
    return invalid_input("GPU '" + gpu.name + "' has no NVLink or NIC bandwidth in the catalog",
                         "add nvlink_bandwidth and nic_bandwidth to its spec", {"--gpu"});
  }
  MLSYS_ASSIGN_OR_RETURN(auto rows, network_rows(gpu_family(gpu)));
  c.intra_efficiency = rows.first.efficiency;
  c.intra_latency = rows.first.latency;
  c.inter_efficiency = rows.second.efficiency;
  c.inter_latency = rows.second.latency;
  return c;
}

Status check_plan(const model::ModelSpec& model, const Cluster& cluster, const Plan& plan) {
  const auto positive = [](int64_t v, const char* option) -> Status {
    if (v < 1) return invalid_input(std::string(option) + " must be >= 1, got " + str(v), {}, {option});
    return {};
  };
  MLSYS_RETURN_IF_ERROR(positive(plan.tp, "--tp"));
  MLSYS_RETURN_IF_ERROR(positive(plan.pp, "--pp"));
  MLSYS_RETURN_IF_ERROR(positive(plan.dp, "--dp"));
  MLSYS_RETURN_IF_ERROR(positive(plan.ep, "--ep"));
  MLSYS_RETURN_IF_ERROR(positive(plan.micro_batch, "--mbs"));
  MLSYS_RETURN_IF_ERROR(positive(plan.global_batch, "--gbs"));
  MLSYS_RETURN_IF_ERROR(positive(plan.seq, "--seq"));
  MLSYS_RETURN_IF_ERROR(positive(plan.virtual_stages, "--schedule"));
  if (plan.gpus() != cluster.gpus) {
    return invalid_input("tp*pp*dp = " + str(plan.tp) + "*" + str(plan.pp) + "*" + str(plan.dp) + " = " +
                             str(plan.gpus()) + " but --gpus is " + str(cluster.gpus),
                         "the three parallel degrees must multiply to the GPU count", {"--gpus"});
  }
  if (model.heads % plan.tp != 0) {
    return invalid_input("attention heads " + str(model.heads) + " are not divisible by tp " + str(plan.tp),
                         "tp must divide the head count", {"--tp"});
  }
  if (model.kv_heads > 0 && model.kv_heads % plan.tp != 0 && plan.tp % model.kv_heads != 0) {
    return invalid_input("kv heads " + str(model.kv_heads) + " and tp " + str(plan.tp) + " do not divide one another",
                         "GQA needs kv_heads % tp == 0 or tp % kv_heads == 0", {"--tp"});
  }
  if (plan.sequence_parallel && plan.tp > 1 && plan.seq % plan.tp != 0) {
    return invalid_input("sequence length " + str(plan.seq) + " is not divisible by tp " + str(plan.tp),
                         "sequence parallelism splits the sequence over tp ranks", {"--seq"});
  }
  const int64_t v = plan.chunks();
  if (plan.schedule == Schedule::kInterleaved && plan.pp < 2) {
    return invalid_input("the interleaved schedule needs pp >= 2, got pp " + str(plan.pp), "use 1f1b", {"--schedule"});
  }
  if (plan.layers_per_stage.empty()) {
    if (model.layers < plan.pp * v) {
      return invalid_input("layers " + str(model.layers) + " < pipeline stages " + str(plan.pp * v) + " (pp*v)",
                           "every stage (and model chunk) needs at least one layer", {"--pp"});
    }
    if (model.layers % (plan.pp * v) != 0) {
      return invalid_input("layers " + str(model.layers) + " are not divisible by pp*v = " + str(plan.pp * v),
                           "uniform stages need L % (pp*v) == 0; a planner can give layers_per_stage", {"--pp"});
    }
  } else {
    if (static_cast<int64_t>(plan.layers_per_stage.size()) != plan.pp) {
      return invalid_input("layers_per_stage has " + str(static_cast<int64_t>(plan.layers_per_stage.size())) +
                               " entries, pp is " + str(plan.pp), {}, {"layers_per_stage"});
    }
    int64_t sum = 0;
    for (int64_t l : plan.layers_per_stage) {
      if (l < v || l % v != 0) {
        return invalid_input("a stage with " + str(l) + " layers cannot hold " + str(v) + " equal model chunks",
                             "each stage needs a positive multiple of v layers", {"layers_per_stage"});
      }
      sum += l;
    }
    if (sum != model.layers) {
      return invalid_input("layers_per_stage sums to " + str(sum) + ", the model has " + str(model.layers) + " layers",
                           {}, {"layers_per_stage"});
    }
  }
  if (!plan.recompute_per_stage.empty() && static_cast<int64_t>(plan.recompute_per_stage.size()) != plan.pp) {
    return invalid_input("recompute_per_stage has " + str(static_cast<int64_t>(plan.recompute_per_stage.size())) +
                             " entries, pp is " + str(plan.pp), {}, {"recompute_per_stage"});
  }
  if (plan.global_batch % (plan.micro_batch * plan.dp) != 0) {
    return invalid_input("global batch " + str(plan.global_batch) + " is not divisible by mbs*dp = " +
                             str(plan.micro_batch) + "*" + str(plan.dp) + " = " + str(plan.micro_batch * plan.dp),
                         "every pipeline runs a whole number of micro-batches", {"--gbs"});
  }
  if (plan.schedule == Schedule::kInterleaved && plan.micro_batches() % plan.pp != 0) {
    return invalid_input("the interleaved schedule needs micro-batches m = " + str(plan.micro_batches()) +
                             " to be a multiple of pp " + str(plan.pp),
                         "Megatron-LM's interleaved 1F1B runs micro-batches in groups of pp", {"--schedule"});
  }
  if (plan.zero_stage < 0 || plan.zero_stage > 3) {
    return invalid_input("ZeRO stage must be 0..3, got " + str(plan.zero_stage), {}, {"--zero"});
  }
  if (plan.ep > 1) {
    if (!model.is_moe()) return invalid_input("--ep " + str(plan.ep) + " on a dense model", "ep needs MoE", {"--ep"});
    if (plan.dp % plan.ep != 0) {
      return invalid_input("ep " + str(plan.ep) + " does not divide dp " + str(plan.dp),
                           "expert parallelism splits the experts inside the DP group", {"--ep"});
    }
    if (model.moe.experts % plan.ep != 0) {
      return invalid_input("experts " + str(model.moe.experts) + " are not divisible by ep " + str(plan.ep), {},
                           {"--ep"});
    }
  }
  if (plan.sliding_window < 0) {
    return invalid_input("sliding window must be >= 0, got " + str(plan.sliding_window), {}, {"--window"});
  }
  return {};
}

}  // namespace mlsys::train
