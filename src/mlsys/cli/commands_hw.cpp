// mlsys hw list | hw show NAME | topo show --topology SPEC

#include <ostream>

#include "mlsys/cli/internal/groups.h"
#include "mlsys/cli/internal/output.h"
#include "mlsys/core/table_writer.h"
#include "mlsys/hw/catalog.h"
#include "mlsys/hw/topology_builders.h"

namespace mlsys::cli {
namespace {

std::string opt_rate(const std::optional<FlopRate>& r) { return r ? format_flop_rate(*r) : "-"; }

void write_gpu_json(JsonWriter& w, const hw::GpuSpec& g) {
  w.begin_object();
  w.field("name", g.name);
  w.key("aliases").begin_array();
  for (const auto& a : g.aliases) w.value(a);
  w.end_array();
  w.field("bf16_dense_flops", g.bf16_dense.base());
  if (g.fp8_dense) w.field("fp8_dense_flops", g.fp8_dense->base());
  if (g.tf32_dense) w.field("tf32_dense_flops", g.tf32_dense->base());
  if (g.fp32) w.field("fp32_flops", g.fp32->base());
  w.field("hbm_bytes", g.hbm_capacity.count());
  w.field("hbm_type", g.hbm_type);
  w.field("hbm_Bps", g.hbm_bandwidth.base());
  w.field("nvlink_Bps_per_direction", g.nvlink_bandwidth.base());
  w.field("nvlink_generation", g.nvlink_generation);
  w.field("nic_Bps", g.nic_bandwidth.base());
  w.field("tdp_watts", g.tdp_watts);
  w.field("source", g.source);
  w.end_object();
}

Status run_hw_list(Context& ctx) {
  const auto& gpus = hw::GpuCatalog::builtin().gpus();
  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.key("gpus").begin_array();
    for (const auto& g : gpus) write_gpu_json(w, g);
    w.end_array();
    w.key("interconnects").begin_array();
    for (const auto& i : hw::interconnects()) {
      w.begin_object().field("name", i.name).field("kind", std::string(hw::to_string(i.kind)));
      w.field("per_link_Bps", i.per_link.base()).field("links_per_device", i.links_per_device);
      w.field("latency_s", i.latency.seconds()).end_object();
    }
    w.end_array();
    w.key("nodes").begin_array();
    for (const auto& n : hw::node_specs()) {
      w.begin_object().field("name", n.name).field("gpu", n.gpu).field("gpus", n.gpus);
      w.field("nvswitch", n.nvswitch).field("nics", n.nics).end_object();
    }
    w.end_array();
    w.end_object();
    ctx.out << "\n";
    return {};
  }
  TableWriter gt({"gpu", "aliases", "bf16 dense", "fp8 dense", "HBM", "HBM bw", "NVLink/dir", "NIC"});
  gt.set_title("GPUs (mlsys hw show NAME for details and sources)");
  for (const auto& g : gpus) {
    std::string aliases;
    for (const auto& a : g.aliases) aliases += (aliases.empty() ? "" : ",") + a;
    gt.add_row({g.name, aliases, format_flop_rate(g.bf16_dense), opt_rate(g.fp8_dense), format_bytes(g.hbm_capacity),
                format_bandwidth(g.hbm_bandwidth), format_bandwidth(g.nvlink_bandwidth),
                format_bandwidth(g.nic_bandwidth)});
  }
  ctx.out << gt.render() << "\n";
  TableWriter it({"interconnect", "kind", "per link/dir", "links", "per device/dir", "latency"});
  it.set_title("Interconnects");
  for (const auto& i : hw::interconnects()) {
    it.add_row({i.name, std::string(hw::to_string(i.kind)), format_bandwidth(i.per_link),
                std::to_string(i.links_per_device), format_bandwidth(i.per_device()), format_time(i.latency)});
  }
  ctx.out << it.render() << "\n";
  TableWriter nt({"node type", "gpu", "gpus", "crossbar", "gpu link/dir", "nics", "nic link"});
  nt.set_title("Node types (use with --topology rail:nodes=N,node=NAME)");
  for (const auto& n : hw::node_specs()) {
    nt.add_row({n.name, n.gpu, std::to_string(n.gpus), n.nvswitch ? "nvswitch" : "direct",
                format_bandwidth(n.gpu_link.bandwidth), std::to_string(n.nics), format_bandwidth(n.nic_link.bandwidth)});
  }
  ctx.out << nt.render();
  return {};
}

Status run_hw_show(Context& ctx) {
  MLSYS_ASSIGN_OR_RETURN(hw::GpuSpec g, hw::find_gpu(ctx.options.text("name")));
  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.key("gpu");
    write_gpu_json(w, g);
    w.end_object();
    ctx.out << "\n";
    return {};
  }
  TableWriter t({"property", "value"});
  t.set_title(g.name);
  std::string aliases;
  for (const auto& a : g.aliases) aliases += (aliases.empty() ? "" : ", ") + a;
  t.add_row({"aliases", aliases});
  t.add_row({"bf16/fp16 dense", format_flop_rate(g.bf16_dense)});
  t.add_row({"fp8 dense", opt_rate(g.fp8_dense)});
  t.add_row({"tf32 dense", opt_rate(g.tf32_dense)});
  t.add_row({"fp32", opt_rate(g.fp32)});
  t.add_row({"HBM", format_bytes(g.hbm_capacity) + " " + g.hbm_type});
  t.add_row({"HBM bandwidth", format_bandwidth(g.hbm_bandwidth)});
  t.add_row({"NVLink per direction", g.nvlink_generation > 0 ? format_bandwidth(g.nvlink_bandwidth) + " (gen " +
                                                                   std::to_string(g.nvlink_generation) + ")"
                                                             : "none"});
  t.add_row({"NIC per GPU", format_bandwidth(g.nic_bandwidth)});
  t.add_row({"TDP", fmt(g.tdp_watts) + " W"});
  t.add_row({"source", g.source});
  ctx.out << t.render();
  return {};
}

Status run_topo_show(Context& ctx) {
  MLSYS_ASSIGN_OR_RETURN(hw::Topology topo, hw::parse_topology_spec(ctx.options.text("topology")));
  const hw::TopologySummary s = hw::summarize(topo);
  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.field("name", s.name).field("nodes", s.nodes).field("links", s.links).field("endpoints", s.endpoints);
    w.key("node_kinds").begin_object();
    for (const auto& k : s.node_kinds) w.field(std::string(hw::to_string(k.kind)), k.count);
    w.end_object();
    w.key("link_kinds").begin_array();
    for (const auto& l : s.link_kinds) {
      w.begin_object().field("kind", std::string(hw::to_string(l.kind))).field("count", l.count);
      w.field("min_Bps", l.min_bandwidth.base()).field("max_Bps", l.max_bandwidth.base());
      w.field("min_latency_s", l.min_latency.seconds()).field("max_latency_s", l.max_latency.seconds());
      w.end_object();
    }
    w.end_array();
    w.field("diameter_hops", s.diameter_hops).field("diameter_sources", s.diameter_sources);
    w.field("endpoints_connected", s.endpoints_connected);
    w.field("min_injection_Bps", s.min_injection.base());
    if (s.torus) {
      w.key("torus").begin_object().key("dims").begin_array();
      for (int d : s.torus->dims) w.value(d);
      w.end_array().field("wrap", s.torus->wrap).end_object();
    }
    if (s.bisection_bandwidth) w.field("bisection_Bps", s.bisection_bandwidth->base());
    w.end_object();
    ctx.out << "\n";
    return {};
  }
  ctx.out << "topology " << s.name << ": " << s.endpoints << " endpoints, " << s.nodes << " nodes, " << s.links
          << " directed links\n";
  TableWriter nt({"node kind", "count"});
  for (const auto& k : s.node_kinds) nt.add_row({std::string(hw::to_string(k.kind)), std::to_string(k.count)});
  ctx.out << "\n" << nt.render();
  TableWriter lt({"link kind", "count", "bandwidth/dir", "latency"});
  for (const auto& l : s.link_kinds) {
    const std::string bw = l.min_bandwidth == l.max_bandwidth
                               ? format_bandwidth(l.min_bandwidth)
                               : format_bandwidth(l.min_bandwidth) + ".." + format_bandwidth(l.max_bandwidth);
    const std::string lat = l.min_latency == l.max_latency ? format_time(l.min_latency)
                                                           : format_time(l.min_latency) + ".." + format_time(l.max_latency);
    lt.add_row({std::string(hw::to_string(l.kind)), std::to_string(l.count), bw, lat});
  }
  ctx.out << "\n" << lt.render() << "\n";
  ctx.out << "diameter: " << s.diameter_hops << " hops"
          << (s.diameter_sources < s.endpoints ? " (from " + std::to_string(s.diameter_sources) + " sampled sources)" : "")
          << (s.endpoints_connected ? "" : "; some endpoints unreachable") << "\n";
  ctx.out << "injection bandwidth per endpoint: " << format_bandwidth(s.min_injection) << "\n";
  if (s.bisection_bandwidth) ctx.out << "bisection bandwidth: " << format_bandwidth(*s.bisection_bandwidth) << "\n";
  return {};
}

}  // namespace

const OptionSpec& topology_option() {
  static const OptionSpec spec{
      .name = "topology",
      .type = OptionType::kString,
      .default_value = "torus:8x8",
      .description = "torus:8x8, mesh:4x4, ring:16, fattree:k=8, leafspine:hosts=32,leaves=4,spines=2,oversub=2, "
                     "rail:nodes=32,gpus=8[,node=dgx-h100], or nccl:FILE; add ,bw=400Gbps,lat=1us to override links"};
  return spec;
}

std::vector<Command> hw_commands() {
  return {
      {.group = "hw",
       .name = "list",
       .summary = "list the hardware catalog: GPUs, interconnects and node types",
       .description = "Peak numbers are dense (no 2:4 sparsity), per GPU; NVLink is per direction.\n"
                      "Example: mlsys hw list --json",
       .run = run_hw_list},
      {.group = "hw",
       .name = "show",
       .summary = "show one GPU's specification and the sources of its numbers",
       .description = "NAME is a catalog name or alias (case-insensitive).\nExample: mlsys hw show h100",
       .options = {{.name = "name", .type = OptionType::kString, .description = "GPU name or alias, e.g. a100-80g",
                    .required = true, .positional = true}},
       .run = run_hw_show},
      {.group = "topo",
       .name = "show",
       .summary = "summarise a topology: nodes, links, bandwidths, diameter",
       .description = "Examples:\n  mlsys topo show --topology torus:8x8\n"
                      "  mlsys topo show --topology rail:nodes=32,gpus=8 --json\n"
                      "  mlsys topo show --topology nccl:../shared/data/topologies/aws-p4d-24xl-topo.xml",
       .options = {topology_option()},
       .run = run_topo_show},
  };
}

}  // namespace mlsys::cli
