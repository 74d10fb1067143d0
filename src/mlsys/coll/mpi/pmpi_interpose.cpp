// libmlsys_mpi.so: PMPI interposition. LD_PRELOAD it into an unmodified MPI program and
// MPI_Allreduce, MPI_Reduce_scatter_block and MPI_Allgather run our schedules; everything this
// library does not handle goes to the MPI library (PMPI_*) unchanged, so a result is never wrong.
//
//   mpirun -np 8 env LD_PRELOAD=libmlsys_mpi.so MLSYS_ALLREDUCE=swing-bw MLSYS_TORUS=2x4 ./app
//
// Environment (read once, at the first intercepted call):
//   MLSYS_ALLREDUCE          algorithm name, "auto" (default; algorithm_choice.h) or "off"
//   MLSYS_REDUCE_SCATTER     the same for MPI_Reduce_scatter_block (default auto)
//   MLSYS_ALLGATHER          the same for MPI_Allgather (default auto)
//   MLSYS_TORUS              AxB[xC]: used on communicators whose size it multiplies to
//   MLSYS_CHUNK              pipeline chunk, e.g. 4MiB (default)
//   MLSYS_MPI_VERBOSE        1: each rank prints what it handled and why it fell back, at
//                            MPI_Finalize (one line per rank, on stderr)
// Handled: communicators that are intra-communicators of 2+ ranks; predefined MPI_FLOAT,
// MPI_DOUBLE, MPI_INT, MPI_INT32_T, MPI_INT64_T, MPI_LONG (8 bytes), MPI_LONG_LONG; MPI_SUM, MPI_MAX,
// MPI_MIN, MPI_PROD; MPI_IN_PLACE for allreduce and allgather. Everything else falls back.
// Our messages travel on a duplicate of each application communicator, cached on it through an
// attribute, so they can never match the application's own point-to-point messages.

#include <mpi.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mlsys/coll/algorithms.h"
#include "mlsys/coll/mpi/algorithm_choice.h"
#include "mlsys/coll/mpi/mpi_executor.h"

namespace mlsys::coll {
namespace {

// Why a call went to the MPI library; kNone: it runs ours.
enum class Reason : uint8_t { kDisabled, kDatatype, kOp, kCommunicator, kCount, kInPlace, kAlgorithm, kNone };
constexpr size_t kReasons = static_cast<size_t>(Reason::kNone);
constexpr std::array<const char*, kReasons> kReasonNames = {
    "disabled", "datatype", "op", "communicator", "count", "in-place", "algorithm"};

enum class Call : uint8_t { kAllreduce, kReduceScatterBlock, kAllgather };
constexpr size_t kCalls = 3;
constexpr std::array<const char*, kCalls> kCallNames = {"MPI_Allreduce", "MPI_Reduce_scatter_block",
                                                        "MPI_Allgather"};
constexpr std::array<Collective, kCalls> kCallCollective = {
    Collective::kAllreduce, Collective::kReduceScatter, Collective::kAllgather};

struct Config {
  std::array<std::string, kCalls> algorithm;  // name, "auto" or "off"
  std::vector<int> torus;
  Bytes chunk = MiB(4);
  bool verbose = false;
};

struct Counters {
  std::array<std::atomic<int64_t>, kReasons> fell_back{};
  std::map<std::string, int64_t> ours;  // by algorithm that ran; guarded by g_mutex
};

// What we keep per application communicator.
struct CommState {
  MPI_Comm dup = MPI_COMM_NULL;
  int size = 0;
  bool released = false;
  std::map<std::string, std::unique_ptr<MpiExecutor>> executors;  // "<call>/<algorithm>"
};

std::mutex g_mutex;
std::once_flag g_config_once;
Config g_config;
std::array<Counters, kCalls> g_counters;
std::vector<std::unique_ptr<CommState>> g_states;  // owned here; attributes point into it
int g_keyval = MPI_KEYVAL_INVALID;

int world_rank() {
  int r = 0;
  PMPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

// Invalid settings are reported once (on world rank 0) and switch the library off: running
// something other than what the user asked for would be worse than running MPI's own.
void warn(const std::string& text) {
  if (world_rank() == 0)
    std::fprintf(stderr, "mlsys_mpi: %s; using the MPI library's collectives\n", text.c_str());
}

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : std::string(fallback);
}

void load_config() {
  const std::array<const char*, kCalls> vars = {"MLSYS_ALLREDUCE", "MLSYS_REDUCE_SCATTER", "MLSYS_ALLGATHER"};
  for (size_t c = 0; c < vars.size(); ++c) {
    std::string name = env_or(vars[c], "auto");
    const auto names = algorithm_names(kCallCollective[c]);
    const bool known =
        name == "auto" || name == "off" || std::find(names.begin(), names.end(), name) != names.end();
    if (!known) {
      warn(std::string(vars[c]) + "=" + name + " is not an algorithm of this collective (auto, off, " + [&] {
        std::string s;
        for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
        return s;
      }() + ")");
      name = "off";
    }
    g_config.algorithm[c] = name;
  }
  if (const std::string torus = env_or("MLSYS_TORUS", ""); !torus.empty()) {
    auto dims = parse_torus_dims(torus);
    if (dims) {
      g_config.torus = *dims;
    } else {
      warn("MLSYS_TORUS=" + torus + ": " + dims.error().message());
      for (auto& a : g_config.algorithm) a = "off";
    }
  }
  if (const std::string chunk = env_or("MLSYS_CHUNK", ""); !chunk.empty()) {
    auto bytes = parse_bytes(chunk);
    if (bytes && bytes->count() > 0) {
      g_config.chunk = *bytes;
    } else {
      warn("MLSYS_CHUNK=" + chunk + " is not a positive size like 4MiB");
      for (auto& a : g_config.algorithm) a = "off";
    }
  }
  g_config.verbose = env_or("MLSYS_MPI_VERBOSE", "0") != "0";
}

// Our DataType for a predefined MPI datatype, or nothing.
bool data_type_of(MPI_Datatype t, DataType& out) {
  if (t == MPI_FLOAT) {
    out = DataType::kF32;
  } else if (t == MPI_DOUBLE) {
    out = DataType::kF64;
  } else if (t == MPI_INT32_T || (t == MPI_INT && sizeof(int) == 4)) {
    out = DataType::kI32;
  } else if (t == MPI_INT64_T || (t == MPI_LONG && sizeof(long) == 8) ||
             (t == MPI_LONG_LONG && sizeof(long long) == 8)) {
    out = DataType::kI64;
  } else {
    return false;
  }
  return true;
}

bool reduce_op_of(MPI_Op op, ReduceOp& out) {
  if (op == MPI_SUM) {
    out = ReduceOp::kSum;
  } else if (op == MPI_MAX) {
    out = ReduceOp::kMax;
  } else if (op == MPI_MIN) {
    out = ReduceOp::kMin;
  } else if (op == MPI_PROD) {
    out = ReduceOp::kProd;
  } else {
    return false;
  }
  return true;
}

void release(CommState& s) {
  if (s.released) return;
  s.released = true;
  s.executors.clear();
  if (s.dup != MPI_COMM_NULL) PMPI_Comm_free(&s.dup);
}

int delete_state(MPI_Comm /*comm*/, int /*keyval*/, void* value, void* /*extra*/) {
  std::lock_guard lock(g_mutex);
  release(*static_cast<CommState*>(value));
  return MPI_SUCCESS;
}

// The state of `comm`, created on first use (collective: every rank decides to handle the same
// call from the same arguments, so every rank duplicates the communicator here together).
CommState* state_of(MPI_Comm comm) {
  {
    std::lock_guard lock(g_mutex);
    if (g_keyval == MPI_KEYVAL_INVALID &&
        PMPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, delete_state, &g_keyval, nullptr) != MPI_SUCCESS) {
      return nullptr;
    }
    void* value = nullptr;
    int found = 0;
    if (PMPI_Comm_get_attr(comm, g_keyval, &value, &found) != MPI_SUCCESS) return nullptr;
    if (found) return static_cast<CommState*>(value);
  }
  auto state = std::make_unique<CommState>();
  if (PMPI_Comm_dup(comm, &state->dup) != MPI_SUCCESS) return nullptr;
  PMPI_Comm_set_errhandler(state->dup, MPI_ERRORS_RETURN);
  PMPI_Comm_size(comm, &state->size);
  std::lock_guard lock(g_mutex);
  CommState* raw = state.get();
  g_states.push_back(std::move(state));
  PMPI_Comm_set_attr(comm, g_keyval, raw);
  return raw;
}

// The executor for `call` on `comm` for a vector of `bytes`, or nullptr (fall back).
MpiExecutor* executor_for(Call call, MPI_Comm comm, Bytes bytes) {
  CommState* state = state_of(comm);
  if (state == nullptr) return nullptr;
  const auto c = static_cast<size_t>(call);
  AlgorithmParams params{.collective = kCallCollective[c], .ranks = state->size};
  int64_t product = 1;
  for (int d : g_config.torus) product *= d;
  if (!g_config.torus.empty() && product == state->size) params.torus = g_config.torus;
  const std::string name = g_config.algorithm[c] == "auto"
                               ? auto_algorithm(params.collective, bytes, state->size)
                               : g_config.algorithm[c];
  const std::string key = std::string(kCallNames[c]) + "/" + name;
  {
    std::lock_guard lock(g_mutex);
    auto it = state->executors.find(key);
    if (it != state->executors.end()) return it->second.get();
  }
  auto choice = choose_algorithm(name, params, bytes);
  if (!choice) return nullptr;
  auto ex = MpiExecutor::create(std::move(choice->algorithm), state->dup, {.chunk = g_config.chunk});
  if (!ex) return nullptr;
  std::lock_guard lock(g_mutex);
  return state->executors.emplace(key, std::move(*ex)).first->second.get();
}

bool intra_of_two_or_more(MPI_Comm comm) {
  int inter = 0;
  int size = 0;
  if (PMPI_Comm_test_inter(comm, &inter) != MPI_SUCCESS || inter) return false;
  return PMPI_Comm_size(comm, &size) == MPI_SUCCESS && size >= 2;
}

void fell_back(Call call, Reason why) {
  ++g_counters[static_cast<size_t>(call)].fell_back[static_cast<size_t>(why)];
}

// The executor for an eligible call (`why` is kNone) moving `bytes` per block, or nullptr after
// counting why the call falls back to the MPI library.
MpiExecutor* executor_or_fall_back(Call call, Reason why, MPI_Comm comm, Bytes bytes) {
  MpiExecutor* ex = why == Reason::kNone ? executor_for(call, comm, bytes) : nullptr;
  if (ex == nullptr) fell_back(call, why == Reason::kNone ? Reason::kAlgorithm : why);
  return ex;
}

void ran_ours(Call call, const MpiExecutor& ex) {
  std::lock_guard lock(g_mutex);
  ++g_counters[static_cast<size_t>(call)].ours[ex.algorithm().name()];
}

// A failure after messages are in flight cannot fall back (other ranks are mid-schedule): it is
// reported and handed to the communicator's error handler, as MPI itself would.
int fail(Call call, MPI_Comm comm, const Status& st) {
  std::fprintf(stderr, "mlsys_mpi: rank %d: %s failed in our executor: %s\n", world_rank(),
               kCallNames[static_cast<size_t>(call)], st.error().to_string().c_str());
  PMPI_Comm_call_errhandler(comm, MPI_ERR_INTERN);
  return MPI_ERR_INTERN;
}

bool enabled(Call call) {
  std::call_once(g_config_once, load_config);
  return g_config.algorithm[static_cast<size_t>(call)] != "off";
}

void print_report() {
  const int rank = world_rank();
  std::string line = "mlsys_mpi: rank " + std::to_string(rank) + ":";
  for (size_t c = 0; c < g_counters.size(); ++c) {
    const Counters& k = g_counters[c];
    int64_t ours = 0;
    std::string by_algo;
    for (const auto& [name, n] : k.ours) {
      ours += n;
      by_algo += (by_algo.empty() ? "" : " ") + name + " " + std::to_string(n);
    }
    int64_t back = 0;
    std::string why;
    for (size_t r = 0; r < k.fell_back.size(); ++r) {
      const int64_t n = k.fell_back[r].load();
      back += n;
      if (n > 0) why += (why.empty() ? "" : " ") + std::string(kReasonNames[r]) + " " + std::to_string(n);
    }
    line += std::string(c == 0 ? " " : "; ") + kCallNames[c] + " ours " + std::to_string(ours);
    if (!by_algo.empty()) line += " (" + by_algo + ")";
    line += ", fallback " + std::to_string(back);
    if (!why.empty()) line += " (" + why + ")";
  }
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace
}  // namespace mlsys::coll

using mlsys::coll::Call;
using mlsys::coll::Reason;

extern "C" int MPI_Allreduce(const void* sendbuf, void* recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
                             MPI_Comm comm) {
  using namespace mlsys::coll;
  const Call call = Call::kAllreduce;
  DataType type{};
  ReduceOp rop{};
  Reason why = Reason::kNone;
  if (!enabled(call)) {
    why = Reason::kDisabled;
  } else if (!data_type_of(datatype, type)) {
    why = Reason::kDatatype;
  } else if (!reduce_op_of(op, rop)) {
    why = Reason::kOp;
  } else if (count <= 0) {
    why = Reason::kCount;
  } else if (!intra_of_two_or_more(comm)) {
    why = Reason::kCommunicator;
  }
  MpiExecutor* ex = executor_or_fall_back(call, why, comm, mlsys::B(int64_t{count} * element_size(type)));
  if (ex == nullptr) return PMPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm);
  const void* src = sendbuf == MPI_IN_PLACE ? recvbuf : sendbuf;
  if (mlsys::Status st = ex->allreduce(src, recvbuf, count, type, rop); !st) return fail(call, comm, st);
  ran_ours(call, *ex);
  return MPI_SUCCESS;
}

extern "C" int MPI_Reduce_scatter_block(const void* sendbuf, void* recvbuf, int recvcount,
                                        MPI_Datatype datatype, MPI_Op op, MPI_Comm comm) {
  using namespace mlsys::coll;
  const Call call = Call::kReduceScatterBlock;
  DataType type{};
  ReduceOp rop{};
  Reason why = Reason::kNone;
  if (!enabled(call)) {
    why = Reason::kDisabled;
  } else if (!data_type_of(datatype, type)) {
    why = Reason::kDatatype;
  } else if (!reduce_op_of(op, rop)) {
    why = Reason::kOp;
  } else if (recvcount <= 0) {
    why = Reason::kCount;
  } else if (sendbuf == MPI_IN_PLACE) {
    why = Reason::kInPlace;
  } else if (!intra_of_two_or_more(comm)) {
    why = Reason::kCommunicator;
  }
  MpiExecutor* ex = executor_or_fall_back(call, why, comm, mlsys::B(int64_t{recvcount} * element_size(type)));
  if (ex == nullptr) return PMPI_Reduce_scatter_block(sendbuf, recvbuf, recvcount, datatype, op, comm);
  if (mlsys::Status st = ex->reduce_scatter_block(sendbuf, recvbuf, recvcount, type, rop); !st) {
    return fail(call, comm, st);
  }
  ran_ours(call, *ex);
  return MPI_SUCCESS;
}

extern "C" int MPI_Allgather(const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf,
                             int recvcount, MPI_Datatype recvtype, MPI_Comm comm) {
  using namespace mlsys::coll;
  const Call call = Call::kAllgather;
  const bool in_place = sendbuf == MPI_IN_PLACE;
  DataType type{};
  Reason why = Reason::kNone;
  if (!enabled(call)) {
    why = Reason::kDisabled;
  } else if (!data_type_of(recvtype, type) || (!in_place && sendtype != recvtype)) {
    why = Reason::kDatatype;
  } else if (recvcount <= 0 || (!in_place && sendcount != recvcount)) {
    why = Reason::kCount;
  } else if (!intra_of_two_or_more(comm)) {
    why = Reason::kCommunicator;
  }
  MpiExecutor* ex = executor_or_fall_back(call, why, comm, mlsys::B(int64_t{recvcount} * element_size(type)));
  if (ex == nullptr) return PMPI_Allgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm);
  if (mlsys::Status st = ex->allgather(in_place ? nullptr : sendbuf, recvbuf, recvcount, type); !st) {
    return fail(call, comm, st);
  }
  ran_ours(call, *ex);
  return MPI_SUCCESS;
}

extern "C" int MPI_Finalize(void) {
  using namespace mlsys::coll;
  std::call_once(g_config_once, load_config);
  {
    std::lock_guard lock(g_mutex);
    // Our duplicates go before MPI does; a later attribute callback finds them released.
    for (auto& s : g_states) release(*s);
  }
  if (g_config.verbose) print_report();
  return PMPI_Finalize();
}
