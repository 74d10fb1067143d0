#include "mlsys/hw/catalog.h"

#include <array>
#include <charconv>
#include <cmath>
#include <map>

#include "mlsys/core/check.h"
#include "mlsys/core/csv_reader.h"
#include "mlsys/core/file_io.h"
#include "mlsys/core/strings.h"
#include "mlsys/core/value.h"
#include "mlsys/core/yaml_reader.h"
#include "mlsys/hw/internal/embedded_data.h"

namespace mlsys::hw {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool equals_ignore_case(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

// "unknown <what> 'x'" with the known names and the closest match among names and aliases.
Error unknown_name(std::string_view what, std::string_view name, const std::vector<std::string>& known,
                   const std::vector<std::string>& all_keys) {
  std::string hint = "known: " + join(known, ", ");
  if (std::string dym = did_you_mean(name, all_keys); !dym.empty()) hint += "; " + dym;
  return not_found("unknown " + std::string(what) + " '" + std::string(name) + "'", hint);
}

// A non-negative number, optionally followed by a parenthesised note ("600(bridge)").
Result<std::optional<double>> parse_cell(std::string_view cell, std::string_view column,
                                         const Location& where) {
  if (cell.empty()) return std::optional<double>{};
  std::string_view number = cell;
  if (const size_t paren = cell.find('('); paren != std::string_view::npos && cell.back() == ')') {
    number = trim_blanks(cell.substr(0, paren));
  }
  double value = 0.0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || ptr != number.data() + number.size() || !std::isfinite(value) ||
      value < 0) {
    return invalid_input("bad value '" + std::string(cell) + "' in column " + std::string(column),
                         "write a non-negative number, optionally followed by a note in parentheses",
                         where);
  }
  return std::optional<double>{value};
}

// ---------------------------------------------------------------------------------------------
// Interconnect and node constants. Sources: data/hw/SOURCES.md.

const Time kNvLinkHop = nsec(150);
const Time kPcieHop = nsec(250);
const Time kNetworkHop = nsec(1000);
const Time kIciHop = nsec(1000);

std::vector<InterconnectSpec> make_interconnects() {
  auto nv = [](std::string name, double gbps_per_link, int links, std::optional<double> nccl,
               std::string source) {
    return InterconnectSpec{
        .name = std::move(name), .kind = LinkKind::kNvLink, .per_link = GBps(gbps_per_link),
        .links_per_device = links,
        .nccl_per_link = nccl ? std::optional<Bandwidth>(GBps(*nccl)) : std::nullopt,
        .latency = kNvLinkHop, .source = std::move(source)};
  };
  auto pcie = [](std::string name, double gbps) {
    return InterconnectSpec{.name = std::move(name), .kind = LinkKind::kPcie, .per_link = GBps(gbps),
                            .links_per_device = 1, .nccl_per_link = std::nullopt,
                            .latency = kPcieHop,
                            .source = "NCCL effective x16 figure: width x speed-code / 80 "
                                      "(src/graph/topo.h; research/collectives-network.md 4.2)"};
  };
  auto net = [](std::string name, double gbit, std::string source) {
    return InterconnectSpec{.name = std::move(name), .kind = LinkKind::kNetwork,
                            .per_link = Gbps(gbit), .links_per_device = 1,
                            .nccl_per_link = std::nullopt, .latency = kNetworkHop,
                            .source = std::move(source)};
  };
  return {
      nv("nvlink1", 20, 4, std::nullopt, "NVLink 1 (P100): 4 links x 20 GB/s per direction [recalled]"),
      nv("nvlink2", 25, 6, 20, "NVLink 2 (V100): 6 links x 25 GB/s per direction = 300 GB/s bidirectional"),
      nv("nvlink3", 25, 12, 20, "NVLink 3 (A100): 12 links x 25 GB/s per direction = 600 GB/s bidirectional"),
      nv("nvlink3-sm86", 14.0625, 4, 12,
         "NVLink 3 on GA10x (RTX 3090, A40): 4 links x 14.0625 GB/s [recalled, unverified]"),
      nv("nvlink4", 25, 18, 20.6, "NVLink 4 (H100/H200): 18 links x 25 GB/s per direction = 900 GB/s bidirectional"),
      nv("nvlink5", 50, 18, 40.1, "NVLink 5 (B200): 18 links x 50 GB/s per direction [recalled]"),
      pcie("pcie3", 12),
      pcie("pcie4", 24),
      pcie("pcie5", 48),
      net("ib-hdr", 200, "InfiniBand HDR, 200 Gb/s per port"),
      net("ib-ndr", 400, "InfiniBand NDR, 400 Gb/s per port"),
      net("eth-100g", 100, "Ethernet 100GbE"),
      net("eth-200g", 200, "Ethernet 200GbE"),
      net("eth-400g", 400, "Ethernet 400GbE"),
      InterconnectSpec{.name = "tpuv4-ici", .kind = LinkKind::kIci, .per_link = Gbps(400),
                       .links_per_device = 6, .nccl_per_link = std::nullopt, .latency = kIciHop,
                       .source = "TPUv4 ICI: 6 links per chip, 400 Gb/s per direction each "
                                 "[recalled, secondary source; see data/hw/SOURCES.md]"},
  };
}

std::vector<NodeSpec> make_node_specs() {
  return {
      NodeSpec{.name = "dgx-h100", .aliases = {"hgx-h100", "h100-node"}, .gpu = "H100-SXM5-80GB",
               .gpus = 8, .nvswitch = true, .gpu_link_kind = LinkKind::kNvLink,
               .gpu_link = {.bandwidth = GBps(450), .latency = kNvLinkHop}, .nics = 8,
               .nic_link = {.bandwidth = Gbps(400), .latency = kNetworkHop},
               .pcie = {.bandwidth = GBps(48), .latency = kPcieHop},
               .source = "NVIDIA DGX H100: 8 H100 SXM on NVSwitch (18 NVLink4 each), 8x 400G "
                         "ConnectX-7 NDR, PCIe gen5 [recalled]"},
      NodeSpec{.name = "dgx-a100", .aliases = {"hgx-a100", "a100-node"}, .gpu = "A100-SXM4-80GB",
               .gpus = 8, .nvswitch = true, .gpu_link_kind = LinkKind::kNvLink,
               .gpu_link = {.bandwidth = GBps(300), .latency = kNvLinkHop}, .nics = 8,
               .nic_link = {.bandwidth = Gbps(200), .latency = kNetworkHop},
               .pcie = {.bandwidth = GBps(24), .latency = kPcieHop},
               .source = "NVIDIA DGX A100: 8 A100 SXM on NVSwitch (12 NVLink3 each), 8x 200G "
                         "ConnectX-6 HDR, PCIe gen4 [recalled]"},
      NodeSpec{.name = "tpuv4-host", .aliases = {"tpuv4", "tpu-v4-host"}, .gpu = "TPUv4",
               .gpus = 4, .nvswitch = false, .gpu_link_kind = LinkKind::kIci,
               .gpu_link = {.bandwidth = Gbps(400), .latency = kIciHop}, .nics = 0,
               .nic_link = {}, .pcie = {.bandwidth = GBps(12), .latency = kPcieHop},
               .source = "TPUv4 host: 4 chips in a 2x2x1 ICI mesh, PCIe gen3 x16 per chip; data-"
                         "center network not modelled (research/cluster.md 3.2, glennklockwood.com)"},
  };
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Precision

std::string_view to_string(Precision precision) {
  switch (precision) {
    case Precision::kFp32: return "fp32";
    case Precision::kTf32: return "tf32";
    case Precision::kBf16: return "bf16";
    case Precision::kFp16: return "fp16";
    case Precision::kFp8: return "fp8";
  }
  return "unknown";
}

Result<Precision> parse_precision(std::string_view text) {
  constexpr std::array kAll = {Precision::kFp32, Precision::kTf32, Precision::kBf16,
                               Precision::kFp16, Precision::kFp8};
  const std::string key = lower(trim_blanks(text));
  for (Precision p : kAll) {
    if (key == to_string(p)) return p;
  }
  return invalid_input("unknown precision '" + std::string(text) + "'",
                       "use one of fp32, tf32, bf16, fp16, fp8");
}

std::optional<FlopRate> GpuSpec::peak(Precision precision) const {
  switch (precision) {
    case Precision::kBf16:
    case Precision::kFp16: return bf16_dense;
    case Precision::kFp8: return fp8_dense;
    case Precision::kTf32: return tf32_dense;
    case Precision::kFp32: return fp32;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// GpuCatalog

const GpuCatalog& GpuCatalog::builtin() {
  static const GpuCatalog catalog = [] {
    Result<GpuCatalog> parsed =
        parse_csv(internal::embedded_gpu_specs_csv(), "data/hw/gpu_specs.csv (built in)");
    MLSYS_CHECK(parsed.ok(), parsed.ok() ? "" : parsed.error().to_string());
    return std::move(*parsed);
  }();
  return catalog;
}

Result<GpuCatalog> GpuCatalog::parse_csv(std::string_view text, std::string_view file) {
  MLSYS_ASSIGN_OR_RETURN(CsvTable table, read_csv_string(text, file));
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < table.header.size(); ++i) column.emplace(std::string(trim_blanks(table.header[i])), i);
  for (const char* required : {"gpu", "bf16_dense_tflops", "hbm_GB", "hbm_TBps"}) {
    if (!column.contains(required)) {
      return invalid_input("missing column '" + std::string(required) + "'",
                           "the header must name gpu, bf16_dense_tflops, hbm_GB and hbm_TBps",
                           Location{std::string(file), 0});
    }
  }

  GpuCatalog catalog;
  for (const CsvRow& row : table.rows) {
    const Location where{std::string(file), row.line()};
    if (row.size() != table.header.size()) {
      return invalid_input("expected " + std::to_string(table.header.size()) + " fields, found " +
                               std::to_string(row.size()),
                           "every row needs one field per header column (empty fields are allowed)",
                           where);
    }
    auto text_of = [&](const char* name) -> std::string {
      auto it = column.find(name);
      return it == column.end() ? std::string() : std::string(trim_blanks(row[it->second]));
    };
    auto number_of = [&](const char* name) -> Result<std::optional<double>> {
      return parse_cell(text_of(name), name, where);
    };

    GpuSpec spec;
    spec.name = text_of("gpu");
    MLSYS_ASSIGN_OR_RETURN(std::optional<double> bf16, number_of("bf16_dense_tflops"));
    MLSYS_ASSIGN_OR_RETURN(std::optional<double> fp8, number_of("fp8_dense_tflops"));
    MLSYS_ASSIGN_OR_RETURN(std::optional<double> tf32, number_of("tf32_dense_tflops"));
    MLSYS_ASSIGN_OR_RETURN(std::optional<double> fp32, number_of("fp32_tflops"));
    MLSYS_ASSIGN_OR_RETURN(std::optional<double> hbm_gb, number_of("hbm_GB"));
    MLSYS_ASSIGN_OR_RETURN(std::optional<double> hbm_tbps, number_of("hbm_TBps"));
    MLSYS_ASSIGN_OR_RETURN(std::optional<double> nvlink, number_of("nvlink_GBps"));
    MLSYS_ASSIGN_OR_RETURN(std::optional<double> nvlink_gen, number_of("nvlink_gen"));
    MLSYS_ASSIGN_OR_RETURN(std::optional<double> nic, number_of("nic_Gbps"));
    MLSYS_ASSIGN_OR_RETURN(std::optional<double> tdp, number_of("tdp_W"));
    if (!bf16 || !hbm_gb || !hbm_tbps) {
      return invalid_input("GPU '" + spec.name + "' lacks bf16_dense_tflops, hbm_GB or hbm_TBps",
                           "these three columns are required for every row", where);
    }
    if (*hbm_gb > 1e6) {
      return invalid_input("hbm_GB " + text_of("hbm_GB") + " for GPU '" + spec.name + "' is implausible",
                           "the column is in GiB", where);
    }
    if (nvlink_gen && (*nvlink_gen != std::floor(*nvlink_gen) || *nvlink_gen > 10)) {
      return invalid_input("bad nvlink_gen for GPU '" + spec.name + "'",
                           "write a small integer (2, 3, 4) or leave it empty", where);
    }
    spec.bf16_dense = TFLOPS(*bf16);
    if (fp8) spec.fp8_dense = TFLOPS(*fp8);
    if (tf32) spec.tf32_dense = TFLOPS(*tf32);
    if (fp32) spec.fp32 = TFLOPS(*fp32);
    spec.hbm_capacity = B(std::llround(*hbm_gb * 1073741824.0));
    spec.hbm_type = text_of("hbm_type");
    spec.hbm_bandwidth = TBps(*hbm_tbps);
    // The CSV gives NVLink as the bidirectional total; links are modelled per direction.
    spec.nvlink_bandwidth = GBps(nvlink.value_or(0.0) / 2.0);
    spec.nvlink_generation = static_cast<int>(nvlink_gen.value_or(0.0));
    spec.nic_bandwidth = Gbps(nic.value_or(0.0));
    spec.tdp_watts = tdp.value_or(0.0);
    const std::string aliases = text_of("aliases");
    for (std::string_view rest = aliases; !rest.empty();) {
      const size_t bar = rest.find('|');
      std::string_view alias = trim_blanks(rest.substr(0, bar));
      if (!alias.empty()) spec.aliases.emplace_back(alias);
      rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
    }
    spec.source = text_of("source");
    if (Status added = catalog.add(std::move(spec)); !added) return added.error().at(where);
  }
  return catalog;
}

Status GpuCatalog::add(GpuSpec spec) {
  if (trim_blanks(spec.name).empty()) {
    return invalid_input("GPU with an empty name", "every GPU needs a name");
  }
  if (!(spec.bf16_dense > FlopRate()) || !(spec.hbm_capacity > Bytes()) ||
      !(spec.hbm_bandwidth > Bandwidth())) {
    return invalid_input("GPU '" + spec.name + "' needs a positive bf16 rate, HBM capacity and "
                         "HBM bandwidth");
  }
  std::vector<std::string> keys = {spec.name};
  keys.insert(keys.end(), spec.aliases.begin(), spec.aliases.end());
  for (const std::string& key : keys) {
    for (const GpuSpec& existing : gpus_) {
      bool clash = equals_ignore_case(key, existing.name);
      for (const std::string& alias : existing.aliases) clash = clash || equals_ignore_case(key, alias);
      if (clash) {
        return invalid_input("GPU name or alias '" + key + "' is already used by '" +
                                 existing.name + "'",
                             "names and aliases must be unique (case-insensitive)");
      }
    }
  }
  gpus_.push_back(std::move(spec));
  return ok_status();
}

Result<GpuSpec> GpuCatalog::find(std::string_view name) const {
  const std::string key = lower(trim_blanks(name));
  std::vector<std::string> known;
  std::vector<std::string> all_keys;
  for (const GpuSpec& gpu : gpus_) {
    if (lower(gpu.name) == key) return gpu;
    for (const std::string& alias : gpu.aliases) {
      if (lower(alias) == key) return gpu;
    }
    known.push_back(gpu.name);
    all_keys.push_back(gpu.name);
    all_keys.insert(all_keys.end(), gpu.aliases.begin(), gpu.aliases.end());
  }
  return unknown_name("GPU", name, known, all_keys);
}

Result<GpuCatalog> load_gpu_catalog(const std::string& path) {
  MLSYS_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  return GpuCatalog::parse_csv(text, path);
}

Result<GpuSpec> find_gpu(std::string_view name) { return GpuCatalog::builtin().find(name); }

namespace {

// A quantity written as a string with a unit ("1307TFLOPS"); a bare number is an error.
template <class Q>
Result<std::optional<Q>> yaml_quantity(const Value& entry, std::string_view key,
                                       Result<Q> (*parse)(std::string_view), std::string_view example) {
  const Value* v = entry.find(key);
  if (v == nullptr || v->is_null()) return std::optional<Q>{};
  if (!v->is_string()) {
    return invalid_input("key '" + std::string(key) + "' needs a unit",
                         "write it as a string with a unit, e.g. " + std::string(key) + ": " +
                             std::string(example),
                         v->location());
  }
  Result<Q> q = parse(*v->as_string());
  if (!q) return q.error().context("key '" + std::string(key) + "'").at(v->location());
  return std::optional<Q>{*q};
}

Result<GpuSpec> gpu_from_yaml(const Value& entry) {
  static const std::vector<std::string> kKeys = {
      "name", "aliases", "bf16_dense", "fp8_dense", "tf32_dense", "fp32", "hbm_capacity",
      "hbm_type", "hbm_bandwidth", "nvlink_bandwidth", "nvlink_generation", "nic_bandwidth",
      "tdp_watts", "source"};
  MLSYS_RETURN_IF_ERROR(entry.check_keys(kKeys));
  GpuSpec spec;
  MLSYS_ASSIGN_OR_RETURN(spec.name, entry.get_string("name"));
  if (const Value* aliases = entry.find("aliases")) {
    MLSYS_ASSIGN_OR_RETURN(std::span<const Value> items, aliases->as_array());
    for (const Value& a : items) {
      MLSYS_ASSIGN_OR_RETURN(std::string alias, a.as_string());
      spec.aliases.push_back(std::move(alias));
    }
  }
  MLSYS_ASSIGN_OR_RETURN(std::optional<FlopRate> bf16, yaml_quantity<FlopRate>(entry, "bf16_dense", parse_flop_rate, "989TFLOPS"));
  MLSYS_ASSIGN_OR_RETURN(spec.fp8_dense, yaml_quantity<FlopRate>(entry, "fp8_dense", parse_flop_rate, "1979TFLOPS"));
  MLSYS_ASSIGN_OR_RETURN(spec.tf32_dense, yaml_quantity<FlopRate>(entry, "tf32_dense", parse_flop_rate, "495TFLOPS"));
  MLSYS_ASSIGN_OR_RETURN(spec.fp32, yaml_quantity<FlopRate>(entry, "fp32", parse_flop_rate, "67TFLOPS"));
  MLSYS_ASSIGN_OR_RETURN(std::optional<Bytes> hbm, yaml_quantity<Bytes>(entry, "hbm_capacity", parse_bytes, "80GiB"));
  MLSYS_ASSIGN_OR_RETURN(std::optional<Bandwidth> hbm_bw, yaml_quantity<Bandwidth>(entry, "hbm_bandwidth", parse_bandwidth, "3.35TBps"));
  MLSYS_ASSIGN_OR_RETURN(std::optional<Bandwidth> nvlink, yaml_quantity<Bandwidth>(entry, "nvlink_bandwidth", parse_bandwidth, "450GBps"));
  MLSYS_ASSIGN_OR_RETURN(std::optional<Bandwidth> nic, yaml_quantity<Bandwidth>(entry, "nic_bandwidth", parse_bandwidth, "400Gbps"));
  for (const auto& [key, present] : {std::pair{"bf16_dense", bf16.has_value()},
                                     std::pair{"hbm_capacity", hbm.has_value()},
                                     std::pair{"hbm_bandwidth", hbm_bw.has_value()}}) {
    if (!present) {
      return invalid_input("GPU '" + spec.name + "' lacks " + key,
                           "bf16_dense, hbm_capacity and hbm_bandwidth are required", entry.location());
    }
  }
  spec.bf16_dense = *bf16;
  spec.hbm_capacity = *hbm;
  spec.hbm_bandwidth = *hbm_bw;
  spec.nvlink_bandwidth = nvlink.value_or(Bandwidth());
  spec.nic_bandwidth = nic.value_or(Bandwidth());
  if (entry.contains("nvlink_generation")) {
    MLSYS_ASSIGN_OR_RETURN(spec.nvlink_generation, entry.get_int("nvlink_generation"));
  }
  if (entry.contains("tdp_watts")) {
    MLSYS_ASSIGN_OR_RETURN(spec.tdp_watts, entry.get_number("tdp_watts"));
  }
  if (entry.contains("hbm_type")) {
    MLSYS_ASSIGN_OR_RETURN(spec.hbm_type, entry.get_string("hbm_type"));
  }
  if (entry.contains("source")) {
    MLSYS_ASSIGN_OR_RETURN(spec.source, entry.get_string("source"));
  } else {
    spec.source = entry.location().file;
  }
  return spec;
}

}  // namespace

Result<GpuCatalog> parse_gpu_specs_yaml(std::string_view text, std::string_view file,
                                        const GpuCatalog& base) {
  MLSYS_ASSIGN_OR_RETURN(Value doc, parse_yaml(text, file));
  static const std::vector<std::string> kTop = {"gpus"};
  MLSYS_RETURN_IF_ERROR(doc.check_keys(kTop));
  MLSYS_ASSIGN_OR_RETURN(const Value* gpus, doc.get("gpus"));
  MLSYS_ASSIGN_OR_RETURN(std::span<const Value> entries, gpus->as_array());
  GpuCatalog catalog = base;
  for (const Value& entry : entries) {
    MLSYS_ASSIGN_OR_RETURN(GpuSpec spec, gpu_from_yaml(entry));
    if (Status added = catalog.add(std::move(spec)); !added) return added.error().at(entry.location());
  }
  return catalog;
}

Result<GpuCatalog> load_gpu_specs_yaml(const std::string& path, const GpuCatalog& base) {
  MLSYS_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  return parse_gpu_specs_yaml(text, path, base);
}

// ---------------------------------------------------------------------------------------------
// Interconnects and nodes

std::span<const InterconnectSpec> interconnects() {
  static const std::vector<InterconnectSpec> table = make_interconnects();
  return table;
}

Result<InterconnectSpec> find_interconnect(std::string_view name) {
  std::vector<std::string> known;
  for (const InterconnectSpec& spec : interconnects()) {
    if (equals_ignore_case(spec.name, trim_blanks(name))) return spec;
    known.push_back(spec.name);
  }
  return unknown_name("interconnect", name, known, known);
}

Result<InterconnectSpec> nvlink_for_sm(int sm) {
  std::string_view name;
  if (sm < 60) {
    return invalid_input("no NVLink on sm " + std::to_string(sm),
                         "NVLink starts with Pascal (sm 60)");
  } else if (sm < 70) {
    name = "nvlink1";
  } else if (sm < 80) {
    name = "nvlink2";
  } else if (sm == 86) {
    name = "nvlink3-sm86";
  } else if (sm < 90) {
    name = "nvlink3";
  } else if (sm < 100) {
    name = "nvlink4";
  } else {
    name = "nvlink5";
  }
  return find_interconnect(name);
}

Result<Bandwidth> pcie_bandwidth(int generation, int width) {
  // NCCL's per-lane speed codes in units of 100 Mb/s (src/graph/topo.h): GB/s = width*code/80.
  constexpr std::array<double, 6> kSpeedCode = {15, 30, 60, 120, 240, 480};
  if (generation < 1 || generation > static_cast<int>(kSpeedCode.size())) {
    return invalid_input("unknown PCIe generation " + std::to_string(generation),
                         "PCIe generations are 1 to 6");
  }
  if (width < 1 || width > 32) {
    return invalid_input("bad PCIe link width " + std::to_string(width),
                         "widths are 1 to 32 lanes");
  }
  return GBps(width * kSpeedCode[static_cast<size_t>(generation - 1)] / 80.0);
}

std::span<const NodeSpec> node_specs() {
  static const std::vector<NodeSpec> table = make_node_specs();
  return table;
}

Result<NodeSpec> find_node_spec(std::string_view name) {
  const std::string key = lower(trim_blanks(name));
  std::vector<std::string> known;
  std::vector<std::string> all_keys;
  for (const NodeSpec& spec : node_specs()) {
    if (lower(spec.name) == key) return spec;
    for (const std::string& alias : spec.aliases) {
      if (lower(alias) == key) return spec;
    }
    known.push_back(spec.name);
    all_keys.push_back(spec.name);
    all_keys.insert(all_keys.end(), spec.aliases.begin(), spec.aliases.end());
  }
  return unknown_name("node type", name, known, all_keys);
}

}  // namespace mlsys::hw
