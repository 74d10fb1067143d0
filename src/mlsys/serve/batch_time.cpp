#include "mlsys/serve/batch_time.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <cctype>
#include "mlsys/core/check.h"
#include "mlsys/model/compute.h"
#include "mlsys/model/ops.h"

namespace mlsys::serve {
namespace {

class RooflineBatchTime final : public BatchTimeModel {
 public:
  RooflineBatchTime(model::ModelSpec spec, hw::GpuSpec gpu, RooflineBatchOptions options,
                    model::EfficiencyTable efficiency, Bandwidth link)
      : spec_(std::move(spec)),
        options_(options),
        roofline_(gpu, options.precision, std::move(efficiency)),
        link_(link),
        layers_per_stage_(spec_.layers / options.pp),
        heads_per_rank_(static_cast<double>(spec_.heads) / static_cast<double>(options.tp)),
        kv_heads_per_rank_(std::ceil(static_cast<double>(spec_.kv_heads) / static_cast<double>(options.tp))) {}

  Time stage_time(const BatchShape& b) const override {
    if (b.empty()) return Time::zero();
    const int64_t tokens = b.tokens();
    Time layer = linear_time(tokens);
    const double hd = static_cast<double>(spec_.head_dim);
    const double elem = 2.0;
    if (b.prefill_requests > 0) {
      model::Op op{.name = "attn_prefill", .kind = model::OpKind::kAttention};
      op.flops = 2.0 * heads_per_rank_ * hd * b.prefill_square;
      op.bytes = elem * hd * (2.0 * heads_per_rank_ * static_cast<double>(b.prefill_tokens) +
                              2.0 * kv_heads_per_rank_ * static_cast<double>(b.prefill_kv));
      layer += roofline_.time(op).forward;
    }
    if (b.decode_requests > 0) {
      model::Op op{.name = "attn_decode", .kind = model::OpKind::kAttention};
      op.flops = 4.0 * heads_per_rank_ * hd * static_cast<double>(b.decode_context);
      op.bytes = elem * hd * (2.0 * heads_per_rank_ * static_cast<double>(b.decode_requests) +
                              2.0 * kv_heads_per_rank_ * static_cast<double>(b.decode_context));
      layer += roofline_.time(op).forward;
    }
    if (options_.tp > 1) {
      // Ring all-reduce moves 2(tp-1)/tp of the message per rank; two per layer (after the
      // attention output projection and after the MLP).
      const double tp = static_cast<double>(options_.tp);
      const Bytes msg = B(tokens * spec_.hidden * 2);
      const Time one = (msg * (2.0 * (tp - 1.0) / tp)) / link_ + options_.allreduce_latency;
      layer += one * 2;
    }
    Time stage = layer * layers_per_stage_;
    if (options_.pp > 1) stage += B(tokens * spec_.hidden * 2) / link_;
    return stage;
  }
  int64_t pipeline_stages() const override { return options_.pp; }
  std::string describe() const override {
    return "roofline " + spec_.name + " on " + roofline_.gpu().name + " tp" + std::to_string(options_.tp) + " pp" +
           std::to_string(options_.pp);
  }

 private:
  // Every non-attention op of one layer depends on the token count only; memoised per count.
  Time linear_time(int64_t tokens) const {
    if (tokens < static_cast<int64_t>(linear_memo_.size()) && linear_memo_[tokens] >= Time::zero()) {
      return linear_memo_[tokens];
    }
    model::Shape shape{.batch = 1, .seq = tokens, .context = tokens, .tp = options_.tp};
    Time t = Time::zero();
    for (const model::Op& op : model::layer_ops(spec_, shape)) {
      if (op.kind == model::OpKind::kAttention) continue;
      t += roofline_.time(op).forward;
    }
    constexpr int64_t kMemoLimit = 1 << 16;
    if (tokens < kMemoLimit) {
      if (tokens >= static_cast<int64_t>(linear_memo_.size())) {
        linear_memo_.resize(static_cast<size_t>(std::min<int64_t>(kMemoLimit, std::max<int64_t>(tokens + 1, 2 * linear_memo_.size()))),
                            Time::from_ns(-1));
      }
      linear_memo_[tokens] = t;
    }
    return t;
  }

  model::ModelSpec spec_;
  RooflineBatchOptions options_;
  model::RooflineModel roofline_;
  Bandwidth link_;
  int64_t layers_per_stage_;
  double heads_per_rank_;
  double kv_heads_per_rank_;
  mutable std::vector<Time> linear_memo_;
};

class FittedBatchTime final : public BatchTimeModel {
 public:
  explicit FittedBatchTime(FittedBatchTimeSpec spec) : spec_(std::move(spec)) {}

  Time stage_time(const BatchShape& b) const override {
    if (b.empty()) return Time::zero();
    double total = 0;
    if (b.prefill_requests > 0) {
      // Decodes riding along are chunks of one token after their context.
      const double tokens = static_cast<double>(b.tokens());
      const double square = b.prefill_square + static_cast<double>(b.decode_requests) +
                            2.0 * static_cast<double>(b.decode_context);
      total = spec_.prefill.a + spec_.prefill.b * tokens + spec_.prefill.c * square;
    }
    if (b.decode_requests > 0) total = std::max(total, decode_ms(b));
    const double pp = static_cast<double>(spec_.pp);
    return ms(total / pp + spec_.pp_overhead_ms);
  }
  int64_t pipeline_stages() const override { return spec_.pp; }
  std::string describe() const override { return "fitted " + spec_.name + (spec_.pp > 1 ? " pp" + std::to_string(spec_.pp) : ""); }

 private:
  double decode_ms(const BatchShape& b) const {
    const auto& table = spec_.decode_table_ms;
    if (!table.empty()) {
      const int64_t n = b.decode_requests;
      if (n <= table.front().first) return table.front().second;
      for (size_t i = 1; i < table.size(); ++i) {
        if (n <= table[i].first) {
          const auto [x0, y0] = table[i - 1];
          const auto [x1, y1] = table[i];
          return y0 + (y1 - y0) * static_cast<double>(n - x0) / static_cast<double>(x1 - x0);
        }
      }
      // Past the table: extend the last segment's slope.
      const auto [x0, y0] = table[table.size() - 2];
      const auto [x1, y1] = table.back();
      return y1 + (y1 - y0) * static_cast<double>(n - x1) / static_cast<double>(x1 - x0);
    }
    const FittedCoefficients& k =
        spec_.large_batch_threshold > 0 && b.decode_requests >= spec_.large_batch_threshold ? spec_.decode_large
                                                                                              : spec_.decode_small;
    return k.a + k.b * static_cast<double>(b.decode_context) + k.c * static_cast<double>(b.decode_requests);
  }

  FittedBatchTimeSpec spec_;
};

struct DistServeRow {
  const char* model;
  int64_t tp;
  FittedCoefficients prefill, small, large;
};

// LLMServe/DistServe simdistserve/estimators/profile_data/profiler-a100-80g.distserve.json
// (commit 82831f16), copied into shared/data/serving/distserve_profile; threshold 95 for all.
constexpr int64_t kDistServeThreshold = 95;
const std::array<DistServeRow, 7> kDistServe = {{
    {"opt-13b", 1, {18.10254647486372, 0.1019122572698738, 7.122264314252114e-06},
     {19.934702624895458, 0.0006269356524350583, 0.03850697740828398},
     {7.1661889468253595, 0.0005798000403396046, 0.15831096191764046}},
    {"opt-13b", 2, {14.742973695171262, 0.06857720739764, 2.4495727400243586e-06},
     {13.294796350285385, 0.00034109219700723494, 0.06296393225243659},
     {10.638741913126715, 0.00031183369638295723, 0.08562913604102729}},
    {"opt-13b", 4, {12.062297033449054, 0.03808140082550695, 5.226249731787869e-07},
     {10.256231678259395, 0.00018786702316166354, 0.03269273629225551},
     {10.483514938375274, 0.00017120888562939117, 0.04566648525887034}},
    {"opt-66b", 2, {43.05881348288936, 0.2742292870458432, 2.2478042467169447e-05},
     {48.288015489286245, 0.0009424343535737985, 0.12755020094383188},
     {28.727693993711597, 0.00047448475459061987, 0.29617792360743994}},
    {"opt-66b", 3, {32.998230028437035, 0.19568256864690514, 1.2205248980953765e-05},
     {35.8015439512012, 0.0005845004786127403, 0.0952669764890301},
     {22.653861586978355, 0.0005358489190129727, 0.208514444037787}},
    {"opt-66b", 4, {29.441636037717455, 0.151352180625198, 8.317450765979451e-06},
     {30.760284619429587, 0.000451947603788462, 0.063284195750671},
     {27.47082137429487, 0.0004046845541646486, 0.12480667738300383}},
    {"opt-66b", 8, {25.490662375045222, 0.10659177664763161, 3.3910502518615973e-06},
     {23.15511135047022, 0.00022691488497826264, 0.04800638397272423},
     {21.71772781576609, 0.0003758089655762475, 0.08978614175851013}},
}};

}  // namespace

Result<std::unique_ptr<BatchTimeModel>> make_roofline_batch_time(const model::ModelSpec& spec, const hw::GpuSpec& gpu,
                                                                const RooflineBatchOptions& options) {
  if (options.tp < 1 || options.pp < 1) return invalid_input("tp and pp must be >= 1", {}, {"--tp"});
  if (spec.heads % options.tp != 0) {
    return invalid_input("tp " + std::to_string(options.tp) + " does not divide " + spec.name + "'s " +
                             std::to_string(spec.heads) + " attention heads",
                         "pick a tp that divides the head count", {"--tp"});
  }
  if (spec.layers % options.pp != 0) {
    return invalid_input("pp " + std::to_string(options.pp) + " does not divide " + spec.name + "'s " +
                             std::to_string(spec.layers) + " layers",
                         "pick a pp that divides the layer count", {"--pp"});
  }
  if (!gpu.peak(options.precision)) {
    return unsupported(gpu.name + " has no " + std::string(hw::to_string(options.precision)) + " tensor rate", {},
                       {"--gpu"});
  }
  Result<model::EfficiencyTable> eff = model::EfficiencyTable::builtin(gpu.name);
  for (size_t i = 0; !eff && i < gpu.aliases.size(); ++i) eff = model::EfficiencyTable::builtin(gpu.aliases[i]);
  if (!eff) eff = model::EfficiencyTable::builtin("default");
  if (!eff) return eff.error();
  Bandwidth link = options.link_bandwidth;
  if (!(link > Bandwidth())) link = gpu.nvlink_bandwidth > Bandwidth() ? gpu.nvlink_bandwidth : GBps(24);
  return std::unique_ptr<BatchTimeModel>(std::make_unique<RooflineBatchTime>(spec, gpu, options, std::move(*eff), link));
}

std::unique_ptr<BatchTimeModel> make_fitted_batch_time(FittedBatchTimeSpec spec) {
  return std::make_unique<FittedBatchTime>(std::move(spec));
}

Result<FittedCoefficients> fit_prefill(const std::vector<std::pair<int64_t, double>>& points) {
  if (points.size() < 3) return invalid_input("a prefill fit needs at least 3 points");
  // Normal equations of the relative-error least squares: rows (1, l, l²)/ms against 1.
  std::array<std::array<double, 4>, 3> m{};
  for (const auto& [len, t] : points) {
    if (t <= 0) return invalid_input("prefill time must be positive");
    const double l = static_cast<double>(len);
    const std::array<double, 3> row = {1.0 / t, l / t, l * l / t};
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) m[i][j] += row[i] * row[j];
      m[i][3] += row[i];
    }
  }
  for (int col = 0; col < 3; ++col) {
    int pivot = col;
    for (int r = col + 1; r < 3; ++r) {
      if (std::abs(m[r][col]) > std::abs(m[pivot][col])) pivot = r;
    }
    std::swap(m[col], m[pivot]);
    if (std::abs(m[col][col]) < 1e-300) return invalid_input("prefill fit is singular (repeated lengths?)");
    for (int r = 0; r < 3; ++r) {
      if (r == col) continue;
      const double f = m[r][col] / m[col][col];
      for (int k = col; k < 4; ++k) m[r][k] -= f * m[col][k];
    }
  }
  return FittedCoefficients{m[0][3] / m[0][0], m[1][3] / m[1][1], m[2][3] / m[2][2]};
}

// microsoft/sarathi-serve branch osdi-sarathi-serve (ceaa0660) osdi-experiments/figure-2,
// copied into shared/data/serving/sarathi_osdi; batch_execution_time in ms.
const std::vector<std::pair<int64_t, double>>& sarathi_yi34b_prefill_points() {
  static const std::vector<std::pair<int64_t, double>> kPoints = {
      {128, 48.0940844863653},   {512, 105.5817436426878},  {1024, 214.3006371334195}, {2048, 366.0252727568149},
      {4096, 757.6026394963264}, {8192, 1863.264944404364}, {16384, 4407.501052133739}};
  return kPoints;
}
const std::vector<std::pair<int64_t, double>>& sarathi_yi34b_decode_points() {
  static const std::vector<std::pair<int64_t, double>> kPoints = {
      {1, 46.80326674133536}, {2, 47.50242146352921}, {4, 48.84505489220215},  {8, 69.67552363251643},
      {16, 77.2536892133454}, {32, 87.89650211110707}, {64, 127.8068584700425}, {128, 189.33050256843362}};
  return kPoints;
}

FittedBatchTimeSpec sarathi_yi34b_tp2_spec() {
  Result<FittedCoefficients> fit = fit_prefill(sarathi_yi34b_prefill_points());
  MLSYS_CHECK(fit.ok(), "the shipped Yi-34B points are fittable");
  return FittedBatchTimeSpec{.name = "yi-34b tp2 a100 (Sarathi-Serve OSDI fig. 2)",
                             .prefill = *fit,
                             .decode_table_ms = sarathi_yi34b_decode_points()};
}

Result<FittedBatchTimeSpec> distserve_spec(std::string_view model, int64_t tp, int64_t pp) {
  std::string name;
  for (char ch : model) name += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (name.rfind("facebook/", 0) == 0) name = name.substr(9);
  std::string known;
  for (const DistServeRow& row : kDistServe) {
    known += (known.empty() ? "" : ", ") + std::string(row.model) + " tp" + std::to_string(row.tp);
    if (name == row.model && tp == row.tp) {
      if (pp < 1) return invalid_input("pp must be >= 1", {}, {"--pp"});
      return FittedBatchTimeSpec{.name = std::string(row.model) + " tp" + std::to_string(tp) + " a100 (DistServe fit)",
                                 .prefill = row.prefill,
                                 .decode_small = row.small,
                                 .decode_large = row.large,
                                 .large_batch_threshold = kDistServeThreshold,
                                 .pp = pp,
                                 .pp_overhead_ms = pp > 1 ? 1.0 : 0.0};
    }
  }
  return not_found("no DistServe profile for " + std::string(model) + " at tp " + std::to_string(tp),
                   "profiled: " + known);
}

std::vector<std::pair<std::string, int64_t>> distserve_profiles() {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const DistServeRow& row : kDistServe) out.emplace_back(row.model, row.tp);
  return out;
}

}  // namespace mlsys::serve
