// mlsys net sim: a traffic pattern on a topology through the flow-level model.

#include <algorithm>
#include <numeric>
#include <ostream>

#include "mlsys/cli/internal/groups.h"
#include "mlsys/cli/internal/output.h"
#include "mlsys/core/chrome_trace.h"
#include "mlsys/core/rng.h"
#include "mlsys/core/svg_plot.h"
#include "mlsys/hw/topology_builders.h"
#include "mlsys/net/flow_network.h"

namespace mlsys::cli {
namespace {

struct SizeRange {
  Bytes lo;
  Bytes hi;
};

// "1MiB" or "256KiB..4MiB".
Result<SizeRange> parse_size_range(const std::string& text) {
  const size_t dots = text.find("..");
  if (dots == std::string::npos) {
    MLSYS_ASSIGN_OR_RETURN(Bytes b, parse_bytes(text));
    return SizeRange{b, b};
  }
  auto lo = parse_bytes(text.substr(0, dots));
  auto hi = parse_bytes(text.substr(dots + 2));
  if (!lo) return lo.error().at({"--size"});
  if (!hi) return hi.error().at({"--size"});
  if (*hi < *lo) return invalid_input("size range '" + text + "' is reversed", "write LOW..HIGH", {"--size"});
  return SizeRange{*lo, *hi};
}

Result<std::vector<net::FlowSpec>> make_flows(const hw::Topology& topo, const OptionValues& o, uint64_t seed) {
  const int p = topo.endpoint_count();
  if (p < 2) return invalid_input("the topology has fewer than 2 endpoints", "use a larger topology", {"--topology"});
  auto range = parse_size_range(o.text("size"));
  if (!range) return range.error().at({"--size"});
  const Time window = o.time("window");
  const std::string& pattern = o.text("pattern");
  RngStream pairs(seed, "net/sim/pairs");
  RngStream sizes(seed, "net/sim/sizes");
  RngStream starts(seed, "net/sim/starts");

  std::vector<std::pair<int, int>> endpoints;
  if (pattern == "neighbor") {
    for (int r = 0; r < p; ++r) endpoints.emplace_back(r, (r + 1) % p);
  } else if (pattern == "permutation") {
    // A random derangement (Sattolo's algorithm: one cycle, so nobody sends to itself).
    std::vector<int> perm(static_cast<size_t>(p));
    std::iota(perm.begin(), perm.end(), 0);
    for (int i = p - 1; i > 0; --i) std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(pairs.uniform_int(0, i - 1))]);
    for (int r = 0; r < p; ++r) endpoints.emplace_back(r, perm[static_cast<size_t>(r)]);
  } else if (pattern == "alltoall") {
    if (static_cast<int64_t>(p) * (p - 1) > 4'000'000) {
      return invalid_input("alltoall on " + std::to_string(p) + " endpoints is too many flows", "use at most 2000 endpoints",
                           {"--pattern"});
    }
    for (int s = 0; s < p; ++s) {
      for (int d = 0; d < p; ++d) {
        if (s != d) endpoints.emplace_back(s, d);
      }
    }
  } else if (pattern == "incast") {
    for (int r = 1; r < p; ++r) endpoints.emplace_back(r, 0);
  } else {  // random
    const int64_t n = o.integer("flows");
    if (n < 1 || n > 10'000'000) return invalid_input("--flows must be in 1..10000000", "e.g. --flows 1000", {"--flows"});
    for (int64_t i = 0; i < n; ++i) {
      const int s = static_cast<int>(pairs.uniform_int(0, p - 1));
      int d = static_cast<int>(pairs.uniform_int(0, p - 2));
      if (d >= s) ++d;
      endpoints.emplace_back(s, d);
    }
  }
  std::vector<net::FlowSpec> flows;
  flows.reserve(endpoints.size());
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const auto [s, d] = endpoints[i];
    const Bytes size = range->lo == range->hi ? range->lo : B(sizes.uniform_int(range->lo.count(), range->hi.count()));
    const Time start = window > Time::zero() ? Time::from_ns(starts.uniform_int(0, window.ns() - 1)) : Time::zero();
    flows.push_back({.src = topo.endpoint(s), .dst = topo.endpoint(d), .size = size, .start = start,
                     .flow_key = mix64(seed ^ i)});
  }
  std::stable_sort(flows.begin(), flows.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
  return flows;
}

double percentile(std::vector<double> sorted, double q) {
  if (sorted.empty()) return 0.0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5));
  return sorted[i];
}

Status run_net_sim(Context& ctx) {
  const OptionValues& o = ctx.options;
  MLSYS_ASSIGN_OR_RETURN(hw::Topology topo, hw::parse_topology_spec(o.text("topology")));
  MLSYS_ASSIGN_OR_RETURN(std::vector<net::FlowSpec> flows, make_flows(topo, o, ctx.global.seed));

  sim::Engine engine;
  net::FlowNetwork network(engine, topo,
                           {.mode = o.text("mode") == "full" ? net::RecomputeMode::kFull : net::RecomputeMode::kLazy});
  std::vector<net::FlowId> ids;
  ids.reserve(flows.size());
  for (const auto& f : flows) {
    MLSYS_ASSIGN_OR_RETURN(net::FlowId id, network.start_flow(f));
    ids.push_back(id);
  }
  MLSYS_ASSIGN_OR_RETURN(sim::RunSummary summary, engine.run());

  std::vector<double> fct;
  fct.reserve(flows.size());
  Time makespan = Time::zero();
  double total_bytes = 0;
  for (size_t i = 0; i < flows.size(); ++i) {
    const Time done = network.finish_time(ids[i]);
    makespan = std::max(makespan, done);
    fct.push_back((done - flows[i].start).seconds());
    total_bytes += static_cast<double>(flows[i].size.count());
  }
  std::vector<double> sorted = fct;
  std::sort(sorted.begin(), sorted.end());
  const double mean = std::accumulate(fct.begin(), fct.end(), 0.0) / static_cast<double>(fct.size());
  const double goodput = makespan > Time::zero() ? total_bytes / makespan.seconds() : 0.0;
  const auto& c = network.counters();

  if (!ctx.global.quiet) ctx.err << "mlsys: engine: " << summary.to_string() << "\n";
  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.field("topology", topo.name()).field("endpoints", topo.endpoint_count()).field("flows", static_cast<int64_t>(flows.size()));
    w.field("bytes", total_bytes).field("makespan_s", makespan.seconds()).field("fct_mean_s", mean);
    w.field("fct_p50_s", percentile(sorted, 0.5)).field("fct_p99_s", percentile(sorted, 0.99));
    w.field("fct_max_s", sorted.back()).field("goodput_Bps", goodput);
    w.field("rate_recomputations", c.recomputations).field("mean_flows_touched", c.mean_flows_touched());
    w.field("events", static_cast<int64_t>(summary.events_processed));
    w.end_object();
    ctx.out << "\n";
  } else {
    ctx.out << "net sim on " << topo.name() << " (" << topo.endpoint_count() << " endpoints): " << flows.size()
            << " flows, pattern " << o.text("pattern") << ", sizes " << o.text("size") << "\n";
    ctx.out << "  makespan      " << format_time(makespan) << "\n";
    ctx.out << "  FCT mean      " << format_time(from_seconds(mean)) << "\n";
    ctx.out << "  FCT p50/p99   " << format_time(from_seconds(percentile(sorted, 0.5))) << " / "
            << format_time(from_seconds(percentile(sorted, 0.99))) << "\n";
    ctx.out << "  goodput       " << format_bandwidth(Bps(goodput)) << " aggregate\n";
    ctx.out << "  rate solves   " << c.recomputations << " (" << fmt(c.mean_flows_touched(), 3)
            << " flows re-solved on average, " << o.text("mode") << " recompute)\n";
  }

  if (!ctx.global.trace.empty()) {
    ChromeTrace trace;
    for (int r = 0; r < topo.endpoint_count(); ++r) trace.set_process_name(r, "rank " + std::to_string(r));
    for (size_t i = 0; i < flows.size(); ++i) {
      const int src = topo.node(flows[i].src).rank;
      const int dst = topo.node(flows[i].dst).rank;
      trace.add_complete(src, static_cast<int>(i), "to " + std::to_string(dst) + " " + format_bytes(flows[i].size),
                         "flow", flows[i].start, network.finish_time(ids[i]) - flows[i].start);
    }
    MLSYS_RETURN_IF_ERROR(write_side_file(ctx, ctx.global.trace, trace.to_string(), "trace"));
  }
  if (!ctx.global.plot.empty()) {
    LinePlot plot("Flow completion time CDF: " + topo.name(), {.label = "flow completion time (us)"},
                  {.label = "fraction of flows"});
    std::vector<double> x;
    std::vector<double> y;
    for (size_t i = 0; i < sorted.size(); ++i) {
      x.push_back(sorted[i] * 1e6);
      y.push_back(static_cast<double>(i + 1) / static_cast<double>(sorted.size()));
    }
    plot.add_series(o.text("pattern"), std::move(x), std::move(y));
    MLSYS_ASSIGN_OR_RETURN(std::string svg, plot.render());
    MLSYS_RETURN_IF_ERROR(write_side_file(ctx, ctx.global.plot, svg, "plot"));
  }
  return {};
}

}  // namespace

std::vector<Command> net_commands() {
  return {
      {.group = "net",
       .name = "sim",
       .summary = "run a traffic pattern through the flow-level network model (max-min fair sharing)",
       .description =
           "Each flow waits its route's latency, then shares link bandwidth max-min fairly with the flows it\n"
           "meets; rates are re-solved lazily for the flows a change touches (--mode full re-solves all,\n"
           "the reference). Routes: dimension-order on tori, deterministic ECMP elsewhere.\n"
           "Examples:\n  mlsys net sim --topology fattree:k=8 --pattern permutation --size 16MiB\n"
           "  mlsys net sim --topology torus:8x8 --pattern random --flows 5000 --size 64KiB..8MiB --window 1ms --json",
       .options =
           {topology_option(),
            {.name = "pattern", .type = OptionType::kString, .default_value = "permutation",
             .description = "who sends to whom: rank r to r+1, a random derangement, N random pairs, every pair, or all to rank 0",
             .choices = {"neighbor", "permutation", "random", "alltoall", "incast"}},
            {.name = "size", .type = OptionType::kString, .default_value = "1MiB",
             .description = "bytes per flow, or a range LOW..HIGH drawn uniformly (e.g. 64KiB..8MiB)"},
            {.name = "flows", .type = OptionType::kInt, .default_value = "1000",
             .description = "number of flows for --pattern random"},
            {.name = "window", .type = OptionType::kTime, .default_value = "0s",
             .description = "flow start times are drawn uniformly from [0, window)"},
            {.name = "mode", .type = OptionType::kString, .default_value = "lazy",
             .description = "rate recomputation: the connected flows only, or all flows",
             .choices = {"lazy", "full"}}},
       .run = run_net_sim},
  };
}

}  // namespace mlsys::cli
