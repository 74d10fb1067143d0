#include "mlsys/coll/mpi/mpi_benchmark.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <numeric>

#include "mlsys/coll/mpi/algorithm_choice.h"
#include "mlsys/coll/mpi/mpi_executor.h"
#include "mlsys/core/check.h"
#include "mlsys/core/rng.h"

namespace mlsys::coll {
namespace {

constexpr int64_t kMaxBufferBytes = int64_t{1} << 30;
constexpr double kAutoIterSeconds = 0.2;
constexpr int kAutoItersMin = 5;
constexpr int kAutoItersMax = 1000;

Error mpi_failure(int code, const std::string& what) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(code, text, &len);
  return Error(ErrorCode::kInternal, what + " failed: " + std::string(text, static_cast<size_t>(len)),
               "the MPI library reported an error");
}

#define MLSYS_MPI_CALL(call)                                \
  do {                                                      \
    if (int mlsys_rc_ = (call); mlsys_rc_ != MPI_SUCCESS) { \
      return mpi_failure(mlsys_rc_, #call);                 \
    }                                                       \
  } while (false)

// "0-3,5,7-8"
std::string rank_list(const std::vector<int>& ranks) {
  std::string s;
  for (size_t i = 0; i < ranks.size();) {
    size_t j = i;
    while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1) ++j;
    if (!s.empty()) s += ",";
    s += std::to_string(ranks[i]);
    if (j > i) s += (j == i + 1 ? "," : "-") + std::to_string(ranks[j]);
    i = j + 1;
  }
  return s;
}

// A duplicate of the caller's communicator for our point-to-point traffic, freed on scope exit.
class CommDup {
 public:
  explicit CommDup(MPI_Comm comm) { rc_ = MPI_Comm_dup(comm, &dup_); }
  ~CommDup() {
    if (dup_ != MPI_COMM_NULL) MPI_Comm_free(&dup_);
  }
  CommDup(const CommDup&) = delete;
  CommDup& operator=(const CommDup&) = delete;
  int rc() const { return rc_; }
  MPI_Comm get() const { return dup_; }

 private:
  MPI_Comm dup_ = MPI_COMM_NULL;
  int rc_ = MPI_SUCCESS;
};

// A user-defined MPI op for bf16 (MPI has no bf16 type), so MPI's timing runs its own algorithm
// on the same 2-byte elements.
template <ReduceOp kOp>
void bf16_user_op(void* in, void* inout, int* len, MPI_Datatype* /*type*/) {
  reduce_into(DataType::kBF16, kOp, inout, in, *len);
}

class UserOp {
 public:
  explicit UserOp(ReduceOp op) {
    MPI_User_function* fn = op == ReduceOp::kSum   ? bf16_user_op<ReduceOp::kSum>
                            : op == ReduceOp::kMax ? bf16_user_op<ReduceOp::kMax>
                            : op == ReduceOp::kMin ? bf16_user_op<ReduceOp::kMin>
                                                   : bf16_user_op<ReduceOp::kProd>;
    MPI_Op_create(fn, /*commute=*/1, &op_);
  }
  ~UserOp() { MPI_Op_free(&op_); }
  UserOp(const UserOp&) = delete;
  UserOp& operator=(const UserOp&) = delete;
  MPI_Op get() const { return op_; }

 private:
  MPI_Op op_ = MPI_OP_NULL;
};

MPI_Datatype mpi_type_of(DataType t) {
  switch (t) {
    case DataType::kF32:
      return MPI_FLOAT;
    case DataType::kF64:
      return MPI_DOUBLE;
    case DataType::kI32:
      return MPI_INT32_T;
    case DataType::kI64:
      return MPI_INT64_T;
    case DataType::kBF16:
      return MPI_UINT16_T;
  }
  return MPI_BYTE;
}

MPI_Op mpi_op_of(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return MPI_SUM;
    case ReduceOp::kMax:
      return MPI_MAX;
    case ReduceOp::kMin:
      return MPI_MIN;
    case ReduceOp::kProd:
      return MPI_PROD;
  }
  return MPI_SUM;
}

// Largest |input| the generator produces for sums and max/min: small enough that sums over a
// few dozen ranks stay exact integers in the dtype (bf16 holds integers exactly up to 256).
double input_magnitude(DataType t, ReduceOp op) {
  if (op == ReduceOp::kProd) return 2.0;
  const bool sum = op == ReduceOp::kSum;
  switch (t) {
    case DataType::kF32:
      return sum ? 1000.0 : 1e6;
    case DataType::kF64:
      return sum ? 1e6 : 1e9;
    case DataType::kI32:
      return sum ? 1e6 : 1e9;
    case DataType::kI64:
      return sum ? 1e12 : 1e15;
    case DataType::kBF16:
      return sum ? 16.0 : 256.0;
  }
  return 1.0;
}

// Element i of rank r's input: an integer (products: 2, -1 or mostly 1), a pure function of
// (seed, rank, i) so every size's data is a prefix of the largest's.
double input_value(uint64_t seed, int rank, int64_t i, DataType t, ReduceOp op) {
  const uint64_t h = mix64(seed ^ mix64((static_cast<uint64_t>(rank) << 40) + static_cast<uint64_t>(i)));
  if (op == ReduceOp::kProd) {
    const uint64_t k = h & 7;
    return k == 0 ? 2.0 : k == 1 ? -1.0 : 1.0;
  }
  const auto m = static_cast<int64_t>(input_magnitude(t, op));
  return static_cast<double>(static_cast<int64_t>(h % static_cast<uint64_t>(2 * m + 1)) - m);
}

void store(DataType t, std::byte* base, int64_t i, double v) {
  switch (t) {
    case DataType::kF32:
      reinterpret_cast<float*>(base)[i] = static_cast<float>(v);
      return;
    case DataType::kF64:
      reinterpret_cast<double*>(base)[i] = v;
      return;
    case DataType::kI32:
      reinterpret_cast<int32_t*>(base)[i] = static_cast<int32_t>(v);
      return;
    case DataType::kI64:
      reinterpret_cast<int64_t*>(base)[i] = static_cast<int64_t>(v);
      return;
    case DataType::kBF16:
      reinterpret_cast<uint16_t*>(base)[i] = float_to_bf16(static_cast<float>(v));
      return;
  }
}

double load(DataType t, const std::byte* base, int64_t i) {
  switch (t) {
    case DataType::kF32:
      return reinterpret_cast<const float*>(base)[i];
    case DataType::kF64:
      return reinterpret_cast<const double*>(base)[i];
    case DataType::kI32:
      return reinterpret_cast<const int32_t*>(base)[i];
    case DataType::kI64:
      return static_cast<double>(reinterpret_cast<const int64_t*>(base)[i]);
    case DataType::kBF16:
      return bf16_to_float(reinterpret_cast<const uint16_t*>(base)[i]);
  }
  return 0.0;
}

double unit_roundoff(DataType t) {
  switch (t) {
    case DataType::kF32:
      return std::ldexp(1.0, -24);
    case DataType::kF64:
      return std::ldexp(1.0, -53);
    case DataType::kBF16:
      return std::ldexp(1.0, -8);
    case DataType::kI32:
    case DataType::kI64:
      return 0.0;
  }
  return 0.0;
}

TimingStats stats_of(const std::vector<double>& seconds) {
  TimingStats s;
  if (seconds.empty()) return s;
  const auto [lo, hi] = std::minmax_element(seconds.begin(), seconds.end());
  s.min = from_seconds(*lo);
  s.max = from_seconds(*hi);
  s.avg = from_seconds(std::accumulate(seconds.begin(), seconds.end(), 0.0) /
                       static_cast<double>(seconds.size()));
  return s;
}

// Runs one collective of our executor or of MPI on the prepared buffers.
struct Runner {
  Collective collective;
  DataType type;
  ReduceOp op;
  MPI_Comm comm;  // MPI's own calls
  MPI_Op mpi_op;  // MPI_SUM..., or the bf16 user op
  const std::byte* send;
  std::byte* ours_out;
  std::byte* mpi_out;

  Status ours(MpiExecutor& ex, int64_t count) const {
    switch (collective) {
      case Collective::kAllreduce:
        return ex.allreduce(send, ours_out, count, type, op);
      case Collective::kReduceScatter:
        return ex.reduce_scatter_block(send, ours_out, count, type, op);
      default:
        return ex.allgather(send, ours_out, count, type);
    }
  }
  Status mpi(int64_t count) const {
    const auto n = static_cast<int>(count);
    const MPI_Datatype dt = mpi_type_of(type);
    switch (collective) {
      case Collective::kAllreduce:
        MLSYS_MPI_CALL(MPI_Allreduce(send, mpi_out, n, dt, mpi_op, comm));
        break;
      case Collective::kReduceScatter:
        MLSYS_MPI_CALL(MPI_Reduce_scatter_block(send, mpi_out, n, dt, mpi_op, comm));
        break;
      default:
        MLSYS_MPI_CALL(MPI_Allgather(send, n, dt, mpi_out, n, dt, comm));
        break;
    }
    return {};
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------

Status start_mpi() {
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (finalized) {
    return Error(ErrorCode::kUnsupported, "MPI was already finalised in this process",
                 "MPI starts once per process: run `mlsys coll run` in its own process");
  }
  if (initialized) return {};
  if (int rc = MPI_Init(nullptr, nullptr); rc != MPI_SUCCESS) return mpi_failure(rc, "MPI_Init");
  std::atexit([] {
    int done = 0;
    MPI_Finalized(&done);
    if (!done) MPI_Finalize();
  });
  return {};
}

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int world_size() {
  int p = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  return p;
}

std::string mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int len = 0;
  MPI_Get_library_version(text, &len);
  std::string s(text, static_cast<size_t>(std::max(0, len)));
  s = s.substr(0, s.find('\n'));
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0' || s.back() == '\r')) s.pop_back();
  return s;
}

bool BenchmarkReport::all_verified() const {
  return std::all_of(rows.begin(), rows.end(), [](const SizeResult& r) { return r.verified; });
}

Status check_ranks_agree(MPI_Comm comm, const std::vector<std::pair<std::string, std::string>>& options) {
  int rank = 0;
  int size = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  // Slot 0 fingerprints the option names (a different mlsys binary on some rank), slot i + 1
  // option i's value. A fixed width, so the gather matches on every rank whatever it was given.
  constexpr size_t kSlots = 64;
  MLSYS_CHECK(options.size() < kSlots, "too many options to compare");
  std::vector<uint64_t> mine(kSlots, 0);
  uint64_t names = stable_hash("mlsys-options");
  for (size_t i = 0; i < options.size(); ++i) {
    names = mix64(names ^ stable_hash(options[i].first));
    mine[i + 1] = stable_hash(options[i].first + '\0' + options[i].second);
  }
  mine[0] = names;
  std::vector<uint64_t> all(kSlots * static_cast<size_t>(size));
  MLSYS_MPI_CALL(MPI_Allgather(mine.data(), static_cast<int>(kSlots), MPI_UINT64_T, all.data(),
                               static_cast<int>(kSlots), MPI_UINT64_T, comm));
  auto at = [&](int r, size_t slot) { return all[static_cast<size_t>(r) * kSlots + slot]; };
  std::vector<int> differing;
  std::vector<std::string> names_differing;
  for (int r = 1; r < size; ++r) {
    for (size_t slot = 0; slot < kSlots; ++slot) {
      if (at(r, slot) != at(0, slot)) {
        differing.push_back(r);
        break;
      }
    }
  }
  if (differing.empty()) return {};
  const bool same_names =
      std::all_of(differing.begin(), differing.end(), [&](int r) { return at(r, 0) == at(0, 0); });
  std::string what;
  std::string mine_text;
  for (size_t i = 0; i < options.size() && same_names; ++i) {
    const size_t slot = i + 1;
    const bool differs =
        std::any_of(differing.begin(), differing.end(), [&](int r) { return at(r, slot) != at(0, slot); });
    if (!differs) continue;
    what += (what.empty() ? "" : ", ") + options[i].first;
    mine_text +=
        std::string(mine_text.empty() ? "" : ", ") + options[i].first + " '" + options[i].second + "'";
  }
  if (what.empty()) what = "the option list (different mlsys versions?)";
  std::string msg = "ranks disagree on " + what + ": rank" + (differing.size() > 1 ? "s " : " ") +
                    rank_list(differing) + (differing.size() > 1 ? " differ" : " differs") + " from rank 0";
  if (!mine_text.empty()) msg += " (this rank, " + std::to_string(rank) + ", has " + mine_text + ")";
  return invalid_input(msg, "give every rank the same options");
}

Result<std::vector<Bytes>> parse_size_list(std::string_view text, int64_t element) {
  std::vector<Bytes> sizes;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = text.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) {
      return invalid_input("empty size in '" + std::string(text) + "'",
                           "write sizes like 4B..64MiB or 1KiB,3000B");
    }
    const size_t dots = item.find("..");
    if (dots == std::string_view::npos) {
      MLSYS_ASSIGN_OR_RETURN(Bytes b, parse_bytes(item));
      if (b.count() % element != 0) {
        return invalid_input("size " + std::string(item) + " is not a multiple of the " +
                                 std::to_string(element) + "-byte element",
                             "use a multiple of the element size, e.g. " + std::to_string(element * 7) + "B");
      }
      sizes.push_back(b);
      continue;
    }
    MLSYS_ASSIGN_OR_RETURN(Bytes lo, parse_bytes(item.substr(0, dots)));
    MLSYS_ASSIGN_OR_RETURN(Bytes hi, parse_bytes(item.substr(dots + 2)));
    if (hi < lo) {
      return invalid_input("size range '" + std::string(item) + "' is reversed",
                           "write LOW..HIGH, e.g. 4B..64MiB");
    }
    if (lo.count() == 0) sizes.push_back(B(0));
    for (int64_t s = std::max<int64_t>(lo.count(), 1);; s *= 2) {
      const int64_t v = std::min(s, hi.count()) / element * element;
      if (v > 0) sizes.push_back(B(v));
      if (s >= hi.count()) break;
    }
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  if (sizes.empty()) {
    return invalid_input("no size in '" + std::string(text) + "' holds a whole element",
                         "use sizes of at least " + std::to_string(element) + "B");
  }
  return sizes;
}

double tolerance(DataType type, ReduceOp op, int ranks, double magnitude) {
  if (is_order_exact(type, op)) return 0.0;
  return 2.0 * std::max(0, ranks - 1) * unit_roundoff(type) * magnitude;
}

Result<BenchmarkReport> run_collective_benchmark(MPI_Comm comm, const BenchmarkConfig& config) {
  int rank = 0;
  int p = 0;
  MLSYS_MPI_CALL(MPI_Comm_rank(comm, &rank));
  MLSYS_MPI_CALL(MPI_Comm_size(comm, &p));
  const Collective coll = config.collective;
  if (coll != Collective::kAllreduce && coll != Collective::kReduceScatter &&
      coll != Collective::kAllgather) {
    return unsupported(
        "coll run executes allreduce, reduce-scatter and allgather, not " + std::string(to_string(coll)),
        "use --op allreduce, reduce-scatter or allgather", {"--op"});
  }
  if (!config.torus.empty()) {
    int64_t product = 1;
    for (int d : config.torus) product *= d;
    if (product != p) {
      std::string dims;
      for (int d : config.torus) dims += (dims.empty() ? "" : "x") + std::to_string(d);
      return invalid_input(
          "torus " + dims + " has " + std::to_string(product) + " ranks but MPI started " + std::to_string(p),
          "the dimensions must multiply to the number of ranks (mpirun -np)", {"--torus"});
    }
  }
  const int64_t es = element_size(config.type);
  // Elements per buffer: the input, and the outputs of ours and MPI's.
  int64_t max_count = 0;
  for (Bytes b : config.sizes) max_count = std::max(max_count, b.count() / es);
  const int64_t send_elems = coll == Collective::kReduceScatter ? max_count * p : max_count;
  const int64_t out_elems = coll == Collective::kAllgather ? max_count * p : max_count;
  if (std::max(send_elems, out_elems) * es > kMaxBufferBytes) {
    return invalid_input(
        "the largest size needs a " + format_bytes(B(std::max(send_elems, out_elems) * es)) + " buffer",
        "coll run buffers are limited to 1GiB per rank", {"--sizes"});
  }

  CommDup ours_comm(comm);
  if (ours_comm.rc() != MPI_SUCCESS) return mpi_failure(ours_comm.rc(), "MPI_Comm_dup");
  MLSYS_MPI_CALL(MPI_Comm_set_errhandler(ours_comm.get(), MPI_ERRORS_RETURN));

  BenchmarkReport report;
  report.ranks = p;
  report.mpi_library = mpi_library_version();

  // Executors by algorithm name ("auto" may pick a different one per size).
  std::map<std::string, std::unique_ptr<MpiExecutor>> executors;
  auto executor_for = [&](Bytes bytes) -> Result<MpiExecutor*> {
    const AlgorithmParams params{.collective = coll,
                                 .ranks = p,
                                 .torus = config.torus,
                                 .ports = config.ports,
                                 .ranks_per_node = config.ranks_per_node};
    auto choice = choose_algorithm(config.algorithm, params, bytes);
    if (!choice) return choice.error().at({"--algo"});
    const std::string key = choice->algorithm->name();
    auto it = executors.find(key);
    if (it == executors.end()) {
      if (!choice->note.empty()) report.notes.push_back(choice->note);
      MLSYS_ASSIGN_OR_RETURN(auto ex, MpiExecutor::create(std::move(choice->algorithm), ours_comm.get(),
                                                          {.chunk = config.chunk}));
      it = executors.emplace(key, std::move(ex)).first;
    }
    return it->second.get();
  };

  std::vector<std::byte> send(static_cast<size_t>(send_elems * es));
  std::vector<std::byte> ours_out(static_cast<size_t>(out_elems * es));
  std::vector<std::byte> mpi_out(static_cast<size_t>(out_elems * es));
  for (int64_t i = 0; i < send_elems; ++i) {
    store(config.type, send.data(), i, input_value(config.seed, rank, i, config.type, config.op));
  }
  // bf16 is checked against MPI in f32 on the same (exactly widened) inputs, rounded once.
  const bool bf16 = config.type == DataType::kBF16 && coll != Collective::kAllgather;
  std::vector<float> send_f32(bf16 ? static_cast<size_t>(send_elems) : 0);
  std::vector<float> ref_f32(bf16 ? static_cast<size_t>(out_elems) : 0);
  for (size_t i = 0; i < send_f32.size(); ++i)
    send_f32[i] = static_cast<float>(load(config.type, send.data(), static_cast<int64_t>(i)));
  std::unique_ptr<UserOp> bf16_op =
      config.type == DataType::kBF16 ? std::make_unique<UserOp>(config.op) : nullptr;

  const Runner runner{.collective = coll,
                      .type = config.type,
                      .op = config.op,
                      .comm = comm,
                      .mpi_op = bf16_op ? bf16_op->get() : mpi_op_of(config.op),
                      .send = send.data(),
                      .ours_out = ours_out.data(),
                      .mpi_out = mpi_out.data()};
  const double magnitude = config.op == ReduceOp::kSum ? p * input_magnitude(config.type, config.op) : 0.0;

  for (Bytes bytes : config.sizes) {
    const int64_t count = bytes.count() / es;
    MLSYS_ASSIGN_OR_RETURN(MpiExecutor * ex, executor_for(bytes));
    SizeResult row;
    row.bytes = bytes;
    row.count = count;
    row.algorithm = ex->algorithm().name();

    // Verification: ours against MPI on the same inputs.
    std::fill(ours_out.begin(), ours_out.end(), std::byte{0xAB});
    MLSYS_RETURN_IF_ERROR(runner.ours(*ex, count));
    const int64_t out_count = coll == Collective::kAllgather ? count * p : count;
    double max_error = 0.0;
    double allowed = 0.0;
    bool ok = true;
    if (coll == Collective::kAllgather) {
      MLSYS_RETURN_IF_ERROR(runner.mpi(count));
      ok = std::memcmp(ours_out.data(), mpi_out.data(), static_cast<size_t>(out_count * es)) == 0;
      max_error = ok ? 0.0 : INFINITY;
    } else {
      if (bf16) {
        const auto n = static_cast<int>(count);
        if (coll == Collective::kAllreduce) {
          MLSYS_MPI_CALL(
              MPI_Allreduce(send_f32.data(), ref_f32.data(), n, MPI_FLOAT, mpi_op_of(config.op), comm));
        } else {
          MLSYS_MPI_CALL(MPI_Reduce_scatter_block(send_f32.data(), ref_f32.data(), n, MPI_FLOAT,
                                                  mpi_op_of(config.op), comm));
        }
        for (int64_t i = 0; i < out_count; ++i)
          store(DataType::kBF16, mpi_out.data(), i, ref_f32[static_cast<size_t>(i)]);
      } else {
        MLSYS_RETURN_IF_ERROR(runner.mpi(count));
      }
      if (config.type == DataType::kI32 || config.type == DataType::kI64) {
        ok = std::memcmp(ours_out.data(), mpi_out.data(), static_cast<size_t>(out_count * es)) == 0;
        max_error = ok ? 0.0 : INFINITY;
      } else {
        for (int64_t i = 0; i < out_count; ++i) {
          const double want = load(config.type, mpi_out.data(), i);
          const double got = load(config.type, ours_out.data(), i);
          const double err = std::abs(got - want);
          const double tol =
              tolerance(config.type, config.op, p, config.op == ReduceOp::kProd ? std::abs(want) : magnitude);
          allowed = std::max(allowed, tol);
          if (!(err <= tol)) ok = false;  // NaN fails too
          if (!(err <= max_error)) max_error = err;
        }
      }
    }
    if (config.op == ReduceOp::kSum) allowed = tolerance(config.type, config.op, p, magnitude);
    int ok_int = ok ? 1 : 0;
    MLSYS_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &ok_int, 1, MPI_INT, MPI_MIN, comm));
    MLSYS_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &max_error, 1, MPI_DOUBLE, MPI_MAX, comm));
    MLSYS_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &allowed, 1, MPI_DOUBLE, MPI_MAX, comm));
    row.verified = ok_int == 1;
    row.max_error = max_error;
    row.tolerance = allowed;

    // Timing: warm-up, then interleaved rounds, each call after a barrier.
    for (int i = 0; i < config.warmup; ++i) {
      MLSYS_RETURN_IF_ERROR(runner.ours(*ex, count));
      MLSYS_RETURN_IF_ERROR(runner.mpi(count));
    }
    int iters = config.iters;
    if (iters <= 0) {
      MLSYS_MPI_CALL(MPI_Barrier(comm));
      double t0 = MPI_Wtime();
      MLSYS_RETURN_IF_ERROR(runner.ours(*ex, count));
      MLSYS_RETURN_IF_ERROR(runner.mpi(count));
      double probe = MPI_Wtime() - t0;
      MLSYS_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &probe, 1, MPI_DOUBLE, MPI_MAX, comm));
      iters = static_cast<int>(std::clamp(std::ceil(2 * kAutoIterSeconds / std::max(probe, 1e-9)),
                                          double{kAutoItersMin}, double{kAutoItersMax}));
    }
    std::vector<double> t_ours(static_cast<size_t>(iters));
    std::vector<double> t_mpi(static_cast<size_t>(iters));
    for (int i = 0; i < iters; ++i) {
      MLSYS_MPI_CALL(MPI_Barrier(comm));
      double t0 = MPI_Wtime();
      MLSYS_RETURN_IF_ERROR(runner.ours(*ex, count));
      t_ours[static_cast<size_t>(i)] = MPI_Wtime() - t0;
      MLSYS_MPI_CALL(MPI_Barrier(comm));
      t0 = MPI_Wtime();
      MLSYS_RETURN_IF_ERROR(runner.mpi(count));
      t_mpi[static_cast<size_t>(i)] = MPI_Wtime() - t0;
    }
    MLSYS_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, t_ours.data(), iters, MPI_DOUBLE, MPI_MAX, comm));
    MLSYS_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, t_mpi.data(), iters, MPI_DOUBLE, MPI_MAX, comm));
    row.iters = iters;
    row.ours = stats_of(t_ours);
    row.mpi = stats_of(t_mpi);
    report.rows.push_back(row);
  }
  return report;
}

}  // namespace mlsys::coll
