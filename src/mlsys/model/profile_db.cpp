// ProfileDb: measured per-operator profiles in the Aceso profiler's CSV layout (see compute.h).
//
// A directory holds three kinds of files, recognised by name:
//   <model>_mbs<b>_tp<t>_algo<a>.csv       one row per operator (times in us, sizes in MB = MiB)
//   prim_<model>_<collective>_<n>gpus.csv  data_size(MB), time(ms) for one NCCL collective
//   p2p_intra_node.csv                     row 1: message sizes (MB), row 2: achieved GB/s
// Other files are ignored, so a profile directory may carry a README.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "mlsys/core/check.h"
#include "mlsys/core/csv_reader.h"
#include "mlsys/core/strings.h"
#include "mlsys/model/compute.h"

namespace mlsys::model {

struct ProfileDb::Impl {
  std::map<std::tuple<int64_t, int64_t, int>, std::vector<ProfiledOp>> ops;
  // (collective, gpus) -> (size MiB, time ms) sorted by size.
  std::map<std::pair<std::string, int64_t>, std::vector<std::pair<double, double>>> collectives;
  std::vector<std::pair<double, double>> p2p_curve;  // (size MiB, GB/s) sorted by size
  std::string dir;
};

namespace {

constexpr double kMiB = 1048576.0;
// Time holds int64 nanoseconds (about 292 years). Aceso's collective tables mark sizes it could
// not run with 1e9 ms, so that sentinel must load; ten times it (about 116 days, 1e16 ns) is the
// largest profiled time accepted, which keeps sums of thousands of them inside int64.
constexpr double kMaxProfiledMs = 1e10;

/// A computed time in ms as Time, saturating instead of overflowing: extrapolating a profile
/// curve to a huge message may leave int64 nanoseconds (llround is then unspecified). NaN and
/// negatives (an extrapolation below zero) read as zero.
Time saturating_ms(double v) {
  constexpr double kMaxMs = 9e12;  // 9e18 ns, just under INT64_MAX
  if (!(v > 0)) return Time::zero();
  if (v >= kMaxMs) return Time::max();
  return ms(v);
}

Status bounded_time(const CsvRow& row, std::string_view column, double value_ms) {
  if (value_ms > kMaxProfiledMs) {
    return invalid_input("column '" + std::string(column) + "': time above 1e10 ms",
                         "profiled times are in us (op files) or ms (collective tables)", row.location());
  }
  return ok_status();
}

constexpr std::string_view kCollectiveKinds[] = {"all_gather", "all_reduce", "reduce_scatter",
                                                  "all_to_all"};
constexpr std::string_view kOpColumns[] = {
    "op_name",      "forward-compute", "backward-compute", "input_size", "output_size",
    "weights",      "activations",     "fwd_reserved",     "bwd_reserved"};

std::optional<int64_t> parse_positive(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v <= 0) return std::nullopt;
  return v;
}

/// "<model>_mbs<b>_tp<t>_algo<a>.csv" -> (b, t, a).
std::optional<std::tuple<int64_t, int64_t, int>> parse_op_file_name(std::string_view name) {
  if (!name.ends_with(".csv") || name.starts_with("prim_")) return std::nullopt;
  name.remove_suffix(4);
  const size_t mbs = name.rfind("_mbs");
  const size_t tp = name.rfind("_tp");
  const size_t algo = name.rfind("_algo");
  if (mbs == std::string_view::npos || tp == std::string_view::npos ||
      algo == std::string_view::npos || !(mbs < tp && tp < algo)) {
    return std::nullopt;
  }
  auto b = parse_positive(name.substr(mbs + 4, tp - mbs - 4));
  auto t = parse_positive(name.substr(tp + 3, algo - tp - 3));
  // algo 0 is valid, so parse it as "positive after adding one".
  int64_t a = -1;
  std::string_view algo_text = name.substr(algo + 5);
  auto [end, ec] = std::from_chars(algo_text.data(), algo_text.data() + algo_text.size(), a);
  if (!b || !t || ec != std::errc() || end != algo_text.data() + algo_text.size() || a < 0) {
    return std::nullopt;
  }
  return std::tuple{*b, *t, static_cast<int>(a)};
}

/// "prim_<model>_<kind>_<n>gpus.csv" -> (kind, n).
std::optional<std::pair<std::string, int64_t>> parse_prim_file_name(std::string_view name) {
  if (!name.starts_with("prim_") || !name.ends_with("gpus.csv")) return std::nullopt;
  name.remove_suffix(8);
  const size_t last = name.rfind('_');
  if (last == std::string_view::npos) return std::nullopt;
  auto gpus = parse_positive(name.substr(last + 1));
  if (!gpus) return std::nullopt;
  std::string_view stem = name.substr(0, last);
  for (std::string_view kind : kCollectiveKinds) {
    if (stem.ends_with(std::string("_") + std::string(kind))) return std::pair{std::string(kind), *gpus};
  }
  return std::nullopt;
}

Result<double> non_negative(const CsvRow& row, std::string_view column) {
  MLSYS_ASSIGN_OR_RETURN(double v, row.get_double(column));
  if (v < 0) {
    return invalid_input("column '" + std::string(column) + "': expected a value >= 0, got " +
                             format_shortest(v),
                         "profiled times and sizes are never negative", row.location());
  }
  return v;
}

Result<std::vector<ProfiledOp>> read_op_file(const std::string& path) {
  MLSYS_ASSIGN_OR_RETURN(CsvReader csv, CsvReader::open(path));
  std::vector<ProfiledOp> ops;
  CsvRow row;
  for (;;) {
    MLSYS_ASSIGN_OR_RETURN(bool more, csv.next(row));
    if (!more) break;
    ProfiledOp op;
    MLSYS_ASSIGN_OR_RETURN(std::string_view name, row.get(kOpColumns[0]));
    op.name = std::string(trim_blanks(name));
    if (op.name.empty()) {
      return invalid_input("empty op_name", "each row names one operator", row.location());
    }
    double v[8];
    for (size_t i = 1; i < std::size(kOpColumns); ++i) {
      MLSYS_ASSIGN_OR_RETURN(v[i - 1], non_negative(row, kOpColumns[i]));
    }
    MLSYS_RETURN_IF_ERROR(bounded_time(row, kOpColumns[1], v[0] / 1e3));
    MLSYS_RETURN_IF_ERROR(bounded_time(row, kOpColumns[2], v[1] / 1e3));
    op.forward = us(v[0]);
    op.backward = us(v[1]);
    op.input_mb = v[2];
    op.output_mb = v[3];
    op.weights_mb = v[4];
    op.activations_mb = v[5];
    op.fwd_reserved_mb = v[6];
    op.bwd_reserved_mb = v[7];
    ops.push_back(std::move(op));
  }
  if (ops.empty()) {
    return invalid_input("no operator rows", "an Aceso op profile has one row per operator",
                         Location{path, 1});
  }
  return ops;
}

Result<std::vector<std::pair<double, double>>> read_prim_file(const std::string& path) {
  MLSYS_ASSIGN_OR_RETURN(CsvReader csv, CsvReader::open(path));
  std::vector<std::pair<double, double>> points;
  CsvRow row;
  for (;;) {
    MLSYS_ASSIGN_OR_RETURN(bool more, csv.next(row));
    if (!more) break;
    MLSYS_ASSIGN_OR_RETURN(double size, non_negative(row, "data_size(MB)"));
    MLSYS_ASSIGN_OR_RETURN(double time, non_negative(row, "time(ms)"));
    MLSYS_RETURN_IF_ERROR(bounded_time(row, "time(ms)", time));
    if (!(size > 0)) {
      // The one-point table scales time by size / data_size: a zero size has no slope.
      return invalid_input("column 'data_size(MB)': expected a size > 0", "", row.location());
    }
    points.emplace_back(size, time);
  }
  if (points.empty()) {
    return invalid_input("no rows", "a collective table has data_size(MB),time(ms) rows",
                         Location{path, 1});
  }
  std::sort(points.begin(), points.end());
  return points;
}

Result<std::vector<std::pair<double, double>>> read_p2p_file(const std::string& path) {
  MLSYS_ASSIGN_OR_RETURN(CsvReader csv, CsvReader::open(path, CsvOptions{.has_header = false}));
  CsvRow sizes, bandwidths;
  MLSYS_ASSIGN_OR_RETURN(bool has_sizes, csv.next(sizes));
  bool has_bw = false;
  if (has_sizes) {
    MLSYS_ASSIGN_OR_RETURN(has_bw, csv.next(bandwidths));
  }
  if (!has_sizes || !has_bw) {
    return invalid_input("expected two rows (sizes in MB, then GB/s)", "", Location{path, 1});
  }
  if (sizes.size() != bandwidths.size()) {
    return invalid_input("row 2 has " + std::to_string(bandwidths.size()) + " values but row 1 has " +
                             std::to_string(sizes.size()),
                         "one bandwidth per message size", bandwidths.location());
  }
  std::vector<std::pair<double, double>> curve;
  for (size_t i = 0; i < sizes.size(); ++i) {
    double s = 0, b = 0;
    std::string_view st = trim_blanks(sizes[i]), bt = trim_blanks(bandwidths[i]);
    auto r1 = std::from_chars(st.data(), st.data() + st.size(), s);
    auto r2 = std::from_chars(bt.data(), bt.data() + bt.size(), b);
    if (r1.ec != std::errc() || r1.ptr != st.data() + st.size() || !(s > 0) || !std::isfinite(s)) {
      return invalid_input("message size '" + std::string(st) + "' is not a positive number", "",
                           sizes.location());
    }
    if (r2.ec != std::errc() || r2.ptr != bt.data() + bt.size() || !(b > 0) || !std::isfinite(b)) {
      return invalid_input("bandwidth '" + std::string(bt) + "' is not a positive number", "",
                           bandwidths.location());
    }
    curve.emplace_back(s, b);
  }
  std::sort(curve.begin(), curve.end());
  return curve;
}

}  // namespace

Result<ProfileDb> ProfileDb::load_aceso_dir(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return not_found("profile directory '" + dir + "' does not exist",
                     "pass a folder of Aceso profiles, e.g. gpt_1_3B_mbs1_tp1_algo0.csv");
  }
  // Sorted names: loading and error order do not depend on the file system.
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());

  auto impl = std::make_shared<Impl>();
  impl->dir = dir;
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    if (auto key = parse_op_file_name(name)) {
      MLSYS_ASSIGN_OR_RETURN(auto ops, read_op_file(path.string()));
      impl->ops[*key] = std::move(ops);
    } else if (auto prim = parse_prim_file_name(name)) {
      MLSYS_ASSIGN_OR_RETURN(auto points, read_prim_file(path.string()));
      impl->collectives[*prim] = std::move(points);
    } else if (name == "p2p_intra_node.csv") {
      MLSYS_ASSIGN_OR_RETURN(impl->p2p_curve, read_p2p_file(path.string()));
    }
  }
  if (impl->ops.empty()) {
    return not_found("no operator profiles in '" + dir + "'",
                     "expected files named <model>_mbs<b>_tp<t>_algo<a>.csv");
  }
  if (impl->p2p_curve.empty()) {
    return not_found("no p2p_intra_node.csv in '" + dir + "'",
                     "the p2p curve prices pipeline sends between stages");
  }
  // Every table must list the same operators in the same order: the planner indexes by position.
  const auto& first = impl->ops.begin()->second;
  for (const auto& [key, ops] : impl->ops) {
    bool same = ops.size() == first.size();
    for (size_t i = 0; same && i < ops.size(); ++i) same = ops[i].name == first[i].name;
    if (!same) {
      auto [b, t, a] = key;
      return invalid_input("operator list of mbs" + std::to_string(b) + "_tp" + std::to_string(t) +
                               "_algo" + std::to_string(a) + " differs from the first profile's",
                           "all profiles of one directory describe the same model",
                           Location{dir, 0});
    }
  }
  ProfileDb db;
  db.impl = std::move(impl);
  return db;
}

Result<std::vector<ProfiledOp>> ProfileDb::ops(int64_t micro_batch, int64_t tp, int algo) const {
  MLSYS_CHECK(impl != nullptr);
  auto it = impl->ops.find({micro_batch, tp, algo});
  if (it == impl->ops.end()) {
    return not_found("no profile for mbs " + std::to_string(micro_batch) + ", tp " +
                         std::to_string(tp) + ", algo " + std::to_string(algo) + " (file *_mbs" +
                         std::to_string(micro_batch) + "_tp" + std::to_string(tp) + "_algo" +
                         std::to_string(algo) + ".csv)",
                     "profiled: see micro_batches() and tensor_parallel()", Location{impl->dir, 0});
  }
  return it->second;
}

Result<Time> ProfileDb::collective(std::string_view kind, int64_t gpus, Bytes bytes) const {
  MLSYS_CHECK(impl != nullptr);
  if (gpus == 1) return Time::zero();
  auto it = impl->collectives.find({std::string(kind), gpus});
  if (it == impl->collectives.end()) {
    return not_found(std::string(kind) + " over " + std::to_string(gpus) + " GPUs is not profiled",
                     "expected prim_<model>_" + std::string(kind) + "_" + std::to_string(gpus) +
                         "gpus.csv",
                     Location{impl->dir, 0});
  }
  const auto& pts = it->second;
  const double mb = static_cast<double>(bytes.count()) / kMiB;
  if (pts.size() == 1) return saturating_ms(pts[0].second * mb / pts[0].first);
  // Linear in size between profiled points; outside the range, the nearest segment's slope
  // (collective time is affine in size beyond the latency-bound region).
  size_t hi = static_cast<size_t>(
      std::lower_bound(pts.begin(), pts.end(), std::pair{mb, -1.0}) - pts.begin());
  hi = std::clamp<size_t>(hi, 1, pts.size() - 1);
  const auto& [x0, y0] = pts[hi - 1];
  const auto& [x1, y1] = pts[hi];
  const double y = x1 > x0 ? y0 + (y1 - y0) * (mb - x0) / (x1 - x0) : y0;
  return saturating_ms(y);
}

Time ProfileDb::p2p(Bytes bytes) const {
  MLSYS_CHECK(impl != nullptr);
  if (bytes.count() <= 0) return Time::zero();
  const double mb = static_cast<double>(bytes.count()) / kMiB;
  // Aceso looks the bandwidth up by log2(size): the bucket of the largest profiled size not
  // above the message (the smallest bucket for tinier messages).
  const auto& curve = impl->p2p_curve;
  double gbps = curve.front().second;
  for (const auto& [size, bw] : curve) {
    if (size <= mb) gbps = bw;
  }
  const double seconds = static_cast<double>(bytes.count()) / GBps(gbps).base();
  return seconds < 9e9 ? from_seconds(seconds) : Time::max();  // 9e18 ns, just under INT64_MAX
}

std::vector<int64_t> ProfileDb::micro_batches() const {
  std::set<int64_t> s;
  for (const auto& [key, ops] : impl->ops) s.insert(std::get<0>(key));
  return {s.begin(), s.end()};
}

std::vector<int64_t> ProfileDb::tensor_parallel() const {
  std::set<int64_t> s;
  for (const auto& [key, ops] : impl->ops) s.insert(std::get<1>(key));
  return {s.begin(), s.end()};
}

}  // namespace mlsys::model
